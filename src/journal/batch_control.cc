#include "journal/batch_control.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "journal/batch_lock.h"
#include "journal/journal.h"
#include "util/whole_file.h"

namespace headroom {
namespace {

Status Parse(const std::string& path, const std::string& text, ControlRequest* out) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("seq") || !json["seq"].is_number_integer()) {
    return Status::Error(fmt::format("{}: not a headroom control file", path));
  }
  ControlRequest request;
  request.seq = json["seq"].get<int64_t>();
  request.paused = json.value("paused", false);
  request.draining = json.value("draining", false);
  if (json.contains("jobs") && json["jobs"].is_number_integer()) {
    request.jobs = json["jobs"].get<int>();
  }
  *out = request;
  return Status::Ok();
}

const char* Done(ControlAction action) {
  switch (action) {
    case ControlAction::kDrain:
      return "draining: starting nothing new; running jobs finish; the rest is left for --resume";
    case ControlAction::kPause:
      return "paused: starting nothing new until 'headroom ctl continue'; running jobs go on";
    case ControlAction::kContinue:
      return "continued";
    case ControlAction::kJobs:
      return "slot limit";
  }
  return "";
}

}  // namespace

Status SendControl(const std::string& state_dir, std::optional<int64_t> batch,
                   ControlAction action, int jobs, Millis wait, std::string* message) {
  std::unique_ptr<Journal> journal;
  Status status = Journal::OpenReadOnly(state_dir, &journal);
  BatchRecord record;
  if (status.ok()) status = journal->ChosenBatch(batch, &record);
  if (!status.ok()) return status;
  int64_t id = record.id;
  if (!BatchLock::IsHeld(state_dir, id)) {
    return Status::Error(fmt::format("batch {} is not running ({}; nothing to steer)", id,
                                     record.ended_at ? "it has ended" : "its headroom was killed"));
  }
  ControlRequest request;
  status = BatchControl::Read(state_dir, id, &request);
  if (!status.ok()) return status;
  request.seq += 1;
  switch (action) {
    case ControlAction::kDrain:
      request.draining = true;
      break;
    case ControlAction::kPause:
      request.paused = true;
      break;
    case ControlAction::kContinue:
      request.paused = false;
      break;
    case ControlAction::kJobs:
      request.jobs = jobs;
      break;
  }
  status = BatchControl::Write(state_dir, id, request);
  if (!status.ok()) return status;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (BatchControl::ReadAck(state_dir, id) < request.seq) {
    if (!BatchLock::IsHeld(state_dir, id)) {
      return Status::Error(fmt::format("batch {} ended before it applied the request", id));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Error(fmt::format(
          "batch {} (pid {}) has not applied the request within {:.0f}s (it is written; the "
          "batch applies it when its loop next ticks)",
          id, record.pid, std::chrono::duration<double>(wait).count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *message = fmt::format("batch {} (pid {}): {}", id, record.pid, Done(action));
  if (action == ControlAction::kJobs) *message += fmt::format(" -j {}", jobs);
  return Status::Ok();
}

std::string BatchControl::PathIn(const std::string& state_dir, int64_t batch) {
  return fmt::format("{}/batch-{}.control", state_dir, batch);
}

std::string BatchControl::AckPathIn(const std::string& state_dir, int64_t batch) {
  return fmt::format("{}/batch-{}.control-ack", state_dir, batch);
}

Status BatchControl::Read(const std::string& state_dir, int64_t batch, ControlRequest* out) {
  *out = ControlRequest();
  std::string path = PathIn(state_dir, batch);
  if (access(path.c_str(), F_OK) != 0 && errno == ENOENT) return Status::Ok();
  std::optional<std::string> text = ReadWholeFile(path);
  if (!text) return Status::Error(fmt::format("cannot read {}: {}", path, strerror(errno)));
  return Parse(path, *text, out);
}

Status BatchControl::Write(const std::string& state_dir, int64_t batch,
                           const ControlRequest& request) {
  nlohmann::json json = {{"seq", request.seq},
                         {"paused", request.paused},
                         {"draining", request.draining}};
  json["jobs"] = request.jobs ? nlohmann::json(*request.jobs) : nlohmann::json(nullptr);
  return WriteFileAtomically(PathIn(state_dir, batch), json.dump() + "\n");
}

int64_t BatchControl::ReadAck(const std::string& state_dir, int64_t batch) {
  std::optional<std::string> text = ReadWholeFile(AckPathIn(state_dir, batch));
  if (!text) return 0;
  try {
    return std::stoll(*text);
  } catch (const std::exception&) {
    return 0;
  }
}

BatchControl::BatchControl(std::string state_dir, int64_t batch)
    : state_dir_(std::move(state_dir)), batch_(batch) {
  unlink(PathIn(state_dir_, batch_).c_str());
  unlink(AckPathIn(state_dir_, batch_).c_str());
}

BatchControl::~BatchControl() {
  unlink(PathIn(state_dir_, batch_).c_str());
  unlink(AckPathIn(state_dir_, batch_).c_str());
}

std::optional<ControlRequest> BatchControl::Poll() {
  std::string path = PathIn(state_dir_, batch_);
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  // Each `ctl` call renames a new file in: a new inode, whatever the clock.
  if (st.st_ino == last_ino_ && st.st_mtim.tv_sec == last_mtime_.tv_sec &&
      st.st_mtim.tv_nsec == last_mtime_.tv_nsec) {
    return std::nullopt;
  }
  last_ino_ = st.st_ino;
  last_mtime_ = st.st_mtim;
  ControlRequest request;
  if (!Read(state_dir_, batch_, &request).ok() || request.seq <= seen_seq_) return std::nullopt;
  seen_seq_ = request.seq;
  return request;
}

void BatchControl::Acknowledge(const ControlRequest& request) {
  // Best effort: `ctl` says so when no acknowledgement comes.
  (void)WriteFileAtomically(AckPathIn(state_dir_, batch_), fmt::format("{}\n", request.seq));
}

}  // namespace headroom

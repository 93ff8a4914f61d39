#include "report/job_log.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>
#include <vector>

#include "util/shell_quote.h"

namespace headroom {

Status FindJobLog(const BatchData& data, const std::string& which, JobLogTarget* out) {
  *out = JobLogTarget();
  std::vector<const JobRecord*> found;
  if (!which.empty() && which[0] == '#') {
    std::string digits = which.substr(1);
    bool ok = !digits.empty() && digits.size() <= 12 &&
              digits.find_first_not_of("0123456789") == std::string::npos;
    int64_t number = ok ? std::stoll(digits) : 0;
    if (number < 1) {
      return Status::Error(
          fmt::format("'{}' is not a job number (expected #N, N >= 1)", Printable(which)));
    }
    for (const JobRecord& job : data.jobs) {
      if (job.number == number) found.push_back(&job);
    }
  } else {
    for (const JobRecord& job : data.jobs) {
      if (job.name == which || job.input == which) found.push_back(&job);
    }
  }
  if (found.empty()) {
    return Status::Error(fmt::format(
        "batch {} has no job '{}' (name it by its input or name, or by #N; 'headroom status' "
        "lists the running ones)",
        data.batch.id, Printable(which)));
  }
  if (found.size() > 1) {
    return Status::Error(fmt::format("'{}' names jobs #{} and #{} (use #N)", Printable(which),
                                     found[0]->number, found[1]->number));
  }
  const JobRecord& job = *found.front();
  out->number = job.number;
  out->name = job.name;
  for (const AttemptRecord& attempt : data.attempts) {
    if (attempt.job_key != job.key || attempt.attempt < out->attempt) continue;
    out->attempt = attempt.attempt;
    out->stdout_log = attempt.stdout_log;
    out->stderr_log = attempt.stderr_log;
    out->running = !attempt.end && data.state() == BatchRunState::kRunning;
  }
  return Status::Ok();
}

namespace {

// Copies `path` from `*offset` to its end; a missing file (a quiet job's
// empty log is removed) copies nothing.
void CopyFrom(const std::string& path, long* offset, std::FILE* out) {
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) return;
  if (std::fseek(file, *offset, SEEK_SET) == 0) {
    char buffer[65536];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
      std::fwrite(buffer, 1, n, out);
      *offset += static_cast<long>(n);
    }
  }
  std::fclose(file);
  std::fflush(out);
}

}  // namespace

Status PrintJobLog(const JobLogRequest& request, std::FILE* out, bool* not_started) {
  *not_started = false;
  constexpr auto kPoll = std::chrono::milliseconds(200);
  constexpr int kPollsPerReload = 5;
  BatchData data;
  JobLogTarget target;
  std::string path;
  long offset = 0;
  for (int poll = 0;; ++poll) {
    if (poll % kPollsPerReload == 0) {
      Status status = LoadBatchData(request.state_dir, request.batch, &data);
      if (status.ok()) status = FindJobLog(data, request.which, &target);
      if (!status.ok()) return status;
      if (target.attempt == 0 && (!request.follow || data.state() != BatchRunState::kRunning)) {
        *not_started = true;
        return Status::Ok();
      }
      const std::string& log = request.stderr_log ? target.stderr_log : target.stdout_log;
      if (target.attempt > 0 && log != path) {
        if (!path.empty()) CopyFrom(path, &offset, out);  // the end of the attempt before
        path = log;
        offset = 0;
      }
    }
    if (!path.empty()) CopyFrom(path, &offset, out);
    if (!request.follow || (target.attempt > 0 && !target.running)) return Status::Ok();
    std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace headroom

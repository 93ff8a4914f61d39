#include "journal/launch_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

namespace headroom {
namespace {

// Reads one record's fields from `text` at `pos`. kShort: the text ends
// before the record does (a write cut short by a crash).
enum class Parse { kOk, kShort, kBad };

class Cursor {
 public:
  Cursor(std::string_view text, size_t pos) : text_(text), pos_(pos) {}
  size_t pos() const { return pos_; }

  template <typename T>
  Parse Number(T* out) {
    size_t end = text_.find_first_of(" \n", pos_);
    if (end == std::string_view::npos) return Parse::kShort;
    auto [ptr, ec] = std::from_chars(text_.data() + pos_, text_.data() + end, *out);
    if (ec != std::errc() || ptr != text_.data() + end || end == pos_) return Parse::kBad;
    pos_ = end;
    return Parse::kOk;
  }
  // "<n>:<n bytes>"
  Parse Bytes(std::string* out) {
    size_t colon = text_.find(':', pos_);
    if (colon == std::string_view::npos) return Parse::kShort;
    size_t n = 0;
    auto [ptr, ec] = std::from_chars(text_.data() + pos_, text_.data() + colon, n);
    if (ec != std::errc() || ptr != text_.data() + colon || colon == pos_) return Parse::kBad;
    if (text_.size() - colon - 1 < n) return Parse::kShort;
    out->assign(text_.substr(colon + 1, n));
    pos_ = colon + 1 + n;
    return Parse::kOk;
  }
  Parse Char(char c) {
    if (pos_ >= text_.size()) return Parse::kShort;
    if (text_[pos_] != c) return Parse::kBad;
    ++pos_;
    return Parse::kOk;
  }

 private:
  std::string_view text_;
  size_t pos_;
};

Parse ParseRecord(Cursor* in, AttemptRecord* a) {
  Parse p = Parse::kOk;
  auto step = [&](Parse next) {
    if (p == Parse::kOk) p = next;
    return p == Parse::kOk;
  };
  step(in->Number(&a->attempt)) && step(in->Char(' ')) && step(in->Number(&a->slot)) &&
      step(in->Char(' ')) && step(in->Number(&a->gpu)) && step(in->Char(' ')) &&
      step(in->Number(&a->start)) && step(in->Char(' ')) && step(in->Bytes(&a->job_key)) &&
      step(in->Char(' ')) && step(in->Bytes(&a->stdout_log)) && step(in->Char(' ')) &&
      step(in->Bytes(&a->stderr_log)) && step(in->Char('\n'));
  return p;
}

// The end record after its "end " tag: "<attempt> <end> <exit> <signal>
// <oom> <wall> <n>:<key> <n>:<outcome> <n>:<state>\n"; -1 for an exit code
// or signal the attempt has none of.
Parse ParseEnd(Cursor* in, LaunchEnd* e) {
  AttemptRecord& a = e->attempt;
  double end = 0;
  int exit_code = -1, signal = -1, oom = 0;
  std::string state;
  Parse p = Parse::kOk;
  auto step = [&](Parse next) {
    if (p == Parse::kOk) p = next;
    return p == Parse::kOk;
  };
  step(in->Number(&a.attempt)) && step(in->Char(' ')) && step(in->Number(&end)) &&
      step(in->Char(' ')) && step(in->Number(&exit_code)) && step(in->Char(' ')) &&
      step(in->Number(&signal)) && step(in->Char(' ')) && step(in->Number(&oom)) &&
      step(in->Char(' ')) && step(in->Number(&a.wall_seconds)) && step(in->Char(' ')) &&
      step(in->Bytes(&a.job_key)) && step(in->Char(' ')) && step(in->Bytes(&a.outcome)) &&
      step(in->Char(' ')) && step(in->Bytes(&state)) && step(in->Char('\n'));
  if (p != Parse::kOk) return p;
  std::optional<JobState> parsed = ParseJobState(state);
  if (!parsed || (oom != 0 && oom != 1)) return Parse::kBad;
  a.end = end;
  if (exit_code >= 0) a.exit_code = exit_code;
  if (signal >= 0) a.signal = signal;
  a.oom = oom == 1;
  e->state = *parsed;
  return Parse::kOk;
}

// "end " when the record at `in` is an end record (consumed), else nothing.
Parse EndTag(std::string_view text, Cursor* in, bool* is_end) {
  constexpr std::string_view kTag = "end ";
  std::string_view rest = text.substr(in->pos());
  *is_end = rest.starts_with(kTag);
  if (!*is_end && kTag.starts_with(rest)) return Parse::kShort;
  if (*is_end) {
    for (char c : kTag) in->Char(c);
  }
  return Parse::kOk;
}

void AppendBytes(std::string* out, const std::string& bytes) {
  fmt::format_to(std::back_inserter(*out), "{}:", bytes.size());
  out->append(bytes);
}

}  // namespace

std::string LaunchRecord(const AttemptRecord& a) {
  std::string out = fmt::format("{} {} {} {:.6f} ", a.attempt, a.slot, a.gpu, a.start);
  AppendBytes(&out, a.job_key);
  out += ' ';
  AppendBytes(&out, a.stdout_log);
  out += ' ';
  AppendBytes(&out, a.stderr_log);
  out += '\n';
  return out;
}

std::string LaunchEndRecord(const LaunchEnd& e) {
  const AttemptRecord& a = e.attempt;
  std::string out = fmt::format("end {} {:.6f} {} {} {} {:.6f} ", a.attempt, a.end.value_or(0),
                                a.exit_code.value_or(-1), a.signal.value_or(-1), a.oom ? 1 : 0,
                                a.wall_seconds);
  AppendBytes(&out, a.job_key);
  out += ' ';
  AppendBytes(&out, a.outcome);
  out += ' ';
  AppendBytes(&out, std::string(JobStateName(e.state)));
  out += '\n';
  return out;
}

std::string LaunchLog::PathIn(const std::string& state_dir, int64_t batch) {
  return fmt::format("{}/batch-{}.launches", state_dir, batch);
}

Status LaunchLog::Create(const std::string& path, std::unique_ptr<LaunchLog>* out) {
  out->reset();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Error(fmt::format("launch log {}: cannot create it: {}", path, strerror(errno)));
  }
  out->reset(new LaunchLog(fd, path));
  return Status::Ok();
}

Status LaunchLog::Read(const std::string& path, LaunchRecords* out) {
  *out = LaunchRecords();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Error(fmt::format("launch log {}: cannot open it: {}", path, strerror(errno)));
  }
  std::string text;
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::Error(fmt::format("launch log {}: cannot read it: {}", path, strerror(err)));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  Cursor in(text, 0);
  while (in.pos() < text.size()) {
    size_t start = in.pos();
    bool is_end = false;
    Parse p = EndTag(text, &in, &is_end);
    AttemptRecord attempt;
    LaunchEnd end;
    if (p == Parse::kOk) p = is_end ? ParseEnd(&in, &end) : ParseRecord(&in, &attempt);
    if (p == Parse::kShort) break;  // the last write, cut short: never acted upon
    if (p == Parse::kBad) {
      return Status::Error(fmt::format(
          "launch log {}: malformed record at byte {} (expected \"<attempt> <slot> <gpu> <start> "
          "<n>:<key> <n>:<stdout> <n>:<stderr>\" or \"end ...\"); removing the file loses only "
          "the record of those starts and ends",
          path, start));
    }
    if (is_end) {
      out->ends.push_back(std::move(end));
    } else {
      out->starts.push_back(std::move(attempt));
    }
  }
  return Status::Ok();
}

LaunchLog::LaunchLog(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

LaunchLog::~LaunchLog() {
  if (fd_ >= 0) close(fd_);
}

Status LaunchLog::Error(const std::string& what) const {
  return Status::Error(fmt::format("launch log {}: {}: {}", path_, what, strerror(errno)));
}

Status LaunchLog::Append(const std::vector<AttemptRecord>& attempts) {
  std::string records;
  for (const AttemptRecord& attempt : attempts) records += LaunchRecord(attempt);
  return Write(records);
}

Status LaunchLog::AppendEnds(const std::vector<LaunchEnd>& ends) {
  std::string records;
  for (const LaunchEnd& end : ends) records += LaunchEndRecord(end);
  return Write(records);
}

Status LaunchLog::Write(const std::string& records) {
  if (fd_ < 0) return Status::Error(fmt::format("launch log {}: removed", path_));
  size_t done = 0;
  while (done < records.size()) {
    ssize_t n = write(fd_, records.data() + done, records.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error("cannot write");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status LaunchLog::Clear() {
  if (fd_ < 0) return Status::Ok();
  if (ftruncate(fd_, 0) != 0) return Error("cannot empty it");
  return Status::Ok();
}

Status LaunchLog::Remove() {
  if (fd_ < 0) return Status::Ok();
  close(fd_);
  fd_ = -1;
  if (unlink(path_.c_str()) != 0 && errno != ENOENT) return Error("cannot remove it");
  return Status::Ok();
}

}  // namespace headroom

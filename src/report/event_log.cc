#include "report/event_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "report/exit_text.h"
#include "util/shell_quote.h"

namespace headroom {
namespace {

constexpr size_t kFlushBytes = 64 * 1024;
constexpr std::chrono::seconds kFlushPeriod{1};

// A persistent worker's log (--worker: <jobs dir>/worker_<n>.out, .err),
// which the runner names so; a job's log is named after its number
// (<jobs dir>/<number>_<name>.out), so it never starts with "worker_".
bool IsWorkerLog(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return name.substr(0, 7) == "worker_";
}

bool IsFailure(Outcome outcome) {
  return outcome == Outcome::kFailed || outcome == Outcome::kTimedOut ||
         outcome == Outcome::kStartFailed;
}

std::string_view LevelText(LogLevel level) {  // padded: the columns line up
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO ";
    case LogLevel::kWarn:
      return "WARN ";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?    ";
}

std::string_view LevelJson(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

// A text value stays bare when a reader splitting on spaces and the first
// '=' gets it back; otherwise it is double-quoted with C escapes, so one
// event is always one line whatever a file name holds.
std::string QuoteValue(std::string_view value) {
  bool bare = !value.empty();
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '"' || c == '\\') bare = false;
  }
  if (bare) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += fmt::format("\\x{:02x}", u);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

// One event, rendered as a text line or a JSON object as it is built.
class EventLog::Record {
 public:
  Record(LogFormat format, LogLevel level, std::string_view event, const std::string& ts)
      : json_format_(format == LogFormat::kJson), level_(level) {
    if (json_format_) {
      json_["ts"] = ts;
      json_["level"] = LevelJson(level);
      json_["event"] = event;
    } else {
      text_ = fmt::format("{} {} {}", ts, LevelText(level), event);
    }
  }

  LogLevel level() const { return level_; }

  Record& Number(int64_t number) {  // the job number: "#3" right after the event
    if (json_format_) {
      json_["number"] = number;
    } else {
      text_ += fmt::format(" #{}", number);
    }
    return *this;
  }
  Record& Int(std::string_view key, int64_t value) {
    if (json_format_) {
      json_[std::string(key)] = value;
    } else {
      text_ += fmt::format(" {}={}", key, value);
    }
    return *this;
  }
  // Text "wall=1.234s"; JSON "wall_s": 1.234.
  Record& Seconds(std::string_view key, double seconds) {
    if (json_format_) {
      json_[std::string(key) + "_s"] = seconds;
    } else {
      text_ += fmt::format(" {}={:.3f}s", key, seconds);
    }
    return *this;
  }
  Record& Str(std::string_view key, std::string_view value) {
    if (json_format_) {
      json_[std::string(key)] = value;
    } else {
      text_ += fmt::format(" {}={}", key, QuoteValue(value));
    }
    return *this;
  }
  Record& Bool(std::string_view key, bool value) {
    if (json_format_) {
      json_[std::string(key)] = value;
    } else {
      text_ += fmt::format(" {}={}", key, value);
    }
    return *this;
  }
  // Text: shell-joined, so that an argv can be pasted back into a shell.
  Record& List(std::string_view key, const std::vector<std::string>& values) {
    if (json_format_) {
      json_[std::string(key)] = values;
    } else {
      Str(key, ShellJoin(values));
    }
    return *this;
  }
  Record& Exit(const AttemptEnd& end) {
    if (end.exit.signal != 0) return Str("signal", SignalName(end.exit.signal));
    if (end.outcome == Outcome::kStartFailed) return *this;  // it never ran
    return Int("exit", end.exit.exit_code);
  }

  std::string Line() const {
    if (!json_format_) return text_ + "\n";
    // File names need not be UTF-8; JSON strings must be: replace, never throw.
    return json_.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  }

 private:
  bool json_format_;
  LogLevel level_;
  std::string text_;
  nlohmann::ordered_json json_;
};

EventLog::EventLog(const EventLogConfig& config, const LogDir& log_dir)
    : config_(config), log_dir_(log_dir) {}

EventLog::~EventLog() {
  Flush();
  if (main_fd_ >= 0) close(main_fd_);
}

Status EventLog::Open() {
  std::string path = log_dir_.MainLogPath();
  main_fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (main_fd_ < 0) return Status::Error("main log '" + path + "': " + std::strerror(errno));
  return Status::Ok();
}

std::string EventLog::Now(bool iso) {
  auto now = std::chrono::system_clock::now();
  int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  int64_t second = ms / 1000;
  if (second != clock_second_) {
    clock_second_ = second;
    time_t t = static_cast<time_t>(second);
    struct tm tm;
    localtime_r(&t, &tm);
    char buf[64];
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
    clock_text_ = buf;
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    clock_iso_ = buf;
    strftime(buf, sizeof(buf), "%z", &tm);  // "+0100"; ISO 8601 wants "+01:00"
    clock_zone_ = buf;
    if (clock_zone_.size() == 5) clock_zone_.insert(3, ":");
  }
  if (iso) return fmt::format("{}.{:03d}{}", clock_iso_, ms % 1000, clock_zone_);
  return fmt::format("{}.{:03d}", clock_text_, ms % 1000);
}

EventLog::Record EventLog::Make(LogLevel level, const char* event) {
  bool json = config_.format == LogFormat::kJson;
  return Record(config_.format, level, event, Now(json));
}

void EventLog::Emit(const Record& record) {
  if (main_fd_ < 0 || record.level() < config_.level) return;
  pending_ += record.Line();
  if (pending_.size() >= kFlushBytes) Flush();
}

void EventLog::Flush() {
  if (main_fd_ >= 0 && !pending_.empty()) {
    // A full disk must not stop the batch: the lines are dropped, the jobs
    // go on, and their own logs still say what happened.
    WriteAll(main_fd_, pending_);
  }
  pending_.clear();
}

void EventLog::OnBatchStart(const Counts& counts, TimePoint now) {
  batch_start_ = now;
  last_flush_ = now;
  Emit(Make(LogLevel::kInfo, "batch_start")
           .Str("command", config_.command)
           .Str("source", config_.source)
           .Int("total", counts.total));
  Flush();
}

void EventLog::OnJobSkipped(const Job& job, const Counts&) {
  Record record = Make(LogLevel::kInfo, "job_skipped");
  record.Number(job.number).Str("name", job.name).Str("input", job.input);
  if (!job.output.empty()) record.Str("output", job.output);
  Emit(record);
}

void EventLog::OnJobStart(const Job& job, const AttemptStart& start, const Counts&) {
  Record record = Make(LogLevel::kInfo, "job_start");
  record.Number(job.number)
      .Str("name", job.name)
      .Str("input", job.input)
      .Int("slot", start.slot)
      .Int("attempt", start.attempt);
  // Commands are long and mostly alike: only a debug log carries each one.
  if (config_.level == LogLevel::kDebug) record.List("argv", start.started.argv);
  Emit(record);
}

void EventLog::OnJobEnd(const Job& job, const AttemptEnd& end, const Counts&) {
  bool failure = IsFailure(end.outcome);
  LogLevel level = LogLevel::kInfo;
  if (end.outcome == Outcome::kInterrupted || (failure && end.will_retry)) {
    level = LogLevel::kWarn;
  } else if (failure) {
    level = LogLevel::kError;
  }
  Record record = Make(level, "job_end");
  record.Number(job.number)
      .Str("name", job.name)
      .Int("attempt", end.attempt)
      .Int("slot", end.slot)
      .Str("outcome", OutcomeLabel(end.outcome))
      .Exit(end)
      .Seconds("wall", end.wall_seconds)
      .Seconds("cpu", end.exit.cpu_seconds)
      .Int("max_rss_kb", end.exit.max_rss_kb);
  if (end.gpu >= 0) record.Int("gpu", end.gpu);
  if (end.out_of_memory) record.Bool("out_of_memory", true);
  if (end.will_retry) record.Bool("retry", true);
  if (!end.stdout_log.empty()) record.Str("stdout", end.stdout_log);
  if (!end.stderr_log.empty()) record.Str("stderr", end.stderr_log);
  if (!end.error.empty()) record.Str("error", end.error);
  Emit(record);
  if (failure) {
    AppendErrorLog(job, end);
    Flush();
  }
  TrimJobLogs(end);
}

void EventLog::AppendErrorLog(const Job& job, const AttemptEnd& end) {
  std::vector<std::string> tail;
  if (!end.stderr_log.empty()) tail = ReadTailLines(end.stderr_log, config_.error_tail_lines);
  Record record = Make(end.will_retry ? LogLevel::kWarn : LogLevel::kError, "job_failed");
  record.Number(job.number)
      .Str("name", job.name)
      .Str("input", job.input)
      .Int("attempt", end.attempt)
      .Str("outcome", OutcomeLabel(end.outcome))
      .Exit(end)
      .Seconds("wall", end.wall_seconds);
  if (end.gpu >= 0) record.Int("gpu", end.gpu);
  if (end.out_of_memory) record.Bool("out_of_memory", true);
  if (end.will_retry) record.Bool("retry", true);
  if (!end.stdout_log.empty()) record.Str("stdout", end.stdout_log);
  if (!end.stderr_log.empty()) record.Str("stderr", end.stderr_log);
  if (!end.error.empty()) record.Str("error", end.error);
  std::string block;
  if (config_.format == LogFormat::kJson) {
    block = record.List("stderr_tail", tail).Line();
  } else {
    block = record.Line();
    for (const std::string& line : tail) block += "    " + line + "\n";
  }

  std::string path = log_dir_.ErrorLogPath();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  // One write per block: two headroom runs failing on the same day append
  // whole blocks, never interleaved lines.
  bool ok = fd >= 0 && WriteAll(fd, block);
  int err = errno;
  if (fd >= 0) close(fd);
  if (!ok) {
    Emit(Make(LogLevel::kWarn, "notice")
             .Str("message", "error log '" + path + "': " + std::strerror(err)));
  }
}

// A job's logs are trimmed as it ends: their writer is done. A worker's
// logs (--worker) are not: they are shared by all the requests the worker
// serves and open while it lives, and TrimToTail's rename would leave it
// writing to a file that is no longer there. They are noted and trimmed
// once, in OnBatchEnd: the scheduler closes its runner, which stops every
// worker, before it ends the batch.
void EventLog::TrimJobLogs(const AttemptEnd& end) {
  if (config_.max_job_log == 0) return;
  for (const std::string* path : {&end.stdout_log, &end.stderr_log}) {
    if (path->empty()) continue;
    if (IsWorkerLog(*path)) {
      worker_logs_.insert(*path);
    } else {
      TrimLog(*path);
    }
  }
}

void EventLog::TrimLog(const std::string& path) {
  Status status = TrimToTail(path, config_.max_job_log);
  if (!status.ok()) Emit(Make(LogLevel::kWarn, "notice").Str("message", status.message()));
}

// A queue held by more than its slots is logged once it has been held for
// a minute, then once a minute while it lasts: a shared GPU that keeps the
// batch waiting for an hour says so 60 times, not 36,000.
void EventLog::OnTick(const Counts&, TimePoint now, const std::string& waiting) {
  bool held = !waiting.empty() && waiting != "slots" && waiting != "delay";
  if (!held) {
    held_since_.reset();
  } else if (!held_since_) {
    held_since_ = held_logged_ = now;
  } else if (now - held_logged_ >= kWaitPeriod) {
    held_logged_ = now;
    Emit(Make(LogLevel::kInfo, "waiting")
             .Str("reason", waiting)
             .Seconds("for", std::chrono::duration<double>(now - *held_since_).count()));
    Flush();
  }
  if (now - last_flush_ < kFlushPeriod) return;
  Flush();
  last_flush_ = now;
}

void EventLog::OnNotice(LogLevel level, const std::string& message) {
  Emit(Make(level, "notice").Str("message", message));
  Flush();
}

// One line per device and one for the host, at most every 30 s: enough to
// see afterwards what the machine looked like, without drowning the log.
void EventLog::OnSnapshot(const Snapshot& snapshot) {
  if (last_snapshot_ && snapshot.taken - *last_snapshot_ < kSnapshotPeriod) return;
  last_snapshot_ = snapshot.taken;
  const SystemSnapshot& system = snapshot.system;
  Emit(Make(LogLevel::kInfo, "host")
           .Int("memory_total", static_cast<int64_t>(system.memory_total))
           .Int("memory_available", static_cast<int64_t>(system.memory_available))
           .Seconds("load1", system.load1)
           .Int("cpu_busy_pct", static_cast<int64_t>(system.cpu_busy_pct)));
  for (const GpuDevice& device : snapshot.gpus) {
    Record record = Make(LogLevel::kInfo, "gpu");
    record.Int("index", device.index)
        .Str("provider", snapshot.gpu_provider)
        .Int("memory_used", static_cast<int64_t>(device.memory_used))
        .Int("memory_total", static_cast<int64_t>(device.memory_total))
        .Int("processes", static_cast<int64_t>(device.processes.size()));
    if (device.temperature_c) record.Int("temperature_c", *device.temperature_c);
    Emit(record);
  }
  Flush();
}

void EventLog::OnBatchEnd(const Counts& counts, TimePoint now) {
  Emit(Make(LogLevel::kInfo, "batch_end")
           .Int("total", counts.total)
           .Int("succeeded", counts.succeeded)
           .Int("failed", counts.failed)
           .Int("skipped", counts.skipped)
           .Int("interrupted", counts.interrupted)
           .Int("retries", counts.retries)
           .Int("not_started", counts.not_started)
           .Int("oom_retries", counts.oom_retries)
           .Seconds("wall", std::chrono::duration<double>(now - batch_start_).count()));
  for (const std::string& path : worker_logs_) TrimLog(path);
  worker_logs_.clear();
  Flush();
}

}  // namespace headroom

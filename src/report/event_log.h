// EventLog: the main log (processing_<stamp>.log: batch start/end, each job's
// start and end with durations) and the daily error log (errors_<day>.log:
// each failure with the last lines of its stderr). --log-format json writes
// one JSON object per line ({"ts": ..., "event": "job_end", ...}).
// Also caps each finished job's log files to --max-job-log (0 = no cap);
// a persistent worker's logs (--worker), once, at the batch end.
//
// The main log is written in blocks, not per line, so that 10,000 short jobs
// do not cost 20,000 writes: it is flushed at least once a second (on ticks),
// on every failure and notice, and at batch end. The error log is opened,
// appended to and closed per failure, as failures are rare.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "exec/log_dir.h"
#include "jobs/observer.h"

namespace headroom {

// --log-format.
enum class LogFormat { kText, kJson };

struct EventLogConfig {
  LogFormat format = LogFormat::kText;
  LogLevel level = LogLevel::kInfo;
  uint64_t max_job_log = 64ull << 20;
  int error_tail_lines = 20;
  std::string command;  // the command template, shell-joined, for batch_start
  std::string source;   // where inputs came from
};

class EventLog : public Observer {
 public:
  EventLog(const EventLogConfig& config, const LogDir& log_dir);
  ~EventLog() override;  // flushes and closes the main log
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Opens the main log for appending (and creates nothing else yet). Until
  // it succeeds, events go nowhere but the error log.
  Status Open();

  void OnBatchStart(const Counts& counts, TimePoint now) override;
  void OnJobSkipped(const Job& job, const Counts& counts) override;
  void OnJobStart(const Job& job, const AttemptStart& start, const Counts& counts) override;
  void OnJobEnd(const Job& job, const AttemptEnd& end, const Counts& counts) override;
  void OnTick(const Counts& counts, TimePoint now, const std::string& waiting) override;
  void OnNotice(LogLevel level, const std::string& message) override;
  void OnSnapshot(const Snapshot& snapshot) override;
  void OnBatchEnd(const Counts& counts, TimePoint now) override;

 private:
  // see event_log.cc
  class Record;
  Record Make(LogLevel level, const char* event);
  void Emit(const Record& record);  // to the main log, if its level is shown
  void Flush();
  void AppendErrorLog(const Job& job, const AttemptEnd& end);
  void TrimJobLogs(const AttemptEnd& end);
  void TrimLog(const std::string& path);
  std::string Now(bool iso);  // local time with ms, text or ISO 8601 style

  EventLogConfig config_;
  const LogDir& log_dir_;
  int main_fd_ = -1;
  std::string pending_;  // main-log lines not yet written
  TimePoint batch_start_{};
  TimePoint last_flush_{};
  static constexpr std::chrono::seconds kSnapshotPeriod{30};
  std::optional<TimePoint> last_snapshot_;  // when a snapshot was last logged
  // A hold of the queue beyond the slots (vram, others' memory, disk...):
  // since when, and when it was last logged (once a minute).
  static constexpr std::chrono::seconds kWaitPeriod{60};
  std::optional<TimePoint> held_since_;
  TimePoint held_logged_{};
  std::set<std::string> worker_logs_;       // --worker logs to trim at the batch end
  // The formatted date and time of `clock_second_`, so that most lines cost
  // no localtime_r call.
  int64_t clock_second_ = -1;
  std::string clock_text_;  // "2026-11-22 08:55:01"
  std::string clock_iso_;   // "2026-11-22T08:55:01"
  std::string clock_zone_;  // "+01:00"
};

}  // namespace headroom

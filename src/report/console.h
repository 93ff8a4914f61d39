// Console: what a person sees on stdout. On a terminal, one live progress
// line (done/total, running, failed, skipped, rate, ETA) redrawn at most 10
// times a second; otherwise one line per finished job:
//   [3/10] SUCCESS: name (12.3s)
//   [4/10] FAILED: name (exit 1) log: PATH
// and at the end a summary. On a terminal only failures (and retries) are
// printed, above the progress line. -q prints only failure lines (no
// progress, no summary); -v also prints each start with its command.
// Job names are printed with control characters replaced by '?', so a
// hostile name cannot break lines or send escape sequences.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include "jobs/observer.h"

namespace headroom {

// -q / -v.
enum class Verbosity { kQuiet, kNormal, kVerbose };

struct ConsoleConfig {
  bool tty = false;  // stdout is a terminal
  Verbosity verbosity = Verbosity::kNormal;
  std::string output_dir;  // shown in the summary
  int width = 100;         // terminal columns, for the progress line
};

class Console : public Observer {
 public:
  // `out` (usually stdout) must outlive the Console.
  Console(const ConsoleConfig& config, std::FILE* out);

  void OnBatchStart(const Counts& counts, TimePoint now) override;
  void OnJobStart(const Job& job, const AttemptStart& start, const Counts& counts) override;
  void OnJobEnd(const Job& job, const AttemptEnd& end, const Counts& counts) override;
  void OnTick(const Counts& counts, TimePoint now, const std::string& waiting) override;
  void OnNotice(LogLevel level, const std::string& message) override;
  void OnBatchEnd(const Counts& counts, TimePoint now) override;

 private:
  // see console.cc
  bool ShowsProgress() const;
  void Print(const std::string& line);  // a whole line, above the progress line
  void Redraw(TimePoint now);           // the progress line, now
  void MaybeRedraw(TimePoint now);      // the progress line, at most every 100 ms

  ConsoleConfig config_;
  std::FILE* out_;
  TimePoint start_{};
  TimePoint now_{};                     // the latest time the scheduler gave
  std::optional<TimePoint> last_draw_;  // when the progress line was last drawn
  bool line_drawn_ = false;             // the progress line is on screen now
  Counts counts_;                       // the latest counts
  std::string waiting_;                 // what holds the queue, from the last tick
  int64_t out_of_space_ = 0;            // jobs that failed for good on a full disk
};

}  // namespace headroom

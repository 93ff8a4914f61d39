// Console: what a person sees. Each job's stdout goes to headroom's stdout,
// whole, when the job ends (GNU parallel's grouping: one job's output
// never interleaves with another's), so `headroom run -- echo ::: a b | sort`
// prints a and b; with --tag each line starts with the input and a tab.
// --stderr pass copies each job's stderr to headroom's stderr the same way;
// --line-buffer copies whole lines while the job runs (read from its logs at
// each tick), so lines of jobs alternate but a line is never split.
// headroom's own lines go to stderr: on a terminal, one live progress line
// (done/total, running, failed, skipped, rate, ETA) redrawn at most 10
// times a second; otherwise one line per finished job:
//   [3/10] SUCCESS: name (12.3s)
//   [4/10] FAILED: name (exit 1) log: PATH
//       <its last stderr lines>
// and at the end a summary. On a terminal only failures (and retries) are
// printed, above the progress line, which is cleared before job output is
// written and redrawn after. -q prints only failure lines (no progress, no
// summary); -v also prints each start with its command.
// Job names are printed with control characters replaced by '?', so a
// hostile name cannot break lines or send escape sequences.
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <functional>
#include <string>
#include <utility>

#include "jobs/observer.h"

namespace headroom {

// -q / -v.
enum class Verbosity { kQuiet, kNormal, kVerbose };

// --color.
enum class ColorMode { kAuto, kAlways, kNever };

// Whether headroom's lines are coloured: always/never as said; auto when
// they go to a terminal, TERM is not "dumb" and NO_COLOR is unset or empty
// (no-color.org). `no_color` and `term` may be null (unset).
bool UseColor(ColorMode mode, bool tty, const char* no_color, const char* term);

struct ConsoleConfig {
  bool tty = false;  // the status stream (stderr) is a terminal
  bool job_output = true;  // copy each job's stdout to `job_out` (--no-job-output: off)
  bool tag = false;        // --tag: prefix each output line with the input and a tab
  bool keep_order = false; // -k: jobs' output in job-number (input) order, not end order
  bool line_buffer = false;  // --line-buffer: whole lines as jobs write them (not with -k)
  bool stderr_pass = false;  // --stderr pass: each job's stderr to `out` as its stdout goes to job_out
  Verbosity verbosity = Verbosity::kNormal;
  std::string output_dir;  // shown in the summary
  int width = 100;         // terminal columns, for the progress line
  bool color = false;      // UseColor: FAILED red, RETRY yellow, SUCCESS green, the summary bold
  // The terminal's columns now, asked at each redraw, so that a resized
  // window gets a line of its new width at the next tick; unset: `width`.
  std::function<int()> terminal_width;
};

class Console : public Observer {
 public:
  // `out` (headroom's own lines, usually stderr) and `job_out` (the jobs'
  // output, usually stdout) must outlive the Console.
  Console(const ConsoleConfig& config, std::FILE* out, std::FILE* job_out = nullptr);

  void OnBatchStart(const Counts& counts, TimePoint now) override;
  void OnJobSkipped(const Job& job, const Counts& counts) override;
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
  // A job's logs, from where the last copy stopped, to where they go.
  struct Tail {
    std::string input;  // for --tag
    std::FILE* to = nullptr;
    long offset = 0;
    bool at_line_start = true;
  };
  // Copies what `path` holds past `tail->offset`: everything (`to_end`,
  // ending an unfinished last line), or only up to its last newline.
  void Pump(const std::string& path, Tail* tail, bool to_end);
  // The job's logs that are copied (stdout; stderr with --stderr pass),
  // whole, now.
  void CopyJobOutput(const std::string& input, const std::string& stdout_log,
                     const std::string& stderr_log);
  // -k: job `number`'s output (its logs, "" for none) is ready; writes
  // every ready output whose turn has come.
  void Ready(int64_t number, const std::string& input, const std::string& stdout_log,
             const std::string& stderr_log);
  void FlushInOrder(bool all);
  void ClearProgressLine();

  ConsoleConfig config_;
  std::FILE* out_;
  std::FILE* job_out_;
  std::string last_copied_;  // a unit's logs are copied once, not once per member
  struct Output {
    std::string input, stdout_log, stderr_log;
  };
  // -k: outputs waiting for an earlier job's, by job number.
  std::map<int64_t, Output> waiting_output_;
  // --line-buffer: the running jobs' logs, by path, with where copying is.
  std::map<std::string, Tail> tails_;
  int64_t next_number_ = 1;
  TimePoint start_{};
  TimePoint now_{};                     // the latest time the scheduler gave
  std::optional<TimePoint> last_draw_;  // when the progress line was last drawn
  bool line_drawn_ = false;             // the progress line is on screen now
  Counts counts_;                       // the latest counts
  std::string waiting_;                 // what holds the queue, from the last tick
  int64_t out_of_space_ = 0;            // jobs that failed for good on a full disk
};

}  // namespace headroom

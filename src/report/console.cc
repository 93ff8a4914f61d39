#include "report/console.h"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <string_view>
#include <vector>

#include "report/exit_text.h"
#include "util/shell_quote.h"
#include "util/units.h"

namespace headroom {
namespace {

constexpr std::chrono::milliseconds kRedrawPeriod{100};
constexpr std::string_view kClearLine = "\r\x1b[K";

bool IsFailure(Outcome outcome) {
  return outcome == Outcome::kFailed || outcome == Outcome::kTimedOut ||
         outcome == Outcome::kStartFailed;
}

double Seconds(TimePoint from, TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

// What goes in the parentheses after the name.
std::string EndDetail(const AttemptEnd& end) {
  if (end.out_of_memory) return "out of memory, " + DescribeExit(end.exit);
  switch (end.outcome) {
    case Outcome::kSucceeded:
    case Outcome::kInterrupted:
      return FormatDuration(end.wall_seconds);
    case Outcome::kFailed:
      // Exit 0 and still failed: the reason is headroom's (no output written,
      // an output that could not be renamed, a reported input failure).
      if (end.exit.exit_code == 0 && end.exit.signal == 0 && !end.error.empty()) {
        return Printable(end.error);
      }
      return DescribeExit(end.exit);
    case Outcome::kTimedOut:
      return "after " + FormatDuration(end.wall_seconds);
    case Outcome::kStartFailed:
      return Printable(end.error);
  }
  return "";
}

std::string LogSuffix(const AttemptEnd& end) {
  bool has_log = end.outcome == Outcome::kFailed || end.outcome == Outcome::kTimedOut;
  return has_log && !end.stderr_log.empty() ? " log: " + end.stderr_log : "";
}

constexpr std::string_view kRed = "\x1b[31m";
constexpr std::string_view kGreen = "\x1b[32m";
constexpr std::string_view kYellow = "\x1b[33m";
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kReset = "\x1b[0m";

// `text` in `color` (an SGR sequence) when `on`.
std::string Paint(std::string_view text, std::string_view color, bool on) {
  if (!on) return std::string(text);
  return std::string(color) + std::string(text) + std::string(kReset);
}

std::string_view OutcomeColor(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSucceeded:
      return kGreen;
    case Outcome::kInterrupted:
      return kYellow;
    default:
      return kRed;
  }
}

std::string EndLine(const Job& job, const AttemptEnd& end, const Counts& counts, bool color) {
  if (end.will_retry) {
    return fmt::format("{}: {} ({}), attempt {} failed, retrying{}", Paint("RETRY", kYellow, color),
                       Printable(job.name), EndDetail(end), end.attempt, LogSuffix(end));
  }
  return fmt::format("[{}/{}] {}: {} ({}){}", counts.done(), counts.total,
                     Paint(OutcomeLabel(end.outcome), OutcomeColor(end.outcome), color),
                     Printable(job.name), EndDetail(end), LogSuffix(end));
}

// The progress line: "[120/400 30%] ok 117  failed 2  running 4  3.2/s  ETA
// 1m27s  2m13s elapsed" (counters that are 0 left out, but ok and running), and the
// waiting reason, which a line cut to the terminal's width keeps: the
// counters give way first.
std::string ProgressText(const Counts& c, double elapsed, const std::string& waiting,
                         size_t width) {
  int64_t done = c.done();
  int percent = c.total > 0 ? static_cast<int>(100 * done / c.total) : 100;
  std::string text = fmt::format("[{}/{} {}%] ok {}", done, c.total, percent, c.succeeded);
  if (c.failed > 0) text += fmt::format("  failed {}", c.failed);
  if (c.skipped > 0) text += fmt::format("  skipped {}", c.skipped);
  if (c.interrupted > 0) text += fmt::format("  interrupted {}", c.interrupted);
  text += fmt::format("  running {}", c.running);
  // Skipped jobs cost nothing: counting them would promise a rate that the
  // remaining, real jobs cannot keep.
  int64_t ran = c.succeeded + c.failed + c.interrupted;
  double rate = elapsed > 0 ? static_cast<double>(ran) / elapsed : 0;
  text += "  " + (ran > 0 ? FormatRate(rate) : std::string("-/s")) + "  ETA ";
  // The scheduler's estimate from the running jobs and what the classes'
  // jobs take (sched/eta.h), not the jobs left at the rate so far.
  text += c.eta_seconds ? FormatDuration(*c.eta_seconds) : "--";
  text += "  " + FormatDuration(elapsed) + " elapsed";
  if (waiting.empty()) return text.size() > width ? text.substr(0, width) : text;
  std::string tail = "  (waiting: " + waiting + ")";
  if (text.size() + tail.size() <= width) return text + tail;
  // Keep the first 12 columns of the counters ("[120/400 30%]"), then the reason.
  size_t keep = width > tail.size() + 12 ? width - tail.size() : std::min<size_t>(12, width);
  std::string line = text.substr(0, keep) + tail;
  return line.size() > width ? line.substr(0, width) : line;
}

std::string SummaryLine(const Counts& c, double wall) {
  std::string line = fmt::format(
      "headroom: {} job{}: {} succeeded, {} failed, {} skipped, {} interrupted", c.total,
      c.total == 1 ? "" : "s", c.succeeded, c.failed, c.skipped, c.interrupted);
  if (c.retries > 0) line += fmt::format(", {} retried", c.retries);
  if (c.oom_retries > 0) line += fmt::format(", {} out-of-memory retries", c.oom_retries);
  if (c.not_started > 0) line += fmt::format(", {} not started", c.not_started);
  // With --batch-size several jobs share a process: say how many ran.
  if (c.units > 0 && c.units < c.succeeded + c.failed + c.interrupted) {
    line += fmt::format(", {} batch{}", c.units, c.units == 1 ? "" : "es");
  }
  line += " in " + FormatDuration(wall);
  if (c.stop_signal == SIGHUP) {
    line += ", drained (SIGHUP or headroom ctl drain; 'headroom run --resume' runs the rest)";
  } else if (c.stop_signal != 0) {
    line += ", stopped by " + SignalName(c.stop_signal);
  }
  return line;
}

// Under a failure's line, its last few stderr lines (each cut at 200 bytes),
// indented: why it failed, without opening the log.
std::string StderrTail(const AttemptEnd& end, bool failure) {
  constexpr size_t kLines = 5;
  constexpr size_t kWidth = 200;
  if (!failure || end.exit.stderr_tail.empty()) return "";
  std::string out;
  for (std::string_view line : LastLines(end.exit.stderr_tail, kLines, kWidth)) {
    out += "\n    " + Printable(line);
  }
  return out;
}

// The job or headroom said the disk was full (strerror(ENOSPC)).
bool RanOutOfSpace(const AttemptEnd& end) {
  constexpr std::string_view kNoSpace = "No space left on device";
  return end.exit.stderr_tail.find(kNoSpace) != std::string::npos ||
         end.error.find(kNoSpace) != std::string::npos;
}

}  // namespace

Console::Console(const ConsoleConfig& config, std::FILE* out, std::FILE* job_out)
    : config_(config), out_(out), job_out_(job_out) {}

void Console::ClearProgressLine() {
  if (!line_drawn_) return;
  std::fputs(std::string(kClearLine).c_str(), out_);
  std::fflush(out_);
  line_drawn_ = false;
}

// In chunks (a job may write gigabytes); with --tag, each line after the
// job's input and a tab.
void Console::Pump(const std::string& path, Tail* tail, bool to_end) {
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) return;  // a quiet success's empty log is gone: nothing to copy
  if (tail->offset > 0 && std::fseek(file, tail->offset, SEEK_SET) != 0) {
    std::fclose(file);
    return;
  }
  std::string prefix = config_.tag ? Printable(tail->input) + "\t" : "";
  char buffer[65536];
  size_t n = 0;
  bool cleared = false;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    std::string_view chunk(buffer, n);
    if (!to_end) {
      // Only whole lines; the rest waits for its newline (or the job's end).
      size_t last = chunk.rfind('\n');
      if (last == std::string_view::npos) break;
      chunk = chunk.substr(0, last + 1);
    }
    if (!cleared) {
      ClearProgressLine();
      cleared = true;
    }
    size_t taken = chunk.size();
    tail->offset += static_cast<long>(taken);
    while (!chunk.empty()) {
      if (tail->at_line_start && !prefix.empty()) {
        std::fwrite(prefix.data(), 1, prefix.size(), tail->to);
      }
      size_t newline = chunk.find('\n');
      size_t take = newline == std::string_view::npos ? chunk.size() : newline + 1;
      std::fwrite(chunk.data(), 1, take, tail->to);
      tail->at_line_start = newline != std::string_view::npos;
      chunk.remove_prefix(take);
    }
    // A partial line was left: it is read again next time, from its start.
    if (taken < n) break;
  }
  std::fclose(file);
  // Output that does not end its last line would run into the next job's.
  if (to_end && !tail->at_line_start) {
    std::fputc('\n', tail->to);
    tail->at_line_start = true;
  }
  if (cleared) std::fflush(tail->to);
}

void Console::CopyJobOutput(const std::string& input, const std::string& stdout_log,
                            const std::string& stderr_log) {
  if (stdout_log.empty() || stdout_log == last_copied_) return;
  last_copied_ = stdout_log;
  if (job_out_ != nullptr && config_.job_output) {
    Tail tail{input, job_out_};
    Pump(stdout_log, &tail, /*to_end=*/true);
  }
  if (config_.stderr_pass && !stderr_log.empty()) {
    Tail tail{input, out_};
    Pump(stderr_log, &tail, /*to_end=*/true);
  }
}

bool Console::ShowsProgress() const {
  return config_.tty && config_.verbosity != Verbosity::kQuiet;
}

void Console::Print(const std::string& line) {
  // One fputs per line: a `tail -f` reader never sees half a line, and the
  // flush is what makes the line visible at all when stdout is a pipe.
  std::string text = line_drawn_ ? std::string(kClearLine) : std::string();
  text += line;
  text += '\n';
  std::fputs(text.c_str(), out_);
  line_drawn_ = false;
  // The next tick redraws the progress line, throttled: a burst of failures
  // must not redraw it once per line.
  std::fflush(out_);
}

void Console::Redraw(TimePoint now) {
  // Filling the last column makes some terminals wrap, and then "\r" no
  // longer returns to the start of the progress line.
  int width = config_.terminal_width ? config_.terminal_width() : config_.width;
  size_t max = width > 1 ? static_cast<size_t>(width - 1) : 79;
  std::string text = ProgressText(counts_, Seconds(start_, now), waiting_, max);
  std::fputs(("\r" + text + "\x1b[K").c_str(), out_);
  std::fflush(out_);
  line_drawn_ = true;
  last_draw_ = now;
}

void Console::MaybeRedraw(TimePoint now) {
  if (!ShowsProgress()) return;
  if (last_draw_ && now - *last_draw_ < kRedrawPeriod) return;
  Redraw(now);
}

void Console::OnBatchStart(const Counts& counts, TimePoint now) {
  start_ = now;
  now_ = now;
  counts_ = counts;
  MaybeRedraw(now);
}

// -k: a skipped job (its output exists, or a resume found it done) has no
// output, but its turn passes.
void Console::OnJobSkipped(const Job& job, const Counts& counts) {
  counts_ = counts;
  if (config_.keep_order) Ready(job.number, job.input, "", "");
}

void Console::Ready(int64_t number, const std::string& input, const std::string& stdout_log,
                    const std::string& stderr_log) {
  waiting_output_[number] = {input, stdout_log, stderr_log};
  FlushInOrder(false);
}

// The ready outputs from next_number_ on, up to the first gap; with `all`
// (the batch ended: a job that never ran leaves a gap forever), all of them.
void Console::FlushInOrder(bool all) {
  while (!waiting_output_.empty()) {
    auto first = waiting_output_.begin();
    if (!all && first->first != next_number_) return;
    const Output& output = first->second;
    CopyJobOutput(output.input, output.stdout_log, output.stderr_log);
    next_number_ = first->first + 1;
    waiting_output_.erase(first);
  }
}

void Console::OnJobStart(const Job& job, const AttemptStart& start, const Counts& counts) {
  counts_ = counts;
  if (config_.line_buffer) {
    // A unit's members share their logs: the first one's input tags them.
    if (config_.job_output && job_out_ != nullptr && !start.started.stdout_log.empty()) {
      tails_.try_emplace(start.started.stdout_log, Tail{job.input, job_out_});
    }
    if (config_.stderr_pass && !start.started.stderr_log.empty()) {
      tails_.try_emplace(start.started.stderr_log, Tail{job.input, out_});
    }
  }
  if (config_.verbosity != Verbosity::kVerbose) return;
  Print(fmt::format("START: {} (slot {}): {}", Printable(job.name), start.slot,
                    Printable(ShellJoin(start.started.argv))));
}

void Console::OnJobEnd(const Job& job, const AttemptEnd& end, const Counts& counts) {
  counts_ = counts;
  bool failure = IsFailure(end.outcome);
  if (failure && !end.will_retry && RanOutOfSpace(end)) ++out_of_space_;
  bool print = false;
  switch (config_.verbosity) {
    case Verbosity::kQuiet:
      print = failure && !end.will_retry;
      break;
    case Verbosity::kNormal:
      // On a terminal the progress line already counts successes.
      print = !config_.tty || failure;
      break;
    case Verbosity::kVerbose:
      print = true;
      break;
  }
  if (config_.line_buffer) {
    // Every attempt's lines were shown as they came; the rest of them now.
    for (const std::string& path : {end.stdout_log, end.stderr_log}) {
      auto tail = tails_.find(path);
      if (tail == tails_.end()) continue;
      Pump(path, &tail->second, /*to_end=*/true);
      tails_.erase(tail);
    }
  } else if ((config_.job_output || config_.stderr_pass) && !end.will_retry) {
    if (config_.keep_order) {
      Ready(job.number, job.input, end.stdout_log, end.stderr_log);
    } else {
      CopyJobOutput(job.input, end.stdout_log, end.stderr_log);
    }
  }
  // Without a line to print, the next tick redraws the progress line: the
  // scheduler ticks at least every 100 ms, and a redraw per job would cost
  // more than the jobs when they are short.
  // With --stderr pass the whole of it was shown already.
  if (print) Print(EndLine(job, end, counts, config_.color) + (config_.stderr_pass ? "" : StderrTail(end, failure)));
}

void Console::OnTick(const Counts& counts, TimePoint now, const std::string& waiting) {
  counts_ = counts;
  now_ = now;
  waiting_ = waiting;
  for (auto& [path, tail] : tails_) Pump(path, &tail, /*to_end=*/false);
  MaybeRedraw(now);
}

void Console::OnNotice(LogLevel level, const std::string& message) {
  bool show = false;
  switch (level) {
    case LogLevel::kDebug:
      break;
    case LogLevel::kInfo:
      show = config_.verbosity == Verbosity::kVerbose;
      break;
    case LogLevel::kWarn:
      show = config_.verbosity != Verbosity::kQuiet;
      break;
    case LogLevel::kError:
      show = true;
      break;
  }
  if (!show) return;
  Print((level == LogLevel::kWarn ? "headroom: " + Paint("warning:", kYellow, config_.color) + " "
                                  : std::string("headroom: ")) +
        Printable(message));
}

bool UseColor(ColorMode mode, bool tty, const char* no_color, const char* term) {
  switch (mode) {
    case ColorMode::kAlways:
      return true;
    case ColorMode::kNever:
      return false;
    case ColorMode::kAuto:
      break;
  }
  if (!tty) return false;
  if (no_color != nullptr && no_color[0] != '\0') return false;
  return term == nullptr || std::string_view(term) != "dumb";
}

void Console::OnBatchEnd(const Counts& counts, TimePoint now) {
  counts_ = counts;
  now_ = now;
  FlushInOrder(/*all=*/true);
  for (auto& [path, tail] : tails_) Pump(path, &tail, /*to_end=*/true);
  tails_.clear();
  std::string text = line_drawn_ ? std::string(kClearLine) : std::string();
  line_drawn_ = false;
  if (config_.verbosity != Verbosity::kQuiet) {
    text += Paint(SummaryLine(counts, Seconds(start_, now)), counts.failed > 0 ? kRed : kBold,
                  config_.color) +
            "\n";
    if (!config_.output_dir.empty())
      text += "headroom: output: " + Printable(config_.output_dir) + "\n";
  }
  // A full disk fails job after job, each saying so only in its own log.
  if (out_of_space_ > 0) {
    text += fmt::format("headroom: {} job{} failed: no space left on {}\n", out_of_space_,
                        out_of_space_ == 1 ? "" : "s",
                        config_.output_dir.empty() ? std::string("the device")
                                                   : Printable(config_.output_dir));
  }
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

}  // namespace headroom

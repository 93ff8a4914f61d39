#include "report/console.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace headroom {
namespace {

using std::chrono::milliseconds;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = open_memstream(&buf_, &size_);
    ASSERT_NE(out_, nullptr);
  }
  void TearDown() override {
    std::fclose(out_);
    std::free(buf_);
  }

  // Everything written so far; also checks it was flushed by the Console,
  // so `tail -f` readers would see it.
  std::string Output() { return std::string(buf_, size_); }

  Console Make(Verbosity verbosity, bool tty = false, int width = 100) {
    ConsoleConfig config;
    config.tty = tty;
    config.verbosity = verbosity;
    config.width = width;
    config.output_dir = output_dir_;
    return Console(config, out_);
  }

  std::FILE* out_ = nullptr;
  char* buf_ = nullptr;
  size_t size_ = 0;
  std::string output_dir_;
};

Job MakeJob(const std::string& name) {
  Job job;
  job.number = 3;
  job.name = name;
  job.input = "/in/" + name;
  return job;
}

AttemptEnd MakeEnd(Outcome outcome, double wall = 12.3) {
  AttemptEnd end;
  end.outcome = outcome;
  end.wall_seconds = wall;
  end.exit.exit_code = outcome == Outcome::kSucceeded ? 0 : 1;
  end.stdout_log = "/logs/3_clip.out";
  end.stderr_log = "/logs/3_clip.err";
  return end;
}

Counts MakeCounts(int64_t total, int64_t succeeded, int64_t failed, int64_t skipped = 0) {
  Counts counts;
  counts.total = total;
  counts.succeeded = succeeded;
  counts.failed = failed;
  counts.skipped = skipped;
  return counts;
}

TEST_F(ConsoleTest, OneLinePerFinishedJobWhenNotATerminal) {
  Console console = Make(Verbosity::kNormal);
  console.OnBatchStart(MakeCounts(10, 0, 0), kT0);
  EXPECT_EQ(Output(), "");

  console.OnJobEnd(MakeJob("clip"), MakeEnd(Outcome::kSucceeded), MakeCounts(10, 3, 0));
  EXPECT_EQ(Output(), "[3/10] SUCCESS: clip (12.3s)\n");

  console.OnJobEnd(MakeJob("clip"), MakeEnd(Outcome::kFailed), MakeCounts(10, 3, 1));
  AttemptEnd killed = MakeEnd(Outcome::kFailed);
  killed.exit.exit_code = -1;
  killed.exit.signal = SIGKILL;
  console.OnJobEnd(MakeJob("clip"), killed, MakeCounts(10, 3, 2));
  console.OnJobEnd(MakeJob("clip"), MakeEnd(Outcome::kTimedOut, 90), MakeCounts(10, 3, 3));
  AttemptEnd not_started = MakeEnd(Outcome::kStartFailed);
  not_started.error = "cannot open /logs: Permission denied";
  console.OnJobEnd(MakeJob("clip"), not_started, MakeCounts(10, 3, 4));
  Counts interrupted = MakeCounts(10, 3, 4);
  interrupted.interrupted = 1;
  console.OnJobEnd(MakeJob("clip"), MakeEnd(Outcome::kInterrupted, 1.2), interrupted);

  EXPECT_EQ(Output(),
            "[3/10] SUCCESS: clip (12.3s)\n"
            "[4/10] FAILED: clip (exit 1) log: /logs/3_clip.err\n"
            "[5/10] FAILED: clip (killed by SIGKILL) log: /logs/3_clip.err\n"
            "[6/10] TIMEOUT: clip (after 1m30s) log: /logs/3_clip.err\n"
            "[7/10] NOT STARTED: clip (cannot open /logs: Permission denied)\n"
            "[8/10] INTERRUPTED: clip (1.2s)\n");
}

TEST_F(ConsoleTest, RetriedAttemptsSayTheyWillBeRetried) {
  Console console = Make(Verbosity::kNormal);
  AttemptEnd end = MakeEnd(Outcome::kFailed);
  end.will_retry = true;
  end.attempt = 2;
  console.OnJobEnd(MakeJob("clip"), end, MakeCounts(10, 0, 0));
  EXPECT_EQ(Output(), "RETRY: clip (exit 1), attempt 2 failed, retrying log: /logs/3_clip.err\n");
}

TEST_F(ConsoleTest, ControlCharactersInNamesAreNotPrinted) {
  Console console = Make(Verbosity::kNormal);
  console.OnJobEnd(MakeJob("a\nb\x1b[2Jc"), MakeEnd(Outcome::kSucceeded), MakeCounts(1, 1, 0));
  EXPECT_EQ(Output(), "[1/1] SUCCESS: a?b?[2Jc (12.3s)\n");
}

TEST_F(ConsoleTest, QuietPrintsOnlyFinalFailures) {
  output_dir_ = "/out";
  Console console = Make(Verbosity::kQuiet);
  console.OnBatchStart(MakeCounts(3, 0, 0), kT0);
  console.OnJobEnd(MakeJob("ok"), MakeEnd(Outcome::kSucceeded), MakeCounts(3, 1, 0));
  AttemptEnd retried = MakeEnd(Outcome::kFailed);
  retried.will_retry = true;
  console.OnJobEnd(MakeJob("bad"), retried, MakeCounts(3, 1, 0));
  console.OnJobEnd(MakeJob("bad"), MakeEnd(Outcome::kFailed), MakeCounts(3, 1, 1));
  console.OnNotice(LogLevel::kWarn, "slow disk");
  console.OnBatchEnd(MakeCounts(3, 1, 1, 1), kT0 + milliseconds(500));
  EXPECT_EQ(Output(), "[2/3] FAILED: bad (exit 1) log: /logs/3_clip.err\n");
}

TEST_F(ConsoleTest, VerbosePrintsEachStartWithItsCommand) {
  Console console = Make(Verbosity::kVerbose);
  AttemptStart start;
  start.slot = 2;
  start.started.argv = {"upscale", "--in", "my clip.mp4"};
  console.OnJobStart(MakeJob("my clip.mp4"), start, MakeCounts(10, 0, 0));
  EXPECT_EQ(Output(), "START: my clip.mp4 (slot 2): upscale --in 'my clip.mp4'\n");
}

TEST_F(ConsoleTest, NormalVerbosityDoesNotPrintStarts) {
  Console console = Make(Verbosity::kNormal);
  AttemptStart start;
  start.started.argv = {"true"};
  console.OnJobStart(MakeJob("clip"), start, MakeCounts(10, 0, 0));
  EXPECT_EQ(Output(), "");
}

TEST_F(ConsoleTest, SummaryAtBatchEnd) {
  output_dir_ = "/out/restored";
  Console console = Make(Verbosity::kNormal);
  console.OnBatchStart(MakeCounts(10, 0, 0), kT0);
  console.OnBatchEnd(MakeCounts(10, 8, 1, 1), kT0 + milliseconds(12300));
  EXPECT_EQ(Output(),
            "headroom: 10 jobs: 8 succeeded, 1 failed, 1 skipped, 0 interrupted in 12.3s\n"
            "headroom: output: /out/restored\n");
}

// A full disk fails job after job; the summary says so once, not only each
// job's log. A retried failure does not count (it may yet succeed).
TEST_F(ConsoleTest, SummarySaysWhenJobsFailedOnAFullDisk) {
  output_dir_ = "out/";
  Console console = Make(Verbosity::kQuiet);
  console.OnBatchStart(MakeCounts(3, 0, 0), kT0);
  AttemptEnd full = MakeEnd(Outcome::kFailed);
  full.exit.stderr_tail = "ffmpeg: out/a.mp4: No space left on device\n";
  console.OnJobEnd(MakeJob("a"), full, MakeCounts(3, 0, 1));
  AttemptEnd retried = full;
  retried.will_retry = true;
  console.OnJobEnd(MakeJob("b"), retried, MakeCounts(3, 0, 1));
  AttemptEnd unrenamed = MakeEnd(Outcome::kFailed);
  unrenamed.exit.exit_code = 0;
  unrenamed.error = "cannot rename 'x' to 'y': No space left on device";
  console.OnJobEnd(MakeJob("c"), unrenamed, MakeCounts(3, 0, 2));
  console.OnBatchEnd(MakeCounts(3, 1, 2), kT0 + milliseconds(100));
  EXPECT_NE(Output().find("headroom: 2 jobs failed: no space left on out/\n"), std::string::npos)
      << Output();
}

// A signal that stopped the batch is named, even when it came after the last
// job ended (while workers stopped) and no job counts as interrupted.
TEST_F(ConsoleTest, SummaryNamesTheSignalThatStoppedTheBatch) {
  Console console = Make(Verbosity::kNormal);
  console.OnBatchStart(MakeCounts(2, 0, 0), kT0);
  Counts counts = MakeCounts(2, 2, 0);
  counts.stop_signal = SIGTERM;
  console.OnBatchEnd(counts, kT0 + milliseconds(1500));
  EXPECT_EQ(Output(),
            "headroom: 2 jobs: 2 succeeded, 0 failed, 0 skipped, 0 interrupted in 1.5s, stopped "
            "by SIGTERM\n");
}

TEST_F(ConsoleTest, SummaryCountsRetries) {
  Console console = Make(Verbosity::kNormal);
  console.OnBatchStart(MakeCounts(1, 0, 0), kT0);
  Counts counts = MakeCounts(1, 1, 0);
  counts.retries = 2;
  console.OnBatchEnd(counts, kT0 + milliseconds(90000));
  EXPECT_EQ(Output(),
            "headroom: 1 job: 1 succeeded, 0 failed, 0 skipped, 0 interrupted, 2 retried in "
            "1m30s\n");
}

TEST_F(ConsoleTest, NoticesByLevel) {
  Console console = Make(Verbosity::kNormal);
  console.OnNotice(LogLevel::kDebug, "debug");
  console.OnNotice(LogLevel::kInfo, "info");
  console.OnNotice(LogLevel::kWarn, "no GPU found");
  console.OnNotice(LogLevel::kError, "interrupted by SIGINT");
  EXPECT_EQ(Output(), "headroom: warning: no GPU found\nheadroom: interrupted by SIGINT\n");
}

TEST_F(ConsoleTest, TerminalRedrawsOneProgressLineAtMostEvery100Ms) {
  Console console = Make(Verbosity::kNormal, /*tty=*/true);
  console.OnBatchStart(MakeCounts(4, 0, 0), kT0);
  EXPECT_EQ(Output(), "\r[0/4 0%] ok 0  running 0  -/s  ETA --  0.0s elapsed\x1b[K");

  Counts counts = MakeCounts(4, 1, 0, 1);
  counts.running = 2;
  counts.eta_seconds = 7.5;  // the scheduler's estimate, shown as it is
  console.OnJobEnd(MakeJob("clip"), MakeEnd(Outcome::kSucceeded), counts);
  console.OnTick(counts, kT0 + milliseconds(10), "slots");
  console.OnTick(counts, kT0 + milliseconds(20), "slots");
  EXPECT_EQ(Output().find('\n'), std::string::npos);
  EXPECT_EQ(Output().rfind('\r'), 0u) << "drew again within 100 ms";

  size_t before = Output().size();
  console.OnTick(counts, kT0 + milliseconds(2000), "slots");
  EXPECT_EQ(Output().substr(before),
            "\r[2/4 50%] ok 1  skipped 1  running 2  30.0/min  ETA 7.5s  2.0s elapsed  (waiting: "
            "slots)\x1b[K");
}

TEST_F(ConsoleTest, TerminalPrintsFailuresAboveTheProgressLine) {
  Console console = Make(Verbosity::kNormal, /*tty=*/true);
  console.OnBatchStart(MakeCounts(4, 0, 0), kT0);
  console.OnTick(MakeCounts(4, 0, 0), kT0 + milliseconds(1000), "");
  size_t before = Output().size();
  console.OnJobEnd(MakeJob("clip"), MakeEnd(Outcome::kFailed), MakeCounts(4, 0, 1));
  std::string out = Output().substr(before);
  std::string failed = "\r\x1b[K[1/4] FAILED: clip (exit 1) log: /logs/3_clip.err\n";
  EXPECT_EQ(out, failed);
  // The progress line comes back with the next tick.
  before = Output().size();
  console.OnTick(MakeCounts(4, 0, 1), kT0 + milliseconds(1100), "");
  EXPECT_EQ(Output().substr(before),
            "\r[1/4 25%] ok 0  failed 1  running 0  54.5/min  ETA --  1.1s elapsed\x1b[K");
}

TEST_F(ConsoleTest, ABurstOfFailuresDoesNotRedrawPerLine) {
  Console console = Make(Verbosity::kNormal, /*tty=*/true);
  console.OnBatchStart(MakeCounts(4, 0, 0), kT0);
  size_t before = Output().size();
  for (int i = 1; i <= 3; ++i) {
    console.OnJobEnd(MakeJob("clip"), MakeEnd(Outcome::kFailed), MakeCounts(4, 0, i));
  }
  std::string out = Output().substr(before);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
  EXPECT_EQ(out.find("ok 0"), std::string::npos) << out;
}

TEST_F(ConsoleTest, TerminalLineIsCutToTheWidth) {
  Console console = Make(Verbosity::kNormal, /*tty=*/true, /*width=*/20);
  console.OnBatchStart(MakeCounts(4, 0, 0), kT0);
  // 19 columns: writing the last one would make some terminals wrap.
  EXPECT_EQ(Output(), "\r[0/4 0%] ok 0  runn\x1b[K");
}

TEST(UseColorTest, AutoOnATerminalUnlessNoColorOrADumbTerminal) {
  EXPECT_TRUE(UseColor(ColorMode::kAuto, true, nullptr, "xterm-256color"));
  EXPECT_TRUE(UseColor(ColorMode::kAuto, true, "", nullptr)) << "an empty NO_COLOR is unset";
  EXPECT_FALSE(UseColor(ColorMode::kAuto, false, nullptr, "xterm"));
  EXPECT_FALSE(UseColor(ColorMode::kAuto, true, "1", "xterm"));
  EXPECT_FALSE(UseColor(ColorMode::kAuto, true, nullptr, "dumb"));
  EXPECT_TRUE(UseColor(ColorMode::kAlways, false, "1", "dumb")) << "said outright, it wins";
  EXPECT_FALSE(UseColor(ColorMode::kNever, true, nullptr, "xterm"));
}

TEST_F(ConsoleTest, ColourMarksOutcomesRetriesWarningsAndTheSummary) {
  ConsoleConfig config;
  config.color = true;
  Console console(config, out_);
  console.OnBatchStart(MakeCounts(3, 0, 0), kT0);
  AttemptEnd retry = MakeEnd(Outcome::kFailed);
  retry.will_retry = true;
  console.OnJobEnd(MakeJob("a"), retry, MakeCounts(3, 0, 0));
  console.OnJobEnd(MakeJob("a"), MakeEnd(Outcome::kSucceeded), MakeCounts(3, 1, 0));
  console.OnJobEnd(MakeJob("b"), MakeEnd(Outcome::kFailed), MakeCounts(3, 1, 1));
  console.OnNotice(LogLevel::kWarn, "disk almost full");
  console.OnBatchEnd(MakeCounts(3, 1, 1), kT0 + milliseconds(500));
  std::string out = Output();
  EXPECT_NE(out.find("\x1b[33mRETRY\x1b[0m: a ("), std::string::npos) << out;
  EXPECT_NE(out.find("] \x1b[32mSUCCESS\x1b[0m: a ("), std::string::npos) << out;
  EXPECT_NE(out.find("] \x1b[31mFAILED\x1b[0m: b ("), std::string::npos) << out;
  EXPECT_NE(out.find("headroom: \x1b[33mwarning:\x1b[0m disk almost full"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[31mheadroom: 3 jobs: 1 succeeded, 1 failed"), std::string::npos) << out;
}

// A resized window: the next redraw asks the terminal's width again.
TEST_F(ConsoleTest, AResizedTerminalGetsALineOfItsNewWidth) {
  int columns = 20;
  ConsoleConfig config;
  config.tty = true;
  config.terminal_width = [&columns] { return columns; };
  Console console(config, out_);
  console.OnBatchStart(MakeCounts(4, 0, 0), kT0);
  EXPECT_EQ(Output(), "\r[0/4 0%] ok 0  runn\x1b[K");
  columns = 14;
  size_t before = Output().size();
  console.OnTick(MakeCounts(4, 0, 0), kT0 + milliseconds(500), "");
  EXPECT_EQ(Output().substr(before), "\r[0/4 0%] ok 0\x1b[K");
}

// The reason the queue waits matters most: a cut line keeps it and cuts the
// counters instead.
TEST_F(ConsoleTest, ACutLineKeepsTheWaitingReason) {
  Console console = Make(Verbosity::kNormal, /*tty=*/true, /*width=*/60);
  console.OnBatchStart(MakeCounts(400, 0, 0), kT0);
  size_t before = Output().size();
  console.OnTick(MakeCounts(400, 0, 0), kT0 + milliseconds(500), "vram gpu0,1");
  EXPECT_EQ(Output().substr(before),
            "\r[0/400 0%] ok 0  running 0  -/s  ET  (waiting: vram gpu0,1)\x1b[K");
}

TEST_F(ConsoleTest, TerminalClearsTheLineBeforeTheSummary) {
  Console console = Make(Verbosity::kNormal, /*tty=*/true);
  console.OnBatchStart(MakeCounts(1, 0, 0), kT0);
  size_t before = Output().size();
  console.OnBatchEnd(MakeCounts(1, 1, 0), kT0 + milliseconds(400));
  EXPECT_EQ(Output().substr(before),
            "\r\x1b[Kheadroom: 1 job: 1 succeeded, 0 failed, 0 skipped, 0 interrupted in 0.4s\n");
}

TEST_F(ConsoleTest, QuietTerminalDrawsNoProgress) {
  Console console = Make(Verbosity::kQuiet, /*tty=*/true);
  console.OnBatchStart(MakeCounts(1, 0, 0), kT0);
  console.OnTick(MakeCounts(1, 0, 0), kT0 + milliseconds(500), "");
  console.OnJobEnd(MakeJob("clip"), MakeEnd(Outcome::kSucceeded), MakeCounts(1, 1, 0));
  console.OnBatchEnd(MakeCounts(1, 1, 0), kT0 + milliseconds(600));
  EXPECT_EQ(Output(), "");
}

}  // namespace
}  // namespace headroom

// What the user sees: each job's stdout on headroom's stdout, whole, when
// the job ends; headroom's own lines on stderr: one line per finished job
// and a summary when stderr is not a terminal, a live progress line on a
// terminal; -q and -v.
#include <sys/stat.h>

#include <algorithm>
#include <regex>

#include "harness.h"

namespace headroom::e2e {
namespace {

class ConsoleTest : public E2eTest {
 protected:
  // Prints to stdout and stderr; exits with the code after "fail" in its
  // input ("fail3" exits 3), else 0.
  std::string Job() {
    return Script("job.sh",
                  "echo \"out of $1\"\n"
                  "echo \"boom from $1\" >&2\n"
                  "case \"$1\" in fail*) exit \"${1#fail}\";; esac\n");
  }
};

bool Matches(const std::string& line, const std::string& pattern) {
  return std::regex_match(line, std::regex(pattern));
}

// Colour only where asked for, or on a terminal: a pipe gets none by
// default, --color always gets it even with NO_COLOR set, never none.
TEST_F(ConsoleTest, ColourWhenAskedForAndNeverInAPipeByDefault) {
  std::string job = Job();
  RunResult plain = Hr({"run", "-j1", "--", job, ":::", "a", "fail3"});
  EXPECT_EQ(plain.err.find("\x1b["), std::string::npos) << plain.err;
  RunOptions options = Opts();
  options.env.push_back("NO_COLOR=1");
  RunResult always = Hr({"run", "-j1", "--color", "always", "--", job, ":::", "a", "fail3"}, options);
  EXPECT_NE(always.err.find("\x1b[31mFAILED\x1b[0m: fail3"), std::string::npos) << always.err;
  EXPECT_NE(always.err.find("\x1b[32mSUCCESS\x1b[0m: a"), std::string::npos) << always.err;
  RunResult bad = Hr({"run", "--color", "sometimes", "--", "true", ":::", "a"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("'sometimes' is not a colour mode (expected auto, always or never)"),
            std::string::npos)
      << bad.err;
}

TEST_F(ConsoleTest, OneLinePerFinishedJobAndASummary) {
  std::string job = Job();
  RunResult r = Hr({"run", "-j1", "--", job, ":::", "a", "fail3", "b"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::vector<std::string> lines = r.ErrLines();
  ASSERT_GE(lines.size(), 5u) << r.err;
  EXPECT_TRUE(Matches(lines[0], R"(\[1/3\] SUCCESS: a \([0-9.hms]+\))")) << lines[0];
  std::smatch m;
  ASSERT_TRUE(
      std::regex_match(lines[1], m, std::regex(R"(\[2/3\] FAILED: fail3 \(exit 3\) log: (.+))")))
      << lines[1];
  std::string log = m[1];
  EXPECT_EQ(ReadFile(log), "boom from fail3\n") << "log: should name the job's stderr file";
  EXPECT_EQ(lines[2], "    boom from fail3") << "a failure's last stderr lines under it";
  EXPECT_TRUE(Matches(lines[3], R"(\[3/3\] SUCCESS: b \([0-9.hms]+\))")) << lines[3];
  EXPECT_TRUE(Matches(lines[4],
                      R"(headroom: 3 jobs: 2 succeeded, 1 failed, 0 skipped, 0 interrupted in .+)"))
      << lines[4];
  EXPECT_EQ(Grep(r.err, "\r").size(), 0u) << "progress redraws on a pipe";
  EXPECT_EQ(Grep(r.err, "ETA").size(), 0u);
  // The jobs' stdout, each job's whole, in the order they ended; their
  // stderr stays in their logs.
  EXPECT_EQ(r.out, "out of a\nout of fail3\nout of b\n");
  EXPECT_FALSE(Contains(r.err, "out of a")) << "job output on headroom's stderr";
}

// `headroom run -- echo ::: a b c | sort` prints exactly a, b and c; with
// --tag each line starts with the input and a tab; --no-job-output keeps
// them in the logs only.
TEST_F(ConsoleTest, JobOutputGoesToStdoutAsParallelGroupsIt) {
  RunResult r = Hr({"run", "-j2", "--", "echo", ":::", "a", "b", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> out = r.OutLines();
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<std::string>{"a", "b", "c"}));

  std::string two_lines = Script("two.sh", "echo \"1 $1\"; printf '2 %s' \"$1\"\n");
  r = Hr({"run", "-j1", "--tag", "--", two_lines, ":::", "x", "y"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "x\t1 x\nx\t2 x\ny\t1 y\ny\t2 y\n");

  r = Hr({"run", "--no-job-output", "--", "echo", ":::", "a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(Contains(r.err, "SUCCESS: a")) << r.err;
}

// -k: the jobs' output in input order, whatever order they end in (the
// slowest first here); skipped jobs pass their turn.
TEST_F(ConsoleTest, KeepOrderWritesOutputInInputOrder) {
  std::string job = Script("sleepy.sh", "sleep \"$1\"; echo \"$1\"\n");
  RunResult r = Hr({"run", "-j3", "-k", "--", job, ":::", "0.6", "0.1", "0.3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0.6\n0.1\n0.3\n");
  // Skipped jobs (their output exists) pass their turn.
  std::string out_job = Script("out.sh", "sleep \"$1\"; echo \"$1\"; : > \"$2\"\n");
  ASSERT_EQ(mkdir(Path("done").c_str(), 0755), 0);
  WriteFile(Path("done/0.2"), "");
  r = Hr({"run", "-j3", "-k", "--output-dir", Path("done"), "--skip-existing", "--", out_job,
          "{}", "{out}", ":::", "0.4", "0.2", "0.1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0.4\n0.1\n");
}

// --line-buffer: whole lines while the job still runs (here it waits for a
// file the test writes only after seeing its first line); a line written
// in two pieces is never split; the unfinished last line ends the job's.
TEST_F(ConsoleTest, LineBufferCopiesLinesWhileTheJobRuns) {
  std::string job = Script("slow.sh",
                           "echo \"first $1\"\n"
                           "printf 'par'\n"
                           "while [ ! -e \"" + Path("go") + "\" ]; do sleep 0.02; done\n"
                           "echo 'tial'\n"
                           "printf 'last'\n");
  auto p = Start({"run", "--line-buffer", "--tag", "--", job, ":::", "a"});
  ASSERT_TRUE(p->PumpUntil([&] { return Contains(p->out(), "a\tfirst a\n"); }, 10))
      << "no line before the job ended: " << p->out() << p->err();
  EXPECT_FALSE(Contains(p->out(), "par")) << "half a line copied";
  WriteFile(Path("go"), "");
  RunResult r = p->Wait(10);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "a\tfirst a\na\tpartial\na\tlast\n");

  r = Hr({"run", "--line-buffer", "-k", "--", "true", ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "cannot be used together")) << r.err;
}

// --stderr pass: each job's stderr, whole, on headroom's stderr (then its
// FAILED line has no tail: the lines were shown); stdout as before.
TEST_F(ConsoleTest, StderrPassCopiesEachJobsStderr) {
  std::string job = Job();
  RunResult r = Hr({"run", "-j1", "--stderr", "pass", "--", job, ":::", "a", "fail3"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "out of a\nout of fail3\n");
  std::vector<std::string> lines = r.ErrLines();
  ASSERT_GE(lines.size(), 4u) << r.err;
  EXPECT_EQ(lines[0], "boom from a");
  EXPECT_TRUE(Matches(lines[1], R"(\[1/2\] SUCCESS: a \(.+\))")) << lines[1];
  EXPECT_EQ(lines[2], "boom from fail3");
  EXPECT_TRUE(Matches(lines[3], R"(\[2/2\] FAILED: fail3 \(exit 3\) log: .+)")) << lines[3];
  EXPECT_EQ(Grep(r.err, "    boom").size(), 0u) << "the tail repeated: " << r.err;

  r = Hr({"run", "--stderr", "both", "--", "true", ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "'both' is not a stderr mode (expected pass or log)")) << r.err;
}

TEST_F(ConsoleTest, SummaryNamesTheOutputDir) {
  std::string job = Job();
  RunResult r = Hr({"run", "--output-dir", Path("results"), "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> out_lines = Grep(r.err, "output: ");
  ASSERT_EQ(out_lines.size(), 1u) << r.out;
  EXPECT_TRUE(Contains(out_lines[0], "results")) << out_lines[0];
  EXPECT_TRUE(Contains(r.err, "headroom: 1 job")) << r.out;
}

TEST_F(ConsoleTest, NoOutputLineWithoutOutputDir) {
  std::string job = Job();
  RunResult r = Hr({"run", "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(Grep(r.err, "output: ").size(), 0u) << r.out;
}

TEST_F(ConsoleTest, ExitCodeNamedInFailedLine) {
  std::string job = Job();
  RunResult r = Hr({"run", "--", job, ":::", "fail42"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Grep(r.err, "FAILED: fail42 (exit 42) log: ").size(), 1u) << r.out;
}

TEST_F(ConsoleTest, QuietPrintsNoSuccessLines) {
  std::string job = Job();
  RunResult r = Hr({"run", "-q", "--", job, ":::", "a", "b"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Grep(r.err, "SUCCESS").size(), 0u) << r.err;
  RunResult q2 = Hr({"run", "--quiet", "--", job, ":::", "a", "fail1"});
  EXPECT_EQ(q2.exit_code, 1);
  EXPECT_EQ(Grep(q2.err, "SUCCESS").size(), 0u) << q2.err;
}

TEST_F(ConsoleTest, VerbosePrintsEachStartWithItsCommand) {
  std::string job = Job();
  RunResult normal = Hr({"run", "-j1", "--", job, ":::", "a", "b"});
  EXPECT_EQ(normal.exit_code, 0);
  EXPECT_EQ(Grep(normal.err, "job.sh").size(), 0u) << normal.err;
  RunResult verbose = Hr({"run", "-v", "-j1", "--", job, ":::", "a", "b"});
  EXPECT_EQ(verbose.exit_code, 0) << verbose.err;
  std::vector<std::string> starts = Grep(verbose.err, "job.sh");
  ASSERT_EQ(starts.size(), 2u) << verbose.err;
  EXPECT_TRUE(Contains(starts[0], " a")) << starts[0];
  EXPECT_TRUE(Contains(starts[1], " b")) << starts[1];
  EXPECT_EQ(Grep(verbose.err, "SUCCESS").size(), 2u) << verbose.err;
  RunResult long_form = Hr({"run", "--verbose", "--", job, ":::", "a"});
  EXPECT_EQ(Grep(long_form.err, "job.sh").size(), 1u) << long_form.err;
}

TEST_F(ConsoleTest, TerminalGetsALiveProgressLine) {
  std::string job = Script("slow.sh", "sleep 0.3\n");
  RunOptions opts = Opts();
  opts.pty = true;
  RunResult r = Hr({"run", "-j1", "--", job, ":::", "a", "b", "c"}, opts);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "\r")) << r.out;
  EXPECT_TRUE(Contains(r.out, "/3 ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "ETA")) << r.out;
  EXPECT_TRUE(Contains(r.out, "3 succeeded")) << "no summary on a terminal: " << r.out;
  // At most 10 redraws a second (plus one after each printed line).
  int redraws = CountOccurrences(r.out, "ETA");
  int lines = CountOccurrences(r.out, "\n");
  EXPECT_LE(redraws, static_cast<int>(10 * r.seconds) + lines + 3)
      << redraws << " redraws in " << r.seconds << "s";
  EXPECT_GE(redraws, 2) << "progress line not refreshed while jobs ran";
  // done/total and percent, running, rate, ETA and elapsed time on one line
  // (failed and skipped only when there are some).
  bool complete = false;
  for (const std::string& segment : SplitLines(r.out)) {
    for (size_t at = segment.find('\r'); at != std::string::npos && !complete;
         at = segment.find('\r', at + 1)) {
      std::string line = segment.substr(at + 1, segment.find('\r', at + 1) - at - 1);
      complete = Contains(line, "/3 ") && Contains(line, "%]") && Contains(line, "running") &&
                 Contains(line, "/s") && Contains(line, "ETA") && Contains(line, "elapsed");
    }
  }
  EXPECT_TRUE(complete) << "no progress line with all of its fields: " << r.out;
}

// TERM=dumb: a terminal that cannot redraw a line gets plain lines.
TEST_F(ConsoleTest, ADumbTerminalGetsPlainLines) {
  RunOptions opts = Opts();
  opts.pty = true;
  opts.env.push_back("TERM=dumb");
  RunResult r = Hr({"run", "-j1", "--", "true", ":::", "a", "b"}, opts);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(Contains(r.out, "\x1b[K")) << r.out;
  EXPECT_TRUE(Contains(r.out, "[2/2] SUCCESS: b")) << r.out;
}

TEST_F(ConsoleTest, ProgressLineRedrawsAtMostTenTimesASecondEvenWithManyFailures) {
  RunOptions opts = Opts();
  opts.pty = true;
  std::vector<std::string> args = {"run", "-j2", "--", "/bin/false", ":::"};
  for (int i = 0; i < 60; ++i) args.push_back(std::to_string(i));
  RunResult r = Hr(args, opts);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  // On a terminal the label is coloured: "\x1b[31mFAILED\x1b[0m: 3".
  EXPECT_EQ(CountOccurrences(r.out, "FAILED\x1b[0m: "), 60) << "each failure is still printed";
  int redraws = CountOccurrences(r.out, "ETA");
  EXPECT_LE(redraws, static_cast<int>(10 * r.seconds) + 2)
      << redraws << " progress redraws in " << r.seconds << "s";
}

TEST_F(ConsoleTest, TerminalProgressShowsFailuresAndExitCode) {
  std::string job = Job();
  RunOptions opts = Opts();
  opts.pty = true;
  RunResult r = Hr({"run", "-j1", "--", job, ":::", "a", "fail2"}, opts);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "fail2")) << "failure not reported on the terminal: " << r.out;
  EXPECT_TRUE(Contains(r.out, "1 failed")) << r.out;
}

}  // namespace
}  // namespace headroom::e2e

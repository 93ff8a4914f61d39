// Running: -j, job environment (--env, thread limits, HEADROOM_JOB_NUMBER),
// process groups and stdin, --timeout with --kill-grace, --retries,
// --retry-delay, --delay, --halt, failure isolation, unknown commands.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "harness.h"

namespace headroom::e2e {
namespace {

using Calls = std::vector<std::vector<std::string>>;

class RunningTest : public E2eTest {
 protected:
  // A job that dumps its environment into env_<input>.
  std::string EnvScript() { return Script("env.sh", "env > \"" + Path("env_") + "$1\"\n"); }
  std::map<std::string, std::string> EnvOf(const std::string& input) {
    std::map<std::string, std::string> env;
    for (const std::string& line : SplitLines(ReadFile(Path("env_" + input)))) {
      size_t eq = line.find('=');
      if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return env;
  }
  // Start times (seconds since the epoch) appended by StampScript.
  std::vector<double> Stamps(const std::string& file) {
    std::vector<double> out;
    for (const std::string& line : SplitLines(ReadFile(Path(file)))) {
      out.push_back(std::atof(line.c_str()));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

int MaxOf(const std::string& text) {
  int best = 0;
  for (const std::string& line : SplitLines(text)) best = std::max(best, std::atoi(line.c_str()));
  return best;
}

std::string ConcurrencyBody(const std::string& dir) {
  // Each job holds a file in running/ while it runs and logs how many it saw.
  return "mkdir -p \"" + dir +
         "/running\"\n"
         "touch \"" +
         dir +
         "/running/$$\"\n"
         "ls \"" +
         dir + "/running\" | wc -l >> \"" + dir +
         "/counts\"\n"
         "sleep 0.2\n"
         "rm -f \"" +
         dir + "/running/$$\"\n";
}

TEST_F(RunningTest, JobsLimitsConcurrency) {
  std::string job = Script("conc.sh", ConcurrencyBody(dir_.path()));
  RunResult r = Hr({"run", "-j2", "--", job, ":::", "1", "2", "3", "4", "5", "6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string counts = ReadFile(Path("counts"));
  EXPECT_EQ(SplitLines(counts).size(), 6u);
  EXPECT_EQ(MaxOf(counts), 2) << counts;
}

TEST_F(RunningTest, OneJobAtATimeWithJ1) {
  std::string job = Script("conc.sh", ConcurrencyBody(dir_.path()));
  RunResult r = Hr({"run", "--jobs", "1", "--", job, ":::", "1", "2", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(MaxOf(ReadFile(Path("counts"))), 1);
}

TEST_F(RunningTest, JobsAutoRunsAtLeastOne) {
  std::string job = Script("conc.sh", ConcurrencyBody(dir_.path()));
  RunResult r = Hr({"run", "-j", "auto", "--", job, ":::", "1", "2", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int max = MaxOf(ReadFile(Path("counts")));
  EXPECT_GE(max, 1);
  EXPECT_LE(max, std::max(1L, cores - 2));
}

TEST_F(RunningTest, FailingJobDoesNotStopOthers) {
  std::string job = Script("job.sh", "echo \"$1\" >> \"" + Path("ran") +
                                         "\"\n"
                                         "[ \"$1\" != fail ]\n");
  RunResult r = Hr({"run", "-j1", "--", job, ":::", "a", "fail", "b", "c"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ReadFile(Path("ran")), "a\nfail\nb\nc\n");
  EXPECT_TRUE(Contains(r.err, "3 succeeded, 1 failed")) << r.out;
}

TEST_F(RunningTest, JobGetsEnvAndJobNumber) {
  std::string job = EnvScript();
  RunResult r = Hr({"run", "-j1", "--env", "FOO=bar baz", "--env", "EMPTY=", "--env", "EQ=a=b",
                    "--", job, ":::", "a", "b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto env = EnvOf("a");
  EXPECT_EQ(env["FOO"], "bar baz");
  EXPECT_TRUE(env.count("EMPTY")) << "EMPTY= not set";
  EXPECT_EQ(env["EQ"], "a=b");
  EXPECT_EQ(env["HEADROOM_JOB_NUMBER"], "1");
  EXPECT_EQ(env["HEADROOM_SLOT"], "1");
  EXPECT_EQ(EnvOf("b")["HEADROOM_JOB_NUMBER"], "2");
  // headroom's own environment is passed on.
  EXPECT_EQ(env["PATH"], std::getenv("PATH"));
}

TEST_F(RunningTest, EnvOverridesInheritedVariable) {
  std::string job = EnvScript();
  RunOptions opts = Opts();
  opts.env = {"FOO=inherited", "KEEP=yes"};
  RunResult r = Hr({"run", "--env", "FOO=option", "--", job, ":::", "a"}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(EnvOf("a")["FOO"], "option");
  EXPECT_EQ(EnvOf("a")["KEEP"], "yes");
}

const char* const kThreadVars[] = {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                   "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"};

TEST_F(RunningTest, ThreadsPerJobSetsThreadVariables) {
  std::string job = EnvScript();
  RunResult r = Hr({"run", "--threads-per-job", "3", "--", job, ":::", "a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto env = EnvOf("a");
  for (const char* var : kThreadVars) EXPECT_EQ(env[var], "3") << var;
}

TEST_F(RunningTest, ThreadsPerJobLeavesUserSettingAlone) {
  std::string job = EnvScript();
  RunOptions opts = Opts();
  opts.env = {"OMP_NUM_THREADS=7"};
  RunResult r = Hr({"run", "--threads-per-job", "3", "--", job, ":::", "a"}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto env = EnvOf("a");
  EXPECT_EQ(env["OMP_NUM_THREADS"], "7");
  EXPECT_EQ(env["OPENBLAS_NUM_THREADS"], "3");
  EXPECT_EQ(env["MKL_NUM_THREADS"], "3");
}

TEST_F(RunningTest, ThreadsPerJobAutoDividesCores) {
  std::string job = EnvScript();
  RunResult r = Hr({"run", "-j1", "--threads-per-job", "auto", "--", job, ":::", "a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int threads = std::atoi(EnvOf("a")["OMP_NUM_THREADS"].c_str());
  EXPECT_GE(threads, 1);
  EXPECT_LE(threads, cores);
}

TEST_F(RunningTest, ThreadsPerJobOffSetsNothing) {
  std::string job = EnvScript();
  RunResult r = Hr({"run", "--threads-per-job", "off", "--", job, ":::", "a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto env = EnvOf("a");
  for (const char* var : kThreadVars) EXPECT_EQ(env.count(var), 0u) << var;
}

TEST_F(RunningTest, JobHasItsOwnProcessGroupAndNullStdin) {
  std::string job = Script("grp.sh", "cat > \"" + Path("stdin_") +
                                         "$1\"\n"
                                         "echo $$ > \"" +
                                         Path("pid_") +
                                         "$1\"\n"
                                         "cut -d' ' -f5 /proc/$$/stat > \"" +
                                         Path("pgid_") + "$1\"\n");
  RunOptions opts = Opts();
  opts.stdin_text = "SECRET\n";
  RunResult r = Hr({"run", "--", job, ":::", "a"}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(FileExists(Path("stdin_a")));
  EXPECT_EQ(ReadFile(Path("stdin_a")), "");
  pid_t pid = ReadPid(Path("pid_a"));
  ASSERT_GT(pid, 0);
  EXPECT_EQ(ReadPid(Path("pgid_a")), pid) << "job is not its process group's leader";
}

TEST_F(RunningTest, JobInheritsNoDescriptorOfHeadroom) {
  // Baseline: what a process started by this harness inherits anyway.
  const std::string list = "ls /proc/self/fd > \"$0\"";
  RunResult base = RunProgram({"/bin/sh", "-c", list, Path("fds_direct")}, Opts());
  ASSERT_EQ(base.exit_code, 0) << base.err;
  RunResult r = Hr({"run", "--output-dir", Path("out"), "--", "/bin/sh", "-c", list, "{}",
                    ":::", Path("fds_job")});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(ReadFile(Path("fds_job")), ReadFile(Path("fds_direct")))
      << "headroom leaked descriptors (log files, pipes, signalfd...) into the job";
}

TEST_F(RunningTest, UnknownCommandIsAnInputErrorAndNothingRuns) {
  RunResult r = Hr({"run", "--", "no-such-program-e2e", "{}", ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  ASSERT_EQ(r.ErrLines().size(), 1u) << r.err;
  EXPECT_TRUE(StartsWith(r.err, "headroom: error: ")) << r.err;
  EXPECT_TRUE(Contains(r.err, "no-such-program-e2e")) << r.err;
  EXPECT_EQ(Grep(r.err, "FAILED").size(), 0u) << r.out;
}

TEST_F(RunningTest, NonExecutableCommandIsAnInputError) {
  WriteFile(Path("notexec.sh"), "#!/bin/sh\ntouch " + Path("ran") + "\n");
  RunResult r = Hr({"run", "--", Path("notexec.sh"), ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(StartsWith(r.err, "headroom: error: ")) << r.err;
  EXPECT_TRUE(Contains(r.err, "notexec.sh")) << r.err;
  EXPECT_FALSE(FileExists(Path("ran")));
}

TEST_F(RunningTest, UnknownCommandInJobsFileStopsTheBatchBeforeAnyJob) {
  std::string rec = RecorderScript();
  WriteFile(Path("jobs.jsonl"),
            "{\"input\": \"a\", \"cmd\": [\"" + rec +
                "\", \"{}\"]}\n"
                "{\"input\": \"b\", \"cmd\": [\"missing-tool-e2e\", \"{}\"]}\n");
  RunResult r = Hr({"run", "--jobs-file", Path("jobs.jsonl"), "--", rec});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(Contains(r.err, "missing-tool-e2e")) << r.err;
  EXPECT_FALSE(FileExists(Path("record"))) << "job a ran before the input error";
}

// A job that ignores SIGTERM (and so does its grandchild, which inherits the
// ignored disposition) and writes both pids.
std::string StubbornBody(const std::string& dir) {
  return "trap '' TERM\n"
         "sleep 30 &\n"
         "echo $! > \"" +
         dir +
         "/gc_$1\"\n"
         "echo $$ > \"" +
         dir +
         "/pid_$1\"\n"
         "sleep 30\n";
}

TEST_F(RunningTest, TimeoutKillsJobIgnoringSigtermAndItsGrandchild) {
  std::string job = Script("stubborn.sh", StubbornBody(dir_.path()));
  RunResult r = Hr({"run", "--timeout", "0.3s", "--kill-grace", "0.2s", "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_LT(r.seconds, 3.0);
  EXPECT_GE(r.seconds, 0.45) << "SIGKILL came before --kill-grace";
  pid_t pid = ReadPid(Path("pid_a"));
  pid_t gc = ReadPid(Path("gc_a"));
  ASSERT_GT(pid, 0);
  ASSERT_GT(gc, 0);
  EXPECT_TRUE(WaitPidGone(pid, 0.5)) << "job " << pid << " outlived headroom";
  EXPECT_TRUE(WaitPidGone(gc, 0.5)) << "grandchild " << gc << " outlived headroom";
  std::vector<std::string> lines = Grep(r.err, "TIMEOUT: a");
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_TRUE(StartsWith(lines[0], "[1/1] TIMEOUT: a (after ")) << lines[0];
  EXPECT_TRUE(Contains(lines[0], " log: ")) << lines[0];
}

TEST_F(RunningTest, TimeoutOnlyHitsSlowJobs) {
  std::string job = Script("sleepy.sh", "case \"$1\" in slow) exec sleep 5;; esac\n");
  RunResult r = Hr({"run", "-j2", "--timeout", "0.3s", "--kill-grace", "0.2s", "--", job,
                    ":::", "fast", "slow"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_LT(r.seconds, 3.0);
  EXPECT_EQ(Grep(r.err, "SUCCESS: fast").size(), 1u) << r.out;
  EXPECT_EQ(Grep(r.err, "TIMEOUT: slow").size(), 1u) << r.out;
}

// Fails on its first attempt, succeeds from the <n>th; logs each start time.
std::string FlakyBody(const std::string& dir, int succeed_at) {
  return "c=\"" + dir +
         "/count_$1\"\n"
         "n=$(cat \"$c\" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > \"$c\"\n"
         "date +%s.%N >> \"" +
         dir +
         "/times_$1\"\n"
         "[ $n -ge " +
         std::to_string(succeed_at) + " ]\n";
}

TEST_F(RunningTest, RetriesRerunAFailedJob) {
  std::string job = Script("flaky.sh", FlakyBody(dir_.path(), 2));
  RunResult r = Hr({"run", "--retries", "1", "--retry-delay", "0", "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(ReadFile(Path("count_a")), "2\n");
  EXPECT_EQ(Grep(r.err, "SUCCESS: a").size(), 1u) << r.out;
}

TEST_F(RunningTest, WithoutRetriesAFlakyJobFails) {
  std::string job = Script("flaky.sh", FlakyBody(dir_.path(), 2));
  RunResult r = Hr({"run", "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(ReadFile(Path("count_a")), "1\n");
}

TEST_F(RunningTest, RetriesGiveUpAfterN) {
  std::string job = Script("flaky.sh", FlakyBody(dir_.path(), 100));
  RunResult r = Hr({"run", "--retries", "2", "--retry-delay", "0", "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(ReadFile(Path("count_a")), "3\n");
  EXPECT_EQ(Grep(r.err, "FAILED: a").size(), 1u) << "one FAILED line per job, not per attempt\n"
                                                 << r.out;
}

TEST_F(RunningTest, RetryDelayWaitsBetweenAttempts) {
  std::string job = Script("flaky.sh", FlakyBody(dir_.path(), 2));
  RunResult r = Hr({"run", "--retries", "1", "--retry-delay", "0.5s", "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<double> t = Stamps("times_a");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_GE(t[1] - t[0], 0.45);
  EXPECT_LT(t[1] - t[0], 2.0);
}

TEST_F(RunningTest, DelaySpacesJobStarts) {
  std::string job = Script("stamp.sh", "date +%s.%N >> \"" + Path("starts") + "\"\n");
  RunResult r = Hr({"run", "-j3", "--delay", "300ms", "--", job, ":::", "a", "b", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<double> t = Stamps("starts");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_GE(t[1] - t[0], 0.25);
  EXPECT_GE(t[2] - t[1], 0.25);
  EXPECT_LT(r.seconds, 3.0);
}

TEST_F(RunningTest, HaltSoonStartsNothingAfterTheFirstFailure) {
  std::string job = Script("job.sh", "echo \"$1\" >> \"" + Path("ran") +
                                         "\"\n"
                                         "[ \"$1\" != fail ]\n");
  RunResult r = Hr({"run", "-j1", "--halt", "soon", "--", job, ":::", "ok", "fail", "b", "c"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ReadFile(Path("ran")), "ok\nfail\n");
}

TEST_F(RunningTest, HaltSoonLetsRunningJobsFinish) {
  std::string job = Script("job.sh",
                           "case \"$1\" in\n"
                           "  slow) sleep 0.5; echo done > \"" +
                               Path("slow_done") +
                               "\";;\n"
                               "  fail) sleep 0.1; exit 1;;\n"
                               "  *) touch \"" +
                               Path("ran_") +
                               "$1\";;\n"
                               "esac\n");
  RunResult r = Hr({"run", "-j2", "--halt", "soon", "--", job, ":::", "slow", "fail", "x", "y"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(FileExists(Path("slow_done"))) << "--halt soon stopped a running job";
  EXPECT_FALSE(FileExists(Path("ran_x")));
  EXPECT_FALSE(FileExists(Path("ran_y")));
}

TEST_F(RunningTest, HaltNowStopsRunningJobs) {
  std::string job = Script("job.sh",
                           "case \"$1\" in\n"
                           "  slow) echo $$ > \"" +
                               Path("pid_slow") +
                               "\";"
                               " exec sleep 10;;\n"
                               "  fail) sleep 0.2; exit 1;;\n"
                               "  *) touch \"" +
                               Path("ran_") +
                               "$1\";;\n"
                               "esac\n");
  RunResult r = Hr({"run", "-j2", "--halt", "now", "--kill-grace", "0.5s", "--", job, ":::", "slow",
                    "fail", "x"});
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_LT(r.seconds, 3.0);
  pid_t pid = ReadPid(Path("pid_slow"));
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(WaitPidGone(pid, 0.5));
  EXPECT_FALSE(FileExists(Path("ran_x")));
}

TEST_F(RunningTest, HaltNeverRunsEverything) {
  std::string job = Script("job.sh", "echo \"$1\" >> \"" + Path("ran") +
                                         "\"\n"
                                         "[ \"$1\" != fail ]\n");
  RunResult r = Hr({"run", "-j1", "--halt", "never", "--", job, ":::", "fail", "b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(ReadFile(Path("ran")), "fail\nb\n");
}

TEST_F(RunningTest, JobKilledBySignalIsAFailure) {
  std::string job = Script("selfkill.sh", "kill -SEGV $$\n");
  RunResult r = Hr({"run", "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Grep(r.err, "FAILED: a (killed by SIGSEGV)").size(), 1u) << r.out;
}

// A job killed by a SIGKILL headroom did not send, with no sign that it ran
// out of memory (the kernel's OOM-kill count did not move), failed: it is
// not retried 30 s apart as if it needed more room.
TEST_F(RunningTest, ASigkillWithoutTheOomKillerIsAFailureNotARetry) {
  std::string job = Script("killed.sh", "kill -KILL $$\n");
  double start = Now();
  RunResult r = Hr({"run", "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(Grep(r.err, "FAILED: a (killed by SIGKILL)").size(), 1u) << r.out;
  EXPECT_TRUE(Grep(r.err, "RETRY").empty()) << r.out;
  EXPECT_LT(Now() - start, 10) << "retried as out of memory";
}

// A full disk holds the batch even with nothing running: it waits, says
// why, and starts nothing (Ctrl-C ends it) instead of failing job after job.
TEST_F(RunningTest, AFullDiskHoldsTheBatchWithNothingRunning) {
  MakeDirs(Path("out"));
  auto p = Start({"run", "--min-free-disk", "1E", "--output-dir", Path("out"), "--", "touch",
                  Path("ran"), ":::", "a"});
  std::string status;
  double deadline = Now() + 20;
  while (Now() < deadline) {
    RunResult s = Hr({"status", "--json"});
    status = s.out;
    if (Contains(status, "\"waiting\":\"disk\"")) break;
    p->PumpFor(0.05);
  }
  EXPECT_TRUE(Contains(status, "\"waiting\":\"disk\"")) << status;
  p->Signal(SIGINT);
  RunResult r = p->Wait(15);
  EXPECT_EQ(r.exit_code, 130) << r.out << r.err;
  EXPECT_FALSE(FileExists(Path("ran"))) << "a job started although the disk is full";
}

}  // namespace
}  // namespace headroom::e2e

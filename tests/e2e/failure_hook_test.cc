// --on-failure: the hook runs once per job that failed for good, with the
// HEADROOM_JOB_* environment; without a shell unless --shell; it never
// blocks the batch nor changes its exit status.
#include <map>

#include "harness.h"

namespace headroom::e2e {
namespace {

class FailureHookTest : public E2eTest {
 protected:
  // A hook that writes its HEADROOM_JOB_* variables and arguments to
  // hook_<job name>.
  std::string EnvHook() {
    return Script("hook.sh", "{ env | grep '^HEADROOM_JOB_'; echo \"ARGS=$*\"; } > \"" +
                                 Path("hook_") + "$HEADROOM_JOB_NAME\"\n");
  }
  std::map<std::string, std::string> HookEnv(const std::string& job) {
    std::map<std::string, std::string> env;
    for (const std::string& line : SplitLines(ReadFile(Path("hook_" + job)))) {
      size_t eq = line.find('=');
      if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return env;
  }
};

TEST_F(FailureHookTest, RunsForEachFailedJobWithItsEnvironment) {
  std::string hook = EnvHook();
  RunResult r = Hr({"run", "-j2", "--on-failure", hook + " 'one arg' two", "--", "sh", "-c",
                    "exit $0", ":::", "0", "3"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(FileExists(Path("hook_0")));  // it succeeded
  std::map<std::string, std::string> env = HookEnv("3");
  EXPECT_EQ(env["HEADROOM_JOB_NAME"], "3");
  EXPECT_EQ(env["HEADROOM_JOB_INPUT"], "3");
  EXPECT_EQ(env["HEADROOM_JOB_NUMBER"], "2");
  EXPECT_EQ(env["HEADROOM_JOB_EXIT"], "3");
  EXPECT_EQ(env["HEADROOM_JOB_OUTCOME"], "FAILED");
  EXPECT_EQ(env["HEADROOM_JOB_ATTEMPTS"], "1");
  EXPECT_EQ(env["HEADROOM_JOB_LOG"], JobsLogDir() + "/2_3.err");
  EXPECT_EQ(env["HEADROOM_JOB_STDOUT_LOG"], JobsLogDir() + "/2_3.out");
  EXPECT_EQ(env["ARGS"], "one arg two");
  EXPECT_FALSE(Contains(r.err, "warning")) << r.out;
}

TEST_F(FailureHookTest, OnlyAfterTheLastRetryAndForTimeouts) {
  std::string hook = EnvHook();
  RunResult r =
      Hr({"run", "-j2", "--retries", "1", "--retry-delay", "0", "--timeout", "0.3s", "--on-failure",
          hook, "--", "sh", "-c", "[ $0 = slow ] && sleep 5; exit 4", ":::", "fails", "slow"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::map<std::string, std::string> env = HookEnv("fails");
  EXPECT_EQ(env["HEADROOM_JOB_ATTEMPTS"], "2");
  EXPECT_EQ(env["HEADROOM_JOB_EXIT"], "4");
  EXPECT_EQ(env["HEADROOM_JOB_LOG"], JobsLogDir() + "/1_fails.2.err");
  env = HookEnv("slow");
  EXPECT_EQ(env["HEADROOM_JOB_OUTCOME"], "TIMEOUT");
  EXPECT_EQ(env["HEADROOM_JOB_EXIT"], "SIGTERM");
}

TEST_F(FailureHookTest, ShellRunsTheHookWithSh) {
  RunResult r =
      Hr({"run", "--shell", "--on-failure",
          "echo \"$HEADROOM_JOB_NAME:$HEADROOM_JOB_EXIT\" | tr a-z A-Z >> '" + Path("calls") + "'",
          "--", "exit 2", ":::", "a b"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ReadFile(Path("calls")), "A B:2\n");
}

TEST_F(FailureHookTest, AFailingHookIsAWarningOnly) {
  std::string hook = Script("hook.sh", "echo 'cannot reach the pager'; exit 7\n");
  RunResult r = Hr({"run", "--on-failure", hook, "--", "false", ":::", "x"});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // the job's failure, not the hook's
  std::string log = JobsLogDir() + "/1_x.on-failure.log";
  // Warnings go where the console prints (stdout) and to the main log.
  EXPECT_TRUE(
      Contains(r.err, "headroom: warning: --on-failure for x: exit 7 (output: " + log + ")\n"))
      << r.out;
  EXPECT_EQ(ReadFile(log), "cannot reach the pager\n");
  ASSERT_EQ(LogFiles("processing_").size(), 1u);
  EXPECT_TRUE(Contains(ReadFile(LogFiles("processing_")[0]), "--on-failure for x: exit 7"));

  r = Hr({"run", "--on-failure", hook, "--", "true", ":::", "y"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(Contains(r.err, "on-failure")) << r.out;
}

// The hook of job 1 waits for a file that job 2 writes: with -j1 the batch
// ends only if the hook does not hold up the queue.
TEST_F(FailureHookTest, DoesNotBlockTheBatch) {
  std::string hook = Script("hook.sh", "while [ ! -e \"" + Path("go") +
                                           "\" ]; do sleep 0.01; done\n"
                                           "touch \"" +
                                           Path("hook_done") + "\"\n");
  std::string job = Script("job.sh", "[ \"$1\" = 1 ] && exit 1\ntouch \"" + Path("go") + "\"\n");
  RunResult r = Hr({"run", "-j1", "--on-failure", hook, "--", job, ":::", "1", "2"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(FileExists(Path("hook_done")));  // waited for at the end
  EXPECT_FALSE(Contains(r.err, "warning")) << r.out;
}

TEST_F(FailureHookTest, UnknownProgramIsAUsageError) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "--on-failure", "no-such-hook-program --x", "--", rec, ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "headroom: error: --on-failure: command not found: no-such-hook-program (not on "
            "PATH)\n");
  r = Hr({"run", "--on-failure", "notify 'oops", "--", rec, ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "headroom: error: --on-failure: 'notify 'oops': a quote is left open\n");
  EXPECT_TRUE(Recorded().empty());
}

}  // namespace
}  // namespace headroom::e2e

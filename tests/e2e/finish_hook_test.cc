// --on-finish: the hook runs once when the batch has ended, with the
// HEADROOM_BATCH_* environment, before headroom exits; a failing hook is a
// warning and never changes the exit code.
#include <map>

#include "harness.h"

namespace headroom::e2e {
namespace {

class FinishHookTest : public E2eTest {
 protected:
  // A hook that writes its HEADROOM_BATCH_* variables and arguments to
  // `finished`.
  std::string EnvHook() {
    return Script("hook.sh", "{ env | grep '^HEADROOM_BATCH_'; echo \"ARGS=$*\"; } > \"" +
                                 Path("finished") + "\"\n");
  }
  std::map<std::string, std::string> HookEnv() {
    std::map<std::string, std::string> env;
    for (const std::string& line : SplitLines(ReadFile(Path("finished")))) {
      size_t eq = line.find('=');
      if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return env;
  }
};

TEST_F(FinishHookTest, RunsOnceAtTheEndWithTheBatchsFigures) {
  RunResult r = Hr({"run", "-j2", "--report", Path("report.json"), "--on-finish",
                    EnvHook() + " 'batch done'", "--", "sh", "-c", "exit $0", ":::", "0", "3",
                    "0"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::map<std::string, std::string> env = HookEnv();
  EXPECT_EQ(env["HEADROOM_BATCH_ID"], "1");
  EXPECT_EQ(env["HEADROOM_BATCH_EXIT_CODE"], "1");
  EXPECT_EQ(env["HEADROOM_BATCH_TOTAL"], "3");
  EXPECT_EQ(env["HEADROOM_BATCH_SUCCEEDED"], "2");
  EXPECT_EQ(env["HEADROOM_BATCH_FAILED"], "1");
  EXPECT_EQ(env["HEADROOM_BATCH_SKIPPED"], "0");
  EXPECT_EQ(env["HEADROOM_BATCH_INTERRUPTED"], "0");
  EXPECT_EQ(env["HEADROOM_BATCH_REPORT"], Path("report.json"));
  EXPECT_FALSE(env["HEADROOM_BATCH_WALL_SECONDS"].empty());
  EXPECT_FALSE(env["HEADROOM_BATCH_LOG_DIR"].empty());
  EXPECT_EQ(env["ARGS"], "batch done");
  EXPECT_TRUE(FileExists(Path("report.json"))) << "the report is written before the hook runs";
  EXPECT_FALSE(Contains(r.err, "warning")) << r.err;
}

TEST_F(FinishHookTest, AFailingHookIsAWarningAndTheExitCodeStays) {
  std::string hook = Script("hook.sh", "echo 'no network' >&2\nexit 4\n");
  RunResult r = Hr({"run", "--on-finish", hook, "--", "true", ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.err, "warning: --on-finish: exit 4 (output: ")) << r.err;
}

TEST_F(FinishHookTest, AMissingProgramIsAnErrorBeforeAnythingRuns) {
  RunResult r = Hr({"run", "--on-finish", "no-such-notifier --now", "--", "touch",
                    Path("ran"), ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "--on-finish")) << r.err;
  EXPECT_FALSE(FileExists(Path("ran")));
}

}  // namespace
}  // namespace headroom::e2e

// headroom log: a job's output from its log, by input, name or #N, and
// followed while the job runs.
#include "harness.h"

namespace headroom::e2e {
namespace {

class LogTest : public E2eTest {};

TEST_F(LogTest, PrintsAJobsStdoutOrStderrByInputOrNumber) {
  std::string job = Script("job.sh", "echo \"out $1\"; echo \"err $1\" >&2\n");
  ASSERT_EQ(Hr({"run", "--", job, ":::", "a", "b"}).exit_code, 0);
  RunResult r = Hr({"log", "b"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "out b\n");
  r = Hr({"log", "#1", "--stderr"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "err a\n");
  r = Hr({"log", "c"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "batch 1 has no job 'c'")) << r.err;
  r = Hr({"log"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "log: which job?")) << r.err;
}

// -f prints what the job writes while it runs and returns when it ends.
TEST_F(LogTest, FollowCopiesOutputUntilTheJobEnds) {
  std::string job = Script("slow.sh", "echo first\n"
                                      "while [ ! -e \"" + Path("go") + "\" ]; do sleep 0.02; done\n"
                                      "echo second\n");
  auto batch = Start({"run", "--", job, ":::", "a"});
  // The journal has the job's attempt once its first commit is done.
  ASSERT_TRUE(batch->PumpUntil([&] { return Hr({"log", "a"}).out == "first\n"; }, 10))
      << batch->err();
  auto follow = Start({"log", "-f", "a"});
  ASSERT_TRUE(follow->PumpUntil([&] { return Contains(follow->out(), "first\n"); }, 10))
      << follow->out() << follow->err();
  EXPECT_TRUE(follow->Running()) << "-f returned while the job runs";
  WriteFile(Path("go"), "");
  EXPECT_EQ(batch->Wait(10).exit_code, 0);
  RunResult r = follow->Wait(10);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "first\nsecond\n");
}

TEST_F(LogTest, AJobThatHasNotStartedIsExitOne) {
  std::string job = Script("gate.sh", "while [ ! -e \"" + Path("go") + "\" ]; do sleep 0.02; done\n");
  auto batch = Start({"run", "-j1", "--", job, ":::", "a", "b"});
  ASSERT_TRUE(batch->PumpUntil([&] { return Hr({"log", "a"}).exit_code == 0; }, 10));
  RunResult r = Hr({"log", "b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "job b has not started yet (-f waits for it)")) << r.err;
  WriteFile(Path("go"), "");
  EXPECT_EQ(batch->Wait(10).exit_code, 0);
}

}  // namespace
}  // namespace headroom::e2e

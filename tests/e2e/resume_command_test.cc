// headroom resume: continues a batch with the command line it was started
// with, from any directory, feeding back inputs it read from stdin.
#include <sys/stat.h>

#include "harness.h"

namespace headroom::e2e {
namespace {

class ResumeCommandTest : public E2eTest {
 protected:
  // Fails for input "bad" until <dir>/fixed exists; records every run.
  std::string FlakyJob() {
    return Script("flaky.sh", "echo \"$1\" >> \"" + Path("ran") + "\"\n" +
                                  "if [ \"$1\" = bad ] && [ ! -e \"" + Path("fixed") +
                                  "\" ]; then exit 3; fi\n");
  }
};

TEST_F(ResumeCommandTest, ResumeFailedRerunsOnlyTheFailedJobsFromAnotherDirectory) {
  std::string job = FlakyJob();
  RunResult r = Hr({"run", "-j1", "--", job, ":::", "a", "bad", "c"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  WriteFile(Path("fixed"), "");
  WriteFile(Path("ran"), "");
  ASSERT_EQ(mkdir(Path("elsewhere").c_str(), 0755), 0);
  RunOptions options = Opts();
  options.cwd = Path("elsewhere");
  r = Hr({"resume", "--failed", "--state-dir", Path(".headroom")}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.err, "headroom: resuming batch 1 in ")) << r.err;
  EXPECT_EQ(ReadFile(Path("ran")), "bad\n") << "only the failed job runs again";
  // Nothing left: a second resume runs nothing and succeeds.
  r = Hr({"resume"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Path("ran")), "bad\n");
}

TEST_F(ResumeCommandTest, InputsReadFromStdinComeFromTheJournal) {
  std::string job = FlakyJob();
  RunOptions options = Opts();
  options.stdin_text = "a\nbad\nc d\n";
  RunResult r = Hr({"run", "-j1", "--", job}, options);
  ASSERT_EQ(r.exit_code, 1) << r.err;
  WriteFile(Path("fixed"), "");
  WriteFile(Path("ran"), "");
  r = Hr({"resume", "1"});  // failed jobs are not run again without --failed
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ReadFile(Path("ran")), "") << r.err;
  r = Hr({"resume", "1", "--failed"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Path("ran")), "bad\n") << r.err;
  r = Hr({"status"});
  EXPECT_TRUE(Contains(r.out, "jobs: 3 (3 succeeded)")) << r.out;
}

TEST_F(ResumeCommandTest, BadUsageAndMissingBatchesAreOneLine) {
  RunResult r = Hr({"resume", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "resume: 'x' is not a batch id")) << r.err;
  r = Hr({"resume"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "no such file")) << r.err;
}

}  // namespace
}  // namespace headroom::e2e

// `headroom completions bash` in a real bash: the script loads, and its
// function completes subcommands, options and option values.
#include "harness.h"

namespace headroom::e2e {
namespace {

class CompletionsTest : public E2eTest {
 protected:
  // What bash completes for the words `line` (the last one being completed).
  std::string Complete(const std::string& line) {
    RunResult script = Hr({"completions", "bash"});
    EXPECT_EQ(script.exit_code, 0) << script.err;
    WriteFile(Path("headroom.bash"), script.out);
    std::string program = "source '" + Path("headroom.bash") + "'\n"
                          "COMP_WORDS=(" + line + ")\n"
                          "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                          "_headroom\n"
                          "((${#COMPREPLY[@]})) || exit 0\n"
                          "printf '%s\\n' \"${COMPREPLY[@]}\" | sort -u | tr '\\n' ' '\n";
    Process bash({"/bin/bash", "--norc", "-c", program}, Opts());
    RunResult r = bash.Wait(30);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
};

TEST_F(CompletionsTest, BashCompletesSubcommandsOptionsAndTheirValues) {
  EXPECT_EQ(Complete("headroom st"), "status ");
  EXPECT_EQ(Complete("headroom run --colo"), "--color ");
  EXPECT_EQ(Complete("headroom run --color a"), "always auto ");
  EXPECT_EQ(Complete("headroom status --wa"), "--watch ");
  EXPECT_EQ(Complete("headroom gpus --skip-ex"), "") << "an option of run only";
  EXPECT_EQ(Complete("headroom run -j 2 -- gzi"), "gzip ") << "COMMAND: a program";
}

TEST_F(CompletionsTest, AnUnknownShellIsExitTwo) {
  RunResult r = Hr({"completions", "powershell"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "'powershell' is not a shell headroom completes for")) << r.err;
}

}  // namespace
}  // namespace headroom::e2e

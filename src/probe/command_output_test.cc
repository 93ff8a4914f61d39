#include "probe/command_output.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace headroom {
namespace {

TEST(CommandOutputTest, CapturesStdoutWithoutAShell) {
  std::string out;
  Status status = CommandOutput({"echo", "a  b", "$HOME"}, Millis(5000), &out);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(out, "a  b $HOME\n");
}

TEST(CommandOutputTest, StderrIsNotCaptured) {
  std::string out;
  Status status = CommandOutput({"sh", "-c", "echo out; echo err >&2"}, Millis(5000), &out);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(out, "out\n");
}

TEST(CommandOutputTest, NonZeroExitFailsButKeepsTheOutput) {
  std::string out;
  Status status = CommandOutput({"sh", "-c", "echo no driver; exit 9"}, Millis(5000), &out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "sh: exited with status 9");
  EXPECT_EQ(out, "no driver\n");
}

TEST(CommandOutputTest, MissingProgramFailsNamingIt) {
  std::string out;
  Status status = CommandOutput({"headroom-no-such-program"}, Millis(5000), &out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message().rfind("headroom-no-such-program: ", 0), 0u) << status.message();
}

TEST(CommandOutputTest, HungProgramIsKilledAtTheTimeout) {
  std::string out;
  auto start = std::chrono::steady_clock::now();
  Status status = CommandOutput({"sleep", "10"}, Millis(50), &out);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "sleep: timed out");
  EXPECT_LT(took, std::chrono::seconds(5));
}

}  // namespace
}  // namespace headroom

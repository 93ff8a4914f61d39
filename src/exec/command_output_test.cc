#include "exec/command_output.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>
#include <string>

namespace headroom {
namespace {

class CommandOutputTest : public ::testing::Test {
 protected:
  ProcessSet processes_;
};

TEST_F(CommandOutputTest, CapturesStdoutWithoutAShell) {
  std::string out;
  Status status = CommandOutput(&processes_, {"echo", "a  b", "$HOME"}, Millis(5000), &out);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(out, "a  b $HOME\n");
}

TEST_F(CommandOutputTest, StderrIsNotCaptured) {
  std::string out;
  Status status = CommandOutput(&processes_, {"sh", "-c", "echo out; echo err >&2"}, Millis(5000), &out);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(out, "out\n");
}

TEST_F(CommandOutputTest, NonZeroExitFailsButKeepsTheOutput) {
  std::string out;
  Status status = CommandOutput(&processes_, {"sh", "-c", "echo no driver; exit 9"}, Millis(5000), &out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "sh: exited with status 9");
  EXPECT_EQ(out, "no driver\n");
}

TEST_F(CommandOutputTest, MissingProgramFailsNamingIt) {
  std::string out;
  Status status = CommandOutput(&processes_, {"headroom-no-such-program"}, Millis(5000), &out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message().rfind("headroom-no-such-program: ", 0), 0u) << status.message();
}

TEST_F(CommandOutputTest, HungProgramIsKilledAtTheTimeout) {
  std::string out;
  auto start = std::chrono::steady_clock::now();
  Status status = CommandOutput(&processes_, {"sleep", "10"}, Millis(50), &out);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "sleep: timed out");
  EXPECT_LT(took, std::chrono::seconds(5));
}

// The helper's exit reaches it even while the batch's reaper waits on
// another thread: the ProcessSet hands each exit to its owner.
TEST_F(CommandOutputTest, TheExitStatusIsNotLostToTheJobsReaper) {
  std::atomic<bool> stop{false};
  std::thread reaper([&] {
    while (!stop) {
      std::vector<ProcessExit> exits;
      int interrupt = 0;
      processes_.Wait(Millis(5), &exits, &interrupt);
      EXPECT_TRUE(exits.empty()) << "a helper's exit was handed to the jobs' owner";
    }
  });
  for (int i = 0; i < 20; ++i) {
    std::string out;
    Status status = CommandOutput(&processes_, {"sh", "-c", "echo x; exit 3"}, Millis(5000), &out);
    EXPECT_EQ(status.message(), "sh: exited with status 3");
  }
  stop = true;
  reaper.join();
}

}  // namespace
}  // namespace headroom

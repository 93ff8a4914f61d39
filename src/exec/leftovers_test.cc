#include "exec/leftovers.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "exec/exec_test_util.h"

namespace headroom {
namespace {

// A child running `script` under /bin/sh with `env` as its whole environment.
pid_t SpawnWithEnv(const std::string& script, const std::vector<std::string>& env) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> envp;
    for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    execle("/bin/sh", "sh", "-c", script.c_str(), nullptr, envp.data());
    _exit(127);
  }
  return pid;
}

// Waits until /proc/<pid>/environ shows the exec's environment.
void WaitForExec(pid_t pid, const std::string& tag) {
  for (int i = 0; i < 500; ++i) {
    std::vector<pid_t> found = FindTagged(tag);
    if (std::find(found.begin(), found.end(), pid) != found.end()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

bool Exited(pid_t pid, int* status) { return waitpid(pid, status, WNOHANG) == pid; }

TEST(LeftoversTest, BatchTagIsTheAbsoluteStateDirAndTheBatch) {
  std::string cwd = std::filesystem::current_path().string();
  EXPECT_EQ(BatchTag(".", 3), cwd + "#3");
  EXPECT_EQ(BatchTag("/no/such/dir", 12), "/no/such/dir#12");
}

// Waits (bounded) until `tag` is on at least `count` processes.
std::vector<pid_t> WaitForTagged(const std::string& tag, size_t count) {
  std::vector<pid_t> found;
  EXPECT_TRUE(exec_test::Eventually([&] { return (found = FindTagged(tag)).size() >= count; },
                                    std::chrono::seconds(10)))
      << found.size() << " of " << count << " tagged processes";
  return found;
}

TEST(LeftoversTest, FindsTheTaggedProcessesAndStopsThem) {
  std::string tag = "/tmp/state-" + std::to_string(getpid()) + "#1";
  std::string entry = std::string(kBatchTagVariable) + "=" + tag;
  pid_t polite = SpawnWithEnv("exec sleep 30", {"PATH=/usr/bin:/bin", entry});
  pid_t stubborn =
      SpawnWithEnv("trap '' TERM; sleep 30 & wait; sleep 30", {"PATH=/usr/bin:/bin", entry});
  pid_t other_batch =
      SpawnWithEnv("exec sleep 30", {"PATH=/usr/bin:/bin", entry + "2"});  // "#12"
  pid_t untagged = SpawnWithEnv("exec sleep 30", {"PATH=/usr/bin:/bin"});
  WaitForExec(polite, tag);
  WaitForExec(stubborn, tag);
  // The stubborn shell's `sleep` inherits the tag too: wait until it exists.
  std::vector<pid_t> found = WaitForTagged(tag, 3);
  EXPECT_TRUE(std::find(found.begin(), found.end(), polite) != found.end());
  EXPECT_TRUE(std::find(found.begin(), found.end(), stubborn) != found.end());
  EXPECT_TRUE(std::find(found.begin(), found.end(), other_batch) == found.end());
  EXPECT_TRUE(std::find(found.begin(), found.end(), untagged) == found.end());
  EXPECT_TRUE(std::is_sorted(found.begin(), found.end()));

  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(StopProcesses(found, Millis(200)), static_cast<int>(found.size()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  int status = 0;
  ASSERT_TRUE(Exited(polite, &status));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  ASSERT_TRUE(Exited(stubborn, &status));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_TRUE(FindTagged(tag).empty()) << "its sleep was stopped with it";
  EXPECT_FALSE(Exited(other_batch, &status));
  EXPECT_FALSE(Exited(untagged, &status));
  for (pid_t pid : {other_batch, untagged}) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
}

// A leftover that starts another process when it is told to stop (after the
// scan) does not escape: StopTagged scans again until nothing is found.
TEST(LeftoversTest, StopTaggedAlsoStopsWhatForksBetweenAScanAndItsKill) {
  std::string tag = "/tmp/state-" + std::to_string(getpid()) + "#3";
  std::string entry = std::string(kBatchTagVariable) + "=" + tag;
  pid_t forker = SpawnWithEnv("trap 'sleep 30 & wait' TERM; sleep 30 & wait",
                              {"PATH=/usr/bin:/bin", entry});
  WaitForExec(forker, tag);
  WaitForTagged(tag, 2);
  EXPECT_GE(StopTagged(tag, Millis(300)), 3) << "the shell, its sleep, and the one it forked";
  int status = 0;
  EXPECT_TRUE(Exited(forker, &status));
  EXPECT_TRUE(FindTagged(tag).empty());
}

TEST(LeftoversTest, NothingToFindInAMissingProc) {
  EXPECT_TRUE(FindTagged("x#1", "/no/such/proc").empty());
  EXPECT_EQ(StopProcesses({}, Millis(10)), 0);
}

}  // namespace
}  // namespace headroom

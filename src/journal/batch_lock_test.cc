#include "journal/batch_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/test_temp_dir.h"

extern char** environ;

namespace headroom {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child process that takes the lock of batch 3 and holds it until it is
// told to go (or killed).
class LockHolder {
 public:
  explicit LockHolder(const std::string& dir) {
    int ready[2];
    int go[2];
    if (pipe(ready) != 0 || pipe(go) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(ready[0]);
      close(go[1]);
      std::unique_ptr<BatchLock> lock;
      char byte = BatchLock::Acquire(dir, 3, &lock).ok() ? 'y' : 'n';
      (void)!write(ready[1], &byte, 1);
      (void)!read(go[0], &byte, 1);
      lock.reset();
      _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    go_ = go[1];
    char byte = 0;
    locked_ = pid_ > 0 && read(ready[0], &byte, 1) == 1 && byte == 'y';
    close(ready[0]);
  }
  ~LockHolder() {
    if (go_ >= 0) close(go_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  void Release() {  // the child lets go and exits
    close(go_);
    go_ = -1;
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void Kill() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool locked() const { return locked_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  bool locked_ = false;
};

TEST(BatchLockTest, HoldsWritesPidAndRemovesFileOnRelease) {
  TempDir tmp;
  std::string path = tmp.path() + "/batch-3.lock";
  EXPECT_EQ(BatchLock::PathIn(tmp.path(), 3), path);
  EXPECT_FALSE(BatchLock::IsHeld(tmp.path(), 3));
  EXPECT_FALSE(fs::exists(path));  // IsHeld creates nothing

  std::unique_ptr<BatchLock> lock;
  ASSERT_TRUE(BatchLock::Acquire(tmp.path(), 3, &lock).ok());
  EXPECT_EQ(lock->batch(), 3);
  EXPECT_EQ(ReadFile(path), std::to_string(getpid()) + "\n");
  EXPECT_TRUE(BatchLock::IsHeld(tmp.path(), 3));
  EXPECT_FALSE(BatchLock::IsHeld(tmp.path(), 4));

  // A second taker fails, even in the same process.
  std::unique_ptr<BatchLock> second;
  Status status = BatchLock::Acquire(tmp.path(), 3, &second);
  EXPECT_EQ(status.message(),
            "batch 3 is being run by another headroom (pid " + std::to_string(getpid()) + ")");
  EXPECT_EQ(second, nullptr);
  EXPECT_TRUE(BatchLock::Acquire(tmp.path(), 4, &second).ok());  // another batch is fine

  lock.reset();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(BatchLock::IsHeld(tmp.path(), 3));
  EXPECT_TRUE(BatchLock::Acquire(tmp.path(), 3, &lock).ok());
}

TEST(BatchLockTest, LockOfAnotherProcessNamesItsPid) {
  TempDir tmp;
  LockHolder holder(tmp.path());
  ASSERT_TRUE(holder.locked());
  std::unique_ptr<BatchLock> lock;
  Status status = BatchLock::Acquire(tmp.path(), 3, &lock);
  EXPECT_EQ(status.message(),
            "batch 3 is being run by another headroom (pid " + std::to_string(holder.pid()) + ")");
  EXPECT_TRUE(BatchLock::IsHeld(tmp.path(), 3));
  holder.Release();
  EXPECT_FALSE(BatchLock::IsHeld(tmp.path(), 3));
  EXPECT_TRUE(BatchLock::Acquire(tmp.path(), 3, &lock).ok());
}

// A killed holder leaves its file behind, but not its lock: the batch reads
// as stopped and can be taken over.
TEST(BatchLockTest, KilledHolderFreesTheLock) {
  TempDir tmp;
  LockHolder holder(tmp.path());
  ASSERT_TRUE(holder.locked());
  EXPECT_TRUE(BatchLock::IsHeld(tmp.path(), 3));
  holder.Kill();
  EXPECT_TRUE(fs::exists(BatchLock::PathIn(tmp.path(), 3)));
  EXPECT_FALSE(BatchLock::IsHeld(tmp.path(), 3));
  std::unique_ptr<BatchLock> lock;
  EXPECT_TRUE(BatchLock::Acquire(tmp.path(), 3, &lock).ok());
  EXPECT_EQ(ReadFile(BatchLock::PathIn(tmp.path(), 3)), std::to_string(getpid()) + "\n");
}

// Jobs the holder spawns do not inherit the lock, so one that outlives a
// killed headroom does not keep its batch "running".
TEST(BatchLockTest, SpawnedJobsDoNotKeepTheLockOfAKilledHolder) {
  TempDir tmp;
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  pid_t holder = fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {  // takes the lock, starts a long job, reports its pid
    std::unique_ptr<BatchLock> lock;
    pid_t job = -1;
    char sleep_arg[] = "sleep";
    char seconds[] = "30";
    char* argv[] = {sleep_arg, seconds, nullptr};
    if (!BatchLock::Acquire(tmp.path(), 3, &lock).ok() ||
        posix_spawnp(&job, "sleep", nullptr, nullptr, argv, environ) != 0) {
      job = -1;
    }
    (void)!write(report[1], &job, sizeof job);
    pause();
    _exit(0);
  }
  close(report[1]);
  pid_t job = -1;
  ASSERT_EQ(read(report[0], &job, sizeof job), static_cast<ssize_t>(sizeof job));
  close(report[0]);
  EXPECT_TRUE(BatchLock::IsHeld(tmp.path(), 3));
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  ASSERT_GT(job, 0);
  EXPECT_EQ(kill(job, 0), 0);                      // the job still runs ...
  EXPECT_FALSE(BatchLock::IsHeld(tmp.path(), 3));  // ... and holds no lock
  kill(job, SIGKILL);
}

TEST(BatchLockTest, MissingStateDirIsAnError) {
  TempDir tmp;
  std::string dir = tmp.path() + "/missing";
  std::unique_ptr<BatchLock> lock;
  Status status = BatchLock::Acquire(dir, 2, &lock);
  EXPECT_EQ(status.message(),
            "batch 2: cannot open lock file " + dir + "/batch-2.lock: No such file or directory");
  EXPECT_FALSE(BatchLock::IsHeld(dir, 2));
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace headroom

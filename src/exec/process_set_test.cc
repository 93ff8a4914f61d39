#include "exec/process_set.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "exec/exec_test_util.h"

namespace headroom {
namespace {

using exec_test::Eventually;
using exec_test::IsDead;
using test::ReadFile;
using exec_test::ReadPidFile;

class ProcessSetTest : public ::testing::Test {
 protected:
  SpawnSpec Script(const std::string& script) {
    SpawnSpec spec;
    spec.path = "/bin/sh";
    spec.argv = {"sh", "-c", script};
    spec.env = {"PATH=/usr/bin:/bin", "DIR=" + dir_.path()};
    spec.stdout_path = dir_.File("out");
    spec.stderr_path = dir_.File("err");
    return spec;
  }

  pid_t Start(const std::string& script) {
    pid_t pid = 0;
    Status status = set_.Spawn(Script(script), &pid);
    EXPECT_TRUE(status.ok()) << status.message();
    return pid;
  }

  // Waits (at most 2 s) until `pid` has been reaped; its exit. Exits of
  // other children seen meanwhile are kept for their own WaitFor.
  ProcessExit WaitFor(pid_t pid) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (;;) {
      for (const ProcessExit& exit : exits_) {
        if (exit.pid == pid) return exit;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      int interrupt = 0;
      set_.Wait(Millis(50), &exits_, &interrupt);
    }
    ADD_FAILURE() << "pid " << pid << " did not exit";
    return ProcessExit();
  }

  // A pid a job wrote into `name`, waiting for it to appear.
  pid_t PidFrom(const std::string& name) {
    pid_t pid = 0;
    EXPECT_TRUE(Eventually([&] { return (pid = ReadPidFile(dir_.File(name))) > 0; }));
    return pid;
  }

  // Dead within a second; Wait meanwhile reaps it when it is an adopted orphan.
  bool DiesSoon(pid_t pid) {
    return Eventually([&] {
      std::vector<ProcessExit> exits;
      int interrupt = 0;
      set_.Wait(Millis(0), &exits, &interrupt);
      return IsDead(pid);
    }, std::chrono::seconds(1));
  }

  test::TempDir dir_;
  ProcessSet set_;
  std::vector<ProcessExit> exits_;
};

TEST_F(ProcessSetTest, ReportsExitCode) {
  pid_t pid = Start("exit 3");
  EXPECT_EQ(set_.running(), 1u);
  ProcessExit exit = WaitFor(pid);
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_EQ(exit.signal, 0);
  EXPECT_EQ(set_.running(), 0u);
  EXPECT_GT(exit.max_rss_kb, 0);
  EXPECT_GE(exit.cpu_seconds, 0.0);
}

TEST_F(ProcessSetTest, ReportsSignalDeath) {
  ProcessExit exit = WaitFor(Start("kill -KILL $$"));
  EXPECT_EQ(exit.exit_code, -1);
  EXPECT_EQ(exit.signal, SIGKILL);
}

TEST_F(ProcessSetTest, StdinIsDevNull) {
  SpawnSpec spec = Script("");
  spec.path = "/bin/cat";
  spec.argv = {"cat"};
  pid_t pid = 0;
  ASSERT_TRUE(set_.Spawn(spec, &pid).ok());
  ProcessExit exit = WaitFor(pid);
  EXPECT_EQ(exit.exit_code, 0);
  EXPECT_EQ(ReadFile(dir_.File("out")), "");
}

TEST_F(ProcessSetTest, StdoutAndStderrGoToTheirFiles) {
  ASSERT_EQ(WaitFor(Start("echo to-out; echo to-err >&2")).exit_code, 0);
  EXPECT_EQ(ReadFile(dir_.File("out")), "to-out\n");
  EXPECT_EQ(ReadFile(dir_.File("err")), "to-err\n");
  struct stat st;
  ASSERT_EQ(stat(dir_.File("out").c_str(), &st), 0);
  mode_t mask = umask(0);
  umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0644 & ~mask);
}

TEST_F(ProcessSetTest, LogFilesAreTruncated) {
  SpawnSpec spec = Script("echo new");
  {
    std::FILE* f = std::fopen(spec.stdout_path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("old content, longer than the new one\n", f);
    std::fclose(f);
  }
  pid_t pid = 0;
  ASSERT_TRUE(set_.Spawn(spec, &pid).ok());
  WaitFor(pid);
  EXPECT_EQ(ReadFile(spec.stdout_path), "new\n");
}

TEST_F(ProcessSetTest, OneFileForBothStreamsKeepsBoth) {
  SpawnSpec spec = Script("echo a; echo b >&2; echo c");
  spec.stderr_path = spec.stdout_path;
  pid_t pid = 0;
  ASSERT_TRUE(set_.Spawn(spec, &pid).ok());
  WaitFor(pid);
  EXPECT_EQ(ReadFile(spec.stdout_path), "a\nb\nc\n");
}

TEST_F(ProcessSetTest, EnvironmentIsExactlyTheGivenOne) {
  SpawnSpec spec = Script("env");
  spec.path = "/usr/bin/env";
  spec.argv = {"env"};
  spec.env = {"A=1", "B=two words"};
  pid_t pid = 0;
  ASSERT_TRUE(set_.Spawn(spec, &pid).ok());
  WaitFor(pid);
  EXPECT_EQ(ReadFile(dir_.File("out")), "A=1\nB=two words\n");
}

TEST_F(ProcessSetTest, ChildLeadsItsOwnProcessGroup) {
  pid_t pid = Start("read -r line < /proc/$$/stat; echo \"$line\"");
  WaitFor(pid);
  std::string stat = ReadFile(dir_.File("out"));
  size_t paren = stat.rfind(')');
  ASSERT_NE(paren, std::string::npos) << stat;
  char state = 0;
  int ppid = 0, pgrp = 0, session = 0;
  ASSERT_EQ(std::sscanf(stat.c_str() + paren + 1, " %c %d %d %d", &state, &ppid, &pgrp,
                        &session), 4) << stat;
  EXPECT_EQ(std::stoi(stat), pid);
  EXPECT_EQ(pgrp, pid);
  EXPECT_EQ(ppid, getpid());
}

TEST_F(ProcessSetTest, ChildHasDefaultSignalsAndEmptyMask) {
  // headroom blocks SIGTERM (the ProcessSet) and may run with SIGPIPE or
  // SIGINT ignored (nohup, `cmd &`); none of this may reach the job, and a
  // shell cannot undo an ignored-at-start signal itself.
  struct sigaction ignore, old_pipe, old_int;
  std::memset(&ignore, 0, sizeof(ignore));
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old_pipe);
  sigaction(SIGINT, &ignore, &old_int);
  pid_t by_pipe = Start("kill -PIPE $$; exit 7");
  pid_t by_int = Start("kill -INT $$; exit 7");
  pid_t by_term = Start("kill -TERM $$; exit 7");
  sigaction(SIGPIPE, &old_pipe, nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  EXPECT_EQ(WaitFor(by_pipe).signal, SIGPIPE);
  EXPECT_EQ(WaitFor(by_int).signal, SIGINT);
  EXPECT_EQ(WaitFor(by_term).signal, SIGTERM);
}

TEST_F(ProcessSetTest, SignalGroupReachesGrandchildren) {
  pid_t pid = Start("sleep 30 & echo $! > \"$DIR/gc.pid\"; wait");
  pid_t grandchild = PidFrom("gc.pid");
  ASSERT_GT(grandchild, 0);
  set_.SignalGroup(pid, SIGTERM);
  ProcessExit exit = WaitFor(pid);
  EXPECT_EQ(exit.signal, SIGTERM);
  EXPECT_TRUE(DiesSoon(grandchild));
}

TEST_F(ProcessSetTest, JobIgnoringSigtermDiesWithSigkill) {
  pid_t pid = Start("trap '' TERM; echo $$ > \"$DIR/ready.pid\"; exec sleep 30");
  ASSERT_GT(PidFrom("ready.pid"), 0);
  set_.SignalGroup(pid, SIGTERM);
  std::vector<ProcessExit> exits;
  int interrupt = 0;
  set_.Wait(Millis(30), &exits, &interrupt);
  EXPECT_TRUE(exits.empty());
  EXPECT_EQ(set_.running(), 1u);
  set_.SignalGroup(pid, SIGKILL);
  EXPECT_EQ(WaitFor(pid).signal, SIGKILL);
}

TEST_F(ProcessSetTest, LeftoverGroupMembersDieWithTheirLeader) {
  pid_t pid = Start("sleep 30 & echo $! > \"$DIR/gc.pid\"");
  EXPECT_EQ(WaitFor(pid).exit_code, 0);
  pid_t grandchild = PidFrom("gc.pid");
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(DiesSoon(grandchild));
}

TEST_F(ProcessSetTest, SignalGroupAfterExitIsANoOp) {
  pid_t pid = Start("exit 0");
  WaitFor(pid);
  set_.SignalGroup(pid, SIGKILL);  // must not reach a reused pid
  EXPECT_EQ(set_.running(), 0u);
}

TEST_F(ProcessSetTest, KillAllKillsGrandchildThatLeftItsGroup) {
  pid_t pid = Start("setsid sh -c 'echo $$ > \"$DIR/gc.pid\"; exec sleep 30' & wait");
  pid_t escaped = PidFrom("gc.pid");
  ASSERT_GT(escaped, 0);
  ASSERT_EQ(getpgid(escaped), escaped) << "the grandchild should lead its own group";
  set_.KillAll();
  EXPECT_EQ(set_.running(), 0u);
  EXPECT_EQ(kill(escaped, 0), -1) << "escaped grandchild still exists";
  EXPECT_EQ(kill(pid, 0), -1);
  // The killed job's exit is still reported.
  std::vector<ProcessExit> exits;
  int interrupt = 0;
  set_.Wait(Millis(0), &exits, &interrupt);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].pid, pid);
  EXPECT_EQ(exits[0].signal, SIGKILL);
}

TEST_F(ProcessSetTest, KillAllKillsEscapedGrandchildOfAFinishedJob) {
  pid_t pid = Start("setsid sh -c 'echo $$ > \"$DIR/gc.pid\"; exec sleep 30' &");
  pid_t escaped = PidFrom("gc.pid");
  ASSERT_GT(escaped, 0);
  EXPECT_EQ(WaitFor(pid).exit_code, 0);
  EXPECT_FALSE(IsDead(escaped));
  set_.KillAll();
  EXPECT_EQ(kill(escaped, 0), -1);
}

TEST_F(ProcessSetTest, InterruptsAreReportedNotFatal) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    if (sig == SIGINT) {
      raise(sig);
    } else {
      kill(getpid(), sig);
    }
    std::vector<ProcessExit> exits;
    int interrupt = 0;
    auto start = std::chrono::steady_clock::now();
    set_.Wait(Millis(5000), &exits, &interrupt);
    EXPECT_EQ(interrupt, sig);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  }
}

TEST_F(ProcessSetTest, InterruptWakesAWaitInProgress) {
  pid_t pid = Start("sleep 0.02; kill -INT $PPID; exec sleep 30");
  std::vector<ProcessExit> exits;
  int interrupt = 0;
  set_.Wait(Millis(5000), &exits, &interrupt);
  EXPECT_EQ(interrupt, SIGINT);
  EXPECT_TRUE(exits.empty());
  set_.SignalGroup(pid, SIGKILL);
  WaitFor(pid);
}

TEST_F(ProcessSetTest, WaitTimesOutWithNoChildren) {
  std::vector<ProcessExit> exits;
  int interrupt = -1;
  auto start = std::chrono::steady_clock::now();
  set_.Wait(Millis(20), &exits, &interrupt);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(exits.empty());
  EXPECT_EQ(interrupt, 0);
  EXPECT_GE(elapsed, Millis(19));
  EXPECT_LT(elapsed, Millis(500));
}

TEST_F(ProcessSetTest, WaitReturnsWhenAChildExits) {
  pid_t pid = Start("sleep 0.01");
  std::vector<ProcessExit> exits;
  int interrupt = 0;
  auto start = std::chrono::steady_clock::now();
  set_.Wait(Millis(5000), &exits, &interrupt);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].pid, pid);
}

TEST_F(ProcessSetTest, ManyChildrenAreAllReaped) {
  std::vector<pid_t> pids;
  for (int i = 0; i < 20; ++i) pids.push_back(Start("exit " + std::to_string(i)));
  std::vector<ProcessExit> exits;
  for (int round = 0; round < 200 && exits.size() < pids.size(); ++round) {
    int interrupt = 0;
    set_.Wait(Millis(50), &exits, &interrupt);
  }
  ASSERT_EQ(exits.size(), pids.size());
  for (const ProcessExit& exit : exits) {
    auto it = std::find(pids.begin(), pids.end(), exit.pid);
    ASSERT_NE(it, pids.end());
    EXPECT_EQ(exit.exit_code, it - pids.begin());
  }
  EXPECT_EQ(set_.running(), 0u);
}

TEST_F(ProcessSetTest, SpawnWithPipesTalksToTheChild) {
  SpawnSpec spec = Script("read -r line; echo \"got $line\"; echo to-err >&2; read -r rest; "
                          "echo \"eof=$?\"");
  pid_t pid = 0;
  ChildPipes pipes;
  ASSERT_TRUE(set_.SpawnWithPipes(spec, &pid, &pipes).ok());
  ASSERT_GE(pipes.stdin_fd, 0);
  ASSERT_GE(pipes.stdout_fd, 0);
  EXPECT_NE(fcntl(pipes.stdin_fd, F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_NE(fcntl(pipes.stdout_fd, F_GETFL) & O_NONBLOCK, 0);
  ASSERT_EQ(write(pipes.stdin_fd, "hello\n", 6), 6);
  close(pipes.stdin_fd);  // EOF for the second read
  EXPECT_EQ(WaitFor(pid).exit_code, 0);
  char buf[64];
  ssize_t n = read(pipes.stdout_fd, buf, sizeof(buf));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "got hello\neof=1\n");
  close(pipes.stdout_fd);
  EXPECT_EQ(ReadFile(dir_.File("err")), "to-err\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("out"))) << "stdout is the pipe, not the file";
}

TEST_F(ProcessSetTest, WaitWithFdsReturnsWhenOneIsReadable) {
  SpawnSpec spec = Script("sleep 0.02; echo ready; exec sleep 30");
  pid_t pid = 0;
  ChildPipes pipes;
  ASSERT_TRUE(set_.SpawnWithPipes(spec, &pid, &pipes).ok());
  std::vector<pollfd> fds = {{pipes.stdout_fd, POLLIN, 0}, {-1, POLLIN, 0}};
  std::vector<ProcessExit> exits;
  int interrupt = -1;
  auto start = std::chrono::steady_clock::now();
  set_.Wait(Millis(5000), &fds, &exits, &interrupt);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_NE(fds[0].revents & POLLIN, 0);
  EXPECT_EQ(fds[1].revents, 0);
  EXPECT_TRUE(exits.empty());
  EXPECT_EQ(interrupt, 0);
  set_.SignalGroup(pid, SIGKILL);
  WaitFor(pid);
  close(pipes.stdin_fd);
  close(pipes.stdout_fd);
}

TEST_F(ProcessSetTest, WaitWithFdsStillReportsExitsInterruptsAndTimeouts) {
  SpawnSpec spec = Script("exec sleep 30");
  pid_t sleeper = 0;
  ChildPipes pipes;
  ASSERT_TRUE(set_.SpawnWithPipes(spec, &sleeper, &pipes).ok());
  std::vector<pollfd> fds = {{pipes.stdout_fd, POLLIN, 0}};
  std::vector<ProcessExit> exits;
  int interrupt = -1;
  // A timeout, with nothing to read.
  auto start = std::chrono::steady_clock::now();
  set_.Wait(Millis(20), &fds, &exits, &interrupt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, Millis(19));
  EXPECT_TRUE(exits.empty());
  EXPECT_EQ(interrupt, 0);
  EXPECT_EQ(fds[0].revents, 0);
  // A child's exit (another one, spawned without pipes).
  pid_t quick = Start("sleep 0.01; exit 4");
  set_.Wait(Millis(5000), &fds, &exits, &interrupt);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].pid, quick);
  EXPECT_EQ(exits[0].exit_code, 4);
  // An interrupt.
  kill(getpid(), SIGTERM);
  exits.clear();
  set_.Wait(Millis(5000), &fds, &exits, &interrupt);
  EXPECT_EQ(interrupt, SIGTERM);
  set_.SignalGroup(sleeper, SIGKILL);
  // Its stdout's end and its exit: one Wait may see one before the other
  // (the kernel closes a dying process's files before it becomes a zombie).
  bool hangup = false;
  for (int i = 0; i < 100 && exits.empty(); ++i) {
    set_.Wait(Millis(50), &fds, &exits, &interrupt);
    if (fds[0].revents != 0) {
      hangup = true;
      fds[0].fd = -1;  // seen: poll it no more, as a reader at its end would
    }
  }
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].signal, SIGKILL);
  EXPECT_TRUE(hangup) << "the dead child's stdout is at its end";
  close(pipes.stdin_fd);
  close(pipes.stdout_fd);
}

TEST_F(ProcessSetTest, PipesDoNotLeakIntoOtherChildren) {
  // A worker's stdin must reach EOF when headroom closes it, so no other
  // child may hold a copy of its write end.
  pid_t first = 0;
  ChildPipes pipes;
  ASSERT_TRUE(set_.SpawnWithPipes(Script("cat > /dev/null; echo eof"), &first, &pipes).ok());
  pid_t other = Start("echo $$ > \"$DIR/other.pid\"; exec sleep 30");
  ASSERT_GT(PidFrom("other.pid"), 0);
  // The pipe's identity, as /proc shows it in the fd links of whoever holds it.
  struct stat st;
  ASSERT_EQ(fstat(pipes.stdin_fd, &st), 0);
  std::string link = "pipe:[" + std::to_string(st.st_ino) + "]";
  std::string fd_dir = "/proc/" + std::to_string(other) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(fd_dir)) {
    std::error_code error;
    EXPECT_NE(std::filesystem::read_symlink(entry.path(), error).string(), link)
        << "the other child holds the pipe as fd " << entry.path().filename();
  }
  close(pipes.stdin_fd);
  EXPECT_EQ(WaitFor(first).exit_code, 0);
  char buf[16];
  EXPECT_EQ(read(pipes.stdout_fd, buf, sizeof(buf)), 4);
  close(pipes.stdout_fd);
  set_.SignalGroup(other, SIGKILL);
  WaitFor(other);
}

TEST_F(ProcessSetTest, MissingProgramIsAnError) {
  SpawnSpec spec = Script("");
  spec.path = dir_.File("no-such-program");
  pid_t pid = 0;
  Status status = set_.Spawn(spec, &pid);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), spec.path + ": cannot start: No such file or directory");
  EXPECT_EQ(set_.running(), 0u);
}

TEST_F(ProcessSetTest, NonExecutableProgramIsAnError) {
  std::string path = dir_.File("script");
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("#!/bin/sh\n", f);
  std::fclose(f);
  SpawnSpec spec = Script("");
  spec.path = path;
  pid_t pid = 0;
  Status status = set_.Spawn(spec, &pid);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), path + ": cannot start: Permission denied");
}

TEST_F(ProcessSetTest, UnwritableLogIsAnError) {
  SpawnSpec spec = Script("exit 0");
  spec.stderr_path = dir_.File("missing/job.err");
  pid_t pid = 0;
  Status status = set_.Spawn(spec, &pid);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "cannot open job log " + spec.stderr_path + ": No such file or directory");
  EXPECT_EQ(set_.running(), 0u);
}

// Each exit goes back to the owner of its child: the jobs' Wait never
// returns another owner's child, whose exit waits for TakeExits or WaitFor.
TEST_F(ProcessSetTest, ExitsGoBackToTheOwnerOfTheirChild) {
  ProcessOwner hooks = set_.NewOwner();
  ProcessOwner helper = set_.NewOwner();
  EXPECT_NE(hooks, kJobsOwner);
  EXPECT_NE(hooks, helper);
  pid_t job = Start("exit 1");
  pid_t hook = 0;
  ASSERT_TRUE(set_.Spawn(Script("exit 2"), &hook, hooks).ok());
  pid_t tool = 0;
  ASSERT_TRUE(set_.Spawn(Script("exit 3"), &tool, helper).ok());
  EXPECT_EQ(WaitFor(job).exit_code, 1);
  ProcessExit exit;
  ASSERT_TRUE(set_.WaitFor(helper, tool, std::chrono::steady_clock::now() + std::chrono::seconds(5),
                           &exit));
  EXPECT_EQ(exit.exit_code, 3);
  std::vector<ProcessExit> hook_exits;
  EXPECT_TRUE(Eventually([&] {
    set_.TakeExits(hooks, &hook_exits);
    return !hook_exits.empty();
  }));
  ASSERT_EQ(hook_exits.size(), 1u);
  EXPECT_EQ(hook_exits[0].pid, hook);
  EXPECT_EQ(hook_exits[0].exit_code, 2);
  for (const ProcessExit& seen : exits_) {
    EXPECT_EQ(seen.pid, job) << "Wait returned another owner's child";
  }
  EXPECT_EQ(set_.running(), 0u);
}

// A helper's exit is not lost when the jobs' reaper runs on another thread
// (the GPU monitor runs nvidia-smi while the scheduler waits).
TEST_F(ProcessSetTest, WaitForFromAnotherThreadWhileTheJobsWait) {
  std::atomic<bool> stop{false};
  std::thread jobs([&] {
    while (!stop) {
      std::vector<ProcessExit> exits;
      int interrupt = 0;
      set_.Wait(Millis(5), &exits, &interrupt);
      EXPECT_TRUE(exits.empty());
    }
  });
  ProcessOwner helper = set_.NewOwner();
  for (int i = 0; i < 20; ++i) {
    pid_t pid = 0;
    ASSERT_TRUE(set_.Spawn(Script("exit 4"), &pid, helper).ok());
    ProcessExit exit;
    ASSERT_TRUE(set_.WaitFor(helper, pid,
                             std::chrono::steady_clock::now() + std::chrono::seconds(5), &exit));
    EXPECT_EQ(exit.exit_code, 4);
  }
  stop = true;
  jobs.join();
}

TEST_F(ProcessSetTest, WaitForGivesUpAtItsDeadline) {
  ProcessOwner helper = set_.NewOwner();
  pid_t pid = 0;
  ASSERT_TRUE(set_.Spawn(Script("sleep 30"), &pid, helper).ok());
  ProcessExit exit;
  EXPECT_FALSE(set_.WaitFor(helper, pid, std::chrono::steady_clock::now() + Millis(20), &exit));
  set_.SignalGroup(pid, SIGKILL);
  ASSERT_TRUE(set_.WaitFor(helper, pid, std::chrono::steady_clock::now() + std::chrono::seconds(5),
                           &exit));
  EXPECT_EQ(exit.signal, SIGKILL);
}

// A hook appends to its log and keeps no file of headroom's open.
TEST_F(ProcessSetTest, AppendAndCloseOtherFds) {
  int inheritable = open("/dev/null", O_RDONLY);  // no O_CLOEXEC
  ASSERT_GT(inheritable, 2);
  SpawnSpec spec = Script("echo second; ls /proc/$$/fd");
  spec.stderr_path = spec.stdout_path;
  spec.append = true;
  spec.close_other_fds = true;
  std::FILE* out = std::fopen(spec.stdout_path.c_str(), "w");
  std::fputs("first\n", out);
  std::fclose(out);
  pid_t pid = 0;
  ASSERT_TRUE(set_.Spawn(spec, &pid).ok());
  EXPECT_EQ(WaitFor(pid).exit_code, 0);
  close(inheritable);
  std::string text = ReadFile(spec.stdout_path);
  EXPECT_EQ(text.rfind("first\nsecond\n", 0), 0u) << text;
  EXPECT_EQ(text.find("\n" + std::to_string(inheritable) + "\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace headroom

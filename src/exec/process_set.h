// ProcessSet: owns every child headroom starts and the one place it waits
// for them, after ninja's SubprocessSet. Each child leads its own process
// group, reads stdin from /dev/null and writes stdout/stderr straight into
// files (a persistent worker's stdin and stdout are pipes to headroom
// instead). SIGCHLD, SIGINT, SIGTERM and SIGHUP are blocked while a
// ProcessSet exists and are taken synchronously in Wait() (sigtimedwait, or
// a signalfd polled with the caller's pipes), so there is no handler race.
// headroom is made a child subreaper so that grandchildren of a job that
// escape its group are still ours to kill and reap.
// Single-threaded: one ProcessSet per process, used from one thread. Create
// it before any other thread starts, so that every thread inherits the
// blocked mask and no thread takes SIGINT with its default action. While it
// exists, no other code of the process may wait for children of its own
// (Wait reaps every child).
#pragma once

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "util/status.h"
#include "util/units.h"

namespace headroom {

struct SpawnSpec {
  std::string path;                // resolved executable
  std::vector<std::string> argv;   // argv[0] included
  std::vector<std::string> env;    // full environment, "K=V"
  std::string stdout_path;         // created/truncated, 0644
  std::string stderr_path;
};

// headroom's ends of a child's stdin and stdout pipes (SpawnWithPipes).
// Both are O_CLOEXEC and O_NONBLOCK; the caller owns and closes them.
struct ChildPipes {
  int stdin_fd = -1;   // write end: what the child reads on stdin
  int stdout_fd = -1;  // read end: what the child writes on stdout
};

struct ProcessExit {
  pid_t pid = 0;
  int exit_code = -1;   // -1 when signalled
  int signal = 0;
  double cpu_seconds = 0;
  int64_t max_rss_kb = 0;
};

class ProcessSet {
 public:
  ProcessSet();
  ~ProcessSet();  // SIGKILLs every group still running and reaps it
  ProcessSet(const ProcessSet&) = delete;
  ProcessSet& operator=(const ProcessSet&) = delete;

  // Starts a child in a new process group (pgid == pid) with default signal
  // dispositions and an empty signal mask. Error names the program and why.
  Status Spawn(const SpawnSpec& spec, pid_t* pid);

  // As Spawn, but the child's stdin and stdout are pipes to the caller
  // (spec.stdout_path is not used; stderr still goes to spec.stderr_path).
  Status SpawnWithPipes(const SpawnSpec& spec, pid_t* pid, ChildPipes* pipes);

  // kill(-pgid, sig) for a child started here (no-op once it was reaped and its
  // group is empty).
  void SignalGroup(pid_t pid, int sig);

  // Waits up to `timeout` for children to exit or an interrupt to arrive.
  // Reaps every exited child: exits of children started by Spawn are
  // appended to `exits` (their leftover group members get SIGKILL); orphaned
  // grandchildren are reaped silently. `interrupt` is set to the signal
  // number of a received SIGINT/SIGTERM/SIGHUP, else 0.
  void Wait(Millis timeout, std::vector<ProcessExit>* exits, int* interrupt);

  // As Wait, and also returns when one of `fds` is ready for its `events`:
  // each one's `revents` is set as poll(2) sets it (an fd of -1 is skipped).
  void Wait(Millis timeout, std::vector<pollfd>* fds, std::vector<ProcessExit>* exits,
            int* interrupt);

  // SIGKILL to every running group and every other descendant left (also
  // those that left their group with setsid); reaps them, waiting a bounded
  // time. Exits of children started by Spawn are reported by the next Wait.
  void KillAll();

  size_t running() const { return running_.size(); }

 private:
  // see process_set.cc
  Status SpawnChild(const SpawnSpec& spec, pid_t* pid, ChildPipes* pipes);
  void Reap(std::vector<ProcessExit>* exits);
  int TakeInterrupt();
  int SignalFd();  // wait_set_'s signalfd, made on first use; -1 if it cannot be
  bool PollOnce(std::vector<pollfd>* fds, std::chrono::nanoseconds left);
  bool IsRunning(pid_t pid) const;

  std::vector<pid_t> running_;          // started by Spawn, not yet reaped
  std::vector<ProcessExit> reaped_;     // reaped by KillAll, not yet reported
  posix_spawnattr_t attr_;              // the same for every child
  sigset_t wait_set_;                   // SIGCHLD + interrupts
  sigset_t interrupt_set_;              // SIGINT, SIGTERM, SIGHUP
  sigset_t old_mask_;
  struct sigaction old_chld_action_;
  int old_subreaper_ = 0;
  int signal_fd_ = -1;
};

}  // namespace headroom

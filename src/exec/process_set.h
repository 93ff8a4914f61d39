// ProcessSet: owns every child headroom starts and the one place that reaps
// them, after ninja's SubprocessSet. Each child leads its own process group,
// reads stdin from /dev/null and writes stdout/stderr straight into files (a
// persistent worker's stdin and stdout, or a helper program's stdout, are
// pipes to headroom instead). SIGCHLD, SIGINT, SIGTERM and SIGHUP are blocked
// while a ProcessSet exists and are taken synchronously in Wait()
// (sigtimedwait, or a signalfd polled with the caller's pipes), so there is
// no handler race. headroom is made a child subreaper so that grandchildren
// of a job that escape its group are still ours to kill and reap.
//
// Every child is registered with its owner, and each exit is handed back to
// that owner only: the batch's jobs (kJobsOwner, whose exits Wait returns),
// the failure hook, a helper program such as nvidia-smi (each NewOwner). So
// no code of headroom waits for children of its own, and no exit status is
// lost to another waiter.
//
// One ProcessSet per process. Create it before any other thread starts, so
// that every thread inherits the blocked mask and no thread takes SIGINT
// with its default action. Wait is the batch's, called from one thread;
// NewOwner, Spawn, SignalGroup, TakeExits and WaitFor are thread-safe (the
// GPU monitor's thread runs nvidia-smi).
#pragma once

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
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
  bool append = false;             // append to the files instead of truncating them
  // Close every inherited file but stdio in the child, also those without
  // O_CLOEXEC (a hook gets nothing of headroom's). Jobs keep what the
  // user's shell gave headroom (a jobserver fd, a `3>file`).
  bool close_other_fds = false;
};

// Who a child belongs to (see above).
using ProcessOwner = int;
inline constexpr ProcessOwner kJobsOwner = 0;

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
  // From a launcher other than the local one (exec/launcher.h): it ran out
  // of memory in its own words (Slurm's OUT_OF_MEMORY), and why it ended
  // when its program could not say (cancelled, node failure, time limit).
  bool oom_reported = false;
  std::string note;
  // The GPU memory its processes held at most, where the launcher measured
  // it (a Slurm node); unset when not measured there.
  std::optional<uint64_t> peak_vram;
};

class ProcessSet {
 public:
  ProcessSet();
  ~ProcessSet();  // SIGKILLs every group still running and reaps it
  ProcessSet(const ProcessSet&) = delete;
  ProcessSet& operator=(const ProcessSet&) = delete;

  // A new owner, for children that are not the batch's jobs: their exits
  // are kept for TakeExits and WaitFor, never returned by Wait.
  ProcessOwner NewOwner();

  // Starts a child of `owner` in a new process group (pgid == pid) with
  // default signal dispositions and an empty signal mask. Error names the
  // program and why.
  Status Spawn(const SpawnSpec& spec, pid_t* pid, ProcessOwner owner = kJobsOwner);

  // As Spawn, but the child's stdin and stdout are pipes to the caller
  // (spec.stdout_path is not used; stderr still goes to spec.stderr_path).
  Status SpawnWithPipes(const SpawnSpec& spec, pid_t* pid, ChildPipes* pipes,
                        ProcessOwner owner = kJobsOwner);

  // kill(-pgid, sig) for a child started here (no-op once it was reaped and its
  // group is empty).
  void SignalGroup(pid_t pid, int sig);

  // Waits up to `timeout` for the jobs' children to exit or an interrupt to
  // arrive. Reaps every exited child: exits of kJobsOwner's children are
  // appended to `exits` (each one's leftover group members get SIGKILL),
  // other owners' are kept for them; orphaned grandchildren are reaped
  // silently. `interrupt` is set to the signal number of a received
  // SIGINT/SIGTERM/SIGHUP, else 0.
  void Wait(Millis timeout, std::vector<ProcessExit>* exits, int* interrupt);

  // As Wait, and also returns when one of `fds` is ready for its `events`:
  // each one's `revents` is set as poll(2) sets it (an fd of -1 is skipped).
  void Wait(Millis timeout, std::vector<pollfd>* fds, std::vector<ProcessExit>* exits,
            int* interrupt);

  // Reaps what has exited, without waiting, and moves the exits of
  // `owner`'s children into `exits`.
  void TakeExits(ProcessOwner owner, std::vector<ProcessExit>* exits);

  // Waits until `owner`'s child `pid` has exited, or until `deadline`;
  // true with its exit (taken: TakeExits will not return it again).
  bool WaitFor(ProcessOwner owner, pid_t pid, std::chrono::steady_clock::time_point deadline,
               ProcessExit* exit);

  // SIGKILL to every running group and every other descendant left (also
  // those that left their group with setsid); reaps them, waiting a bounded
  // time. Their exits are handed back to their owners as usual (the jobs'
  // by the next Wait).
  void KillAll();

  size_t running() const;  // children of every owner, not yet reaped

 private:
  struct Child {
    pid_t pid = 0;
    ProcessOwner owner = kJobsOwner;
  };

  // see process_set.cc
  Status SpawnChild(const SpawnSpec& spec, pid_t* pid, ChildPipes* pipes, ProcessOwner owner);
  void ReapLocked();  // REQUIRES: mutex_ held
  void TakeLocked(ProcessOwner owner, std::vector<ProcessExit>* exits);  // REQUIRES: mutex_ held
  void ReapAndTake(std::vector<ProcessExit>* exits);  // the jobs' exits
  int TakeInterrupt();
  int SignalFd();  // wait_set_'s signalfd, made on first use; -1 if it cannot be
  bool PollOnce(std::vector<pollfd>* fds, std::chrono::nanoseconds left);

  mutable std::mutex mutex_;  // guards running_, exited_ and next_owner_
  std::vector<Child> running_;                               // started, not yet reaped
  std::map<ProcessOwner, std::vector<ProcessExit>> exited_;  // reaped, not yet handed back
  ProcessOwner next_owner_ = kJobsOwner + 1;

  posix_spawnattr_t attr_;              // the same for every child
  sigset_t wait_set_;                   // SIGCHLD + interrupts
  sigset_t interrupt_set_;              // SIGINT, SIGTERM, SIGHUP
  sigset_t old_mask_;
  struct sigaction old_chld_action_;
  int old_subreaper_ = 0;
  int signal_fd_ = -1;
};

}  // namespace headroom

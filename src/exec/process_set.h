// ProcessSet: owns every child headroom starts and the one place it waits
// for them, after ninja's SubprocessSet. Each child leads its own process
// group, reads stdin from /dev/null and writes stdout/stderr straight into
// files. SIGCHLD, SIGINT, SIGTERM and SIGHUP are blocked while a ProcessSet
// exists and are taken synchronously in Wait() (sigtimedwait), so there is no
// handler race. headroom is made a child subreaper so that grandchildren of a
// job that escape its group are still ours to kill and reap.
// Single-threaded: one ProcessSet per process, used from one thread. Create
// it before any other thread starts, so that every thread inherits the
// blocked mask and no thread takes SIGINT with its default action. While it
// exists, no other code of the process may wait for children of its own
// (Wait reaps every child).
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/types.h>

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

  // kill(-pgid, sig) for a child started here (no-op once it was reaped and its
  // group is empty).
  void SignalGroup(pid_t pid, int sig);

  // Waits up to `timeout` for children to exit or an interrupt to arrive.
  // Reaps every exited child: exits of children started by Spawn are
  // appended to `exits` (their leftover group members get SIGKILL); orphaned
  // grandchildren are reaped silently. `interrupt` is set to the signal
  // number of a received SIGINT/SIGTERM/SIGHUP, else 0.
  void Wait(Millis timeout, std::vector<ProcessExit>* exits, int* interrupt);

  // SIGKILL to every running group and every other descendant left (also
  // those that left their group with setsid); reaps them, waiting a bounded
  // time. Exits of children started by Spawn are reported by the next Wait.
  void KillAll();

  size_t running() const { return running_.size(); }

 private:
  // see process_set.cc
  void Reap(std::vector<ProcessExit>* exits);
  int TakeInterrupt();
  bool IsRunning(pid_t pid) const;

  std::vector<pid_t> running_;          // started by Spawn, not yet reaped
  std::vector<ProcessExit> reaped_;     // reaped by KillAll, not yet reported
  posix_spawnattr_t attr_;              // the same for every child
  sigset_t wait_set_;                   // SIGCHLD + interrupts
  sigset_t interrupt_set_;              // SIGINT, SIGTERM, SIGHUP
  sigset_t old_mask_;
  struct sigaction old_chld_action_;
  int old_subreaper_ = 0;
};

}  // namespace headroom

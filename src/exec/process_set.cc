#include "exec/process_set.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <initializer_list>

#include "exec/proc_children.h"

namespace headroom {

namespace {

using Clock = std::chrono::steady_clock;

// Without a signalfd (it could not be made), a Wait with pipes polls in
// slices this long for signals.
constexpr Millis kSignalPollSlice{10};
// KillAll waits this long at most for SIGKILLed processes to be reaped; a
// process stuck in uninterruptible sleep must not hang headroom's exit.
constexpr Millis kKillAllBound{10000};
// Longer waits are cut to this, so deadlines cannot overflow.
constexpr Millis kMaxWait{24LL * 3600 * 1000};

timespec ToTimespec(Clock::duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns < 0) ns = 0;
  timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  return ts;
}

// Waits for one signal of `set` (blocked) until `deadline`. Returns the
// signal, or 0 at the deadline.
int WaitSignal(const sigset_t& set, Clock::time_point deadline) {
  for (;;) {
    Clock::duration left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return 0;
    timespec ts = ToTimespec(left);
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno == EAGAIN) return 0;
    // EINTR: a handled signal (SIGWINCH, SIGCONT...) came in; wait on.
  }
}

ProcessExit MakeExit(pid_t pid, int status, const rusage& usage) {
  ProcessExit exit;
  exit.pid = pid;
  if (WIFEXITED(status)) {
    exit.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit.signal = WTERMSIG(status);
  }
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  exit.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  exit.max_rss_kb = usage.ru_maxrss;
  return exit;
}

// Signals a job could have inherited as ignored or caught: the child starts
// with their default action whatever headroom's own state.
void AddDefaultSignals(sigset_t* set) {
  sigemptyset(set);
  for (int sig = 1; sig < 32; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaddset(set, sig);
  }
}

void InitSpawnAttr(posix_spawnattr_t* attr) {
  posix_spawnattr_init(attr);
  posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                     POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(attr, 0);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(attr, &mask);
  sigset_t defaults;
  AddDefaultSignals(&defaults);
  posix_spawnattr_setsigdefault(attr, &defaults);
}

Status AddFileActions(const SpawnSpec& spec, posix_spawn_file_actions_t* actions) {
  const int kLogFlags = O_WRONLY | O_CREAT | (spec.append ? O_APPEND : O_TRUNC);
  int rc = posix_spawn_file_actions_addopen(actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (rc == 0) {
    rc = posix_spawn_file_actions_addopen(actions, STDOUT_FILENO, spec.stdout_path.c_str(),
                                          kLogFlags, 0644);
  }
  if (rc == 0) {
    // One file for both streams must share one offset, or they overwrite.
    rc = spec.stderr_path == spec.stdout_path
             ? posix_spawn_file_actions_adddup2(actions, STDOUT_FILENO, STDERR_FILENO)
             : posix_spawn_file_actions_addopen(actions, STDERR_FILENO,
                                                spec.stderr_path.c_str(), kLogFlags, 0644);
  }
  if (rc == 0 && spec.close_other_fds) {
    rc = posix_spawn_file_actions_addclosefrom_np(actions, STDERR_FILENO + 1);
  }
  if (rc != 0) return Status::Error(spec.path + ": cannot start: " + std::strerror(rc));
  return Status::Ok();
}

// The child's stdin and stdout are the pipes' ends `stdin_fd` and
// `stdout_fd` (dup2 clears their O_CLOEXEC in the child only); stderr goes to
// its log.
Status AddPipeActions(const SpawnSpec& spec, int stdin_fd, int stdout_fd,
                      posix_spawn_file_actions_t* actions) {
  int rc = posix_spawn_file_actions_adddup2(actions, stdin_fd, STDIN_FILENO);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(actions, stdout_fd, STDOUT_FILENO);
  if (rc == 0) {
    rc = posix_spawn_file_actions_addopen(actions, STDERR_FILENO, spec.stderr_path.c_str(),
                                          O_WRONLY | O_CREAT | (spec.append ? O_APPEND : O_TRUNC),
                                          0644);
  }
  if (rc != 0) return Status::Error(spec.path + ": cannot start: " + std::strerror(rc));
  return Status::Ok();
}

// posix_spawn returns one errno for a failed open of a log file and for a
// failed exec; tell them apart, on this rare path only, by opening the logs.
Status SpawnError(const SpawnSpec& spec, bool pipes, int error) {
  for (const std::string* log : {&spec.stdout_path, &spec.stderr_path}) {
    if (pipes && log == &spec.stdout_path) continue;  // stdout is a pipe
    int fd = open(log->c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Status::Error("cannot open job log " + *log + ": " + std::strerror(errno));
    }
    close(fd);
  }
  return Status::Error(spec.path + ": cannot start: " + std::strerror(error));
}

// `fd` moved above stdin/stdout/stderr (when headroom runs with one of them
// closed, a pipe may get 0, 1 or 2, and the child's dup2s would clash).
int AboveStdio(int fd) {
  if (fd < 0 || fd > STDERR_FILENO) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  close(fd);
  return moved;
}

// Two pipes for a child's stdin and stdout, all ends O_CLOEXEC and above
// stdio. Error: errno text.
Status MakePipes(int stdin_pipe[2], int stdout_pipe[2]) {
  if (pipe2(stdin_pipe, O_CLOEXEC) == 0 && pipe2(stdout_pipe, O_CLOEXEC) == 0) {
    for (int* fd : {&stdin_pipe[0], &stdin_pipe[1], &stdout_pipe[0], &stdout_pipe[1]}) {
      *fd = AboveStdio(*fd);
    }
    if (stdin_pipe[0] >= 0 && stdin_pipe[1] >= 0 && stdout_pipe[0] >= 0 && stdout_pipe[1] >= 0) {
      return Status::Ok();
    }
  }
  return Status::Error(std::string("cannot make a pipe: ") + std::strerror(errno));
}

void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) close(fd);
  }
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  // posix_spawn's argv/envp are char* const[] for C's sake; it never writes.
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

ProcessSet::ProcessSet() {
  sigemptyset(&interrupt_set_);
  sigaddset(&interrupt_set_, SIGINT);
  sigaddset(&interrupt_set_, SIGTERM);
  sigaddset(&interrupt_set_, SIGHUP);
  wait_set_ = interrupt_set_;
  sigaddset(&wait_set_, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &wait_set_, &old_mask_);

  // An inherited SIG_IGN for SIGCHLD would make the kernel reap children
  // itself, and their exit statuses would be lost.
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGCHLD, &dfl, &old_chld_action_);

  prctl(PR_GET_CHILD_SUBREAPER, &old_subreaper_);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  InitSpawnAttr(&attr_);
}

ProcessSet::~ProcessSet() {
  // Always, even with no job running: a grandchild that escaped with setsid
  // after its job ended is still ours to kill.
  KillAll();
  posix_spawnattr_destroy(&attr_);
  if (signal_fd_ >= 0) close(signal_fd_);
  prctl(PR_SET_CHILD_SUBREAPER, old_subreaper_);
  sigaction(SIGCHLD, &old_chld_action_, nullptr);
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

ProcessOwner ProcessSet::NewOwner() {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_owner_++;
}

size_t ProcessSet::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_.size();
}

Status ProcessSet::Spawn(const SpawnSpec& spec, pid_t* pid, ProcessOwner owner) {
  return SpawnChild(spec, pid, nullptr, owner);
}

Status ProcessSet::SpawnWithPipes(const SpawnSpec& spec, pid_t* pid, ChildPipes* pipes,
                                  ProcessOwner owner) {
  return SpawnChild(spec, pid, pipes, owner);
}

Status ProcessSet::SpawnChild(const SpawnSpec& spec, pid_t* pid, ChildPipes* pipes,
                              ProcessOwner owner) {
  if (spec.argv.empty()) return Status::Error(spec.path + ": cannot start: empty argv");
  int stdin_pipe[2] = {-1, -1};
  int stdout_pipe[2] = {-1, -1};
  if (pipes != nullptr) {
    Status status = MakePipes(stdin_pipe, stdout_pipe);
    if (!status.ok()) {
      CloseAll({stdin_pipe[0], stdin_pipe[1], stdout_pipe[0], stdout_pipe[1]});
      return status.WithContext(spec.path + ": cannot start");
    }
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  Status status = pipes != nullptr ? AddPipeActions(spec, stdin_pipe[0], stdout_pipe[1], &actions)
                                   : AddFileActions(spec, &actions);
  if (status.ok()) {
    std::vector<char*> argv = CStrings(spec.argv);
    std::vector<char*> envp = CStrings(spec.env);
    pid_t child = 0;
    // Under the lock, so that no reap can see the child before it is registered.
    std::unique_lock<std::mutex> lock(mutex_);
    int rc = posix_spawn(&child, spec.path.c_str(), &actions, &attr_, argv.data(), envp.data());
    if (rc == 0) {
      running_.push_back(Child{child, owner});
      *pid = child;
    }
    lock.unlock();
    if (rc != 0) {
      status = SpawnError(spec, pipes != nullptr, rc);
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  // The child's ends are the child's alone now.
  CloseAll({stdin_pipe[0], stdout_pipe[1]});
  if (pipes != nullptr) {
    if (status.ok()) {
      fcntl(stdin_pipe[1], F_SETFL, O_NONBLOCK);
      fcntl(stdout_pipe[0], F_SETFL, O_NONBLOCK);
      pipes->stdin_fd = stdin_pipe[1];
      pipes->stdout_fd = stdout_pipe[0];
    } else {
      CloseAll({stdin_pipe[1], stdout_pipe[0]});
    }
  }
  return status;
}

void ProcessSet::SignalGroup(pid_t pid, int sig) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Only while the child is not reaped: then its pid (and group id) cannot
  // have been reused.
  bool running = std::any_of(running_.begin(), running_.end(),
                             [pid](const Child& child) { return child.pid == pid; });
  if (running) kill(-pid, sig);
}

void ProcessSet::ReapLocked() {
  for (;;) {
    int status = 0;
    rusage usage;
    pid_t pid = wait4(-1, &status, WNOHANG, &usage);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) return;
    auto it = std::find_if(running_.begin(), running_.end(),
                           [pid](const Child& child) { return child.pid == pid; });
    if (it == running_.end()) continue;  // an orphan we adopted as subreaper
    ProcessOwner owner = it->owner;
    *it = running_.back();
    running_.pop_back();
    // Whatever the child left behind in its group dies with it. The group id
    // cannot be reused while members remain, so this reaches only them.
    kill(-pid, SIGKILL);
    exited_[owner].push_back(MakeExit(pid, status, usage));
  }
}

void ProcessSet::TakeLocked(ProcessOwner owner, std::vector<ProcessExit>* exits) {
  auto it = exited_.find(owner);
  if (it == exited_.end()) return;
  exits->insert(exits->end(), it->second.begin(), it->second.end());
  exited_.erase(it);
}

void ProcessSet::ReapAndTake(std::vector<ProcessExit>* exits) {
  std::lock_guard<std::mutex> lock(mutex_);
  ReapLocked();
  TakeLocked(kJobsOwner, exits);
}

void ProcessSet::TakeExits(ProcessOwner owner, std::vector<ProcessExit>* exits) {
  std::lock_guard<std::mutex> lock(mutex_);
  ReapLocked();
  TakeLocked(owner, exits);
}

bool ProcessSet::WaitFor(ProcessOwner owner, pid_t pid, Clock::time_point deadline,
                         ProcessExit* exit) {
  int pidfd = -1;
  bool found = false;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ReapLocked();
      auto owned = exited_.find(owner);
      if (owned != exited_.end()) {
        std::vector<ProcessExit>& exits = owned->second;
        auto it = std::find_if(exits.begin(), exits.end(),
                               [pid](const ProcessExit& e) { return e.pid == pid; });
        if (it != exits.end()) {
          *exit = *it;
          exits.erase(it);
          if (exits.empty()) exited_.erase(owned);
          found = true;
        }
      }
      bool running = std::any_of(running_.begin(), running_.end(),
                                 [pid](const Child& child) { return child.pid == pid; });
      // Not reaped yet, so the pid is still this child's: a pidfd that
      // becomes readable when it exits saves polling.
      if (!found && running && pidfd < 0) pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
      if (found || !running) break;
    }
    Clock::duration left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) break;
    Millis wait = std::min(std::chrono::ceil<Millis>(left), Millis(60000));
    if (pidfd < 0) wait = std::min(wait, kSignalPollSlice);  // no pidfd (an old kernel): poll
    pollfd exited{pidfd, POLLIN, 0};
    poll(&exited, pidfd >= 0 ? 1 : 0, static_cast<int>(wait.count()));
  }
  if (pidfd >= 0) close(pidfd);
  return found;
}

int ProcessSet::TakeInterrupt() {
  timespec zero{0, 0};
  int sig = sigtimedwait(&interrupt_set_, nullptr, &zero);
  return sig > 0 ? sig : 0;
}

void ProcessSet::Wait(Millis timeout, std::vector<ProcessExit>* exits, int* interrupt) {
  size_t before = exits->size();
  ReapAndTake(exits);
  *interrupt = TakeInterrupt();
  if (exits->size() > before || *interrupt != 0) return;

  Clock::time_point deadline =
      Clock::now() + std::clamp(timeout, Millis::zero(), kMaxWait);
  for (;;) {
    int sig = WaitSignal(wait_set_, deadline);
    ReapAndTake(exits);
    if (sig != SIGCHLD) {
      *interrupt = sig;  // 0 at the deadline
      return;
    }
    // A SIGCHLD for an orphan or another owner's child, or one left pending
    // from an earlier reap.
    if (exits->size() > before) return;
  }
}

int ProcessSet::SignalFd() {
  if (signal_fd_ < 0) signal_fd_ = signalfd(-1, &wait_set_, SFD_CLOEXEC | SFD_NONBLOCK);
  return signal_fd_;
}

// One ppoll on the signalfd and `fds` for up to `left`; true when one of
// `fds` is ready. A pending SIGCHLD is taken here (the caller reaps next);
// interrupts stay pending for TakeInterrupt.
bool ProcessSet::PollOnce(std::vector<pollfd>* fds, std::chrono::nanoseconds left) {
  std::vector<pollfd> polled;
  polled.reserve(fds->size() + 1);
  polled.push_back(pollfd{SignalFd(), POLLIN, 0});
  polled.insert(polled.end(), fds->begin(), fds->end());
  if (polled[0].fd < 0) left = std::min<std::chrono::nanoseconds>(left, kSignalPollSlice);
  timespec ts = ToTimespec(left);
  if (ppoll(polled.data(), polled.size(), &ts, nullptr) <= 0) return false;  // EINTR: loop
  if (polled[0].revents != 0) {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    timespec zero{0, 0};
    sigtimedwait(&chld, nullptr, &zero);
  }
  bool ready = false;
  for (size_t i = 0; i < fds->size(); ++i) {
    (*fds)[i].revents = polled[i + 1].revents;
    ready = ready || polled[i + 1].revents != 0;
  }
  return ready;
}

void ProcessSet::Wait(Millis timeout, std::vector<pollfd>* fds, std::vector<ProcessExit>* exits,
                      int* interrupt) {
  for (pollfd& fd : *fds) fd.revents = 0;
  size_t before = exits->size();
  *interrupt = 0;
  Clock::time_point deadline = Clock::now() + std::clamp(timeout, Millis::zero(), kMaxWait);
  for (;;) {
    ReapAndTake(exits);
    if (*interrupt == 0) *interrupt = TakeInterrupt();
    bool event = exits->size() > before || *interrupt != 0;
    // With an event already, one poll without waiting still reports the fds.
    Clock::duration left = event ? Clock::duration::zero() : deadline - Clock::now();
    bool fd_ready = PollOnce(fds, std::chrono::duration_cast<std::chrono::nanoseconds>(left));
    if (event || fd_ready || Clock::now() >= deadline) return;
  }
}

void ProcessSet::KillAll() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Child& child : running_) {
      kill(-child.pid, SIGKILL);
      kill(child.pid, SIGKILL);  // in case it moved itself to another group
    }
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  Clock::time_point deadline = Clock::now() + kKillAllBound;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ReapLocked();
    }
    // Children of reaped processes are ours now; the scan finds those and
    // the grandchildren that had left their group before.
    std::vector<pid_t> children = ListChildren(getpid());
    if (children.empty() || Clock::now() >= deadline) return;
    for (pid_t child : children) {
      kill(-child, SIGKILL);  // its own group, when it leads one
      kill(child, SIGKILL);
    }
    // Poll a little too: a SIGCHLD may have been taken by an earlier wait.
    WaitSignal(chld, std::min(deadline, Clock::now() + Millis(20)));
  }
}

}  // namespace headroom

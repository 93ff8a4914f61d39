#include "report/failure_hook.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

#include "report/exit_text.h"

namespace headroom {
namespace {

constexpr std::string_view kErrSuffix = ".err";
constexpr std::chrono::milliseconds kFinishPoll{10};

bool FailedForGood(const AttemptEnd& end) {
  return !end.will_retry && (end.outcome == Outcome::kFailed || end.outcome == Outcome::kTimedOut ||
                             end.outcome == Outcome::kStartFailed);
}

// The HEADROOM_JOB_* entries, "NAME=value" (see HookEnvironment).
std::vector<std::string> JobVariables(const Job& job, const AttemptEnd& end) {
  std::string exit;
  if (end.exit.signal != 0) {
    exit = SignalName(end.exit.signal);
  } else if (end.outcome != Outcome::kStartFailed) {
    exit = std::to_string(end.exit.exit_code);
  }
  return {"HEADROOM_JOB_NAME=" + job.name,
          "HEADROOM_JOB_INPUT=" + job.input,
          "HEADROOM_JOB_NUMBER=" + std::to_string(job.number),
          "HEADROOM_JOB_OUTCOME=" + std::string(OutcomeName(end.outcome)),
          "HEADROOM_JOB_EXIT=" + exit,
          "HEADROOM_JOB_ATTEMPTS=" + std::to_string(end.attempt),
          "HEADROOM_JOB_LOG=" + end.stderr_log,
          "HEADROOM_JOB_STDOUT_LOG=" + end.stdout_log};
}

// `base` without the names `variables` set, then `variables`.
std::vector<std::string> WithVariables(const std::vector<std::string>& base,
                                       const std::vector<std::string>& variables) {
  auto name = [](const std::string& entry) {
    return std::string_view(entry).substr(0, entry.find('=') + 1);
  };
  std::vector<std::string> env;
  for (const std::string& entry : base) {
    bool replaced = std::any_of(variables.begin(), variables.end(),
                                [&](const std::string& v) { return name(v) == name(entry); });
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), variables.begin(), variables.end());
  return env;
}

// Moves an fd that landed on 0, 1 or 2 (headroom started with one closed)
// out of the way of the child's dup2 calls.
int AboveStdio(int fd) {
  if (fd < 0 || fd > STDERR_FILENO) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  close(fd);
  return moved;
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  // execve takes char* const[] for C's sake; it never writes through them.
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

void ReportErrno(int fd) {
  int err = errno;
  ssize_t ignored = write(fd, &err, sizeof(err));
  (void)ignored;
}

// The watcher: the clone child that runs the hook as its own child, waits
// for it and ends the same way (the same exit code, or killed by the same
// signal, without a core dump). It never execs, so it stays a clone child:
// exec would make it an ordinary one (the kernel resets the exit signal).
// Between clone and _exit only async-signal-safe calls: the parent has
// threads. Default dispositions (headroom ignores SIGPIPE) and an empty mask
// (the scheduler's thread blocks SIGINT, SIGTERM, SIGCHLD) for the hook; a
// process group of their own, so that one kill reaches both; stdio; then
// the program. Errno of a failed start goes to `err_fd`.
[[noreturn]] void Watch(const char* path, char* const argv[], char* const envp[], int in_fd,
                        int out_fd, int err_fd) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < 32; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  setpgid(0, 0);
  if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
      dup2(out_fd, STDERR_FILENO) < 0) {
    ReportErrno(err_fd);
    _exit(127);
  }
  // The watcher never execs, so O_CLOEXEC closes nothing: close headroom's
  // other files (logs, sockets of the metrics endpoint) by hand.
  if (err_fd > STDERR_FILENO + 1) close_range(STDERR_FILENO + 1, err_fd - 1, 0);
  close_range(err_fd + 1, ~0U, 0);
  // A plain fork, by syscall: glibc's fork() would run atfork handlers,
  // which take locks other threads of the parent may have held.
  long hook = syscall(SYS_clone, static_cast<long>(SIGCHLD), 0L, 0L, 0L, 0L);
  if (hook == 0) execve(path, argv, envp);
  if (hook <= 0) {  // the fork failed, or (in the hook) execve did
    ReportErrno(err_fd);
    _exit(127);
  }
  close(err_fd);
  int status = 0;
  while (waitpid(static_cast<pid_t>(hook), &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    kill(getpid(), WTERMSIG(status));
    _exit(128 + WTERMSIG(status));
  }
  _exit(WEXITSTATUS(status));
}

// Starts `argv` under a watcher (see Watch) whose exit signals nothing: a
// ProcessSet's wait4(-1) does not see it, waitpid with __WCLONE does.
// Returns the watcher's pid, which leads the hook's process group. Error:
// why the hook could not be started (errno text).
Status SpawnWatched(const std::string& path, const std::vector<std::string>& argv,
                    const std::vector<std::string>& env, const std::string& log, pid_t* pid) {
  int in_fd = AboveStdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int out_fd = AboveStdio(open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  int err_pipe[2] = {-1, -1};
  Status status;
  if (in_fd < 0 || out_fd < 0) {
    status =
        Status::Error(fmt::format("'{}': {}", in_fd < 0 ? "/dev/null" : log, std::strerror(errno)));
  } else if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    status = Status::Error(std::string("cannot make a pipe: ") + std::strerror(errno));
  } else {
    err_pipe[0] = AboveStdio(err_pipe[0]);
    err_pipe[1] = AboveStdio(err_pipe[1]);
    if (err_pipe[0] < 0 || err_pipe[1] < 0) {
      status = Status::Error(std::string("cannot make a pipe: ") + std::strerror(errno));
    }
  }
  if (status.ok()) {
    std::vector<char*> c_argv = CStrings(argv);
    std::vector<char*> c_env = CStrings(env);
    // clone(2) with no flags and no exit signal: a fork whose end sends no
    // SIGCHLD.
    long child = syscall(SYS_clone, 0L, 0L, 0L, 0L, 0L);
    if (child == 0) Watch(path.c_str(), c_argv.data(), c_env.data(), in_fd, out_fd, err_pipe[1]);
    int clone_errno = errno;
    close(err_pipe[1]);  // so that the read below ends when the hook has exec'd
    err_pipe[1] = -1;
    if (child < 0) {
      status = Status::Error(std::string("cannot start: ") + std::strerror(clone_errno));
    } else {
      int exec_errno = 0;
      ssize_t n;
      do {
        n = read(err_pipe[0], &exec_errno, sizeof(exec_errno));
      } while (n < 0 && errno == EINTR);
      if (n == sizeof(exec_errno)) {
        waitpid(static_cast<pid_t>(child), nullptr, __WCLONE);
        status = Status::Error(std::string("cannot run: ") + std::strerror(exec_errno));
      } else {
        *pid = static_cast<pid_t>(child);
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_pipe[0], err_pipe[1]}) {
    if (fd >= 0) close(fd);
  }
  return status;
}

ExitInfo ExitOf(int wait_status) {
  ExitInfo exit;
  if (WIFSIGNALED(wait_status)) {
    exit.signal = WTERMSIG(wait_status);
  } else {
    exit.exit_code = WEXITSTATUS(wait_status);
  }
  return exit;
}

}  // namespace

Status HookCommand(const std::string& command, bool shell, std::vector<std::string>* argv) {
  auto error = [&](const char* why) {
    return Status::Error(fmt::format("'{}': {}", command, why));
  };
  if (command.find_first_not_of(" \t\n") == std::string::npos) return error("an empty command");
  if (shell) {
    *argv = {"/bin/sh", "-c", command};
    return Status::Ok();
  }
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;  // the open quote, or 0
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        word += c;
      }
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < command.size() &&
                 (command[i + 1] == '"' || command[i + 1] == '\\')) {
        word += command[++i];
      } else {
        word += c;
      }
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      in_word = true;
      if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '\\') {
        if (i + 1 == command.size()) return error("a backslash ends it");
        word += command[++i];
      } else {
        word += c;
      }
    }
  }
  if (quote != 0) return error("a quote is left open");
  if (in_word) words.push_back(std::move(word));
  *argv = std::move(words);
  return Status::Ok();
}

std::vector<std::string> HookEnvironment(const std::vector<std::string>& base, const Job& job,
                                         const AttemptEnd& end) {
  return WithVariables(base, JobVariables(job, end));
}

std::string HookLogPath(const std::string& stderr_log) {
  if (stderr_log.empty()) return "/dev/null";
  std::string_view base = stderr_log;
  if (base.ends_with(kErrSuffix)) base.remove_suffix(kErrSuffix.size());
  return std::string(base) + ".on-failure.log";
}

FailureHook::FailureHook(FailureHookConfig config, Notify notify)
    : config_(std::move(config)), notify_(std::move(notify)) {}

// Silent: whoever would hear a warning may be gone already.
FailureHook::~FailureHook() {
  Kill(false);
  queue_.clear();
}

void FailureHook::OnJobEnd(const Job& job, const AttemptEnd& end, const Counts&) {
  if (!FailedForGood(end)) return;
  queue_.push_back({job.name, JobVariables(job, end), HookLogPath(end.stderr_log)});
  StartQueued();
}

void FailureHook::OnTick(const Counts&, TimePoint, const std::string&) {
  Reap();
  StartQueued();
}

void FailureHook::StartQueued() {
  while (!queue_.empty() && running_.size() < static_cast<size_t>(config_.max_running)) {
    Pending next = std::move(queue_.front());
    queue_.pop_front();
    pid_t pid = 0;
    Status status = SpawnWatched(config_.path, config_.argv,
                                 WithVariables(config_.env, next.variables), next.log, &pid);
    if (!status.ok()) {
      Warn(next.name, status.message());
      continue;
    }
    running_.push_back({pid, std::move(next.name), std::move(next.log)});
  }
}

void FailureHook::Reap() {
  for (auto it = running_.begin(); it != running_.end();) {
    int wait_status = 0;
    pid_t done = waitpid(it->pid, &wait_status, WNOHANG | __WCLONE);
    if (done == 0 || (done < 0 && errno == EINTR)) {
      ++it;
      continue;
    }
    if (done == it->pid) {
      ExitInfo exit = ExitOf(wait_status);
      if (exit.signal != 0 || exit.exit_code != 0) {
        Warn(it->name, fmt::format("{} (output: {})", DescribeExit(exit), it->log));
      }
    }
    it = running_.erase(it);
  }
}

void FailureHook::Finish(Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    Reap();
    StartQueued();
    if (running_.empty() && queue_.empty()) return;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kFinishPoll);
  }
  Kill(true);
  if (!queue_.empty() && notify_) {
    notify_(LogLevel::kWarn, fmt::format("--on-failure: {} hook(s) not run: the batch ended "
                                         "while they waited",
                                         queue_.size()));
  }
  queue_.clear();
}

void FailureHook::Kill(bool warn) {
  for (const Running& hook : running_) {
    kill(-hook.pid, SIGKILL);
    kill(hook.pid, SIGKILL);  // in case it left its group
    waitpid(hook.pid, nullptr, __WCLONE);
    if (warn) Warn(hook.name, "still running after the batch ended: killed");
  }
  running_.clear();
}

void FailureHook::Warn(const std::string& name, const std::string& what) {
  if (notify_) notify_(LogLevel::kWarn, fmt::format("--on-failure for {}: {}", name, what));
}

}  // namespace headroom

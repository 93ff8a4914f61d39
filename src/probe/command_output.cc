#include "probe/command_output.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

namespace headroom {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kMaxOutput = size_t{1} << 20;

int MillisLeft(SteadyTime deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 60000));
}

// The child starts with no blocked signals and default dispositions even
// when called from a thread that blocks them (a ProcessSet blocks SIGINT,
// SIGTERM and SIGCHLD in every thread).
void InitAttributes(posix_spawnattr_t* attr) {
  posix_spawnattr_init(attr);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(attr, &signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE}) sigaddset(&signals, sig);
  posix_spawnattr_setsigdefault(attr, &signals);
  posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

// Reads `fd` to its end or the deadline; false on timeout or overflow.
bool ReadAll(int fd, SteadyTime deadline, std::string* out, std::string* why) {
  char buf[4096];
  for (;;) {
    pollfd wait{fd, POLLIN, 0};
    int ready = poll(&wait, 1, MillisLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      *why = "timed out";
      return false;
    }
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > kMaxOutput) {
      *why = "printed more than 1 MiB";
      return false;
    }
  }
}

// The child's wait status, killing it at the deadline. nullopt when another
// waiter took it first: a ProcessSet reaps every child with wait4(-1), so
// the status may be lost; the caller then judges by the output alone.
std::optional<int> Reap(pid_t pid, SteadyTime deadline) {
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      done = waitpid(pid, &status, 0);
      return done == pid ? std::optional<int>(status) : std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

Status CommandOutput(const std::vector<std::string>& argv, Millis timeout, std::string* out) {
  out->clear();
  if (argv.empty()) return Status::Error("cannot run an empty command");
  const std::string& name = argv[0];
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Status::Error(name + ": cannot make a pipe: " + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  InitAttributes(&attr);
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  // posix_spawn takes char* const[] for C's sake; it never writes through them.
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, name.c_str(), &actions, &attr, c_argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return Status::Error(name + ": cannot run: " + std::strerror(rc));
  }

  SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  std::string why;
  bool complete = ReadAll(pipe_fds[0], deadline, out, &why);
  close(pipe_fds[0]);
  std::optional<int> status = Reap(pid, complete ? deadline : SteadyTime::min());
  if (!complete) return Status::Error(name + ": " + why);
  if (status && WIFSIGNALED(*status)) {
    return Status::Error(name + ": killed by signal " + std::to_string(WTERMSIG(*status)));
  }
  if (status && WEXITSTATUS(*status) != 0) {
    return Status::Error(name + ": exited with status " + std::to_string(WEXITSTATUS(*status)));
  }
  return Status::Ok();
}

}  // namespace headroom

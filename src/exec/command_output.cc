#include "exec/command_output.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

#include "exec/environment.h"
#include "exec/executable.h"

namespace headroom {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kMaxOutput = size_t{1} << 20;
// After a kill, how long to wait for the program to be reaped.
constexpr Millis kReapBound{2000};

int MillisLeft(SteadyTime deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 60000));
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
    if (n < 0 && errno == EAGAIN) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > kMaxOutput) {
      *why = "printed more than 1 MiB";
      return false;
    }
  }
}

}  // namespace

Status CommandOutput(ProcessSet* processes, const std::vector<std::string>& argv, Millis timeout,
                     std::string* out) {
  out->clear();
  if (argv.empty()) return Status::Error("cannot run an empty command");
  const std::string& name = argv[0];
  SpawnSpec spec;
  const char* path = std::getenv("PATH");
  Status status = ResolveExecutable(name, path != nullptr ? path : "", &spec.path);
  if (!status.ok()) return Status::Error(name + ": cannot run: " + status.message());
  spec.argv = argv;
  spec.env = CurrentEnvironment();
  spec.stderr_path = "/dev/null";
  ProcessOwner owner = processes->NewOwner();
  pid_t pid = 0;
  ChildPipes pipes;
  status = processes->SpawnWithPipes(spec, &pid, &pipes, owner);
  if (!status.ok()) return Status::Error(name + ": cannot run: " + status.message());
  close(pipes.stdin_fd);  // it reads nothing: end of input at once

  SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  std::string why;
  bool complete = ReadAll(pipes.stdout_fd, deadline, out, &why);
  close(pipes.stdout_fd);
  if (!complete) processes->SignalGroup(pid, SIGKILL);
  ProcessExit exit;
  bool reaped = processes->WaitFor(
      owner, pid, complete ? deadline : std::chrono::steady_clock::now() + kReapBound, &exit);
  if (!complete) return Status::Error(name + ": " + why);
  if (!reaped) {
    processes->SignalGroup(pid, SIGKILL);
    processes->WaitFor(owner, pid, std::chrono::steady_clock::now() + kReapBound, &exit);
    return Status::Error(name + ": timed out");
  }
  if (exit.signal != 0) {
    return Status::Error(name + ": killed by signal " + std::to_string(exit.signal));
  }
  if (exit.exit_code != 0) {
    return Status::Error(name + ": exited with status " + std::to_string(exit.exit_code));
  }
  return Status::Ok();
}

}  // namespace headroom

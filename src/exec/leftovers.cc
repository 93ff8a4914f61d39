#include "exec/leftovers.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "exec/proc_children.h"

namespace headroom {
namespace {

// The whole of a small /proc file; empty when it cannot be read.
std::string ReadProcFile(const std::string& path) {
  std::string text;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

bool HasEntry(const std::string& environ, const std::string& entry) {
  size_t start = 0;
  while (start < environ.size()) {
    size_t end = environ.find('\0', start);
    if (end == std::string::npos) end = environ.size();
    if (environ.compare(start, end - start, entry) == 0) return true;
    start = end + 1;
  }
  return false;
}

// Gone: no such process, or a zombie (dead, waiting for its parent to reap it).
bool Gone(pid_t pid, const std::string& proc) {
  std::string stat = ReadProcFile(fmt::format("{}/{}/stat", proc, pid));
  if (stat.empty()) return true;
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z' ||
         stat[paren + 2] == 'X';
}

}  // namespace

std::string BatchTag(const std::string& state_dir, int64_t batch) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::canonical(state_dir, ec);
  return fmt::format("{}#{}", ec ? state_dir : dir.string(), batch);
}

std::vector<pid_t> FindTagged(const std::string& tag, const std::string& proc) {
  std::vector<pid_t> pids;
  std::string entry = fmt::format("{}={}", kBatchTagVariable, tag);
  pid_t self = getpid();
  for (pid_t pid : ListProcesses(proc)) {
    if (pid == self) continue;
    std::string environ = ReadProcFile(fmt::format("{}/{}/environ", proc, pid));
    if (HasEntry(environ, entry) && !Gone(pid, proc)) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

int StopProcesses(const std::vector<pid_t>& pids, Millis grace, const std::string& proc) {
  int signalled = 0;
  for (pid_t pid : pids) {
    if (kill(pid, SIGTERM) == 0) ++signalled;
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    bool all_gone = std::all_of(pids.begin(), pids.end(),
                                [&proc](pid_t pid) { return Gone(pid, proc); });
    if (all_gone || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<pid_t> killed;
  for (pid_t pid : pids) {
    if (!Gone(pid, proc) && kill(pid, SIGKILL) == 0) killed.push_back(pid);
  }
  // SIGKILL lands at once, but not before this call returns: wait for it, so
  // that nothing of theirs writes after the caller goes on.
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline &&
         !std::all_of(killed.begin(), killed.end(),
                      [&proc](pid_t pid) { return Gone(pid, proc); })) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return signalled;
}

int StopTagged(const std::string& tag, Millis grace, const std::string& proc) {
  constexpr int kRounds = 10;
  int stopped = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<pid_t> pids = FindTagged(tag, proc);
    if (pids.empty()) break;
    stopped += StopProcesses(pids, grace, proc);
  }
  return stopped;
}

}  // namespace headroom

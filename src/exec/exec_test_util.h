// Helpers shared by the exec tests, which run real processes: bounded polls
// for things that happen in other processes (the temp dir and file reading
// are util/test_temp_dir.h's).
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "exec/job_runner.h"
#include "util/test_temp_dir.h"

namespace headroom::exec_test {

// Polls `done` every millisecond until it holds or `limit` passes.
template <typename Predicate>
bool Eventually(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(2)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Waits (at most `limit`) for `handle` to end on `runner`; the ends of other
// handles seen meanwhile are kept in `ended` for later calls.
inline ExitInfo WaitForEnd(JobRunner& runner, RunHandle handle, std::vector<Exited>* ended,
                           std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    for (const Exited& exited : *ended) {
      if (exited.handle == handle) return exited.info;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    WaitResult result = runner.Wait(std::chrono::milliseconds(50));
    ended->insert(ended->end(), result.exited.begin(), result.exited.end());
  }
  ADD_FAILURE() << "run " << handle << " did not end";
  return ExitInfo();
}

// A pid written by a job into `path` (complete line), or 0 when not there yet.
inline pid_t ReadPidFile(const std::string& path) {
  std::string text = test::ReadFile(path);
  if (text.empty() || text.back() != '\n') return 0;
  return static_cast<pid_t>(std::stol(text));
}

// The state letter of /proc/<pid>/stat; 0 when the process is gone.
inline char ProcState(pid_t pid) {
  std::string stat = test::ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return 0;
  return stat[paren + 2];
}

// Dead: gone, or a zombie nobody reaped yet.
inline bool IsDead(pid_t pid) {
  char state = ProcState(pid);
  return state == 0 || state == 'Z' || state == 'X';
}

}  // namespace headroom::exec_test

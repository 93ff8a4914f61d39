#include "report/finish_hook.h"

#include <fmt/format.h>

#include <chrono>
#include <csignal>

#include "report/exit_text.h"

namespace headroom {
namespace {

// How long a killed hook may take to be reaped.
constexpr std::chrono::milliseconds kKillBound{2000};

}  // namespace

std::vector<std::string> FinishHookEnvironment(const std::vector<std::string>& base,
                                               const BatchEnd& end) {
  const Counts& c = end.counts;
  return WithVariables(base, {"HEADROOM_BATCH_ID=" + end.batch,
                              "HEADROOM_BATCH_EXIT_CODE=" + std::to_string(end.exit_code),
                              "HEADROOM_BATCH_TOTAL=" + std::to_string(c.total),
                              "HEADROOM_BATCH_SUCCEEDED=" + std::to_string(c.succeeded),
                              "HEADROOM_BATCH_FAILED=" + std::to_string(c.failed),
                              "HEADROOM_BATCH_SKIPPED=" + std::to_string(c.skipped),
                              "HEADROOM_BATCH_INTERRUPTED=" + std::to_string(c.interrupted),
                              fmt::format("HEADROOM_BATCH_WALL_SECONDS={:.1f}", end.wall_seconds),
                              "HEADROOM_BATCH_REPORT=" + end.report,
                              "HEADROOM_BATCH_LOG_DIR=" + end.log_dir});
}

std::string RunFinishHook(const FailureHookConfig& config, const BatchEnd& end,
                          const std::string& log_path, ProcessSet* processes, Millis timeout) {
  SpawnSpec spec;
  spec.path = config.path;
  spec.argv = config.argv;
  spec.env = FinishHookEnvironment(config.env, end);
  spec.stdout_path = log_path;
  spec.stderr_path = log_path;
  spec.append = true;
  spec.close_other_fds = true;
  ProcessOwner owner = processes->NewOwner();
  pid_t pid = 0;
  Status status = processes->Spawn(spec, &pid, owner);
  if (!status.ok()) return "--on-finish: " + status.message();
  ProcessExit exit;
  if (!processes->WaitFor(owner, pid, std::chrono::steady_clock::now() + timeout, &exit)) {
    processes->SignalGroup(pid, SIGKILL);
    processes->WaitFor(owner, pid, std::chrono::steady_clock::now() + kKillBound, &exit);
    return fmt::format("--on-finish: still running after {}: killed (output: {})",
                       FormatDuration(std::chrono::duration<double>(timeout).count()), log_path);
  }
  if (exit.signal == 0 && exit.exit_code == 0) return "";
  return fmt::format("--on-finish: {} (output: {})", DescribeExit(ExitOf(exit)), log_path);
}

}  // namespace headroom

// JobRunner: what the scheduler needs from an executor. The real one
// (exec/process_runner.h) spawns processes; tests use a fake that records
// what started and exits jobs by hand. A runner decides nothing: it starts,
// signals and reports what it was told.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job.h"
#include "util/status.h"
#include "util/units.h"

namespace headroom {

using RunHandle = int64_t;

// Where and how one attempt runs.
struct Launch {
  int slot = 1;     // 1-based, {%}
  int attempt = 1;
  // The GPU(s) given to the job: CUDA_VISIBLE_DEVICES and {gpu}. nullopt
  // leaves CUDA_VISIBLE_DEVICES as headroom found it (no GPU gating); ""
  // hides every GPU (--gpus none, CPU fallback).
  std::optional<std::string> gpu;
};

struct StartedJob {
  RunHandle handle = 0;
  pid_t pid = 0;                  // leader of the job's process group
  std::vector<std::string> argv;  // as executed
  std::string stdout_log;         // paths of this attempt's log files
  std::string stderr_log;
};

struct ExitInfo {
  int exit_code = -1;  // when the process exited; -1 when killed by a signal
  int signal = 0;      // the signal that killed it; 0 when it exited
  double cpu_seconds = 0;    // user + system of the job and its reaped children
  int64_t max_rss_kb = 0;    // peak RSS of the largest process of the job
  // The end of the job's stderr (a few KiB) when it did not exit 0, for the
  // out-of-memory classifier; empty otherwise.
  std::string stderr_tail;
};

struct Exited {
  RunHandle handle = 0;
  ExitInfo info;
};

struct WaitResult {
  std::vector<Exited> exited;  // jobs that ended since the last Wait
  int interrupt = 0;           // SIGINT/SIGTERM/SIGHUP received, else 0
};

class JobRunner {
 public:
  virtual ~JobRunner() = default;

  // Starts one attempt of `job` as `launch` says. An error means this job
  // could not start (the job fails; the batch goes on).
  virtual Status Start(const Job& job, const Launch& launch, StartedJob* started) = 0;

  // Sends `signal` to the whole process group of a started, not yet exited job.
  virtual void Signal(RunHandle handle, int signal) = 0;

  // Blocks until a job exits, an interrupt arrives, or `timeout` passes.
  virtual WaitResult Wait(Millis timeout) = 0;

  // After a job's last exit: commit its output when `succeeded` (an error
  // turns the success into a failure), else discard it.
  virtual Status Complete(const Job& job, bool succeeded) = 0;
};

}  // namespace headroom

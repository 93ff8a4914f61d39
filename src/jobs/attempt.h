// What one attempt's process did, as the runner reports it and the
// scheduler, journal and reporters read it: plain data of the domain, so that
// every layer above jobs can name it without knowing who ran the process.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

// A runner's name for one started attempt (exec/job_runner.h).
using RunHandle = int64_t;

struct StartedJob {
  RunHandle handle = 0;
  pid_t pid = 0;                  // leader of the job's process group (a worker's, with --worker)
  std::vector<std::string> argv;  // as executed
  std::string stdout_log;         // paths of this attempt's log files
  std::string stderr_log;
  // The process was started for this attempt: always, except a persistent
  // worker (--worker) that served earlier requests (its base memory is
  // counted once).
  bool fresh_process = true;
  // A resume took back what a killed headroom launched for it (a Slurm job
  // still queued or running): nothing new was started. `ram` is what that
  // launch asked for.
  bool adopted = false;
  std::optional<uint64_t> ram;
};

// What a program reported for one input of its unit (--batch-results, or a
// worker's reply).
struct InputResult {
  size_t index = 0;   // position in the unit's jobs
  bool ok = false;
  bool oom = false;   // it ran out of memory on this input
  std::string error;  // why it failed, as the program said
};

struct ExitInfo {
  int exit_code = -1;  // when the process exited; -1 when killed by a signal
  int signal = 0;      // the signal that killed it; 0 when it exited
  double cpu_seconds = 0;    // user + system of the job and its reaped children
  int64_t max_rss_kb = 0;    // peak RSS of the largest process of the job
  // The end of the job's stderr (a few KiB) when it did not exit 0, for the
  // out-of-memory classifier; empty otherwise.
  std::string stderr_tail;
  // The program itself said the attempt ran out of memory (a worker's
  // "oom": true): no stderr pattern needed.
  bool reported_oom = false;
  // The GPU memory its processes held at most, measured where it ran (a
  // Slurm node); unset when headroom measures it itself (locally) or could
  // not.
  std::optional<uint64_t> peak_vram;
  // --worker: the worker died or was killed (--timeout) while it served
  // this request, so the request itself may not be at fault.
  bool worker_lost = false;
  // Per-input results the program reported, when it did (a unit of several
  // jobs with --batch-results, or a worker's reply); inputs it did not
  // mention take the attempt's exit status.
  std::vector<InputResult> results;
};

}  // namespace headroom

// JobRunner: what the scheduler needs from an executor. It lives here, with
// the layer that is called: sched calls it; the local runner
// (exec/process_runner.h) and the worker runner implement it, and tests use
// a fake that records what started and exits jobs by hand. A runner decides
// nothing: it starts, signals and reports what it was told.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jobs/attempt.h"
#include "jobs/job.h"
#include "util/status.h"
#include "util/units.h"

namespace headroom {

// What one process runs: a job, or with --batch-size several jobs whose
// inputs go to one process, in this order. A persistent worker (--worker)
// gets a unit as one request.
struct Unit {
  std::vector<const Job*> jobs;  // at least one; not owned
  const Job& lead() const { return *jobs.front(); }  // its name and number name the logs
};

// Where and how one attempt runs.
struct Launch {
  int slot = 1;     // 1-based, {%}
  int attempt = 1;  // the lead job's attempt (log names)
  // The GPU(s) given to the job: CUDA_VISIBLE_DEVICES and {gpu}. nullopt
  // leaves CUDA_VISIBLE_DEVICES as headroom found it (no GPU gating); ""
  // hides every GPU (--gpus none, CPU fallback).
  std::optional<std::string> gpu;
  // A CPU fallback attempt: the job's cpu_argv_template runs, when it has one.
  bool cpu_fallback = false;
  // The memory to ask the executor for (Slurm's --mem), in bytes; nullopt:
  // its default. The local runner ignores it.
  std::optional<uint64_t> ram;
};

// A process a runner keeps between attempts (a --worker worker), as the
// scheduler sees it when it decides which to stop.
struct KeptProcess {
  pid_t pid = 0;                   // StartedJob::pid of the attempts it serves
  std::optional<std::string> gpu;  // the Launch::gpu it was started with
  bool busy = false;               // serving a request now
  bool retiring = false;           // stops once its request ends (StopKept)
  uint64_t last_used = 0;          // grows with each request's end: smallest = idle longest
};

struct Exited {
  RunHandle handle = 0;
  ExitInfo info;
};

struct WaitResult {
  std::vector<Exited> exited;  // jobs that ended since the last Wait
  int interrupt = 0;           // SIGINT/SIGTERM/SIGHUP received, else 0
  // Started jobs whose place changed, in the executor's words ("slurm 42_3
  // RUNNING on node7"); the local runner reports none.
  std::vector<std::pair<RunHandle, std::string>> placed;
};

class JobRunner {
 public:
  virtual ~JobRunner() = default;

  // Starts one attempt of `unit` as `launch` says. An error means it could
  // not start (its jobs fail or retry; the batch goes on).
  virtual Status Start(const Unit& unit, const Launch& launch, StartedJob* started) = 0;

  // Sends `signal` to the whole process group of a started, not yet exited job.
  virtual void Signal(RunHandle handle, int signal) = 0;

  // Blocks until a job exits, an interrupt arrives, or `timeout` passes.
  virtual WaitResult Wait(Millis timeout) = 0;

  // A resume after a kill: units a killed headroom launched that still run
  // elsewhere (Slurm jobs queued or running, or ended meanwhile with their
  // result), each as its jobs' numbers (Job::number), lead first. A Start of
  // the same jobs takes such a unit back (StartedJob::adopted) instead of
  // running it a second time.
  virtual std::vector<std::vector<int64_t>> Leftovers() const { return {}; }
  // Cancels the leftovers that no Start took back, and removes what they
  // had written: their jobs run again like any other.
  virtual void DropLeftovers() {}

  // After a job's last exit: commit its output when `succeeded` (an error
  // turns the success into a failure), else discard it.
  virtual Status Complete(const Job& job, bool succeeded) = 0;

  // True when a Start of `lead`'s command on `gpu` would reuse a process
  // that is already running and idle (a worker), whose base memory is in
  // use already.
  virtual bool HasIdleProcess(const Job& /*lead*/, const std::optional<std::string>& /*gpu*/) const {
    return false;
  }

  // The processes the runner keeps now (workers), those being stopped left
  // out. The scheduler decides which of them to stop.
  virtual std::vector<KeptProcess> KeptProcesses() const { return {}; }

  // Stops a kept process: at once when idle, else once its request ends
  // (whatever it answers then, it serves no other request).
  virtual void StopKept(pid_t /*pid*/) {}

  // The batch is over: stop whatever the runner keeps between attempts
  // (idle workers), leaving no process behind. Returns an interrupt
  // (SIGINT/SIGTERM/SIGHUP) that arrived meanwhile, else 0: the batch
  // counts as interrupted by it.
  virtual int Close() { return 0; }
};

}  // namespace headroom

// Observer: what reporters (console, logs, later journal and metrics) see of
// a batch. Observers only observe: they never change what the scheduler does.
// All calls come from the scheduler's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jobs/attempt.h"
#include "jobs/job.h"
#include "jobs/outcome.h"
#include "jobs/snapshot.h"
#include "util/clock.h"
#include "util/log_level.h"

namespace headroom {

struct Counts {
  int64_t total = 0;  // jobs of the batch, skipped ones included
  int64_t succeeded = 0;
  int64_t failed = 0;  // gave up (after retries), timed out or could not start
  int64_t skipped = 0;
  int64_t interrupted = 0;
  int64_t running = 0;
  int64_t retries = 0;      // attempts that were retried
  int64_t not_started = 0;  // left in the queue when the batch stopped early
  int64_t oom_retries = 0;  // attempts that ran out of memory and were retried
  // Processes (or worker requests) started; with --batch-size each runs
  // several jobs, so this is below the attempts.
  int64_t units = 0;
  // The signal (SIGINT, SIGTERM) that stopped the batch, 0 when none; set
  // for OnBatchEnd. It may have come after the last job ended (while
  // workers stopped), when no job counts as interrupted.
  int stop_signal = 0;
  // Seconds until the batch ends, as the scheduler estimates it at each tick
  // (sched/eta.h); unset while no job's duration is known.
  std::optional<double> eta_seconds;
  int64_t done() const { return succeeded + failed + skipped + interrupted; }
};

// One job's part in a launch (OnJobLaunch): with --batch-size, the jobs of
// one unit are launched together and share its process and logs.
struct LaunchInfo {
  int slot = 0;
  int attempt = 1;            // this job's attempt
  int gpu = -1;               // the device it was placed on; -1 = none
  const Job* lead = nullptr;  // the unit's lead job, whose name its logs carry
  int lead_attempt = 1;       // the lead's attempt (log names)
  size_t unit_size = 1;
  bool last = true;           // the unit's last job: its spawn follows
};

struct AttemptStart {
  int slot = 0;
  int attempt = 1;
  StartedJob started;
  size_t unit_size = 1;  // jobs in the process this one runs in
  std::optional<uint64_t> ram;  // the memory its launch asked for (Slurm's --mem)
};

struct AttemptEnd {
  Outcome outcome = Outcome::kSucceeded;
  bool will_retry = false;
  int attempt = 1;
  int slot = 0;
  ExitInfo exit;
  double wall_seconds = 0;
  std::string stdout_log;
  std::string stderr_log;
  std::string error;                  // why it could not start / commit, else empty
  bool out_of_memory = false;         // the attempt ran out of memory (GPU or host)
  int gpu = -1;                       // the device it ran on; -1 = none
  std::optional<uint64_t> peak_vram;  // its processes' most GPU memory at a sample
  std::optional<uint64_t> peak_rss;   // its process tree's most RSS (samples or kernel)
  size_t unit_size = 1;               // jobs in the process it ran in
};

// What one job taught the scheduler about its class (the command template):
// a peak of GPU memory or RSS, an out-of-memory floor, or its duration. The
// journal keeps these, and the next batch of the class starts from them.
struct LearnedFootprint {
  std::string job_class;     // the scheduler's class key
  std::string kind;          // "vram", "rss" (bytes) or "wall_ms"
  uint64_t input_bytes = 0;  // the job's input size, what peaks are learned against
  uint64_t value = 0;
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void OnBatchStart(const Counts&, TimePoint) {}
  virtual void OnJobSkipped(const Job&, const Counts&) {}
  // Just before an attempt is spawned, once per job of its unit (the journal
  // marks it started here, so that a crash right after the spawn still knows
  // it ran).
  virtual void OnJobLaunch(const Job&, const LaunchInfo&) {}
  virtual void OnJobStart(const Job&, const AttemptStart&, const Counts&) {}
  // Just before a succeeded attempt's output is renamed into place, once
  // per succeeded job of its unit (`last`: the unit's last), before OnJobEnd
  // (the journal makes the success durable here, so that a crash after the
  // rename never runs the job again). Every OnJobEnd that says succeeded
  // had its OnJobCommit; the commit itself may still fail: OnJobEnd then
  // says failed.
  virtual void OnJobCommit(const Job&, const AttemptEnd&, bool /*last*/) {}
  virtual void OnJobEnd(const Job&, const AttemptEnd&, const Counts&) {}
  // Called at least every 100 ms while the batch runs; `waiting` names what
  // holds the queue ("slots", "delay", "retry-delay"), empty if nothing.
  virtual void OnTick(const Counts&, TimePoint, const std::string& /*waiting*/) {}
  // A notice for the log: interrupt received, halting, ...
  virtual void OnNotice(LogLevel, const std::string&) {}
  // Each fresh resource sample the scheduler used.
  virtual void OnSnapshot(const Snapshot&) {}
  // A device's concurrency limit changed to `limit`; `reason` is the line the
  // log shows ("gpu0 limit 8 -> 4: out of memory").
  virtual void OnLimitChange(int /*device*/, int /*limit*/, const std::string& /*reason*/) {}
  virtual void OnLearned(const LearnedFootprint&) {}
  // Where attempt `attempt` of a started job runs now, in its executor's
  // words, when that changed: "slurm 42_3 PENDING (Priority)", "slurm
  // 42_3 RUNNING on node7" (--executor slurm; the local runner says nothing).
  virtual void OnJobPlaced(const Job&, int /*attempt*/, const std::string& /*where*/) {}
  virtual void OnBatchEnd(const Counts&, TimePoint) {}
};

// Forwards every call to each observer, in order.
class ObserverList : public Observer {
 public:
  void Add(Observer* observer) { observers_.push_back(observer); }
  void OnBatchStart(const Counts& c, TimePoint t) override;
  void OnJobSkipped(const Job& j, const Counts& c) override;
  void OnJobLaunch(const Job& j, const LaunchInfo& l) override;
  void OnJobStart(const Job& j, const AttemptStart& a, const Counts& c) override;
  void OnJobCommit(const Job& j, const AttemptEnd& e, bool last) override;
  void OnJobEnd(const Job& j, const AttemptEnd& a, const Counts& c) override;
  void OnTick(const Counts& c, TimePoint t, const std::string& w) override;
  void OnNotice(LogLevel l, const std::string& m) override;
  void OnSnapshot(const Snapshot& s) override;
  void OnJobPlaced(const Job& j, int attempt, const std::string& where) override;
  void OnLimitChange(int device, int limit, const std::string& reason) override;
  void OnLearned(const LearnedFootprint& f) override;
  void OnBatchEnd(const Counts& c, TimePoint t) override;

 private:
  std::vector<Observer*> observers_;  // not owned
};

}  // namespace headroom

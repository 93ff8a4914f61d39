// Metrics: what the Prometheus endpoint (--metrics-addr) shows of a batch.
// An Observer keeps the numbers (jobs by state, attempt durations, retries by
// cause, each GPU's concurrency limit, how long each gate held the queue,
// the latest GPU and host readings) in a MetricsState; RenderMetrics() turns
// a state into the text exposition format 0.0.4, as a pure function.
//
// Thread rules: the scheduler's thread calls the Observer methods while the
// HTTP server's threads call Render(); both take the one mutex, and Render()
// formats a copy outside it.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "jobs/observer.h"

namespace headroom {

// Upper bounds (seconds) of headroom_job_duration_seconds' buckets; +Inf is
// implied.
inline constexpr double kDurationBuckets[] = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600};

struct MetricsState {
  Counts counts;  // the latest counts the scheduler gave
  // Attempts that ran, by duration: per-bucket counts (not cumulative), one
  // per kDurationBuckets bound plus one for +Inf.
  std::vector<uint64_t> duration_buckets =
      std::vector<uint64_t>(std::size(kDurationBuckets) + 1, 0);
  double duration_sum = 0;
  uint64_t duration_count = 0;
  int64_t oom_retries = 0;                     // attempts that ran out of memory and were retried
  int64_t failure_retries = 0;                 // other attempts that were retried
  std::map<int, int> concurrency_limits;       // GPU index -> jobs it may run
  std::map<std::string, double> wait_seconds;  // gate -> seconds it held the queue
  std::optional<SystemSnapshot> host;          // unset until the first sample
  std::vector<GpuDevice> gpus;                 // the latest sample's, without processes
  std::string batch;                           // the journal's batch id; "" without one
  std::string command;                         // the command template, shell-joined
  std::optional<double> eta_seconds;           // as the progress line estimates it
  // --executor slurm: the batch's Slurm jobs by Slurm's state (PENDING,
  // RUNNING, ...), from the executor's word on each running attempt; how
  // long attempts waited from submission to RUNNING (at the scheduler's
  // 0.1 s ticks); submissions Slurm refused.
  std::map<std::string, int64_t> slurm_jobs;
  double slurm_queue_wait_sum = 0;
  uint64_t slurm_queue_wait_count = 0;
  int64_t slurm_submit_errors = 0;
};

// The exposition text of `state`: every family with # HELP and # TYPE, even
// when it has no sample yet; a reading that is unknown has no sample.
std::string RenderMetrics(const MetricsState& state);

class Metrics : public Observer {
 public:
  // headroom_batch_info's labels; before the batch starts.
  void SetBatch(const std::string& batch, const std::string& command);
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Any thread.
  std::string Render() const;
  MetricsState State() const;

  // The scheduler's thread (or before the batch starts).
  void OnBatchStart(const Counts& counts, TimePoint now) override;
  void OnJobSkipped(const Job& job, const Counts& counts) override;
  void OnJobStart(const Job& job, const AttemptStart& start, const Counts& counts) override;
  void OnJobEnd(const Job& job, const AttemptEnd& end, const Counts& counts) override;
  // The time since the previous tick is counted for each gate that held the
  // queue at the previous tick.
  void OnTick(const Counts& counts, TimePoint now, const std::string& waiting) override;
  void OnSnapshot(const Snapshot& snapshot) override;
  // Also how main seeds each GPU's starting limit, before the batch.
  void OnLimitChange(int device, int limit, const std::string& reason) override;
  void OnJobPlaced(const Job& job, int attempt, const std::string& where) override;
  void OnBatchEnd(const Counts& counts, TimePoint now) override;

 private:
  void CountWait(TimePoint now);  // REQUIRES: mutex_ held
  void CountSlurmStates();        // REQUIRES: mutex_ held

  // --executor slurm, by (job number, attempt): each running attempt's
  // Slurm state, and when it was submitted until it runs.
  std::map<std::pair<int64_t, int>, std::string> slurm_states_;  // GUARDED_BY(mutex_)
  std::map<std::pair<int64_t, int>, TimePoint> submitted_;       // GUARDED_BY(mutex_)
  mutable std::mutex mutex_;
  MetricsState state_;                  // GUARDED_BY(mutex_)
  TimePoint start_{};                   // GUARDED_BY(mutex_)
  std::optional<TimePoint> last_tick_;  // GUARDED_BY(mutex_)
  std::string last_waiting_;            // GUARDED_BY(mutex_)
};

}  // namespace headroom

#include "report/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string_view>
#include <utility>

#include "report/waits.h"

namespace headroom {
namespace {

// A sample value as Prometheus parses it: whole numbers without a fraction,
// others in the shortest form that reads back exactly.
std::string Number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(value));
  }
  return fmt::format("{}", value);
}

std::string Number(int64_t value) { return fmt::format("{}", value); }
std::string Number(uint64_t value) { return fmt::format("{}", value); }

// Label values escape backslash, double quote and newline (format 0.0.4).
std::string EscapeLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

using Labels = std::vector<std::pair<std::string_view, std::string>>;

std::string FormatLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (const auto& [key, value] : labels) {
    if (out.size() > 1) out += ',';
    out += fmt::format("{}=\"{}\"", key, EscapeLabel(value));
  }
  return out + "}";
}

class Writer {
 public:
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void Sample(std::string_view name, const Labels& labels, const std::string& value) {
    text_ += fmt::format("{}{} {}\n", name, FormatLabels(labels), value);
  }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

void RenderInfo(const MetricsState& s, Writer* w) {
  w->Family("headroom_build_info", "gauge", "The headroom serving these metrics: its version.");
  w->Sample("headroom_build_info", {{"version", HEADROOM_VERSION}}, "1");
  w->Family("headroom_batch_info", "gauge", "The batch: its id in the journal and its command.");
  w->Sample("headroom_batch_info", {{"batch", s.batch}, {"command", s.command}}, "1");
  w->Family("headroom_eta_seconds", "gauge",
            "Seconds until the batch is done, as the progress line estimates it.");
  if (s.eta_seconds) w->Sample("headroom_eta_seconds", {}, Number(*s.eta_seconds));
}

// Counters of finished jobs, so that rate() works (headroom_jobs is a
// gauge of the batch's current state).
void RenderFinished(const Counts& c, Writer* w) {
  w->Family("headroom_jobs_finished_total", "counter", "Jobs that finished, by outcome.");
  const std::pair<const char*, int64_t> outcomes[] = {{"succeeded", c.succeeded},
                                                      {"failed", c.failed},
                                                      {"skipped", c.skipped},
                                                      {"interrupted", c.interrupted}};
  for (const auto& [outcome, count] : outcomes) {
    w->Sample("headroom_jobs_finished_total", {{"outcome", outcome}}, Number(count));
  }
}

void RenderJobs(const Counts& c, Writer* w) {
  w->Family("headroom_jobs", "gauge", "Jobs of the batch by state.");
  int64_t queued = std::max<int64_t>(0, c.total - c.done() - c.running);
  const std::pair<JobState, int64_t> states[] = {
      {JobState::kQueued, queued},      {JobState::kRunning, c.running},
      {JobState::kSucceeded, c.succeeded}, {JobState::kFailed, c.failed},
      {JobState::kSkipped, c.skipped},  {JobState::kInterrupted, c.interrupted}};
  for (const auto& [state, count] : states) {
    w->Sample("headroom_jobs", {{"state", std::string(JobStateName(state))}}, Number(count));
  }
}

void RenderDurations(const MetricsState& s, Writer* w) {
  constexpr std::string_view kName = "headroom_job_duration_seconds";
  w->Family(kName, "histogram", "Wall time of each attempt that ran, retried ones included.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < s.duration_buckets.size(); ++i) {
    cumulative += s.duration_buckets[i];
    std::string le = i < std::size(kDurationBuckets) ? Number(kDurationBuckets[i]) : "+Inf";
    w->Sample("headroom_job_duration_seconds_bucket", {{"le", le}}, Number(cumulative));
  }
  w->Sample("headroom_job_duration_seconds_sum", {}, Number(s.duration_sum));
  w->Sample("headroom_job_duration_seconds_count", {}, Number(s.duration_count));
}

void RenderScheduler(const MetricsState& s, Writer* w) {
  w->Family("headroom_retries_total", "counter", "Attempts that were retried, by cause.");
  w->Sample("headroom_retries_total", {{"cause", "oom"}}, Number(s.oom_retries));
  w->Sample("headroom_retries_total", {{"cause", "failure"}}, Number(s.failure_retries));

  w->Family("headroom_concurrency_limit", "gauge",
            "Jobs of the batch a GPU may run at once; lowered after out of memory.");
  for (const auto& [gpu, limit] : s.concurrency_limits) {
    w->Sample("headroom_concurrency_limit", {{"gpu", std::to_string(gpu)}}, Number(int64_t{limit}));
  }

  w->Family("headroom_wait_seconds_total", "counter",
            "Seconds each gate held the queue while jobs waited to start.");
  for (const auto& [gate, seconds] : s.wait_seconds) {
    w->Sample("headroom_wait_seconds_total", {{"gate", gate}}, Number(seconds));
  }
}

void RenderGpus(const std::vector<GpuDevice>& gpus, Writer* w) {
  // Series are labelled by index and UUID (an index can name another GPU
  // after a reboot or under another CUDA_VISIBLE_DEVICES); the name is said
  // once, in headroom_gpu_info.
  auto labels = [](const GpuDevice& d) -> Labels {
    return {{"gpu", std::to_string(d.index)}, {"uuid", d.uuid}};
  };
  w->Family("headroom_gpu_info", "gauge", "Each GPU: its index, UUID and name.");
  for (const GpuDevice& d : gpus) {
    w->Sample("headroom_gpu_info",
              {{"gpu", std::to_string(d.index)}, {"uuid", d.uuid}, {"name", d.name}}, "1");
  }
  w->Family("headroom_gpu_memory_used_bytes", "gauge", "GPU memory in use, by any process.");
  for (const GpuDevice& d : gpus) {
    w->Sample("headroom_gpu_memory_used_bytes", labels(d), Number(d.memory_used));
  }
  w->Family("headroom_gpu_memory_total_bytes", "gauge", "GPU memory size.");
  for (const GpuDevice& d : gpus) {
    w->Sample("headroom_gpu_memory_total_bytes", labels(d), Number(d.memory_total));
  }
  w->Family("headroom_gpu_temperature_celsius", "gauge", "GPU temperature.");
  for (const GpuDevice& d : gpus) {
    if (d.temperature_c) {
      w->Sample("headroom_gpu_temperature_celsius", labels(d), Number(int64_t{*d.temperature_c}));
    }
  }
  w->Family("headroom_gpu_utilization_ratio", "gauge",
            "Fraction of the last sample period the GPU was busy (0 to 1).");
  for (const GpuDevice& d : gpus) {
    if (d.utilization_pct) {
      w->Sample("headroom_gpu_utilization_ratio", labels(d), Number(*d.utilization_pct / 100.0));
    }
  }
}

void RenderHost(const std::optional<SystemSnapshot>& host, Writer* w) {
  w->Family("headroom_host_memory_total_bytes", "gauge",
            "System RAM (MemTotal, or the cgroup limit when lower).");
  if (host) w->Sample("headroom_host_memory_total_bytes", {}, Number(host->memory_total));
  w->Family("headroom_host_memory_available_bytes", "gauge",
            "System RAM available (MemAvailable, within the cgroup limit).");
  if (host) w->Sample("headroom_host_memory_available_bytes", {}, Number(host->memory_available));
}

void RenderSlurm(const MetricsState& s, Writer* w) {
  w->Family("headroom_slurm_jobs", "gauge",
            "The batch's Slurm jobs in Slurm's queue, by Slurm's state (--executor slurm).");
  for (const auto& [slurm_state, count] : s.slurm_jobs) {
    w->Sample("headroom_slurm_jobs", {{"state", slurm_state}}, Number(count));
  }
  w->Family("headroom_slurm_queue_wait_seconds", "summary",
            "Time from submission to RUNNING of each Slurm job (--executor slurm).");
  w->Sample("headroom_slurm_queue_wait_seconds_sum", {}, Number(s.slurm_queue_wait_sum));
  w->Sample("headroom_slurm_queue_wait_seconds_count", {}, Number(s.slurm_queue_wait_count));
  w->Family("headroom_slurm_submit_errors_total", "counter",
            "Submissions Slurm refused (sbatch's rejections; --executor slurm).");
  w->Sample("headroom_slurm_submit_errors_total", {}, Number(s.slurm_submit_errors));
}


}  // namespace

std::string RenderMetrics(const MetricsState& state) {
  Writer w;
  RenderInfo(state, &w);
  RenderJobs(state.counts, &w);
  RenderFinished(state.counts, &w);
  RenderDurations(state, &w);
  RenderScheduler(state, &w);
  RenderGpus(state.gpus, &w);
  RenderHost(state.host, &w);
  RenderSlurm(state, &w);
  return w.Take();
}

std::string Metrics::Render() const { return RenderMetrics(State()); }

MetricsState Metrics::State() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

void Metrics::SetBatch(const std::string& batch, const std::string& command) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.batch = batch;
  state_.command = command;
}

void Metrics::OnBatchStart(const Counts& counts, TimePoint now) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.counts = counts;
  start_ = now;
  last_tick_ = now;
  last_waiting_.clear();
}

void Metrics::OnJobSkipped(const Job&, const Counts& counts) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.counts = counts;
}

void Metrics::OnJobStart(const Job& job, const AttemptStart& start, const Counts& counts) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.counts = counts;
  submitted_[{job.number, start.attempt}] = last_tick_.value_or(start_);
}

// "slurm 42_3 RUNNING on node7": its state is the third word.
void Metrics::OnJobPlaced(const Job& job, int attempt, const std::string& where) {
  std::istringstream words(where);
  std::string executor, id, slurm_state;
  words >> executor >> id >> slurm_state;
  if (executor != "slurm" || slurm_state.empty()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  slurm_states_[{job.number, attempt}] = slurm_state;
  CountSlurmStates();
  auto submitted = submitted_.find({job.number, attempt});
  if (slurm_state == "RUNNING" && submitted != submitted_.end()) {
    TimePoint now = last_tick_.value_or(submitted->second);
    state_.slurm_queue_wait_sum +=
        std::max(0.0, std::chrono::duration<double>(now - submitted->second).count());
    ++state_.slurm_queue_wait_count;
    submitted_.erase(submitted);
  }
}

void Metrics::CountSlurmStates() {
  state_.slurm_jobs.clear();
  for (const auto& [attempt, slurm_state] : slurm_states_) ++state_.slurm_jobs[slurm_state];
}

void Metrics::OnJobEnd(const Job& job, const AttemptEnd& end, const Counts& counts) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.counts = counts;
  submitted_.erase({job.number, end.attempt});
  if (slurm_states_.erase({job.number, end.attempt}) > 0) CountSlurmStates();
  if (end.outcome == Outcome::kStartFailed && end.error.rfind("sbatch", 0) == 0) {
    ++state_.slurm_submit_errors;  // Slurm refused it (the launcher's "sbatch: ..." message)
  }
  if (end.will_retry && end.out_of_memory) {
    ++state_.oom_retries;
  } else if (end.will_retry) {
    ++state_.failure_retries;
  }
  if (end.outcome == Outcome::kStartFailed) return;  // it never ran
  const double* bound =
      std::lower_bound(std::begin(kDurationBuckets), std::end(kDurationBuckets), end.wall_seconds);
  ++state_.duration_buckets[static_cast<size_t>(bound - std::begin(kDurationBuckets))];
  state_.duration_sum += end.wall_seconds;
  ++state_.duration_count;
}

void Metrics::CountWait(TimePoint now) {
  if (last_tick_ && now > *last_tick_) {
    double seconds = std::chrono::duration<double>(now - *last_tick_).count();
    for (const std::string& gate : WaitingGates(last_waiting_)) {
      state_.wait_seconds[gate] += seconds;
    }
  }
  last_tick_ = now;
}

void Metrics::OnTick(const Counts& counts, TimePoint now, const std::string& waiting) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.counts = counts;
  // The scheduler's estimate, as the progress line shows it.
  state_.eta_seconds = counts.eta_seconds;
  CountWait(now);
  last_waiting_ = waiting;
}

void Metrics::OnSnapshot(const Snapshot& snapshot) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.host = snapshot.system;
  state_.gpus = snapshot.gpus;
  for (GpuDevice& device : state_.gpus) device.processes.clear();
}

void Metrics::OnLimitChange(int device, int limit, const std::string&) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.concurrency_limits[device] = limit;
}

void Metrics::OnBatchEnd(const Counts& counts, TimePoint now) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.counts = counts;
  // Over: nothing is left (a batch stopped early has no estimate).
  state_.eta_seconds = counts.not_started == 0 && counts.stop_signal == 0
                           ? std::optional<double>(0)
                           : std::nullopt;
  CountWait(now);
  last_waiting_.clear();
}

}  // namespace headroom

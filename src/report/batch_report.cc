#include "report/batch_report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "exec/log_tail.h"
#include "report/exit_text.h"
#include "util/units.h"

namespace headroom {
namespace {

using Json = nlohmann::ordered_json;

// The last moment the batch is known to have been alive: its end, now while
// it runs, or the latest thing a killed one recorded. Attempts without an end
// stop there.
double Horizon(const BatchData& data, BatchRunState state, double now) {
  if (state == BatchRunState::kFinished) return *data.batch.ended_at;
  if (state == BatchRunState::kRunning) return std::max(now, data.batch.started_at);
  double last = data.batch.started_at;
  for (const AttemptRecord& attempt : data.attempts) {
    last = std::max({last, attempt.start, attempt.end.value_or(attempt.start)});
  }
  for (const SampleRecord& sample : data.samples) last = std::max(last, sample.t);
  for (const EventRecord& event : data.events) last = std::max(last, event.t);
  return last;
}

double AttemptEnd(const AttemptRecord& attempt, double horizon) {
  return std::max(attempt.start, attempt.end.value_or(horizon));
}

// Run time: the executor's wall time once ended, else the time so far.
double RunSeconds(const AttemptRecord& attempt, double horizon) {
  if (attempt.end && attempt.wall_seconds > 0) return attempt.wall_seconds;
  return AttemptEnd(attempt, horizon) - attempt.start;
}

template <typename T>
void KeepMax(std::optional<T>* best, const std::optional<T>& value) {
  if (value && (!*best || *value > **best)) *best = value;
}

// Total length of the union of [start, end) intervals.
double UnionLength(std::vector<std::pair<double, double>> intervals) {
  std::sort(intervals.begin(), intervals.end());
  double total = 0;
  double open_start = 0;
  double open_end = -1;
  bool open = false;
  for (const auto& [start, end] : intervals) {
    if (open && start <= open_end) {
      open_end = std::max(open_end, end);
      continue;
    }
    if (open) total += open_end - open_start;
    open_start = start;
    open_end = end;
    open = true;
  }
  if (open) total += open_end - open_start;
  return total;
}

// Nearest-rank percentiles of the measured peaks; the median is the lower one.
FootprintSummary Summarize(std::vector<uint64_t> peaks) {
  FootprintSummary summary;
  summary.measured = static_cast<int64_t>(peaks.size());
  if (peaks.empty()) return summary;
  std::sort(peaks.begin(), peaks.end());
  summary.max = peaks.back();
  summary.median = peaks[(peaks.size() - 1) / 2];
  auto rank = static_cast<size_t>(std::ceil(0.9 * static_cast<double>(peaks.size())));
  summary.p90 = peaks[std::max<size_t>(rank, 1) - 1];
  return summary;
}

void AddJobs(const BatchData& data, double horizon, BatchReport* report) {
  std::map<std::string, std::vector<AttemptRecord>> by_job;
  for (const AttemptRecord& attempt : data.attempts) by_job[attempt.job_key].push_back(attempt);
  std::vector<uint64_t> vram_peaks;
  std::vector<uint64_t> rss_peaks;
  for (const JobRecord& job : data.jobs) {
    JobTiming timing;
    timing.job = job;
    auto found = by_job.find(job.key);
    if (found != by_job.end()) timing.attempts = std::move(found->second);
    std::sort(timing.attempts.begin(), timing.attempts.end(),
              [](const AttemptRecord& a, const AttemptRecord& b) { return a.attempt < b.attempt; });
    std::optional<double> first_start;
    double last_end = 0;
    for (size_t i = 0; i < timing.attempts.size(); ++i) {
      const AttemptRecord& attempt = timing.attempts[i];
      if (!first_start || attempt.start < *first_start) first_start = attempt.start;
      last_end = std::max(last_end, AttemptEnd(attempt, horizon));
      timing.run_seconds += RunSeconds(attempt, horizon);
      KeepMax(&timing.peak_vram, attempt.peak_vram);
      KeepMax(&timing.peak_rss, attempt.peak_rss);
      if (attempt.oom) {
        ++report->oom_attempts;
        if (i + 1 < timing.attempts.size()) ++report->oom_retries;
      }
      // What follows an interrupted attempt (a resume ran it again, or took
      // back its Slurm job) is not a retry.
      if (i + 1 < timing.attempts.size() && attempt.outcome != "interrupted") ++report->retries;
    }
    if (first_start) {
      timing.queue_wait = std::max(0.0, *first_start - data.batch.started_at);
      if (timing.attempts.size() > 1) {
        timing.retry_wait_seconds = std::max(0.0, last_end - *first_start - timing.run_seconds);
      }
    }
    if (timing.peak_vram) vram_peaks.push_back(*timing.peak_vram);
    if (timing.peak_rss) rss_peaks.push_back(*timing.peak_rss);
    // A killed headroom's jobs run no more: they were interrupted (a
    // resume runs them again).
    bool stopped = report->state == BatchRunState::kStopped;
    ++report->counts[stopped && job.state == JobState::kRunning ? JobState::kInterrupted : job.state];
    report->jobs.push_back(std::move(timing));
  }
  report->vram = Summarize(std::move(vram_peaks));
  report->rss = Summarize(std::move(rss_peaks));
}

// The most intervals that overlap at one moment (one ending as another
// starts does not overlap it).
int64_t MostAtOnce(const std::vector<std::pair<double, double>>& intervals) {
  std::vector<std::pair<double, int>> edges;  // (time, +1 start / -1 end); ends sort first
  for (const auto& [start, end] : intervals) {
    edges.emplace_back(start, 1);
    edges.emplace_back(std::max(start, end), -1);
  }
  std::sort(edges.begin(), edges.end());
  int64_t now = 0, most = 0;
  for (const auto& [t, step] : edges) {
    now += step;
    most = std::max(most, now);
  }
  return most;
}

void AddGpus(const BatchData& data, double horizon, BatchReport* report) {
  std::map<int, GpuUsage> gpus;
  std::map<int, std::vector<std::pair<double, double>>> busy;
  std::map<int, std::pair<double, int64_t>> utilization;  // sum, count
  std::map<int, std::vector<uint64_t>> job_vram;
  for (const AttemptRecord& attempt : data.attempts) {
    if (attempt.gpu < 0) continue;
    GpuUsage& gpu = gpus[attempt.gpu];
    ++gpu.attempts;
    gpu.job_seconds += RunSeconds(attempt, horizon);
    KeepMax(&gpu.peak_job_vram, attempt.peak_vram);
    if (attempt.peak_vram) job_vram[attempt.gpu].push_back(*attempt.peak_vram);
    busy[attempt.gpu].emplace_back(attempt.start, AttemptEnd(attempt, horizon));
  }
  for (const SampleRecord& sample : data.samples) {
    if (sample.gpu < 0) {
      KeepMax(&report->peak_ram_used, std::optional<uint64_t>(sample.used));
      report->ram_total = sample.total;
      continue;
    }
    GpuUsage& gpu = gpus[sample.gpu];
    KeepMax(&gpu.peak_used, std::optional<uint64_t>(sample.used));
    gpu.total = sample.total;
    KeepMax(&gpu.peak_temperature_c, sample.temperature_c);
    KeepMax(&gpu.peak_utilization_pct, sample.utilization_pct);
    if (sample.utilization_pct) {
      utilization[sample.gpu].first += *sample.utilization_pct;
      ++utilization[sample.gpu].second;
    }
  }
  for (const EventRecord& event : data.events) {
    if (event.kind != "limit" || event.gpu < 0) continue;
    GpuUsage& gpu = gpus[event.gpu];
    gpu.limit = event.value;
    ++gpu.limit_changes;
  }
  for (auto& [index, gpu] : gpus) {
    gpu.index = index;
    gpu.busy_seconds = UnionLength(busy[index]);
    gpu.most_at_once = MostAtOnce(busy[index]);
    std::vector<uint64_t>& peaks = job_vram[index];
    if (!peaks.empty()) {
      std::nth_element(peaks.begin(), peaks.begin() + static_cast<ptrdiff_t>((peaks.size() - 1) / 2),
                       peaks.end());
      gpu.median_job_vram = peaks[(peaks.size() - 1) / 2];
    }
    auto [sum, count] = utilization[index];
    if (count > 0) gpu.mean_utilization_pct = sum / static_cast<double>(count);
    report->gpus.push_back(gpu);
  }
}

// The time the batch's runs spent: for each run (a resume starts one, at
// its "resumed" event), from its first attempt's start to its last end (now,
// for a run going on), so that the downtime between a killed run and its
// resume does not count.
double ActiveSeconds(const BatchData& data, double horizon, bool running) {
  std::vector<double> resumes;
  for (const EventRecord& event : data.events) {
    if (event.kind == "resumed") resumes.push_back(event.t);
  }
  std::sort(resumes.begin(), resumes.end());
  std::vector<std::optional<double>> first(resumes.size() + 1);
  std::vector<double> last(resumes.size() + 1, 0);
  for (const AttemptRecord& attempt : data.attempts) {
    size_t run = static_cast<size_t>(std::upper_bound(resumes.begin(), resumes.end(),
                                                      attempt.start) -
                                     resumes.begin());
    if (!first[run] || attempt.start < *first[run]) first[run] = attempt.start;
    last[run] = std::max(last[run], AttemptEnd(attempt, horizon));
  }
  if (running) {
    if (!first.back() && !resumes.empty()) first.back() = resumes.back();
    last.back() = horizon;
  }
  double active = 0;
  for (size_t run = 0; run < first.size(); ++run) {
    if (first[run]) active += std::max(0.0, last[run] - *first[run]);
  }
  return active;
}

void AddThroughput(const BatchData& data, double horizon, BatchReport* report) {
  Throughput& throughput = report->throughput;
  throughput.finished = report->counts[JobState::kSucceeded] + report->counts[JobState::kFailed];
  if (data.attempts.empty()) return;
  throughput.active_seconds =
      ActiveSeconds(data, horizon, report->state == BatchRunState::kRunning);
  std::optional<double> per_second;
  if (throughput.finished > 0 && throughput.active_seconds > 0) {
    per_second = static_cast<double>(throughput.finished) / throughput.active_seconds;
    throughput.jobs_per_hour = *per_second * 3600;
  }
  int64_t left = report->counts[JobState::kQueued] + report->counts[JobState::kRunning];
  if (report->state != BatchRunState::kRunning || left == 0) return;
  // The scheduler's latest estimate ("eta" events, sched/eta.h), less the
  // time since; a batch of an older headroom has none: the rate so far.
  const EventRecord* eta = nullptr;
  for (const EventRecord& event : data.events) {
    if (event.kind == "eta") eta = &event;
  }
  if (eta != nullptr) {
    throughput.eta_seconds =
        std::max(0.0, static_cast<double>(eta->value) / 1000 - std::max(0.0, horizon - eta->t));
  } else if (per_second) {
    throughput.eta_seconds = static_cast<double>(left) / *per_second;
  }
}

// --- JSON ---------------------------------------------------------------

// Seconds to the millisecond: enough, and the file stays readable.
double Round3(double seconds) { return std::round(seconds * 1000) / 1000; }

template <typename T>
Json Opt(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json OptSeconds(const std::optional<double>& value) {
  return value ? Json(Round3(*value)) : Json(nullptr);
}

Json AttemptJson(const AttemptRecord& attempt, double horizon) {
  Json out;
  out["attempt"] = attempt.attempt;
  out["slot"] = attempt.slot;
  out["gpu"] = attempt.gpu >= 0 ? Json(attempt.gpu) : Json(nullptr);
  out["start"] = Round3(attempt.start);
  out["end"] = OptSeconds(attempt.end);
  out["run_s"] = Round3(RunSeconds(attempt, horizon));
  out["cpu_s"] = Round3(attempt.cpu_seconds);
  out["outcome"] = attempt.outcome;
  out["class"] = AttemptClassName(ClassifyAttempt(attempt));
  out["oom"] = attempt.oom;
  out["exit_code"] = Opt(attempt.exit_code);
  out["signal"] = Opt(attempt.signal);
  out["peak_vram"] = Opt(attempt.peak_vram);
  out["peak_rss"] = Opt(attempt.peak_rss);
  out["stdout_log"] = attempt.stdout_log;
  out["stderr_log"] = attempt.stderr_log;
  return out;
}

Json JobJson(const JobTiming& timing, double horizon) {
  const JobRecord& job = timing.job;
  Json out;
  out["number"] = job.number;
  out["key"] = job.key;
  out["name"] = job.name;
  out["input"] = job.input;
  out["output"] = job.output;
  out["priority"] = job.priority;
  out["state"] = JobStateName(job.state);
  out["queue_wait_s"] = OptSeconds(timing.queue_wait);
  out["run_s"] = Round3(timing.run_seconds);
  out["retry_wait_s"] = Round3(timing.retry_wait_seconds);
  out["peak_vram"] = Opt(timing.peak_vram);
  out["peak_rss"] = Opt(timing.peak_rss);
  if (timing.slurm_queue_wait) out["slurm_queue_wait_s"] = Round3(*timing.slurm_queue_wait);
  if (timing.requested_ram) out["requested_ram"] = *timing.requested_ram;
  if (!timing.stderr_tail.empty()) out["stderr_tail"] = timing.stderr_tail;
  Json attempts = Json::array();
  for (const AttemptRecord& attempt : timing.attempts) {
    attempts.push_back(AttemptJson(attempt, horizon));
  }
  out["attempts"] = std::move(attempts);
  return out;
}

Json GpuJson(const GpuUsage& gpu, double elapsed) {
  Json out;
  out["index"] = gpu.index;
  out["attempts"] = gpu.attempts;
  out["job_s"] = Round3(gpu.job_seconds);
  out["busy_s"] = Round3(gpu.busy_seconds);
  out["busy_fraction"] = elapsed > 0 ? Json(Round3(gpu.busy_seconds / elapsed)) : Json(nullptr);
  out["mean_utilization_pct"] = gpu.mean_utilization_pct
                                    ? Json(std::round(*gpu.mean_utilization_pct * 10) / 10)
                                    : Json(nullptr);
  out["peak_utilization_pct"] = Opt(gpu.peak_utilization_pct);
  out["peak_memory_used"] = Opt(gpu.peak_used);
  out["memory_total"] = Opt(gpu.total);
  out["peak_temperature_c"] = Opt(gpu.peak_temperature_c);
  out["peak_job_vram"] = Opt(gpu.peak_job_vram);
  out["limit"] = Opt(gpu.limit);
  out["limit_changes"] = gpu.limit_changes;
  out["most_at_once"] = gpu.most_at_once;
  out["median_job_vram"] = Opt(gpu.median_job_vram);
  return out;
}

Json FootprintJson(const FootprintSummary& summary) {
  Json out;
  out["jobs_measured"] = summary.measured;
  out["max"] = Opt(summary.max);
  out["median"] = Opt(summary.median);
  out["p90"] = Opt(summary.p90);
  return out;
}

// The batch's options as recorded (JSON text); kept as a string if it is not JSON.
Json OptionsJson(const std::string& text) {
  if (text.empty()) return Json(nullptr);
  Json parsed = Json::parse(text, nullptr, false);
  return parsed.is_discarded() ? Json(text) : parsed;
}

Json BatchJson(const BatchReport& report) {
  const BatchRecord& batch = report.data.batch;
  Json out;
  out["id"] = batch.id;
  out["state"] = BatchRunStateName(report.state);
  out["host"] = batch.host;
  out["pid"] = batch.pid;
  out["command"] = batch.command_template;
  out["input_source"] = batch.input_source;
  out["started_at"] = Round3(batch.started_at);
  out["ended_at"] = OptSeconds(batch.ended_at);
  out["exit_code"] = Opt(batch.exit_code);
  out["elapsed_s"] = Round3(report.elapsed_seconds);
  out["options"] = OptionsJson(batch.options_json);
  return out;
}

Json TotalsJson(const BatchReport& report) {
  Json out;
  out["jobs"] = static_cast<int64_t>(report.jobs.size());
  for (JobState state : kAllJobStates) out[std::string(JobStateName(state))] = report.counts.at(state);
  out["attempts"] = report.attempts;
  out["processes"] = report.processes;
  out["retries"] = report.retries;
  out["oom_attempts"] = report.oom_attempts;
  out["oom_retries"] = report.oom_retries;
  return out;
}

Json ThroughputJson(const Throughput& throughput) {
  Json out;
  out["jobs_finished"] = throughput.finished;
  out["active_s"] = Round3(throughput.active_seconds);
  out["jobs_per_hour"] = throughput.jobs_per_hour
                             ? Json(std::round(*throughput.jobs_per_hour * 10) / 10)
                             : Json(nullptr);
  out["eta_s"] = OptSeconds(throughput.eta_seconds);
  return out;
}

Json LimitsJson(const std::vector<EventRecord>& events) {
  Json out = Json::array();
  for (const EventRecord& event : events) {
    if (event.kind != "limit") continue;
    Json limit;
    limit["t"] = Round3(event.t);
    limit["gpu"] = event.gpu >= 0 ? Json(event.gpu) : Json(nullptr);
    limit["limit"] = event.value;
    limit["reason"] = event.text;
    out.push_back(std::move(limit));
  }
  return out;
}

// An option the batch ran with, from its journaled effective options
// (--print-config's JSON: {"vram_high": {"value": "0.85", ...}}), as a
// number; nullopt when not recorded (an older batch) or not a number.
std::optional<double> RecordedOption(const Json& options, const std::string& name) {
  if (!options.is_object() || !options.contains(name)) return std::nullopt;
  const Json& entry = options[name];
  std::string text = entry.is_object() ? entry.value("value", std::string()) : std::string();
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// --vram-high, --temp-warm and --temp-limit as the batch ran with them.
void AddRecordedOptions(const BatchRecord& batch, BatchReport* report) {
  Json options = Json::parse(batch.options_json, nullptr, false);
  report->vram_high = RecordedOption(options, "vram_high");
  if (report->vram_high && !(*report->vram_high > 0 && *report->vram_high <= 1)) {
    report->vram_high.reset();
  }
  report->temp_warm = RecordedOption(options, "temp_warm");
  report->temp_limit = RecordedOption(options, "temp_limit");
}

Json WaitsJson(const std::vector<WaitInterval>& waits) {
  Json out = Json::array();
  for (const WaitInterval& wait : waits) {
    Json one;
    one["start"] = Round3(wait.start);
    one["end"] = Round3(wait.end);
    one["reason"] = wait.gate.gate;
    one["device"] = wait.gate.device >= 0 ? Json(wait.gate.device) : Json(nullptr);
    out.push_back(std::move(one));
  }
  return out;
}

}  // namespace

AttemptClass ClassifyAttempt(const AttemptRecord& attempt) {
  return ClassifyStoredOutcome(attempt.outcome, attempt.oom, attempt.end.has_value());
}

// "placed" (where each attempt ran: "slurm 42_3 RUNNING on node7") and
// "requested" (its memory request) events, as each job's queue wait and
// request, and their sums.
void AddSlurm(const BatchData& data, BatchReport* report) {
  std::map<std::pair<std::string, int64_t>, double> running_at;  // (key, attempt) -> first RUNNING
  std::map<std::string, std::pair<int64_t, uint64_t>> requested;  // key -> (attempt, bytes), latest
  for (const EventRecord& event : data.events) {
    if (event.kind != "placed" && event.kind != "requested") continue;
    size_t tab = event.text.find('\t');
    if (tab == std::string::npos) continue;
    std::string key = event.text.substr(0, tab);
    std::string_view rest = std::string_view(event.text).substr(tab + 1);
    if (event.kind == "placed") {
      if (rest.find(" RUNNING") != std::string_view::npos) running_at.try_emplace({key, event.value}, event.t);
      continue;
    }
    auto& latest = requested[key];
    if (event.value >= latest.first) latest = {event.value, std::strtoull(std::string(rest).c_str(), nullptr, 10)};
  }
  if (running_at.empty() && requested.empty()) return;
  report->slurm_running_at = running_at;
  SlurmSummary& slurm = report->slurm;
  double wait_sum = 0;
  for (JobTiming& timing : report->jobs) {
    if (!timing.attempts.empty()) {
      const AttemptRecord& first = timing.attempts.front();
      auto running = running_at.find({timing.job.key, first.attempt});
      if (running != running_at.end()) {
        timing.slurm_queue_wait = std::max(0.0, running->second - first.start);
        ++slurm.queued;
        wait_sum += *timing.slurm_queue_wait;
        slurm.queue_wait_max = std::max(slurm.queue_wait_max.value_or(0), *timing.slurm_queue_wait);
      }
    }
    auto request = requested.find(timing.job.key);
    if (request != requested.end()) {
      timing.requested_ram = request->second.second;
      if (timing.peak_rss) {
        ++slurm.requested;
        slurm.requested_bytes += *timing.requested_ram;
        slurm.used_bytes += *timing.peak_rss;
      }
    }
  }
  if (slurm.queued > 0) slurm.queue_wait_mean = wait_sum / static_cast<double>(slurm.queued);
}

BatchReport BuildReport(BatchData data, double now) {
  BatchReport report;
  report.now = now;
  report.state = data.state();
  double horizon = Horizon(data, report.state, now);
  report.elapsed_seconds = std::max(0.0, horizon - data.batch.started_at);
  for (JobState state : kAllJobStates) report.counts[state] = 0;
  report.attempts = static_cast<int64_t>(data.attempts.size());
  // The jobs of one batch (--batch-size) share their process's log files.
  std::set<std::string> logs;
  for (const AttemptRecord& attempt : data.attempts) {
    if (attempt.stdout_log.empty() || logs.insert(attempt.stdout_log).second) ++report.processes;
  }
  AddJobs(data, horizon, &report);
  AddGpus(data, horizon, &report);
  AddThroughput(data, horizon, &report);
  AddSlurm(data, &report);
  for (const EventRecord& event : data.events) {
    if (event.kind == "waiting") report.waiting = event.text;
  }
  report.waits = WaitIntervals(data.events, horizon);
  report.waited = WaitTotals(report.waits);
  AddRecordedOptions(data.batch, &report);
  report.data = std::move(data);
  return report;
}

void AddStderrTails(BatchReport* report, size_t max_jobs) {
  constexpr size_t kBytes = 4096, kLines = 5, kWidth = 200;
  size_t read = 0;
  for (JobTiming& timing : report->jobs) {
    if (read == max_jobs) break;
    if (timing.job.state != JobState::kFailed || timing.attempts.empty()) continue;
    ++read;
    std::string text = ReadLogTail(timing.attempts.back().stderr_log, kBytes);
    for (std::string_view line : LastLines(text, kLines, kWidth)) {
      timing.stderr_tail += std::string(line) + "\n";
    }
  }
}

namespace {

// "while learning gpu0's first job", "by gpu1 above 70 °C": how a gate
// that held the queue reads after its time.
std::string HeldBy(const WaitGate& gate, const BatchReport& report) {
  std::string gpu = gate.device >= 0 ? "gpu" + std::to_string(gate.device) : std::string();
  const std::string& g = gate.gate;
  if (g == "learning") {
    return gpu.empty() ? "while learning a command's first job"
                       : "while learning " + gpu + "'s first job";
  }
  if (g == "temperature") {
    return report.temp_warm ? fmt::format("by {} above {:g} °C", gpu, *report.temp_warm)
                             : "by " + gpu + "'s temperature";
  }
  if (g == "vram") return "by " + gpu + "'s memory";
  if (g == "foreign") return "by other processes' memory on " + gpu;
  if (g == "limit") return "at " + gpu + "'s concurrency limit";
  if (g == "jobs-per-gpu") return "at --jobs-per-gpu on " + gpu;
  if (g == "cooldown") return "cooling " + gpu + " down (--cooldown)";
  if (g == "ram") return "by host RAM";
  if (g == "disk") return "by free disk space";
  if (g == "load") return "by the load average";
  if (g == "delay") return "by --delay";
  if (g == "retry-delay") return "before retries";
  if (g == "paused") return "paused (headroom ctl)";
  if (g == "draining") return "draining";
  return "by " + WaitLabel(gate);
}

}  // namespace

std::string ReportSentence(const BatchReport& report) {
  // The gates that held it longest, slots aside: every slot busy is the
  // batch running as wide as it was allowed to.
  std::vector<WaitTotal> longest;
  double slots = 0;
  for (const auto& [label, total] : report.waited) {
    if (total.gate.gate == "slots") {
      slots = total.seconds;
    } else if (total.seconds >= 0.05) {
      longest.push_back(total);
    }
  }
  std::stable_sort(longest.begin(), longest.end(),
                   [](const WaitTotal& a, const WaitTotal& b) { return a.seconds > b.seconds; });
  constexpr size_t kMostGates = 3;
  std::string waits;
  for (size_t i = 0; i < longest.size() && i < kMostGates; ++i) {
    waits += (i == 0 ? "Held " : ", ") + FormatDuration(longest[i].seconds) + " " +
             HeldBy(longest[i].gate, report);
  }
  if (longest.size() > kMostGates) waits += fmt::format(" (and {} more)", longest.size() - kMostGates);
  if (waits.empty() && slots >= 0.05) {
    waits = "Nothing but the slots (-j) held the queue (every slot busy for " +
            FormatDuration(slots) + ")";
  }
  const std::optional<double>& high = report.vram_high;
  std::string fit;
  for (const GpuUsage& gpu : report.gpus) {
    if (!gpu.median_job_vram || gpu.most_at_once == 0) continue;
    fit += fmt::format("{}gpu{} fit {} × {}", fit.empty() ? "" : ", ", gpu.index, gpu.most_at_once,
                       FormatSize(*gpu.median_job_vram));
    if (high) fit += fmt::format(" under {:g} %", std::round(*high * 1000) / 10);
  }
  if (waits.empty() && fit.empty()) return "";
  if (waits.empty()) return fit + ".";
  return waits + (fit.empty() ? "" : "; " + fit) + ".";
}

std::string SlurmSummaryText(const SlurmSummary& slurm) {
  std::string parts;
  if (slurm.queue_wait_mean) {
    parts += fmt::format("queue wait {} mean, {} max", FormatDuration(*slurm.queue_wait_mean),
                         FormatDuration(slurm.queue_wait_max.value_or(0)));
  }
  if (slurm.requested > 0 && slurm.used_bytes > 0) {
    auto jobs = static_cast<uint64_t>(slurm.requested);
    parts += fmt::format("{}memory asked {} per job, used {} (peak RSS): {:.1f}x",
                         parts.empty() ? "" : "; ", FormatSize(slurm.requested_bytes / jobs),
                         FormatSize(slurm.used_bytes / jobs),
                         static_cast<double>(slurm.requested_bytes) / static_cast<double>(slurm.used_bytes));
  }
  return parts;
}

std::string LocalTimeText(double unix_seconds) {
  auto seconds = static_cast<time_t>(unix_seconds);
  tm local{};
  localtime_r(&seconds, &local);
  char text[32];
  size_t size = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return std::string(text, size);
}

std::string ReportJson(const BatchReport& report) {
  double horizon = report.data.batch.started_at + report.elapsed_seconds;
  Json out;
  out["report_version"] = 1;
  out["generated_at"] = Round3(report.now);
  out["batch"] = BatchJson(report);
  out["totals"] = TotalsJson(report);
  out["throughput"] = ThroughputJson(report.throughput);
  Json gpus = Json::array();
  for (const GpuUsage& gpu : report.gpus) gpus.push_back(GpuJson(gpu, report.elapsed_seconds));
  out["gpus"] = std::move(gpus);
  Json host;
  host["peak_ram_used"] = Opt(report.peak_ram_used);
  host["ram_total"] = Opt(report.ram_total);
  out["host"] = std::move(host);
  Json footprints;
  footprints["vram"] = FootprintJson(report.vram);
  footprints["rss"] = FootprintJson(report.rss);
  out["footprints"] = std::move(footprints);
  out["limits"] = LimitsJson(report.data.events);
  out["waits"] = WaitsJson(report.waits);
  out["summary"] = ReportSentence(report);
  const SlurmSummary& slurm = report.slurm;
  if (slurm.queued > 0 || slurm.requested > 0) {
    Json summary;
    summary["queued_jobs"] = slurm.queued;
    summary["queue_wait_mean_s"] = OptSeconds(slurm.queue_wait_mean);
    summary["queue_wait_max_s"] = OptSeconds(slurm.queue_wait_max);
    summary["requested_jobs"] = slurm.requested;
    summary["requested_ram"] = slurm.requested_bytes;
    summary["used_ram"] = slurm.used_bytes;
    out["slurm"] = std::move(summary);
  }
  Json jobs = Json::array();
  for (const JobTiming& timing : report.jobs) jobs.push_back(JobJson(timing, horizon));
  out["jobs"] = std::move(jobs);
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace headroom

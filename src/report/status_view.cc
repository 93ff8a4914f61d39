#include "report/status_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "report/exit_text.h"
#include "util/shell_quote.h"
#include "util/units.h"

namespace headroom {
namespace {

using Json = nlohmann::ordered_json;

constexpr JobState kShownStates[] = {JobState::kSucceeded,   JobState::kFailed,  JobState::kSkipped,
                                     JobState::kInterrupted, JobState::kRunning, JobState::kQueued};

// What a killed batch's status says; the docs and tests quote it.
constexpr std::string_view kStoppedText = "stopped (killed?) — resume with headroom run --resume";

std::string Rate(double jobs_per_hour) { return FormatRate(jobs_per_hour / 3600, "jobs"); }

std::string DescribeEnd(const FailedAttempt& failure) {
  std::string text;
  if (failure.signal) {
    text = "killed by " + SignalName(*failure.signal);
  } else if (failure.exit_code) {
    text = fmt::format("exit {}", *failure.exit_code);
  }
  if (failure.attempt_class == AttemptClass::kOom) {
    text += text.empty() ? "out of memory" : ", out of memory";
  } else if (failure.attempt_class == AttemptClass::kTimedOut) {
    text += text.empty() ? "timed out" : ", timed out";
  }
  return text.empty() ? "failed" : text;
}

std::string DeviceName(int gpu) {
  return gpu < 0 ? std::string("ram") : fmt::format("gpu {}", gpu);
}

std::string SampleLine(const SampleRecord& sample) {
  std::string line = fmt::format("{:<6} {} / {}", DeviceName(sample.gpu) + ":",
                                 FormatSize(sample.used), FormatSize(sample.total));
  if (sample.temperature_c) line += fmt::format(", {} C", *sample.temperature_c);
  if (sample.utilization_pct) line += fmt::format(", {}% busy", *sample.utilization_pct);
  return line;
}

std::string HeaderLine(const StatusView& view) {
  const BatchReport& report = view.report;
  const BatchRecord& batch = report.data.batch;
  switch (report.state) {
    case BatchRunState::kRunning:
      return fmt::format("batch {}: running (pid {} on {}), started {}, {} ago\n", batch.id,
                         batch.pid, Printable(batch.host), LocalTimeText(batch.started_at),
                         FormatDuration(report.now - batch.started_at));
    case BatchRunState::kFinished:
      return fmt::format("batch {}: finished, exit {}, took {} (ended {})\n", batch.id,
                         batch.exit_code.value_or(-1), FormatDuration(report.elapsed_seconds),
                         LocalTimeText(batch.ended_at.value_or(0)));
    case BatchRunState::kStopped:
      return fmt::format("batch {}: {}\n  started {} (pid {} on {}), last heard of {} later\n",
                         batch.id, kStoppedText, LocalTimeText(batch.started_at), batch.pid,
                         Printable(batch.host), FormatDuration(report.elapsed_seconds));
  }
  return "";
}

std::string JobsLine(const BatchReport& report) {
  std::string line = fmt::format("jobs: {}", report.jobs.size());
  std::string parts;
  for (JobState state : kShownStates) {
    int64_t count = report.counts.at(state);
    if (count == 0) continue;
    parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", count, JobStateName(state));
  }
  if (!parts.empty()) line += " (" + parts + ")";
  if (report.retries > 0) {
    line += fmt::format("; {} {}, {} after running out of memory", report.retries,
                        report.retries == 1 ? "retry" : "retries", report.oom_retries);
  }
  return line + "\n";
}

std::string SlurmLine(const BatchReport& report) {
  std::string text = SlurmSummaryText(report.slurm);
  return text.empty() ? "" : "slurm: " + text + "\n";
}

// "throughput: 7.1 jobs/min, ETA 5m20s"; before a job of the batch ended,
// the ETA alone (known from earlier batches of the command).
std::string ThroughputLine(const BatchReport& report) {
  const Throughput& throughput = report.throughput;
  std::string eta =
      throughput.eta_seconds ? "ETA " + FormatDuration(*throughput.eta_seconds) : std::string();
  if (!throughput.jobs_per_hour) return eta.empty() ? "" : eta + "\n";
  std::string line = "throughput: " + Rate(*throughput.jobs_per_hour);
  if (!eta.empty()) line += ", " + eta;
  return line + "\n";
}

Json SampleJson(const SampleRecord& sample) {
  Json out;
  out["gpu"] = sample.gpu >= 0 ? Json(sample.gpu) : Json(nullptr);
  out["t"] = sample.t;
  out["used"] = sample.used;
  out["total"] = sample.total;
  out["temperature_c"] = sample.temperature_c ? Json(*sample.temperature_c) : Json(nullptr);
  out["utilization_pct"] = sample.utilization_pct ? Json(*sample.utilization_pct) : Json(nullptr);
  return out;
}

template <typename T>
Json Opt(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

}  // namespace

StatusView BuildStatusView(BatchReport report) {
  StatusView view;
  bool running = report.state == BatchRunState::kRunning;
  std::map<std::string, const JobRecord*> jobs;
  for (const JobTiming& timing : report.jobs) jobs[timing.job.key] = &timing.job;
  auto name_of = [&jobs](const AttemptRecord& attempt) {
    auto found = jobs.find(attempt.job_key);
    return found != jobs.end() ? found->second->name : attempt.job_key;
  };
  // "placed" events: where each attempt runs, the latest word on it.
  std::map<std::pair<std::string, int64_t>, std::string> where;
  for (const EventRecord& event : report.data.events) {
    if (event.kind != "placed") continue;
    size_t tab = event.text.find('\t');
    if (tab == std::string::npos) continue;
    where[{event.text.substr(0, tab), event.value}] = event.text.substr(tab + 1);
  }
  const auto& running_at = report.slurm_running_at;  // each attempt's first RUNNING
  for (const AttemptRecord& attempt : report.data.attempts) {
    AttemptClass attempt_class = ClassifyAttempt(attempt);
    if (running && attempt_class == AttemptClass::kRunning) {
      auto placed = where.find({attempt.job_key, attempt.attempt});
      RunningJob job{name_of(attempt), attempt.attempt, attempt.gpu, attempt.slot,
                     std::max(0.0, report.now - attempt.start),
                     placed == where.end() ? std::string() : placed->second, std::nullopt};
      if (placed != where.end()) {
        auto ran = running_at.find({attempt.job_key, attempt.attempt});
        job.queue_wait = std::max(0.0, (ran != running_at.end() ? ran->second : report.now) - attempt.start);
      }
      view.running.push_back(std::move(job));
    }
    bool failed = attempt_class == AttemptClass::kFailed || attempt_class == AttemptClass::kOom ||
                  attempt_class == AttemptClass::kTimedOut;
    if (failed && attempt.end) {
      view.last_failures.push_back({name_of(attempt), attempt.attempt, attempt_class,
                                    attempt.exit_code, attempt.signal, *attempt.end,
                                    attempt.stderr_log});
    }
  }
  std::stable_sort(view.running.begin(), view.running.end(),
                   [](const RunningJob& a, const RunningJob& b) {
                     return a.elapsed_seconds > b.elapsed_seconds;
                   });
  std::stable_sort(
      view.last_failures.begin(), view.last_failures.end(),
      [](const FailedAttempt& a, const FailedAttempt& b) { return a.ended_at > b.ended_at; });
  if (view.last_failures.size() > StatusView::kMaxFailures) {
    view.last_failures.resize(StatusView::kMaxFailures);
  }
  if (running) view.waiting = report.waiting;
  for (const EventRecord& event : report.data.events) {
    if (running && event.kind == "limit" && event.gpu < 0) view.slot_limit = static_cast<int>(event.value);
  }
  std::map<int, SampleRecord> latest;
  for (const SampleRecord& sample : report.data.samples) {
    auto [it, inserted] = latest.emplace(sample.gpu, sample);
    if (!inserted && sample.t >= it->second.t) it->second = sample;
  }
  for (auto& [gpu, sample] : latest) view.latest_samples.push_back(sample);
  view.report = std::move(report);
  return view;
}

std::string FormatStatusText(const StatusView& view) {
  const BatchReport& report = view.report;
  const BatchRecord& batch = report.data.batch;
  std::string out = HeaderLine(view);
  out += fmt::format("  command: {}\n", Printable(batch.command_template));
  if (!batch.input_source.empty())
    out += fmt::format("  inputs:  {}\n", Printable(batch.input_source));
  out += JobsLine(report);
  out += ThroughputLine(report);
  out += SlurmLine(report);
  if (!view.waiting.empty()) out += fmt::format("waiting: {}\n", Printable(view.waiting));
  if (view.slot_limit) out += fmt::format("slots: -j {} (set by headroom ctl jobs)\n", *view.slot_limit);
  if (!view.running.empty()) {
    out += fmt::format("running ({}):\n", view.running.size());
    for (const RunningJob& job : view.running) {
      std::string gpu = job.gpu >= 0 ? fmt::format("gpu {}", job.gpu) : "no gpu";
      // On Slurm, where it is says more than a GPU of this machine.
      if (!job.where.empty()) gpu = Printable(job.where);
      if (job.queue_wait) gpu += fmt::format(" (queued {})", FormatDuration(*job.queue_wait));
      out +=
          fmt::format("  {:>8}  attempt {}  {}  slot {}  {}\n", FormatDuration(job.elapsed_seconds),
                      job.attempt, gpu, job.slot, Printable(job.name));
    }
  }
  if (!view.last_failures.empty()) {
    out += "last failures:\n";
    for (const FailedAttempt& failure : view.last_failures) {
      out += fmt::format("  {} (attempt {}): {}\n", Printable(failure.name), failure.attempt,
                         DescribeEnd(failure));
      if (!failure.stderr_log.empty()) {
        out += fmt::format("    log: {}\n", Printable(failure.stderr_log));
      }
    }
  }
  for (const SampleRecord& sample : view.latest_samples) {
    out += SampleLine(sample);
    out += fmt::format("  ({} ago)\n", FormatDuration(report.now - sample.t));
  }
  return out;
}

std::string FormatStatusJson(const StatusView& view) {
  const BatchReport& report = view.report;
  const BatchRecord& batch = report.data.batch;
  Json out;
  out["batch"] = batch.id;
  out["state"] = BatchRunStateName(report.state);
  if (report.state == BatchRunState::kStopped) out["hint"] = "resume with headroom run --resume";
  out["pid"] = batch.pid;
  out["host"] = batch.host;
  out["command"] = batch.command_template;
  out["input_source"] = batch.input_source;
  out["started_at"] = batch.started_at;
  out["ended_at"] = Opt(batch.ended_at);
  out["exit_code"] = Opt(batch.exit_code);
  out["elapsed_s"] = report.elapsed_seconds;
  Json counts;
  counts["total"] = static_cast<int64_t>(report.jobs.size());
  for (JobState state : kShownStates) {
    counts[std::string(JobStateName(state))] = report.counts.at(state);
  }
  out["counts"] = std::move(counts);
  out["queue"] = report.counts.at(JobState::kQueued);
  out["retries"] = report.retries;
  out["oom_retries"] = report.oom_retries;
  out["jobs_per_hour"] = Opt(report.throughput.jobs_per_hour);
  out["eta_s"] = Opt(report.throughput.eta_seconds);
  out["waiting"] = view.waiting.empty() ? Json(nullptr) : Json(view.waiting);
  out["slot_limit"] = view.slot_limit ? Json(*view.slot_limit) : Json(nullptr);
  Json running = Json::array();
  for (const RunningJob& job : view.running) {
    running.push_back({{"name", job.name},
                       {"attempt", job.attempt},
                       {"gpu", job.gpu >= 0 ? Json(job.gpu) : Json(nullptr)},
                       {"slot", job.slot},
                       {"elapsed_s", job.elapsed_seconds},
                       {"where", job.where.empty() ? Json(nullptr) : Json(job.where)},
                       {"queue_wait_s", Opt(job.queue_wait)}});
  }
  out["running"] = std::move(running);
  Json failures = Json::array();
  for (const FailedAttempt& failure : view.last_failures) {
    failures.push_back({{"name", failure.name},
                        {"attempt", failure.attempt},
                        {"class", AttemptClassName(failure.attempt_class)},
                        {"exit_code", Opt(failure.exit_code)},
                        {"signal", Opt(failure.signal)},
                        {"ended_at", failure.ended_at},
                        {"stderr_log", failure.stderr_log}});
  }
  out["last_failures"] = std::move(failures);
  Json samples = Json::array();
  for (const SampleRecord& sample : view.latest_samples) samples.push_back(SampleJson(sample));
  out["samples"] = std::move(samples);
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Status RenderStatus(const std::string& state_dir, std::optional<int64_t> batch, bool json,
                    double now, std::string* out) {
  BatchData data;
  Status status = LoadBatchData(state_dir, batch, &data);
  if (!status.ok()) return status;
  StatusView view = BuildStatusView(BuildReport(std::move(data), now));
  *out = json ? FormatStatusJson(view) + "\n" : FormatStatusText(view);
  return Status::Ok();
}

}  // namespace headroom

#include "report/trace_report.h"

#include <cmath>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <utility>

#include "util/units.h"

namespace headroom {
namespace {

using Json = nlohmann::json;

constexpr int kQueuePid = 1;
constexpr int kHostPid = 2;
constexpr int kFirstGpuPid = 10;
constexpr double kGiB = 1024.0 * 1024 * 1024;

int PidOf(int gpu) { return gpu < 0 ? kHostPid : kFirstGpuPid + gpu; }

Json Meta(const char* what, int pid, std::optional<int> tid, const std::string& name) {
  Json event = {{"name", what}, {"ph", "M"}, {"pid", pid}, {"args", {{"name", name}}}};
  if (tid) event["tid"] = *tid;
  return event;
}

Json SortIndex(int pid, int index) {
  return {{"name", "process_sort_index"}, {"ph", "M"}, {"pid", pid}, {"args", {{"sort_index", index}}}};
}

}  // namespace

std::string ChromeTrace(const BatchReport& report) {
  const BatchData& data = report.data;
  double t0 = data.batch.started_at;
  double horizon = t0 + report.elapsed_seconds;
  auto micros = [t0](double t) { return std::llround((t - t0) * 1e6); };
  Json events = Json::array();

  std::map<std::string, std::string> names;
  for (const JobTiming& timing : report.jobs) names[timing.job.key] = timing.job.name;
  std::map<int, std::set<int>> tracks;  // pid -> the slots (tids) it used
  for (const AttemptRecord& attempt : data.attempts) {
    int pid = PidOf(attempt.gpu);
    tracks[pid].insert(attempt.slot);
    double end = std::max(attempt.start, attempt.end.value_or(horizon));
    auto name = names.find(attempt.job_key);
    std::string outcome(AttemptClassName(ClassifyAttempt(attempt)));
    Json args = {{"job", attempt.job_key},
                 {"attempt", attempt.attempt},
                 {"outcome", outcome},
                 {"slot", attempt.slot}};
    if (attempt.exit_code) args["exit_code"] = *attempt.exit_code;
    if (attempt.signal) args["signal"] = *attempt.signal;
    if (attempt.peak_vram) args["peak_vram"] = FormatSize(*attempt.peak_vram);
    if (attempt.peak_rss) args["peak_rss"] = FormatSize(*attempt.peak_rss);
    if (!attempt.stderr_log.empty()) args["stderr_log"] = attempt.stderr_log;
    events.push_back({{"name", name != names.end() ? name->second : attempt.job_key},
                      {"cat", outcome},
                      {"ph", "X"},
                      {"ts", micros(attempt.start)},
                      {"dur", std::max<int64_t>(1, micros(end) - micros(attempt.start))},
                      {"pid", pid},
                      {"tid", attempt.slot},
                      {"args", std::move(args)}});
  }
  for (const SampleRecord& sample : data.samples) {
    int pid = PidOf(sample.gpu);
    tracks[pid];
    Json memory = {{"used GiB", std::round(static_cast<double>(sample.used) / kGiB * 1000) / 1000}};
    events.push_back({{"name", sample.gpu < 0 ? "RAM" : "memory"},
                      {"ph", "C"},
                      {"ts", micros(sample.t)},
                      {"pid", pid},
                      {"args", std::move(memory)}});
    if (sample.temperature_c) {
      events.push_back({{"name", "temperature"},
                        {"ph", "C"},
                        {"ts", micros(sample.t)},
                        {"pid", pid},
                        {"args", {{"°C", *sample.temperature_c}}}});
    }
  }
  for (const EventRecord& event : data.events) {
    if (event.kind != "limit") continue;
    // Device -1 is the batch's slot limit (-j): a counter of the queue.
    int pid = event.gpu < 0 ? kQueuePid : PidOf(event.gpu);
    tracks[pid];
    events.push_back({{"name", event.gpu < 0 ? "slots (-j)" : "concurrency limit"},
                      {"ph", "C"},
                      {"ts", micros(event.t)},
                      {"pid", pid},
                      {"args", {{"limit", event.value}}}});
  }
  std::map<std::string, int> gate_tids;
  for (const WaitInterval& wait : report.waits) {
    std::string label = WaitLabel(wait.gate);
    auto [it, added] = gate_tids.try_emplace(label, static_cast<int>(gate_tids.size()) + 1);
    events.push_back({{"name", label},
                      {"cat", "wait"},
                      {"ph", "X"},
                      {"ts", micros(wait.start)},
                      {"dur", std::max<int64_t>(1, micros(wait.end) - micros(wait.start))},
                      {"pid", kQueuePid},
                      {"tid", it->second}});
  }

  // Names and order: the queue first, then the GPUs, then the host.
  if (!gate_tids.empty() || tracks.count(kQueuePid)) {
    events.push_back(Meta("process_name", kQueuePid, std::nullopt, "queue: what held it"));
    events.push_back(SortIndex(kQueuePid, 0));
    for (const auto& [label, tid] : gate_tids) {
      events.push_back(Meta("thread_name", kQueuePid, tid, label));
    }
  }
  for (const auto& [pid, tids] : tracks) {
    if (pid == kQueuePid) continue;
    std::string name = pid == kHostPid ? "host" : "gpu " + std::to_string(pid - kFirstGpuPid);
    events.push_back(Meta("process_name", pid, std::nullopt, name));
    events.push_back(SortIndex(pid, pid == kHostPid ? 1 << 20 : pid));
    for (int tid : tids) {
      events.push_back(Meta("thread_name", pid, tid, "slot " + std::to_string(tid)));
    }
  }
  Json trace = {{"traceEvents", std::move(events)},
                {"displayTimeUnit", "ms"},
                {"otherData",
                 {{"batch", data.batch.id},
                  {"command", data.batch.command_template},
                  {"started_at", data.batch.started_at}}}};
  return trace.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace headroom

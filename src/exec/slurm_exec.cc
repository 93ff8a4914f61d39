#include "exec/slurm_exec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string_view>

#include "exec/leftovers.h"
#include "exec/process_set.h"
#include "util/whole_file.h"

namespace headroom {
namespace {

// What Slurm decides for a job on its node; the submitter's values are stale.
bool NodeOwned(const std::string& entry) {
  for (const char* prefix : {"SLURM_", "CUDA_VISIBLE_DEVICES=", "ROCR_VISIBLE_DEVICES=",
                             "HIP_VISIBLE_DEVICES=", "GPU_DEVICE_ORDINAL="}) {
    if (entry.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// `key`'s value in a file of "key value" lines.
std::optional<uint64_t> KeyedValue(const std::string& path, const std::string& wanted) {
  std::ifstream in(path);
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value) {
    if (key == wanted) return value;
  }
  return std::nullopt;
}

// The oom_kill count of this process's memory cgroup (v2 memory.events, or
// v1 memory.oom_control), when there is one.
std::optional<uint64_t> CgroupOomKills() {
  std::ifstream cgroup("/proc/self/cgroup");
  std::string line, v2, v1;
  while (std::getline(cgroup, line)) {
    if (line.rfind("0::", 0) == 0) v2 = line.substr(3);
    size_t memory = line.find(":memory:");
    if (memory != std::string::npos) v1 = line.substr(memory + 8);
  }
  if (!v1.empty()) {
    if (auto kills = KeyedValue("/sys/fs/cgroup/memory" + v1 + "/memory.oom_control", "oom_kill")) {
      return kills;
    }
  }
  if (!v2.empty()) return KeyedValue("/sys/fs/cgroup" + v2 + "/memory.events", "oom_kill");
  return std::nullopt;
}

}  // namespace

// An array task's spec: line SLURM_ARRAY_TASK_ID of the list `path`.
std::string ArrayTaskSpec(const std::string& path, const std::vector<std::string>& node_env) {
  constexpr std::string_view kTask = "SLURM_ARRAY_TASK_ID=";
  long task = -1;
  for (const std::string& entry : node_env) {
    if (entry.rfind(kTask, 0) == 0) task = std::strtol(entry.c_str() + kTask.size(), nullptr, 10);
  }
  std::ifstream list(path);
  std::string line;
  for (long i = 0; task >= 0 && std::getline(list, line); ++i) {
    if (i == task) return line;
  }
  return "";
}

int RunSlurmUnit(const std::string& spec_or_list, const std::vector<std::string>& node_env,
                 const VramSamplerFactory& vram) {
  std::string spec_path = spec_or_list;
  const std::string kList = ".specs";
  if (spec_or_list.size() > kList.size() &&
      spec_or_list.compare(spec_or_list.size() - kList.size(), kList.size(), kList) == 0) {
    spec_path = ArrayTaskSpec(spec_or_list, node_env);
    if (spec_path.empty()) {
      std::fprintf(stderr, "headroom slurm-exec: %s: no spec for this array task\n",
                   spec_or_list.c_str());
      return 2;
    }
  }
  std::ifstream in(spec_path);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!in || !json.is_object() || !json["argv"].is_array() || !json["result"].is_string()) {
    std::fprintf(stderr, "headroom slurm-exec: %s: not a unit spec\n", spec_path.c_str());
    return 2;
  }
  std::string result_path = json["result"].get<std::string>();
  SpawnSpec spec;
  try {
    spec.path = json.at("path").get<std::string>();
    spec.argv = json.at("argv").get<std::vector<std::string>>();
    // A Slurm job is Slurm's to stop: the batch's tag would let a resume's
    // sweep of local leftovers (exec/leftovers.h) kill it on a node that
    // is also the submitting machine, while the resume takes it back.
    const std::string tag = std::string(kBatchTagVariable) + "=";
    for (const std::string& entry : json.at("env").get<std::vector<std::string>>()) {
      if (!NodeOwned(entry) && entry.rfind(tag, 0) != 0) spec.env.push_back(entry);
    }
    spec.stdout_path = json.at("stdout").get<std::string>();
    spec.stderr_path = json.at("stderr").get<std::string>();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "headroom slurm-exec: %s: %s\n", spec_path.c_str(), error.what());
    return 2;
  }
  for (const std::string& entry : node_env) {
    if (NodeOwned(entry)) spec.env.push_back(entry);
  }

  ProcessSet processes;  // blocks SIGINT/SIGTERM/SIGHUP: they are forwarded
  std::optional<uint64_t> kills_before = CgroupOomKills();
  pid_t pid = 0;
  nlohmann::json result;
  if (auto status = processes.Spawn(spec, &pid); !status.ok()) {
    result = {{"exit_code", 127}, {"note", "cannot start: " + status.message()}};
    (void)WriteFileAtomically(result_path, result.dump());
    return 127;
  }
  ProcessExit ended;
  bool forwarded = false;
  VramSampler sample_vram = vram ? vram(&processes) : VramSampler();
  std::optional<uint64_t> peak_vram;
  for (bool done = false; !done;) {
    if (sample_vram) {
      if (std::optional<uint64_t> now = sample_vram(pid)) peak_vram = std::max(peak_vram.value_or(0), *now);
    }
    std::vector<ProcessExit> exits;
    int interrupt = 0;
    processes.Wait(Millis(500), &exits, &interrupt);
    if (interrupt != 0 && !forwarded) {
      processes.SignalGroup(pid, SIGTERM);
      forwarded = true;
    }
    for (const ProcessExit& exit : exits) {
      if (exit.pid != pid) continue;
      ended = exit;
      done = true;
    }
  }
  std::optional<uint64_t> kills_after = CgroupOomKills();
  bool oom = kills_before && kills_after && *kills_after > *kills_before;
  result = {{"exit_code", ended.exit_code}, {"signal", ended.signal},
            {"cpu_seconds", ended.cpu_seconds}, {"max_rss_kb", ended.max_rss_kb}, {"oom", oom}};
  if (oom) result["note"] = "the job's cgroup killed a process for memory (oom_kill)";
  if (peak_vram) result["peak_vram"] = *peak_vram;
  if (Status written = WriteFileAtomically(result_path, result.dump()); !written.ok()) {
    std::fprintf(stderr, "headroom slurm-exec: %s\n", written.message().c_str());
  }
  return ended.exit_code >= 0 ? ended.exit_code : 128 + ended.signal;
}

}  // namespace headroom

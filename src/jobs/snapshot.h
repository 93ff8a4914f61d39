// Snapshot: what the probes saw of the machine at one moment. Probes fill
// it; the scheduler's policies read it and decide. All memory is in bytes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/clock.h"

namespace headroom {

// One process holding memory on a GPU.
struct GpuProcess {
  pid_t pid = 0;
  uint64_t used_bytes = 0;
  pid_t pgid = 0;  // its process group (a headroom job's pid), 0 when unknown
};

struct GpuDevice {
  int index = 0;  // as CUDA_VISIBLE_DEVICES counts them
  std::string name;
  std::string uuid;             // empty when the provider has none
  uint64_t memory_total = 0;
  uint64_t memory_used = 0;
  std::optional<int> temperature_c;
  std::optional<int> utilization_pct;
  // Per-process memory; `processes_known` is false when the provider cannot
  // tell (then only the device total is known).
  bool processes_known = false;
  std::vector<GpuProcess> processes;
};

struct PressureStall {  // /proc/pressure/<resource> "some avg10"
  double some_avg10 = 0;
};

struct SystemSnapshot {
  uint64_t memory_total = 0;      // MemTotal, lowered to the cgroup limit
  uint64_t memory_available = 0;  // MemAvailable, within the cgroup limit
  double cpu_busy_pct = 0;        // since the previous sample
  double load1 = 0;               // 1-minute load average
  std::optional<PressureStall> psi_cpu;
  std::optional<PressureStall> psi_memory;
  std::optional<PressureStall> psi_io;
  std::optional<uint64_t> output_free_disk;  // of the output (or log) dir
  // The kernel's OOM kills since boot (/proc/vmstat oom_kill); unknown on
  // kernels before 4.13 and where /proc cannot be read.
  std::optional<uint64_t> oom_kills;
};

struct Snapshot {
  TimePoint taken{};
  SystemSnapshot system;
  std::string gpu_provider;  // "nvml", "nvidia-smi", "amd", "sim", "none"
  double gpu_sample_seconds = 0;  // how long the provider took to read the GPUs
  std::vector<GpuDevice> gpus;
};

}  // namespace headroom

// SystemProbe: host memory, CPU, load and pressure from /proc, with memory
// lowered to the cgroup limit that applies to this process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "jobs/snapshot.h"
#include "util/status.h"

namespace headroom {

// The kernel's OOM-killer count since boot, from <proc_root>/vmstat
// ("oom_kill N"); nullopt when the file or the line is missing.
std::optional<uint64_t> ReadOomKills(const std::string& proc_root = "/proc");

class SystemProbe {
 public:
  // The roots are parameters so that tests can point them at recorded files.
  explicit SystemProbe(std::string proc_root = "/proc", std::string cgroup_root = "/sys/fs/cgroup");

  // Fills `out` with the state now. CPU busy % covers the time since the
  // previous call (0 on the first). Fails only when <proc>/meminfo cannot be
  // read; a missing stat, loadavg or pressure file leaves its field at its
  // default. output_free_disk is left unset (MonitorSource measures it). Not
  // thread-safe: one caller at a time (the Monitor).
  Status Sample(SystemSnapshot* out);

 private:
  struct CpuTimes {
    uint64_t busy = 0;
    uint64_t total = 0;
  };

  Status ReadMemory(SystemSnapshot* out) const;
  double CpuBusyPercent();
  std::optional<PressureStall> ReadPressure(const char* resource) const;

  std::string proc_root_;
  std::string cgroup_root_;
  std::optional<CpuTimes> last_cpu_;
};

}  // namespace headroom

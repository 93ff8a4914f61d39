#include "probe/system_probe.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "probe/cgroup_memory.h"
#include "probe/text_file.h"

namespace headroom {
namespace {

// The value of a "Key:   123 kB" line of /proc/meminfo, in bytes.
std::optional<uint64_t> MeminfoBytes(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.compare(0, key.size() + 1, key + ":") != 0) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    uint64_t kib = 0;
    if (!(fields >> kib)) return std::nullopt;
    return kib * 1024;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> ReadOomKills(const std::string& proc_root) {
  std::optional<std::string> text = ReadTextFile(proc_root + "/vmstat");
  if (!text) return std::nullopt;
  std::istringstream lines(*text);
  std::string key;
  uint64_t value = 0;
  while (lines >> key >> value) {
    if (key == "oom_kill") return value;
  }
  return std::nullopt;
}

SystemProbe::SystemProbe(std::string proc_root, std::string cgroup_root)
    : proc_root_(std::move(proc_root)), cgroup_root_(std::move(cgroup_root)) {}

Status SystemProbe::Sample(SystemSnapshot* out) {
  SystemSnapshot snapshot;
  Status status = ReadMemory(&snapshot);
  if (!status.ok()) return status;
  snapshot.cpu_busy_pct = CpuBusyPercent();
  if (std::optional<std::string> text = ReadTextFile(proc_root_ + "/loadavg")) {
    std::istringstream fields(*text);
    std::string load1;
    fields >> load1;
    snapshot.load1 = ParseDouble(load1).value_or(0);
  }
  snapshot.psi_cpu = ReadPressure("cpu");
  snapshot.psi_memory = ReadPressure("memory");
  snapshot.psi_io = ReadPressure("io");
  snapshot.oom_kills = ReadOomKills(proc_root_);
  *out = snapshot;
  return Status::Ok();
}

Status SystemProbe::ReadMemory(SystemSnapshot* out) const {
  std::string path = proc_root_ + "/meminfo";
  std::optional<std::string> text = ReadTextFile(path);
  if (!text) return Status::Error(path + ": cannot read");
  std::optional<uint64_t> total = MeminfoBytes(*text, "MemTotal");
  std::optional<uint64_t> available = MeminfoBytes(*text, "MemAvailable");
  if (!total || !available) return Status::Error(path + ": no MemTotal or MemAvailable line");
  out->memory_total = *total;
  out->memory_available = std::min(*available, *total);
  if (std::optional<CgroupMemory> cgroup = ReadCgroupMemory(proc_root_, cgroup_root_)) {
    out->memory_total = std::min(out->memory_total, cgroup->limit);
    out->memory_available = std::min(out->memory_available, cgroup->available);
  }
  return Status::Ok();
}

double SystemProbe::CpuBusyPercent() {
  std::optional<std::string> text = ReadTextFile(proc_root_ + "/stat");
  if (!text) return 0;
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice";
  // guest time is already counted in user, so only the first eight add up.
  std::istringstream line(*text);
  std::string label;
  line >> label;
  if (label != "cpu") return 0;
  CpuTimes now;
  for (int field = 0; field < 8; ++field) {
    uint64_t ticks = 0;
    if (!(line >> ticks)) break;
    now.total += ticks;
    if (field != 3 && field != 4) now.busy += ticks;  // idle and iowait are not busy
  }
  std::optional<CpuTimes> last = std::exchange(last_cpu_, now);
  if (!last || now.total <= last->total || now.busy < last->busy) return 0;
  double busy = static_cast<double>(now.busy - last->busy);
  return std::min(100.0, 100.0 * busy / static_cast<double>(now.total - last->total));
}

std::optional<PressureStall> SystemProbe::ReadPressure(const char* resource) const {
  // "some avg10=1.23 avg60=0.50 avg300=0.10 total=12345"; reading fails
  // (EOPNOTSUPP) where the kernel was booted with psi=0.
  std::optional<std::string> text = ReadTextFile(proc_root_ + "/pressure/" + resource);
  if (!text || text->compare(0, 5, "some ") != 0) return std::nullopt;
  size_t at = text->find("avg10=");
  if (at == std::string::npos) return std::nullopt;
  size_t end = text->find_first_of(" \n", at);
  std::optional<double> value = ParseDouble(text->substr(at + 6, end - at - 6));
  if (!value) return std::nullopt;
  return PressureStall{*value};
}

}  // namespace headroom

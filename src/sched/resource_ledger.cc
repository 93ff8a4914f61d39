#include "sched/resource_ledger.h"

#include <algorithm>

#include <fmt/format.h>

namespace headroom {

ResourceLedger::ResourceLedger(const AdmissionConfig& config, ResourceSource* source)
    : config_(config), source_(source) {}

bool ResourceLedger::Refresh(const std::vector<JobUse*>& jobs) {
  if (source_ == nullptr) return false;
  uint64_t generation = 0;
  const Snapshot& latest = source_->Latest(&generation);
  if (have_snapshot_ && generation == generation_) return false;
  have_snapshot_ = true;
  generation_ = generation;
  snapshot_ = latest;
  exited_.clear();

  for (JobUse* job : jobs) {
    if (job->device < 0) continue;
    for (const GpuDevice& device : snapshot_.gpus) {
      if (device.index != job->device || !device.processes_known) continue;
      uint64_t use = 0;
      for (const GpuProcess& p : device.processes) {
        if (p.pgid == job->pgid || p.pid == job->pgid) use += p.used_bytes;
      }
      job->vram_steady = job->vram_measured && use == job->vram_now ? job->vram_steady + 1 : 0;
      job->vram_now = use;
      job->vram_peak = std::max(job->vram_peak, use);
      job->vram_measured = true;
    }
  }
  std::vector<pid_t> roots;
  for (const JobUse* job : jobs) {
    if (job->pgid > 0) roots.push_back(job->pgid);
  }
  std::map<pid_t, uint64_t> rss = source_->TreeRss(roots);
  for (JobUse* job : jobs) {
    auto it = rss.find(job->pgid);
    if (it != rss.end()) job->rss_peak = std::max(job->rss_peak, it->second);
  }
  std::vector<const JobUse*> running(jobs.begin(), jobs.end());
  for (const GpuDevice& device : snapshot_.gpus) {
    uint64_t ledger = Committed(device.index, running) + Foreign(device, running);
    latched_[device.index] =
        UpdateLatch(latched_[device.index], std::max(ledger, device.memory_used),
                    device.memory_total, config_.vram_high, config_.vram_low);
  }
  return true;
}

uint64_t ResourceLedger::Committed(int device, const std::vector<const JobUse*>& jobs) const {
  uint64_t committed = 0;
  for (const JobUse* job : jobs) {
    if (job->device == device) committed += std::max(job->reserved_vram, job->vram_now);
  }
  return committed;
}

// Memory held by processes headroom did not start. Without per-process
// figures it is unknown: 0 here, and DeviceFree() still never admits past
// what the device itself reports as used.
uint64_t ResourceLedger::Foreign(const GpuDevice& device,
                                 const std::vector<const JobUse*>& jobs) const {
  if (!device.processes_known) return 0;
  uint64_t foreign = 0;
  for (const GpuProcess& p : device.processes) {
    bool ours = std::any_of(jobs.begin(), jobs.end(), [&](const JobUse* job) {
      return job->device == device.index && (p.pgid == job->pgid || p.pid == job->pgid);
    });
    bool ended = std::find(exited_.begin(), exited_.end(), p.pgid) != exited_.end() ||
                 std::find(exited_.begin(), exited_.end(), p.pid) != exited_.end();
    if (!ours && !ended) foreign += p.used_bytes;
  }
  return foreign;
}

uint64_t ResourceLedger::Exited(const GpuDevice& device) const {
  uint64_t freed = 0;
  for (const GpuProcess& p : device.processes) {
    bool ended = std::find(exited_.begin(), exited_.end(), p.pgid) != exited_.end() ||
                 std::find(exited_.begin(), exited_.end(), p.pid) != exited_.end();
    if (ended) freed += p.used_bytes;
  }
  return std::min(freed, device.memory_used);
}

std::vector<DeviceView> ResourceLedger::Devices(const std::vector<const JobUse*>& jobs,
                                                const std::string& job_class) {
  std::vector<DeviceView> views;
  views.reserve(snapshot_.gpus.size());
  for (const GpuDevice& device : snapshot_.gpus) {
    DeviceView view;
    view.index = device.index;
    view.total = device.memory_total;
    view.used = device.memory_used - Exited(device);
    view.foreign = Foreign(device, jobs);
    view.committed = Committed(device.index, jobs);
    for (const JobUse* job : jobs) {
      if (job->device != device.index) continue;
      ++view.running;
      if (job->job_class == job_class) ++view.class_running;
    }
    view.temperature_c = device.temperature_c;
    view.latched = Latched(device.index);
    view.limit = Limit(device.index).limit();
    views.push_back(view);
  }
  return views;
}

std::string ResourceLedger::DescribeOthers(int device, const std::vector<const JobUse*>& jobs) {
  auto gpu = std::find_if(snapshot_.gpus.begin(), snapshot_.gpus.end(),
                          [&](const GpuDevice& d) { return d.index == device; });
  if (gpu == snapshot_.gpus.end()) return "gpu" + std::to_string(device);
  uint64_t others = 0;
  for (const DeviceView& view : Devices(jobs, "")) {
    if (view.index == device) others = OthersUse(view);
  }
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  std::string text = fmt::format("gpu{}: {:.1f} of {:.1f} GiB used by other processes", device,
                                 static_cast<double>(others) / kGiB,
                                 static_cast<double>(gpu->memory_total) / kGiB);
  std::vector<pid_t> pids;
  if (gpu->processes_known) {
    for (const GpuProcess& p : gpu->processes) {
      bool ours = std::any_of(jobs.begin(), jobs.end(), [&](const JobUse* job) {
        return job->device == device && (p.pgid == job->pgid || p.pid == job->pgid);
      });
      if (!ours) pids.push_back(p.pid);
    }
  }
  if (pids.empty()) return text;
  constexpr size_t kShown = 4;
  std::string list;
  for (size_t i = 0; i < pids.size() && i < kShown; ++i) {
    list += (i == 0 ? "" : ", ") + std::to_string(pids[i]);
  }
  if (pids.size() > kShown) list += fmt::format(" +{}", pids.size() - kShown);
  return text + fmt::format(" ({} {})", pids.size() == 1 ? "pid" : "pids", list);
}

HostView ResourceLedger::Host(const std::vector<const JobUse*>& jobs) const {
  HostView host;
  host.running = static_cast<int>(jobs.size());
  host.memory_total = snapshot_.system.memory_total;
  host.memory_available = snapshot_.system.memory_available;
  host.free_disk = snapshot_.system.output_free_disk;
  host.load1 = snapshot_.system.load1;
  // Jobs started since the snapshot was taken are not in its figures yet.
  for (const JobUse* job : jobs) {
    if (job->start >= snapshot_.taken) host.reserved_ram += job->reserved_ram;
  }
  return host;
}

ConcurrencyLimit& ResourceLedger::Limit(int device) {
  auto it = limits_.find(device);
  if (it == limits_.end()) {
    int cap = config_.jobs_per_gpu > 0 ? config_.jobs_per_gpu : std::max(1, config_.slots);
    it = limits_.emplace(device, ConcurrencyLimit("gpu" + std::to_string(device), cap)).first;
  }
  return it->second;
}

std::vector<std::tuple<int, int, std::string>> ResourceLedger::SetSlots(int slots) {
  config_.slots = slots;
  std::vector<std::tuple<int, int, std::string>> changed;
  if (config_.jobs_per_gpu > 0) return changed;
  for (auto& [device, limit] : limits_) {
    if (std::optional<std::string> reason = limit.SetCap(slots)) {
      changed.emplace_back(device, limit.limit(), *reason);
    }
  }
  return changed;
}

bool ResourceLedger::Latched(int device) const {
  auto it = latched_.find(device);
  return it != latched_.end() && it->second;
}

}  // namespace headroom

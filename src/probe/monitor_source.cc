#include "probe/monitor_source.h"

#include <utility>

#include "probe/disk.h"
#include "probe/proc_tree.h"
#include "probe/system_probe.h"

namespace headroom {

MonitorSource::MonitorSource(Monitor* monitor, std::string disk_path)
    : monitor_(monitor), disk_path_(std::move(disk_path)) {}

const Snapshot& MonitorSource::Latest(uint64_t* generation) {
  uint64_t now = monitor_->Generation();
  if (!have_ || now != generation_) {
    have_ = true;
    generation_ = now;
    snapshot_ = monitor_->Latest();
    for (GpuDevice& device : snapshot_.gpus) {
      for (GpuProcess& process : device.processes) {
        if (process.pgid == 0) process.pgid = ProcessGroup(process.pid);
      }
    }
    uint64_t free = 0;
    if (!disk_path_.empty() && FreeDiskBytes(disk_path_, &free).ok()) {
      snapshot_.system.output_free_disk = free;
    }
  }
  *generation = generation_;
  return snapshot_;
}

std::map<pid_t, uint64_t> MonitorSource::TreeRss(const std::vector<pid_t>& roots) {
  std::map<pid_t, uint64_t> rss;
  if (roots.empty()) return rss;
  ParentLinks links = ReadParentLinks();
  for (pid_t root : roots) {
    if (links.count(root) == 0) continue;  // gone
    rss[root] = TreeRssBytes(ProcessTree(root, links));
  }
  return rss;
}

std::optional<uint64_t> MonitorSource::OomKills() { return ReadOomKills(); }

}  // namespace headroom

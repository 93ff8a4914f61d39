// MonitorSource: the scheduler's ResourceSource backed by a running Monitor.
// On each fresh sample it also notes, off the monitor's thread, which
// process group each GPU process belongs to (a headroom job leads its own
// group, so that names the job) and the free disk of the output dir.
#pragma once

#include <cstdint>
#include <string>

#include "probe/monitor.h"
#include "probe/resource_source.h"

namespace headroom {

class MonitorSource : public ResourceSource {
 public:
  // `monitor` must outlive this. `disk_path`: the dir whose free space the
  // disk gate checks ("" = none).
  MonitorSource(Monitor* monitor, std::string disk_path);

  const Snapshot& Latest(uint64_t* generation) override;
  // One scan of /proc for all roots, then each tree's VmRSS sum.
  std::map<pid_t, uint64_t> TreeRss(const std::vector<pid_t>& roots) override;
  std::optional<uint64_t> OomKills() override;  // /proc/vmstat

 private:
  Monitor* monitor_;
  std::string disk_path_;
  Snapshot snapshot_;
  uint64_t generation_ = 0;
  bool have_ = false;
};

}  // namespace headroom

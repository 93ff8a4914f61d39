// ResourceSource: the scheduler's view of the machine: the newest snapshot
// the monitor took. Tests script it; the real one wraps probe::Monitor.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "jobs/snapshot.h"

namespace headroom {

class ResourceSource {
 public:
  virtual ~ResourceSource() = default;
  // The newest snapshot, and its generation: a number that grows with every
  // fresh sample, so the scheduler recomputes only when something changed.
  virtual const Snapshot& Latest(uint64_t* generation) = 0;

  // The resident memory of each root's whole process tree now (a job's
  // children count: a shell, a Python launcher's workers), in bytes; a
  // root that is gone is left out. Called once per fresh snapshot with the
  // running jobs' pids. The default knows nothing.
  virtual std::map<pid_t, uint64_t> TreeRss(const std::vector<pid_t>& /*roots*/) { return {}; }

  // The kernel's OOM-kill count now (SystemSnapshot::oom_kills, read at
  // once, not from the last sample): evidence that a job killed by SIGKILL
  // ran out of memory. The default knows nothing.
  virtual std::optional<uint64_t> OomKills() { return std::nullopt; }
};

}  // namespace headroom

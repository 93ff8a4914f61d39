// The memory limit a cgroup puts on this process. /proc/meminfo does not show
// it: inside a container or a systemd slice MemTotal is still the host's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace headroom {

struct CgroupMemory {
  uint64_t limit = 0;      // the tightest limit from this cgroup up to the root
  uint64_t available = 0;  // the least room left under any of those limits
};

// Reads <proc_root>/self/cgroup to find this process's memory cgroup (v1's
// "memory" controller when mounted, else v2's "0::" line), then walks from it
// up to the root under `cgroup_root`. nullopt when no limit applies: no
// cgroup, v2 "max", or v1's "unlimited" (a number near 2^63).
std::optional<CgroupMemory> ReadCgroupMemory(const std::string& proc_root,
                                             const std::string& cgroup_root);

}  // namespace headroom

// A job's whole process tree and the memory it holds, for measuring its peak
// RSS while it runs (children of a shell or a Python launcher count too).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace headroom {

// pid -> parent pid, for every process under <proc_root> at one moment.
using ParentLinks = std::unordered_map<pid_t, pid_t>;

// One scan of <proc_root>/*/stat. Processes that exit during the scan are
// left out. Scan once per sample and share it among all running jobs.
ParentLinks ReadParentLinks(const std::string& proc_root = "/proc");

// `root` and all its descendants in `links`, root first. `root` is listed
// even when it is not in `links` (it may have exited, its children live on
// only if reparented elsewhere).
std::vector<pid_t> ProcessTree(pid_t root, const ParentLinks& links);
std::vector<pid_t> ProcessTree(pid_t root, const std::string& proc_root = "/proc");

// The sum of VmRSS (<proc_root>/<pid>/status) over `pids`; processes that are
// gone or have no VmRSS (zombies, kernel threads) add nothing.
uint64_t TreeRssBytes(const std::vector<pid_t>& pids, const std::string& proc_root = "/proc");

// The process group of `pid` (a headroom job leads its own, so this names
// the job a GPU process belongs to); 0 when it is gone or unreadable.
pid_t ProcessGroup(pid_t pid, const std::string& proc_root = "/proc");

struct StatLinks {
  pid_t parent = -1;
  pid_t group = -1;
  bool operator==(const StatLinks&) const = default;
};

// The parent and group in the text of /proc/<pid>/stat, "pid (comm) state
// ppid pgrp ...", whose comm may hold spaces and ')'; -1s when malformed.
StatLinks LinksFromStat(std::string_view stat);

}  // namespace headroom

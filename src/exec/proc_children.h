// Finding a process's children through /proc, for ProcessSet::KillAll: a
// job's grandchild that left its process group (setsid) is reachable by no
// group kill, but once its parent is gone it is ours (child subreaper).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace headroom {

// Pids whose parent is `parent`, zombies included, from /proc/*/stat. Empty
// when /proc cannot be read.
std::vector<pid_t> ListChildren(pid_t parent);

// Every pid under `proc` (normally /proc), in directory order; empty when it
// cannot be read.
std::vector<pid_t> ListProcesses(const std::string& proc = "/proc");

// The parent pid from the text of /proc/<pid>/stat; -1 when malformed. The
// command name in parentheses may itself hold spaces and ')'.
pid_t ParentFromStat(const char* stat, size_t size);

}  // namespace headroom

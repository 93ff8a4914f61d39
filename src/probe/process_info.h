// ProcessInfo: what `headroom gpus` says of a process that holds GPU
// memory: its command line, and the headroom job it belongs to, read from
// the HEADROOM_JOB_NUMBER and HEADROOM_JOB_INPUT variables that every job's
// process (and what it starts) inherits. Another user's process hides its
// environment: then only its command is known (or nothing).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace headroom {

struct ProcessInfo {
  std::string command;                // argv, shell-quoted; "" when unreadable
  std::optional<int64_t> job_number;  // the headroom job it runs for, if any
  std::string job_input;              // that job's (unit's lead's) input
};

// Reads <proc>/<pid>/cmdline and environ; missing files give empty fields.
ProcessInfo ReadProcessInfo(pid_t pid, const std::string& proc = "/proc");

}  // namespace headroom

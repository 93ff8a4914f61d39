// Leftovers: the processes of a batch that a killed headroom left running.
//
// Jobs run in process groups of their own, so a `kill -9` of headroom (or
// the OOM killer) leaves them running unsupervised: they hold GPU memory
// the resumed batch needs, and may write a partial output again after the
// resume removed it. So every process headroom spawns for a journaled batch
// carries HEADROOM_BATCH_TAG=<absolute state dir>#<batch id> in its
// environment (and so, unless they clear it, do the processes those start),
// and a resume, holding the batch's lock, finds them by that entry in
// /proc/<pid>/environ and stops them before it runs their jobs again.
// Processes of other users cannot be read and are not looked at.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/units.h"

namespace headroom {

inline constexpr std::string_view kBatchTagVariable = "HEADROOM_BATCH_TAG";

// "<state dir made absolute>#<batch>"; the directory as given when it cannot
// be resolved.
std::string BatchTag(const std::string& state_dir, int64_t batch);

// Pids of the processes under `proc` (normally /proc) whose environment
// holds exactly HEADROOM_BATCH_TAG=`tag`, zombies excluded, this process
// excluded; in increasing order.
std::vector<pid_t> FindTagged(const std::string& tag, const std::string& proc = "/proc");

// Sends SIGTERM to each, waits up to `grace` for them to go (a zombie counts
// as gone), then SIGKILLs the rest. Returns how many were signalled.
int StopProcesses(const std::vector<pid_t>& pids, Millis grace, const std::string& proc = "/proc");

// Finds and stops the processes tagged `tag` until a scan finds none (at
// most 10 rounds): a leftover that forks between a scan and its kill leaves
// a tagged child, which the next scan finds. Returns how many were stopped.
int StopTagged(const std::string& tag, Millis grace, const std::string& proc = "/proc");

}  // namespace headroom

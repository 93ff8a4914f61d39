// What `headroom gpus` prints: the devices of one snapshot as a table for
// people or as JSON for scripts.
#pragma once

#include <map>
#include <string>

#include "jobs/snapshot.h"
#include "probe/process_info.h"

namespace headroom {

// One row per device (index, name, UUID, memory used/total, temperature,
// utilization, provider), each followed by its processes' memory when the
// provider knows them; "-" for an unknown reading. With no device, one line:
// "no GPUs (provider: none)". Ends with a newline. A process found in
// `processes` is named: the headroom job it runs for ("job #3 clip.mp4")
// and its command (cut to 100 characters).
std::string FormatGpuTable(const Snapshot& snapshot,
                           const std::map<pid_t, ProcessInfo>& processes = {});

// {"provider": "nvml", "devices": [{"index", "name", "uuid",
// "memory_total_bytes", "memory_used_bytes", "temperature_c",
// "utilization_pct", "processes": [{"pid", "used_bytes", "command",
// "job_number", "job_input"}]}]} on one line (the last three from
// `processes`, null when unknown),
// without a newline. Unknown readings are null, never 0: temperature_c,
// utilization_pct, and processes when the provider cannot tell.
std::string FormatGpuJson(const Snapshot& snapshot,
                          const std::map<pid_t, ProcessInfo>& processes = {});

}  // namespace headroom

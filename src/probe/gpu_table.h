// What `headroom gpus` prints: the devices of one snapshot as a table for
// people or as JSON for scripts.
#pragma once

#include <string>

#include "jobs/snapshot.h"

namespace headroom {

// One row per device (index, name, UUID, memory used/total, temperature,
// utilization, provider), each followed by its processes' memory when the
// provider knows them; "-" for an unknown reading. With no device, one line:
// "no GPUs (provider: none)". Ends with a newline.
std::string FormatGpuTable(const Snapshot& snapshot);

// {"provider": "nvml", "devices": [{"index", "name", "uuid",
// "memory_total_bytes", "memory_used_bytes", "temperature_c",
// "utilization_pct", "processes": [{"pid", "used_bytes"}]}]} on one line,
// without a newline. Unknown readings are null, never 0: temperature_c,
// utilization_pct, and processes when the provider cannot tell.
std::string FormatGpuJson(const Snapshot& snapshot);

}  // namespace headroom

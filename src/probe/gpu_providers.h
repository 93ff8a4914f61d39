// Picking the GPU provider: the one --gpu-provider names, or with auto the
// first that works of the simulated GPU (when --gpu-sim / HEADROOM_GPU_SIM
// names a spec), NVML, nvidia-smi and AMD sysfs; else none, GPU gates off.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "exec/process_set.h"
#include "probe/gpu_provider.h"
#include "util/status.h"

namespace headroom {

// --gpu-provider; kAuto tries nvml, nvidia-smi, amd in turn.
enum class GpuProviderKind { kAuto, kNvml, kNvidiaSmi, kAmd, kSim, kNone };

// An explicitly named provider that does not work is an error (the user
// asked for it); with auto, falling back to none sets `warning` to say why
// the GPU gates are off. nvidia-smi runs as a child of `processes`, which
// must outlive the provider.
Status OpenGpuProvider(GpuProviderKind kind, const std::string& sim_spec, ProcessSet* processes,
                       std::unique_ptr<GpuProvider>* provider, std::string* warning);

// The GPU memory the processes of group `pgid` hold now, summed over every
// device `gpu` shows (a process whose group the provider did not say is
// looked up); nullopt when the sample fails.
std::optional<uint64_t> GroupVram(GpuProvider* gpu, pid_t pgid);

}  // namespace headroom

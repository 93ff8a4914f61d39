#include "probe/gpu_providers.h"

#include "probe/amd_provider.h"
#include "probe/none_provider.h"
#include "probe/nvidia_smi_provider.h"
#include "probe/nvml_provider.h"
#include "probe/proc_tree.h"
#include "probe/sim_gpu.h"

namespace headroom {
namespace {

constexpr const char* kDrmRoot = "/sys/class/drm";

std::unique_ptr<GpuProvider> Open(GpuProviderKind kind, const std::string& sim_spec,
                                  ProcessSet* processes, std::string* why_not) {
  switch (kind) {
    case GpuProviderKind::kNvml:
      return OpenNvml(why_not);
    case GpuProviderKind::kNvidiaSmi:
      return OpenNvidiaSmi(processes, why_not);
    case GpuProviderKind::kAmd:
      return OpenAmd(kDrmRoot, why_not);
    case GpuProviderKind::kSim:
      if (sim_spec.empty()) {
        *why_not = "no spec: give --gpu-sim FILE or HEADROOM_GPU_SIM";
        return nullptr;
      }
      return OpenSimGpu(sim_spec, why_not);
    case GpuProviderKind::kNone:
      return std::make_unique<NoneProvider>();
    case GpuProviderKind::kAuto:
      break;
  }
  return nullptr;
}

const char* KindName(GpuProviderKind kind) {
  switch (kind) {
    case GpuProviderKind::kNvml: return "nvml";
    case GpuProviderKind::kNvidiaSmi: return "nvidia-smi";
    case GpuProviderKind::kAmd: return "amd";
    case GpuProviderKind::kSim: return "sim";
    case GpuProviderKind::kNone: return "none";
    case GpuProviderKind::kAuto: break;
  }
  return "auto";
}

}  // namespace

Status OpenGpuProvider(GpuProviderKind kind, const std::string& sim_spec, ProcessSet* processes,
                       std::unique_ptr<GpuProvider>* provider, std::string* warning) {
  if (kind == GpuProviderKind::kAuto && !sim_spec.empty()) kind = GpuProviderKind::kSim;
  std::string why_not;
  if (kind != GpuProviderKind::kAuto) {
    *provider = Open(kind, sim_spec, processes, &why_not);
    if (*provider) return Status::Ok();
    return Status::Error(std::string("--gpu-provider ") + KindName(kind) + ": " + why_not);
  }
  std::string reasons;
  for (GpuProviderKind candidate :
       {GpuProviderKind::kNvml, GpuProviderKind::kNvidiaSmi, GpuProviderKind::kAmd}) {
    why_not.clear();
    *provider = Open(candidate, sim_spec, processes, &why_not);
    if (*provider) return Status::Ok();
    if (!reasons.empty()) reasons += "; ";
    reasons += std::string(KindName(candidate)) + ": " + why_not;
  }
  *provider = std::make_unique<NoneProvider>();
  *warning = "no GPU found, GPU gates off (" + reasons + ")";
  return Status::Ok();
}

std::optional<uint64_t> GroupVram(GpuProvider* gpu, pid_t pgid) {
  std::vector<GpuDevice> devices;
  if (!gpu->Sample(&devices).ok()) return std::nullopt;
  uint64_t used = 0;
  for (const GpuDevice& device : devices) {
    for (const GpuProcess& process : device.processes) {
      pid_t group = process.pgid != 0 ? process.pgid : ProcessGroup(process.pid);
      if (group == pgid) used += process.used_bytes;
    }
  }
  return used;
}

}  // namespace headroom

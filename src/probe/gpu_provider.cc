#include "probe/gpu_provider.h"

namespace headroom {

std::unique_ptr<GpuProvider> KeepIfItSeesGpus(std::unique_ptr<GpuProvider> provider,
                                              const std::string& no_device,
                                              std::string* why_not) {
  std::vector<GpuDevice> devices;
  Status status = provider->Sample(&devices);
  if (!status.ok()) {
    *why_not = status.message();
    return nullptr;
  }
  if (devices.empty()) {
    *why_not = no_device;
    return nullptr;
  }
  return provider;
}

}  // namespace headroom

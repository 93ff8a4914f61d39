// GpuProvider: one source of GPU state (NVML, nvidia-smi, AMD sysfs, the
// simulated GPU, or none). Providers only report; they decide nothing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jobs/snapshot.h"
#include "util/status.h"

namespace headroom {

class GpuProvider {
 public:
  virtual ~GpuProvider() = default;
  // "nvml", "nvidia-smi", "amd", "sim" or "none".
  virtual std::string Name() const = 0;
  // Replaces `devices` with the state of every device now, in index order.
  // An error means this sample failed (the caller keeps the previous one).
  virtual Status Sample(std::vector<GpuDevice>* devices) = 0;
};

// `provider` when a first sample works and shows at least one device; else
// nullptr and why: the sample's error, or `no_device` when it saw none.
std::unique_ptr<GpuProvider> KeepIfItSeesGpus(std::unique_ptr<GpuProvider> provider,
                                              const std::string& no_device,
                                              std::string* why_not);

}  // namespace headroom

// GpuProvider: one source of GPU state (NVML, nvidia-smi, AMD sysfs, the
// simulated GPU, or none). Providers only report; they decide nothing.
#pragma once

#include <string>
#include <vector>

#include "probe/snapshot.h"
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

}  // namespace headroom

// NoneProvider: no GPU, or GPU gates switched off (--gpus none). Everything
// else in headroom works the same; there are just no devices to admit to.
#pragma once

#include <string>
#include <vector>

#include "probe/gpu_provider.h"

namespace headroom {

class NoneProvider : public GpuProvider {
 public:
  std::string Name() const override { return "none"; }
  Status Sample(std::vector<GpuDevice>* devices) override;
};

}  // namespace headroom

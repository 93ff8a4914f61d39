#include "probe/none_provider.h"

namespace headroom {

Status NoneProvider::Sample(std::vector<GpuDevice>* devices) {
  devices->clear();
  return Status::Ok();
}

}  // namespace headroom

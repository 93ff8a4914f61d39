// AmdProvider: AMD GPUs through the amdgpu driver's sysfs files, which need
// no library: /sys/class/drm/cardN/device/mem_info_vram_{total,used}, the
// hwmon temperature and gpu_busy_percent. sysfs has no per-process memory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "probe/gpu_provider.h"

namespace headroom {

class AmdProvider : public GpuProvider {
 public:
  // `drm_root` is /sys/class/drm, or a recorded tree in tests.
  explicit AmdProvider(std::string drm_root = "/sys/class/drm");

  std::string Name() const override { return "amd"; }
  // Every cardN with mem_info_vram_total, in card number order, indexed from
  // 0 as HIP_VISIBLE_DEVICES counts them; other cards (an integrated Intel
  // GPU, connectors like card0-DP-1) are skipped. Fails when the directory
  // cannot be listed.
  Status Sample(std::vector<GpuDevice>* devices) override;

 private:
  std::string drm_root_;
};

// A provider when some card under `drm_root` has mem_info_vram_total; else
// nullptr and why.
std::unique_ptr<GpuProvider> OpenAmd(const std::string& drm_root, std::string* why_not);

}  // namespace headroom

// NvmlProvider: NVIDIA GPUs through NVML, loaded at run time (nvml_api.h), so
// the same binary runs where there is no NVIDIA driver. Every call's failure
// is survivable: a reading NVML cannot give is unknown, never 0.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "probe/gpu_provider.h"
#include "probe/nvml_api.h"

namespace headroom {

class NvmlProvider : public GpuProvider {
 public:
  // Takes `api` after a successful api.init; owns the dlopen `library`
  // handle (null in tests). The destructor calls nvmlShutdown and dlclose.
  NvmlProvider(const nvml::Api& api, void* library);
  ~NvmlProvider() override;
  NvmlProvider(const NvmlProvider&) = delete;
  NvmlProvider& operator=(const NvmlProvider&) = delete;

  std::string Name() const override { return "nvml"; }
  // Fails when the device count, a device handle or its memory cannot be
  // read (e.g. a GPU fell off the bus); names, sensors and processes that
  // cannot be read are left empty or unknown.
  Status Sample(std::vector<GpuDevice>* devices) override;

 private:
  Status ReadMemory(nvml::Device handle, GpuDevice* device);
  void ReadSensors(nvml::Device handle, GpuDevice* device) const;
  void ReadProcesses(nvml::Device handle, GpuDevice* device) const;

  nvml::Api api_;
  void* library_;
  bool memory_v2_works_;  // cleared after the first failing _v2 call
};

// Processes from a buffer a running-processes call filled with `count`
// entries of `entry_size` bytes (a ProcessInfoV1/V2/V3). `*all_known` is
// false when some entry's memory is NVML_VALUE_NOT_AVAILABLE; such entries
// are left out.
std::vector<GpuProcess> ProcessesFromNvml(const unsigned char* data, size_t count,
                                          size_t entry_size, bool* all_known);

// Initializes NVML through `api` and wraps it, or nullptr and why (init
// failed, no GPU). For tests with a fake api; `library` as above.
std::unique_ptr<GpuProvider> OpenNvmlApi(const nvml::Api& api, void* library, std::string* why_not);

// Loads `library` and opens it as above: nullptr and why when there is no
// NVIDIA driver, it does not initialize, or it sees no GPU.
std::unique_ptr<GpuProvider> OpenNvml(std::string* why_not,
                                      const std::string& library = "libnvidia-ml.so.1");

}  // namespace headroom

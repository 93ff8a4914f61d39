#include "probe/nvml_provider.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace headroom {
namespace {

constexpr int kProcessCallTries = 4;

std::string ReadString(nvml::Return (*fn)(nvml::Device, char*, unsigned int), nvml::Device handle) {
  char buf[nvml::kStringBufferSize] = {};
  if (fn == nullptr || fn(handle, buf, sizeof(buf)) != nvml::kSuccess) return "";
  buf[sizeof(buf) - 1] = '\0';  // never trust a foreign library to terminate it
  return buf;
}

std::string ErrorText(const nvml::Api& api, nvml::Return rc) {
  const char* text = api.error_string != nullptr ? api.error_string(rc) : nullptr;
  return text != nullptr ? text : "NVML error " + std::to_string(rc);
}

}  // namespace

std::vector<GpuProcess> ProcessesFromNvml(const unsigned char* data, size_t count,
                                          size_t entry_size, bool* all_known) {
  std::vector<GpuProcess> processes;
  *all_known = true;
  for (size_t i = 0; i < count; ++i) {
    // pid and usedGpuMemory sit at the same offsets in every layout.
    const unsigned char* entry = data + i * entry_size;
    unsigned int pid = 0;
    unsigned long long used = 0;
    std::memcpy(&pid, entry + offsetof(nvml::ProcessInfoV1, pid), sizeof(pid));
    std::memcpy(&used, entry + offsetof(nvml::ProcessInfoV1, used_gpu_memory), sizeof(used));
    if (used == nvml::kValueNotAvailable) {
      *all_known = false;
      continue;
    }
    processes.push_back({static_cast<pid_t>(pid), used});
  }
  return processes;
}

NvmlProvider::NvmlProvider(const nvml::Api& api, void* library)
    : api_(api), library_(library), memory_v2_works_(api.get_memory_v2 != nullptr) {}

NvmlProvider::~NvmlProvider() {
  api_.shutdown();
  if (library_ != nullptr) dlclose(library_);
}

Status NvmlProvider::Sample(std::vector<GpuDevice>* devices) {
  unsigned int count = 0;
  nvml::Return rc = api_.get_count(&count);
  if (rc != nvml::kSuccess) return Status::Error("nvmlDeviceGetCount: " + ErrorText(api_, rc));
  std::vector<GpuDevice> sampled;
  for (unsigned int i = 0; i < count; ++i) {
    nvml::Device handle = nullptr;
    rc = api_.get_handle(i, &handle);
    if (rc != nvml::kSuccess) {
      return Status::Error("nvmlDeviceGetHandleByIndex(" + std::to_string(i) +
                           "): " + ErrorText(api_, rc));
    }
    GpuDevice device;
    device.index = static_cast<int>(i);
    device.name = ReadString(api_.get_name, handle);
    device.uuid = ReadString(api_.get_uuid, handle);
    Status status = ReadMemory(handle, &device);
    if (!status.ok()) return status.WithContext("GPU " + std::to_string(i));
    ReadSensors(handle, &device);
    ReadProcesses(handle, &device);
    sampled.push_back(std::move(device));
  }
  *devices = std::move(sampled);
  return Status::Ok();
}

Status NvmlProvider::ReadMemory(nvml::Device handle, GpuDevice* device) {
  unsigned long long total = 0;
  unsigned long long free = 0;
  nvml::Return rc = nvml::kErrorFunctionNotFound;
  if (memory_v2_works_) {
    nvml::MemoryV2 memory{};
    memory.version = nvml::StructVersion(sizeof(memory), 2);
    rc = api_.get_memory_v2(handle, &memory);
    total = memory.total;
    free = memory.free;
    // A driver that has the symbol but not the version answers with an
    // error every time; ask it once.
    if (rc != nvml::kSuccess) memory_v2_works_ = false;
  }
  if (rc != nvml::kSuccess && api_.get_memory != nullptr) {
    nvml::Memory memory{};
    rc = api_.get_memory(handle, &memory);
    total = memory.total;
    free = memory.free;
  }
  if (rc != nvml::kSuccess) return Status::Error("nvmlDeviceGetMemoryInfo: " + ErrorText(api_, rc));
  device->memory_total = total;
  // Used is what no job can have: v2's "used" leaves out memory the driver
  // reserves, which is no more available than memory in use.
  device->memory_used = total - std::min(total, free);
  return Status::Ok();
}

void NvmlProvider::ReadSensors(nvml::Device handle, GpuDevice* device) const {
  unsigned int celsius = 0;
  if (api_.get_temperature != nullptr &&
      api_.get_temperature(handle, nvml::kTemperatureGpu, &celsius) == nvml::kSuccess) {
    device->temperature_c = static_cast<int>(celsius);
  }
  nvml::Utilization utilization{};
  if (api_.get_utilization != nullptr &&
      api_.get_utilization(handle, &utilization) == nvml::kSuccess) {
    device->utilization_pct = static_cast<int>(utilization.gpu);
  }
}

void NvmlProvider::ReadProcesses(nvml::Device handle, GpuDevice* device) const {
  struct Variant {
    nvml::Return (*fn)(nvml::Device, unsigned int*, void*);
    size_t entry_size;
  };
  const Variant variants[] = {{api_.processes_v3, api_.v3_entry_size},
                              {api_.processes_v2, sizeof(nvml::ProcessInfoV2)},
                              {api_.processes_v1, sizeof(nvml::ProcessInfoV1)}};
  for (const Variant& variant : variants) {
    if (variant.fn == nullptr) continue;
    // Entries of the largest layout, so that no driver can write past the
    // end whichever layout it really uses.
    std::vector<nvml::ProcessInfoV3> buffer(16);
    for (int attempt = 0; attempt < kProcessCallTries; ++attempt) {
      auto count = static_cast<unsigned int>(buffer.size());
      nvml::Return rc = variant.fn(handle, &count, buffer.data());
      if (rc == nvml::kErrorInsufficientSize) {
        buffer.resize(std::max<size_t>(count, buffer.size()) + 16);  // more may start meanwhile
        continue;
      }
      if (rc != nvml::kSuccess) break;  // try an older variant
      count = std::min<unsigned int>(count, static_cast<unsigned int>(buffer.size()));
      bool all_known = true;
      device->processes = ProcessesFromNvml(reinterpret_cast<const unsigned char*>(buffer.data()),
                                            count, variant.entry_size, &all_known);
      device->processes_known = all_known;
      if (!all_known) device->processes.clear();
      return;
    }
  }
  device->processes_known = false;
}

std::unique_ptr<GpuProvider> OpenNvmlApi(const nvml::Api& api, void* library,
                                         std::string* why_not) {
  nvml::Return rc = api.init();
  if (rc != nvml::kSuccess) {
    *why_not = "nvmlInit: " + ErrorText(api, rc);
    if (library != nullptr) dlclose(library);
    return nullptr;
  }
  auto provider = std::make_unique<NvmlProvider>(api, library);  // shuts NVML down if dropped
  unsigned int count = 0;
  if (api.get_count(&count) != nvml::kSuccess || count == 0) {
    *why_not = "NVML sees no GPU";
    return nullptr;
  }
  return provider;
}

std::unique_ptr<GpuProvider> OpenNvml(std::string* why_not, const std::string& library) {
  nvml::Api api;
  void* handle = nullptr;
  Status status = nvml::LoadApi(library, &api, &handle);
  if (!status.ok()) {
    *why_not = status.message();
    return nullptr;
  }
  return OpenNvmlApi(api, handle, why_not);
}

}  // namespace headroom

// The few NVML types, constants and functions headroom uses, declared here so
// that building needs no NVIDIA headers and running needs no NVIDIA driver:
// libnvidia-ml.so.1 is loaded with dlopen. Layouts and values follow
// NVIDIA's nvml.h (API 12); each struct's size is checked below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "util/status.h"

namespace headroom::nvml {

using Return = int;  // nvmlReturn_t, an int-sized enum
constexpr Return kSuccess = 0;
constexpr Return kErrorNotSupported = 3;
constexpr Return kErrorNoPermission = 4;
constexpr Return kErrorInsufficientSize = 7;
constexpr Return kErrorDriverNotLoaded = 9;
constexpr Return kErrorFunctionNotFound = 13;
constexpr Return kErrorGpuIsLost = 15;
constexpr Return kErrorArgumentVersionMismatch = 25;

struct DeviceRecord;  // opaque: nvmlDevice_t is a pointer to NVML's own struct
using Device = DeviceRecord*;

constexpr int kTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU
// NVML_DEVICE_NAME_V2_BUFFER_SIZE and NVML_DEVICE_UUID_V2_BUFFER_SIZE.
constexpr unsigned kStringBufferSize = 96;
// usedGpuMemory when the driver cannot tell (NVML_VALUE_NOT_AVAILABLE).
constexpr unsigned long long kValueNotAvailable = ~0ull;

// A versioned struct's `version` word: NVML_STRUCT_VERSION(name, v).
constexpr unsigned StructVersion(size_t struct_size, unsigned version) {
  return static_cast<unsigned>(struct_size) | (version << 24);
}

struct Memory {  // nvmlMemory_t, for nvmlDeviceGetMemoryInfo
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

struct MemoryV2 {  // nvmlMemory_v2_t, for nvmlDeviceGetMemoryInfo_v2
  unsigned int version;
  unsigned long long total;
  unsigned long long reserved;
  unsigned long long free;
  unsigned long long used;
};

struct Utilization {  // nvmlUtilization_t
  unsigned int gpu;
  unsigned int memory;
};

// nvmlProcessInfo_t as each nvmlDeviceGetComputeRunningProcesses variant
// fills it: the unversioned call writes v1, _v2 writes v2, and _v3 writes v2
// or, with drivers of the short-lived API that added it, V3.
struct ProcessInfoV1 {
  unsigned int pid;
  unsigned long long used_gpu_memory;
};
struct ProcessInfoV2 {
  unsigned int pid;
  unsigned long long used_gpu_memory;
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};
struct ProcessInfoV3 {
  unsigned int pid;
  unsigned long long used_gpu_memory;
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
  unsigned long long used_gpu_cc_protected_memory;
};

static_assert(sizeof(Memory) == 24 && sizeof(MemoryV2) == 40 && sizeof(Utilization) == 8);
static_assert(sizeof(ProcessInfoV1) == 16 && sizeof(ProcessInfoV2) == 24 &&
              sizeof(ProcessInfoV3) == 32);
static_assert(offsetof(ProcessInfoV1, used_gpu_memory) == 8 &&
              offsetof(ProcessInfoV3, used_gpu_memory) == 8);

// The library's entry points; null where the library lacks the symbol.
struct Api {
  Return (*init)() = nullptr;  // nvmlInit_v2, else nvmlInit
  Return (*shutdown)() = nullptr;
  const char* (*error_string)(Return) = nullptr;
  Return (*get_count)(unsigned int*) = nullptr;           // _v2, else unversioned
  Return (*get_handle)(unsigned int, Device*) = nullptr;  // _v2, else unversioned
  Return (*get_name)(Device, char*, unsigned int) = nullptr;
  Return (*get_uuid)(Device, char*, unsigned int) = nullptr;
  Return (*get_memory)(Device, Memory*) = nullptr;
  Return (*get_memory_v2)(Device, MemoryV2*) = nullptr;
  Return (*get_temperature)(Device, int, unsigned int*) = nullptr;
  Return (*get_utilization)(Device, Utilization*) = nullptr;
  // `infos` points at entries of the layout named above for each variant.
  Return (*processes_v3)(Device, unsigned int*, void*) = nullptr;
  Return (*processes_v2)(Device, unsigned int*, void*) = nullptr;
  Return (*processes_v1)(Device, unsigned int*, void*) = nullptr;
  size_t v3_entry_size = sizeof(ProcessInfoV2);  // what processes_v3 writes
};

// The entry size nvmlDeviceGetComputeRunningProcesses_v3 writes, told by
// which other symbols the library has: drivers that added confidential-
// compute memory info before the process detail list used the V3 layout;
// earlier and later ones write V2.
size_t ProcessesV3EntrySize(bool has_conf_compute_mem_size_info,
                            bool has_running_process_detail_list);

// dlopens `library` and fills `api`; `*handle` is for dlclose. Fails, with
// dlerror's reason, when the library is missing or lacks a required symbol
// (init, shutdown, count, handle, memory info).
Status LoadApi(const std::string& library, Api* api, void** handle);

}  // namespace headroom::nvml

#include "probe/nvml_api.h"

#include <dlfcn.h>

namespace headroom::nvml {
namespace {

// Sets `*fn` to the first of `names` the library has.
template <typename Fn>
void Find(void* handle, std::initializer_list<const char*> names, Fn* fn) {
  for (const char* name : names) {
    if (void* symbol = dlsym(handle, name)) {
      // dlsym returns functions as void*; POSIX guarantees the round trip.
      *fn = reinterpret_cast<Fn>(symbol);
      return;
    }
  }
}

}  // namespace

size_t ProcessesV3EntrySize(bool has_conf_compute_mem_size_info,
                            bool has_running_process_detail_list) {
  return has_conf_compute_mem_size_info && !has_running_process_detail_list ? sizeof(ProcessInfoV3)
                                                                            : sizeof(ProcessInfoV2);
}

Status LoadApi(const std::string& library, Api* api, void** handle) {
  void* lib = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    return Status::Error(why != nullptr ? why : library + ": cannot load");
  }
  Api found;
  Find(lib, {"nvmlInit_v2", "nvmlInit"}, &found.init);
  Find(lib, {"nvmlShutdown"}, &found.shutdown);
  Find(lib, {"nvmlErrorString"}, &found.error_string);
  Find(lib, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"}, &found.get_count);
  Find(lib, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"}, &found.get_handle);
  Find(lib, {"nvmlDeviceGetName"}, &found.get_name);
  Find(lib, {"nvmlDeviceGetUUID"}, &found.get_uuid);
  Find(lib, {"nvmlDeviceGetMemoryInfo"}, &found.get_memory);
  Find(lib, {"nvmlDeviceGetMemoryInfo_v2"}, &found.get_memory_v2);
  Find(lib, {"nvmlDeviceGetTemperature"}, &found.get_temperature);
  Find(lib, {"nvmlDeviceGetUtilizationRates"}, &found.get_utilization);
  Find(lib, {"nvmlDeviceGetComputeRunningProcesses_v3"}, &found.processes_v3);
  Find(lib, {"nvmlDeviceGetComputeRunningProcesses_v2"}, &found.processes_v2);
  Find(lib, {"nvmlDeviceGetComputeRunningProcesses"}, &found.processes_v1);
  found.v3_entry_size =
      ProcessesV3EntrySize(dlsym(lib, "nvmlDeviceGetConfComputeMemSizeInfo") != nullptr,
                           dlsym(lib, "nvmlDeviceGetRunningProcessDetailList") != nullptr);
  bool has_memory = found.get_memory != nullptr || found.get_memory_v2 != nullptr;
  if (!found.init || !found.shutdown || !found.get_count || !found.get_handle || !has_memory) {
    dlclose(lib);
    return Status::Error(library + ": not an NVML library (nvmlInit or a device call missing)");
  }
  *api = found;
  *handle = lib;
  return Status::Ok();
}

}  // namespace headroom::nvml

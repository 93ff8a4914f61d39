// headroom-gpu-alloc: headroom-simgpu's `alloc` on a real NVIDIA GPU. It
// holds real device memory through the CUDA driver API, loaded with dlopen
// (libcuda.so.1, as NVML is: no CUDA toolkit needed to build), so that
// scripts/gpu-check.sh can run the same batches on a real device as the
// tests run on the simulated one. The device is the first that
// CUDA_VISIBLE_DEVICES leaves visible, as for any CUDA program.
//
// Exit codes: 0 done, 1 the allocation failed (CUDA's own text on stderr,
// which headroom recognises as out of memory) or another CUDA error, 2 bad
// usage or no NVIDIA driver, 128+N stopped by signal N.
#include <dlfcn.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "../simgpu/commands.h"

namespace headroom::gpualloc {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

const char kUsage[] =
    "Usage: headroom-gpu-alloc alloc --mib N --seconds S [--ramp R] [INPUT...]\n"
    "Be a GPU job on a real NVIDIA GPU (the first that CUDA_VISIBLE_DEVICES leaves\n"
    "visible): grow an allocation of device memory to N MiB over R seconds (default 0),\n"
    "hold it until S seconds after the start, free it and exit 0. When CUDA cannot\n"
    "allocate, print its error ('CUDA error: out of memory ...') and exit 1. Needs the\n"
    "NVIDIA driver (libcuda.so.1); without one, exit 2. Words without a leading '-' are\n"
    "INPUTs, which headroom appends, and change nothing. The same options as\n"
    "'headroom-simgpu alloc' (docs/simgpu.md).\n"
    "\n"
    "Exit codes: 0 done, 1 CUDA failed, 2 bad usage or no driver, 128+N stopped by signal N.\n";

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "headroom-gpu-alloc: error: %s\n", message.c_str());
  return code;
}

// The driver API as far as this tool needs it (cuda.h's v2 entry points).
using CUresult = int;
using CUdevice = int;
using CUcontext = void*;
using CUdeviceptr = unsigned long long;
constexpr CUresult kCudaSuccess = 0;

struct Driver {
  void* handle = nullptr;
  CUresult (*init)(unsigned) = nullptr;
  CUresult (*device_get)(CUdevice*, int) = nullptr;
  CUresult (*device_count)(int*) = nullptr;
  CUresult (*device_name)(char*, int, CUdevice) = nullptr;
  CUresult (*total_mem)(size_t*, CUdevice) = nullptr;
  CUresult (*ctx_create)(CUcontext*, unsigned, CUdevice) = nullptr;
  CUresult (*ctx_destroy)(CUcontext) = nullptr;
  CUresult (*mem_alloc)(CUdeviceptr*, size_t) = nullptr;
  CUresult (*mem_free)(CUdeviceptr) = nullptr;
  CUresult (*memset)(CUdeviceptr, unsigned char, size_t) = nullptr;
  CUresult (*error_string)(CUresult, const char**) = nullptr;

  std::string Error(CUresult rc) const {
    const char* text = nullptr;
    if (error_string != nullptr && error_string(rc, &text) == kCudaSuccess && text != nullptr) {
      return text;
    }
    return "CUDA error " + std::to_string(rc);
  }
};

template <typename F>
bool Load(void* handle, const char* name, F* out) {
  *out = reinterpret_cast<F>(dlsym(handle, name));
  return *out != nullptr;
}

bool OpenDriver(Driver* d, std::string* why) {
  d->handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (d->handle == nullptr) {
    const char* error = dlerror();
    *why = "no NVIDIA driver (" + std::string(error ? error : "libcuda.so.1 not found") + ")";
    return false;
  }
  bool ok = Load(d->handle, "cuInit", &d->init) &&
            Load(d->handle, "cuDeviceGet", &d->device_get) &&
            Load(d->handle, "cuDeviceGetCount", &d->device_count) &&
            Load(d->handle, "cuDeviceGetName", &d->device_name) &&
            Load(d->handle, "cuDeviceTotalMem_v2", &d->total_mem) &&
            Load(d->handle, "cuCtxCreate_v2", &d->ctx_create) &&
            Load(d->handle, "cuCtxDestroy_v2", &d->ctx_destroy) &&
            Load(d->handle, "cuMemAlloc_v2", &d->mem_alloc) &&
            Load(d->handle, "cuMemFree_v2", &d->mem_free) &&
            Load(d->handle, "cuMemsetD8_v2", &d->memset) &&
            Load(d->handle, "cuGetErrorString", &d->error_string);
  if (!ok) *why = "libcuda.so.1 lacks a driver API function this tool needs";
  return ok;
}

volatile sig_atomic_t g_signal = 0;

void OnSignal(int signal) { g_signal = signal; }

// Sleeps until `until` or a signal; false when a signal came.
bool SleepUntil(std::chrono::steady_clock::time_point until) {
  while (g_signal == 0) {
    auto left = until - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return true;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    nanosleep(&ts, nullptr);
  }
  return false;
}

struct Allocation {
  const Driver& driver;
  std::vector<CUdeviceptr> chunks;
  ~Allocation() {
    for (CUdeviceptr p : chunks) driver.mem_free(p);
  }
};

int Alloc(const std::vector<std::string>& args) {
  std::map<std::string, std::string> values{{"ramp", "0"}};
  Status status = simgpu::ParseFlags(args, {"mib", "seconds", "ramp"}, &values);
  if (status.ok() && (values["mib"].empty() || values["seconds"].empty())) {
    status = Status::Error("alloc needs --mib N and --seconds S");
  }
  double mib = 0, seconds = 0, ramp = 0;
  if (status.ok()) status = simgpu::ParseNonNegative("mib", values["mib"], &mib);
  if (status.ok()) status = simgpu::ParseNonNegative("seconds", values["seconds"], &seconds);
  if (status.ok()) status = simgpu::ParseNonNegative("ramp", values["ramp"], &ramp);
  if (!status.ok()) return Fail(status.message(), kExitUsage);

  Driver driver;
  std::string why;
  if (!OpenDriver(&driver, &why)) return Fail(why, kExitUsage);
  CUresult rc = driver.init(0);
  int count = 0;
  if (rc == kCudaSuccess) rc = driver.device_count(&count);
  if (rc == kCudaSuccess && count == 0) {
    std::fprintf(stderr, "CUDA error: no CUDA-capable device is detected\n");
    return kExitFailed;
  }
  CUdevice device = 0;
  CUcontext context = nullptr;
  if (rc == kCudaSuccess) rc = driver.device_get(&device, 0);
  if (rc == kCudaSuccess) rc = driver.ctx_create(&context, 0, device);
  if (rc != kCudaSuccess) {
    std::fprintf(stderr, "CUDA error: %s (initialising the device)\n", driver.Error(rc).c_str());
    return kExitFailed;
  }
  char name[256] = "?";
  driver.device_name(name, sizeof(name), device);
  size_t total = 0;
  driver.total_mem(&total, device);

  for (int s : {SIGTERM, SIGINT, SIGHUP}) {
    struct sigaction action {};
    action.sa_handler = OnSignal;
    sigaction(s, &action, nullptr);
  }
  auto start = std::chrono::steady_clock::now();
  auto at = [&](double t) {
    return start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(t));
  };
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  auto target = static_cast<uint64_t>(std::floor(mib)) * kMiB;
  ramp = std::min(ramp, seconds);
  // In up to 50 steps over the ramp, each one more chunk of device memory,
  // written once so that the driver really backs it.
  int steps = ramp > 0 ? std::max(1, std::min(50, static_cast<int>(ramp / 0.02))) : 1;
  uint64_t held = 0;
  int result = 0;
  {
    Allocation allocation{driver, {}};
    for (int step = 1; step <= steps && result == 0; ++step) {
      uint64_t want = target * static_cast<uint64_t>(step) / static_cast<uint64_t>(steps);
      if (want > held) {
        CUdeviceptr ptr = 0;
        rc = driver.mem_alloc(&ptr, want - held);
        if (rc == kCudaSuccess) rc = driver.memset(ptr, 0, want - held);
        if (rc != kCudaSuccess) {
          std::fprintf(stderr,
                       "CUDA error: %s. Tried to allocate %llu MiB (GPU 0: %s; %llu MiB total "
                       "capacity; %llu MiB already allocated by this process)\n",
                       driver.Error(rc).c_str(),
                       static_cast<unsigned long long>((want - held) / kMiB), name,
                       static_cast<unsigned long long>(total / kMiB),
                       static_cast<unsigned long long>(held / kMiB));
          if (ptr != 0) driver.mem_free(ptr);
          result = kExitFailed;
          break;
        }
        allocation.chunks.push_back(ptr);
        held = want;
      }
      if (steps > 1 && !SleepUntil(at(ramp * step / steps))) result = 128 + g_signal;
    }
    if (result == 0 && !SleepUntil(at(seconds))) result = 128 + g_signal;
  }
  driver.ctx_destroy(context);
  return result;
}

}  // namespace
}  // namespace headroom::gpualloc

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(headroom::gpualloc::kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? headroom::gpualloc::kExitUsage : 0;
  }
  if (args[0] != "alloc") {
    return headroom::gpualloc::Fail("unknown command '" + args[0] + "' (expected alloc)",
                                    headroom::gpualloc::kExitUsage);
  }
  args.erase(args.begin());
  return headroom::gpualloc::Alloc(args);
}

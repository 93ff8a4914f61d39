// The simulated GPU: devices described by a JSON spec file, and their state
// (temperatures, each live process's allocation) in SPEC.state beside it,
// shared by every process that uses them: `headroom-simgpu` (what simulated
// jobs run) and headroom's "sim" provider. docs/simgpu.md is the contract.
//
// Concurrency: any number of processes may use the same spec at once. Every
// change happens under an exclusive flock on SPEC.lock and is written to a
// temp file renamed over SPEC.state, so a reader (which takes no lock) sees
// either the old state or the new one, never half a file. An allocation
// counts only while its process lives: one whose process is gone (or a
// zombie, or its pid reused by a newer process) is ignored when read and
// dropped at the next write.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "probe/gpu_provider.h"
#include "util/status.h"

namespace headroom {

struct SimDeviceSpec {
  std::string name;
  uint64_t memory_mib = 0;
  int temperature_c = 40;  // until `headroom-simgpu set` changes it
};

struct SimAllocation {
  int device = 0;
  pid_t pid = 0;
  uint64_t mib = 0;
  // The process's start time (/proc/PID/stat field 22, clock ticks since
  // boot), so that a later process reusing the pid is not mistaken for it;
  // 0 when unknown (then the pid alone decides).
  uint64_t start_ticks = 0;
};

struct SimState {
  std::map<int, int> temperature_c;  // by device, as `set` left it
  std::vector<SimAllocation> allocations;
};

// What Allocate() saw on the device; figures in MiB.
struct SimAllocResult {
  bool fits = false;
  uint64_t total_mib = 0;   // the device's memory
  uint64_t others_mib = 0;  // held by other live processes on the device
  uint64_t mine_mib = 0;    // held by this pid on the device before the call
};

class SimGpu {
 public:
  // Reads the spec; errors name the file and what is wrong in it. The state
  // file need not exist (no allocations, the spec's temperatures).
  static Status Open(const std::string& spec_path, std::unique_ptr<SimGpu>* sim);

  const std::vector<SimDeviceSpec>& devices() const { return devices_; }
  const std::string& state_path() const { return state_path_; }

  // Sets `pid`'s allocation on `device` to `mib` (not an increment) when
  // others_mib + mib fits in the device's memory; otherwise leaves the state
  // as it was and says so in `result`. The check and the write are one step
  // for all processes. Shrinking always fits.
  Status Allocate(int device, pid_t pid, uint64_t mib, SimAllocResult* result);
  // Drops every allocation of `pid`; nothing to drop is fine.
  Status Release(pid_t pid);
  Status SetTemperature(int device, int temperature_c);

  // The state now, allocations of dead processes left out.
  Status ReadState(SimState* state) const;
  // Every device as a provider reports it: memory in bytes, used = the sum
  // of live allocations, processes with their memory, temperature from the
  // state (else the spec's), utilization 100 while anything is allocated.
  Status Read(std::vector<GpuDevice>* devices) const;

 private:
  SimGpu() = default;
  // Runs `change` on the current state under the lock; writes the state back
  // when it returns true.
  template <typename Change>
  Status Update(Change change);
  Status CheckDevice(int device) const;

  std::string spec_path_;
  std::string state_path_;
  std::string lock_path_;
  std::vector<SimDeviceSpec> devices_;
};

// The "sim" GPU provider: SimGpu::Read() on every sample.
class SimGpuProvider : public GpuProvider {
 public:
  explicit SimGpuProvider(std::unique_ptr<SimGpu> sim) : sim_(std::move(sim)) {}
  std::string Name() const override { return "sim"; }
  Status Sample(std::vector<GpuDevice>* devices) override { return sim_->Read(devices); }

 private:
  std::unique_ptr<SimGpu> sim_;
};

// The sim provider over `spec_path`, or nullptr with the reason in `why_not`.
std::unique_ptr<GpuProvider> OpenSimGpu(const std::string& spec_path, std::string* why_not);

// The device CUDA would give a process: the first entry of
// CUDA_VISIBLE_DEVICES (`visible` is its value, nullptr when unset = device
// 0), an index or a "SIM-<index>" uuid. An empty value, "-1" or an entry
// that names no device is an error whose message starts with "no
// CUDA-capable device", as CUDA's own.
Status CudaVisibleDevice(const char* visible, size_t device_count, int* device);

// The state file's text and back: a comment line, then one line per device
// temperature, "temp DEVICE CELSIUS", and per allocation, "alloc DEVICE PID
// MIB START_TICKS". Blank lines and lines starting with '#' are ignored.
std::string FormatSimState(const SimState& state);
Status ParseSimState(const std::string& text, SimState* state);

// Whether the allocation's process is still running (not a zombie, and
// started at `start_ticks` when that is known).
bool SimAllocationLive(const SimAllocation& allocation);
// /proc/PID/stat's start time of `pid`; 0 when it cannot be read.
uint64_t ProcessStartTicks(pid_t pid);

}  // namespace headroom

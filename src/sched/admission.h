// Admission: may the job at the head of the queue start now, and on which
// GPU? Pure functions of the job's predicted need, the host and the devices
// as the scheduler's ledger sees them (DESIGN.md, "Admission, in one
// picture"), so that every gate is tested with plain values.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>


namespace headroom {

// --policy: kFixed is a plain -j pool; kWatermark starts while used VRAM is
// below --vram-high; both are kept to compare against kAdaptive.
enum class PolicyKind { kAdaptive, kFixed, kWatermark };

inline constexpr int kNoLimit = std::numeric_limits<int>::max();

struct AdmissionConfig {
  int slots = 1;  // -j
  // kAdaptive: every gate below, with reservations and predicted needs;
  // kFixed: slots only, on the device with the fewest of our jobs;
  // kWatermark: slots, and a device whose used/total is below vram_high now.
  PolicyKind policy = PolicyKind::kAdaptive;
  double max_memory_pct = 80;                  // --max-memory
  double vram_high = 0.85;                     // --vram-high, fraction of a device's total
  double vram_low = 0.70;                      // --vram-low
  int jobs_per_gpu = 0;                        // --jobs-per-gpu; 0 = no cap of its own
  int temp_warm = 70;                          // --temp-warm, °C
  int temp_limit = 80;                         // --temp-limit, °C
  uint64_t min_free_disk = uint64_t{1} << 30;  // --min-free-disk
  std::optional<double> max_load;              // --load
  bool use_gpus = true;                        // false for --gpus none
  std::vector<int> allowed_gpus;               // --gpus 0,2; empty = all
};

// One device as the scheduler's ledger sees it. Bytes throughout.
struct DeviceView {
  int index = 0;
  uint64_t total = 0;
  uint64_t used = 0;                 // the device's used memory in the latest snapshot
  uint64_t foreign = 0;              // held by processes headroom did not start
  uint64_t committed = 0;            // Σ over our running jobs on it of max(reserved, used now)
  int running = 0;                   // our jobs running on it
  int class_running = 0;             // of those, jobs of the class being admitted
  std::optional<int> temperature_c;  // unknown counts as cool
  bool latched = false;              // crossed vram_high, waiting to fall below vram_low
  bool cooling = false;              // --cooldown: a job of ours ended on it a moment ago
  int limit = kNoLimit;              // from the device's ConcurrencyLimit
};

struct HostView {
  int running = 0;            // our running jobs, all devices
  uint64_t memory_total = 0;  // 0 = unknown: the RAM gate passes
  uint64_t memory_available = 0;
  uint64_t reserved_ram = 0;          // predicted RSS of our jobs not yet in use
  std::optional<uint64_t> free_disk;  // of the output dir; unknown passes
  double load1 = 0;
};

struct JobNeed {
  bool gpu = true;               // false: runs without a GPU (e.g. CPU fallback)
  std::optional<uint64_t> vram;  // predicted peak; unknown = slow start
  std::optional<uint64_t> ram;   // predicted peak RSS; unknown counts as 0
};

struct AdmitDecision {
  bool start = false;
  int device = -1;      // the chosen GPU's index; -1 = none
  bool forced = false;  // started only because nothing else runs (ensure progress)
  // What holds the job: "slots", "ram", "disk", "load", or per device gates
  // grouped as "vram gpu0,1; temperature gpu2" (gates: cooldown, foreign,
  // vram, temperature, jobs-per-gpu, limit, learning: slow start). Empty when it starts on
  // its own merit; when `forced`, the gate that was overridden, for the log.
  std::string waiting;
  // The devices held by the "foreign" gate: memory of processes headroom did
  // not start leaves no room there for the job (the caller names them).
  std::vector<int> foreign;
};

// The one entry point: every gate of `config.policy`, then placement. When
// host.running is 0 a job that a gate holds starts anyway (forced), on the
// allowed device with the most free room, so that a batch never stalls on
// headroom's own caution (slow start, a prediction larger than a device).
// It never starts where the machine's state holds it: a full disk, others'
// load, others' RAM, a device whose memory held by other processes leaves
// no room for the job (OthersLeaveNoRoom), or one in its --cooldown: then
// it waits until they free it or the cooldown ends. A job that wants a GPU while no device is allowed runs without
// one.
AdmitDecision Admit(const JobNeed& need, const HostView& host,
                    const std::vector<DeviceView>& devices, const AdmissionConfig& config);

// --- The gates, one by one. Each returns "" when it passes, else its name.

std::string SlotsGate(const HostView& host, int slots);
// Memory in use plus what running jobs and this one are predicted to add must
// stay within max_memory_pct of the total.
std::string RamGate(const HostView& host, std::optional<uint64_t> job_ram, double max_memory_pct);
std::string DiskGate(const HostView& host, uint64_t min_free_disk);
std::string LoadGate(const HostView& host, std::optional<double> max_load);

// The ledger's room on a device: vram_high × total − max(committed + foreign,
// used). Taking the larger of the ledger and the device's own reading means
// a mis-measured job share can never admit past what the device shows. May
// be negative.
int64_t DeviceFree(const DeviceView& device, double vram_high);

// Memory on `device` that is not ours: what other processes hold, or, where
// the provider cannot tell processes apart, what the device uses beyond our
// committed share.
uint64_t OthersUse(const DeviceView& device);
// True when the job's prediction (unknown counts as 0) would fit under the
// high mark on the device alone but not beside what other processes hold:
// only they can free the room, so waiting is the answer, not a start.
bool OthersLeaveNoRoom(const JobNeed& need, const DeviceView& device, double vram_high);

enum class TempState { kCool, kWarm, kHot };
TempState ClassifyTemperature(std::optional<int> temperature_c, int warm, int limit);
// How many of our jobs a device may run in `state`: `cool_cap` when cool,
// half of it rounded up when warm, one when hot. Callers pass jobs_per_gpu,
// or the slot count when there is no per-GPU cap, so "half" is always half
// of a fixed figure and does not shrink as jobs end.
int TemperatureCap(TempState state, int cool_cap);

// The adaptive policy's device gates for one job: cooldown, others' memory, latch,
// temperature and jobs-per-gpu cap, concurrency limit, slow start, VRAM
// room.
std::string DeviceGate(const JobNeed& need, const DeviceView& device,
                       const AdmissionConfig& config);

// Hysteresis of the high mark: a device latches when `used` (its reading, or
// the ledger's committed + foreign if larger) exceeds high × total, and
// unlatches only once `used` falls below low × total.
bool UpdateLatch(bool latched, uint64_t used, uint64_t total, double high, double low);

}  // namespace headroom

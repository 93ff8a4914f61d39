#include "sched/admission.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

namespace headroom {
namespace {

using Devices = std::vector<const DeviceView*>;

constexpr const char* kForeignGate = "foreign";
constexpr const char* kCooldownGate = "cooldown";

// `fraction` of `total` bytes, rounded to the nearest byte: 0.85 is not
// exact in binary, and truncating would put "exactly at the mark" a byte low.
int64_t FractionOf(double fraction, uint64_t total) {
  return std::llround(fraction * static_cast<double>(total));
}

Devices AllowedDevices(const std::vector<DeviceView>& devices, const AdmissionConfig& config) {
  Devices allowed;
  for (const DeviceView& d : devices) {
    const auto& list = config.allowed_gpus;
    if (list.empty() || std::find(list.begin(), list.end(), d.index) != list.end()) {
      allowed.push_back(&d);
    }
  }
  return allowed;
}

// The candidate with the largest `room`; ties go to the lowest index, so
// placement is deterministic and fills gpu0 first when all are equal.
const DeviceView* MostRoom(const Devices& candidates,
                           const std::function<int64_t(const DeviceView&)>& room) {
  const DeviceView* best = nullptr;
  for (const DeviceView* d : candidates) {
    if (!best || room(*d) > room(*best) || (room(*d) == room(*best) && d->index < best->index)) {
      best = d;
    }
  }
  return best;
}

int64_t WatermarkRoom(const DeviceView& d, double vram_high) {
  return FractionOf(vram_high, d.total) - static_cast<int64_t>(d.used);
}

// "vram gpu0,1; temperature gpu2": one entry per gate, in the order gates
// first held a device, so that eight GPUs still fit on a progress line.
std::string GroupReasons(const std::vector<std::pair<std::string, int>>& held) {
  std::vector<std::pair<std::string, std::string>> groups;
  for (const auto& [gate, index] : held) {
    auto it =
        std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == gate; });
    if (it == groups.end()) {
      groups.emplace_back(gate, gate + " gpu" + std::to_string(index));
    } else {
      it->second += "," + std::to_string(index);
    }
  }
  std::string text;
  for (const auto& group : groups) text += (text.empty() ? "" : "; ") + group.second;
  return text;
}

struct Placement {
  const DeviceView* device = nullptr;  // null: no device accepts the job
  std::string waiting;
  std::vector<int> foreign;  // devices the "foreign" gate held
};

// Keeps the devices for which `gate` passes, then picks by `room`.
Placement Place(const Devices& allowed, const std::function<std::string(const DeviceView&)>& gate,
                const std::function<int64_t(const DeviceView&)>& room) {
  Devices accepting;
  std::vector<std::pair<std::string, int>> held;
  std::vector<int> foreign;
  for (const DeviceView* d : allowed) {
    std::string reason = gate(*d);
    if (reason.empty()) {
      accepting.push_back(d);
    } else {
      held.emplace_back(reason, d->index);
      if (reason == kForeignGate) foreign.push_back(d->index);
    }
  }
  if (accepting.empty()) return {nullptr, GroupReasons(held), std::move(foreign)};
  return {MostRoom(accepting, room), "", {}};
}

Placement PlaceFor(const JobNeed& need, const Devices& allowed, const AdmissionConfig& config) {
  double high = config.vram_high;
  auto ledger_room = [high](const DeviceView& d) { return DeviceFree(d, high); };
  switch (config.policy) {
    case PolicyKind::kFixed:
      // Memory is ignored: spread jobs evenly, as a round-robin pool would.
      return Place(
          allowed,
          [](const DeviceView& d) { return d.cooling ? std::string(kCooldownGate) : std::string(); },
          [](const DeviceView& d) { return -static_cast<int64_t>(d.running); });
    case PolicyKind::kWatermark:
      return Place(
          allowed,
          [high](const DeviceView& d) {
            if (d.cooling) return std::string(kCooldownGate);
            return WatermarkRoom(d, high) > 0 ? std::string() : std::string("vram");
          },
          [high](const DeviceView& d) { return WatermarkRoom(d, high); });
    case PolicyKind::kAdaptive:
      break;
  }
  return Place(
      allowed, [&](const DeviceView& d) { return DeviceGate(need, d, config); }, ledger_room);
}

std::string HostGates(const JobNeed& need, const HostView& host, const AdmissionConfig& config) {
  std::string reason = SlotsGate(host, config.slots);
  if (!reason.empty() || config.policy != PolicyKind::kAdaptive) return reason;
  for (const std::string& r :
       {RamGate(host, need.ram, config.max_memory_pct), DiskGate(host, config.min_free_disk),
        LoadGate(host, config.max_load)}) {
    if (!r.empty()) return r;
  }
  return "";
}

// With nothing of ours running, a host gate that holds because of the
// machine's state holds still: the disk is full, others' load is high, or
// others' memory leaves no room for what the job is predicted to need (a
// prediction over what --max-memory allows on an idle machine is headroom's
// own uncertainty: that one may start).
bool MachineHolds(const std::string& host_waiting, const JobNeed& need, const HostView& host,
                  const AdmissionConfig& config) {
  if (host_waiting == "disk" || host_waiting == "load") return true;
  if (host_waiting != "ram") return false;
  int64_t allowed = FractionOf(config.max_memory_pct / 100.0, host.memory_total);
  return static_cast<int64_t>(need.ram.value_or(0)) <= allowed;
}

}  // namespace

std::string SlotsGate(const HostView& host, int slots) {
  return host.running < slots ? "" : "slots";
}

std::string RamGate(const HostView& host, std::optional<uint64_t> job_ram, double max_memory_pct) {
  if (host.memory_total == 0) return "";
  uint64_t used = host.memory_total - std::min(host.memory_available, host.memory_total);
  auto after = static_cast<int64_t>(used + host.reserved_ram + job_ram.value_or(0));
  return after <= FractionOf(max_memory_pct / 100.0, host.memory_total) ? "" : "ram";
}

std::string DiskGate(const HostView& host, uint64_t min_free_disk) {
  return !host.free_disk || *host.free_disk >= min_free_disk ? "" : "disk";
}

std::string LoadGate(const HostView& host, std::optional<double> max_load) {
  return !max_load || host.load1 < *max_load ? "" : "load";
}

int64_t DeviceFree(const DeviceView& device, double vram_high) {
  uint64_t in_use = std::max(device.committed + device.foreign, device.used);
  return FractionOf(vram_high, device.total) - static_cast<int64_t>(in_use);
}

uint64_t OthersUse(const DeviceView& device) {
  uint64_t beyond_ours = device.used > device.committed ? device.used - device.committed : 0;
  return std::max(device.foreign, beyond_ours);
}

bool OthersLeaveNoRoom(const JobNeed& need, const DeviceView& device, double vram_high) {
  int64_t high = FractionOf(vram_high, device.total);
  auto job = static_cast<int64_t>(need.vram.value_or(0));
  if (job > high) return false;  // too big even alone: headroom's own uncertainty
  int64_t room = high - static_cast<int64_t>(OthersUse(device));
  return need.vram ? job > room : room <= 0;
}

TempState ClassifyTemperature(std::optional<int> temperature_c, int warm, int limit) {
  if (!temperature_c || *temperature_c < warm) return TempState::kCool;
  return *temperature_c < limit ? TempState::kWarm : TempState::kHot;
}

int TemperatureCap(TempState state, int cool_cap) {
  switch (state) {
    case TempState::kCool:
      return cool_cap;
    case TempState::kWarm:
      return std::max(1, (cool_cap + 1) / 2);
    case TempState::kHot:
      return 1;
  }
  return 1;
}

std::string DeviceGate(const JobNeed& need, const DeviceView& device,
                       const AdmissionConfig& config) {
  if (device.cooling) return kCooldownGate;
  if (OthersLeaveNoRoom(need, device, config.vram_high)) return kForeignGate;
  if (device.latched) return "vram";
  TempState temp = ClassifyTemperature(device.temperature_c, config.temp_warm, config.temp_limit);
  int cool_cap = config.jobs_per_gpu > 0 ? config.jobs_per_gpu : config.slots;
  if (device.running >= TemperatureCap(temp, cool_cap)) {
    return temp == TempState::kCool ? "jobs-per-gpu" : "temperature";
  }
  if (device.running >= device.limit) return "limit";
  // Slow start: with nothing learned yet, one job of the class per device
  // shows what the class needs before more are packed beside it.
  if (!need.vram && device.class_running > 0) return "learning";
  int64_t free = DeviceFree(device, config.vram_high);
  bool fits = need.vram ? static_cast<int64_t>(*need.vram) <= free : free > 0;
  return fits ? "" : "vram";
}

bool UpdateLatch(bool latched, uint64_t used, uint64_t total, double high, double low) {
  auto u = static_cast<int64_t>(used);
  if (!latched) return u > FractionOf(high, total);
  return u >= FractionOf(low, total);
}

AdmitDecision Admit(const JobNeed& need, const HostView& host,
                    const std::vector<DeviceView>& devices, const AdmissionConfig& config) {
  std::string host_waiting = HostGates(need, host, config);
  Devices allowed;
  if (need.gpu && config.use_gpus) allowed = AllowedDevices(devices, config);
  Placement placement;
  if (!allowed.empty()) placement = PlaceFor(need, allowed, config);

  AdmitDecision decision;
  bool device_ok = allowed.empty() || placement.device;
  if (host_waiting.empty() && device_ok) {
    decision.start = true;
    decision.device = placement.device ? placement.device->index : -1;
    return decision;
  }
  decision.waiting = host_waiting.empty() ? placement.waiting : host_waiting;
  if (host_waiting.empty()) decision.foreign = placement.foreign;
  if (host.running > 0 || MachineHolds(host_waiting, need, host, config)) return decision;

  // Ensure progress: nothing of ours runs, so waiting cannot free anything
  // the gate needs: what holds is headroom's own caution (slow start, a
  // prediction larger than the machine allows at all). Start one, on a
  // device that others' memory does not fill; if it runs out of memory it
  // is retried.
  const DeviceView* device = placement.device;
  if (!device && !allowed.empty()) {
    Devices open;
    for (const DeviceView* d : allowed) {
      bool held = d->cooling || (config.policy == PolicyKind::kAdaptive &&
                                 OthersLeaveNoRoom(need, *d, config.vram_high));
      if (!held) open.push_back(d);
    }
    if (open.empty()) return decision;  // only other processes can free room
    device = MostRoom(open, [&](const DeviceView& d) { return DeviceFree(d, config.vram_high); });
  }
  decision.start = true;
  decision.forced = true;
  decision.device = device ? device->index : -1;
  return decision;
}

}  // namespace headroom

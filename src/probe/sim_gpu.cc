#include "probe/sim_gpu.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace headroom {
namespace {

constexpr uint64_t kMiB = uint64_t{1024} * 1024;

// Whole file; false with errno set when it cannot be read.
bool ReadAll(const std::string& path, std::string* text) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  text->clear();
  char buffer[8192];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      close(fd);
      errno = error;
      return false;
    }
    text->append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

// An exclusive flock held for the object's scope. The lock is on a file of
// its own because the state file is replaced by rename: a lock on it would
// be on an inode that is about to be unlinked.
class FileLock {
 public:
  explicit FileLock(const std::string& path)
      : fd_(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666)) {
    if (fd_ < 0) return;
    int locked;
    while ((locked = flock(fd_, LOCK_EX)) != 0 && errno == EINTR) {
    }
    if (locked != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

struct ProcStat {
  char state = '?';
  uint64_t start_ticks = 0;
};

bool ReadProcStat(pid_t pid, ProcStat* stat) {
  std::string text;
  if (!ReadAll("/proc/" + std::to_string(pid) + "/stat", &text)) return false;
  // The command name (field 2) may hold spaces and ')': fields are counted
  // from the last ')'.
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return false;
  std::istringstream fields(text.substr(paren + 1));
  std::string field;
  for (int number = 3; number <= 22 && fields >> field; ++number) {
    if (number == 3) stat->state = field.empty() ? '?' : field[0];
    if (number == 22) {
      stat->start_ticks = std::strtoull(field.c_str(), nullptr, 10);
      return true;
    }
  }
  return false;
}

Status SpecError(const std::string& path, const std::string& what) {
  return Status::Error("simulated GPU spec '" + path + "': " + what);
}

Status ParseSpec(const std::string& path, const std::string& text,
                 std::vector<SimDeviceSpec>* devices) {
  nlohmann::json spec = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (spec.is_discarded()) return SpecError(path, "not valid JSON");
  if (!spec.is_object() || !spec.contains("devices") || !spec["devices"].is_array()) {
    return SpecError(path, "expected {\"devices\": [{\"name\": ..., \"memory_mib\": ...}, ...]}");
  }
  for (const nlohmann::json& entry : spec["devices"]) {
    std::string where = "devices[" + std::to_string(devices->size()) + "]";
    if (!entry.is_object()) return SpecError(path, where + ": expected an object");
    SimDeviceSpec device;
    device.name = "SimGPU";
    if (entry.contains("name")) {
      if (!entry["name"].is_string()) return SpecError(path, where + ".name: expected a string");
      device.name = entry["name"].get<std::string>();
    }
    const nlohmann::json& memory = entry.contains("memory_mib") ? entry["memory_mib"] : nullptr;
    if (!memory.is_number_integer() || memory.get<int64_t>() <= 0) {
      return SpecError(path, where + ".memory_mib: expected a positive whole number of MiB");
    }
    device.memory_mib = memory.get<uint64_t>();
    if (entry.contains("temperature_c")) {
      const nlohmann::json& celsius = entry["temperature_c"];
      if (!celsius.is_number() || celsius.get<double>() < -273 || celsius.get<double>() > 1000) {
        return SpecError(path, where + ".temperature_c: expected degrees Celsius");
      }
      device.temperature_c = static_cast<int>(entry["temperature_c"].get<double>());
    }
    devices->push_back(device);
  }
  return Status::Ok();
}

}  // namespace

uint64_t ProcessStartTicks(pid_t pid) {
  ProcStat stat;
  return ReadProcStat(pid, &stat) ? stat.start_ticks : 0;
}

bool SimAllocationLive(const SimAllocation& allocation) {
  if (allocation.pid <= 0) return false;
  if (kill(allocation.pid, 0) != 0 && errno != EPERM) return false;
  ProcStat stat;
  // Without /proc the pid alone decides.
  if (!ReadProcStat(allocation.pid, &stat)) return true;
  // A zombie has freed its memory already, as a dead CUDA process has.
  if (stat.state == 'Z' || stat.state == 'X') return false;
  return allocation.start_ticks == 0 || stat.start_ticks == allocation.start_ticks;
}

std::string FormatSimState(const SimState& state) {
  std::string text = "# headroom simulated GPU state (docs/simgpu.md)\n";
  for (const auto& [device, c] : state.temperature_c) {
    text += "temp " + std::to_string(device) + " " + std::to_string(c) + "\n";
  }
  for (const SimAllocation& a : state.allocations) {
    text += "alloc " + std::to_string(a.device) + " " + std::to_string(a.pid) + " " +
            std::to_string(a.mib) + " " + std::to_string(a.start_ticks) + "\n";
  }
  return text;
}

Status ParseSimState(const std::string& text, SimState* state) {
  *state = SimState();
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    std::istringstream words(line);
    std::string kind;
    if (!(words >> kind) || kind[0] == '#') continue;
    std::string rest;
    if (kind == "temp") {
      int device = 0;
      int c = 0;
      if (words >> device >> c && !(words >> rest) && device >= 0) {
        state->temperature_c[device] = c;
        continue;
      }
    } else if (kind == "alloc") {
      SimAllocation a;
      int64_t pid = 0;
      if (words >> a.device >> pid >> a.mib >> a.start_ticks && !(words >> rest) && pid > 0) {
        a.pid = static_cast<pid_t>(pid);
        state->allocations.push_back(a);
        continue;
      }
    }
    return Status::Error("line " + std::to_string(number) + ": '" + line +
                         "' is not 'temp DEVICE C' or 'alloc DEVICE PID MIB START_TICKS'");
  }
  return Status::Ok();
}

Status CudaVisibleDevice(const char* visible, size_t device_count, int* device) {
  if (visible == nullptr) {
    if (device_count == 0) return Status::Error("no CUDA-capable device is detected");
    *device = 0;
    return Status::Ok();
  }
  std::string first(visible);
  first = first.substr(0, first.find(','));
  if (first.rfind("SIM-", 0) == 0) first = first.substr(4);
  char* end = nullptr;
  long index = std::strtol(first.c_str(), &end, 10);
  if (first.empty() || *end != '\0' || index < 0 || static_cast<size_t>(index) >= device_count) {
    std::string why = "CUDA_VISIBLE_DEVICES is empty";
    if (*visible != '\0') {
      why = "CUDA_VISIBLE_DEVICES='" + std::string(visible) + "'; the simulated GPU has " +
            (device_count == 0 ? std::string("no devices")
                               : "devices 0.." + std::to_string(device_count - 1));
    }
    return Status::Error("no CUDA-capable device is detected (" + why + ")");
  }
  *device = static_cast<int>(index);
  return Status::Ok();
}

Status SimGpu::Open(const std::string& spec_path, std::unique_ptr<SimGpu>* sim) {
  std::string text;
  if (!ReadAll(spec_path, &text)) {
    return SpecError(spec_path, std::string("cannot read it: ") + std::strerror(errno));
  }
  std::unique_ptr<SimGpu> gpu(new SimGpu());
  Status status = ParseSpec(spec_path, text, &gpu->devices_);
  if (!status.ok()) return status;
  gpu->spec_path_ = spec_path;
  gpu->state_path_ = spec_path + ".state";
  gpu->lock_path_ = spec_path + ".lock";
  *sim = std::move(gpu);
  return Status::Ok();
}

Status SimGpu::ReadState(SimState* state) const {
  std::string text;
  if (!ReadAll(state_path_, &text)) {
    if (errno != ENOENT) {
      return Status::Error("simulated GPU state '" + state_path_ + "': " + std::strerror(errno));
    }
    *state = SimState();
    return Status::Ok();
  }
  Status status = ParseSimState(text, state);
  if (!status.ok()) {
    return status.WithContext("simulated GPU state '" + state_path_ + "' (delete it to reset)");
  }
  std::erase_if(state->allocations, [](const SimAllocation& a) { return !SimAllocationLive(a); });
  return Status::Ok();
}

template <typename Change>
Status SimGpu::Update(Change change) {
  FileLock lock(lock_path_);
  if (!lock.ok()) {
    return Status::Error("simulated GPU lock '" + lock_path_ + "': " + std::strerror(errno));
  }
  SimState state;
  Status status = ReadState(&state);
  if (!status.ok() || !change(&state)) return status;
  // One writer at a time (the lock), so one temp name is enough; a writer
  // killed halfway leaves it for the next one to overwrite.
  std::string temp = state_path_ + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << FormatSimState(state);
    if (!out.flush()) return Status::Error("simulated GPU state '" + temp + "': cannot write it");
  }
  if (std::rename(temp.c_str(), state_path_.c_str()) != 0) {
    return Status::Error("simulated GPU state '" + state_path_ + "': " + std::strerror(errno));
  }
  return Status::Ok();
}

Status SimGpu::CheckDevice(int device) const {
  if (device >= 0 && static_cast<size_t>(device) < devices_.size()) return Status::Ok();
  return Status::Error("device " + std::to_string(device) + ": the simulated GPU has " +
                       (devices_.empty() ? std::string("no devices")
                                         : "devices 0.." + std::to_string(devices_.size() - 1)));
}

Status SimGpu::Allocate(int device, pid_t pid, uint64_t mib, SimAllocResult* result) {
  Status status = CheckDevice(device);
  if (!status.ok()) return status;
  *result = SimAllocResult();
  result->total_mib = devices_[static_cast<size_t>(device)].memory_mib;
  return Update([&](SimState* state) {
    SimAllocation* mine = nullptr;
    for (SimAllocation& a : state->allocations) {
      if (a.device != device) continue;
      if (a.pid == pid) {
        mine = &a;
      } else {
        result->others_mib += a.mib;
      }
    }
    result->mine_mib = mine != nullptr ? mine->mib : 0;
    result->fits = mib <= result->mine_mib || result->others_mib + mib <= result->total_mib;
    if (!result->fits) return false;
    if (mine != nullptr) {
      mine->mib = mib;
    } else {
      state->allocations.push_back({device, pid, mib, ProcessStartTicks(pid)});
    }
    return true;
  });
}

Status SimGpu::Release(pid_t pid) {
  return Update([&](SimState* state) {
    // Writing back also drops the dead processes' allocations ReadState()
    // left out, so do it even when `pid` held nothing.
    std::erase_if(state->allocations, [&](const SimAllocation& a) { return a.pid == pid; });
    return true;
  });
}

Status SimGpu::SetTemperature(int device, int temperature_c) {
  Status status = CheckDevice(device);
  if (!status.ok()) return status;
  return Update([&](SimState* state) {
    state->temperature_c[device] = temperature_c;
    return true;
  });
}

Status SimGpu::Read(std::vector<GpuDevice>* devices) const {
  SimState state;
  Status status = ReadState(&state);
  if (!status.ok()) return status;
  devices->clear();
  for (size_t i = 0; i < devices_.size(); ++i) {
    int index = static_cast<int>(i);
    GpuDevice device;
    device.index = index;
    device.name = devices_[i].name;
    device.uuid = "SIM-" + std::to_string(index);
    device.memory_total = devices_[i].memory_mib * kMiB;
    auto temperature = state.temperature_c.find(index);
    device.temperature_c =
        temperature != state.temperature_c.end() ? temperature->second : devices_[i].temperature_c;
    device.processes_known = true;
    for (const SimAllocation& a : state.allocations) {
      if (a.device != index) continue;
      device.memory_used += a.mib * kMiB;
      pid_t pgid = getpgid(a.pid);
      device.processes.push_back({a.pid, a.mib * kMiB, pgid > 0 ? pgid : 0});
    }
    device.utilization_pct = device.memory_used > 0 ? 100 : 0;
    devices->push_back(device);
  }
  return Status::Ok();
}

std::unique_ptr<GpuProvider> OpenSimGpu(const std::string& spec_path, std::string* why_not) {
  std::unique_ptr<SimGpu> sim;
  Status status = SimGpu::Open(spec_path, &sim);
  if (!status.ok()) {
    *why_not = status.message();
    return nullptr;
  }
  return std::make_unique<SimGpuProvider>(std::move(sim));
}

}  // namespace headroom

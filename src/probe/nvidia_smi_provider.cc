#include "probe/nvidia_smi_provider.h"

#include <optional>
#include <utility>

#include "exec/command_output.h"
#include "probe/text_file.h"

namespace headroom {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = TrimSpace(text.substr(0, end));
    if (!line.empty()) lines.push_back(line);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  return lines;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    size_t comma = line.find(',');
    fields.push_back(TrimSpace(line.substr(0, comma)));
    if (comma == std::string_view::npos) return fields;
    line = line.substr(comma + 1);
  }
}

// "[N/A]", "[Not Supported]" and the like are unknown, never 0.
std::optional<int> OptionalInt(std::string_view field) {
  std::optional<uint64_t> value = ParseUnsigned(field);
  if (!value || *value > 100000) return std::nullopt;
  return static_cast<int>(*value);
}

Status BadLine(const char* query, std::string_view line, const char* expected) {
  return Status::Error("nvidia-smi " + std::string(query) + ": unexpected line '" +
                       std::string(line) + "' (expected " + expected + ")");
}

}  // namespace

Status ParseNvidiaSmiGpus(std::string_view text, std::vector<GpuDevice>* devices) {
  constexpr const char* kExpected = "index, name, uuid, memory.total, memory.used, temp, util";
  std::vector<GpuDevice> parsed;
  for (std::string_view line : SplitLines(text)) {
    std::vector<std::string_view> f = SplitFields(line);
    if (f.size() < 7) return BadLine("--query-gpu", line, kExpected);
    // A name holding commas spreads over several fields; the others are fixed.
    size_t n = f.size();
    std::optional<uint64_t> index = ParseUnsigned(f[0]);
    std::optional<uint64_t> total = ParseUnsigned(f[n - 4]);
    std::optional<uint64_t> used = ParseUnsigned(f[n - 3]);
    if (!index || !total || !used) return BadLine("--query-gpu", line, kExpected);
    GpuDevice device;
    device.index = static_cast<int>(*index);
    for (size_t i = 1; i < n - 5; ++i) {
      device.name += (i > 1 ? "," : "") + std::string(f[i]);
    }
    if (f[n - 5].rfind('[', 0) != 0) device.uuid = std::string(f[n - 5]);  // not "[N/A]"
    device.memory_total = *total * kMiB;
    device.memory_used = *used * kMiB;
    device.temperature_c = OptionalInt(f[n - 2]);
    device.utilization_pct = OptionalInt(f[n - 1]);
    parsed.push_back(std::move(device));
  }
  *devices = std::move(parsed);
  return Status::Ok();
}

Status ParseNvidiaSmiApps(std::string_view text, std::vector<GpuDevice>* devices) {
  constexpr const char* kExpected = "gpu_uuid, pid, used_memory";
  std::vector<GpuDevice> updated = *devices;
  for (GpuDevice& device : updated) {
    device.processes_known = true;
    device.processes.clear();
  }
  for (std::string_view line : SplitLines(text)) {
    std::vector<std::string_view> f = SplitFields(line);
    std::optional<uint64_t> pid = f.size() == 3 ? ParseUnsigned(f[1]) : std::nullopt;
    if (!pid) return BadLine("--query-compute-apps", line, kExpected);
    for (GpuDevice& device : updated) {
      if (device.uuid.empty() || device.uuid != f[0]) continue;
      std::optional<uint64_t> used = ParseUnsigned(f[2]);
      // One process of unknown size makes the device's split unknown.
      if (!used) device.processes_known = false;
      if (device.processes_known) {
        device.processes.push_back({static_cast<pid_t>(*pid), *used * kMiB});
      }
    }
  }
  for (GpuDevice& device : updated) {
    if (!device.processes_known) device.processes.clear();
  }
  *devices = std::move(updated);
  return Status::Ok();
}

NvidiaSmiProvider::NvidiaSmiProvider(ProcessSet* processes, std::string program, Millis timeout)
    : processes_(processes), program_(std::move(program)), timeout_(timeout) {}

Status NvidiaSmiProvider::Sample(std::vector<GpuDevice>* devices) {
  std::string out;
  Status status = CommandOutput(
      processes_,
      {program_,
       "--query-gpu=index,name,uuid,memory.total,memory.used,temperature.gpu,utilization.gpu",
       "--format=csv,noheader,nounits"},
      timeout_, &out);
  if (!status.ok()) {
    // nvidia-smi explains its failures on stdout ("couldn't communicate with
    // the NVIDIA driver"); its first line says more than an exit status.
    std::string_view first = TrimSpace(std::string_view(out).substr(0, out.find('\n')));
    return first.empty() ? status : Status::Error(status.message() + ": " + std::string(first));
  }
  std::vector<GpuDevice> sampled;
  status = ParseNvidiaSmiGpus(out, &sampled);
  if (!status.ok()) return status;
  status = CommandOutput(
      processes_,
      {program_, "--query-compute-apps=gpu_uuid,pid,used_memory", "--format=csv,noheader,nounits"},
      timeout_, &out);
  if (status.ok()) ParseNvidiaSmiApps(out, &sampled);  // on error, processes stay unknown
  *devices = std::move(sampled);
  return Status::Ok();
}

std::unique_ptr<GpuProvider> OpenNvidiaSmi(ProcessSet* processes, std::string* why_not,
                                           const std::string& program) {
  return KeepIfItSeesGpus(std::make_unique<NvidiaSmiProvider>(processes, program),
                          program + " reports no GPU", why_not);
}

}  // namespace headroom

// NvidiaSmiProvider: NVIDIA GPUs through the nvidia-smi tool, for machines
// where NVML cannot be loaded into headroom itself. Two short runs per
// sample; slower than NVML but needs nothing but the tool on PATH.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exec/process_set.h"
#include "probe/gpu_provider.h"
#include "util/units.h"

namespace headroom {

// Parses the output of `nvidia-smi --query-gpu=index,name,uuid,memory.total,
// memory.used,temperature.gpu,utilization.gpu --format=csv,noheader,nounits`
// (MiB). Temperature and utilization are unknown when not numbers ("[N/A]",
// "[Not Supported]"); index and memory must be numbers. processes_known is
// left false. The error names the bad line.
Status ParseNvidiaSmiGpus(std::string_view text, std::vector<GpuDevice>* devices);

// Parses the output of `nvidia-smi --query-compute-apps=gpu_uuid,pid,
// used_memory --format=csv,noheader,nounits` into the processes of
// `devices`, matched by UUID; every device's processes become known, except
// a device with a process whose memory is not a number. Lines for UUIDs not
// in `devices` are ignored. The error names the bad line.
Status ParseNvidiaSmiApps(std::string_view text, std::vector<GpuDevice>* devices);

class NvidiaSmiProvider : public GpuProvider {
 public:
  // `program` is run from PATH unless it holds a '/'; tests give a script.
  // It runs as a child of `processes`, which must outlive the provider.
  explicit NvidiaSmiProvider(ProcessSet* processes, std::string program = "nvidia-smi",
                             Millis timeout = Millis(5000));

  std::string Name() const override { return "nvidia-smi"; }
  // A failing process query leaves processes unknown; the sample still counts.
  Status Sample(std::vector<GpuDevice>* devices) override;

 private:
  ProcessSet* processes_;
  std::string program_;
  Millis timeout_;
};

// A provider when `program` runs and reports at least one GPU; else nullptr
// and why (not on PATH, its own error message, no GPU).
std::unique_ptr<GpuProvider> OpenNvidiaSmi(ProcessSet* processes, std::string* why_not,
                                           const std::string& program = "nvidia-smi");

}  // namespace headroom

// The GPUs this headroom was given. Slurm, Docker and shared-box conventions
// hand a process its devices in CUDA_VISIBLE_DEVICES (NVIDIA) or
// ROCR_VISIBLE_DEVICES / HIP_VISIBLE_DEVICES (AMD); headroom must use only
// those, and tell each job the device it placed it on in a way that names
// the same physical GPU. Pure functions of the variables' values and the
// provider's devices, so that every spelling is tested with plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "exec/environment.h"
#include "jobs/snapshot.h"
#include "util/status.h"

namespace headroom {

// The inherited variables (nullopt: not set).
struct VisibleVariables {
  std::optional<std::string> cuda;  // CUDA_VISIBLE_DEVICES
  std::optional<std::string> rocr;  // ROCR_VISIBLE_DEVICES
  std::optional<std::string> hip;   // HIP_VISIBLE_DEVICES
};

// What a batch may use.
struct VisibleDevices {
  // nullopt: every device the provider sees; else these device indices (as
  // the provider numbers them: NVML's and nvidia-smi's PCI order), in the
  // order given. Empty: the variable hides every GPU.
  std::optional<std::vector<int>> indices;
  std::string from;  // "CUDA_VISIBLE_DEVICES='2,3'" for messages; "" when not restricted
};

// Resolves the variable that applies to `provider` ("amd": ROCR, then HIP
// as positions among those; every other provider: CUDA) against `devices`.
// An entry is a device index or a UUID (GPU-..., a unique prefix is
// enough, as CUDA accepts it); "-1", "NoDevFiles" and the empty value hide
// every device. Indices count in the provider's order (PCI bus order), the
// order CUDA uses with CUDA_DEVICE_ORDER=PCI_BUS_ID and the one Slurm and
// Docker assign. An entry that names no device, or a MIG instance, is an
// error naming the entry and the devices that exist.
Status ResolveVisibleDevices(const std::string& provider, const VisibleVariables& variables,
                             const std::vector<GpuDevice>& devices, VisibleDevices* visible);

// --gpus LIST against what is visible: every index must name a device the
// batch was given. Error: "--gpus 7: no GPU 7 (this machine has gpu0-3)".
Status CheckGpuList(const std::vector<int>& requested, const VisibleDevices& visible,
                    const std::vector<GpuDevice>& devices);

// How jobs are told their GPU under `provider`. NVIDIA: CUDA_VISIBLE_DEVICES
// = the device's UUID where the provider knows it (it names one physical GPU
// whatever CUDA's device order), else its index with
// CUDA_DEVICE_ORDER=PCI_BUS_ID (the order the providers number in). AMD:
// ROCR_VISIBLE_DEVICES = the index, with HIP_VISIBLE_DEVICES and
// CUDA_VISIBLE_DEVICES removed (they would count among ROCR's devices).
GpuVisibility VisibilityFor(const std::string& provider, const std::vector<GpuDevice>& devices);

// "gpu0-3", "gpu2,3", "none": the devices in `indices`, for messages.
std::string DescribeDevices(const std::vector<int>& indices);

}  // namespace headroom

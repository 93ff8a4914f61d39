#include "probe/visible_devices.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "probe/text_file.h"

namespace headroom {
namespace {

std::vector<int> AllIndices(const std::vector<GpuDevice>& devices) {
  std::vector<int> all;
  for (const GpuDevice& device : devices) all.push_back(device.index);
  return all;
}

std::string ThisMachineHas(const std::vector<GpuDevice>& devices) {
  return "this machine has " + DescribeDevices(AllIndices(devices));
}

std::vector<std::string_view> SplitEntries(std::string_view value) {
  std::vector<std::string_view> entries;
  while (true) {
    size_t comma = value.find(',');
    entries.push_back(TrimSpace(value.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return entries;
}

bool ParseIndex(std::string_view text, int* index) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *index);
  return error == std::errc() && end == text.data() + text.size() && *index >= 0;
}

// One entry of `variable`: the device index it names among `candidates`
// (an index counts positions in `candidates` when `positional`, else the
// provider's index; a UUID or its unique prefix matches any).
Status ResolveEntry(std::string_view variable, std::string_view entry,
                    const std::vector<const GpuDevice*>& candidates, bool positional,
                    const std::vector<GpuDevice>& devices, int* index) {
  std::string where = std::string(variable) + " entry '" + std::string(entry) + "'";
  if (entry.starts_with("MIG-")) {
    return Status::Error(where + ": MIG instances are not supported (headroom places whole GPUs)");
  }
  int number = 0;
  if (ParseIndex(entry, &number)) {
    if (positional) {
      if (number < static_cast<int>(candidates.size())) {
        *index = candidates[static_cast<size_t>(number)]->index;
        return Status::Ok();
      }
    } else {
      for (const GpuDevice* device : candidates) {
        if (device->index == number) {
          *index = number;
          return Status::Ok();
        }
      }
    }
    return Status::Error(where + ": no such GPU (" + ThisMachineHas(devices) + ")");
  }
  const GpuDevice* match = nullptr;
  for (const GpuDevice* device : candidates) {
    if (entry.empty() || !device->uuid.starts_with(entry)) continue;
    if (match) return Status::Error(where + ": names more than one GPU (give more of its UUID)");
    match = device;
  }
  if (!match) {
    return Status::Error(where + ": no GPU has that index or UUID (" + ThisMachineHas(devices) +
                         "; 'headroom gpus' lists their UUIDs)");
  }
  *index = match->index;
  return Status::Ok();
}

// Applies `variable`'s `value` to `candidates`, narrowing them.
Status Narrow(std::string_view variable, const std::string& value, bool positional,
              const std::vector<GpuDevice>& devices, std::vector<const GpuDevice*>* candidates) {
  std::string_view trimmed = TrimSpace(value);
  std::vector<const GpuDevice*> kept;
  if (trimmed.empty() || trimmed == "-1" || trimmed == "NoDevFiles") {
    *candidates = kept;
    return Status::Ok();
  }
  for (std::string_view entry : SplitEntries(trimmed)) {
    int index = 0;
    Status status = ResolveEntry(variable, entry, *candidates, positional, devices, &index);
    if (!status.ok()) return status;
    auto device = std::find_if(devices.begin(), devices.end(),
                               [&](const GpuDevice& d) { return d.index == index; });
    if (std::find(kept.begin(), kept.end(), &*device) == kept.end()) kept.push_back(&*device);
  }
  *candidates = kept;
  return Status::Ok();
}

}  // namespace

std::string DescribeDevices(const std::vector<int>& indices) {
  if (indices.empty()) return "no GPU";
  bool consecutive = indices.size() > 2;
  for (size_t i = 1; i < indices.size(); ++i) consecutive &= indices[i] == indices[i - 1] + 1;
  if (consecutive) {
    return "gpu" + std::to_string(indices.front()) + "-" + std::to_string(indices.back());
  }
  std::string text = "gpu";
  for (size_t i = 0; i < indices.size(); ++i) {
    text += (i == 0 ? "" : ",") + std::to_string(indices[i]);
  }
  return text;
}

Status ResolveVisibleDevices(const std::string& provider, const VisibleVariables& variables,
                             const std::vector<GpuDevice>& devices, VisibleDevices* visible) {
  *visible = VisibleDevices();
  std::vector<const GpuDevice*> candidates;
  for (const GpuDevice& device : devices) candidates.push_back(&device);
  std::vector<std::pair<std::string_view, const std::optional<std::string>*>> applied;
  if (provider == "amd") {
    applied = {{"ROCR_VISIBLE_DEVICES", &variables.rocr}, {"HIP_VISIBLE_DEVICES", &variables.hip}};
  } else {
    applied = {{"CUDA_VISIBLE_DEVICES", &variables.cuda}};
  }
  bool positional = false;  // the first variable counts the provider's indices
  for (const auto& [name, value] : applied) {
    if (*value) {
      Status status = Narrow(name, **value, positional, devices, &candidates);
      if (!status.ok()) return status;
      visible->from += (visible->from.empty() ? "" : " ") + std::string(name) + "='" +
                       **value + "'";
      std::vector<int> indices;
      for (const GpuDevice* device : candidates) indices.push_back(device->index);
      visible->indices = indices;
    }
    positional = true;  // HIP counts among the devices ROCR left
  }
  return Status::Ok();
}

GpuVisibility VisibilityFor(const std::string& provider, const std::vector<GpuDevice>& devices) {
  GpuVisibility visibility;
  if (provider == "amd") {
    visibility.variable = "ROCR_VISIBLE_DEVICES";
    visibility.removed = {"HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"};
    visibility.hidden = "-1";
    return visibility;
  }
  visibility.set = {{"CUDA_DEVICE_ORDER", "PCI_BUS_ID"}};
  if (provider != "nvml" && provider != "nvidia-smi") return visibility;
  for (const GpuDevice& device : devices) {
    if (device.uuid.starts_with("GPU-")) {
      visibility.values[std::to_string(device.index)] = device.uuid;
    }
  }
  return visibility;
}

Status CheckGpuList(const std::vector<int>& requested, const VisibleDevices& visible,
                    const std::vector<GpuDevice>& devices) {
  std::vector<int> usable = visible.indices ? *visible.indices : AllIndices(devices);
  for (int index : requested) {
    if (std::find(usable.begin(), usable.end(), index) != usable.end()) continue;
    std::string why;
    if (devices.empty()) {
      why = "no GPU was found";
    } else if (visible.indices) {
      why = visible.from + " gives this batch " + DescribeDevices(usable);
    } else {
      why = ThisMachineHas(devices);
    }
    return Status::Error("--gpus " + std::to_string(index) + ": no such GPU (" + why + ")");
  }
  return Status::Ok();
}

}  // namespace headroom

#include "probe/amd_provider.h"

#include <dirent.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "probe/text_file.h"

namespace headroom {
namespace {

std::optional<uint64_t> ReadNumber(const std::string& path) {
  std::optional<std::string> text = ReadTextFile(path);
  return text ? ParseUnsigned(*text) : std::nullopt;
}

// N of a "cardN" entry; nullopt for connectors ("card0-DP-1") and others.
std::optional<int> CardNumber(std::string_view name) {
  if (name.substr(0, 4) != "card" || name.size() == 4) return std::nullopt;
  int number = 0;
  auto [end, error] = std::from_chars(name.data() + 4, name.data() + name.size(), number);
  if (error != std::errc() || end != name.data() + name.size()) return std::nullopt;
  return number;
}

std::optional<std::vector<int>> ListCards(const std::string& drm_root) {
  DIR* dir = opendir(drm_root.c_str());
  if (dir == nullptr) return std::nullopt;
  std::vector<int> cards;
  while (dirent* entry = readdir(dir)) {
    if (std::optional<int> card = CardNumber(entry->d_name)) cards.push_back(*card);
  }
  closedir(dir);
  std::sort(cards.begin(), cards.end());
  return cards;
}

// temp1_input of the first hwmon directory that has one, in °C.
std::optional<int> ReadTemperature(const std::string& device_dir) {
  std::string hwmon_dir = device_dir + "/hwmon";
  DIR* dir = opendir(hwmon_dir.c_str());
  if (dir == nullptr) return std::nullopt;
  std::vector<std::string> names;
  while (dirent* entry = readdir(dir)) {
    if (std::string_view(entry->d_name).substr(0, 5) == "hwmon") names.push_back(entry->d_name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    // Millidegrees; a value that cannot be a temperature is unknown.
    std::optional<uint64_t> milli = ReadNumber(hwmon_dir + "/" + name + "/temp1_input");
    if (milli && *milli < 200000) return static_cast<int>((*milli + 500) / 1000);
  }
  return std::nullopt;
}

}  // namespace

AmdProvider::AmdProvider(std::string drm_root) : drm_root_(std::move(drm_root)) {}

Status AmdProvider::Sample(std::vector<GpuDevice>* devices) {
  std::optional<std::vector<int>> cards = ListCards(drm_root_);
  if (!cards) return Status::Error(drm_root_ + ": cannot list GPUs");
  std::vector<GpuDevice> sampled;
  for (int card : *cards) {
    std::string dir = drm_root_ + "/card" + std::to_string(card) + "/device";
    std::optional<uint64_t> total = ReadNumber(dir + "/mem_info_vram_total");
    if (!total) continue;
    GpuDevice device;
    device.index = static_cast<int>(sampled.size());
    std::optional<std::string> product = ReadTextFile(dir + "/product_name");
    device.name = product ? std::string(TrimSpace(*product)) : "";
    if (device.name.empty()) device.name = "AMD GPU card" + std::to_string(card);
    if (std::optional<std::string> id = ReadTextFile(dir + "/unique_id")) {
      device.uuid = std::string(TrimSpace(*id));
    }
    device.memory_total = *total;
    device.memory_used = std::min(*total, ReadNumber(dir + "/mem_info_vram_used").value_or(0));
    device.temperature_c = ReadTemperature(dir);
    if (std::optional<uint64_t> busy = ReadNumber(dir + "/gpu_busy_percent");
        busy && *busy <= 100) {
      device.utilization_pct = static_cast<int>(*busy);
    }
    sampled.push_back(std::move(device));
  }
  *devices = std::move(sampled);
  return Status::Ok();
}

std::unique_ptr<GpuProvider> OpenAmd(const std::string& drm_root, std::string* why_not) {
  return KeepIfItSeesGpus(std::make_unique<AmdProvider>(drm_root),
                          drm_root + ": no card with mem_info_vram_total (no amdgpu device)",
                          why_not);
}

}  // namespace headroom

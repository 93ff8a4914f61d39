#include "probe/gpu_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "util/shell_quote.h"
#include "util/units.h"

namespace headroom {
namespace {

std::string OrDash(const std::optional<int>& value, const char* unit) {
  return value ? fmt::format("{}{}", *value, unit) : "-";
}

std::string Memory(const GpuDevice& device) {
  std::string text = FormatSize(device.memory_used) + " / " + FormatSize(device.memory_total);
  if (device.memory_total == 0) return text;
  return text + fmt::format(" ({}%)", device.memory_used * 100 / device.memory_total);
}

}  // namespace

std::string FormatGpuTable(const Snapshot& snapshot, const std::map<pid_t, ProcessInfo>& processes) {
  if (snapshot.gpus.empty()) return fmt::format("no GPUs (provider: {})\n", snapshot.gpu_provider);
  std::vector<std::vector<std::string>> rows = {
      {"GPU", "NAME", "UUID", "MEMORY USED / TOTAL", "TEMP", "UTIL", "PROVIDER"}};
  for (const GpuDevice& d : snapshot.gpus) {
    rows.push_back({std::to_string(d.index), d.name, d.uuid.empty() ? "-" : d.uuid, Memory(d),
                    OrDash(d.temperature_c, "C"), OrDash(d.utilization_pct, "%"),
                    snapshot.gpu_provider});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < rows[r].size(); ++i) {
      line += fmt::format("{:<{}}", rows[r][i], i + 1 < rows[r].size() ? widths[i] + 2 : 0);
    }
    out += line + "\n";
    if (r == 0) continue;
    const GpuDevice& d = snapshot.gpus[r - 1];
    for (const GpuProcess& p : d.processes) {
      std::string row = fmt::format("  pid {:<8} {:<10}", p.pid, FormatSize(p.used_bytes));
      auto info = processes.find(p.pid);
      if (info != processes.end()) {
        if (info->second.job_number) {
          row += fmt::format(" job #{} {}", *info->second.job_number,
                              ShellQuote(info->second.job_input));
          if (!info->second.command.empty()) row += ":";
        }
        constexpr size_t kCommandWidth = 100;
        std::string command = info->second.command;
        if (command.size() > kCommandWidth) command = command.substr(0, kCommandWidth - 3) + "...";
        if (!command.empty()) row += " " + command;
      }
      while (!row.empty() && row.back() == ' ') row.pop_back();
      out += row + "\n";
    }
  }
  return out;
}

std::string FormatGpuJson(const Snapshot& snapshot, const std::map<pid_t, ProcessInfo>& infos) {
  using Json = nlohmann::ordered_json;
  Json devices = Json::array();
  for (const GpuDevice& d : snapshot.gpus) {
    Json processes = nullptr;
    if (d.processes_known) {
      processes = Json::array();
      for (const GpuProcess& p : d.processes) {
        Json process = {{"pid", p.pid}, {"used_bytes", p.used_bytes}};
        auto info = infos.find(p.pid);
        bool known = info != infos.end();
        process["command"] = known && !info->second.command.empty() ? Json(info->second.command) : Json();
        process["job_number"] = known && info->second.job_number ? Json(*info->second.job_number) : Json();
        process["job_input"] = known && info->second.job_number ? Json(info->second.job_input) : Json();
        processes.push_back(std::move(process));
      }
    }
    devices.push_back({{"index", d.index},
                       {"name", d.name},
                       {"uuid", d.uuid},
                       {"memory_total_bytes", d.memory_total},
                       {"memory_used_bytes", d.memory_used},
                       {"temperature_c", d.temperature_c ? Json(*d.temperature_c) : Json()},
                       {"utilization_pct", d.utilization_pct ? Json(*d.utilization_pct) : Json()},
                       {"processes", processes}});
  }
  Json root = {{"provider", snapshot.gpu_provider},
               {"sample_seconds", snapshot.gpu_sample_seconds},
               {"devices", devices}};
  return root.dump();
}

}  // namespace headroom

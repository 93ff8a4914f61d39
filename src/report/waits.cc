#include "report/waits.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string_view>

namespace headroom {
namespace {

// The device numbers of the first "gpuN[,M...]" in `part`.
std::vector<int> Devices(std::string_view part) {
  std::vector<int> devices;
  for (size_t at = part.find("gpu"); at != std::string_view::npos; at = part.find("gpu", at + 1)) {
    size_t i = at + 3;
    if (i >= part.size() || !std::isdigit(static_cast<unsigned char>(part[i]))) continue;
    for (;;) {
      int device = 0;
      while (i < part.size() && std::isdigit(static_cast<unsigned char>(part[i]))) {
        device = device * 10 + (part[i] - '0');
        ++i;
      }
      devices.push_back(device);
      if (i + 1 < part.size() && part[i] == ',' &&
          std::isdigit(static_cast<unsigned char>(part[i + 1]))) {
        ++i;
        continue;
      }
      return devices;
    }
  }
  return devices;
}

}  // namespace

std::vector<WaitGate> ParseWaiting(const std::string& waiting) {
  std::vector<WaitGate> gates;
  size_t start = 0;
  while (start < waiting.size()) {
    size_t end = std::min(waiting.find(';', start), waiting.size());
    std::string_view part(waiting.data() + start, end - start);
    start = end + 1;
    size_t first = part.find_first_not_of(' ');
    if (first == std::string_view::npos) continue;
    part.remove_prefix(first);
    std::string gate(part.substr(0, part.find(' ')));
    // Others' memory is described per device ("gpu0: 8.8 of 10.0 GiB used
    // by other processes (pid 4242)"): the "foreign" gate.
    if (gate.starts_with("gpu") && gate.ends_with(":")) gate = "foreign";
    std::vector<int> devices = Devices(part);
    if (devices.empty()) devices.push_back(-1);
    for (int device : devices) {
      WaitGate one{gate, device};
      if (std::find(gates.begin(), gates.end(), one) == gates.end()) gates.push_back(one);
    }
  }
  return gates;
}

std::vector<std::string> WaitingGates(const std::string& waiting) {
  std::vector<std::string> names;
  for (const WaitGate& gate : ParseWaiting(waiting)) {
    if (std::find(names.begin(), names.end(), gate.gate) == names.end()) names.push_back(gate.gate);
  }
  return names;
}

std::vector<WaitInterval> WaitIntervals(const std::vector<EventRecord>& events, double horizon) {
  std::vector<WaitInterval> out;
  std::map<std::pair<std::string, int>, double> open;  // gate -> since
  auto close_missing = [&](const std::vector<WaitGate>& now_held, double t) {
    for (auto it = open.begin(); it != open.end();) {
      WaitGate gate{it->first.first, it->first.second};
      if (std::find(now_held.begin(), now_held.end(), gate) != now_held.end()) {
        ++it;
        continue;
      }
      if (t > it->second) out.push_back({it->second, t, gate});
      it = open.erase(it);
    }
  };
  for (const EventRecord& event : events) {
    if (event.kind != "waiting") continue;
    std::vector<WaitGate> held = ParseWaiting(event.text);
    close_missing(held, event.t);
    for (const WaitGate& gate : held) open.try_emplace({gate.gate, gate.device}, event.t);
  }
  close_missing({}, horizon);
  std::stable_sort(out.begin(), out.end(), [](const WaitInterval& a, const WaitInterval& b) {
    return a.start < b.start;
  });
  return out;
}

std::string WaitLabel(const WaitGate& gate) {
  return gate.device < 0 ? gate.gate : gate.gate + " gpu" + std::to_string(gate.device);
}

std::map<std::string, WaitTotal> WaitTotals(const std::vector<WaitInterval>& waits) {
  std::map<std::string, WaitTotal> totals;
  for (const WaitInterval& wait : waits) {
    WaitTotal& total = totals[WaitLabel(wait.gate)];
    total.gate = wait.gate;
    total.seconds += wait.end - wait.start;
  }
  return totals;
}

}  // namespace headroom

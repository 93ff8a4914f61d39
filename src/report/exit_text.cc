#include "report/exit_text.h"

#include <cstring>

namespace headroom {

std::string SignalName(int signal) {
  // sigabbrev_np (glibc >= 2.32) is async-signal-safe and, unlike
  // strsignal, not translated, so logs stay greppable.
  const char* abbrev = sigabbrev_np(signal);
  if (abbrev == nullptr) return "signal " + std::to_string(signal);
  return std::string("SIG") + abbrev;
}

std::string DescribeExit(const ExitInfo& exit) {
  if (exit.signal != 0) return "killed by " + SignalName(exit.signal);
  return "exit " + std::to_string(exit.exit_code);
}

std::vector<std::string_view> LastLines(std::string_view text, size_t count, size_t width) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    if (!line.empty()) lines.push_back(line.substr(0, width));
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
  if (lines.size() > count) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(count));
  return lines;
}

}  // namespace headroom

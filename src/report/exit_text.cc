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

}  // namespace headroom

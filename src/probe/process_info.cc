#include "probe/process_info.h"

#include <fmt/format.h>

#include <string_view>
#include <vector>

#include "probe/text_file.h"
#include "util/shell_quote.h"

namespace headroom {
namespace {

std::vector<std::string> SplitNul(const std::string& text) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

}  // namespace

ProcessInfo ReadProcessInfo(pid_t pid, const std::string& proc) {
  ProcessInfo info;
  std::optional<std::string> cmdline = ReadTextFile(fmt::format("{}/{}/cmdline", proc, pid));
  if (cmdline) info.command = ShellJoin(SplitNul(*cmdline));
  std::optional<std::string> environ = ReadTextFile(fmt::format("{}/{}/environ", proc, pid));
  if (!environ) return info;
  constexpr std::string_view kNumber = "HEADROOM_JOB_NUMBER=";
  constexpr std::string_view kInput = "HEADROOM_JOB_INPUT=";
  for (const std::string& entry : SplitNul(*environ)) {
    std::string_view e(entry);
    if (e.substr(0, kNumber.size()) == kNumber) {
      std::optional<uint64_t> number = ParseUnsigned(e.substr(kNumber.size()));
      if (number) info.job_number = static_cast<int64_t>(*number);
    } else if (e.substr(0, kInput.size()) == kInput) {
      info.job_input = std::string(e.substr(kInput.size()));
    }
  }
  return info;
}

}  // namespace headroom

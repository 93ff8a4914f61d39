#include "cli/option_values.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <regex>
#include <utility>

#include "sched/job_count.h"

namespace headroom {
namespace {

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Like from_chars, but the whole text must be the number.
std::errc ReadInt64(std::string_view text, int64_t* value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  if (ec == std::errc() && ptr != end) return std::errc::invalid_argument;
  return ec;
}

// Like from_chars, but the whole text must be the number, and it must be
// finite: from_chars also reads "inf" and "nan".
std::errc ReadDouble(std::string_view text, double* value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  if (ec == std::errc() && (ptr != end || !std::isfinite(*value))) {
    return std::errc::invalid_argument;
  }
  return ec;
}

// Splits a comma list into trimmed items; empty items are kept so that the
// caller can reject "0,,2".
std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> items;
  for (;;) {
    size_t comma = text.find(',');
    items.push_back(Trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) return items;
    text.remove_prefix(comma + 1);
  }
}

// The options' enums are parsed from their exact lower-case names.
template <typename Enum, size_t N>
Status ParseEnum(std::string_view text, const std::pair<std::string_view, Enum> (&names)[N],
                 Enum* value) {
  std::string expected;
  for (const auto& [name, candidate] : names) {
    if (text == name) {
      *value = candidate;
      return Status::Ok();
    }
    expected += expected.empty() ? "" : ", ";
    expected += name;
  }
  return Status::Error(fmt::format("'{}' is not one of {}", text, expected));
}

bool IsEnvNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsEnvNameChar(char c) { return IsEnvNameStart(c) || (c >= '0' && c <= '9'); }

// Names of an enum's values, looked up both ways.
template <typename Enum, size_t N>
std::string_view NameOf(const std::pair<std::string_view, Enum> (&names)[N], Enum value) {
  for (const auto& [name, candidate] : names) {
    if (candidate == value) return name;
  }
  return "?";
}

// Far more than any machine runs at once; keeps later arithmetic in int.
constexpr int64_t kMaxJobs = 1'000'000;
// More devices than any machine has; CUDA_VISIBLE_DEVICES counts from 0.
constexpr int64_t kMaxDeviceIndex = 1023;

constexpr std::pair<std::string_view, GpuProviderKind> kGpuProviderNames[] = {
    {"auto", GpuProviderKind::kAuto},
    {"nvml", GpuProviderKind::kNvml},
    {"nvidia-smi", GpuProviderKind::kNvidiaSmi},
    {"amd", GpuProviderKind::kAmd},
    {"sim", GpuProviderKind::kSim},
    {"none", GpuProviderKind::kNone}};

constexpr std::pair<std::string_view, PolicyKind> kPolicyNames[] = {
    {"adaptive", PolicyKind::kAdaptive},
    {"fixed", PolicyKind::kFixed},
    {"watermark", PolicyKind::kWatermark}};

}  // namespace

Status ParseBoolWord(std::string_view text, bool* value) {
  std::string word = Lower(text);
  if (word == "1" || word == "true" || word == "yes" || word == "on") {
    *value = true;
  } else if (word == "0" || word == "false" || word == "no" || word == "off") {
    *value = false;
  } else {
    return Status::Error(
        fmt::format("'{}' is not a boolean (expected 1/0, true/false, yes/no, on/off)", text));
  }
  return Status::Ok();
}

Status ParseInteger(std::string_view text, int64_t min, int64_t max, int64_t* value) {
  int64_t parsed = 0;
  std::errc error = ReadInt64(text, &parsed);
  if (error == std::errc::invalid_argument) {
    return Status::Error(fmt::format("'{}' is not a whole number", text));
  }
  if (error != std::errc() || parsed < min || parsed > max) {
    if (max == std::numeric_limits<int64_t>::max()) {
      return Status::Error(fmt::format("'{}' is out of range (expected at least {})", text, min));
    }
    return Status::Error(fmt::format("'{}' is out of range (expected {} to {})", text, min, max));
  }
  *value = parsed;
  return Status::Ok();
}

namespace {

// A count of jobs from 1 to kMaxJobs, or "auto" for `auto_value`.
Status ParseCountOrAuto(std::string_view text, int auto_value, int* count) {
  if (text == "auto") {
    *count = auto_value;
    return Status::Ok();
  }
  int64_t value = 0;
  std::errc error = ReadInt64(text, &value);
  if (error == std::errc::invalid_argument) {
    return Status::Error(fmt::format("'{}' is not a number or 'auto'", text));
  }
  if (error != std::errc() || value < 1 || value > kMaxJobs) {
    return Status::Error(
        fmt::format("'{}' is out of range (expected 1 to {}, or 'auto')", text, kMaxJobs));
  }
  *count = static_cast<int>(value);
  return Status::Ok();
}

}  // namespace

Status ParseJobCount(std::string_view text, unsigned cores, int* jobs) {
  // GNU parallel's spellings: 0 = as many as the other gates allow, N% = N
  // percent of the cores.
  if (text == "0") {
    *jobs = kAsManyAsPossible;
    return Status::Ok();
  }
  if (text.ends_with('%')) {
    int64_t percent = 0;
    std::string_view number = text.substr(0, text.size() - 1);
    std::errc error = ReadInt64(number, &percent);
    if (error != std::errc() || percent < 1 || percent > 100000) {
      return Status::Error(fmt::format("'{}' is not a percentage of the cores (expected e.g. 50%)",
                                       text));
    }
    *jobs = static_cast<int>(std::max<int64_t>(1, static_cast<int64_t>(cores) * percent / 100));
    return Status::Ok();
  }
  return ParseCountOrAuto(text, AutoJobCount(cores), jobs);
}

Status ParseThreadsPerJob(std::string_view text, unsigned cores, int jobs, int* threads) {
  if (text == "auto") {
    *threads = AutoThreadsPerJob(cores, jobs);
    return Status::Ok();
  }
  if (text == "off") {
    *threads = 0;
    return Status::Ok();
  }
  int64_t value = 0;
  std::errc error = ReadInt64(text, &value);
  if (error == std::errc::invalid_argument) {
    return Status::Error(fmt::format("'{}' is not a number, 'auto' or 'off'", text));
  }
  if (error != std::errc() || value < 0 || value > kMaxJobs) {
    return Status::Error(
        fmt::format("'{}' is out of range (expected 1 to {}, 'auto' or 'off')", text, kMaxJobs));
  }
  *threads = static_cast<int>(value);
  return Status::Ok();
}

Status ParseExtensions(const std::vector<std::string>& words, std::vector<std::string>* exts) {
  std::vector<std::string> parsed;
  for (const std::string& word : words) {
    std::string_view rest = word;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = Trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!item.empty() && item.front() == '.') item.remove_prefix(1);
      if (item.empty()) continue;
      if (item.find('/') != std::string_view::npos) {
        return Status::Error(
            fmt::format("'{}' is not a file extension (expected e.g. mp4,mkv)", item));
      }
      parsed.push_back(Lower(item));
    }
  }
  *exts = std::move(parsed);
  return Status::Ok();
}

Status ParseEnvAssignment(std::string_view text, EnvVar* var) {
  size_t equals = text.find('=');
  if (equals == std::string_view::npos) {
    return Status::Error(fmt::format("'{}' is not K=V", text));
  }
  std::string_view name = text.substr(0, equals);
  bool valid = !name.empty() && IsEnvNameStart(name.front()) &&
               std::all_of(name.begin(), name.end(), IsEnvNameChar);
  if (!valid) {
    return Status::Error(fmt::format(
        "'{}' is not a valid variable name (expected letters, digits and _, not starting with a "
        "digit)",
        name));
  }
  var->name = std::string(name);
  var->value = std::string(text.substr(equals + 1));
  return Status::Ok();
}

Status ParsePositiveNumber(std::string_view text, double max, double* value) {
  double parsed = 0;
  std::errc error = ReadDouble(text, &parsed);
  if (error == std::errc::invalid_argument) {
    return Status::Error(fmt::format("'{}' is not a number (expected e.g. 8 or 7.5)", text));
  }
  if (error != std::errc() || parsed <= 0 || (max > 0 && parsed > max)) {
    if (max > 0) {
      return Status::Error(
          fmt::format("'{}' is out of range (expected more than 0 and at most {})", text, max));
    }
    return Status::Error(fmt::format("'{}' is out of range (expected more than 0)", text));
  }
  *value = parsed;
  return Status::Ok();
}

Status ParseFraction(std::string_view text, double* fraction) {
  std::string_view number = text;
  bool percent = number.ends_with('%');
  if (percent) number.remove_suffix(1);
  double parsed = 0;
  std::errc error = ReadDouble(number, &parsed);
  if (error == std::errc::invalid_argument) {
    return Status::Error(fmt::format("'{}' is not a fraction (expected e.g. 0.85 or 85%)", text));
  }
  if (percent) parsed /= 100;
  if (error != std::errc() || parsed <= 0 || parsed > 1) {
    return Status::Error(
        fmt::format("'{}' is out of range (expected more than 0 and at most 1, or 100%)", text));
  }
  *fraction = parsed;
  return Status::Ok();
}

Status ParsePercent(std::string_view text, int* percent) {
  std::string_view number = text;
  if (number.ends_with('%')) number.remove_suffix(1);
  int64_t value = 0;
  std::errc error = ReadInt64(number, &value);
  if (error == std::errc::invalid_argument) {
    return Status::Error(
        fmt::format("'{}' is not a whole percentage (expected e.g. 80 or 80%)", text));
  }
  if (error != std::errc() || value < 1 || value > 100) {
    return Status::Error(fmt::format("'{}' is out of range (expected 1 to 100)", text));
  }
  *percent = static_cast<int>(value);
  return Status::Ok();
}

Status ParseJobsPerGpu(std::string_view text, int* jobs) {
  return ParseCountOrAuto(text, 0, jobs);  // auto: no cap beyond --jobs
}

Status ParseGpuList(std::string_view text, bool* all, std::vector<int>* gpus) {
  if (text == "all" || text == "none") {
    *all = text == "all";
    gpus->clear();
    return Status::Ok();
  }
  std::vector<int> indices;
  for (std::string_view item : SplitCommas(text)) {
    int64_t index = 0;
    std::errc error = ReadInt64(item, &index);
    if (error == std::errc::invalid_argument) {
      return Status::Error(
          fmt::format("'{}' is not a device index (expected all, none or indices like 0,2)", item));
    }
    if (error != std::errc() || index < 0 || index > kMaxDeviceIndex) {
      return Status::Error(fmt::format("device index '{}' is out of range (expected 0 to {})", item,
                                       kMaxDeviceIndex));
    }
    if (std::find(indices.begin(), indices.end(), index) != indices.end()) {
      return Status::Error(fmt::format("'{}' lists device {} twice", text, index));
    }
    indices.push_back(static_cast<int>(index));
  }
  *all = false;
  *gpus = std::move(indices);
  return Status::Ok();
}

Status ParseExitCodes(const std::vector<std::string>& words, std::vector<int>* codes) {
  std::vector<int> parsed;
  for (const std::string& word : words) {
    for (std::string_view item : SplitCommas(word)) {
      int64_t code = 0;
      Status status = ParseInteger(item, 1, 255, &code);
      if (!status.ok()) return status;
      if (std::find(parsed.begin(), parsed.end(), code) == parsed.end()) {
        parsed.push_back(static_cast<int>(code));
      }
    }
  }
  *codes = std::move(parsed);
  return Status::Ok();
}

Status ParseRegexes(const std::vector<std::string>& words, std::vector<std::string>* patterns) {
  for (const std::string& word : words) {
    if (word.empty()) {
      return Status::Error("an empty pattern is not allowed (it would match every failure)");
    }
    try {
      std::regex compiled(word, std::regex::ECMAScript);
    } catch (const std::regex_error& error) {
      return Status::Error(
          fmt::format("'{}' is not a valid regular expression: {}", word, error.what()));
    }
  }
  *patterns = words;
  return Status::Ok();
}

Status ParseOrder(std::string_view text, Order* order) {
  static constexpr std::pair<std::string_view, Order> kNames[] = {{"given", Order::kGiven},
                                                                  {"name", Order::kName},
                                                                  {"mtime", Order::kMtime},
                                                                  {"size", Order::kSize}};
  return ParseEnum(text, kNames, order);
}

Status ParseHalt(std::string_view text, Halt* halt) {
  static constexpr std::pair<std::string_view, Halt> kNames[] = {
      {"never", Halt::kNever}, {"soon", Halt::kSoon}, {"now", Halt::kNow}};
  return ParseEnum(text, kNames, halt);
}

Status ParseLogLevel(std::string_view text, LogLevel* level) {
  static constexpr std::pair<std::string_view, LogLevel> kNames[] = {{"debug", LogLevel::kDebug},
                                                                     {"info", LogLevel::kInfo},
                                                                     {"warn", LogLevel::kWarn},
                                                                     {"error", LogLevel::kError}};
  return ParseEnum(text, kNames, level);
}

Status ParseLogFormat(std::string_view text, LogFormat* format) {
  static constexpr std::pair<std::string_view, LogFormat> kNames[] = {{"text", LogFormat::kText},
                                                                      {"json", LogFormat::kJson}};
  return ParseEnum(text, kNames, format);
}

Status ParseGpuProvider(std::string_view text, GpuProviderKind* provider) {
  return ParseEnum(text, kGpuProviderNames, provider);
}

Status ParsePolicy(std::string_view text, PolicyKind* policy) {
  return ParseEnum(text, kPolicyNames, policy);
}

std::string_view GpuProviderName(GpuProviderKind provider) {
  return NameOf(kGpuProviderNames, provider);
}

std::string_view PolicyName(PolicyKind policy) { return NameOf(kPolicyNames, policy); }

}  // namespace headroom

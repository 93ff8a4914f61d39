#include "cli/option_values.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

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

// Far more than any machine runs at once; keeps later arithmetic in int.
constexpr int64_t kMaxJobs = 1'000'000;

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

Status ParseJobCount(std::string_view text, unsigned cores, int* jobs) {
  if (text == "auto") {
    *jobs = std::max(1, static_cast<int>(std::min<unsigned>(cores, kMaxJobs)) - 2);
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
  *jobs = static_cast<int>(value);
  return Status::Ok();
}

Status ParseThreadsPerJob(std::string_view text, unsigned cores, int jobs, int* threads) {
  if (text == "auto") {
    int usable = static_cast<int>(std::min<unsigned>(cores, kMaxJobs));
    *threads = std::max(1, usable / std::max(1, jobs));
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

}  // namespace headroom

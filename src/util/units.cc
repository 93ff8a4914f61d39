#include "util/units.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <utility>

namespace headroom {
namespace {

constexpr long double kTwoTo64 = 18446744073709551616.0L;
// int64 milliseconds hold about 292 million years; anything near that is a typo.
constexpr long double kMaxMillis = 9.0e18L;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// An unsigned decimal number, kept as an exact integer part and a fraction
// so that plain byte counts up to 2^64 - 1 stay exact.
struct Decimal {
  uint64_t whole = 0;
  bool whole_overflowed = false;
  long double fraction = 0;  // in [0, 1)

  long double Value() const {
    return whole_overflowed ? kTwoTo64 : static_cast<long double>(whole) + fraction;
  }
};

// Reads a number ("12", "1.5", ".5", "3.") at text[*pos], advancing *pos.
// Digits only: no sign, exponent, "inf" or "nan".
bool ReadDecimal(std::string_view text, size_t* pos, Decimal* number) {
  size_t i = *pos;
  Decimal d;
  bool any_digit = false;
  for (; i < text.size() && IsDigit(text[i]); ++i) {
    any_digit = true;
    d.whole_overflowed = d.whole_overflowed || __builtin_mul_overflow(d.whole, 10u, &d.whole) ||
                         __builtin_add_overflow(d.whole, text[i] - '0', &d.whole);
  }
  if (i < text.size() && text[i] == '.') {
    long double scale = 1;
    for (++i; i < text.size() && IsDigit(text[i]); ++i) {
      any_digit = true;
      scale /= 10;
      d.fraction += (text[i] - '0') * scale;
    }
  }
  if (!any_digit) return false;
  *pos = i;
  *number = d;
  return true;
}

// Multiplier of a size unit: "", "b", "k", "kb", "ki", "kib", ... (lower case).
bool SizeUnit(std::string_view unit, uint64_t* multiplier) {
  if (unit.empty() || unit == "b") {
    *multiplier = 1;
    return true;
  }
  static constexpr std::string_view kPrefixes = "kmgtpe";
  size_t power = kPrefixes.find(unit[0]);
  if (power == std::string_view::npos) return false;
  std::string_view rest = unit.substr(1);
  if (!rest.empty() && rest != "b" && rest != "i" && rest != "ib") return false;
  *multiplier = uint64_t{1} << (10 * (power + 1));
  return true;
}

bool DurationUnit(std::string_view unit, long double* millis) {
  static constexpr std::pair<std::string_view, long double> kUnits[] = {
      {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3}};
  for (const auto& [name, value] : kUnits) {
    if (unit == name) {
      *millis = value;
      return true;
    }
  }
  return false;
}

Status NotASize(std::string_view text) {
  return Status::Error(fmt::format("'{}' is not a size (expected e.g. 512M, 6G, 1.5GiB)", text));
}

Status NotADuration(std::string_view text) {
  return Status::Error(fmt::format("'{}' is not a duration (expected e.g. 90s, 2m, 1h30m)", text));
}

}  // namespace

Status ParseSize(std::string_view text, uint64_t* bytes) {
  size_t pos = 0;
  Decimal number;
  if (!ReadDecimal(text, &pos, &number)) return NotASize(text);
  // One space is allowed so that FormatSize's "1.5 GiB" reads back.
  if (pos < text.size() && text[pos] == ' ') ++pos;
  std::string unit;
  for (; pos < text.size(); ++pos) unit += Lower(text[pos]);
  if (unit.empty() && text.back() == ' ') return NotASize(text);
  uint64_t multiplier = 1;
  if (!SizeUnit(unit, &multiplier)) return NotASize(text);
  // The fraction's share is below `multiplier`, so it fits once rounded.
  auto fraction_bytes = static_cast<uint64_t>(
      std::floor(number.fraction * static_cast<long double>(multiplier) + 0.5L));
  uint64_t value = 0;
  if (number.whole_overflowed || __builtin_mul_overflow(number.whole, multiplier, &value) ||
      __builtin_add_overflow(value, fraction_bytes, &value)) {
    return Status::Error(fmt::format("'{}' is too large a size", text));
  }
  *bytes = value;
  return Status::Ok();
}

Status ParseDuration(std::string_view text, Millis* out) {
  size_t pos = 0;
  long double total = 0;
  bool bare_number = true;
  while (pos < text.size() || pos == 0) {
    Decimal number;
    if (!ReadDecimal(text, &pos, &number)) return NotADuration(text);
    std::string unit;
    while (pos < text.size() && !IsDigit(text[pos]) && text[pos] != '.') unit += Lower(text[pos++]);
    long double unit_millis = 1000;
    if (unit.empty()) {
      // "1h30" is ambiguous; only a number on its own means seconds.
      if (!bare_number || pos < text.size()) return NotADuration(text);
    } else if (!DurationUnit(unit, &unit_millis)) {
      return NotADuration(text);
    }
    bare_number = false;
    total += number.Value() * unit_millis;
  }
  long double millis = std::floor(total + 0.5L);
  if (!(millis < kMaxMillis)) {
    return Status::Error(fmt::format("'{}' is too long a duration", text));
  }
  *out = Millis(static_cast<int64_t>(millis));
  return Status::Ok();
}

std::string FormatSize(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  // Moves up a unit also when rounding to one decimal would print "1024.0".
  while (unit + 1 < std::size(kUnits) && value >= 1023.95) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string FormatRate(double jobs_per_second, std::string_view what) {
  std::string space = what.empty() ? "" : " ";
  if (jobs_per_second >= 1) return fmt::format("{:.1f}{}{}/s", jobs_per_second, space, what);
  if (jobs_per_second * 60 >= 1) {
    return fmt::format("{:.1f}{}{}/min", jobs_per_second * 60, space, what);
  }
  return fmt::format("{:.1f}{}{}/h", jobs_per_second * 3600, space, what);
}

std::string FormatDuration(double seconds) {
  if (!(seconds > 0)) seconds = 0;
  seconds = std::min(seconds, 1e15);  // keeps llround defined; about 31 million years
  double tenths = std::round(seconds * 10) / 10;
  if (tenths < 60) return fmt::format("{:.1f}s", tenths);
  auto whole_seconds = static_cast<int64_t>(std::llround(seconds));
  if (whole_seconds < 60 * 60) {
    return fmt::format("{}m{:02}s", whole_seconds / 60, whole_seconds % 60);
  }
  auto minutes = static_cast<int64_t>(std::llround(seconds / 60));
  if (minutes < 24 * 60) return fmt::format("{}h{:02}m", minutes / 60, minutes % 60);
  auto hours = static_cast<int64_t>(std::llround(seconds / 3600));
  return fmt::format("{}d{:02}h", hours / 24, hours % 24);
}

}  // namespace headroom

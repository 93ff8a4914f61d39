// Sizes and durations, parsed one way everywhere (options, env, config,
// jobs files) and formatted for people.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace headroom {

using Millis = std::chrono::milliseconds;

// Parses a byte size: "1024", "512K", "512M", "6G", "1.5GiB", "2T", "100MB".
// Every unit is binary (K = KiB = KB = 1024), as GPU and RAM figures are;
// P and E exist too, and one space may precede the unit ("1.5 GiB").
// Case-insensitive; no negative or empty values. On error the message names
// the text: "'6X' is not a size (expected e.g. 512M, 6G, 1.5GiB)".
Status ParseSize(std::string_view text, uint64_t* bytes);

// Parses a duration: "90s", "2m", "1h30m", "500ms", "1.5s", "1d"; a bare
// number is seconds. On error the message names the text.
Status ParseDuration(std::string_view text, Millis* out);

// "812 B", "1.5 KiB", "6.0 GiB".
std::string FormatSize(uint64_t bytes);

// "0.4s", "12.3s", "2m05s", "1h02m", "1d01h".
std::string FormatDuration(double seconds);

// A job rate in the unit that keeps it readable: "3.2/s" from one a second
// up, "12.5/min" from one a minute, else "3.0/h" (minute-long jobs would
// read "0.0/s"). The progress line and `status` both say it this way;
// `what` goes before the unit: "1.6 jobs/min".
std::string FormatRate(double jobs_per_second, std::string_view what = "");

}  // namespace headroom

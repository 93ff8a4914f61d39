// Small helpers for the text files of /proc and /sys, where a file's size is
// not known in advance (st_size is 0) and a file may vanish between listing
// a directory and reading it (a process exits).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace headroom {

// The whole file, or nullopt when it cannot be opened or read.
std::optional<std::string> ReadTextFile(const std::string& path);

// Strips spaces, tabs and newlines at both ends.
std::string_view TrimSpace(std::string_view text);

// A whole unsigned decimal number, surrounding whitespace allowed (sysfs
// values end in '\n'); nullopt for anything else, overflow included.
std::optional<uint64_t> ParseUnsigned(std::string_view text);

// A decimal number such as "0.52" or "12"; nullopt for anything else.
std::optional<double> ParseDouble(std::string_view text);

}  // namespace headroom

// Parsers for option values, shared by the command line, the environment and
// the config file so that a value means the same wherever it is written. Each
// error message names the value and what was expected but not the option:
// the caller prefixes where the value came from ("--jobs: ...").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/options.h"
#include "util/status.h"

namespace headroom {

// 1/0, true/false, yes/no, on/off, any case.
Status ParseBoolWord(std::string_view text, bool* value);

// A whole number in [min, max].
Status ParseInteger(std::string_view text, int64_t min, int64_t max, int64_t* value);

// -j/--jobs: N >= 1, or "auto" = max(1, cores - 2).
Status ParseJobCount(std::string_view text, unsigned cores, int* jobs);

// --threads-per-job: N >= 1, "auto" = max(1, cores / jobs), or "off" (and 0) = 0.
Status ParseThreadsPerJob(std::string_view text, unsigned cores, int jobs, int* threads);

// --ext: each word is a comma list; items are trimmed, lower-cased and lose
// their leading dots; empty items are dropped.
Status ParseExtensions(const std::vector<std::string>& words, std::vector<std::string>* exts);

// --env: "K=V" where K is [A-Za-z_][A-Za-z0-9_]*; V may be empty.
Status ParseEnvAssignment(std::string_view text, EnvVar* var);

Status ParseOrder(std::string_view text, Order* order);
Status ParseHalt(std::string_view text, Halt* halt);
Status ParseLogLevel(std::string_view text, LogLevel* level);
Status ParseLogFormat(std::string_view text, LogFormat* format);

}  // namespace headroom

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
// -j 0: "as many as possible", as GNU parallel says it; the slots then
// rarely decide, the memory, disk and load gates do.
inline constexpr int kAsManyAsPossible = 256;

Status ParseJobCount(std::string_view text, unsigned cores, int* jobs);

// --threads-per-job: N >= 1, "auto" = max(1, cores / jobs), or "off" (and 0) = 0.
Status ParseThreadsPerJob(std::string_view text, unsigned cores, int jobs, int* threads);

// --ext: each word is a comma list; items are trimmed, lower-cased and lose
// their leading dots; empty items are dropped.
Status ParseExtensions(const std::vector<std::string>& words, std::vector<std::string>* exts);

// --env: "K=V" where K is [A-Za-z_][A-Za-z0-9_]*; V may be empty.
Status ParseEnvAssignment(std::string_view text, EnvVar* var);

// A decimal number in (0, max], or in (0, inf) when max is 0; "inf" and "nan"
// are not numbers here. For --load.
Status ParsePositiveNumber(std::string_view text, double max, double* value);

// --vram-high/--vram-low: a fraction in (0, 1], or a percentage "85%".
Status ParseFraction(std::string_view text, double* fraction);

// --max-memory: a whole percentage 1..100, with or without "%".
Status ParsePercent(std::string_view text, int* percent);

// --jobs-per-gpu: N >= 1, or "auto" = 0 (no cap beyond --jobs).
Status ParseJobsPerGpu(std::string_view text, int* jobs);

// --gpus: "all" (*all = true), "none" (false, empty) or a comma list of
// device indices "0,2" (false, the indices as given; a repeat is an error).
Status ParseGpuList(std::string_view text, bool* all, std::vector<int>* gpus);

// --oom-exit-code: each word is a comma list of exit codes 1..255; repeats
// are dropped.
Status ParseExitCodes(const std::vector<std::string>& words, std::vector<int>* codes);

// --oom-pattern: each word must compile as an ECMAScript regular expression
// and not be empty (it would match every failure).
Status ParseRegexes(const std::vector<std::string>& words, std::vector<std::string>* patterns);

Status ParseOrder(std::string_view text, Order* order);
Status ParseHalt(std::string_view text, Halt* halt);
Status ParseLogLevel(std::string_view text, LogLevel* level);
Status ParseLogFormat(std::string_view text, LogFormat* format);
Status ParseGpuProvider(std::string_view text, GpuProviderKind* provider);
Status ParsePolicy(std::string_view text, PolicyKind* policy);

// The names these parsers accept: "nvidia-smi", "watermark".
std::string_view GpuProviderName(GpuProviderKind provider);
std::string_view PolicyName(PolicyKind policy);

}  // namespace headroom

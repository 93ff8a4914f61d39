// OOM classifier: did an attempt fail because it ran out of memory? Such a
// failure is retried with more room instead of counting as a failure.
#pragma once

#include <csignal>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace headroom {

enum class OomKind {
  kNone,     // not out of memory
  kGpu,      // a GPU allocation failed (CUDA, cuBLAS, TensorFlow messages)
  kHost,     // host memory: std::bad_alloc, MemoryError, ENOMEM, the OOM killer
  kUnknown,  // --oom-exit-code or --oom-pattern: out of memory, of what unsaid
};

struct OomInput {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool killed_by_us = false;             // headroom signalled it (timeout, interrupt)
  // The kernel's OOM killer killed a process while the attempt ran (its
  // count rose): the evidence a SIGKILL, or a shell's exit 137, needs.
  bool oom_killer_fired = false;
  std::string_view stderr_tail;          // the end of the attempt's stderr
  std::span<const int> oom_exit_codes;   // --oom-exit-code
  std::span<const std::regex> patterns;  // --oom-pattern, compiled
};

// In this order: a clean exit (0) or a job headroom killed is never OOM;
// then the built-in stderr patterns (plain substrings: `CUDA out of memory`,
// `CUDA error: out of memory`, `cudaErrorMemoryAllocation`,
// `CUBLAS_STATUS_ALLOC_FAILED`, `OutOfMemoryError`, `RESOURCE_EXHAUSTED`
// are GPU; `std::bad_alloc`, `MemoryError`, `Cannot allocate memory` host);
// the user's patterns; the user's exit codes; a SIGKILL headroom did not
// send, or a shell's exit 137 (its child was SIGKILLed), is host memory only
// when the OOM killer fired while the job ran (a user's `kill -9` is not
// out of memory).
OomKind ClassifyOom(const OomInput& input);

// Killed by SIGKILL, or a shell that exited 137 because its child was: what
// the OOM killer does, and what needs its evidence (oom_killer_fired).
inline bool DiedOfSigkill(int exit_code, int signal) {
  return signal == SIGKILL || (signal == 0 && exit_code == 128 + SIGKILL);
}
inline bool IsOutOfMemory(const OomInput& input) { return ClassifyOom(input) != OomKind::kNone; }

// Compiles --oom-pattern values as ECMAScript regexes (searched anywhere in
// the stderr tail). On error the message names the pattern.
Status CompileOomPatterns(const std::vector<std::string>& patterns,
                          std::vector<std::regex>* compiled);

}  // namespace headroom

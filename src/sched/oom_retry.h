// OOM retry policy: what happens to a job after an attempt ran out of
// memory. Counted apart from --retries: an OOM says the job lacked room,
// not that it is broken.
#pragma once

#include "util/units.h"

namespace headroom {

struct OomRetryConfig {
  int oom_retries = 3;        // --oom-retries
  Millis retry_delay{30000};  // --retry-delay
  bool cpu_fallback = false;  // --cpu-fallback
};

enum class OomAction {
  kRequeue,      // back to the head of the queue, ready after `delay`
  kCpuFallback,  // once more, now, with no GPU (CUDA_VISIBLE_DEVICES and {gpu} empty)
  kFail,         // give up: the job failed
};

struct OomRetryDecision {
  OomAction action = OomAction::kFail;
  Millis delay{0};
};

// `oom_failures` counts this job's out-of-memory attempts, this one included
// (1 after the first). `had_gpu` says whether the attempt ran with a GPU: an
// attempt without one (the CPU fallback, or no GPU at all) cannot fall back.
OomRetryDecision DecideOomRetry(int oom_failures, bool had_gpu, const OomRetryConfig& config);

}  // namespace headroom

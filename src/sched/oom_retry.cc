#include "sched/oom_retry.h"

namespace headroom {

OomRetryDecision DecideOomRetry(int oom_failures, bool had_gpu, const OomRetryConfig& config) {
  OomRetryDecision decision;
  if (oom_failures <= config.oom_retries) {
    // The delay lets memory held by others (or a burst of our own jobs) drain
    // before the job tries again with its raised footprint.
    decision.action = OomAction::kRequeue;
    decision.delay = config.retry_delay;
  } else if (had_gpu && config.cpu_fallback) {
    // No delay: the CPU run does not wait for GPU memory to free.
    decision.action = OomAction::kCpuFallback;
  }
  return decision;
}

}  // namespace headroom

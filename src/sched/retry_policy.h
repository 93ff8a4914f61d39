// Retry policy: after an attempt ends, is the job done, retried, or given up?
#pragma once

#include "jobs/outcome.h"
#include "util/units.h"

namespace headroom {

struct RetryConfig {
  int retries = 0;         // --retries: extra attempts after the first
  Millis retry_delay{0};   // --retry-delay
};

struct RetryDecision {
  bool retry = false;
  Millis delay{0};  // wait this long before the retry may start
};

// `attempt` is 1 for the first attempt. Failed and timed-out attempts are
// retried while attempt <= retries; successes, interruptions and start
// failures never are.
RetryDecision DecideRetry(Outcome outcome, int attempt, const RetryConfig& config);

}  // namespace headroom

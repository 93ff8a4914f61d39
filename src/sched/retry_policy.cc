#include "sched/retry_policy.h"

namespace headroom {

RetryDecision DecideRetry(Outcome outcome, int attempt, const RetryConfig& config) {
  RetryDecision decision;
  bool retryable = outcome == Outcome::kFailed || outcome == Outcome::kTimedOut;
  if (retryable && attempt <= config.retries) {
    decision.retry = true;
    decision.delay = config.retry_delay;
  }
  return decision;
}

}  // namespace headroom

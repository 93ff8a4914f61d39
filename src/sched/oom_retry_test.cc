#include "sched/oom_retry.h"

#include <gtest/gtest.h>

#include <vector>

namespace headroom {
namespace {

TEST(OomRetryTest, Decisions) {
  struct Case {
    int oom_retries;
    bool cpu_fallback;
    int oom_failures;
    bool had_gpu;
    OomAction want;
  };
  std::vector<Case> cases = {
      {3, false, 1, true, OomAction::kRequeue},
      {3, false, 3, true, OomAction::kRequeue},
      {3, false, 4, true, OomAction::kFail},
      {3, true, 3, true, OomAction::kRequeue},  // retries with a GPU come first
      {3, true, 4, true, OomAction::kCpuFallback},
      {3, true, 5, false, OomAction::kFail},      // the fallback itself ran out
      {3, true, 4, false, OomAction::kFail},      // never had a GPU to leave
      {3, false, 2, false, OomAction::kRequeue},  // host OOMs are retried too
      {0, false, 1, true, OomAction::kFail},
      {0, true, 1, true, OomAction::kCpuFallback},
  };
  OomRetryConfig config;
  for (const Case& c : cases) {
    config.oom_retries = c.oom_retries;
    config.cpu_fallback = c.cpu_fallback;
    EXPECT_EQ(DecideOomRetry(c.oom_failures, c.had_gpu, config).action, c.want)
        << "oom_retries " << c.oom_retries << " cpu_fallback " << c.cpu_fallback << " failures "
        << c.oom_failures << " had_gpu " << c.had_gpu;
  }
}

TEST(OomRetryTest, RequeuesWaitTheRetryDelayAndTheFallbackDoesNot) {
  OomRetryConfig config;
  config.oom_retries = 1;
  config.cpu_fallback = true;
  config.retry_delay = Millis(1500);
  EXPECT_EQ(DecideOomRetry(1, true, config).delay, Millis(1500));
  EXPECT_EQ(DecideOomRetry(2, true, config).delay, Millis(0));
}

TEST(OomRetryTest, DefaultsAreThreeRetriesAfterThirtySeconds) {
  OomRetryConfig config;
  EXPECT_EQ(config.oom_retries, 3);
  EXPECT_EQ(config.retry_delay, Millis(30000));
  EXPECT_FALSE(config.cpu_fallback);
}

}  // namespace
}  // namespace headroom

#include "sched/concurrency_limit.h"

#include <gtest/gtest.h>

namespace headroom {
namespace {

TimePoint At(int seconds) { return TimePoint{} + std::chrono::seconds(seconds); }

TEST(ConcurrencyLimitTest, StartsAtTheCap) {
  EXPECT_EQ(ConcurrencyLimit("gpu0", 6).limit(), 6);
  EXPECT_EQ(ConcurrencyLimit("gpu0", 0).limit(), 1);  // never below one
}

TEST(ConcurrencyLimitTest, AnOomHalvesWhatWasRunningAndSaysWhy) {
  struct Case {
    int cap, running, want;
  };
  std::vector<Case> cases = {
      {8, 8, 4}, {8, 5, 2}, {8, 3, 1},
      {8, 1, 1}, {4, 8, 2},  // running above the limit (forced start): the limit is the base
  };
  for (const Case& c : cases) {
    ConcurrencyLimit limit("gpu1", c.cap);
    std::optional<std::string> reason = limit.OnOom(At(0), c.running, At(5));
    EXPECT_EQ(limit.limit(), c.want) << "cap " << c.cap << " running " << c.running;
    if (c.want != c.cap) {
      ASSERT_TRUE(reason);
      EXPECT_EQ(*reason, "gpu1 limit " + std::to_string(c.cap) + " -> " + std::to_string(c.want) +
                             ": out of memory");
    }
  }
}

TEST(ConcurrencyLimitTest, NoReasonWhenNothingChanges) {
  ConcurrencyLimit limit("gpu0", 1);
  EXPECT_FALSE(limit.OnOom(At(0), 1, At(1)));
  EXPECT_FALSE(limit.OnSuccess());
  EXPECT_EQ(limit.limit(), 1);
}

TEST(ConcurrencyLimitTest, OneBurstOfOomsIsOneDecrease) {
  ConcurrencyLimit limit("gpu0", 8);
  // Three jobs started at 0..2 s fail at 10 s, 10 s and 11 s.
  EXPECT_TRUE(limit.OnOom(At(0), 8, At(10)));
  EXPECT_EQ(limit.limit(), 4);
  EXPECT_FALSE(limit.OnOom(At(1), 7, At(10)));
  EXPECT_FALSE(limit.OnOom(At(2), 6, At(11)));
  EXPECT_EQ(limit.limit(), 4);
  // A job started after the decrease that still fails cuts again.
  EXPECT_TRUE(limit.OnOom(At(12), 4, At(20)));
  EXPECT_EQ(limit.limit(), 2);
  // A job started at the very moment of the decrease started under the new limit.
  EXPECT_TRUE(limit.OnOom(At(20), 2, At(25)));
  EXPECT_EQ(limit.limit(), 1);
}

TEST(ConcurrencyLimitTest, SuccessesGrowItBackOneByOneUpToTheCap) {
  ConcurrencyLimit limit("gpu0", 4);
  limit.OnOom(At(0), 4, At(1));
  ASSERT_EQ(limit.limit(), 2);
  std::optional<std::string> reason = limit.OnSuccess();
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, "gpu0 limit 2 -> 3: job succeeded");
  EXPECT_TRUE(limit.OnSuccess());
  EXPECT_EQ(limit.limit(), 4);
  EXPECT_FALSE(limit.OnSuccess());
  EXPECT_EQ(limit.limit(), 4);
}

// Once a job's GPU memory was measured, the footprint model knows the
// class's real peak: the limit goes back to the cap at once and memory
// admission decides (two 9000 MiB jobs that fit run side by side again).
TEST(ConcurrencyLimitTest, AMeasuredSuccessRestoresTheCap) {
  ConcurrencyLimit limit("gpu0", 6);
  limit.OnOom(At(0), 4, At(1));
  ASSERT_EQ(limit.limit(), 2);
  std::optional<std::string> reason = limit.OnSuccess(/*measured=*/true);
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, "gpu0 limit 2 -> 6: a job's memory was measured; memory admission decides");
  EXPECT_FALSE(limit.OnSuccess(true));
}

}  // namespace
}  // namespace headroom

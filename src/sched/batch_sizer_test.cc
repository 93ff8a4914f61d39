#include "sched/batch_sizer.h"

#include <gtest/gtest.h>

namespace headroom {
namespace {

TEST(BatchSizer, FixedSizeIsTheLimitUntilAnOom) {
  BatchSizer sizer({.size = 8});
  EXPECT_TRUE(sizer.batching());
  EXPECT_FALSE(sizer.is_auto());
  EXPECT_EQ(sizer.Limit("a"), 8);
  EXPECT_EQ(sizer.OnSuccess("a", 8), std::nullopt);  // already at the configured size
  EXPECT_EQ(sizer.OnOom("a", 8), 4);
  EXPECT_EQ(sizer.Limit("a"), 4);
  EXPECT_EQ(sizer.Limit("b"), 8);  // classes are apart
}

TEST(BatchSizer, HalvesDownToOne) {
  BatchSizer sizer({.size = 5});
  EXPECT_EQ(sizer.OnOom("a", 5), 2);
  EXPECT_EQ(sizer.OnOom("a", 2), 1);
  EXPECT_EQ(sizer.OnOom("a", 1), 1);
}

TEST(BatchSizer, GrowsBackAfterARunOfFullSizeSuccessesButNotToAFailedSize) {
  BatchSizer sizer({.size = 8, .grow_after = 3});
  sizer.OnOom("a", 8);  // limit 4, 8 failed
  EXPECT_EQ(sizer.OnSuccess("a", 4), std::nullopt);
  EXPECT_EQ(sizer.OnSuccess("a", 3), std::nullopt);  // short: does not count
  EXPECT_EQ(sizer.OnSuccess("a", 4), std::nullopt);
  EXPECT_EQ(sizer.OnSuccess("a", 4), 5);
  for (int i = 0; i < 3; ++i) sizer.OnSuccess("a", 5);
  EXPECT_EQ(sizer.Limit("a"), 6);
  for (int i = 0; i < 3; ++i) sizer.OnSuccess("a", 6);
  EXPECT_EQ(sizer.Limit("a"), 7);
  for (int i = 0; i < 6; ++i) sizer.OnSuccess("a", 7);
  EXPECT_EQ(sizer.Limit("a"), 7);  // 8 ran out of memory: never again
}

TEST(BatchSizer, AnOomResetsTheStreak) {
  BatchSizer sizer({.size = 16, .grow_after = 2});
  sizer.OnOom("a", 16);  // 8
  sizer.OnSuccess("a", 8);
  sizer.OnOom("a", 8);  // 4, failed = 8
  EXPECT_EQ(sizer.OnSuccess("a", 4), std::nullopt);
  EXPECT_EQ(sizer.OnSuccess("a", 4), 5);
}

TEST(BatchSizer, AutoStartsAtItsMaximumAndStepsByAQuarter) {
  BatchSizer sizer({.size = 0, .max_auto = 100, .grow_after = 1});
  EXPECT_TRUE(sizer.is_auto());
  EXPECT_EQ(sizer.Limit("a"), 100);
  EXPECT_EQ(sizer.OnOom("a", 80), 40);
  EXPECT_EQ(sizer.OnSuccess("a", 40), 50);
  EXPECT_EQ(sizer.OnSuccess("a", 50), 62);
  EXPECT_EQ(sizer.OnSuccess("a", 62), 77);
  EXPECT_EQ(sizer.OnSuccess("a", 77), 79);  // below the 80 that failed
  EXPECT_EQ(sizer.OnSuccess("a", 79), std::nullopt);
}

TEST(BatchSizer, SizeOneIsNotBatching) {
  BatchSizer sizer;
  EXPECT_FALSE(sizer.batching());
  EXPECT_EQ(sizer.Limit("a"), 1);
}

}  // namespace
}  // namespace headroom

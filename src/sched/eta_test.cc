#include "sched/eta.h"

#include <gtest/gtest.h>

namespace headroom {
namespace {

TEST(DurationModelTest, ExpectsTheMedianOfTheClasssRecentJobs) {
  DurationModel model(/*window=*/3);
  EXPECT_FALSE(model.Expected("a"));
  model.Observe("a", 10);
  EXPECT_DOUBLE_EQ(*model.Expected("a"), 10);
  model.Observe("a", 2);
  EXPECT_DOUBLE_EQ(*model.Expected("a"), 6);
  model.Observe("a", 4);
  EXPECT_DOUBLE_EQ(*model.Expected("a"), 4);
  // The oldest (10) leaves the window.
  model.Observe("a", 3);
  EXPECT_DOUBLE_EQ(*model.Expected("a"), 3);
  EXPECT_FALSE(model.Expected("b"));
}

TEST(EtaTest, RunningJobsCountWhatTheyHaveLeftNotWhatTheyTook) {
  // Two 10 s jobs 6 s in, nothing queued: 4 s left, not 10.
  EXPECT_DOUBLE_EQ(EstimateEta({{6, 10}, {6, 10}}, 0), 4);
  // And the estimate falls as they run, instead of climbing.
  EXPECT_DOUBLE_EQ(EstimateEta({{8, 10}, {8, 10}}, 0), 2);
}

TEST(EtaTest, QueuedWorkIsSharedByTheJobsThatRunAtOnce) {
  // 4 running jobs just started (10 s each) and 8 queued: 12 x 10 s over 4.
  std::vector<RunningWork> running(4, RunningWork{0, 10});
  EXPECT_DOUBLE_EQ(EstimateEta(running, 80), 30);
  // Nothing running (a gate holds the queue): one at a time.
  EXPECT_DOUBLE_EQ(EstimateEta({}, 80), 80);
}

TEST(EtaTest, TheLongestRunningJobBoundsTheEstimateFromBelow) {
  // One 100 s job 10 s in and three short ones about to end: the batch
  // lasts 90 s more, not the average.
  EXPECT_DOUBLE_EQ(EstimateEta({{10, 100}, {1, 1.5}, {1, 1.5}, {1, 1.5}}, 0), 90);
}

TEST(EtaTest, AJobPastItsExpectedTimeStillHasSomeLeft) {
  EXPECT_DOUBLE_EQ(EstimateEta({{30, 10}}, 0), 1);
  EXPECT_DOUBLE_EQ(EstimateEta({}, 0), 0);
}

}  // namespace
}  // namespace headroom

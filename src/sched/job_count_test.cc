#include "sched/job_count.h"

#include <gtest/gtest.h>

namespace headroom {
namespace {

TEST(JobCountTest, AutoLeavesTwoCoresAndAtLeastOneJob) {
  EXPECT_EQ(AutoJobCount(16), 14);
  EXPECT_EQ(AutoJobCount(3), 1);
  EXPECT_EQ(AutoJobCount(1), 1);
  EXPECT_EQ(AutoJobCount(0), 1);
}

TEST(JobCountTest, AutoThreadsAreEachJobsShareOfTheCores) {
  EXPECT_EQ(AutoThreadsPerJob(16, 4), 4);
  EXPECT_EQ(AutoThreadsPerJob(16, 3), 5);
  EXPECT_EQ(AutoThreadsPerJob(2, 8), 1);
  EXPECT_EQ(AutoThreadsPerJob(8, 0), 8) << "no jobs counts as one";
}

}  // namespace
}  // namespace headroom

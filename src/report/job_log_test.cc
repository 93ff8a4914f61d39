#include "report/job_log.h"

#include <gtest/gtest.h>

namespace headroom {
namespace {

BatchData TwoJobs() {
  BatchData data;
  data.batch.id = 3;
  data.batch.ended_at = 10.0;
  JobRecord a;
  a.key = "ka";
  a.number = 1;
  a.name = "a.mp4";
  a.input = "in/a.mp4";
  JobRecord b = a;
  b.key = "kb";
  b.number = 2;
  b.name = "b.mp4";
  b.input = "in/b.mp4";
  data.jobs = {a, b};
  AttemptRecord first;
  first.job_key = "ka";
  first.attempt = 1;
  first.end = 2.0;
  first.stdout_log = "logs/1_a.out";
  first.stderr_log = "logs/1_a.err";
  AttemptRecord second = first;
  second.attempt = 2;
  second.stdout_log = "logs/1_a.2.out";
  data.attempts = {first, second};
  return data;
}

TEST(JobLogTest, AJobIsFoundByNumberNameOrInputAtItsLatestAttempt) {
  BatchData data = TwoJobs();
  for (const char* which : {"#1", "a.mp4", "in/a.mp4"}) {
    JobLogTarget target;
    ASSERT_TRUE(FindJobLog(data, which, &target).ok()) << which;
    EXPECT_EQ(target.number, 1);
    EXPECT_EQ(target.attempt, 2);
    EXPECT_EQ(target.stdout_log, "logs/1_a.2.out");
    EXPECT_FALSE(target.running);  // the batch ended
  }
  JobLogTarget target;
  ASSERT_TRUE(FindJobLog(data, "#2", &target).ok());
  EXPECT_EQ(target.attempt, 0) << "b never started";
}

TEST(JobLogTest, BadOrAmbiguousNamesAreOneLineErrors) {
  BatchData data = TwoJobs();
  JobLogTarget target;
  EXPECT_EQ(FindJobLog(data, "#x", &target).message(),
            "'#x' is not a job number (expected #N, N >= 1)");
  EXPECT_EQ(FindJobLog(data, "#0", &target).message(),
            "'#0' is not a job number (expected #N, N >= 1)");
  EXPECT_EQ(FindJobLog(data, "c.mp4", &target).message().substr(0, 29),
            "batch 3 has no job 'c.mp4' (n");
  EXPECT_FALSE(FindJobLog(data, "#9", &target).ok());
  data.jobs[1].name = "a.mp4";
  EXPECT_EQ(FindJobLog(data, "a.mp4", &target).message(), "'a.mp4' names jobs #1 and #2 (use #N)");
}

}  // namespace
}  // namespace headroom

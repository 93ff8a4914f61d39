#include "sched/rerun_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace headroom {
namespace {

using Strings = std::vector<std::string>;

Plan PlanOf(const Strings& inputs) {
  Plan plan;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Job job;
    job.number = static_cast<int64_t>(i) + 1;
    job.input = inputs[i];
    plan.to_run.push_back(job);
  }
  return plan;
}

Strings InputsOf(const std::vector<Job>& jobs) {
  Strings inputs;
  for (const Job& job : jobs) inputs.push_back(job.input);
  return inputs;
}

// a succeeded, b was left running (queued again by the journal), c failed,
// d was interrupted, e is new to the batch.
std::map<int64_t, JournaledJob> Journaled() {
  std::map<int64_t, JournaledJob> jobs;
  jobs[1].state = JobState::kSucceeded;
  jobs[2].state = JobState::kQueued;
  jobs[3].state = JobState::kFailed;
  jobs[4].state = JobState::kInterrupted;
  jobs[5].state = JobState::kQueued;
  return jobs;
}

TEST(RerunPolicyTest, SucceededAndFailedJobsAreNotRunAgainAndKeepTheirState) {
  Plan plan = PlanOf({"a", "b", "c", "d", "e"});
  std::map<int64_t, JournaledJob> jobs = Journaled();
  RerunCounts counts = DecideReruns(RerunConfig{}, &jobs, &plan);
  EXPECT_EQ(InputsOf(plan.to_run), (Strings{"b", "d", "e"}));
  EXPECT_EQ(InputsOf(plan.skipped), (Strings{"a", "c"}));
  EXPECT_EQ(counts.already_done, 1);
  EXPECT_EQ(counts.failed_before, 1);
  EXPECT_TRUE(jobs[1].keep_state);
  EXPECT_FALSE(jobs[2].keep_state);
  EXPECT_TRUE(jobs[3].keep_state);
  EXPECT_FALSE(jobs[4].keep_state);
  EXPECT_FALSE(jobs[5].keep_state);
}

TEST(RerunPolicyTest, ResumeFailedRunsFailedJobsAgain) {
  Plan plan = PlanOf({"a", "b", "c", "d", "e"});
  std::map<int64_t, JournaledJob> jobs = Journaled();
  RerunConfig config;
  config.resume_failed = true;
  RerunCounts counts = DecideReruns(config, &jobs, &plan);
  EXPECT_EQ(InputsOf(plan.to_run), (Strings{"b", "c", "d", "e"}));
  EXPECT_EQ(counts.failed_before, 0);
  EXPECT_FALSE(jobs[3].keep_state);
}

// --resume --max-count N does the next N each time: the count applies to
// the jobs left to run, not to the plan.
TEST(RerunPolicyTest, MaxCountKeepsTheFirstJobsLeftToRun) {
  Plan plan = PlanOf({"a", "b", "c", "d", "e"});
  std::map<int64_t, JournaledJob> jobs = Journaled();
  RerunConfig config;
  config.max_count = 2;
  DecideReruns(config, &jobs, &plan);
  EXPECT_EQ(InputsOf(plan.to_run), (Strings{"b", "d"}));
  EXPECT_EQ(InputsOf(plan.skipped), (Strings{"a", "c"})) << "cut jobs are not skipped";
}

TEST(RerunPolicyTest, WithoutAJournalOnlyMaxCountApplies) {
  Plan plan = PlanOf({"a", "b", "c"});
  std::map<int64_t, JournaledJob> none;
  RerunConfig config;
  config.max_count = 1;
  RerunCounts counts = DecideReruns(config, &none, &plan);
  EXPECT_EQ(InputsOf(plan.to_run), (Strings{"a"}));
  EXPECT_EQ(counts.already_done + counts.failed_before, 0);
}

// A new batch journals only the jobs it runs; a resume journals them all
// and cuts later, after skipping what is done.
TEST(RerunPolicyTest, OnlyANewBatchIsCutBeforeItIsJournaled) {
  RerunConfig config;
  config.max_count = 1;
  Plan fresh = PlanOf({"a", "b"});
  LimitNewBatch(config, /*resume=*/false, &fresh);
  EXPECT_EQ(InputsOf(fresh.to_run), (Strings{"a"}));
  Plan resumed = PlanOf({"a", "b"});
  LimitNewBatch(config, /*resume=*/true, &resumed);
  EXPECT_EQ(InputsOf(resumed.to_run), (Strings{"a", "b"}));
}

TEST(RerunPolicyTest, TheNoticeSaysWhatRunsAgain) {
  EXPECT_EQ(ResumeNotice(3, RerunCounts{5, 0}, 0), "resuming batch 3: 5 job(s) already done");
  EXPECT_EQ(ResumeNotice(3, RerunCounts{5, 1}, 2),
            "resuming batch 3: 5 job(s) already done, 2 left running or interrupted run again, 1 "
            "failed before and not rerun (--resume-failed reruns them)");
}

}  // namespace
}  // namespace headroom

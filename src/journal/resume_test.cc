#include "journal/resume.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "jobs/job_key.h"
#include "jobs/output.h"
#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using test::TempDir;
using Strings = std::vector<std::string>;

Strings InputsOf(const std::vector<Job>& jobs) {
  Strings inputs;
  for (const Job& job : jobs) inputs.push_back(job.input);
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.command = {"enc", "{}", "{out}"};
    options_.output_dir = dir_.File("out");
    options_.output_name = "{/.}.mp4";
    inputs_.has_arg_inputs = true;
    choice_.state_dir = dir_.File("state");
    ASSERT_TRUE(Journal::Open(choice_.state_dir, &journal_).ok());
  }

  Plan MakeTestPlan(const Strings& inputs, int pid = 100) {
    std::vector<RawInput> raws;
    for (const std::string& input : inputs) {
      RawInput raw;
      raw.input = input;
      raws.push_back(raw);
    }
    Plan plan;
    EXPECT_TRUE(MakePlan(options_, raws, pid, &plan).ok());
    return plan;
  }

  BatchRecord Record(int64_t pid = 4242) {
    BatchRecord record = NewBatchRecord(options_.command, InputSourceText(inputs_), "{}");
    record.pid = pid;
    return record;
  }

  Status Open(Plan* plan, OpenedBatch* batch, int64_t pid = 4242) {
    return OpenBatch(journal_.get(), choice_, Record(pid), JobKeys(*plan, options_.command), *plan,
                     batch);
  }

  std::map<std::string, JobRecord> JobsByKey(int64_t batch) {
    std::vector<JobRecord> jobs;
    EXPECT_TRUE(journal_->Jobs(batch, &jobs).ok());
    std::map<std::string, JobRecord> by_key;
    for (JobRecord& job : jobs) by_key[job.key] = job;
    return by_key;
  }

  void Attempt(int64_t batch, const std::string& key, int attempt, const char* outcome,
               JobState state) {
    AttemptRecord record;
    record.job_key = key;
    record.attempt = attempt;
    record.start = 1;
    ASSERT_TRUE(journal_->StartAttempt(batch, record).ok());
    if (state == JobState::kRunning) return;
    record.end = 2;
    record.outcome = outcome;
    record.exit_code = state == JobState::kSucceeded ? 0 : 1;
    ASSERT_TRUE(journal_->EndAttempt(batch, record).ok());
    ASSERT_TRUE(journal_->SetJobState(batch, key, state).ok());
  }

  // Batch 1 of a, b, c run by pid 4242 and killed: a succeeded, b was
  // running (with a half-written temp output), c failed twice.
  void KilledFirstRun() {
    Plan plan = MakeTestPlan({"a", "b", "c"}, 4242);
    OpenedBatch batch;
    ASSERT_TRUE(Open(&plan, &batch).ok());
    ASSERT_EQ(batch.id, 1);
    Attempt(1, "a", 1, "succeeded", JobState::kSucceeded);
    Attempt(1, "b", 1, "", JobState::kRunning);
    Attempt(1, "c", 1, "failed", JobState::kFailed);
    Attempt(1, "c", 2, "failed", JobState::kFailed);
    std::filesystem::create_directories(options_.output_dir);
    partial_ = plan.to_run[1].temp_output;
    dir_.Write("out/" + std::filesystem::path(partial_).filename().string(), "half");
    ASSERT_TRUE(std::filesystem::exists(partial_));
  }  // the lock goes with `batch`, as with a killed headroom

  TempDir dir_;
  PlanConfig options_;
  InputSpec inputs_;
  BatchChoice choice_;
  std::unique_ptr<Journal> journal_;
  std::string partial_;
};

TEST_F(ResumeTest, TempOutputPathIsThePlansTempName) {
  Plan plan = MakeTestPlan({"clip one.mkv", "noext", "dir/.hidden"}, 777);
  ASSERT_EQ(plan.to_run.size(), 3u);
  for (const Job& job : plan.to_run) {
    EXPECT_EQ(TempOutputPath(job.output, 777, job.number), job.temp_output);
  }
}

TEST_F(ResumeTest, WithoutResumeEveryRunCreatesABatchAndHoldsItsLock) {
  Plan plan = MakeTestPlan({"a", "b"});
  OpenedBatch first;
  ASSERT_TRUE(Open(&plan, &first).ok());
  EXPECT_EQ(first.id, 1);
  EXPECT_FALSE(first.resumed);
  EXPECT_TRUE(BatchLock::IsHeld(choice_.state_dir, 1));
  EXPECT_EQ(first.jobs.at(1).key, "a");
  EXPECT_EQ(first.jobs.at(2).key, "b");
  EXPECT_EQ(first.jobs.at(2).prior_attempts, 0);
  std::map<std::string, JobRecord> jobs = JobsByKey(1);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs["a"].state, JobState::kQueued);
  EXPECT_EQ(jobs["b"].output, options_.output_dir + "/b.mp4");

  Plan again = MakeTestPlan({"a", "b"});
  OpenedBatch second;
  ASSERT_TRUE(Open(&again, &second).ok());
  EXPECT_EQ(second.id, 2);
  EXPECT_EQ(again.to_run.size(), 2u);
  std::optional<BatchRecord> stored;
  ASSERT_TRUE(journal_->FindBatch(2, &stored).ok());
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->command_template, "enc '{}' '{out}'");
  EXPECT_EQ(stored->input_source, "::: arguments");
  EXPECT_EQ(stored->pid, 4242);
}

// The journal reports what it knows of each job (the rerun policy in sched
// decides what runs: sched/rerun_policy_test.cc), requeues what a killed run
// left running and removes its partial output, and adds new inputs.
TEST_F(ResumeTest, ResumeReportsEachJobsStateRequeuesRunningOnesAndAddsNewInputs) {
  KilledFirstRun();
  choice_.resume = true;
  Plan plan = MakeTestPlan({"a", "b", "c", "d"});
  OpenedBatch batch;
  ASSERT_TRUE(Open(&plan, &batch, 5555).ok());
  EXPECT_TRUE(batch.resumed);
  EXPECT_EQ(batch.id, 1);
  EXPECT_EQ(InputsOf(plan.to_run), (Strings{"a", "b", "c", "d"})) << "the plan is left as it is";
  EXPECT_EQ(batch.were_running, 1);
  EXPECT_FALSE(std::filesystem::exists(partial_)) << "partial output of b left behind";
  EXPECT_EQ(batch.jobs.at(1).state, JobState::kSucceeded);  // a
  EXPECT_EQ(batch.jobs.at(2).state, JobState::kQueued);     // b, requeued
  EXPECT_EQ(batch.jobs.at(3).state, JobState::kFailed);     // c
  EXPECT_EQ(batch.jobs.at(4).state, JobState::kQueued);     // d, new
  for (int64_t number = 1; number <= 4; ++number) EXPECT_FALSE(batch.jobs.at(number).keep_state);
  EXPECT_EQ(batch.jobs.at(2).prior_attempts, 1);
  EXPECT_EQ(batch.jobs.at(3).prior_attempts, 2);
  EXPECT_EQ(batch.jobs.at(4).prior_attempts, 0);
  std::map<std::string, JobRecord> jobs = JobsByKey(1);
  EXPECT_EQ(jobs["a"].state, JobState::kSucceeded);
  EXPECT_EQ(jobs["b"].state, JobState::kQueued);
  EXPECT_EQ(jobs["c"].state, JobState::kFailed);
  EXPECT_EQ(jobs["d"].state, JobState::kQueued);
  std::vector<AttemptRecord> attempts;
  ASSERT_TRUE(journal_->Attempts(1, &attempts).ok());
  for (const AttemptRecord& attempt : attempts) {
    if (attempt.job_key == "b") {
      EXPECT_EQ(attempt.outcome, "interrupted");
    }
  }
  std::optional<BatchRecord> stored;
  ASSERT_TRUE(journal_->FindBatch(1, &stored).ok());
  EXPECT_EQ(stored->pid, getpid());
  EXPECT_TRUE(BatchLock::IsHeld(choice_.state_dir, 1));
  std::vector<EventRecord> events;
  ASSERT_TRUE(journal_->Events(1, &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "resumed");
  EXPECT_EQ(events[0].value, getpid());
  EXPECT_GT(events[0].t, 0);
}

// A start that a killed run wrote to its launch log but never committed is
// known on resume: its job runs again after its partial output is removed,
// and its attempt is kept as interrupted. Starts the journal has are not
// added twice.
TEST_F(ResumeTest, ResumeReplaysTheLaunchLogOfAKilledRun) {
  Plan first = MakeTestPlan({"a", "b"}, 4242);
  {
    OpenedBatch batch;
    ASSERT_TRUE(Open(&first, &batch).ok());
    ASSERT_TRUE(batch.launches);
    EXPECT_EQ(batch.launches->path(), choice_.state_dir + "/batch-1.launches");
    Attempt(1, "a", 1, "succeeded", JobState::kSucceeded);
    AttemptRecord a;
    a.job_key = "a";
    a.attempt = 1;
    AttemptRecord b;
    b.job_key = "b";
    b.attempt = 1;
    b.slot = 2;
    b.start = 3;
    b.stdout_log = "logs/b.out";
    ASSERT_TRUE(batch.launches->Append({a, b}).ok());
    std::filesystem::create_directories(options_.output_dir);
    partial_ = first.to_run[1].temp_output;
    dir_.Write("out/" + std::filesystem::path(partial_).filename().string(), "half");
  }  // killed: the launch log stays
  EXPECT_EQ(JobsByKey(1)["b"].state, JobState::kQueued);

  choice_.resume = true;
  Plan plan = MakeTestPlan({"a", "b"});
  OpenedBatch batch;
  Status status = Open(&plan, &batch, 5555);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(batch.jobs.at(1).state, JobState::kSucceeded);
  EXPECT_EQ(batch.jobs.at(2).state, JobState::kQueued);
  EXPECT_EQ(batch.were_running, 1);
  EXPECT_EQ(batch.jobs.at(2).prior_attempts, 1);
  EXPECT_FALSE(std::filesystem::exists(partial_)) << "partial output of b left behind";
  std::vector<AttemptRecord> attempts;
  ASSERT_TRUE(journal_->Attempts(1, &attempts).ok());
  ASSERT_EQ(attempts.size(), 2u);
  for (const AttemptRecord& attempt : attempts) {
    if (attempt.job_key == "b") {
      EXPECT_EQ(attempt.outcome, "interrupted");
      EXPECT_EQ(attempt.slot, 2);
      EXPECT_EQ(attempt.stdout_log, "logs/b.out");
    } else {
      EXPECT_EQ(attempt.outcome, "succeeded");
    }
  }
  LaunchRecords left;
  ASSERT_TRUE(LaunchLog::Read(LaunchLog::PathIn(choice_.state_dir, 1), &left).ok());
  EXPECT_TRUE(left.starts.empty() && left.ends.empty()) << "this run starts an empty launch log";
}

// Ends a killed run made durable in its launch log count on resume: a
// success whose output was renamed into place, or whose rename the kill
// prevented (the resume renames it now), is not run again; a success that
// left no output at all runs again; a failure stays failed.
TEST_F(ResumeTest, ResumeReplaysTheEndsOfAKilledRunAndCommitsTheirOutputs) {
  Plan first = MakeTestPlan({"a", "b", "c", "d"}, 4242);
  std::filesystem::create_directories(options_.output_dir);
  {
    OpenedBatch batch;
    ASSERT_TRUE(Open(&first, &batch).ok());
    std::vector<AttemptRecord> starts;
    std::vector<LaunchEnd> ends;
    for (const char* key : {"a", "b", "c", "d"}) {
      AttemptRecord start;
      start.job_key = key;
      start.attempt = 1;
      start.start = 10;
      starts.push_back(start);
      LaunchEnd end;
      end.attempt = start;
      end.attempt.end = 11;
      end.attempt.exit_code = key[0] == 'd' ? 2 : 0;
      end.attempt.outcome = key[0] == 'd' ? "failed" : "succeeded";
      end.state = key[0] == 'd' ? JobState::kFailed : JobState::kSucceeded;
      ends.push_back(end);
    }
    ASSERT_TRUE(batch.launches->Append(starts).ok());
    ASSERT_TRUE(batch.launches->AppendEnds(ends).ok());
    // a: killed before its rename; b: renamed; c: nothing left.
    dir_.Write("out/" + std::filesystem::path(first.to_run[0].temp_output).filename().string(),
               "a done");
    dir_.Write("out/b.mp4", "b done");
  }  // killed: the launch log stays, nothing committed

  choice_.resume = true;
  Plan plan = MakeTestPlan({"a", "b", "c", "d"});
  OpenedBatch batch;
  Status status = Open(&plan, &batch, 5555);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(batch.jobs.at(1).state, JobState::kSucceeded);
  EXPECT_EQ(batch.jobs.at(2).state, JobState::kSucceeded);
  EXPECT_EQ(batch.jobs.at(3).state, JobState::kQueued) << "its success left nothing: again";
  EXPECT_EQ(batch.jobs.at(4).state, JobState::kFailed);
  EXPECT_EQ(batch.were_running, 1);
  EXPECT_EQ(test::ReadFile(options_.output_dir + "/a.mp4"), "a done");
  EXPECT_FALSE(std::filesystem::exists(first.to_run[0].temp_output));
  std::map<std::string, std::string> outcomes;
  std::vector<AttemptRecord> attempts;
  ASSERT_TRUE(journal_->Attempts(1, &attempts).ok());
  for (const AttemptRecord& attempt : attempts) outcomes[attempt.job_key] = attempt.outcome;
  EXPECT_EQ(outcomes, (std::map<std::string, std::string>{
                          {"a", "succeeded"}, {"b", "succeeded"}, {"c", "interrupted"},
                          {"d", "failed"}}));
}

TEST_F(ResumeTest, ResumeOfABatchAnotherHeadroomRunsIsRefused) {
  Plan plan = MakeTestPlan({"a"});
  OpenedBatch running;
  ASSERT_TRUE(Open(&plan, &running).ok());
  choice_.resume = true;
  Plan again = MakeTestPlan({"a"});
  OpenedBatch batch;
  Status status = Open(&again, &batch);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "batch 1 is being run by another headroom (pid " + std::to_string(getpid()) + ")");
}

TEST_F(ResumeTest, ResumeWithNothingToResumeStartsANewBatchWithAWarning) {
  choice_.resume = true;
  Plan plan = MakeTestPlan({"a"});
  OpenedBatch batch;
  ASSERT_TRUE(Open(&plan, &batch).ok());
  EXPECT_FALSE(batch.resumed);
  EXPECT_EQ(batch.id, 1);
  EXPECT_TRUE(batch.notice_is_warning);
  EXPECT_EQ(batch.notice, "no batch of this command and input to resume in " + journal_->path() +
                              "; starting batch 1");
}

TEST_F(ResumeTest, ResumeMatchesCommandAndSourceOnly) {
  KilledFirstRun();
  choice_.resume = true;
  options_.command = {"other", "{}", "{out}"};
  Plan plan = MakeTestPlan({"a"});
  OpenedBatch batch;
  ASSERT_TRUE(Open(&plan, &batch).ok());
  EXPECT_FALSE(batch.resumed);
  EXPECT_EQ(batch.id, 2);
}

TEST_F(ResumeTest, BatchIdMustExistAndMatch) {
  KilledFirstRun();
  choice_.resume = true;  // --batch implies it (cli/module_configs.cc)
  choice_.batch = 7;
  Plan plan = MakeTestPlan({"a"});
  OpenedBatch batch;
  Status status = Open(&plan, &batch);
  EXPECT_EQ(status.message(), "--batch 7: no such batch in " + journal_->path());

  choice_.batch = 1;
  options_.command = {"other", "{}"};
  options_.output_dir.clear();
  plan = MakeTestPlan({"a"});
  status = Open(&plan, &batch);
  EXPECT_EQ(status.message(),
            "--batch 1 is a batch of [enc '{}' '{out}'] on [::: arguments], not of "
            "[other '{}'] on [::: arguments]");

  options_.command = {"enc", "{}", "{out}"};
  options_.output_dir = dir_.File("out");
  plan = MakeTestPlan({"a", "b", "c"});
  OpenedBatch picked;
  ASSERT_TRUE(Open(&plan, &picked).ok());
  EXPECT_TRUE(picked.resumed);
  EXPECT_EQ(picked.id, 1);
}

}  // namespace
}  // namespace headroom

#include "journal/batch_data.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "util/test_temp_dir.h"
#include "journal/batch_lock.h"
#include "journal/journal_test_util.h"
#include "journal/launch_log.h"

namespace headroom {
namespace {

using test::TempDir;
using journal_test::WriteSampleBatch;

TEST(LoadBatchDataTest, MissingJournalIsAnErrorThatCreatesNothing) {
  TempDir dir;
  BatchData data;
  Status status = LoadBatchData(dir.File("state"), std::nullopt, &data);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "journal " + dir.File("state") +
                "/journal.db: no such file (no batch has run with this state dir)");
  EXPECT_FALSE(std::filesystem::exists(dir.File("state")));
}

TEST(LoadBatchDataTest, JournalWithoutBatchIsAnError) {
  TempDir dir;
  {
    std::unique_ptr<Journal> journal;
    ASSERT_TRUE(Journal::Open(dir.path(), &journal).ok());
  }
  BatchData data;
  Status status = LoadBatchData(dir.path(), std::nullopt, &data);
  EXPECT_EQ(status.message(), "journal " + dir.path() + "/journal.db: no batch recorded yet");
}

TEST(LoadBatchDataTest, ReadsTheLatestBatchOrTheOneAskedFor) {
  TempDir dir;
  int64_t first = WriteSampleBatch(dir.path());
  int64_t second = WriteSampleBatch(dir.path(), /*end=*/false);
  ASSERT_EQ(second, first + 1);
  BatchData data;
  ASSERT_TRUE(LoadBatchData(dir.path(), std::nullopt, &data).ok());
  EXPECT_EQ(data.batch.id, second);
  EXPECT_FALSE(data.batch.ended_at);
  ASSERT_TRUE(LoadBatchData(dir.path(), first, &data).ok());
  EXPECT_EQ(data.batch.id, first);
  EXPECT_EQ(data.batch.ended_at, 1070);
  EXPECT_EQ(data.batch.command_template, "upscale {}");
  ASSERT_EQ(data.jobs.size(), 5u);
  EXPECT_EQ(data.jobs[2].name, "c.mp4");
  EXPECT_EQ(data.attempts.size(), 4u);
  EXPECT_EQ(data.samples.size(), 4u);
  EXPECT_EQ(data.events.size(), 5u);

  Status status = LoadBatchData(dir.path(), 7, &data);
  EXPECT_EQ(status.message(),
            "--batch 7: journal " + dir.path() + "/journal.db has no batch 7 (the latest is 2)");
}

TEST(LoadBatchDataTest, StateTellsRunningFromKilledByTheLock) {
  TempDir dir;
  int64_t finished = WriteSampleBatch(dir.path());
  int64_t open = WriteSampleBatch(dir.path(), /*end=*/false);
  BatchData data;
  ASSERT_TRUE(LoadBatchData(dir.path(), finished, &data).ok());
  EXPECT_EQ(data.state(), BatchRunState::kFinished);
  ASSERT_TRUE(LoadBatchData(dir.path(), open, &data).ok());
  EXPECT_FALSE(data.lock_held);
  EXPECT_EQ(data.state(), BatchRunState::kStopped);
  {
    std::unique_ptr<BatchLock> lock;
    ASSERT_TRUE(BatchLock::Acquire(dir.path(), open, &lock).ok());
    ASSERT_TRUE(LoadBatchData(dir.path(), open, &data).ok());
    EXPECT_TRUE(data.lock_held);
    EXPECT_EQ(data.state(), BatchRunState::kRunning);
  }
  ASSERT_TRUE(LoadBatchData(dir.path(), open, &data).ok());
  EXPECT_EQ(data.state(), BatchRunState::kStopped);
  EXPECT_EQ(BatchRunStateName(BatchRunState::kStopped), "stopped");
}

// The starts a killed batch's launch log holds and the journal lacks show as
// running; known ones are not doubled; a running batch's log is not read.
TEST(LoadBatchDataTest, AKilledBatchShowsTheStartsOfItsLaunchLog) {
  TempDir dir;
  int64_t open = WriteSampleBatch(dir.path(), /*end=*/false);
  std::unique_ptr<LaunchLog> log;
  ASSERT_TRUE(LaunchLog::Create(LaunchLog::PathIn(dir.path(), open), &log).ok());
  AttemptRecord known;
  known.job_key = "a.mp4";
  known.attempt = 1;
  known.start = 1010;
  AttemptRecord e1;
  e1.job_key = "e.mp4";
  e1.attempt = 1;
  e1.slot = 3;
  e1.start = 1065;
  ASSERT_TRUE(log->Append({known, e1}).ok());

  BatchData data;
  ASSERT_TRUE(LoadBatchData(dir.path(), open, &data).ok());
  ASSERT_EQ(data.attempts.size(), 5u);
  EXPECT_EQ(data.attempts.back().job_key, "e.mp4");
  EXPECT_FALSE(data.attempts.back().end);
  EXPECT_EQ(data.jobs[4].key, "e.mp4");
  EXPECT_EQ(data.jobs[4].state, JobState::kRunning);
  EXPECT_EQ(data.jobs[4].attempts, 1);
  EXPECT_EQ(data.jobs[0].state, JobState::kSucceeded);

  std::unique_ptr<BatchLock> lock;
  ASSERT_TRUE(BatchLock::Acquire(dir.path(), open, &lock).ok());
  ASSERT_TRUE(LoadBatchData(dir.path(), open, &data).ok());
  EXPECT_EQ(data.attempts.size(), 4u) << "a running batch commits its own starts";
  EXPECT_EQ(data.jobs[4].state, JobState::kQueued);
}

// So do its ends: a job that ended before the kill shows as ended.
TEST(LoadBatchDataTest, AKilledBatchShowsTheEndsOfItsLaunchLog) {
  TempDir dir;
  int64_t open = WriteSampleBatch(dir.path(), /*end=*/false);
  std::unique_ptr<LaunchLog> log;
  ASSERT_TRUE(LaunchLog::Create(LaunchLog::PathIn(dir.path(), open), &log).ok());
  AttemptRecord e1;
  e1.job_key = "e.mp4";
  e1.attempt = 1;
  e1.start = 1065;
  ASSERT_TRUE(log->Append({e1}).ok());
  LaunchEnd end{e1, JobState::kSucceeded};
  end.attempt.end = 1068;
  end.attempt.exit_code = 0;
  end.attempt.outcome = "succeeded";
  ASSERT_TRUE(log->AppendEnds({end}).ok());

  BatchData data;
  ASSERT_TRUE(LoadBatchData(dir.path(), open, &data).ok());
  ASSERT_EQ(data.attempts.size(), 5u);
  EXPECT_EQ(data.attempts.back().end, 1068);
  EXPECT_EQ(data.attempts.back().outcome, "succeeded");
  EXPECT_EQ(data.jobs[4].state, JobState::kSucceeded);
}

}  // namespace
}  // namespace headroom

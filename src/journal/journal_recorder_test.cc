#include "journal/journal_recorder.h"
#include "util/test_temp_dir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdlib.h>

#include <csignal>
#include <filesystem>

namespace headroom {
namespace {

// A single job's launch (a unit of one).
LaunchInfo Launched(int slot, int attempt, int gpu) {
  LaunchInfo launch;
  launch.slot = slot;
  launch.attempt = attempt;
  launch.gpu = gpu;
  launch.lead_attempt = attempt;
  return launch;
}

using std::chrono::milliseconds;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

Job MakeJob(int64_t number, const std::string& input) {
  Job job;
  job.number = number;
  job.input = input;
  job.name = input;
  job.argv_template = {"enc", "{}"};
  return job;
}

AttemptEnd End(Outcome outcome, int attempt, int exit_code = 0) {
  AttemptEnd end;
  end.outcome = outcome;
  end.attempt = attempt;
  end.slot = 1;
  end.exit.exit_code = exit_code;
  end.exit.cpu_seconds = 0.25;
  end.exit.max_rss_kb = 2048;
  end.wall_seconds = 1.5;
  end.stdout_log = "o.log";
  end.stderr_log = "e.log";
  return end;
}

class JournalRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Journal::Open(dir_, &journal_).ok());
    BatchRecord batch;
    batch.started_at = 1000;
    batch.command_template = "enc '{}'";
    batch.input_source = "stdin";
    ASSERT_TRUE(journal_->CreateBatch(&batch).ok());
    batch_ = batch.id;
    std::vector<JobRecord> records;
    for (const Job& job : jobs_) {
      JobRecord record;
      record.key = "key-" + job.input;
      record.number = job.number;
      record.input = job.input;
      records.push_back(record);
    }
    ASSERT_TRUE(journal_->UpsertJobs(batch_, records).ok());
    log_dir_ = std::make_unique<LogDir>(dir_ + "/logs", "20260101_000000");
    ASSERT_TRUE(log_dir_->Create().ok());
  }
  void TearDown() override {
    recorder_.reset();
    launches_.reset();
    journal_.reset();
  }

  // A recorder whose job 2 ran twice in earlier runs and job 3 is done.
  JournalRecorder& Recorder() {
    EXPECT_TRUE(LaunchLog::Create(LaunchLog::PathIn(dir_, batch_), &launches_).ok());
    JournalRecorderConfig config;
    config.batch = batch_;
    config.jobs[1] = {"key-a", 0, JobState::kQueued, false};
    config.jobs[2] = {"key-b", 2, JobState::kQueued, false};
    config.jobs[3] = {"key-c", 1, JobState::kSucceeded, true};
    config.wall_clock = [this] { return wall_; };
    recorder_ =
        std::make_unique<JournalRecorder>(std::move(config), journal_.get(), log_dir_.get(),
                                          launches_.get());
    return *recorder_;
  }

  // What another process sees: only committed writes.
  std::unique_ptr<Journal> Reader() {
    std::unique_ptr<Journal> reader;
    EXPECT_TRUE(Journal::OpenReadOnly(dir_, &reader).ok());
    return reader;
  }
  std::map<std::string, JobRecord> CommittedJobs() {
    std::vector<JobRecord> jobs;
    EXPECT_TRUE(Reader()->Jobs(batch_, &jobs).ok());
    std::map<std::string, JobRecord> by_key;
    for (JobRecord& job : jobs) by_key[job.key] = job;
    return by_key;
  }
  std::vector<AttemptRecord> CommittedAttempts() {
    std::vector<AttemptRecord> attempts;
    EXPECT_TRUE(Reader()->Attempts(batch_, &attempts).ok());
    return attempts;
  }
  std::vector<EventRecord> CommittedEvents() {
    std::vector<EventRecord> events;
    EXPECT_TRUE(Reader()->Events(batch_, &events).ok());
    return events;
  }

  test::TempDir temp_;
  const std::string dir_ = temp_.path();
  std::unique_ptr<Journal> journal_;
  int64_t batch_ = 0;
  std::unique_ptr<LogDir> log_dir_;
  std::unique_ptr<LaunchLog> launches_;
  std::unique_ptr<JournalRecorder> recorder_;
  double wall_ = 2000;
  std::vector<Job> jobs_ = {MakeJob(1, "a"), MakeJob(2, "b"), MakeJob(3, "c")};
  Counts counts_;
};

// A launch is durable in the launch log at once, before the spawn (one
// record per job of the unit, written after its last job), and reaches
// journal.db with the group's commit, which empties the log; Finish
// removes it.
TEST_F(JournalRecorderTest, LaunchesAreDurableInTheLaunchLogUntilTheGroupCommits) {
  JournalRecorder& recorder = Recorder();
  std::string path = LaunchLog::PathIn(dir_, batch_);
  recorder.OnTick(counts_, kT0, "");
  LaunchInfo first = Launched(2, 1, 0);
  first.last = false;
  recorder.OnJobLaunch(jobs_[0], first);
  LaunchRecords logged;
  ASSERT_TRUE(LaunchLog::Read(path, &logged).ok());
  EXPECT_TRUE(logged.starts.empty()) << "the unit's starts are written after its last job";
  LaunchInfo second = Launched(2, 1, 0);
  second.lead = &jobs_[0];
  recorder.OnJobLaunch(jobs_[1], second);
  ASSERT_TRUE(LaunchLog::Read(path, &logged).ok());
  ASSERT_EQ(logged.starts.size(), 2u);
  EXPECT_EQ(logged.starts[0].job_key, "key-a");
  EXPECT_EQ(logged.starts[0].attempt, 1);
  EXPECT_EQ(logged.starts[0].slot, 2);
  EXPECT_EQ(logged.starts[0].gpu, 0);
  EXPECT_EQ(logged.starts[0].start, 2000);
  EXPECT_EQ(logged.starts[0].stdout_log, log_dir_->StdoutPath(jobs_[0], 1));
  EXPECT_EQ(logged.starts[1].job_key, "key-b");
  EXPECT_EQ(logged.starts[1].attempt, 3);  // after two in earlier runs
  EXPECT_EQ(logged.starts[1].stderr_log, log_dir_->StderrPath(jobs_[0], 1));  // the unit's logs
  EXPECT_TRUE(CommittedAttempts().empty()) << "no commit per launch";

  recorder.OnTick(counts_, kT0 + milliseconds(100), "");
  EXPECT_EQ(CommittedAttempts().size(), 2u);
  EXPECT_EQ(CommittedJobs()["key-b"].state, JobState::kRunning);
  ASSERT_TRUE(LaunchLog::Read(path, &logged).ok());
  EXPECT_TRUE(logged.starts.empty()) << "emptied by the commit";

  recorder.OnJobLaunch(jobs_[0], Launched(1, 2, -1));
  ASSERT_TRUE(LaunchLog::Read(path, &logged).ok());
  EXPECT_EQ(logged.starts.size(), 1u);
  recorder.Finish(0);
  EXPECT_EQ(CommittedAttempts().size(), 3u);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(recorder.status().ok()) << recorder.status().message();
}

// An attempt that starts and ends between two commits is written whole at
// the commit; a retry in the same group follows its first attempt.
TEST_F(JournalRecorderTest, AttemptsOfOneGroupAreWrittenWhole) {
  JournalRecorder& recorder = Recorder();
  recorder.OnTick(counts_, kT0, "");
  recorder.OnJobLaunch(jobs_[0], Launched(1, 1, 0));  // a: ends in the next group
  recorder.OnTick(counts_, kT0 + milliseconds(100), "");
  recorder.OnJobLaunch(jobs_[1], Launched(2, 1, -1));  // b: fails, retried at once
  wall_ = 2002;
  AttemptEnd failed = End(Outcome::kFailed, 1, 3);
  failed.will_retry = true;
  recorder.OnJobEnd(jobs_[1], failed, counts_);
  recorder.OnJobLaunch(jobs_[1], Launched(2, 2, -1));
  wall_ = 2003;
  recorder.OnJobEnd(jobs_[1], End(Outcome::kSucceeded, 2), counts_);
  recorder.OnJobEnd(jobs_[0], End(Outcome::kSucceeded, 1), counts_);
  EXPECT_EQ(CommittedAttempts().size(), 1u) << "nothing of this group is committed yet";
  recorder.OnTick(counts_, kT0 + milliseconds(200), "");

  std::map<std::string, JobRecord> jobs = CommittedJobs();
  EXPECT_EQ(jobs["key-a"].state, JobState::kSucceeded);
  EXPECT_EQ(jobs["key-b"].state, JobState::kSucceeded);
  EXPECT_EQ(jobs["key-b"].attempts, 4);  // two in earlier runs
  std::vector<AttemptRecord> attempts = CommittedAttempts();
  ASSERT_EQ(attempts.size(), 3u);
  std::map<std::pair<std::string, int>, AttemptRecord> by_attempt;
  for (const AttemptRecord& a : attempts) by_attempt[{a.job_key, a.attempt}] = a;
  const AttemptRecord& b3 = by_attempt[{"key-b", 3}];
  EXPECT_EQ(b3.start, 2000);
  EXPECT_EQ(b3.end, 2002);
  EXPECT_EQ(b3.exit_code, 3);
  EXPECT_EQ(b3.outcome, "failed");
  EXPECT_EQ(b3.slot, 1);  // as the end reports it
  EXPECT_EQ(b3.stdout_log, log_dir_->StdoutPath(jobs_[1], 1));
  const AttemptRecord& b4 = by_attempt[{"key-b", 4}];
  EXPECT_EQ(b4.start, 2002);
  EXPECT_EQ(b4.end, 2003);
  EXPECT_EQ(b4.outcome, "succeeded");
  EXPECT_EQ(b4.cpu_seconds, 0.25);
  EXPECT_EQ(b4.peak_rss, 2048u * 1024);
  EXPECT_EQ(b4.stderr_log, log_dir_->StderrPath(jobs_[1], 2));
  const AttemptRecord& a1 = by_attempt[{"key-a", 1}];
  EXPECT_EQ(a1.end, 2003);
  EXPECT_EQ(a1.outcome, "succeeded");
  EXPECT_TRUE(recorder.status().ok()) << recorder.status().message();
}

// A success is durable in the launch log before its output is renamed into
// place (OnJobCommit, one write for the unit); any other end at OnJobEnd;
// the commit empties the log as for starts.
TEST_F(JournalRecorderTest, EndsAreDurableInTheLaunchLogBeforeTheCommit) {
  JournalRecorder& recorder = Recorder();
  std::string path = LaunchLog::PathIn(dir_, batch_);
  recorder.OnTick(counts_, kT0, "");
  recorder.OnJobLaunch(jobs_[0], Launched(1, 1, 0));
  recorder.OnJobLaunch(jobs_[1], Launched(2, 1, 0));
  wall_ = 2001;
  AttemptEnd ok = End(Outcome::kSucceeded, 1);
  recorder.OnJobCommit(jobs_[0], ok, /*last=*/false);
  LaunchRecords logged;
  ASSERT_TRUE(LaunchLog::Read(path, &logged).ok());
  EXPECT_TRUE(logged.ends.empty()) << "the unit's successes are written after its last";
  recorder.OnJobCommit(jobs_[1], ok, /*last=*/true);
  ASSERT_TRUE(LaunchLog::Read(path, &logged).ok());
  ASSERT_EQ(logged.ends.size(), 2u);
  EXPECT_EQ(logged.ends[0].attempt.job_key, "key-a");
  EXPECT_EQ(logged.ends[0].attempt.attempt, 1);
  EXPECT_EQ(logged.ends[0].attempt.outcome, "succeeded");
  EXPECT_EQ(logged.ends[0].attempt.end, 2001);
  EXPECT_EQ(logged.ends[0].state, JobState::kSucceeded);
  EXPECT_EQ(logged.ends[1].attempt.attempt, 3) << "after two in earlier runs";

  recorder.OnJobEnd(jobs_[0], ok, counts_);  // durable already: no second record
  AttemptEnd lost = End(Outcome::kFailed, 1, 1);
  recorder.OnJobEnd(jobs_[1], lost, counts_);  // its commit failed after all
  ASSERT_TRUE(LaunchLog::Read(path, &logged).ok());
  ASSERT_EQ(logged.ends.size(), 3u);
  EXPECT_EQ(logged.ends[2].attempt.job_key, "key-b");
  EXPECT_EQ(logged.ends[2].attempt.outcome, "failed");
  EXPECT_EQ(logged.ends[2].state, JobState::kFailed);
  EXPECT_TRUE(CommittedAttempts().empty()) << "no commit per end";

  recorder.OnTick(counts_, kT0 + milliseconds(100), "");
  ASSERT_TRUE(LaunchLog::Read(path, &logged).ok());
  EXPECT_TRUE(logged.starts.empty() && logged.ends.empty()) << "emptied by the commit";
  EXPECT_EQ(CommittedJobs()["key-a"].state, JobState::kSucceeded);
  EXPECT_EQ(CommittedJobs()["key-b"].state, JobState::kFailed);
  EXPECT_TRUE(recorder.status().ok()) << recorder.status().message();
}

TEST_F(JournalRecorderTest, EndsAreGroupedAndCommittedByATickAfterCommitEvery) {
  JournalRecorder& recorder = Recorder();
  recorder.OnTick(counts_, kT0, "");
  recorder.OnJobLaunch(jobs_[0], Launched(1, 1, -1));
  wall_ = 2001.5;
  recorder.OnJobEnd(jobs_[0], End(Outcome::kSucceeded, 1), counts_);
  EXPECT_TRUE(CommittedAttempts().empty()) << "committed per write";
  recorder.OnTick(counts_, kT0 + milliseconds(99), "");
  EXPECT_TRUE(CommittedAttempts().empty());
  EXPECT_EQ(CommittedJobs()["key-a"].state, JobState::kQueued);
  recorder.OnTick(counts_, kT0 + milliseconds(100), "");
  EXPECT_EQ(CommittedJobs()["key-a"].state, JobState::kSucceeded);
  std::vector<AttemptRecord> attempts = CommittedAttempts();
  ASSERT_EQ(attempts.size(), 1u);
  const AttemptRecord& a = attempts[0];
  EXPECT_EQ(a.end, 2001.5);
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_FALSE(a.signal);
  EXPECT_EQ(a.outcome, "succeeded");
  EXPECT_FALSE(a.oom);
  EXPECT_EQ(a.peak_rss, 2048u * 1024);
  EXPECT_FALSE(a.peak_vram);
  EXPECT_EQ(a.cpu_seconds, 0.25);
  EXPECT_EQ(a.wall_seconds, 1.5);
  EXPECT_EQ(a.stdout_log, log_dir_->StdoutPath(jobs_[0], 1));  // as the runner names it
}

// Learned footprints are buffered (the newest kFootprintsKept of each class
// and kind) and written every 10 s and at the end, not three statements a job.
TEST_F(JournalRecorderTest, LearnedFootprintsAreWrittenInBulk) {
  JournalRecorder& recorder = Recorder();
  recorder.OnTick(counts_, kT0, "");
  for (int i = 0; i < 300; ++i) {
    recorder.OnLearned({"c", "wall_ms", 0, static_cast<uint64_t>(i)});
  }
  recorder.OnLearned({"c", "vram", 0, 5});
  recorder.OnTick(counts_, kT0 + std::chrono::seconds(1), "");
  std::vector<FootprintRecord> recent;
  ASSERT_TRUE(Reader()->RecentFootprints(1000, &recent).ok());
  EXPECT_TRUE(recent.empty()) << "written before 10 s passed";
  recorder.OnTick(counts_, kT0 + std::chrono::seconds(10), "");
  ASSERT_TRUE(Reader()->RecentFootprints(1000, &recent).ok());
  EXPECT_EQ(recent.size(), JournalRecorder::kFootprintsKept + 1);
  auto first_wall = std::find_if(recent.begin(), recent.end(),
                                 [](const FootprintRecord& f) { return f.kind == "wall_ms"; });
  ASSERT_NE(first_wall, recent.end());
  EXPECT_EQ(first_wall->value, 300 - JournalRecorder::kFootprintsKept) << "the newest kept";
  std::vector<FootprintClassRecord> classes;
  ASSERT_TRUE(Reader()->FootprintClasses(&classes).ok());
  ASSERT_EQ(classes.size(), 1u);
  EXPECT_EQ(classes[0].jobs, 300);

  recorder.OnLearned({"c", "wall_ms", 0, 7});
  recorder.Finish(0);
  ASSERT_TRUE(Reader()->FootprintClasses(&classes).ok());
  EXPECT_EQ(classes[0].jobs, 301);
}

TEST_F(JournalRecorderTest, MeasuredPeaksAreJournaled) {
  JournalRecorder& recorder = Recorder();
  recorder.OnJobLaunch(jobs_[0], Launched(1, 1, 0));
  AttemptEnd end = End(Outcome::kSucceeded, 1);
  end.gpu = 0;
  end.peak_vram = uint64_t{6} << 30;
  end.peak_rss = uint64_t{3} << 30;  // the tree's sum, above the kernel's 2 MiB
  recorder.OnJobEnd(jobs_[0], end, counts_);
  recorder.OnBatchEnd(counts_, kT0);
  std::vector<AttemptRecord> attempts = CommittedAttempts();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].peak_vram, uint64_t{6} << 30);
  EXPECT_EQ(attempts[0].peak_rss, uint64_t{3} << 30);
}

// An attempt whose start was committed in an earlier group gets its end
// and its job's state in the group it ends in.
TEST_F(JournalRecorderTest, AnAttemptCommittedBeforeGetsItsEndInALaterGroup) {
  JournalRecorder& recorder = Recorder();
  recorder.OnTick(counts_, kT0, "");
  recorder.OnJobLaunch(jobs_[0], Launched(1, 1, -1));
  recorder.OnTick(counts_, kT0 + milliseconds(100), "");
  EXPECT_EQ(CommittedJobs()["key-a"].state, JobState::kRunning);
  wall_ = 2005;
  recorder.OnJobEnd(jobs_[0], End(Outcome::kFailed, 1, 3), counts_);
  recorder.OnTick(counts_, kT0 + milliseconds(200), "");
  EXPECT_EQ(CommittedJobs()["key-a"].state, JobState::kFailed);
  std::vector<AttemptRecord> attempts = CommittedAttempts();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].start, 2000);
  EXPECT_EQ(attempts[0].end, 2005);
  EXPECT_EQ(attempts[0].exit_code, 3);
  EXPECT_EQ(attempts[0].stdout_log, log_dir_->StdoutPath(jobs_[0], 1));
}

TEST_F(JournalRecorderTest, AttemptNumbersContinueFromEarlierRuns) {
  JournalRecorder& recorder = Recorder();
  recorder.OnJobLaunch(jobs_[1], Launched(1, 1, -1));
  AttemptEnd end = End(Outcome::kFailed, 1, 1);
  end.will_retry = true;
  recorder.OnJobEnd(jobs_[1], end, counts_);
  recorder.OnJobLaunch(jobs_[1], Launched(1, 2, -1));
  recorder.OnBatchEnd(counts_, kT0);
  std::map<std::string, JobRecord> jobs = CommittedJobs();
  EXPECT_EQ(jobs["key-b"].attempts, 4);
  std::vector<AttemptRecord> attempts = CommittedAttempts();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].attempt, 3);
  EXPECT_EQ(attempts[0].outcome, "failed");
  EXPECT_EQ(attempts[0].exit_code, 1);
  EXPECT_EQ(attempts[1].attempt, 4);
}

TEST_F(JournalRecorderTest, JobStatesFollowTheOutcome) {
  JournalRecorder& recorder = Recorder();
  recorder.OnJobLaunch(jobs_[0], Launched(1, 1, 0));
  AttemptEnd oom = End(Outcome::kFailed, 1, 1);
  oom.out_of_memory = true;
  oom.will_retry = true;
  recorder.OnJobEnd(jobs_[0], oom, counts_);
  recorder.OnBatchEnd(counts_, kT0);
  EXPECT_EQ(CommittedJobs()["key-a"].state, JobState::kQueued);  // waits for its retry
  EXPECT_EQ(CommittedAttempts()[0].outcome, "oom");
  EXPECT_TRUE(CommittedAttempts()[0].oom);

  recorder.OnJobLaunch(jobs_[0], Launched(1, 2, 0));
  AttemptEnd killed = End(Outcome::kInterrupted, 2, -1);
  killed.exit.signal = SIGTERM;
  recorder.OnJobEnd(jobs_[0], killed, counts_);
  recorder.OnBatchEnd(counts_, kT0);
  EXPECT_EQ(CommittedJobs()["key-a"].state, JobState::kInterrupted);
  AttemptRecord second = CommittedAttempts()[1];
  EXPECT_EQ(second.outcome, "interrupted");
  EXPECT_EQ(second.signal, SIGTERM);
  EXPECT_FALSE(second.exit_code);

  recorder.OnJobLaunch(jobs_[1], Launched(1, 1, -1));
  AttemptEnd no_start = End(Outcome::kStartFailed, 1, -1);
  recorder.OnJobEnd(jobs_[1], no_start, counts_);
  recorder.OnBatchEnd(counts_, kT0);
  EXPECT_EQ(CommittedJobs()["key-b"].state, JobState::kFailed);
  AttemptRecord third = CommittedAttempts()[2];
  EXPECT_EQ(third.outcome, "start-failed");
  EXPECT_FALSE(third.exit_code);
  EXPECT_FALSE(third.signal);
  EXPECT_TRUE(recorder.status().ok()) << recorder.status().message();
}

TEST_F(JournalRecorderTest, SkippedJobsAreRecordedUnlessTheirStateIsKept) {
  ASSERT_TRUE(journal_->SetJobState(batch_, "key-c", JobState::kSucceeded).ok());
  JournalRecorder& recorder = Recorder();
  recorder.OnJobSkipped(jobs_[0], counts_);
  recorder.OnJobSkipped(jobs_[2], counts_);
  recorder.OnBatchEnd(counts_, kT0);
  std::map<std::string, JobRecord> jobs = CommittedJobs();
  EXPECT_EQ(jobs["key-a"].state, JobState::kSkipped);
  EXPECT_EQ(jobs["key-c"].state, JobState::kSucceeded);
}

TEST_F(JournalRecorderTest, EventsForWaitingLimitsAndNotices) {
  JournalRecorder& recorder = Recorder();
  recorder.OnTick(counts_, kT0, "slots");
  recorder.OnTick(counts_, kT0 + milliseconds(100), "slots");
  recorder.OnTick(counts_, kT0 + milliseconds(200), "vram");
  recorder.OnLimitChange(1, 4, "gpu1 limit 8 -> 4: out of memory");
  recorder.OnNotice(LogLevel::kDebug, "not kept");
  recorder.OnNotice(LogLevel::kWarn, "interrupted by SIGINT");
  recorder.OnBatchEnd(counts_, kT0 + milliseconds(300));
  std::vector<EventRecord> events = CommittedEvents();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].kind, "waiting");
  EXPECT_EQ(events[0].text, "slots");
  EXPECT_EQ(events[0].gpu, -1);
  EXPECT_EQ(events[1].text, "vram");
  EXPECT_EQ(events[2].kind, "limit");
  EXPECT_EQ(events[2].gpu, 1);
  EXPECT_EQ(events[2].value, 4);
  EXPECT_EQ(events[2].text, "gpu1 limit 8 -> 4: out of memory");
  EXPECT_EQ(events[3].kind, "notice");
  EXPECT_EQ(events[3].value, static_cast<int64_t>(LogLevel::kWarn));
  EXPECT_EQ(events[3].text, "interrupted by SIGINT");
  EXPECT_EQ(events[4].kind, "waiting");  // the batch is over: nothing holds it
  EXPECT_EQ(events[4].text, "");
  EXPECT_EQ(events[4].t, 2000);
}

TEST_F(JournalRecorderTest, TheSchedulersEtaIsAnEventEveryFiveSeconds) {
  JournalRecorder& recorder = Recorder();
  Counts counts = counts_;
  recorder.OnTick(counts, kT0, "");  // none yet: nothing recorded
  counts.eta_seconds = 12.3456;
  recorder.OnTick(counts, kT0 + milliseconds(100), "");
  counts.eta_seconds = 12.0;
  recorder.OnTick(counts, kT0 + milliseconds(4000), "");  // within 5 s of the last
  counts.eta_seconds = 7.0;
  recorder.OnTick(counts, kT0 + milliseconds(5100), "");
  recorder.OnBatchEnd(counts, kT0 + milliseconds(5200));
  std::vector<int64_t> etas;
  for (const EventRecord& event : CommittedEvents()) {
    if (event.kind == "eta") etas.push_back(event.value);
  }
  EXPECT_EQ(etas, (std::vector<int64_t>{12346, 7000}));  // milliseconds
}

TEST_F(JournalRecorderTest, SnapshotsGiveOneSamplePerGpuAndOneForTheHost) {
  JournalRecorder& recorder = Recorder();
  Snapshot snapshot;
  snapshot.system.memory_total = 16ull << 30;
  snapshot.system.memory_available = 6ull << 30;
  GpuDevice gpu;
  gpu.index = 1;
  gpu.memory_total = 8ull << 30;
  gpu.memory_used = 3ull << 30;
  gpu.temperature_c = 65;
  snapshot.gpus.push_back(gpu);
  recorder.OnSnapshot(snapshot);
  recorder.OnBatchEnd(counts_, kT0);
  std::vector<SampleRecord> samples;
  ASSERT_TRUE(Reader()->Samples(batch_, &samples).ok());
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].gpu, 1);
  EXPECT_EQ(samples[0].used, 3ull << 30);
  EXPECT_EQ(samples[0].total, 8ull << 30);
  EXPECT_EQ(samples[0].temperature_c, 65);
  EXPECT_FALSE(samples[0].utilization_pct);
  EXPECT_EQ(samples[1].gpu, -1);
  EXPECT_EQ(samples[1].used, 10ull << 30);
  EXPECT_EQ(samples[1].total, 16ull << 30);
  EXPECT_EQ(samples[1].t, 2000);
}

TEST_F(JournalRecorderTest, FinishEndsTheBatch) {
  JournalRecorder& recorder = Recorder();
  wall_ = 2100;
  recorder.Finish(130);
  std::optional<BatchRecord> batch;
  ASSERT_TRUE(Reader()->FindBatch(batch_, &batch).ok());
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->ended_at, 2100);
  EXPECT_EQ(batch->exit_code, 130);
}

TEST_F(JournalRecorderTest, AJobOutsideThePlanIsAnErrorAndStopsWriting) {
  JournalRecorder& recorder = Recorder();
  recorder.OnJobLaunch(MakeJob(9, "stranger"), Launched(1, 1, -1));
  EXPECT_FALSE(recorder.status().ok());
  EXPECT_EQ(recorder.status().message(), "journal: job 9 (stranger) is not in the batch's plan");
  recorder.OnJobLaunch(jobs_[0], Launched(1, 1, -1));
  EXPECT_TRUE(CommittedAttempts().empty());
}

}  // namespace
}  // namespace headroom

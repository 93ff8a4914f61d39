#include "journal/journal.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "journal/schema.h"
#include "util/test_temp_dir.h"

namespace headroom {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `sql` on the database at `path` with plain SQLite; returns the first
// column of the first row (empty if none).
std::string RawSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string result;
  sqlite3_stmt* stmt = nullptr;
  const char* tail = sql.c_str();
  while (*tail != '\0') {
    EXPECT_EQ(sqlite3_prepare_v2(db, tail, -1, &stmt, &tail), SQLITE_OK) << sqlite3_errmsg(db);
    if (stmt == nullptr) break;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && result.empty() && sqlite3_column_text(stmt, 0) != nullptr) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return result;
}

std::vector<std::string> ListNames(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

BatchRecord MakeBatch(double started_at = 1000) {
  BatchRecord batch;
  batch.started_at = started_at;
  batch.host = "box";
  batch.command_template = "upscale --in {} --out {out}";
  batch.input_source = "--input-dir ./videos";
  batch.options_json = R"({"jobs":2})";
  batch.pid = 4242;
  return batch;
}

JobRecord MakeJob(int64_t number, const std::string& key) {
  JobRecord job;
  job.key = key;
  job.number = number;
  job.name = key;
  job.input = "in/" + key;
  job.argv = {"upscale", "--in", "in/" + key};
  job.output = "out/" + key;
  job.priority = number % 3;
  return job;
}

AttemptRecord MakeAttempt(const std::string& key, int attempt, double start) {
  AttemptRecord a;
  a.job_key = key;
  a.attempt = attempt;
  a.slot = 1;
  a.gpu = 0;
  a.start = start;
  a.stdout_log = "logs/" + key + ".out";
  a.stderr_log = "logs/" + key + ".err";
  return a;
}

class JournalTest : public ::testing::Test {
 protected:
  std::string StateDir() const { return tmp_.path() + "/state"; }
  std::string DbPath() const { return StateDir() + "/journal.db"; }

  std::unique_ptr<Journal> OpenOrDie() {
    std::unique_ptr<Journal> journal;
    Status status = Journal::Open(StateDir(), &journal);
    EXPECT_TRUE(status.ok()) << status.message();
    return journal;
  }

  // A journal with one batch (its id in batch_) holding jobs a, b and c.
  std::unique_ptr<Journal> OpenWithJobs() {
    std::unique_ptr<Journal> journal = OpenOrDie();
    BatchRecord batch = MakeBatch();
    EXPECT_TRUE(journal->CreateBatch(&batch).ok());
    batch_ = batch.id;
    Status status =
        journal->UpsertJobs(batch_, {MakeJob(1, "a"), MakeJob(2, "b"), MakeJob(3, "c")});
    EXPECT_TRUE(status.ok()) << status.message();
    return journal;
  }

  JobState StateOf(Journal* journal, const std::string& key) {
    std::vector<JobRecord> jobs;
    EXPECT_TRUE(journal->Jobs(batch_, &jobs).ok());
    for (const JobRecord& job : jobs) {
      if (job.key == key) return job.state;
    }
    ADD_FAILURE() << "no job " << key;
    return JobState::kQueued;
  }

  TempDir tmp_;
  int64_t batch_ = 0;
};

TEST(JobStateTest, NamesRoundTrip) {
  for (JobState state : {JobState::kQueued, JobState::kRunning, JobState::kSucceeded,
                         JobState::kFailed, JobState::kSkipped, JobState::kInterrupted}) {
    EXPECT_EQ(ParseJobState(JobStateName(state)), state);
  }
  EXPECT_EQ(JobStateName(JobState::kSucceeded), "succeeded");
  EXPECT_EQ(ParseJobState("done"), std::nullopt);
}

TEST(JournalSchemaTest, OneMigrationStepPerVersion) {
  EXPECT_EQ(JournalMigrations().size(), static_cast<size_t>(Journal::kSchemaVersion));
}

TEST_F(JournalTest, OpenCreatesDirAndReopenKeepsBatches) {
  std::string nested = tmp_.path() + "/a/b/state";
  std::unique_ptr<Journal> journal;
  ASSERT_TRUE(Journal::Open(nested, &journal).ok());
  EXPECT_EQ(journal->path(), nested + "/journal.db");
  BatchRecord first = MakeBatch(1000);
  ASSERT_TRUE(journal->CreateBatch(&first).ok());
  BatchRecord second = MakeBatch(2000);
  second.input_source = "stdin";
  ASSERT_TRUE(journal->CreateBatch(&second).ok());
  EXPECT_EQ(first.id, 1);
  EXPECT_EQ(second.id, 2);
  ASSERT_TRUE(journal->EndBatch(first.id, 1500.5, 1).ok());
  journal.reset();

  ASSERT_TRUE(Journal::Open(nested, &journal).ok());
  std::optional<BatchRecord> found;
  ASSERT_TRUE(journal->FindBatch(1, &found).ok());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->started_at, 1000);
  EXPECT_EQ(found->ended_at, 1500.5);
  EXPECT_EQ(found->exit_code, 1);
  EXPECT_EQ(found->host, "box");
  EXPECT_EQ(found->command_template, "upscale --in {} --out {out}");
  EXPECT_EQ(found->input_source, "--input-dir ./videos");
  EXPECT_EQ(found->options_json, R"({"jobs":2})");
  EXPECT_EQ(found->pid, 4242);

  ASSERT_TRUE(journal->FindBatch(3, &found).ok());
  EXPECT_FALSE(found);
  ASSERT_TRUE(journal->LatestBatch(&found).ok());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, 2);
  EXPECT_FALSE(found->ended_at);
  EXPECT_FALSE(found->exit_code);
  ASSERT_TRUE(journal->LatestBatchFor(first.command_template, "--input-dir ./videos", &found).ok());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, 1);
  ASSERT_TRUE(journal->LatestBatchFor("other", "stdin", &found).ok());
  EXPECT_FALSE(found);
}

TEST_F(JournalTest, FootprintsKeepTheNewestOfEachClassAndCountTheJobs) {
  std::unique_ptr<Journal> journal = OpenOrDie();
  auto add = [&](const std::string& job_class, const std::string& kind, uint64_t value,
                 double t) {
    FootprintRecord f;
    f.job_class = job_class;
    f.kind = kind;
    f.input = 100;
    f.value = value;
    f.t = t;
    f.batch = 1;
    Status status = journal->AddFootprint(f);
    ASSERT_TRUE(status.ok()) << status.message();
  };
  for (uint64_t i = 1; i <= 5; ++i) {
    add("up\x1f{}", "vram", i * 1000, static_cast<double>(i));
    add("up\x1f{}", "wall_ms", i * 10, static_cast<double>(i));
  }
  add("other", "rss", 7, 9);
  ASSERT_TRUE(journal->CountFootprintJobs("up\x1f{}", 3, 4).ok());
  ASSERT_TRUE(journal->CountFootprintJobs("up\x1f{}", 2, 5).ok());
  std::vector<FootprintRecord> recent;
  ASSERT_TRUE(journal->RecentFootprints(2, &recent).ok());
  std::vector<std::string> got;
  for (const FootprintRecord& f : recent) {
    got.push_back(f.job_class + " " + f.kind + " " + std::to_string(f.value));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"up\x1f{} vram 4000", "up\x1f{} wall_ms 40",
                                           "up\x1f{} vram 5000", "up\x1f{} wall_ms 50",
                                           "other rss 7"}));
  std::vector<FootprintClassRecord> classes;
  ASSERT_TRUE(journal->FootprintClasses(&classes).ok());
  ASSERT_EQ(classes.size(), 1u);  // only counted classes
  EXPECT_EQ(classes[0].job_class, "up\x1f{}");
  EXPECT_EQ(classes[0].jobs, 5);
  EXPECT_EQ(classes[0].last_t, 5);

  ASSERT_TRUE(journal->PruneFootprints(3).ok());
  ASSERT_TRUE(journal->RecentFootprints(100, &recent).ok());
  EXPECT_EQ(recent.size(), 7u);  // 3 + 3 + 1
  EXPECT_EQ(recent.front().value, 3000u);

  int64_t forgotten = 0;
  ASSERT_TRUE(journal->ForgetFootprints(std::string("up\x1f{}"), &forgotten).ok());
  EXPECT_EQ(forgotten, 1);
  ASSERT_TRUE(journal->RecentFootprints(100, &recent).ok());
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].job_class, "other");
  ASSERT_TRUE(journal->ForgetFootprints(std::nullopt, &forgotten).ok());
  ASSERT_TRUE(journal->RecentFootprints(100, &recent).ok());
  EXPECT_TRUE(recent.empty());
}

// A journal of schema 1 (before footprints): readers read it as it is,
// with no footprints; a writer upgrades it in place.
TEST_F(JournalTest, ASchemaOneJournalReadsWithoutFootprintsAndUpgrades) {
  OpenWithJobs().reset();
  RawSql(DbPath(),
         "DROP TABLE footprints; DROP TABLE footprint_classes; PRAGMA user_version = 1");
  std::unique_ptr<Journal> journal;
  Status status = Journal::OpenReadOnly(StateDir(), &journal);
  ASSERT_TRUE(status.ok()) << status.message();
  std::vector<FootprintRecord> recent;
  EXPECT_TRUE(journal->RecentFootprints(32, &recent).ok());
  EXPECT_TRUE(recent.empty());
  std::vector<JobRecord> jobs;
  EXPECT_TRUE(journal->Jobs(batch_, &jobs).ok());
  EXPECT_EQ(jobs.size(), 3u);
  journal.reset();

  journal = OpenOrDie();
  FootprintRecord f;
  f.job_class = "c";
  f.kind = "vram";
  f.value = 5;
  EXPECT_TRUE(journal->AddFootprint(f).ok());
  journal.reset();
  EXPECT_EQ(RawSql(DbPath(), "PRAGMA user_version"), "2");
  EXPECT_EQ(RawSql(DbPath(), "SELECT value FROM footprints"), "5");
}

TEST_F(JournalTest, FileIsWalWithSchemaVersionAndApplicationId) {
  OpenOrDie().reset();
  EXPECT_EQ(RawSql(DbPath(), "PRAGMA user_version"), "2");
  EXPECT_EQ(RawSql(DbPath(), "PRAGMA application_id"), std::to_string(kJournalApplicationId));
  EXPECT_EQ(RawSql(DbPath(), "PRAGMA journal_mode"), "wal");
}

TEST_F(JournalTest, ResumeBatchRecordsPidAndClearsEnd) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  ASSERT_TRUE(journal->EndBatch(batch_, 2000, 130).ok());
  ASSERT_TRUE(journal->ResumeBatch(batch_, 777).ok());
  std::optional<BatchRecord> found;
  ASSERT_TRUE(journal->FindBatch(batch_, &found).ok());
  EXPECT_EQ(found->pid, 777);
  EXPECT_FALSE(found->ended_at);
  EXPECT_FALSE(found->exit_code);

  Status status = journal->EndBatch(99, 1, 0);
  EXPECT_EQ(status.message(), "journal " + DbPath() + ": no batch 99");
  EXPECT_FALSE(journal->ResumeBatch(99, 1).ok());
}

TEST_F(JournalTest, GroupIsOneTransactionSeenByReadersOnCommit) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  std::unique_ptr<Journal> reader;
  ASSERT_TRUE(Journal::OpenReadOnly(StateDir(), &reader).ok());

  ASSERT_TRUE(journal->Begin().ok());
  EXPECT_TRUE(journal->in_transaction());
  EXPECT_FALSE(journal->Begin().ok());
  ASSERT_TRUE(journal->SetJobState(batch_, "a", JobState::kSucceeded).ok());
  ASSERT_TRUE(journal->StartAttempt(batch_, MakeAttempt("b", 1, 1001)).ok());  // nested write
  EXPECT_TRUE(journal->in_transaction());
  // The reader neither blocks nor sees the open group.
  EXPECT_EQ(StateOf(reader.get(), "a"), JobState::kQueued);
  EXPECT_EQ(StateOf(reader.get(), "b"), JobState::kQueued);
  ASSERT_TRUE(journal->Commit().ok());
  EXPECT_FALSE(journal->in_transaction());
  EXPECT_FALSE(journal->Commit().ok());
  EXPECT_EQ(StateOf(reader.get(), "a"), JobState::kSucceeded);
  EXPECT_EQ(StateOf(reader.get(), "b"), JobState::kRunning);
}

TEST_F(JournalTest, DestructorCommitsAnOpenGroup) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  ASSERT_TRUE(journal->Begin().ok());
  ASSERT_TRUE(journal->SetJobState(batch_, "c", JobState::kFailed).ok());
  journal.reset();
  journal = OpenOrDie();
  EXPECT_EQ(StateOf(journal.get(), "c"), JobState::kFailed);
}

// A child process writes and is killed with SIGKILL: what it committed
// (a group, or a single write outside one) is there; an open group is not.
TEST_F(JournalTest, CommittedWritesSurviveSigkill) {
  OpenWithJobs().reset();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<Journal> journal;
    bool ok = Journal::Open(StateDir(), &journal).ok() && journal->Begin().ok() &&
              journal->SetJobState(batch_, "a", JobState::kSucceeded).ok() &&
              journal->Commit().ok() &&
              journal->SetJobState(batch_, "b", JobState::kFailed).ok() &&  // on its own
              journal->Begin().ok() &&
              journal->SetJobState(batch_, "c", JobState::kSkipped).ok();  // never committed
    char byte = ok ? 'y' : 'n';
    (void)!write(ready[1], &byte, 1);
    pause();  // killed here, with the group open and the connection not closed
    _exit(1);
  }
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  kill(child, SIGKILL);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  ASSERT_EQ(byte, 'y');
  ASSERT_TRUE(WIFSIGNALED(wstatus));

  std::unique_ptr<Journal> journal = OpenOrDie();
  EXPECT_EQ(StateOf(journal.get(), "a"), JobState::kSucceeded);
  EXPECT_EQ(StateOf(journal.get(), "b"), JobState::kFailed);
  EXPECT_EQ(StateOf(journal.get(), "c"), JobState::kQueued);
}

TEST_F(JournalTest, UpsertKeepsStateAndAttemptsAndAddsNewKeys) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  ASSERT_TRUE(journal->StartAttempt(batch_, MakeAttempt("a", 1, 1001)).ok());
  ASSERT_TRUE(journal->SetJobState(batch_, "a", JobState::kSucceeded).ok());

  JobRecord renumbered = MakeJob(5, "a");
  renumbered.name = "renamed";
  renumbered.state = JobState::kFailed;  // ignored
  renumbered.attempts = 9;               // ignored
  ASSERT_TRUE(journal->UpsertJobs(batch_, {renumbered, MakeJob(4, "d")}).ok());

  std::vector<JobRecord> jobs;
  ASSERT_TRUE(journal->Jobs(batch_, &jobs).ok());
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[0].key, "b");  // number order: b 2, c 3, d 4, a 5
  EXPECT_EQ(jobs[2].key, "d");
  EXPECT_EQ(jobs[2].state, JobState::kQueued);
  EXPECT_EQ(jobs[2].attempts, 0);
  EXPECT_EQ(jobs[3].key, "a");
  EXPECT_EQ(jobs[3].number, 5);
  EXPECT_EQ(jobs[3].name, "renamed");
  EXPECT_EQ(jobs[3].state, JobState::kSucceeded);
  EXPECT_EQ(jobs[3].attempts, 1);
}

TEST_F(JournalTest, UpsertIntoMissingBatchFailsAndWritesNothing) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  Status status = journal->UpsertJobs(42, {MakeJob(1, "x")});
  EXPECT_EQ(status.message(), "journal " + DbPath() + ": no batch 42");
  EXPECT_FALSE(journal->in_transaction());
  EXPECT_EQ(RawSql(DbPath(), "SELECT count(*) FROM jobs WHERE batch = 42"), "0");
}

TEST_F(JournalTest, JobFieldsRoundTripByteExact) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  JobRecord job = MakeJob(7, std::string("k\xff\x01", 3));
  job.input = std::string("clip \xe9\n.mp4", 11);  // Latin-1, not UTF-8
  job.argv = {"cmd", "", std::string("a\xff", 2), "two words"};
  job.output = "";
  job.priority = -3;
  JobRecord no_args = MakeJob(8, "empty-argv");
  no_args.argv.clear();
  ASSERT_TRUE(journal->UpsertJobs(batch_, {job, no_args}).ok());
  std::vector<JobRecord> jobs;
  ASSERT_TRUE(journal->Jobs(batch_, &jobs).ok());
  ASSERT_EQ(jobs.size(), 5u);
  EXPECT_EQ(jobs[3].key, job.key);
  EXPECT_EQ(jobs[3].input, job.input);
  EXPECT_EQ(jobs[3].argv, job.argv);
  EXPECT_EQ(jobs[3].output, "");
  EXPECT_EQ(jobs[3].priority, -3);
  EXPECT_TRUE(jobs[4].argv.empty());
}

TEST_F(JournalTest, AttemptsRoundTrip) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  AttemptRecord first = MakeAttempt("a", 1, 1001);
  ASSERT_TRUE(journal->StartAttempt(batch_, first).ok());
  first.end = 1003.25;
  first.signal = 9;
  first.outcome = "oom";
  first.oom = true;
  first.peak_vram = 0xFFFFFFFFFFFFFFF0ull;  // above INT64_MAX: still round-trips
  first.peak_rss = 123456789;
  first.cpu_seconds = 1.5;
  first.wall_seconds = 2.25;
  ASSERT_TRUE(journal->EndAttempt(batch_, first).ok());
  AttemptRecord second = MakeAttempt("a", 2, 1004);
  second.gpu = -1;
  ASSERT_TRUE(journal->StartAttempt(batch_, second).ok());

  std::vector<AttemptRecord> attempts;
  ASSERT_TRUE(journal->Attempts(batch_, &attempts).ok());
  ASSERT_EQ(attempts.size(), 2u);
  const AttemptRecord& a = attempts[0];
  EXPECT_EQ(a.job_key, "a");
  EXPECT_EQ(a.attempt, 1);
  EXPECT_EQ(a.slot, 1);
  EXPECT_EQ(a.gpu, 0);
  EXPECT_EQ(a.start, 1001);
  EXPECT_EQ(a.end, 1003.25);
  EXPECT_EQ(a.exit_code, std::nullopt);
  EXPECT_EQ(a.signal, 9);
  EXPECT_EQ(a.outcome, "oom");
  EXPECT_TRUE(a.oom);
  EXPECT_EQ(a.peak_vram, 0xFFFFFFFFFFFFFFF0ull);
  EXPECT_EQ(a.peak_rss, 123456789u);
  EXPECT_EQ(a.cpu_seconds, 1.5);
  EXPECT_EQ(a.wall_seconds, 2.25);
  EXPECT_EQ(a.stdout_log, "logs/a.out");
  EXPECT_EQ(a.stderr_log, "logs/a.err");
  const AttemptRecord& b = attempts[1];
  EXPECT_EQ(b.attempt, 2);
  EXPECT_EQ(b.gpu, -1);
  EXPECT_FALSE(b.end);
  EXPECT_FALSE(b.exit_code);
  EXPECT_FALSE(b.signal);
  EXPECT_FALSE(b.peak_vram);
  EXPECT_FALSE(b.oom);
  EXPECT_EQ(b.outcome, "");

  std::vector<JobRecord> jobs;
  ASSERT_TRUE(journal->Jobs(batch_, &jobs).ok());
  EXPECT_EQ(jobs[0].state, JobState::kRunning);
  EXPECT_EQ(jobs[0].attempts, 2);
}

TEST_F(JournalTest, AddAttemptWritesAWholeAttemptAndTheJobsState) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  AttemptRecord ended = MakeAttempt("a", 2, 1001);
  ended.end = 1002.5;
  ended.exit_code = 0;
  ended.outcome = "succeeded";
  ended.peak_rss = 4096;
  ended.peak_vram = 0xFFFFFFFFFFFFFFF0ull;
  ended.cpu_seconds = 0.5;
  ended.wall_seconds = 1.5;
  ASSERT_TRUE(journal->AddAttempt(batch_, ended, JobState::kSucceeded).ok());
  ASSERT_TRUE(journal->AddAttempt(batch_, MakeAttempt("b", 1, 1003), JobState::kRunning).ok());
  std::vector<AttemptRecord> attempts;
  ASSERT_TRUE(journal->Attempts(batch_, &attempts).ok());
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].attempt, 2);
  EXPECT_EQ(attempts[0].end, 1002.5);
  EXPECT_EQ(attempts[0].exit_code, 0);
  EXPECT_FALSE(attempts[0].signal);
  EXPECT_EQ(attempts[0].outcome, "succeeded");
  EXPECT_EQ(attempts[0].peak_rss, 4096u);
  EXPECT_EQ(attempts[0].peak_vram, 0xFFFFFFFFFFFFFFF0ull);
  EXPECT_EQ(attempts[0].cpu_seconds, 0.5);
  EXPECT_EQ(attempts[0].wall_seconds, 1.5);
  EXPECT_EQ(attempts[0].stdout_log, "logs/a.out");
  EXPECT_FALSE(attempts[1].end);
  std::vector<JobRecord> jobs;
  ASSERT_TRUE(journal->Jobs(batch_, &jobs).ok());
  EXPECT_EQ(jobs[0].state, JobState::kSucceeded);
  EXPECT_EQ(jobs[0].attempts, 2);
  EXPECT_EQ(jobs[1].state, JobState::kRunning);
  Status status = journal->AddAttempt(batch_, MakeAttempt("zz", 1, 1), JobState::kRunning);
  EXPECT_EQ(status.message(), "journal " + DbPath() + ": batch 1 has no job 'zz'");
}

TEST_F(JournalTest, ReplayStartAddsOnlyAttemptsTheJournalLacks) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  AttemptRecord known = MakeAttempt("a", 1, 1001);
  ASSERT_TRUE(journal->StartAttempt(batch_, known).ok());
  known.end = 1002;
  known.exit_code = 0;
  known.outcome = "succeeded";
  ASSERT_TRUE(journal->EndAttempt(batch_, known).ok());
  ASSERT_TRUE(journal->SetJobState(batch_, "a", JobState::kSucceeded).ok());

  bool added = true;
  ASSERT_TRUE(journal->ReplayStart(batch_, MakeAttempt("a", 1, 1001), &added).ok());
  EXPECT_FALSE(added);
  ASSERT_TRUE(journal->ReplayStart(batch_, MakeAttempt("b", 3, 1005), &added).ok());
  EXPECT_TRUE(added);

  std::vector<JobRecord> jobs;
  ASSERT_TRUE(journal->Jobs(batch_, &jobs).ok());
  EXPECT_EQ(jobs[0].state, JobState::kSucceeded) << "a known attempt changes nothing";
  EXPECT_EQ(jobs[0].attempts, 1);
  EXPECT_EQ(jobs[1].state, JobState::kRunning);
  EXPECT_EQ(jobs[1].attempts, 3);
  std::vector<AttemptRecord> attempts;
  ASSERT_TRUE(journal->Attempts(batch_, &attempts).ok());
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].outcome, "succeeded");
  EXPECT_EQ(attempts[1].job_key, "b");
  EXPECT_EQ(attempts[1].start, 1005);
  EXPECT_EQ(attempts[1].stdout_log, "logs/b.out");
  EXPECT_FALSE(journal->ReplayStart(batch_, MakeAttempt("zz", 1, 1), &added).ok());
}

TEST_F(JournalTest, AttemptErrorsNameTheJob) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  Status status = journal->StartAttempt(batch_, MakeAttempt("zz", 1, 1));
  EXPECT_EQ(status.message(), "journal " + DbPath() + ": batch 1 has no job 'zz'");
  status = journal->EndAttempt(batch_, MakeAttempt("a", 1, 1));
  EXPECT_EQ(status.message(), "journal " + DbPath() + ": batch 1 has no attempt 1 of job 'a'");
  ASSERT_TRUE(journal->StartAttempt(batch_, MakeAttempt("a", 1, 1)).ok());
  status = journal->StartAttempt(batch_, MakeAttempt("a", 1, 2));  // same number again
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("UNIQUE"), std::string::npos) << status.message();
  EXPECT_FALSE(journal->in_transaction());  // its own transaction was rolled back
  status = journal->SetJobState(batch_, "zz", JobState::kFailed);
  EXPECT_EQ(status.message(), "journal " + DbPath() + ": batch 1 has no job 'zz'");
}

TEST_F(JournalTest, RequeueRunningAndCountByState) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  ASSERT_TRUE(journal->UpsertJobs(batch_, {MakeJob(4, "d")}).ok());
  ASSERT_TRUE(journal->StartAttempt(batch_, MakeAttempt("a", 1, 1001)).ok());  // left running
  AttemptRecord done = MakeAttempt("b", 1, 1001);
  ASSERT_TRUE(journal->StartAttempt(batch_, done).ok());
  done.end = 1002;
  done.exit_code = 0;
  done.outcome = "succeeded";
  ASSERT_TRUE(journal->EndAttempt(batch_, done).ok());
  ASSERT_TRUE(journal->SetJobState(batch_, "b", JobState::kSucceeded).ok());
  ASSERT_TRUE(journal->SetJobState(batch_, "c", JobState::kInterrupted).ok());
  SampleRecord sample;  // the killed run was last seen at 1005.5
  sample.t = 1005.5;
  sample.gpu = 0;
  ASSERT_TRUE(journal->AddSample(batch_, sample).ok());

  std::map<JobState, int64_t> counts;
  ASSERT_TRUE(journal->CountByState(batch_, &counts).ok());
  EXPECT_EQ(counts, (std::map<JobState, int64_t>{{JobState::kQueued, 1},
                                                 {JobState::kRunning, 1},
                                                 {JobState::kSucceeded, 1},
                                                 {JobState::kInterrupted, 1}}));

  std::vector<JobRecord> were_running;
  ASSERT_TRUE(journal->RequeueRunning(batch_, &were_running).ok());
  ASSERT_EQ(were_running.size(), 2u);
  EXPECT_EQ(were_running[0].key, "a");
  EXPECT_EQ(were_running[0].state, JobState::kRunning);
  EXPECT_EQ(were_running[0].attempts, 1);
  EXPECT_EQ(were_running[1].key, "c");
  EXPECT_EQ(were_running[1].state, JobState::kInterrupted);

  ASSERT_TRUE(journal->CountByState(batch_, &counts).ok());
  EXPECT_EQ(counts,
            (std::map<JobState, int64_t>{{JobState::kQueued, 3}, {JobState::kSucceeded, 1}}));
  std::vector<AttemptRecord> attempts;
  ASSERT_TRUE(journal->Attempts(batch_, &attempts).ok());
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].job_key, "a");
  EXPECT_EQ(attempts[0].outcome, "interrupted");
  EXPECT_EQ(attempts[0].end, 1005.5) << "ends when its headroom was last seen";
  EXPECT_EQ(attempts[1].outcome, "succeeded");
  EXPECT_EQ(attempts[1].end, 1002);

  // Nothing left to requeue; the next attempt of "a" is number 2.
  ASSERT_TRUE(journal->RequeueRunning(batch_, &were_running).ok());
  EXPECT_TRUE(were_running.empty());
  EXPECT_TRUE(journal->StartAttempt(batch_, MakeAttempt("a", 2, 2000)).ok());
}

TEST(SampleIntervalTest, GrowsWithAge) {
  EXPECT_EQ(SampleInterval(0), 0);
  EXPECT_EQ(SampleInterval(599.9), 0);
  EXPECT_EQ(SampleInterval(600), 10);
  EXPECT_EQ(SampleInterval(6 * 3600 - 1), 10);
  EXPECT_EQ(SampleInterval(6 * 3600), 60);
}

TEST_F(JournalTest, SamplesAreDownsampledPerGpuAsTheBatchAges) {
  std::unique_ptr<Journal> journal = OpenWithJobs();  // the batch started at t = 1000
  auto add = [&](double t, int gpu) {
    SampleRecord s;
    s.t = t;
    s.gpu = gpu;
    s.used = static_cast<uint64_t>(t);
    s.total = 80ull << 30;
    s.temperature_c = gpu >= 0 ? std::optional<int>(70) : std::nullopt;
    Status status = journal->AddSample(batch_, s);
    EXPECT_TRUE(status.ok()) << status.message();
  };
  ASSERT_TRUE(journal->Begin().ok());
  for (int i = 0; i < 600; i += 2) add(1000 + i, 0);        // first 10 min: all 300 kept
  for (int i = 600; i < 1200; i += 2) add(1000 + i, 0);     // then 1 per 10 s: 60
  for (int i = 600; i < 700; ++i) add(1000 + i + 0.5, -1);  // host: its own series, 10
  ASSERT_TRUE(journal->Commit().ok());
  journal.reset();

  // After a reopen, the last kept sample still counts.
  journal = OpenOrDie();
  add(1000 + 1200 + 5, 0);  // 7 s after the last kept (1198): dropped
  add(1000 + 1200 + 8, 0);  // 10 s after: kept
  const double late = 1000 + 7 * 3600;
  for (int i = 0; i < 600; ++i) add(late + i, 0);  // after 6 h: 1 per 60 s: 10

  std::vector<SampleRecord> samples;
  ASSERT_TRUE(journal->Samples(batch_, &samples).ok());
  int gpu0 = 0;
  int host = 0;
  for (const SampleRecord& s : samples) (s.gpu == 0 ? gpu0 : host)++;
  EXPECT_EQ(gpu0, 300 + 60 + 1 + 10);
  EXPECT_EQ(host, 10);
  ASSERT_FALSE(samples.empty());
  EXPECT_EQ(samples.front().t, 1000);
  EXPECT_EQ(samples.front().used, 1000u);
  EXPECT_EQ(samples.front().total, 80ull << 30);
  EXPECT_EQ(samples.front().temperature_c, 70);
  EXPECT_FALSE(samples.front().utilization_pct);
  EXPECT_EQ(samples.back().t, late + 540);
  for (const SampleRecord& s : samples) {
    if (s.gpu == -1) {
      EXPECT_FALSE(s.temperature_c);
    }
  }
  SampleRecord orphan;
  EXPECT_FALSE(journal->AddSample(77, orphan).ok());
}

TEST_F(JournalTest, EventsRoundTripInOrder) {
  std::unique_ptr<Journal> journal = OpenWithJobs();
  ASSERT_TRUE(
      journal->AddEvent(batch_, {1001, "limit", 0, 4, "gpu0 limit 8 -> 4: out of memory"}).ok());
  ASSERT_TRUE(journal->AddEvent(batch_, {1000.5, "notice", -1, 0, "interrupt received"}).ok());
  std::vector<EventRecord> events;
  ASSERT_TRUE(journal->Events(batch_, &events).ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].t, 1001);
  EXPECT_EQ(events[0].kind, "limit");
  EXPECT_EQ(events[0].gpu, 0);
  EXPECT_EQ(events[0].value, 4);
  EXPECT_EQ(events[0].text, "gpu0 limit 8 -> 4: out of memory");
  EXPECT_EQ(events[1].kind, "notice");
  EXPECT_EQ(events[1].gpu, -1);
  EXPECT_FALSE(journal->AddEvent(99, {1, "notice", -1, 0, "x"}).ok());  // no such batch
}

TEST_F(JournalTest, GarbageFileIsNotAJournalAndStaysUntouched) {
  for (size_t size : {10, 100, 5000}) {
    SCOPED_TRACE(size);
    std::string garbage;
    for (size_t i = 0; i < size; ++i) garbage += static_cast<char>('A' + i * 7 % 23);
    tmp_.Write("state/journal.db", garbage);
    for (bool read_only : {false, true}) {
      std::unique_ptr<Journal> journal;
      Status status = read_only ? Journal::OpenReadOnly(StateDir(), &journal)
                                : Journal::Open(StateDir(), &journal);
      EXPECT_EQ(status.message(),
                "journal " + DbPath() + ": not a headroom journal (file is not a database)");
      EXPECT_EQ(journal, nullptr);
      EXPECT_EQ(ReadFile(DbPath()), garbage);
    }
  }
}

TEST_F(JournalTest, AnotherProgramsDatabaseStaysUntouched) {
  fs::create_directories(StateDir());
  RawSql(DbPath(), "CREATE TABLE notes(x); INSERT INTO notes VALUES (1)");
  std::string before = ReadFile(DbPath());
  std::unique_ptr<Journal> journal;
  Status status = Journal::Open(StateDir(), &journal);
  EXPECT_EQ(status.message(),
            "journal " + DbPath() + ": not a headroom journal (a database of another program)");
  EXPECT_EQ(ReadFile(DbPath()), before);
}

TEST_F(JournalTest, NewerSchemaIsRefusedAndStaysUntouched) {
  OpenOrDie().reset();
  RawSql(DbPath(), "PRAGMA user_version = 7");
  std::string before = ReadFile(DbPath());
  for (bool read_only : {false, true}) {
    std::unique_ptr<Journal> journal;
    Status status = read_only ? Journal::OpenReadOnly(StateDir(), &journal)
                              : Journal::Open(StateDir(), &journal);
    EXPECT_EQ(status.message(), "journal " + DbPath() +
                                    ": schema version 7 is newer than this headroom (knows 2); "
                                    "upgrade headroom");
    EXPECT_EQ(ReadFile(DbPath()), before);
  }
}

TEST_F(JournalTest, ReadOnlyOpenCreatesNothing) {
  std::unique_ptr<Journal> journal;
  Status status = Journal::OpenReadOnly(StateDir(), &journal);
  EXPECT_EQ(status.message(),
            "journal " + DbPath() + ": no such file (no batch has run with this state dir)");
  EXPECT_FALSE(fs::exists(StateDir()));
  fs::create_directories(StateDir());
  EXPECT_FALSE(Journal::OpenReadOnly(StateDir(), &journal).ok());
  EXPECT_FALSE(fs::exists(DbPath()));
}

TEST_F(JournalTest, ReadOnlyJournalReadsButDoesNotWrite) {
  OpenWithJobs().reset();
  std::unique_ptr<Journal> reader;
  ASSERT_TRUE(Journal::OpenReadOnly(StateDir(), &reader).ok());
  std::vector<JobRecord> jobs;
  ASSERT_TRUE(reader->Jobs(batch_, &jobs).ok());
  EXPECT_EQ(jobs.size(), 3u);
  BatchRecord batch = MakeBatch();
  EXPECT_FALSE(reader->CreateBatch(&batch).ok());
  EXPECT_FALSE(reader->SetJobState(batch_, "a", JobState::kFailed).ok());
}

TEST_F(JournalTest, MigratesAnEmptyVersionZeroDatabase) {
  fs::create_directories(StateDir());
  RawSql(DbPath(), "PRAGMA user_version = 0");
  ASSERT_GT(fs::file_size(DbPath()), 0u);
  ASSERT_EQ(RawSql(DbPath(), "PRAGMA user_version"), "0");
  std::unique_ptr<Journal> journal = OpenWithJobs();
  ASSERT_NE(journal, nullptr);
  std::vector<JobRecord> jobs;
  ASSERT_TRUE(journal->Jobs(batch_, &jobs).ok());
  EXPECT_EQ(jobs.size(), 3u);
  journal.reset();
  EXPECT_EQ(RawSql(DbPath(), "PRAGMA user_version"), "2");

  // To a reader, an empty version-0 database is a journal with no batch yet.
  fs::remove(DbPath());
  RawSql(DbPath(), "PRAGMA user_version = 0");
  std::unique_ptr<Journal> reader;
  Status status = Journal::OpenReadOnly(StateDir(), &reader);
  EXPECT_EQ(status.message(), "journal " + DbPath() + ": no batch recorded yet");
}

// A reader of a journal no headroom is writing leaves nothing behind (no
// -wal, no -shm) and needs no write access; odd characters in the path are
// escaped for SQLite's URI.
TEST_F(JournalTest, AReaderOfAnIdleJournalLeavesNoFilesBehind) {
  std::string odd = tmp_.File("st?a%b#c");
  {
    std::unique_ptr<Journal> writer;
    ASSERT_TRUE(Journal::Open(odd, &writer).ok());
    BatchRecord batch = MakeBatch();
    ASSERT_TRUE(writer->CreateBatch(&batch).ok());
  }
  ASSERT_EQ(ListNames(odd), std::vector<std::string>{"journal.db"});
  std::unique_ptr<Journal> reader;
  Status status = Journal::OpenReadOnly(odd, &reader);
  ASSERT_TRUE(status.ok()) << status.message();
  std::optional<BatchRecord> latest;
  ASSERT_TRUE(reader->LatestBatch(&latest).ok());
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->command_template, "upscale --in {} --out {out}");
  reader.reset();
  EXPECT_EQ(ListNames(odd), std::vector<std::string>{"journal.db"});
}

// A 0-byte journal.db is an empty journal everywhere: `run` starts one in
// it, `status` finds no batch yet.
TEST_F(JournalTest, AZeroByteJournalIsAnEmptyJournal) {
  fs::create_directories(StateDir());
  std::ofstream(DbPath()).close();
  ASSERT_EQ(fs::file_size(DbPath()), 0u);
  std::unique_ptr<Journal> reader;
  EXPECT_EQ(Journal::OpenReadOnly(StateDir(), &reader).message(),
            "journal " + DbPath() + ": no batch recorded yet");
  EXPECT_EQ(fs::file_size(DbPath()), 0u) << "the reader wrote nothing";
  std::unique_ptr<Journal> journal = OpenWithJobs();
  ASSERT_NE(journal, nullptr);
}

// A damaged page is found before anything is written: exit 2 for `run`,
// and the file stays byte for byte as it was.
TEST_F(JournalTest, ADamagedJournalIsRefusedAndLeftUntouched) {
  {
    std::unique_ptr<Journal> journal = OpenWithJobs();
    ASSERT_NE(journal, nullptr);
    std::vector<JobRecord> many;
    for (int i = 0; i < 400; ++i) {
      JobRecord job;
      job.key = "job-" + std::to_string(i) + std::string(100, 'x');
      job.number = 100 + i;
      job.name = job.key;
      job.input = job.key;
      many.push_back(job);
    }
    ASSERT_TRUE(journal->UpsertJobs(batch_, many).ok());
  }
  RawSql(DbPath(), "PRAGMA wal_checkpoint(TRUNCATE)");
  std::string bytes = ReadFile(DbPath());
  const size_t page = 4096;
  ASSERT_GT(bytes.size(), 8 * page);
  std::fill(bytes.begin() + 5 * page, bytes.begin() + 6 * page, '\xff');
  std::ofstream(DbPath(), std::ios::binary | std::ios::trunc) << bytes;

  std::unique_ptr<Journal> journal;
  Status status = Journal::Open(StateDir(), &journal);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message().rfind("journal " + DbPath() + ": damaged (", 0), 0u)
      << status.message();
  EXPECT_EQ(ReadFile(DbPath()), bytes);
}

// 25,000 writes in groups of 50, about what a 10,000-job batch of `true`
// costs; the bound is loose so that a loaded machine does not flake.
TEST_F(JournalTest, TwentyFiveThousandGroupedWritesAreQuick) {
  std::unique_ptr<Journal> journal = OpenOrDie();
  BatchRecord batch = MakeBatch();
  ASSERT_TRUE(journal->CreateBatch(&batch).ok());
  constexpr int kJobs = 25000 / 3 + 1;
  std::vector<JobRecord> jobs;
  jobs.reserve(kJobs);
  for (int i = 0; i < kJobs; ++i) jobs.push_back(MakeJob(i + 1, "job" + std::to_string(i)));
  ASSERT_TRUE(journal->UpsertJobs(batch.id, jobs).ok());

  auto begin = std::chrono::steady_clock::now();
  int writes = 0;
  Status status;
  for (int i = 0; i < kJobs && status.ok(); ++i) {
    if (i % 17 == 0) status = journal->Begin();  // 17 jobs = 51 writes a group
    AttemptRecord a = MakeAttempt(jobs[static_cast<size_t>(i)].key, 1, 1000 + i);
    if (status.ok()) status = journal->StartAttempt(batch.id, a);
    a.end = 1000.5 + i;
    a.exit_code = 0;
    a.outcome = "succeeded";
    if (status.ok()) status = journal->EndAttempt(batch.id, a);
    if (status.ok()) status = journal->SetJobState(batch.id, a.job_key, JobState::kSucceeded);
    writes += 3;
    if (status.ok() && i % 17 == 16) status = journal->Commit();
  }
  if (status.ok() && journal->in_transaction()) status = journal->Commit();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  ASSERT_TRUE(status.ok()) << status.message();
  std::printf("journal: %d writes in groups of ~50: %.3f s (%.1f us/write)\n", writes, seconds,
              seconds * 1e6 / writes);
  std::map<JobState, int64_t> counts;
  ASSERT_TRUE(journal->CountByState(batch.id, &counts).ok());
  EXPECT_EQ(counts[JobState::kSucceeded], kJobs);
  EXPECT_LT(seconds, 5.0);
}

}  // namespace
}  // namespace headroom

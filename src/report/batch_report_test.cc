#include "report/batch_report.h"

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "util/test_temp_dir.h"
#include "journal/batch_lock.h"
#include "journal/journal_test_util.h"

namespace headroom {
namespace {

using test::TempDir;
using journal_test::Attempt;
using journal_test::Ended;
using journal_test::kGiB;
using journal_test::WriteSampleBatch;

BatchReport ReportOf(const std::string& state_dir, double now) {
  BatchData data;
  Status status = LoadBatchData(state_dir, std::nullopt, &data);
  EXPECT_TRUE(status.ok()) << status.message();
  return BuildReport(std::move(data), now);
}

// The sample batch, not ended, with e.mp4 running on gpu 0 since 1050.
void StartE(const std::string& state_dir) {
  std::unique_ptr<Journal> journal;
  ASSERT_TRUE(Journal::Open(state_dir, &journal).ok());
  ASSERT_TRUE(journal->StartAttempt(1, Attempt("e.mp4", 1, 1, 0, 1050)).ok());
}

TEST(ClassifyAttemptTest, ReadsOutcomeTextLooselyAndTheOomFlagFirst) {
  AttemptRecord attempt = Attempt("k", 1, 1, 0, 10);
  EXPECT_EQ(ClassifyAttempt(attempt), AttemptClass::kRunning);
  struct Case {
    const char* outcome;
    AttemptClass expected;
  };
  for (const Case& c :
       {Case{"succeeded", AttemptClass::kSucceeded}, Case{"SUCCESS", AttemptClass::kSucceeded},
        Case{"failed", AttemptClass::kFailed}, Case{"NOT STARTED", AttemptClass::kFailed},
        Case{"TIMEOUT", AttemptClass::kTimedOut}, Case{"timed out", AttemptClass::kTimedOut},
        Case{"timed-out", AttemptClass::kTimedOut}, Case{"start-failed", AttemptClass::kFailed},
        Case{"oom", AttemptClass::kOom}, Case{"interrupted", AttemptClass::kInterrupted}}) {
    EXPECT_EQ(ClassifyAttempt(Ended(attempt, 20, 0, c.outcome)), c.expected) << c.outcome;
  }
  AttemptRecord oom = Ended(attempt, 20, 1, "failed");
  oom.oom = true;
  EXPECT_EQ(ClassifyAttempt(oom), AttemptClass::kOom);
  // Resume marks the attempts a killed headroom left open as interrupted.
  attempt.outcome = "interrupted";
  EXPECT_EQ(ClassifyAttempt(attempt), AttemptClass::kInterrupted);
  EXPECT_EQ(AttemptClassName(AttemptClass::kTimedOut), "timeout");
}

TEST(BuildReportTest, FinishedBatchTotalsAndJobTimings) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  BatchReport report = ReportOf(dir.path(), 5000);
  EXPECT_EQ(report.state, BatchRunState::kFinished);
  EXPECT_DOUBLE_EQ(report.elapsed_seconds, 70);
  EXPECT_EQ(report.counts.at(JobState::kSucceeded), 2);
  EXPECT_EQ(report.counts.at(JobState::kFailed), 1);
  EXPECT_EQ(report.counts.at(JobState::kSkipped), 1);
  EXPECT_EQ(report.counts.at(JobState::kQueued), 1);
  EXPECT_EQ(report.counts.at(JobState::kRunning), 0);
  EXPECT_EQ(report.attempts, 4);
  EXPECT_EQ(report.retries, 1);
  EXPECT_EQ(report.oom_attempts, 1);
  EXPECT_EQ(report.oom_retries, 1);
  EXPECT_EQ(report.waiting, "slots");

  ASSERT_EQ(report.jobs.size(), 5u);
  const JobTiming& a = report.jobs[0];
  EXPECT_EQ(a.job.name, "a.mp4");
  EXPECT_EQ(a.queue_wait, 10);
  EXPECT_DOUBLE_EQ(a.run_seconds, 20);
  EXPECT_DOUBLE_EQ(a.retry_wait_seconds, 0);
  EXPECT_EQ(a.peak_vram, 2 * kGiB);
  EXPECT_EQ(a.peak_rss, kGiB);
  const JobTiming& b = report.jobs[1];
  ASSERT_EQ(b.attempts.size(), 2u);
  EXPECT_EQ(b.attempts[0].attempt, 1);
  EXPECT_EQ(b.queue_wait, 5);
  EXPECT_DOUBLE_EQ(b.run_seconds, 23);
  EXPECT_DOUBLE_EQ(b.retry_wait_seconds, 32);  // 1005..1060 minus 23 s of running
  EXPECT_EQ(b.peak_vram, 5 * kGiB);
  EXPECT_FALSE(b.peak_rss);
  EXPECT_FALSE(report.jobs[3].queue_wait);  // skipped: never started
  EXPECT_DOUBLE_EQ(report.jobs[3].run_seconds, 0);

  EXPECT_EQ(report.throughput.finished, 3);
  EXPECT_DOUBLE_EQ(report.throughput.active_seconds, 55);
  ASSERT_TRUE(report.throughput.jobs_per_hour);
  EXPECT_NEAR(*report.throughput.jobs_per_hour, 3.0 / 55 * 3600, 1e-9);
  EXPECT_FALSE(report.throughput.eta_seconds);

  EXPECT_EQ(report.vram.measured, 2);
  EXPECT_EQ(report.vram.max, 5 * kGiB);
  EXPECT_EQ(report.vram.median, 2 * kGiB);
  EXPECT_EQ(report.vram.p90, 5 * kGiB);
  EXPECT_EQ(report.rss.measured, 1);
  EXPECT_EQ(report.rss.median, kGiB);
  EXPECT_EQ(report.peak_ram_used, 12 * kGiB);
  EXPECT_EQ(report.ram_total, 64 * kGiB);
}

TEST(BuildReportTest, PerGpuUseFromAttemptsSamplesAndLimitEvents) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  BatchReport report = ReportOf(dir.path(), 5000);
  ASSERT_EQ(report.gpus.size(), 2u);
  const GpuUsage& gpu0 = report.gpus[0];
  EXPECT_EQ(gpu0.index, 0);
  EXPECT_EQ(gpu0.attempts, 3);
  EXPECT_DOUBLE_EQ(gpu0.job_seconds, 43);
  EXPECT_DOUBLE_EQ(gpu0.busy_seconds, 43);
  EXPECT_EQ(gpu0.mean_utilization_pct, 75);
  EXPECT_EQ(gpu0.peak_utilization_pct, 100);
  EXPECT_EQ(gpu0.peak_used, 20 * kGiB);
  EXPECT_EQ(gpu0.total, 24 * kGiB);
  EXPECT_EQ(gpu0.peak_temperature_c, 70);
  EXPECT_EQ(gpu0.peak_job_vram, 5 * kGiB);
  EXPECT_EQ(gpu0.limit, 2);
  EXPECT_EQ(gpu0.limit_changes, 2);
  const GpuUsage& gpu1 = report.gpus[1];
  EXPECT_EQ(gpu1.index, 1);
  EXPECT_EQ(gpu1.attempts, 1);
  EXPECT_DOUBLE_EQ(gpu1.busy_seconds, 2);
  EXPECT_FALSE(gpu1.peak_used);
  EXPECT_FALSE(gpu1.mean_utilization_pct);
  EXPECT_FALSE(gpu1.limit);
}

TEST(BuildReportTest, RunningBatchCountsOpenAttemptsToNowAndHasAnEta) {
  TempDir dir;
  WriteSampleBatch(dir.path(), /*end=*/false);
  StartE(dir.path());
  std::unique_ptr<BatchLock> lock;
  ASSERT_TRUE(BatchLock::Acquire(dir.path(), 1, &lock).ok());
  BatchReport report = ReportOf(dir.path(), 1080);
  EXPECT_EQ(report.state, BatchRunState::kRunning);
  EXPECT_DOUBLE_EQ(report.elapsed_seconds, 80);
  EXPECT_EQ(report.counts.at(JobState::kRunning), 1);
  EXPECT_DOUBLE_EQ(report.jobs[4].run_seconds, 30);
  // e.mp4 overlaps b.mp4's second attempt on gpu 0: busy time is the union.
  EXPECT_DOUBLE_EQ(report.gpus[0].job_seconds, 73);
  EXPECT_DOUBLE_EQ(report.gpus[0].busy_seconds, 3 + 20 + 40);
  EXPECT_DOUBLE_EQ(report.throughput.active_seconds, 75);
  ASSERT_TRUE(report.throughput.eta_seconds);
  EXPECT_NEAR(*report.throughput.eta_seconds, 25, 1e-9);  // 1 left at 3 per 75 s
}

TEST(BuildReportTest, TheEtaIsTheSchedulersLatestEstimateLessTheTimeSince) {
  TempDir dir;
  WriteSampleBatch(dir.path(), /*end=*/false);
  StartE(dir.path());
  {
    std::unique_ptr<Journal> journal;
    ASSERT_TRUE(Journal::Open(dir.path(), &journal).ok());
    for (auto [t, ms] : {std::pair<double, int64_t>{1060, 90000}, {1070, 12000}}) {
      EventRecord eta;
      eta.t = t;
      eta.kind = "eta";
      eta.value = ms;
      ASSERT_TRUE(journal->AddEvent(1, eta).ok());
    }
  }
  std::unique_ptr<BatchLock> lock;
  ASSERT_TRUE(BatchLock::Acquire(dir.path(), 1, &lock).ok());
  // 12 s estimated at 1070, read at 1080: 2 s (not the rate's 25 s).
  BatchReport report = ReportOf(dir.path(), 1080);
  ASSERT_TRUE(report.throughput.eta_seconds);
  EXPECT_NEAR(*report.throughput.eta_seconds, 2, 1e-9);
  // Past it: 0, not negative.
  report = ReportOf(dir.path(), 1090);
  ASSERT_TRUE(report.throughput.eta_seconds);
  EXPECT_DOUBLE_EQ(*report.throughput.eta_seconds, 0);
}

// A batch resumed long after it was killed: the throughput counts the time
// its runs spent, not the downtime between them.
TEST(BuildReportTest, ThroughputOfAResumedBatchLeavesOutTheDowntime) {
  TempDir dir;
  WriteSampleBatch(dir.path(), /*end=*/false);  // attempts from 1005 to 1060
  {
    std::unique_ptr<Journal> journal;
    ASSERT_TRUE(Journal::Open(dir.path(), &journal).ok());
    EventRecord resumed;
    resumed.t = 5000;
    resumed.kind = "resumed";
    resumed.text = "resumed by pid 7";
    ASSERT_TRUE(journal->AddEvent(1, resumed).ok());
    ASSERT_TRUE(journal->StartAttempt(1, Attempt("e.mp4", 1, 1, 0, 5010)).ok());
  }
  std::unique_ptr<BatchLock> lock;
  ASSERT_TRUE(BatchLock::Acquire(dir.path(), 1, &lock).ok());
  BatchReport report = ReportOf(dir.path(), 5030);
  EXPECT_EQ(report.state, BatchRunState::kRunning);
  // 1005-1060, then from the resume's first start to now.
  EXPECT_DOUBLE_EQ(report.throughput.active_seconds, 55 + 20);
  ASSERT_TRUE(report.throughput.eta_seconds);
  EXPECT_NEAR(*report.throughput.eta_seconds, 25, 1e-9);  // 1 left at 3 per 75 s
  EXPECT_DOUBLE_EQ(report.elapsed_seconds, 4030);              // the wall clock, downtime and all
}

TEST(BuildReportTest, KilledBatchEndsWhereItsJournalStops) {
  TempDir dir;
  WriteSampleBatch(dir.path(), /*end=*/false);
  StartE(dir.path());
  BatchReport report = ReportOf(dir.path(), 99999);
  EXPECT_EQ(report.state, BatchRunState::kStopped);
  EXPECT_DOUBLE_EQ(report.elapsed_seconds, 60);  // the last thing recorded: 1060
  EXPECT_DOUBLE_EQ(report.jobs[4].run_seconds, 10);
  EXPECT_FALSE(report.throughput.eta_seconds);
}

TEST(ReportJsonTest, HasTheDocumentedFields) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  std::string text = ReportJson(ReportOf(dir.path(), 5000));
  ASSERT_EQ(text.back(), '\n');
  nlohmann::json json = nlohmann::json::parse(text);
  EXPECT_EQ(json["report_version"], 1);
  EXPECT_EQ(json["generated_at"], 5000);
  EXPECT_EQ(json["batch"]["id"], 1);
  EXPECT_EQ(json["batch"]["state"], "finished");
  EXPECT_EQ(json["batch"]["exit_code"], 1);
  EXPECT_EQ(json["batch"]["elapsed_s"], 70);
  EXPECT_EQ(json["batch"]["options"]["jobs"], 3);
  EXPECT_EQ(json["totals"]["jobs"], 5);
  EXPECT_EQ(json["totals"]["succeeded"], 2);
  EXPECT_EQ(json["totals"]["queued"], 1);
  EXPECT_EQ(json["totals"]["retries"], 1);
  EXPECT_EQ(json["totals"]["oom_retries"], 1);
  EXPECT_EQ(json["throughput"]["jobs_finished"], 3);
  EXPECT_EQ(json["throughput"]["jobs_per_hour"], 196.4);
  EXPECT_TRUE(json["throughput"]["eta_s"].is_null());
  ASSERT_EQ(json["gpus"].size(), 2u);
  EXPECT_EQ(json["gpus"][0]["busy_s"], 43);
  EXPECT_EQ(json["gpus"][0]["peak_memory_used"], 20 * kGiB);
  EXPECT_EQ(json["gpus"][0]["limit"], 2);
  EXPECT_EQ(json["host"]["peak_ram_used"], 12 * kGiB);
  EXPECT_EQ(json["footprints"]["vram"]["max"], 5 * kGiB);
  EXPECT_EQ(json["footprints"]["rss"]["jobs_measured"], 1);
  ASSERT_EQ(json["limits"].size(), 2u);
  EXPECT_EQ(json["limits"][1]["reason"], "gpu0 limit 4 -> 2: out of memory");
  EXPECT_EQ(json["limits"][1]["gpu"], 0);
  ASSERT_EQ(json["jobs"].size(), 5u);
  const nlohmann::json& b = json["jobs"][1];
  EXPECT_EQ(b["name"], "b.mp4");
  EXPECT_EQ(b["state"], "succeeded");
  EXPECT_EQ(b["queue_wait_s"], 5);
  EXPECT_EQ(b["run_s"], 23);
  EXPECT_EQ(b["retry_wait_s"], 32);
  ASSERT_EQ(b["attempts"].size(), 2u);
  EXPECT_EQ(b["attempts"][0]["class"], "oom");
  EXPECT_EQ(b["attempts"][0]["oom"], true);
  EXPECT_EQ(b["attempts"][0]["gpu"], 0);
  EXPECT_EQ(b["attempts"][0]["exit_code"], 1);
  EXPECT_TRUE(b["attempts"][0]["signal"].is_null());
  EXPECT_EQ(b["attempts"][1]["class"], "succeeded");
  EXPECT_EQ(b["attempts"][1]["peak_vram"], 5 * kGiB);
  EXPECT_EQ(b["attempts"][1]["stderr_log"], "b.mp4.err");
  EXPECT_TRUE(json["jobs"][3]["queue_wait_s"].is_null());
  EXPECT_TRUE(json["jobs"][3]["attempts"].empty());
  // "vram gpu0" from 1001 to "slots" at 1011, slots to the end.
  ASSERT_EQ(json["waits"].size(), 2u);
  EXPECT_EQ(json["waits"][0]["reason"], "vram");
  EXPECT_EQ(json["waits"][0]["device"], 0);
  EXPECT_EQ(json["waits"][0]["start"], 1001);
  EXPECT_EQ(json["waits"][0]["end"], 1011);
  EXPECT_EQ(json["waits"][1]["reason"], "slots");
  EXPECT_TRUE(json["waits"][1]["device"].is_null());
  EXPECT_EQ(json["waits"][1]["end"], 1070);
  EXPECT_EQ(json["gpus"][0]["most_at_once"], 1);
  EXPECT_EQ(json["gpus"][0]["median_job_vram"], 2 * kGiB);
  EXPECT_EQ(json["summary"], "Held 10.0s by gpu0's memory; gpu0 fit 1 × 2.0 GiB.");
}

TEST(ReportSentenceTest, SaysWhatHeldTheQueueLongestAndHowTheGpusWerePacked) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  BatchData data;
  ASSERT_TRUE(LoadBatchData(dir.path(), std::nullopt, &data).ok());
  data.batch.options_json =
      R"({"vram_high": {"value": "0.85"}, "temp_warm": {"value": "70"}})";
  // Two jobs on gpu 0 at once, and more gates than the sentence names.
  data.attempts.push_back(journal_test::Attempt("e.mp4", 1, 1, 0, 1041));
  data.attempts.back().end = 1042;
  for (auto [t, text] : std::vector<std::pair<double, std::string>>{
           {1020, "learning memory use on gpu0 (first job)"},
           {1024, "temperature gpu0; ram"},
           {1030, "gpu1: 9.0 of 10.0 GiB used by other processes (pids 7)"},
           {1031, "retry-delay"},
           {1032, ""}}) {
    EventRecord event;
    event.t = t;
    event.kind = "waiting";
    event.text = text;
    data.events.push_back(event);
  }
  BatchReport report = BuildReport(data, 5000);
  EXPECT_EQ(ReportSentence(report),
            "Held 10.0s by gpu0's memory, 6.0s by host RAM, 6.0s by gpu0 above 70 °C (and 3 "
            "more); gpu0 fit 2 × 2.0 GiB under 85 %.");  // ties by name
  EXPECT_DOUBLE_EQ(report.waited.at("learning gpu0").seconds, 4);
  EXPECT_DOUBLE_EQ(report.waited.at("slots").seconds, 9);  // 1011-1020

  // Only the slots held it: said so.
  data.events.clear();
  data.events.push_back(EventRecord{1001, "waiting", -1, 0, "slots"});
  data.attempts.clear();
  EXPECT_EQ(ReportSentence(BuildReport(data, 5000)),
            "Nothing but the slots (-j) held the queue (every slot busy for 1m09s).");
  data.events.clear();
  EXPECT_EQ(ReportSentence(BuildReport(data, 5000)), "");
}

TEST(ReportJsonTest, NamesThatAreNotUtf8StillGiveValidJson) {
  TempDir dir;
  {
    std::unique_ptr<Journal> journal;
    ASSERT_TRUE(Journal::Open(dir.path(), &journal).ok());
    BatchRecord batch;
    batch.started_at = 1;
    batch.command_template = "cat {}";
    ASSERT_TRUE(journal->CreateBatch(&batch).ok());
    JobRecord job = journal_test::Job("bad\xff\"name\".mp4", 1);
    ASSERT_TRUE(journal->UpsertJobs(batch.id, {job}).ok());
  }
  std::string text = ReportJson(ReportOf(dir.path(), 10));
  nlohmann::json json = nlohmann::json::parse(text);
  EXPECT_EQ(json["jobs"][0]["name"], "bad\xEF\xBF\xBD\"name\".mp4");
  EXPECT_TRUE(json["batch"]["options"].is_null());
  EXPECT_TRUE(json["throughput"]["jobs_per_hour"].is_null());
  EXPECT_TRUE(json["gpus"].empty());
}

// --executor slurm: "placed" events say when each attempt began to run,
// "requested" ones what it asked for; the report turns them into queue
// waits and asked-against-used memory. Job a waited 3 s (its first attempt
// counts), b 1 s; a asked 2 GiB (its second attempt), b 1 GiB; both used
// 1 GiB.
TEST(BuildReportTest, SlurmQueueWaitsAndRequestedAgainstUsedMemory) {
  BatchData data;
  data.batch.id = 1;
  data.batch.started_at = 1000;
  data.batch.ended_at = 1100;
  data.batch.exit_code = 0;
  for (const char* key : {"a", "b", "c"}) {
    JobRecord job;
    job.key = key;
    job.name = key;
    job.number = static_cast<int64_t>(data.jobs.size()) + 1;
    job.state = JobState::kSucceeded;
    data.jobs.push_back(job);
  }
  AttemptRecord a1 = Ended(Attempt("a", 1, 1, -1, 1000), 1010, 1, "oom");
  a1.oom = true;
  AttemptRecord a2 = Ended(Attempt("a", 2, 1, -1, 1010), 1020, 0, "succeeded");
  a2.peak_rss = kGiB;
  AttemptRecord b1 = Ended(Attempt("b", 1, 2, -1, 1000), 1020, 0, "succeeded");
  b1.peak_rss = kGiB;
  data.attempts = {a1, b1, a2};
  auto event = [](double t, const char* kind, int64_t attempt, std::string text) {
    EventRecord e;
    e.t = t;
    e.kind = kind;
    e.value = attempt;
    e.text = std::move(text);
    return e;
  };
  data.events = {event(1000, "requested", 1, "a\t1073741824"),
                 event(1000, "requested", 1, "b\t1073741824"),
                 event(1000.5, "placed", 1, "a\tslurm 42_0 PENDING (Priority)"),
                 event(1001, "placed", 1, "b\tslurm 42_1 RUNNING on node7"),
                 event(1003, "placed", 1, "a\tslurm 42_0 RUNNING on node7"),
                 event(1005, "placed", 1, "a\tslurm 42_0 RUNNING on node8"),
                 event(1010, "requested", 2, "a\t2147483648"),
                 event(1015, "placed", 2, "a\tslurm 43 RUNNING on node7")};
  BatchReport report = BuildReport(data, 1200);
  ASSERT_EQ(report.jobs.size(), 3u);
  EXPECT_EQ(report.jobs[0].slurm_queue_wait, 3.0);
  EXPECT_EQ(report.jobs[0].requested_ram, 2 * kGiB);
  EXPECT_EQ(report.jobs[1].slurm_queue_wait, 1.0);
  EXPECT_FALSE(report.jobs[2].slurm_queue_wait) << "c never ran";
  EXPECT_EQ(report.slurm.queued, 2);
  EXPECT_EQ(report.slurm.queue_wait_mean, 2.0);
  EXPECT_EQ(report.slurm.queue_wait_max, 3.0);
  EXPECT_EQ(report.slurm.requested, 2);
  EXPECT_EQ(SlurmSummaryText(report.slurm),
            "queue wait 2.0s mean, 3.0s max; memory asked 1.5 GiB per job, used 1.0 GiB (peak "
            "RSS): 1.5x");
  nlohmann::json json = nlohmann::json::parse(ReportJson(report));
  EXPECT_EQ(json["slurm"]["queue_wait_max_s"], 3.0);
  EXPECT_EQ(json["slurm"]["requested_ram"], 3 * kGiB);
  EXPECT_EQ(json["jobs"][0]["slurm_queue_wait_s"], 3.0);
  EXPECT_EQ(json["jobs"][0]["requested_ram"], 2 * kGiB);

  BatchData local = data;
  local.events.clear();
  BatchReport plain = BuildReport(local, 1200);
  EXPECT_EQ(SlurmSummaryText(plain.slurm), "");
  EXPECT_FALSE(nlohmann::json::parse(ReportJson(plain)).contains("slurm"));
}

}  // namespace
}  // namespace headroom

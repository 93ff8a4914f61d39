#include "report/status_view.h"

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
using journal_test::kGiB;
using journal_test::WriteSampleBatch;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The sample batch still running at t = 1080: e.mp4 on gpu 0 since 1050, and
// a second attempt of c.mp4 (without a GPU) since 1070.
class StatusViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteSampleBatch(dir_.path(), /*end=*/false);
    std::unique_ptr<Journal> journal;
    ASSERT_TRUE(Journal::Open(dir_.path(), &journal).ok());
    ASSERT_TRUE(journal->StartAttempt(1, Attempt("e.mp4", 1, 1, 0, 1050)).ok());
    ASSERT_TRUE(journal->StartAttempt(1, Attempt("c.mp4", 2, 3, -1, 1070)).ok());
  }

  StatusView View(double now) {
    BatchData data;
    Status status = LoadBatchData(dir_.path(), std::nullopt, &data);
    EXPECT_TRUE(status.ok()) << status.message();
    return BuildStatusView(BuildReport(std::move(data), now));
  }

  TempDir dir_;
};

TEST_F(StatusViewTest, RunningBatchShowsRunningJobsGateFailuresAndSamples) {
  std::unique_ptr<BatchLock> lock;
  ASSERT_TRUE(BatchLock::Acquire(dir_.path(), 1, &lock).ok());
  StatusView view = View(1080);
  EXPECT_EQ(view.report.state, BatchRunState::kRunning);
  ASSERT_EQ(view.running.size(), 2u);
  EXPECT_EQ(view.running[0].name, "e.mp4");  // longest running first
  EXPECT_DOUBLE_EQ(view.running[0].elapsed_seconds, 30);
  EXPECT_EQ(view.running[0].gpu, 0);
  EXPECT_EQ(view.running[1].name, "c.mp4");
  EXPECT_EQ(view.running[1].attempt, 2);
  EXPECT_EQ(view.running[1].gpu, -1);
  EXPECT_EQ(view.running[1].slot, 3);
  EXPECT_EQ(view.waiting, "slots");
  ASSERT_EQ(view.last_failures.size(), 2u);
  EXPECT_EQ(view.last_failures[0].name, "c.mp4");  // ended 1012, after b.mp4's OOM at 1008
  EXPECT_EQ(view.last_failures[0].exit_code, 3);
  EXPECT_EQ(view.last_failures[0].stderr_log, "c.mp4.err");
  EXPECT_EQ(view.last_failures[1].name, "b.mp4");
  EXPECT_EQ(view.last_failures[1].attempt_class, AttemptClass::kOom);
  ASSERT_EQ(view.latest_samples.size(), 2u);
  EXPECT_EQ(view.latest_samples[0].gpu, -1);  // the host first
  EXPECT_EQ(view.latest_samples[0].used, 12 * kGiB);
  EXPECT_EQ(view.latest_samples[1].gpu, 0);
  EXPECT_EQ(view.latest_samples[1].t, 1050);

  std::string text = FormatStatusText(view);
  EXPECT_TRUE(Has(text, "batch 1: running (pid 4242 on box)")) << text;
  EXPECT_TRUE(Has(text, "  command: upscale {}\n")) << text;
  EXPECT_TRUE(Has(text, "jobs: 5 (2 succeeded, 1 skipped, 2 running)")) << text;
  EXPECT_TRUE(Has(text, "; 2 retries, 1 after running out of memory")) << text;
  // 2 finished (a, b) in 75 s: 96 jobs/h; 2 left: 75 s.
  EXPECT_TRUE(Has(text, "throughput: 1.6 jobs/min, ETA 1m15s\n")) << text;
  EXPECT_TRUE(Has(text, "waiting: slots\n")) << text;
  EXPECT_TRUE(Has(text, "running (2):\n     30.0s  attempt 1  gpu 0  slot 1  e.mp4\n")) << text;
  EXPECT_TRUE(Has(text, "attempt 2  no gpu  slot 3  c.mp4\n")) << text;
  EXPECT_TRUE(Has(text, "last failures:\n  c.mp4 (attempt 1): exit 3\n    log: c.mp4.err\n"))
      << text;
  EXPECT_TRUE(Has(text, "  b.mp4 (attempt 1): exit 1, out of memory\n")) << text;
  EXPECT_TRUE(Has(text, "ram:   12.0 GiB / 64.0 GiB  (30.0s ago)\n")) << text;
  EXPECT_TRUE(Has(text, "gpu 0: 20.0 GiB / 24.0 GiB, 70 C, 100% busy  (30.0s ago)\n")) << text;
}

TEST_F(StatusViewTest, KilledBatchSaysStoppedAndHowToResume) {
  StatusView view = View(1080);  // nobody holds the lock
  EXPECT_EQ(view.report.state, BatchRunState::kStopped);
  EXPECT_TRUE(view.running.empty());
  EXPECT_TRUE(view.waiting.empty());
  std::string text = FormatStatusText(view);
  EXPECT_EQ(text.rfind("batch 1: stopped (killed?) — resume with headroom run --resume\n", 0), 0u)
      << text;
  // What ran when it was killed runs no more.
  EXPECT_FALSE(Has(text, "2 running")) << text;
  EXPECT_TRUE(Has(text, "2 interrupted")) << text;
  EXPECT_EQ(view.report.counts.at(JobState::kRunning), 0);
  nlohmann::json json = nlohmann::json::parse(FormatStatusJson(view));
  EXPECT_EQ(json["state"], "stopped");
  EXPECT_EQ(json["hint"], "resume with headroom run --resume");
  EXPECT_TRUE(json["running"].empty());
}

TEST_F(StatusViewTest, JsonIsOneLineWithTheSameFigures) {
  std::unique_ptr<BatchLock> lock;
  ASSERT_TRUE(BatchLock::Acquire(dir_.path(), 1, &lock).ok());
  std::string line = FormatStatusJson(View(1080));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  nlohmann::json json = nlohmann::json::parse(line);
  EXPECT_EQ(json["batch"], 1);
  EXPECT_EQ(json["state"], "running");
  EXPECT_FALSE(json.contains("hint"));
  EXPECT_EQ(json["counts"]["total"], 5);
  EXPECT_EQ(json["counts"]["running"], 2);
  EXPECT_EQ(json["counts"]["queued"], 0);
  EXPECT_EQ(json["queue"], 0);
  EXPECT_EQ(json["oom_retries"], 1);
  EXPECT_DOUBLE_EQ(json["eta_s"].get<double>(), 75);
  EXPECT_EQ(json["waiting"], "slots");
  ASSERT_EQ(json["running"].size(), 2u);
  EXPECT_EQ(json["running"][0]["name"], "e.mp4");
  EXPECT_EQ(json["running"][0]["gpu"], 0);
  EXPECT_EQ(json["running"][0]["elapsed_s"], 30);
  EXPECT_TRUE(json["running"][1]["gpu"].is_null());
  ASSERT_EQ(json["last_failures"].size(), 2u);
  EXPECT_EQ(json["last_failures"][0]["stderr_log"], "c.mp4.err");
  EXPECT_EQ(json["last_failures"][1]["class"], "oom");
  ASSERT_EQ(json["samples"].size(), 2u);
  EXPECT_TRUE(json["samples"][0]["gpu"].is_null());
  EXPECT_EQ(json["samples"][1]["temperature_c"], 70);
}

TEST(StatusTextTest, FinishedBatchAndControlCharactersInNames) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  {
    std::unique_ptr<Journal> journal;
    ASSERT_TRUE(Journal::Open(dir.path(), &journal).ok());
    AttemptRecord attempt = Attempt("e.mp4", 1, 1, 0, 1060);
    attempt.stderr_log = "logs/e\x1b]0;pwned\x07.err";
    ASSERT_TRUE(journal->StartAttempt(1, attempt).ok());
    ASSERT_TRUE(journal->EndAttempt(1, journal_test::Ended(attempt, 1065, 2, "TIMEOUT")).ok());
  }
  std::string text;
  ASSERT_TRUE(RenderStatus(dir.path(), std::nullopt, false, 9999, &text).ok());
  EXPECT_TRUE(Has(text, "batch 1: finished, exit 1, took 1m10s")) << text;
  EXPECT_FALSE(Has(text, "running (")) << text;
  EXPECT_FALSE(Has(text, "waiting:")) << text;
  EXPECT_TRUE(Has(text, "  e.mp4 (attempt 1): exit 2, timed out\n    log: logs/e?]0;pwned?.err\n"))
      << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  std::string json;
  ASSERT_TRUE(RenderStatus(dir.path(), 1, true, 9999, &json).ok());
  EXPECT_EQ(json.back(), '\n');
  EXPECT_EQ(nlohmann::json::parse(json)["state"], "finished");
}

TEST(StatusTextTest, MissingJournalIsTheLoadError) {
  TempDir dir;
  std::string text;
  Status status = RenderStatus(dir.File("nothing"), std::nullopt, false, 0, &text);
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(Has(status.message(), "no such file")) << status.message();
}

}  // namespace
}  // namespace headroom

#include "report/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace headroom {
namespace {

using std::chrono::milliseconds;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

// The families every rendering has, in order, with no samples.
const char kEmptyScheduler[] =
    "# HELP headroom_retries_total Attempts that were retried, by cause.\n"
    "# TYPE headroom_retries_total counter\n"
    "headroom_retries_total{cause=\"oom\"} 0\n"
    "headroom_retries_total{cause=\"failure\"} 0\n"
    "# HELP headroom_concurrency_limit Jobs of the batch a GPU may run at once; lowered after "
    "out of memory.\n"
    "# TYPE headroom_concurrency_limit gauge\n"
    "# HELP headroom_wait_seconds_total Seconds each gate held the queue while jobs waited to "
    "start.\n"
    "# TYPE headroom_wait_seconds_total counter\n";

const char kEmptyMachine[] =
    "# HELP headroom_gpu_info Each GPU: its index, UUID and name.\n"
    "# TYPE headroom_gpu_info gauge\n"
    "# HELP headroom_gpu_memory_used_bytes GPU memory in use, by any process.\n"
    "# TYPE headroom_gpu_memory_used_bytes gauge\n"
    "# HELP headroom_gpu_memory_total_bytes GPU memory size.\n"
    "# TYPE headroom_gpu_memory_total_bytes gauge\n"
    "# HELP headroom_gpu_temperature_celsius GPU temperature.\n"
    "# TYPE headroom_gpu_temperature_celsius gauge\n"
    "# HELP headroom_gpu_utilization_ratio Fraction of the last sample period the GPU was busy "
    "(0 to 1).\n"
    "# TYPE headroom_gpu_utilization_ratio gauge\n"
    "# HELP headroom_host_memory_total_bytes System RAM (MemTotal, or the cgroup limit when "
    "lower).\n"
    "# TYPE headroom_host_memory_total_bytes gauge\n"
    "# HELP headroom_host_memory_available_bytes System RAM available (MemAvailable, within the "
    "cgroup limit).\n"
    "# TYPE headroom_host_memory_available_bytes gauge\n"
    "# HELP headroom_slurm_jobs The batch's Slurm jobs in Slurm's queue, by Slurm's state "
    "(--executor slurm).\n"
    "# TYPE headroom_slurm_jobs gauge\n"
    "# HELP headroom_slurm_queue_wait_seconds Time from submission to RUNNING of each Slurm job "
    "(--executor slurm).\n"
    "# TYPE headroom_slurm_queue_wait_seconds summary\n"
    "headroom_slurm_queue_wait_seconds_sum 0\n"
    "headroom_slurm_queue_wait_seconds_count 0\n"
    "# HELP headroom_slurm_submit_errors_total Submissions Slurm refused (sbatch's rejections; "
    "--executor slurm).\n"
    "# TYPE headroom_slurm_submit_errors_total counter\n"
    "headroom_slurm_submit_errors_total 0\n";

// The lines of `text` from the first that starts with `from` up to the
// next that starts with `to` (or the end when `to` is empty).
std::string Section(const std::string& text, const std::string& from, const std::string& to) {
  size_t begin = text.find("\n" + from);
  if (begin == std::string::npos) return "";
  ++begin;
  size_t end = to.empty() ? std::string::npos : text.find("\n" + to, begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end + 1 - begin);
}

TEST(RenderMetricsTest, EmptyStateHasEveryFamilyAndOnlyKnownSamples) {
  std::string expected =
      "# HELP headroom_build_info The headroom serving these metrics: its version.\n"
      "# TYPE headroom_build_info gauge\n"
      "headroom_build_info{version=\"" HEADROOM_VERSION "\"} 1\n"
      "# HELP headroom_batch_info The batch: its id in the journal and its command.\n"
      "# TYPE headroom_batch_info gauge\n"
      "headroom_batch_info{batch=\"\",command=\"\"} 1\n"
      "# HELP headroom_eta_seconds Seconds until the batch is done, as the progress line "
      "estimates it.\n"
      "# TYPE headroom_eta_seconds gauge\n"
      "# HELP headroom_jobs Jobs of the batch by state.\n"
      "# TYPE headroom_jobs gauge\n"
      "headroom_jobs{state=\"queued\"} 0\n"
      "headroom_jobs{state=\"running\"} 0\n"
      "headroom_jobs{state=\"succeeded\"} 0\n"
      "headroom_jobs{state=\"failed\"} 0\n"
      "headroom_jobs{state=\"skipped\"} 0\n"
      "headroom_jobs{state=\"interrupted\"} 0\n"
      "# HELP headroom_jobs_finished_total Jobs that finished, by outcome.\n"
      "# TYPE headroom_jobs_finished_total counter\n"
      "headroom_jobs_finished_total{outcome=\"succeeded\"} 0\n"
      "headroom_jobs_finished_total{outcome=\"failed\"} 0\n"
      "headroom_jobs_finished_total{outcome=\"skipped\"} 0\n"
      "headroom_jobs_finished_total{outcome=\"interrupted\"} 0\n"
      "# HELP headroom_job_duration_seconds Wall time of each attempt that ran, retried ones "
      "included.\n"
      "# TYPE headroom_job_duration_seconds histogram\n"
      "headroom_job_duration_seconds_bucket{le=\"0.1\"} 0\n"
      "headroom_job_duration_seconds_bucket{le=\"0.5\"} 0\n"
      "headroom_job_duration_seconds_bucket{le=\"1\"} 0\n"
      "headroom_job_duration_seconds_bucket{le=\"5\"} 0\n"
      "headroom_job_duration_seconds_bucket{le=\"10\"} 0\n"
      "headroom_job_duration_seconds_bucket{le=\"30\"} 0\n"
      "headroom_job_duration_seconds_bucket{le=\"60\"} 0\n"
      "headroom_job_duration_seconds_bucket{le=\"300\"} 0\n"
      "headroom_job_duration_seconds_bucket{le=\"900\"} 0\n"
      "headroom_job_duration_seconds_bucket{le=\"3600\"} 0\n"
      "headroom_job_duration_seconds_bucket{le=\"+Inf\"} 0\n"
      "headroom_job_duration_seconds_sum 0\n"
      "headroom_job_duration_seconds_count 0\n" +
      std::string(kEmptyScheduler) + kEmptyMachine;
  EXPECT_EQ(RenderMetrics(MetricsState()), expected);
}

TEST(RenderMetricsTest, FullState) {
  MetricsState s;
  s.counts.total = 10;
  s.counts.succeeded = 3;
  s.counts.failed = 1;
  s.counts.skipped = 2;
  s.counts.interrupted = 0;
  s.counts.running = 2;
  s.duration_buckets = {1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1};
  s.duration_sum = 4000.25;
  s.duration_count = 4;
  s.oom_retries = 2;
  s.failure_retries = 5;
  s.concurrency_limits = {{0, 4}, {1, 2}};
  s.wait_seconds = {{"slots", 1.5}, {"vram", 12}};
  SystemSnapshot host;
  host.memory_total = 64ull << 30;
  host.memory_available = 1234567;
  s.host = host;
  GpuDevice a;
  a.index = 0;
  a.name = "NVIDIA H200";
  a.uuid = "GPU-5b1c7b2a";
  a.memory_total = 150ull << 30;
  a.memory_used = 1000;
  a.temperature_c = 61;
  a.utilization_pct = 87;
  GpuDevice b;  // no temperature or utilization reading
  b.index = 1;
  b.name = "odd \"name\"\\x";
  b.memory_total = 2000;
  b.memory_used = 0;
  s.gpus = {a, b};
  s.batch = "3";
  s.command = "upscale {}";
  s.eta_seconds = 12.5;

  std::string text = RenderMetrics(s);
  EXPECT_EQ(Section(text, "headroom_batch_info{", "# HELP headroom_eta"),
            "headroom_batch_info{batch=\"3\",command=\"upscale {}\"} 1\n");
  EXPECT_EQ(Section(text, "headroom_eta_seconds ", "# HELP headroom_jobs "), "headroom_eta_seconds 12.5\n");
  EXPECT_EQ(Section(text, "headroom_jobs_finished_total{", "# HELP headroom_job_duration"),
            "headroom_jobs_finished_total{outcome=\"succeeded\"} 3\n"
            "headroom_jobs_finished_total{outcome=\"failed\"} 1\n"
            "headroom_jobs_finished_total{outcome=\"skipped\"} 2\n"
            "headroom_jobs_finished_total{outcome=\"interrupted\"} 0\n");
  EXPECT_EQ(Section(text, "headroom_gpu_info{", "# HELP headroom_gpu_memory_used"),
            "headroom_gpu_info{gpu=\"0\",uuid=\"GPU-5b1c7b2a\",name=\"NVIDIA H200\"} 1\n"
            "headroom_gpu_info{gpu=\"1\",uuid=\"\",name=\"odd \\\"name\\\"\\\\x\"} 1\n");
  EXPECT_EQ(Section(text, "headroom_jobs{", "# HELP headroom_jobs_finished"),
            "headroom_jobs{state=\"queued\"} 2\n"
            "headroom_jobs{state=\"running\"} 2\n"
            "headroom_jobs{state=\"succeeded\"} 3\n"
            "headroom_jobs{state=\"failed\"} 1\n"
            "headroom_jobs{state=\"skipped\"} 2\n"
            "headroom_jobs{state=\"interrupted\"} 0\n");
  EXPECT_EQ(Section(text, "headroom_job_duration_seconds_bucket", "# HELP headroom_retries"),
            "headroom_job_duration_seconds_bucket{le=\"0.1\"} 1\n"
            "headroom_job_duration_seconds_bucket{le=\"0.5\"} 1\n"
            "headroom_job_duration_seconds_bucket{le=\"1\"} 3\n"
            "headroom_job_duration_seconds_bucket{le=\"5\"} 3\n"
            "headroom_job_duration_seconds_bucket{le=\"10\"} 3\n"
            "headroom_job_duration_seconds_bucket{le=\"30\"} 3\n"
            "headroom_job_duration_seconds_bucket{le=\"60\"} 3\n"
            "headroom_job_duration_seconds_bucket{le=\"300\"} 3\n"
            "headroom_job_duration_seconds_bucket{le=\"900\"} 3\n"
            "headroom_job_duration_seconds_bucket{le=\"3600\"} 3\n"
            "headroom_job_duration_seconds_bucket{le=\"+Inf\"} 4\n"
            "headroom_job_duration_seconds_sum 4000.25\n"
            "headroom_job_duration_seconds_count 4\n");
  EXPECT_EQ(Section(text, "headroom_retries_total{", "# HELP headroom_concurrency"),
            "headroom_retries_total{cause=\"oom\"} 2\n"
            "headroom_retries_total{cause=\"failure\"} 5\n");
  EXPECT_EQ(Section(text, "headroom_concurrency_limit{", "# HELP headroom_wait"),
            "headroom_concurrency_limit{gpu=\"0\"} 4\n"
            "headroom_concurrency_limit{gpu=\"1\"} 2\n");
  EXPECT_EQ(Section(text, "headroom_wait_seconds_total{", "# HELP headroom_gpu"),
            "headroom_wait_seconds_total{gate=\"slots\"} 1.5\n"
            "headroom_wait_seconds_total{gate=\"vram\"} 12\n");
  EXPECT_EQ(Section(text, "headroom_gpu_memory_used_bytes{", "# HELP headroom_gpu_memory_total"),
            "headroom_gpu_memory_used_bytes{gpu=\"0\",uuid=\"GPU-5b1c7b2a\"} 1000\n"
            "headroom_gpu_memory_used_bytes{gpu=\"1\",uuid=\"\"} 0\n");
  EXPECT_EQ(Section(text, "headroom_gpu_memory_total_bytes{", "# HELP headroom_gpu_temp"),
            "headroom_gpu_memory_total_bytes{gpu=\"0\",uuid=\"GPU-5b1c7b2a\"} 161061273600\n"
            "headroom_gpu_memory_total_bytes{gpu=\"1\",uuid=\"\"} 2000\n");
  // Unknown readings have no sample, never 0.
  EXPECT_EQ(Section(text, "headroom_gpu_temperature_celsius{", "# HELP headroom_gpu_util"),
            "headroom_gpu_temperature_celsius{gpu=\"0\",uuid=\"GPU-5b1c7b2a\"} 61\n");
  EXPECT_EQ(Section(text, "headroom_gpu_utilization_ratio{", "# HELP headroom_host"),
            "headroom_gpu_utilization_ratio{gpu=\"0\",uuid=\"GPU-5b1c7b2a\"} 0.87\n");
  EXPECT_EQ(Section(text, "headroom_host_memory_total_bytes ", "# HELP headroom_host_memory_av"),
            "headroom_host_memory_total_bytes 68719476736\n");
  EXPECT_EQ(Section(text, "headroom_host_memory_available_bytes ", "# HELP headroom_slurm"),
            "headroom_host_memory_available_bytes 1234567\n");
}

TEST(RenderMetricsTest, NewlineInLabelIsEscaped) {
  MetricsState s;
  GpuDevice d;
  d.name = "a\nb";
  s.gpus = {d};
  EXPECT_NE(RenderMetrics(s).find("name=\"a\\nb\"} 1\n"), std::string::npos);
}

class MetricsTest : public ::testing::Test {
 protected:
  Job job_;
  Metrics metrics_;
};

TEST_F(MetricsTest, KeepsTheLatestCounts) {
  Counts c;
  c.total = 5;
  c.skipped = 1;
  metrics_.OnBatchStart(c, kT0);
  EXPECT_EQ(metrics_.State().counts.total, 5);
  c.running = 2;
  metrics_.OnJobStart(job_, AttemptStart{}, c);
  EXPECT_EQ(metrics_.State().counts.running, 2);
  c.running = 1;
  c.succeeded = 1;
  metrics_.OnJobEnd(job_, AttemptEnd{}, c);
  EXPECT_EQ(metrics_.State().counts.succeeded, 1);
  EXPECT_NE(metrics_.Render().find("headroom_jobs{state=\"queued\"} 2\n"), std::string::npos);
}

TEST_F(MetricsTest, DurationsGoInTheirBucketsExceptStartFailures) {
  Counts c;
  AttemptEnd end;
  for (double seconds : {0.05, 0.1, 0.7, 7200.0}) {
    end.wall_seconds = seconds;
    metrics_.OnJobEnd(job_, end, c);
  }
  end.outcome = Outcome::kStartFailed;
  end.wall_seconds = 0;
  metrics_.OnJobEnd(job_, end, c);
  MetricsState s = metrics_.State();
  // le is inclusive: 0.1 counts in the 0.1 bucket.
  EXPECT_EQ(s.duration_buckets, (std::vector<uint64_t>{2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(s.duration_count, 4u);
  EXPECT_DOUBLE_EQ(s.duration_sum, 7200.85);
}

// --executor slurm: the executor's word on each attempt ("slurm 42_3
// RUNNING on node7") counts it by state; from its start to RUNNING is its
// queue wait, at the ticks' resolution; a refused submission is an error.
TEST_F(MetricsTest, SlurmJobsByStateQueueWaitsAndSubmitErrors) {
  Counts c;
  Job a = job_, b = job_;
  a.number = 1;
  b.number = 2;
  metrics_.OnBatchStart(c, kT0);
  metrics_.OnTick(c, kT0, "");
  metrics_.OnJobStart(a, AttemptStart{}, c);
  metrics_.OnJobStart(b, AttemptStart{}, c);
  metrics_.OnJobPlaced(a, 1, "slurm 42_0 PENDING (Priority)");
  metrics_.OnJobPlaced(b, 1, "slurm 42_1 PENDING (Resources)");
  EXPECT_EQ(metrics_.State().slurm_jobs, (std::map<std::string, int64_t>{{"PENDING", 2}}));
  metrics_.OnTick(c, kT0 + milliseconds(1500), "");
  metrics_.OnJobPlaced(a, 1, "slurm 42_0 RUNNING on node7");
  metrics_.OnJobPlaced(a, 1, "slurm 42_0 RUNNING on node8");  // counted once
  MetricsState s = metrics_.State();
  EXPECT_EQ(s.slurm_jobs, (std::map<std::string, int64_t>{{"PENDING", 1}, {"RUNNING", 1}}));
  EXPECT_DOUBLE_EQ(s.slurm_queue_wait_sum, 1.5);
  EXPECT_EQ(s.slurm_queue_wait_count, 1u);
  AttemptEnd end;
  metrics_.OnJobEnd(a, end, c);
  end.outcome = Outcome::kStartFailed;
  end.error = "sbatch: error: Batch job submission failed: Invalid partition name specified";
  metrics_.OnJobEnd(b, end, c);
  s = metrics_.State();
  EXPECT_TRUE(s.slurm_jobs.empty());
  EXPECT_EQ(s.slurm_submit_errors, 1);
  metrics_.OnJobPlaced(a, 2, "local");  // not Slurm's word: nothing
  EXPECT_TRUE(metrics_.State().slurm_jobs.empty());
  EXPECT_NE(metrics_.Render().find("headroom_slurm_submit_errors_total 1\n"), std::string::npos);
}

TEST_F(MetricsTest, RetriesByCause) {
  Counts c;
  AttemptEnd end;
  end.outcome = Outcome::kFailed;
  end.will_retry = true;
  metrics_.OnJobEnd(job_, end, c);
  end.out_of_memory = true;
  metrics_.OnJobEnd(job_, end, c);
  metrics_.OnJobEnd(job_, end, c);
  end.will_retry = false;  // failed for good: not a retry
  metrics_.OnJobEnd(job_, end, c);
  MetricsState s = metrics_.State();
  EXPECT_EQ(s.failure_retries, 1);
  EXPECT_EQ(s.oom_retries, 2);
}

TEST_F(MetricsTest, WaitTimeGoesToTheGatesOfThePreviousTick) {
  Counts c;
  metrics_.OnBatchStart(c, kT0);
  metrics_.OnTick(c, kT0, "slots");
  metrics_.OnTick(c, kT0 + milliseconds(250), "vram gpu0; temperature gpu1");
  metrics_.OnTick(c, kT0 + milliseconds(1250), "");
  metrics_.OnTick(c, kT0 + milliseconds(5000), "vram gpu0");
  metrics_.OnBatchEnd(c, kT0 + milliseconds(5500));
  MetricsState s = metrics_.State();
  EXPECT_EQ(s.wait_seconds.size(), 3u);
  EXPECT_DOUBLE_EQ(s.wait_seconds["slots"], 0.25);
  EXPECT_DOUBLE_EQ(s.wait_seconds["vram"], 1.5);
  EXPECT_DOUBLE_EQ(s.wait_seconds["temperature"], 1.0);
}

TEST_F(MetricsTest, TheEtaIsTheSchedulersAndZeroOnceTheBatchIsDone) {
  Counts c;
  metrics_.OnBatchStart(c, kT0);
  metrics_.OnTick(c, kT0, "");
  EXPECT_FALSE(metrics_.State().eta_seconds);  // no duration known yet
  c.eta_seconds = 42.5;
  metrics_.OnTick(c, kT0 + milliseconds(100), "");
  EXPECT_EQ(metrics_.State().eta_seconds, 42.5);
  metrics_.OnBatchEnd(c, kT0 + milliseconds(200));
  EXPECT_EQ(metrics_.State().eta_seconds, 0.0);  // what lingers after the end
  c.not_started = 3;  // stopped early: no estimate
  metrics_.OnBatchEnd(c, kT0 + milliseconds(300));
  EXPECT_FALSE(metrics_.State().eta_seconds);
}

TEST_F(MetricsTest, SnapshotAndLimits) {
  Snapshot snapshot;
  snapshot.system.memory_total = 100;
  snapshot.system.memory_available = 40;
  GpuDevice d;
  d.index = 3;
  d.name = "Sim";
  d.processes.push_back(GpuProcess{42, 10, 42});
  snapshot.gpus = {d};
  EXPECT_FALSE(metrics_.State().host.has_value());
  metrics_.OnSnapshot(snapshot);
  metrics_.OnLimitChange(3, 8, "");
  metrics_.OnLimitChange(3, 4, "gpu3 limit 8 -> 4: out of memory");
  MetricsState s = metrics_.State();
  ASSERT_TRUE(s.host.has_value());
  EXPECT_EQ(s.host->memory_available, 40u);
  ASSERT_EQ(s.gpus.size(), 1u);
  EXPECT_EQ(s.gpus[0].index, 3);
  EXPECT_TRUE(s.gpus[0].processes.empty());
  EXPECT_EQ(s.concurrency_limits, (std::map<int, int>{{3, 4}}));
}

// Render() runs on the server's threads while the scheduler updates.
TEST_F(MetricsTest, RenderWhileUpdating) {
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) EXPECT_EQ(metrics_.Render().rfind("# HELP headroom_build_info ", 0), 0u);
  });
  Counts c;
  AttemptEnd end;
  for (int i = 0; i < 2000; ++i) {
    c.succeeded = i;
    end.wall_seconds = i;
    metrics_.OnJobEnd(job_, end, c);
    metrics_.OnTick(c, kT0 + milliseconds(i), "slots");
  }
  stop = true;
  reader.join();
  EXPECT_EQ(metrics_.State().duration_count, 2000u);
}

}  // namespace
}  // namespace headroom

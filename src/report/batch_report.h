// BatchReport: the figures of one batch, computed from its BatchData: totals,
// throughput and ETA, each job's timing (queue wait, run time, attempts with
// their outcome), per-GPU use and peaks, OOM retries and the footprints
// measured. `headroom status`, the JSON report and the HTML report all show
// these, so that they agree. ReportJson() is the JSON report; its schema is
// documented in docs/reports.md (keep the two in step).
//
// Times are unix seconds; a running batch's open intervals end at `now`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "journal/batch_data.h"
#include "journal/journal.h"
#include "report/waits.h"

namespace headroom {

// How an attempt ended, for colours and counts (jobs/outcome.h,
// ClassifyStoredOutcome: the OOM flag wins, an attempt without an end is
// running, the stored text is read loosely, anything else is a failure).
AttemptClass ClassifyAttempt(const AttemptRecord& attempt);

struct JobTiming {
  JobRecord job;
  std::vector<AttemptRecord> attempts;  // in attempt order
  // From the batch's start to the first attempt's start; unset if none started.
  std::optional<double> queue_wait;
  double run_seconds = 0;         // the attempts' run time (a running one: so far)
  double retry_wait_seconds = 0;  // between its attempts: from first start to last end, not running
  std::optional<uint64_t> peak_vram;  // the highest of its attempts; unset = never measured
  std::optional<uint64_t> peak_rss;
  // --executor slurm: from its first attempt's submission to its first
  // "placed ... RUNNING" event; unset when never seen running there.
  std::optional<double> slurm_queue_wait;
  std::optional<uint64_t> requested_ram;  // its last attempt's memory request ("requested" events)
  // A failed job's last stderr lines (its last attempt's log), once
  // AddStderrTails read them; "" otherwise.
  std::string stderr_tail;
};

// --executor slurm, over the jobs that have the figure.
struct SlurmSummary {
  int64_t queued = 0;  // jobs with a slurm_queue_wait
  std::optional<double> queue_wait_mean, queue_wait_max;
  int64_t requested = 0;  // jobs with a request and a measured peak RSS
  uint64_t requested_bytes = 0, used_bytes = 0;  // summed over those
};

struct GpuUsage {
  int index = 0;
  int64_t attempts = 0;
  double job_seconds = 0;                      // the run time of its attempts, summed
  double busy_seconds = 0;                     // time with at least one attempt on it
  std::optional<double> mean_utilization_pct;  // over its samples that had one
  std::optional<int> peak_utilization_pct;
  std::optional<uint64_t> peak_used;  // bytes, highest sample
  std::optional<uint64_t> total;      // bytes, latest sample
  std::optional<int> peak_temperature_c;
  std::optional<uint64_t> peak_job_vram;  // the highest peak of one attempt on it
  std::optional<int64_t> limit;           // its latest concurrency limit ("limit" events)
  int64_t limit_changes = 0;
  int64_t most_at_once = 0;                 // attempts that ran on it at once, at most
  std::optional<uint64_t> median_job_vram;  // the lower median of its attempts' peaks
};

struct Throughput {
  int64_t finished = 0;                 // jobs that succeeded or failed
  double active_seconds = 0;            // per run: first attempt's start to last end (or now)
  std::optional<double> jobs_per_hour;  // unset until a job finished
  std::optional<double> eta_seconds;    // queued and running jobs at that rate; unset when done
};

struct FootprintSummary {
  int64_t measured = 0;  // jobs with a measured peak
  std::optional<uint64_t> max;
  std::optional<uint64_t> median;
  std::optional<uint64_t> p90;
};

struct BatchReport {
  BatchData data;  // what it was computed from
  BatchRunState state = BatchRunState::kFinished;
  double now = 0;                      // when it was computed
  double elapsed_seconds = 0;          // batch start to end (or now)
  std::map<JobState, int64_t> counts;  // every state, zeros included
  int64_t attempts = 0;
  int64_t processes = 0;     // processes the attempts ran in (fewer with --batch-size)
  int64_t retries = 0;       // attempts after a job's failed ones (not after an interrupted one)
  int64_t oom_attempts = 0;  // attempts that ran out of memory
  int64_t oom_retries = 0;   // ... and were followed by another attempt of the job
  Throughput throughput;
  std::vector<JobTiming> jobs;            // in number order
  std::vector<GpuUsage> gpus;             // by index: every GPU seen in samples, attempts or events
  std::optional<uint64_t> peak_ram_used;  // host samples (gpu -1)
  std::optional<uint64_t> ram_total;
  FootprintSummary vram;  // over jobs' peak_vram
  FootprintSummary rss;   // over jobs' peak_rss
  std::string waiting;    // the latest "waiting" event's gate; "" = nothing held the queue
  std::vector<WaitInterval> waits;  // when each gate held the queue (report/waits.h)
  std::map<std::string, WaitTotal> waited;  // each gate's time in all, by label ("vram gpu0")
  // Options the batch ran with (its journaled effective options); unset
  // when not recorded (an older batch). vram_high is within (0, 1].
  std::optional<double> vram_high, temp_warm, temp_limit;
  SlurmSummary slurm;     // all zero unless the batch ran on Slurm
  // --executor slurm: when each attempt (job key, attempt) was first seen
  // RUNNING; from its start until then it waited in Slurm's queue.
  std::map<std::pair<std::string, int64_t>, double> slurm_running_at;
};

BatchReport BuildReport(BatchData data, double now);

// Reads the last lines (at most 5, each cut at 200 bytes) of the stderr
// log of each failed job's last attempt, for the first `max_jobs` failed
// jobs: why they failed, in the reports, without opening each log. A log
// that is gone leaves its tail empty.
void AddStderrTails(BatchReport* report, size_t max_jobs);

// One sentence that says what held the batch back and how tightly its GPUs
// were packed, computed from the report: "Held 4.0s while learning gpu0's
// first job, 4.1s by gpu0 above 70 °C; gpu0 fit 2 × 6.8 GiB under 85 %."
// "" when there is nothing to say (no wait, no GPU job measured).
std::string ReportSentence(const BatchReport& report);

// "queue wait 1.2s mean, 3.4s max; memory asked 1.3 GiB per job, used 1.0
// GiB (peak RSS): 1.3x"; "" when the batch did not run on Slurm.
std::string SlurmSummaryText(const SlurmSummary& slurm);

// "2026-01-02 10:00:00": `unix_seconds` in local time, as status and the
// HTML report show times.
std::string LocalTimeText(double unix_seconds);

// The JSON report: pretty-printed, ending with a newline. Text that is not
// valid UTF-8 (file names) has its bad bytes replaced by U+FFFD.
std::string ReportJson(const BatchReport& report);

}  // namespace headroom

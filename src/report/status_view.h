// StatusView: what `headroom status` shows of a batch: its state (running,
// finished, or stopped because its headroom was killed), the jobs by state,
// the running jobs with elapsed time, GPU and attempt, the queue, throughput
// and ETA, the last failures with their logs, the gate holding the queue,
// and the latest GPU and host samples. As text for people or as one JSON
// object (one line) for scripts and `--watch --json`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "report/batch_report.h"
#include "util/status.h"

namespace headroom {

struct RunningJob {
  std::string name;
  int attempt = 1;
  int gpu = -1;  // -1 = none
  int slot = 0;
  double elapsed_seconds = 0;
  std::string where;  // its executor's word ("slurm 42_3 RUNNING on node7"), "" locally
  // On Slurm: from submission until it ran (its first RUNNING), or until now
  // while it is pending; unset locally.
  std::optional<double> queue_wait;
};

struct FailedAttempt {
  std::string name;
  int attempt = 1;
  AttemptClass attempt_class = AttemptClass::kFailed;
  std::optional<int> exit_code;
  std::optional<int> signal;
  double ended_at = 0;
  std::string stderr_log;
};

struct StatusView {
  BatchReport report;
  std::vector<RunningJob> running;           // longest-running first; only while the batch runs
  std::vector<FailedAttempt> last_failures;  // newest first, at most kMaxFailures
  std::string waiting;  // the gate holding the queue, while the batch runs; "" = none
  std::optional<int> slot_limit;  // -j as `headroom ctl jobs` last set it, while the batch runs
  std::vector<SampleRecord> latest_samples;  // the newest sample of each device, host (-1) first

  static constexpr size_t kMaxFailures = 5;
};

StatusView BuildStatusView(BatchReport report);

std::string FormatStatusText(const StatusView& view);  // lines, each ending with '\n'
std::string FormatStatusJson(const StatusView& view);  // one line, no newline

// Loads the batch (`batch`, else the latest) from the journal in `state_dir`
// and formats its status at `now` (unix seconds) as text or JSON; errors are
// LoadBatchData's.
Status RenderStatus(const std::string& state_dir, std::optional<int64_t> batch, bool json,
                    double now, std::string* out);

}  // namespace headroom

// JobLog: `headroom log`: which files hold a job's output, found in the
// journal by the job's number ("#3"), name or input; the caller prints them
// (and follows them while the job runs).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "journal/batch_data.h"
#include "util/status.h"

namespace headroom {

struct JobLogTarget {
  int64_t number = 0;
  std::string name;
  int attempt = 0;  // its latest attempt; 0 = not started yet
  std::string stdout_log, stderr_log;
  bool running = false;  // that attempt has no end and the batch runs
};

// `which`: "#N" (the job's number), else a job's name or input, exactly.
// Errors are one line: "'#x' is not a job number (expected #N, N >= 1)",
// "batch 3 has no job 'clip.mp4' (name it by its input or name, or by
// #N; 'headroom status' lists them)", "'a' names jobs #2 and #5 (use #N)".
Status FindJobLog(const BatchData& data, const std::string& which, JobLogTarget* out);

struct JobLogRequest {
  std::string state_dir;
  std::optional<int64_t> batch;  // the latest when unset
  std::string which;             // as FindJobLog takes it
  bool stderr_log = false;       // --stderr
  bool follow = false;           // -f
};

// `headroom log`: prints the job's log to `out`; with `follow`, waits for
// the job to start, copies what it writes as it writes it (rereading the
// journal every second, for its end or a retry's new logs) and returns
// when its last attempt has ended. `*not_started` is set (and nothing
// printed) when the job has no attempt and cannot get one: without
// `follow`, or once the batch is no longer running. Errors are
// LoadBatchData's and FindJobLog's.
Status PrintJobLog(const JobLogRequest& request, std::FILE* out, bool* not_started);

}  // namespace headroom

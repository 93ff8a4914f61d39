// The log directory: where each job's stdout/stderr go, the main log and
// the daily error log; cleanup of old logs; capping a job log to its tail.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job.h"
#include "util/status.h"

namespace headroom {

class LogDir {
 public:
  // `dir` is --log-dir; `stamp` is the batch's start "YYYYMMDD_HHMMSS".
  LogDir(std::string dir, std::string stamp);

  // Creates the directory and this batch's own job-log folder,
  // <dir>/jobs_<stamp>/; when a batch started in the same second took that
  // name, the stamp gets a suffix (_2, _3, ...) and so do the other paths.
  // Error names the path and errno text.
  Status Create();

  // <dir>/jobs_<stamp>/<number>_<safe name>[.<attempt>].out / .err; attempt 1 has
  // no suffix. `safe name` keeps [A-Za-z0-9._-], replaces others by '_', and is
  // cut to 80 bytes.
  std::string StdoutPath(const Job& job, int attempt) const;
  std::string StderrPath(const Job& job, int attempt) const;
  std::string MainLogPath() const;   // <dir>/processing_<stamp>.log
  std::string ErrorLogPath() const;  // <dir>/errors_<YYYYMMDD of stamp>.log

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string stamp_;
  std::string jobs_dir_;
};

// Removes files and jobs_* folders directly under `dir` whose mtime is older
// than `days` days (processing_*.log, errors_*.log, jobs_*/); nothing else
// is touched. days == 0 removes every such entry older than now. Returns how
// many entries were removed. Missing `dir` is fine.
int RemoveOldLogs(const std::string& dir, int days);

// Keeps only the last `max_bytes` of the file at `path` (starting after a
// newline when one is near the cut). No-op when it is smaller or missing.
// The file is replaced atomically (temp file + rename), so call it only
// once its writer is done.
Status TrimToTail(const std::string& path, uint64_t max_bytes);

// The last `max_lines` lines of the file (at most the last 64 KiB read),
// without their '\n' and without trailing empty lines; empty when unreadable.
std::vector<std::string> ReadTailLines(const std::string& path, int max_lines);

// "20261122_085501" for the local time of `unix_seconds`.
std::string TimeStamp(int64_t unix_seconds);

}  // namespace headroom

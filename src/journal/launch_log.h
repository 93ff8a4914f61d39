// LaunchLog: the attempts a running batch started and ended since the
// journal's last commit, at <state-dir>/batch-<id>.launches, so that an
// attempt is durable before its process is spawned, and its end before its
// output is renamed into place, without paying a SQLite commit for either.
//
// A start is one write(2) of one record to the end of the file (O_APPEND):
// once it returns, the record survives SIGKILL of headroom, as a commit in
// WAL mode with synchronous=NORMAL does. The journal's writer (the
// JournalRecorder) commits its grouped writes every tenth of a second or so
// and then clears the file: what is in it is always "started, perhaps not
// yet in journal.db". A resume replays it into the journal (each attempt
// not there yet is inserted and its job set running, so that it is requeued
// as any job left running; each end closes its attempt and sets its job's
// state, a success's output committed if the kill came before its rename)
// and removes it.
//
// Record: "<attempt> <slot> <gpu> <start> <n>:<job key> <n>:<stdout log>
// <n>:<stderr log>\n", the strings as byte counts and bytes (keys and paths
// need not be UTF-8 and may hold any byte). End record: "end <attempt> <end>
// <exit code> <signal> <oom 0|1> <wall> <n>:<job key> <n>:<outcome>
// <n>:<job state>\n" (-1: no exit code, no signal). A record cut short by a
// crash (the last one) is ignored when reading; anything else malformed is
// an error naming the file and the byte offset.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "util/status.h"

namespace headroom {

// An attempt's end as the launch log holds it: the attempt (job_key,
// attempt, end, exit_code, signal, outcome, oom, wall_seconds) and its job's
// state after it.
struct LaunchEnd {
  AttemptRecord attempt;
  JobState state = JobState::kSucceeded;
};

struct LaunchRecords {
  std::vector<AttemptRecord> starts;  // start fields only, in order
  std::vector<LaunchEnd> ends;        // in order
};

class LaunchLog {
 public:
  // <state_dir>/batch-<batch>.launches
  static std::string PathIn(const std::string& state_dir, int64_t batch);

  // Creates the file, or empties one left behind (`state_dir` must exist).
  static Status Create(const std::string& path, std::unique_ptr<LaunchLog>* out);

  // The records of the file at `path`, in order; a missing file has none.
  static Status Read(const std::string& path, LaunchRecords* out);

  ~LaunchLog();  // closes; the file stays (Remove() deletes it)
  LaunchLog(const LaunchLog&) = delete;
  LaunchLog& operator=(const LaunchLog&) = delete;

  const std::string& path() const { return path_; }

  // Appends the records (start fields only) with one write(2).
  Status Append(const std::vector<AttemptRecord>& attempts);
  // Appends end records with one write(2).
  Status AppendEnds(const std::vector<LaunchEnd>& ends);
  // Empties the file: the journal has committed everything in it.
  Status Clear();
  // Deletes the file: the batch is over and its journal complete.
  Status Remove();

 private:
  LaunchLog(int fd, std::string path);
  Status Error(const std::string& what) const;  // "launch log <path>: <what>: <strerror>"
  Status Write(const std::string& records);     // all of it, one write(2) unless interrupted

  int fd_;
  std::string path_;
};

// One record as Append / AppendEnds write it (for tests and for them).
std::string LaunchRecord(const AttemptRecord& attempt);
std::string LaunchEndRecord(const LaunchEnd& end);

}  // namespace headroom

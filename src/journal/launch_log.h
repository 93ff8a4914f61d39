// LaunchLog: the attempts a running batch started since the journal's last
// commit, at <state-dir>/batch-<id>.launches, so that an attempt is durable
// before its process is spawned without paying a SQLite commit per spawn.
//
// A start is one write(2) of one record to the end of the file (O_APPEND):
// once it returns, the record survives SIGKILL of headroom, as a commit in
// WAL mode with synchronous=NORMAL does. The journal's writer (the
// JournalRecorder) commits its grouped writes every tenth of a second or so
// and then clears the file: what is in it is always "started, perhaps not
// yet in journal.db". A resume replays it into the journal (each attempt
// not there yet is inserted and its job set running, so that it is requeued
// as any job left running) and removes it.
//
// Record: "<attempt> <slot> <gpu> <start> <n>:<job key> <n>:<stdout log>
// <n>:<stderr log>\n", the strings as byte counts and bytes (keys and paths
// need not be UTF-8 and may hold any byte). A record cut short by a crash
// (the last one) is ignored when reading; anything else malformed is an
// error naming the file and the byte offset.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "util/status.h"

namespace headroom {

class LaunchLog {
 public:
  // <state_dir>/batch-<batch>.launches
  static std::string PathIn(const std::string& state_dir, int64_t batch);

  // Creates the file, or empties one left behind (`state_dir` must exist).
  static Status Create(const std::string& path, std::unique_ptr<LaunchLog>* out);

  // The records of the file at `path`, in order; a missing file has none.
  static Status Read(const std::string& path, std::vector<AttemptRecord>* out);

  ~LaunchLog();  // closes; the file stays (Remove() deletes it)
  LaunchLog(const LaunchLog&) = delete;
  LaunchLog& operator=(const LaunchLog&) = delete;

  const std::string& path() const { return path_; }

  // Appends the records (start fields only) with one write(2).
  Status Append(const std::vector<AttemptRecord>& attempts);
  // Empties the file: the journal has committed everything in it.
  Status Clear();
  // Deletes the file: the batch is over and its journal complete.
  Status Remove();

 private:
  LaunchLog(int fd, std::string path);
  Status Error(const std::string& what) const;  // "launch log <path>: <what>: <strerror>"

  int fd_;
  std::string path_;
};

// One record as Append writes it (for tests and Append).
std::string LaunchRecord(const AttemptRecord& attempt);

}  // namespace headroom

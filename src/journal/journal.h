// Journal: the SQLite store at <state-dir>/journal.db that records every
// batch, job, attempt, resource sample and event, so that a killed run
// resumes exactly where it stopped and `headroom status` / `report` can read
// it from another process while it runs.
//
// Durability: WAL mode with synchronous=NORMAL. A committed transaction is in
// the WAL file, so it survives SIGKILL of the process; a power cut may lose
// the last commits, never consistency. busy_timeout (10 s) lets one writer
// and readers in other processes coexist; readers never block the writer.
//
// Grouping: writes between Begin() and Commit() are one transaction (that is
// how a 10,000-job batch stays cheap: commit every ~50 writes or every
// second, whichever comes first, is the caller's choice). A write outside
// Begin()/Commit() is its own transaction, durable when the call returns.
//
// Schema: versioned with PRAGMA user_version (kSchemaVersion) and tagged with
// PRAGMA application_id. Open() applies the migration steps from the file's
// version up to kSchemaVersion, each in its own transaction; version 0 is an
// empty database. A file that is not a SQLite database, a database of some
// other program, or a version newer than this build is an error and is left
// untouched.
//
// Sample downsampling (AddSample): per batch and gpu index, a sample is kept
// only when at least SampleInterval(age) seconds have passed since the last
// kept one of the same gpu, where age = sample time - batch start:
//   age < 10 min: every sample; age < 6 h: one per 10 s; after: one per 60 s.
// Dropped samples are gone (peaks per attempt are in the attempts table).
//
// Job states are stored by name; argv as NUL-terminated strings. Times are
// unix seconds (double). Text fields are byte-exact (file names need not be
// UTF-8). A Journal is used from one thread. Errors are one line starting
// "journal <path>: ".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobs/outcome.h"
#include "util/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace headroom {

struct BatchRecord {
  int64_t id = 0;  // assigned by CreateBatch, 1, 2, ...
  double started_at = 0;
  std::optional<double> ended_at;  // unset while running, or when killed
  std::optional<int> exit_code;    // headroom's exit code, set with ended_at
  std::string host;
  std::string command_template;  // the argv template, shell-joined
  std::string input_source;      // e.g. "--input-dir ./videos --ext mp4"
  std::string options_json;      // effective options, as JSON text
  int64_t pid = 0;               // the headroom process running it (last one)
};

struct JobRecord {
  std::string key;  // unique in its batch; the caller's identity of a job
  int64_t number = 0;
  std::string name;
  std::string input;
  std::vector<std::string> argv;
  std::string output;
  int64_t priority = 0;
  JobState state = JobState::kQueued;
  int attempts = 0;  // attempts started so far
};

struct AttemptRecord {
  std::string job_key;
  int attempt = 1;  // 1-based per job, continuing across resumes
  int slot = 0;
  int gpu = -1;  // -1 = none
  double start = 0;
  std::optional<double> end;     // unset while running (or when killed)
  std::optional<int> exit_code;  // exactly one of exit_code / signal once ended
  std::optional<int> signal;
  std::string outcome;  // outcome class: "succeeded", "failed", "oom", ...
  bool oom = false;
  std::optional<uint64_t> peak_vram;  // bytes; unset = unknown
  std::optional<uint64_t> peak_rss;   // bytes; unset = unknown
  double cpu_seconds = 0;
  double wall_seconds = 0;
  std::string stdout_log;
  std::string stderr_log;
};

struct SampleRecord {
  double t = 0;
  int gpu = -1;        // -1 = the host (used/total = RAM)
  uint64_t used = 0;   // bytes
  uint64_t total = 0;  // bytes
  std::optional<int> temperature_c;
  std::optional<int> utilization_pct;
};

struct EventRecord {
  double t = 0;
  std::string kind;   // "limit", "notice", ...
  int gpu = -1;       // -1 = not about one device
  int64_t value = 0;  // e.g. the new concurrency limit
  std::string text;   // e.g. the reason, "gpu0 limit 8 -> 4: out of memory"
};

// One thing a job of a class taught (Observer::OnLearned), as stored.
struct FootprintRecord {
  std::string job_class;  // the class key (the template's words joined by U+001F)
  std::string kind;       // "vram", "rss" (bytes) or "wall_ms"
  uint64_t input = 0;     // the job's input bytes
  uint64_t value = 0;
  double t = 0;
  int64_t batch = 0;
};

struct FootprintClassRecord {
  std::string job_class;
  int64_t jobs = 0;  // jobs that taught it (successes measured), ever
  double last_t = 0;
};

// The minimum spacing, in seconds, of kept samples at `age_seconds` into a
// batch (see the rule above).
double SampleInterval(double age_seconds);

class Journal {
 public:
  static constexpr int kSchemaVersion = 2;

  // <state_dir>/journal.db
  static std::string PathIn(const std::string& state_dir);

  // Opens for writing, creating `state_dir` (with parents) and the database
  // when missing, and migrating an older schema.
  static Status Open(const std::string& state_dir, std::unique_ptr<Journal>* out);
  // Opens for reading only (status, report): creates nothing; a missing
  // directory or file, or a schema other than kSchemaVersion, is an error.
  static Status OpenReadOnly(const std::string& state_dir, std::unique_ptr<Journal>* out);

  ~Journal();  // commits an open Begin() group, finalizes statements, closes
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  const std::string& path() const { return path_; }

  // Begin() while a group is open is an error; so is Commit() without one.
  Status Begin();
  Status Commit();
  bool in_transaction() const;

  // Batches.
  Status CreateBatch(BatchRecord* batch);  // inserts; fills batch->id
  Status EndBatch(int64_t batch, double ended_at, int exit_code);
  // A resumed batch runs again: records the new pid, clears ended_at and exit_code.
  Status ResumeBatch(int64_t batch, int64_t pid);
  Status FindBatch(int64_t id, std::optional<BatchRecord>* out);
  Status LatestBatch(std::optional<BatchRecord>* out);  // highest id; unset if none
  // Batch `id`, or the latest when unset, for commands that read or steer
  // one (status, ctl, log, resume); none is an error: "journal <path>: no
  // batch recorded yet", "--batch 9: journal <path> has no batch 9 (the
  // latest is 3)".
  Status ChosenBatch(std::optional<int64_t> id, BatchRecord* out);
  Status LatestBatchFor(const std::string& command_template, const std::string& input_source,
                        std::optional<BatchRecord>* out);

  // Jobs. UpsertJobs inserts new keys as queued with 0 attempts; for keys
  // already there it updates number, name, input, argv, output and priority
  // and keeps state and attempts. `state`/`attempts` of the records are ignored.
  Status UpsertJobs(int64_t batch, const std::vector<JobRecord>& jobs);
  Status SetJobState(int64_t batch, const std::string& key, JobState state);
  // Resume: jobs left running (their headroom was killed) or interrupted go
  // back to queued, and their attempts without an end get outcome
  // "interrupted" and, as end, the last time the batch wrote anything (a
  // start, an end, a sample, an event): when its headroom was last seen.
  // Returns those jobs (with their old state) in number order.
  Status RequeueRunning(int64_t batch, std::vector<JobRecord>* were_running);
  Status Jobs(int64_t batch, std::vector<JobRecord>* out);               // in number order
  // Each job's key, state and attempts, one row at a time (a resume of 10^5
  // jobs must not hold a second copy of the plan).
  Status ForEachJobState(int64_t batch,
                         const std::function<void(std::string_view key, JobState state,
                                                  int attempts)>& row);
  Status CountByState(int64_t batch, std::map<JobState, int64_t>* out);  // states with jobs only

  // Attempts. StartAttempt inserts the attempt (end fields ignored) and sets
  // the job running with attempts = attempt.attempt. EndAttempt stores end,
  // exit_code, signal, outcome, oom, peaks, cpu and wall seconds of an
  // attempt already started; the job's next state is SetJobState's business.
  Status StartAttempt(int64_t batch, const AttemptRecord& attempt);
  Status EndAttempt(int64_t batch, const AttemptRecord& attempt);
  // A whole attempt at once, ended or not: inserts it (all its fields) and
  // sets its job's state and attempts = attempt.attempt - what StartAttempt,
  // EndAttempt and SetJobState do together, in two statements instead of four
  // (the JournalRecorder's way for attempts that start and end between two
  // commits).
  Status AddAttempt(int64_t batch, const AttemptRecord& attempt, JobState state);
  // A start read back from a LaunchLog: inserts the attempt and sets its job
  // running, as StartAttempt, unless the journal has that attempt already
  // (then changes nothing). `added` says which.
  Status ReplayStart(int64_t batch, const AttemptRecord& attempt, bool* added);
  // An end read back from a LaunchLog: stores the attempt's end (end,
  // exit_code, signal, outcome, oom, wall_seconds) and, while its job is
  // still running, sets the job to `state`, unless the attempt has an end
  // already (then changes nothing). `applied` says which.
  Status ReplayEnd(int64_t batch, const AttemptRecord& attempt, JobState state, bool* applied);
  Status Attempts(int64_t batch, std::vector<AttemptRecord>* out);  // by start, key, attempt

  // Samples (downsampled, see above) and events, in the order they were added.
  Status AddSample(int64_t batch, const SampleRecord& sample);
  Status AddEvent(int64_t batch, const EventRecord& event);
  Status Samples(int64_t batch, std::vector<SampleRecord>* out);
  Status Events(int64_t batch, std::vector<EventRecord>* out);

  // Learned footprints, across batches. AddFootprint stores one;
  // CountFootprintJobs adds `jobs` to the jobs that taught a class, learned
  // at `t`; RecentFootprints gives
  // the newest `per_kind` of each class and kind, oldest first (what a
  // batch starts from); PruneFootprints keeps only the newest `per_kind`;
  // ForgetFootprints removes one class (or all, when `job_class` is unset)
  // and says how many classes went. A journal of schema 1 (read-only) has
  // none.
  Status AddFootprint(const FootprintRecord& record);
  Status CountFootprintJobs(const std::string& job_class, int64_t jobs, double t);
  Status RecentFootprints(size_t per_kind, std::vector<FootprintRecord>* out);
  Status FootprintClasses(std::vector<FootprintClassRecord>* out);  // by class
  Status PruneFootprints(size_t per_kind);
  Status ForgetFootprints(const std::optional<std::string>& job_class, int64_t* forgotten);

 private:
  enum class Stmt;  // see journal.cc
  class Query;

  Journal(sqlite3* db, std::string path);
  static Status OpenAt(const std::string& state_dir, bool read_only, std::unique_ptr<Journal>* out);
  Status Prepare(Stmt stmt, sqlite3_stmt** out);
  Status Error(std::string_view what) const;  // "journal <path>: <what>: <sqlite message>"
  Status Exec(const char* sql);
  Status Setup(bool read_only);
  Status Migrate(int64_t from);
  Status QuickCheck();  // PRAGMA quick_check before the first write
  template <typename F>
  Status Write(F&& body);  // runs `body` in the open group, or in its own transaction
  Status BatchStart(int64_t batch, double* started_at);

  sqlite3* db_;
  std::string path_;
  std::vector<sqlite3_stmt*> stmts_;                       // by Stmt, prepared on first use
  std::map<int64_t, double> batch_start_;                  // for downsampling
  int64_t schema_version_ = 0;  // as opened (read-only may be older)
  std::map<std::pair<int64_t, int>, double> last_sample_;  // (batch, gpu) -> last kept t
};

}  // namespace headroom

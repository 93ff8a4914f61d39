#include "journal/journal.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <system_error>

#include "journal/schema.h"

namespace headroom {

// Every statement the journal runs, prepared once on first use.
enum class Journal::Stmt {
  kBegin,
  kCommit,
  kRollback,
  kInsertBatch,
  kEndBatch,
  kResumeBatch,
  kFindBatch,
  kLatestBatch,
  kLatestBatchFor,
  kUpsertJob,
  kSetJobState,
  kUnfinishedJobs,
  kRequeueJobs,
  kInterruptAttempts,
  kJobs,
  kCountByState,
  kStartJob,
  kInsertAttempt,
  kInsertAttemptIfNew,
  kInsertWholeAttempt,
  kSetJobStateAttempts,
  kEndAttempt,
  kAttempts,
  kBatchStart,
  kLastSample,
  kInsertSample,
  kInsertEvent,
  kSamples,
  kEvents,
  kReplayEnd,
  kSetRunningJobState,
  kJobStates,
  kInsertFootprint,
  kCountFootprintJob,
  kRecentFootprints,
  kFootprintClasses,
  kPruneFootprints,
  kForgetFootprintClass,
  kForgetFootprintRows,
  kForgetAllFootprintClasses,
  kForgetAllFootprintRows,
  kCount,
};

namespace {

#define HR_BATCH_COLUMNS \
  "id, started_at, ended_at, exit_code, host, command_template, input_source, options_json, pid"
#define HR_JOB_COLUMNS "key, number, name, input, argv, output, priority, state, attempts"

// Indexed by Journal::Stmt.
const char* const kSql[] = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "INSERT INTO batches(started_at, ended_at, exit_code, host, command_template, input_source,"
    " options_json, pid) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
    "UPDATE batches SET ended_at = ?, exit_code = ? WHERE id = ?",
    "UPDATE batches SET pid = ?, ended_at = NULL, exit_code = NULL WHERE id = ?",
    "SELECT " HR_BATCH_COLUMNS " FROM batches WHERE id = ?",
    "SELECT " HR_BATCH_COLUMNS " FROM batches ORDER BY id DESC LIMIT 1",
    "SELECT " HR_BATCH_COLUMNS
    " FROM batches WHERE command_template = ? AND input_source = ?"
    " ORDER BY id DESC LIMIT 1",
    "INSERT INTO jobs(batch, key, number, name, input, argv, output, priority, state, attempts)"
    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0) ON CONFLICT(batch, key) DO UPDATE SET"
    " number = excluded.number, name = excluded.name, input = excluded.input,"
    " argv = excluded.argv, output = excluded.output, priority = excluded.priority",
    "UPDATE jobs SET state = ? WHERE batch = ? AND key = ?",
    "SELECT " HR_JOB_COLUMNS
    " FROM jobs WHERE batch = ? AND state IN ('running', 'interrupted')"
    " ORDER BY number, key",
    "UPDATE jobs SET state = 'queued' WHERE batch = ? AND state IN ('running', 'interrupted')",
    // A killed run's attempts end when it was last seen: the latest time it
    // wrote (a start, an end, a sample or an event), not at the resume.
    "UPDATE attempts SET outcome = 'interrupted', ended_at = max(started_at, max("
    "coalesce((SELECT max(t) FROM samples WHERE batch = ?1), 0),"
    " coalesce((SELECT max(t) FROM events WHERE batch = ?1), 0),"
    " coalesce((SELECT max(max(started_at, coalesce(ended_at, 0))) FROM attempts"
    " WHERE batch = ?1), 0)))"
    " WHERE batch = ?1 AND ended_at IS NULL",
    "SELECT " HR_JOB_COLUMNS " FROM jobs WHERE batch = ? ORDER BY number, key",
    "SELECT state, count(*) FROM jobs WHERE batch = ? GROUP BY state",
    "UPDATE jobs SET state = 'running', attempts = ? WHERE batch = ? AND key = ?",
    "INSERT INTO attempts(batch, job_key, attempt, slot, gpu, started_at, outcome, oom,"
    " cpu_seconds, wall_seconds, stdout_log, stderr_log) VALUES(?, ?, ?, ?, ?, ?, '', 0, 0, 0, ?, "
    "?)",
    "INSERT OR IGNORE INTO attempts(batch, job_key, attempt, slot, gpu, started_at, outcome, oom,"
    " cpu_seconds, wall_seconds, stdout_log, stderr_log) VALUES(?, ?, ?, ?, ?, ?, '', 0, 0, 0, ?, "
    "?)",
    "INSERT INTO attempts(batch, job_key, attempt, slot, gpu, started_at, ended_at, exit_code,"
    " signal, outcome, oom, peak_vram, peak_rss, cpu_seconds, wall_seconds, stdout_log,"
    " stderr_log) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "UPDATE jobs SET state = ?, attempts = ? WHERE batch = ? AND key = ?",
    "UPDATE attempts SET ended_at = ?, exit_code = ?, signal = ?, outcome = ?, oom = ?,"
    " peak_vram = ?, peak_rss = ?, cpu_seconds = ?, wall_seconds = ?"
    " WHERE batch = ? AND job_key = ? AND attempt = ?",
    "SELECT job_key, attempt, slot, gpu, started_at, ended_at, exit_code, signal, outcome, oom,"
    " peak_vram, peak_rss, cpu_seconds, wall_seconds, stdout_log, stderr_log FROM attempts"
    " WHERE batch = ? ORDER BY started_at, job_key, attempt",
    "SELECT started_at FROM batches WHERE id = ?",
    "SELECT max(t) FROM samples WHERE batch = ? AND gpu = ?",
    "INSERT INTO samples(batch, t, gpu, used, total, temperature_c, utilization_pct)"
    " VALUES(?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO events(batch, t, kind, gpu, value, text) VALUES(?, ?, ?, ?, ?, ?)",
    "SELECT t, gpu, used, total, temperature_c, utilization_pct FROM samples WHERE batch = ?"
    " ORDER BY rowid",
    "SELECT t, kind, gpu, value, text FROM events WHERE batch = ? ORDER BY rowid",
    "UPDATE attempts SET ended_at = ?, exit_code = ?, signal = ?, outcome = ?, oom = ?,"
    " wall_seconds = ? WHERE batch = ? AND job_key = ? AND attempt = ? AND ended_at IS NULL",
    "UPDATE jobs SET state = ? WHERE batch = ? AND key = ? AND state = 'running'",
    "SELECT key, state, attempts FROM jobs WHERE batch = ?",
    "INSERT INTO footprints(class, kind, input, value, t, batch) VALUES(?, ?, ?, ?, ?, ?)",
    "INSERT INTO footprint_classes(class, jobs, last_t) VALUES(?1, ?2, ?3)"
    " ON CONFLICT(class) DO UPDATE SET jobs = jobs + excluded.jobs, last_t = excluded.last_t",
    "SELECT class, kind, input, value, t, batch FROM (SELECT *, rowid AS r, row_number() OVER"
    " (PARTITION BY class, kind ORDER BY rowid DESC) AS n FROM footprints) WHERE n <= ?"
    " ORDER BY r",
    "SELECT class, jobs, last_t FROM footprint_classes ORDER BY class",
    "DELETE FROM footprints WHERE rowid IN (SELECT r FROM (SELECT rowid AS r, row_number() OVER"
    " (PARTITION BY class, kind ORDER BY rowid DESC) AS n FROM footprints) WHERE n > ?)",
    "DELETE FROM footprint_classes WHERE class = ?",
    "DELETE FROM footprints WHERE class = ?",
    "DELETE FROM footprint_classes",
    "DELETE FROM footprints",
};

#undef HR_BATCH_COLUMNS
#undef HR_JOB_COLUMNS

constexpr int kBusyTimeoutMs = 10000;

// `path` for a file: URI: the characters a URI gives a meaning escaped.
std::string UriPath(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      out += fmt::format("%{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

// argv as NUL-terminated strings, so that no byte of an argument is lost and
// {} and {""} differ.
std::string EncodeArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    out += arg;
    out += '\0';
  }
  return out;
}

std::vector<std::string> DecodeArgv(std::string_view blob) {
  std::vector<std::string> out;
  while (!blob.empty()) {
    size_t end = blob.find('\0');
    if (end == std::string_view::npos) end = blob.size();
    out.emplace_back(blob.substr(0, end));
    blob.remove_prefix(std::min(blob.size(), end + 1));
  }
  return out;
}

// "INSERT INTO jobs", "UPDATE attempts SET", "SELECT t, gpu,": enough of a
// statement to tell which one failed.
std::string SqlHead(std::string_view sql) {
  size_t end = 0;
  for (int words = 0; words < 3 && end < sql.size(); ++words) {
    size_t space = sql.find(' ', end);
    end = space == std::string_view::npos ? sql.size() : space + 1;
  }
  std::string_view head = sql.substr(0, end);
  head = head.substr(0, head.find('('));
  while (!head.empty() && head.back() == ' ') head.remove_suffix(1);
  return std::string(head);
}

}  // namespace

// One run of a cached statement: binds parameters in order, steps, reads
// columns, and resets the statement when it goes out of scope.
class Journal::Query {
 public:
  Query(Journal* journal, Stmt stmt) : journal_(journal) {
    status_ = journal->Prepare(stmt, &stmt_);
  }
  ~Query() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& Int(int64_t value) { return Bound(sqlite3_bind_int64(stmt_, Next(), value)); }
  Query& Real(double value) { return Bound(sqlite3_bind_double(stmt_, Next(), value)); }
  Query& Text(std::string_view value) {
    return Bound(
        sqlite3_bind_text64(stmt_, Next(), value.data(), value.size(), Transient(), SQLITE_UTF8));
  }
  Query& Blob(std::string_view value) {
    return Bound(sqlite3_bind_blob64(stmt_, Next(), value.data(), value.size(), Transient()));
  }
  Query& Null() { return Bound(sqlite3_bind_null(stmt_, Next())); }
  template <typename T>
  Query& OptInt(const std::optional<T>& value) {
    return value ? Int(static_cast<int64_t>(*value)) : Null();
  }
  Query& OptReal(const std::optional<double>& value) { return value ? Real(*value) : Null(); }

  // Runs one step; *row tells whether it produced a row.
  Status Step(bool* row) {
    *row = false;
    if (!status_.ok()) return status_;
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
      *row = true;
      return Status::Ok();
    }
    if (rc == SQLITE_DONE) return Status::Ok();
    status_ = journal_->Error(SqlHead(sqlite3_sql(stmt_)));
    return status_;
  }
  // Runs a statement that returns no rows.
  Status Run() {
    bool row = false;
    Status status = Step(&row);
    while (status.ok() && row) status = Step(&row);
    return status;
  }

  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t ColInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  double ColReal(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string ColText(int col) const {
    const void* data = sqlite3_column_blob(stmt_, col);
    int size = sqlite3_column_bytes(stmt_, col);
    return data == nullptr ? std::string()
                           : std::string(static_cast<const char*>(data), static_cast<size_t>(size));
  }
  template <typename T>
  std::optional<T> ColOptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return static_cast<T>(ColInt(col));
  }
  std::optional<double> ColOptReal(int col) const {
    if (IsNull(col)) return std::nullopt;
    return ColReal(col);
  }

 private:
  static sqlite3_destructor_type Transient() {
    // SQLITE_TRANSIENT without its C-style cast: SQLite copies the value.
    return reinterpret_cast<sqlite3_destructor_type>(  // NOLINT(performance-no-int-to-ptr)
        static_cast<intptr_t>(-1));
  }
  int Next() { return ++index_; }
  Query& Bound(int rc) {
    if (rc != SQLITE_OK && status_.ok()) status_ = journal_->Error("bind");
    return *this;
  }

  Journal* journal_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
  int index_ = 0;
};

double SampleInterval(double age_seconds) {
  if (age_seconds < 10 * 60) return 0;
  if (age_seconds < 6 * 3600) return 10;
  return 60;
}

std::string Journal::PathIn(const std::string& state_dir) { return state_dir + "/journal.db"; }

Journal::Journal(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), stmts_(static_cast<size_t>(Stmt::kCount), nullptr) {
  static_assert(std::size(kSql) == static_cast<size_t>(Stmt::kCount));
}

Journal::~Journal() {
  if (in_transaction()) Commit();  // what was written happened: keep it
  for (sqlite3_stmt* stmt : stmts_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Journal::Open(const std::string& state_dir, std::unique_ptr<Journal>* out) {
  return OpenAt(state_dir, false, out);
}

Status Journal::OpenReadOnly(const std::string& state_dir, std::unique_ptr<Journal>* out) {
  return OpenAt(state_dir, true, out);
}

Status Journal::OpenAt(const std::string& state_dir, bool read_only,
                       std::unique_ptr<Journal>* out) {
  out->reset();
  std::string path = PathIn(state_dir);
  int flags = SQLITE_OPEN_NOMUTEX;
  if (read_only) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      return Status::Error(
          fmt::format("journal {}: no such file (no batch has run with this state dir)", path));
    }
    flags |= SQLITE_OPEN_READONLY;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec) {
      return Status::Error(
          fmt::format("state dir {}: cannot create it: {}", state_dir, ec.message()));
    }
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  }
  // A reader of a journal no headroom writes now (no -wal file: the last
  // writer checkpointed and removed it) opens it immutable: nothing to lock
  // and no -wal or -shm left behind, and it works where it may not write
  // (a read-only mount). With a -wal, a writer is at work: read it live.
  std::string name = path;
  struct stat wal;
  if (read_only && stat((path + "-wal").c_str(), &wal) != 0) {
    name = "file:" + UriPath(path) + "?immutable=1";
    flags |= SQLITE_OPEN_URI;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(name.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Status::Error(fmt::format("journal {}: cannot open: {}", path, why));
  }
  std::unique_ptr<Journal> journal(new Journal(db, path));
  Status status = journal->Setup(read_only);
  if (!status.ok()) return status;
  *out = std::move(journal);
  return Status::Ok();
}

// Checks that the file is a journal this build can use before anything is
// written to it, then switches to WAL and migrates (writer only).
Status Journal::Setup(bool read_only) {
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db_, 1);
  int64_t app_id = 0;
  int64_t version = 0;
  int64_t tables = 0;
  int rc = SQLITE_OK;
  for (auto [sql, value] :
       {std::pair{"PRAGMA application_id", &app_id}, std::pair{"PRAGMA user_version", &version},
        std::pair{"SELECT count(*) FROM sqlite_master", &tables}}) {
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      *value = sqlite3_column_int64(stmt, 0);
      rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK) break;
  }
  if ((rc & 0xff) == SQLITE_NOTADB) {
    return Status::Error(
        fmt::format("journal {}: not a headroom journal (file is not a database)", path_));
  }
  if (rc != SQLITE_OK) return Error("cannot read it");
  bool ours = app_id == kJournalApplicationId;
  if ((app_id != 0 && !ours) || (app_id == 0 && (version != 0 || tables != 0))) {
    return Status::Error(
        fmt::format("journal {}: not a headroom journal (a database of another program)", path_));
  }
  if (version > kSchemaVersion) {
    return Status::Error(fmt::format(
        "journal {}: schema version {} is newer than this headroom (knows {}); upgrade headroom",
        path_, version, kSchemaVersion));
  }
  if (read_only) {
    // An empty file (0 bytes, or a database without tables) is an empty
    // journal, as `run` takes it: it starts a journal there.
    if (version == 0) return Status::Error(fmt::format("journal {}: no batch recorded yet", path_));
    // An older schema reads as it is: what it lacks (footprints) reads as
    // empty; a batch run with this headroom upgrades it.
    schema_version_ = version;
    return Status::Ok();
  }
  // Nothing is written into a damaged journal: a corrupt page found later
  // would have had a batch row written beside it.
  Status status = version > 0 ? QuickCheck() : Status::Ok();
  if (status.ok()) status = Exec("PRAGMA journal_mode = WAL");
  if (status.ok()) status = Exec("PRAGMA synchronous = NORMAL");
  if (status.ok()) status = Exec("PRAGMA foreign_keys = ON");
  if (status.ok() && version < kSchemaVersion) status = Migrate(version);
  return status;
}

// SQLite's quick_check, stopped at its first complaint (a few tens of ms on a
// journal of 100,000 jobs; see bench/BENCHMARKS.md).
Status Journal::QuickCheck() {
  sqlite3_stmt* stmt = nullptr;
  std::string first;
  int rc = sqlite3_prepare_v2(db_, "PRAGMA quick_check(1)", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    first = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    rc = SQLITE_OK;
  }
  if (rc != SQLITE_OK) first = sqlite3_errmsg(db_);
  sqlite3_finalize(stmt);
  if (first == "ok") return Status::Ok();
  return Status::Error(fmt::format(
      "journal {}: damaged ({}); it was left as it is: move it away to start a new journal", path_,
      first));
}

// Applies the steps above `from`, each in its own transaction. The version
// is read again inside it: another headroom may have migrated the file
// meanwhile.
Status Journal::Migrate(int64_t from) {
  const std::vector<const char*>& steps = JournalMigrations();
  if (steps.size() != static_cast<size_t>(kSchemaVersion)) {
    return Status::Error(fmt::format("journal {}: this build has {} migration steps for schema {}",
                                     path_, steps.size(), kSchemaVersion));
  }
  for (int64_t target = from + 1; target <= kSchemaVersion; ++target) {
    Status status = Exec("BEGIN IMMEDIATE");
    if (!status.ok()) return status;
    sqlite3_stmt* stmt = nullptr;
    int64_t version = 0;
    int rc = sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr);
    if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      version = sqlite3_column_int64(stmt, 0);
    } else {
      status = Error("read user_version");
    }
    sqlite3_finalize(stmt);
    if (status.ok() && version == target - 1) {
      if (sqlite3_exec(db_, steps[static_cast<size_t>(target - 1)], nullptr, nullptr, nullptr) !=
          SQLITE_OK) {
        status = Error(fmt::format("migrating to schema {}", target));
      }
      if (status.ok()) {
        status = Exec(fmt::format("PRAGMA user_version = {}", target).c_str());
      }
      if (status.ok() && target == 1) {
        status = Exec(fmt::format("PRAGMA application_id = {}", kJournalApplicationId).c_str());
      }
    }
    if (!status.ok()) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return status;
    }
    status = Exec("COMMIT");
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status Journal::Error(std::string_view what) const {
  return Status::Error(fmt::format("journal {}: {}: {}", path_, what, sqlite3_errmsg(db_)));
}

Status Journal::Exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string why = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  std::string_view what(sql);
  while (!what.empty() && (what.front() == '\n' || what.front() == ' ')) what.remove_prefix(1);
  what = what.substr(0, what.find('\n'));
  return Status::Error(fmt::format("journal {}: {}: {}", path_, what, why));
}

Status Journal::Prepare(Stmt stmt, sqlite3_stmt** out) {
  sqlite3_stmt*& cached = stmts_[static_cast<size_t>(stmt)];
  if (cached == nullptr) {
    const char* sql = kSql[static_cast<size_t>(stmt)];
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &cached, nullptr) !=
        SQLITE_OK) {
      *out = nullptr;
      return Error(sql);
    }
  }
  *out = cached;
  return Status::Ok();
}

bool Journal::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Status Journal::Begin() {
  if (in_transaction()) {
    return Status::Error(fmt::format("journal {}: Begin() with a transaction open", path_));
  }
  return Query(this, Stmt::kBegin).Run();
}

Status Journal::Commit() {
  if (!in_transaction()) {
    return Status::Error(fmt::format("journal {}: Commit() without a transaction", path_));
  }
  return Query(this, Stmt::kCommit).Run();
}

template <typename F>
Status Journal::Write(F&& body) {
  if (in_transaction()) return body();
  Status status = Query(this, Stmt::kBegin).Run();
  if (!status.ok()) return status;
  status = body();
  if (!status.ok()) {
    if (in_transaction()) Query(this, Stmt::kRollback).Run();
    return status;
  }
  return Query(this, Stmt::kCommit).Run();
}

// --- Batches ---

namespace {

template <typename Q>
void ReadBatch(const Q& q, BatchRecord* batch) {
  batch->id = q.ColInt(0);
  batch->started_at = q.ColReal(1);
  batch->ended_at = q.ColOptReal(2);
  batch->exit_code = q.template ColOptInt<int>(3);
  batch->host = q.ColText(4);
  batch->command_template = q.ColText(5);
  batch->input_source = q.ColText(6);
  batch->options_json = q.ColText(7);
  batch->pid = q.ColInt(8);
}

}  // namespace

Status Journal::CreateBatch(BatchRecord* batch) {
  Query q(this, Stmt::kInsertBatch);
  q.Real(batch->started_at).OptReal(batch->ended_at).OptInt(batch->exit_code);
  q.Text(batch->host).Text(batch->command_template).Text(batch->input_source);
  q.Text(batch->options_json).Int(batch->pid);
  Status status = q.Run();
  if (!status.ok()) return status;
  batch->id = sqlite3_last_insert_rowid(db_);
  batch_start_[batch->id] = batch->started_at;
  return Status::Ok();
}

Status Journal::EndBatch(int64_t batch, double ended_at, int exit_code) {
  Query q(this, Stmt::kEndBatch);
  Status status = q.Real(ended_at).Int(exit_code).Int(batch).Run();
  if (status.ok() && sqlite3_changes(db_) == 0) {
    status = Status::Error(fmt::format("journal {}: no batch {}", path_, batch));
  }
  return status;
}

Status Journal::ResumeBatch(int64_t batch, int64_t pid) {
  Query q(this, Stmt::kResumeBatch);
  Status status = q.Int(pid).Int(batch).Run();
  if (status.ok() && sqlite3_changes(db_) == 0) {
    status = Status::Error(fmt::format("journal {}: no batch {}", path_, batch));
  }
  return status;
}

namespace {

template <typename Q>
Status ReadOptionalBatch(Q& q, std::optional<BatchRecord>* out) {
  out->reset();
  bool row = false;
  Status status = q.Step(&row);
  if (status.ok() && row) {
    out->emplace();
    ReadBatch(q, &**out);
  }
  return status;
}

}  // namespace

Status Journal::FindBatch(int64_t id, std::optional<BatchRecord>* out) {
  Query q(this, Stmt::kFindBatch);
  q.Int(id);
  return ReadOptionalBatch(q, out);
}

Status Journal::ChosenBatch(std::optional<int64_t> id, BatchRecord* out) {
  std::optional<BatchRecord> latest;
  Status status = LatestBatch(&latest);
  if (!status.ok()) return status;
  if (!latest) return Status::Error(fmt::format("journal {}: no batch recorded yet", path_));
  std::optional<BatchRecord> batch = latest;
  if (id && *id != latest->id) {
    status = FindBatch(*id, &batch);
    if (!status.ok()) return status;
    if (!batch) {
      return Status::Error(fmt::format("--batch {}: journal {} has no batch {} (the latest is {})",
                                       *id, path_, *id, latest->id));
    }
  }
  *out = *batch;
  return Status::Ok();
}

Status Journal::LatestBatch(std::optional<BatchRecord>* out) {
  Query q(this, Stmt::kLatestBatch);
  return ReadOptionalBatch(q, out);
}

Status Journal::LatestBatchFor(const std::string& command_template, const std::string& input_source,
                               std::optional<BatchRecord>* out) {
  Query q(this, Stmt::kLatestBatchFor);
  q.Text(command_template).Text(input_source);
  return ReadOptionalBatch(q, out);
}

// --- Jobs ---

namespace {

template <typename Q>
Status ReadJob(const Q& q, JobRecord* job) {
  job->key = q.ColText(0);
  job->number = q.ColInt(1);
  job->name = q.ColText(2);
  job->input = q.ColText(3);
  job->argv = DecodeArgv(q.ColText(4));
  job->output = q.ColText(5);
  job->priority = q.ColInt(6);
  std::string state = q.ColText(7);
  std::optional<JobState> parsed = ParseJobState(state);
  if (!parsed)
    return Status::Error(fmt::format("job '{}' has unknown state '{}'", job->key, state));
  job->state = *parsed;
  job->attempts = static_cast<int>(q.ColInt(8));
  return Status::Ok();
}

}  // namespace

Status Journal::UpsertJobs(int64_t batch, const std::vector<JobRecord>& jobs) {
  return Write([&]() -> Status {
    double started_at = 0;
    Status status = BatchStart(batch, &started_at);  // a clear error for a missing batch
    for (size_t i = 0; status.ok() && i < jobs.size(); ++i) {
      const JobRecord& job = jobs[i];
      Query q(this, Stmt::kUpsertJob);
      q.Int(batch).Text(job.key).Int(job.number).Text(job.name).Text(job.input);
      q.Blob(EncodeArgv(job.argv)).Text(job.output).Int(job.priority);
      status = q.Run();
    }
    return status;
  });
}

Status Journal::SetJobState(int64_t batch, const std::string& key, JobState state) {
  Query q(this, Stmt::kSetJobState);
  Status status = q.Text(JobStateName(state)).Int(batch).Text(key).Run();
  if (status.ok() && sqlite3_changes(db_) == 0) {
    status = Status::Error(fmt::format("journal {}: batch {} has no job '{}'", path_, batch, key));
  }
  return status;
}

Status Journal::RequeueRunning(int64_t batch, std::vector<JobRecord>* were_running) {
  were_running->clear();
  return Write([&]() -> Status {
    Status status;
    {
      Query q(this, Stmt::kUnfinishedJobs);
      q.Int(batch);
      bool row = false;
      while ((status = q.Step(&row)).ok() && row) {
        JobRecord job;
        status = ReadJob(q, &job);
        if (!status.ok()) return status.WithContext(fmt::format("journal {}", path_));
        were_running->push_back(std::move(job));
      }
    }
    if (status.ok()) status = Query(this, Stmt::kRequeueJobs).Int(batch).Run();
    if (status.ok()) status = Query(this, Stmt::kInterruptAttempts).Int(batch).Run();
    return status;
  });
}

Status Journal::ForEachJobState(
    int64_t batch, const std::function<void(std::string_view, JobState, int)>& row) {
  Query q(this, Stmt::kJobStates);
  q.Int(batch);
  bool more = false;
  Status status;
  while ((status = q.Step(&more)).ok() && more) {
    std::string state_name = q.ColText(1);
    std::optional<JobState> state = ParseJobState(state_name);
    if (!state) {
      return Status::Error(fmt::format("journal {}: job '{}' has an unknown state '{}'", path_,
                                       q.ColText(0), state_name));
    }
    row(q.ColText(0), *state, static_cast<int>(q.ColInt(2)));
  }
  return status;
}

Status Journal::Jobs(int64_t batch, std::vector<JobRecord>* out) {
  out->clear();
  Query q(this, Stmt::kJobs);
  q.Int(batch);
  bool row = false;
  Status status;
  while ((status = q.Step(&row)).ok() && row) {
    JobRecord job;
    status = ReadJob(q, &job);
    if (!status.ok()) return status.WithContext(fmt::format("journal {}", path_));
    out->push_back(std::move(job));
  }
  return status;
}

Status Journal::CountByState(int64_t batch, std::map<JobState, int64_t>* out) {
  out->clear();
  Query q(this, Stmt::kCountByState);
  q.Int(batch);
  bool row = false;
  Status status;
  while ((status = q.Step(&row)).ok() && row) {
    std::string name = q.ColText(0);
    std::optional<JobState> state = ParseJobState(name);
    if (!state) {
      return Status::Error(fmt::format("journal {}: unknown job state '{}'", path_, name));
    }
    (*out)[*state] = q.ColInt(1);
  }
  return status;
}

// --- Attempts ---

Status Journal::StartAttempt(int64_t batch, const AttemptRecord& attempt) {
  return Write([&]() -> Status {
    Status status =
        Query(this, Stmt::kStartJob).Int(attempt.attempt).Int(batch).Text(attempt.job_key).Run();
    if (status.ok() && sqlite3_changes(db_) == 0) {
      return Status::Error(
          fmt::format("journal {}: batch {} has no job '{}'", path_, batch, attempt.job_key));
    }
    if (!status.ok()) return status;
    Query q(this, Stmt::kInsertAttempt);
    q.Int(batch).Text(attempt.job_key).Int(attempt.attempt).Int(attempt.slot).Int(attempt.gpu);
    q.Real(attempt.start).Text(attempt.stdout_log).Text(attempt.stderr_log);
    return q.Run();
  });
}

Status Journal::AddAttempt(int64_t batch, const AttemptRecord& attempt, JobState state) {
  return Write([&]() -> Status {
    Status status = Query(this, Stmt::kSetJobStateAttempts)
                        .Text(JobStateName(state))
                        .Int(attempt.attempt)
                        .Int(batch)
                        .Text(attempt.job_key)
                        .Run();
    if (status.ok() && sqlite3_changes(db_) == 0) {
      return Status::Error(
          fmt::format("journal {}: batch {} has no job '{}'", path_, batch, attempt.job_key));
    }
    if (!status.ok()) return status;
    Query q(this, Stmt::kInsertWholeAttempt);
    q.Int(batch).Text(attempt.job_key).Int(attempt.attempt).Int(attempt.slot).Int(attempt.gpu);
    q.Real(attempt.start).OptReal(attempt.end).OptInt(attempt.exit_code).OptInt(attempt.signal);
    q.Text(attempt.outcome).Int(attempt.oom ? 1 : 0).OptInt(attempt.peak_vram);
    q.OptInt(attempt.peak_rss).Real(attempt.cpu_seconds).Real(attempt.wall_seconds);
    q.Text(attempt.stdout_log).Text(attempt.stderr_log);
    return q.Run();
  });
}

Status Journal::ReplayStart(int64_t batch, const AttemptRecord& attempt, bool* added) {
  *added = false;
  return Write([&]() -> Status {
    Query q(this, Stmt::kInsertAttemptIfNew);
    q.Int(batch).Text(attempt.job_key).Int(attempt.attempt).Int(attempt.slot).Int(attempt.gpu);
    q.Real(attempt.start).Text(attempt.stdout_log).Text(attempt.stderr_log);
    Status status = q.Run();
    if (!status.ok() || sqlite3_changes(db_) == 0) return status;
    *added = true;
    return Query(this, Stmt::kStartJob)
        .Int(attempt.attempt)
        .Int(batch)
        .Text(attempt.job_key)
        .Run();
  });
}

Status Journal::ReplayEnd(int64_t batch, const AttemptRecord& attempt, JobState state,
                          bool* applied) {
  *applied = false;
  return Write([&]() -> Status {
    Query q(this, Stmt::kReplayEnd);
    q.OptReal(attempt.end).OptInt(attempt.exit_code).OptInt(attempt.signal).Text(attempt.outcome);
    q.Int(attempt.oom ? 1 : 0).Real(attempt.wall_seconds);
    q.Int(batch).Text(attempt.job_key).Int(attempt.attempt);
    Status status = q.Run();
    if (!status.ok() || sqlite3_changes(db_) == 0) return status;
    *applied = true;
    return Query(this, Stmt::kSetRunningJobState)
        .Text(JobStateName(state))
        .Int(batch)
        .Text(attempt.job_key)
        .Run();
  });
}

Status Journal::EndAttempt(int64_t batch, const AttemptRecord& attempt) {
  Query q(this, Stmt::kEndAttempt);
  q.OptReal(attempt.end).OptInt(attempt.exit_code).OptInt(attempt.signal).Text(attempt.outcome);
  q.Int(attempt.oom ? 1 : 0).OptInt(attempt.peak_vram).OptInt(attempt.peak_rss);
  q.Real(attempt.cpu_seconds).Real(attempt.wall_seconds);
  q.Int(batch).Text(attempt.job_key).Int(attempt.attempt);
  Status status = q.Run();
  if (status.ok() && sqlite3_changes(db_) == 0) {
    status = Status::Error(fmt::format("journal {}: batch {} has no attempt {} of job '{}'", path_,
                                       batch, attempt.attempt, attempt.job_key));
  }
  return status;
}

Status Journal::Attempts(int64_t batch, std::vector<AttemptRecord>* out) {
  out->clear();
  Query q(this, Stmt::kAttempts);
  q.Int(batch);
  bool row = false;
  Status status;
  while ((status = q.Step(&row)).ok() && row) {
    AttemptRecord a;
    a.job_key = q.ColText(0);
    a.attempt = static_cast<int>(q.ColInt(1));
    a.slot = static_cast<int>(q.ColInt(2));
    a.gpu = static_cast<int>(q.ColInt(3));
    a.start = q.ColReal(4);
    a.end = q.ColOptReal(5);
    a.exit_code = q.ColOptInt<int>(6);
    a.signal = q.ColOptInt<int>(7);
    a.outcome = q.ColText(8);
    a.oom = q.ColInt(9) != 0;
    a.peak_vram = q.ColOptInt<uint64_t>(10);
    a.peak_rss = q.ColOptInt<uint64_t>(11);
    a.cpu_seconds = q.ColReal(12);
    a.wall_seconds = q.ColReal(13);
    a.stdout_log = q.ColText(14);
    a.stderr_log = q.ColText(15);
    out->push_back(std::move(a));
  }
  return status;
}

// --- Samples and events ---

Status Journal::BatchStart(int64_t batch, double* started_at) {
  auto it = batch_start_.find(batch);
  if (it != batch_start_.end()) {
    *started_at = it->second;
    return Status::Ok();
  }
  Query q(this, Stmt::kBatchStart);
  q.Int(batch);
  bool row = false;
  Status status = q.Step(&row);
  if (!status.ok()) return status;
  if (!row) return Status::Error(fmt::format("journal {}: no batch {}", path_, batch));
  *started_at = q.ColReal(0);
  batch_start_[batch] = *started_at;
  return Status::Ok();
}

Status Journal::AddSample(int64_t batch, const SampleRecord& sample) {
  double started_at = 0;
  Status status = BatchStart(batch, &started_at);
  if (!status.ok()) return status;
  std::pair<int64_t, int> series{batch, sample.gpu};
  std::optional<double> last;
  if (auto it = last_sample_.find(series); it != last_sample_.end()) {
    last = it->second;
  } else {
    Query q(this, Stmt::kLastSample);
    q.Int(batch).Int(sample.gpu);
    bool row = false;
    status = q.Step(&row);
    if (!status.ok()) return status;
    if (row) last = q.ColOptReal(0);  // max() of no rows is NULL
  }
  double interval = SampleInterval(sample.t - started_at);
  if (last && interval > 0 && sample.t - *last < interval) return Status::Ok();  // dropped
  Query q(this, Stmt::kInsertSample);
  q.Int(batch).Real(sample.t).Int(sample.gpu).Int(static_cast<int64_t>(sample.used));
  q.Int(static_cast<int64_t>(sample.total)).OptInt(sample.temperature_c);
  q.OptInt(sample.utilization_pct);
  status = q.Run();
  if (status.ok()) last_sample_[series] = sample.t;
  return status;
}

Status Journal::AddEvent(int64_t batch, const EventRecord& event) {
  Query q(this, Stmt::kInsertEvent);
  q.Int(batch).Real(event.t).Text(event.kind).Int(event.gpu).Int(event.value).Text(event.text);
  return q.Run();
}

Status Journal::Samples(int64_t batch, std::vector<SampleRecord>* out) {
  out->clear();
  Query q(this, Stmt::kSamples);
  q.Int(batch);
  bool row = false;
  Status status;
  while ((status = q.Step(&row)).ok() && row) {
    SampleRecord s;
    s.t = q.ColReal(0);
    s.gpu = static_cast<int>(q.ColInt(1));
    s.used = static_cast<uint64_t>(q.ColInt(2));
    s.total = static_cast<uint64_t>(q.ColInt(3));
    s.temperature_c = q.ColOptInt<int>(4);
    s.utilization_pct = q.ColOptInt<int>(5);
    out->push_back(s);
  }
  return status;
}

Status Journal::Events(int64_t batch, std::vector<EventRecord>* out) {
  out->clear();
  Query q(this, Stmt::kEvents);
  q.Int(batch);
  bool row = false;
  Status status;
  while ((status = q.Step(&row)).ok() && row) {
    EventRecord e;
    e.t = q.ColReal(0);
    e.kind = q.ColText(1);
    e.gpu = static_cast<int>(q.ColInt(2));
    e.value = q.ColInt(3);
    e.text = q.ColText(4);
    out->push_back(std::move(e));
  }
  return status;
}

Status Journal::AddFootprint(const FootprintRecord& record) {
  Query q(this, Stmt::kInsertFootprint);
  q.Text(record.job_class).Text(record.kind).Int(static_cast<int64_t>(record.input));
  q.Int(static_cast<int64_t>(record.value)).Real(record.t).Int(record.batch);
  return q.Run();
}

Status Journal::CountFootprintJobs(const std::string& job_class, int64_t jobs, double t) {
  Query count(this, Stmt::kCountFootprintJob);
  count.Text(job_class).Int(jobs).Real(t);
  return count.Run();
}

Status Journal::RecentFootprints(size_t per_kind, std::vector<FootprintRecord>* out) {
  out->clear();
  if (schema_version_ != 0 && schema_version_ < 2) return Status::Ok();
  Query q(this, Stmt::kRecentFootprints);
  q.Int(static_cast<int64_t>(per_kind));
  bool row = false;
  Status status;
  while ((status = q.Step(&row)).ok() && row) {
    FootprintRecord f;
    f.job_class = q.ColText(0);
    f.kind = q.ColText(1);
    f.input = static_cast<uint64_t>(std::max<int64_t>(0, q.ColInt(2)));
    f.value = static_cast<uint64_t>(std::max<int64_t>(0, q.ColInt(3)));
    f.t = q.ColReal(4);
    f.batch = q.ColInt(5);
    out->push_back(std::move(f));
  }
  return status;
}

Status Journal::FootprintClasses(std::vector<FootprintClassRecord>* out) {
  out->clear();
  if (schema_version_ != 0 && schema_version_ < 2) return Status::Ok();
  Query q(this, Stmt::kFootprintClasses);
  bool row = false;
  Status status;
  while ((status = q.Step(&row)).ok() && row) {
    out->push_back({q.ColText(0), q.ColInt(1), q.ColReal(2)});
  }
  return status;
}

Status Journal::PruneFootprints(size_t per_kind) {
  Query q(this, Stmt::kPruneFootprints);
  q.Int(static_cast<int64_t>(per_kind));
  return q.Run();
}

Status Journal::ForgetFootprints(const std::optional<std::string>& job_class,
                                 int64_t* forgotten) {
  *forgotten = 0;
  return Write([&]() -> Status {
    Query classes(this, job_class ? Stmt::kForgetFootprintClass : Stmt::kForgetAllFootprintClasses);
    if (job_class) classes.Text(*job_class);
    Status status = classes.Run();
    if (!status.ok()) return status;
    *forgotten = sqlite3_changes(db_);
    Query rows(this, job_class ? Stmt::kForgetFootprintRows : Stmt::kForgetAllFootprintRows);
    if (job_class) rows.Text(*job_class);
    return rows.Run();
  });
}

}  // namespace headroom

#include "journal/schema.h"

namespace headroom {

const std::vector<const char*>& JournalMigrations() {
  // Text columns hold bytes as given (file names need not be UTF-8); argv is
  // a BLOB of NUL-terminated strings. Job states are stored by name
  // (JobStateName, jobs/outcome.h) so that the file reads well in the sqlite3 shell.
  static const std::vector<const char*> kSteps = {
      // 0 -> 1
      R"sql(
CREATE TABLE batches(
  id INTEGER PRIMARY KEY,
  started_at REAL NOT NULL,
  ended_at REAL,
  exit_code INTEGER,
  host TEXT NOT NULL,
  command_template TEXT NOT NULL,
  input_source TEXT NOT NULL,
  options_json TEXT NOT NULL,
  pid INTEGER NOT NULL);
CREATE INDEX batches_by_command ON batches(command_template, input_source);
CREATE TABLE jobs(
  batch INTEGER NOT NULL REFERENCES batches(id),
  key TEXT NOT NULL,
  number INTEGER NOT NULL,
  name TEXT NOT NULL,
  input TEXT NOT NULL,
  argv BLOB NOT NULL,
  output TEXT NOT NULL,
  priority INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  PRIMARY KEY(batch, key)) WITHOUT ROWID;
CREATE TABLE attempts(
  batch INTEGER NOT NULL,
  job_key TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  gpu INTEGER NOT NULL,
  started_at REAL NOT NULL,
  ended_at REAL,
  exit_code INTEGER,
  signal INTEGER,
  outcome TEXT NOT NULL,
  oom INTEGER NOT NULL,
  peak_vram INTEGER,
  peak_rss INTEGER,
  cpu_seconds REAL NOT NULL,
  wall_seconds REAL NOT NULL,
  stdout_log TEXT NOT NULL,
  stderr_log TEXT NOT NULL,
  PRIMARY KEY(batch, job_key, attempt),
  FOREIGN KEY(batch, job_key) REFERENCES jobs(batch, key)) WITHOUT ROWID;
CREATE TABLE samples(
  batch INTEGER NOT NULL REFERENCES batches(id),
  t REAL NOT NULL,
  gpu INTEGER NOT NULL,
  used INTEGER NOT NULL,
  total INTEGER NOT NULL,
  temperature_c INTEGER,
  utilization_pct INTEGER);
CREATE INDEX samples_by_batch ON samples(batch, gpu, t);
CREATE TABLE events(
  batch INTEGER NOT NULL REFERENCES batches(id),
  t REAL NOT NULL,
  kind TEXT NOT NULL,
  gpu INTEGER NOT NULL,
  value INTEGER NOT NULL,
  text TEXT NOT NULL);
CREATE INDEX events_by_batch ON events(batch);
)sql",
      // 1 -> 2: what jobs of each class (command template) measured, the
      // prior of the next batch of that class (sched/footprint_model.h).
      // class: the template's words joined by U+001F; kind: 'vram', 'rss'
      // (bytes) or 'wall_ms'. footprint_classes counts the jobs that taught
      // each class, footprints keeps only the newest rows of each.
      R"sql(
CREATE TABLE footprints(
  class TEXT NOT NULL,
  kind TEXT NOT NULL,
  input INTEGER NOT NULL,
  value INTEGER NOT NULL,
  t REAL NOT NULL,
  batch INTEGER NOT NULL);
CREATE INDEX footprints_by_class ON footprints(class, kind);
CREATE TABLE footprint_classes(
  class TEXT PRIMARY KEY,
  jobs INTEGER NOT NULL,
  last_t REAL NOT NULL) WITHOUT ROWID;
)sql",
  };
  return kSteps;
}

}  // namespace headroom

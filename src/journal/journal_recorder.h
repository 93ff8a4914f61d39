// JournalRecorder: the Observer that writes a batch into the Journal as it
// runs - each attempt's start and end, job states, resource samples, limit
// changes, notices and what holds the queue - so that a killed run resumes
// exactly where it stopped and `headroom status` can read it live.
//
// Writes are grouped into transactions, committed on the first tick
// `commit_every` after the last commit and at the batch's end. An attempt
// must be durable before its process is spawned (a crash right after the
// spawn still knows the job ran): each launch appends its unit's starts to
// the batch's LaunchLog (one write(2)), which is cleared after each commit.
// Its end must be durable before its output is renamed into place (a crash
// right after the rename must not run the job again): OnJobCommit appends
// the unit's successes to the LaunchLog (one write(2)); any other end is
// appended by OnJobEnd.
// A 10,000-job batch of `true` thus pays one commit per tenth of a second,
// not one per job (a commit costs about as much as all of a job's
// statements), and a job that starts and ends between two commits is
// written with two statements, not four (its attempt whole, and its job's
// state). commit_every is
// short (0.1 s) because an open group holds the journal's write lock, which
// another batch in the same state dir may be waiting for.
//
// Attempt numbers continue across resumes: a job's n-th attempt in this
// run is stored as prior_attempts + n. A job's state becomes "succeeded"
// only in OnJobEnd, which the scheduler calls after its output was renamed
// into place.
//
// Journal errors do not stop the batch (a job's work matters more than its
// record): the first one is kept for status(), and nothing more is written.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exec/log_dir.h"
#include "jobs/observer.h"
#include "journal/journal.h"
#include "journal/launch_log.h"
#include "journal/resume.h"
#include "util/status.h"
#include "util/units.h"

namespace headroom {

struct JournalRecorderConfig {
  int64_t batch = 0;
  std::map<int64_t, JournaledJob> jobs;  // by Job::number (OpenedBatch::jobs)
  Millis commit_every{100};              // about the longest a write waits for its commit
  std::function<double()> wall_clock;    // unix seconds; unset = the system clock
};

class JournalRecorder : public Observer {
 public:
  // Learned footprints kept per class and kind across batches: a few
  // batches' worth of the footprint model's window.
  static constexpr size_t kFootprintsKept = 256;

  // `journal`, `log_dir` (where attempts' logs go, as the runner names
  // them) and `launches` (the batch's, OpenedBatch::launches) must outlive
  // the recorder.
  JournalRecorder(JournalRecorderConfig config, Journal* journal, const LogDir* log_dir,
                  LaunchLog* launches);
  ~JournalRecorder() override;  // commits what is pending
  JournalRecorder(const JournalRecorder&) = delete;
  JournalRecorder& operator=(const JournalRecorder&) = delete;

  void OnJobSkipped(const Job& job, const Counts& counts) override;
  void OnJobLaunch(const Job& job, const LaunchInfo& launch) override;
  // The memory the launch asked for ("requested" event), and the logs of
  // an attempt taken back from a killed headroom (its own, not the ones
  // OnJobLaunch named).
  void OnJobStart(const Job& job, const AttemptStart& start, const Counts& counts) override;
  void OnJobCommit(const Job& job, const AttemptEnd& end, bool last) override;
  void OnJobEnd(const Job& job, const AttemptEnd& end, const Counts& counts) override;
  void OnTick(const Counts& counts, TimePoint now, const std::string& waiting) override;
  void OnNotice(LogLevel level, const std::string& message) override;
  void OnSnapshot(const Snapshot& snapshot) override;
  void OnLimitChange(int device, int limit, const std::string& reason) override;
  void OnLearned(const LearnedFootprint& learned) override;
  // An event "placed": value = the attempt (as journaled), text = the job's
  // key, a tab, where it runs.
  void OnJobPlaced(const Job& job, int attempt, const std::string& where) override;
  void OnBatchEnd(const Counts& counts, TimePoint now) override;

  // Records the batch's end with headroom's exit code, keeps only the
  // newest learned footprints of each class, commits and removes the
  // launch log.
  void Finish(int exit_code);

  // Ok, or the first journal error.
  const Status& status() const { return status_; }

 private:
  // see journal_recorder.cc
  double WallNow() const;
  const JournaledJob* Find(const Job& job);
  AttemptRecord EndRecord(const JournaledJob& journaled, const AttemptEnd& end) const;
  bool Write(const Status& status);  // keeps the first error; true while all is well
  void Open();                       // opens a group unless one is open
  void CommitGroup();
  void AddEvent(const std::string& kind, int gpu, int64_t value, const std::string& text);
  void WriteLessons();  // the buffered learned footprints, then none

  JournalRecorderConfig config_;
  Journal* journal_;
  const LogDir* log_dir_;
  LaunchLog* launches_;
  // Attempts started since the last commit, written at the commit, whole
  // (start and, when it came, end): Journal::AddAttempt.
  struct Pending {
    int64_t number = 0;  // Job::number
    AttemptRecord record;
    JobState state = JobState::kRunning;  // the job's state after it
  };
  std::vector<Pending> pending_;
  std::vector<AttemptRecord> unit_starts_;  // the launching unit's, until its last job
  std::vector<LaunchEnd> unit_ends_;        // the committing unit's successes, until its last
  Status status_;
  std::optional<TimePoint> last_tick_commit_;
  std::optional<std::string> waiting_;  // the last "waiting" recorded; unset before the first
  // The scheduler's ETA, recorded every kEtaEvery (an "eta" event) so that
  // status and report show the estimate the progress line shows.
  static constexpr std::chrono::seconds kEtaEvery{5};
  std::optional<TimePoint> last_eta_;
  // Learned footprints, buffered: the newest kFootprintsKept of each class
  // and kind, and the jobs that taught each class, written every
  // kLessonsEvery and at the end. A batch of 10,000 short jobs must not pay
  // three statements a job for them; one killed loses only its last lessons.
  static constexpr std::chrono::seconds kLessonsEvery{10};
  std::map<std::pair<std::string, std::string>, std::deque<FootprintRecord>> lessons_;
  std::map<std::string, int64_t> taught_jobs_;
  std::optional<TimePoint> last_lessons_;
};

}  // namespace headroom

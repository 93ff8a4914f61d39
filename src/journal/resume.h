// Resume: which batch of the journal a run belongs to - a new one, or the
// one it continues - and what the journal knows of each job of the plan.
// It records what happened; what to run again is the scheduler's decision
// (sched/rerun_policy.h).
//
// A run without --resume creates a new batch. With --resume it continues the
// latest batch of the same command template and input source (--batch ID
// names one, which must match them); when there is none it starts a new one,
// with a notice. Continuing a batch:
//   - takes its BatchLock first, so that two headroom processes never run it;
//   - stops the processes a killed headroom left running for it;
//   - replays the starts its launch log holds (journal/launch_log.h) into
//     the journal;
//   - jobs left running by a killed headroom are queued again in the journal
//     (no process runs them any more), and the temp output each was writing
//     is removed;
//   - the plan's jobs are upserted by key (jobs/job_key.h), so new inputs are
//     added and known ones keep their state and attempt count, which
//     OpenedBatch::jobs reports.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "jobs/plan.h"
#include "journal/batch_lock.h"
#include "journal/journal.h"
#include "journal/launch_log.h"
#include "util/status.h"

namespace headroom {

// Which batch a run belongs to, as the options say.
struct BatchChoice {
  std::string state_dir;          // --state-dir: journal.db, locks, launch logs
  bool resume = false;            // --resume, --resume-failed or --batch: continue a batch
  std::optional<int64_t> batch;   // --batch ID: that batch
};

// What the journal knows of one job of the plan when the run starts.
struct JournaledJob {
  std::string key;
  int prior_attempts = 0;  // attempts started by earlier runs; this run's continue from there
  // Its state in the journal as the run starts (a job new to the batch, or
  // one a killed run left running: queued).
  JobState state = JobState::kQueued;
  // The job is skipped by this run because of its journaled state
  // (sched/rerun_policy.h decides): its state stays as it is.
  bool keep_state = false;
};

struct OpenedBatch {
  int64_t id = 0;
  bool resumed = false;
  std::unique_ptr<BatchLock> lock;       // held for the whole run
  std::unique_ptr<LaunchLog> launches;   // this run's starts until the journal commits them
  std::map<int64_t, JournaledJob> jobs;  // every job of the plan, by Job::number
  int64_t were_running = 0;              // left running by a killed headroom: queued again
  // For the log, when a new batch was started: which, or why a --resume
  // found nothing to continue (then a warning). A resumed batch's notice
  // says what runs again (sched/rerun_policy.h).
  std::string notice;
  bool notice_is_warning = false;
};

// The record of a new batch run by this process now: host, `command`
// shell-joined, `input_source` (jobs/job_key.h, InputSourceText), the
// effective options as JSON, pid.
BatchRecord NewBatchRecord(const std::vector<std::string>& command, std::string input_source,
                           std::string options_json);


// Finds or creates the batch for `record` in `journal` as `choice` says
// (see above), takes its lock, creates its launch log, records `plan`'s jobs
// (keys: JobKeys of the plan) and reports what the journal knows of each.
// Errors (exit 2): --batch ID missing or of another command/source (naming
// both), the batch locked by another headroom, journal errors.
// `stop_leftovers`, when set, is called with the batch's id once its lock is
// held and before anything of it is requeued or removed (exec/leftovers.h);
// it returns the numbers of the jobs that still run elsewhere and will be
// taken back (Slurm jobs): their temp outputs stay.
using StopLeftovers = std::function<std::set<int64_t>(int64_t batch)>;
Status OpenBatch(Journal* journal, const BatchChoice& choice, const BatchRecord& record,
                 const std::map<int64_t, std::string>& keys, const Plan& plan, OpenedBatch* out,
                 const StopLeftovers& stop_leftovers = {});

}  // namespace headroom

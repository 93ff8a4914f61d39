// Resume: which batch of the journal a run belongs to - a new one, or the
// one it continues - and what of its plan is left to do.
//
// A run without --resume creates a new batch. With --resume it continues the
// latest batch of the same command template and input source (--batch ID
// names one, which must match them); when there is none it starts a new one,
// with a notice. Continuing a batch:
//   - takes its BatchLock first, so that two headroom processes never run it;
//   - stops the processes a killed headroom left running for it;
//   - replays the starts its launch log holds (journal/launch_log.h) into
//     the journal;
//   - jobs left running by a killed headroom (and interrupted ones) go back to
//     the queue, and the temp output each was writing is removed;
//   - the plan's jobs are upserted by key (jobs/job_key.h), so new inputs are
//     added and known ones keep their state and attempt count;
//   - succeeded jobs are not run again, nor failed ones unless --resume-failed:
//     both move to the plan's skipped list and are counted apart;
//   - --max-count then keeps the first N of the jobs left to run.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cli/options.h"
#include "jobs/plan.h"
#include "journal/batch_lock.h"
#include "journal/journal.h"
#include "journal/launch_log.h"
#include "util/status.h"

namespace headroom {

// What the journal knows of one job of the plan when the run starts.
struct JournaledJob {
  std::string key;
  int prior_attempts = 0;  // attempts started by earlier runs; this run's continue from there
  // The job is skipped by this run because of its journaled state
  // (succeeded, or failed without --resume-failed): its state stays as it is.
  bool keep_state = false;
};

struct OpenedBatch {
  int64_t id = 0;
  bool resumed = false;
  std::unique_ptr<BatchLock> lock;       // held for the whole run
  std::unique_ptr<LaunchLog> launches;   // this run's starts until the journal commits them
  std::map<int64_t, JournaledJob> jobs;  // every job of the plan, by Job::number
  int64_t already_done = 0;              // succeeded before: moved to plan.skipped
  int64_t failed_before = 0;             // failed before, not rerun: moved to plan.skipped
  int64_t rerun = 0;                     // were running or interrupted: run again
  // For the log: "resuming batch 3: ...", or why a new batch was started.
  std::string notice;
  bool notice_is_warning = false;
};

// Whether the options ask to continue a batch: --resume, --resume-failed or --batch.
bool WantsResume(const Options& options);

// The record of a new batch run by this process now: host, the command
// template shell-joined, InputSourceText, `options_json`, pid.
BatchRecord NewBatchRecord(const Options& options, std::string options_json);

// --print-config's rows ("name = value (source)") as a JSON object
// {"jobs": {"value": "4", "source": "command line"}, ...}.
std::string OptionsJson(const std::string& print_config_text);

// The temp output a job numbered `number` of a headroom with `pid` wrote to
// (plan.h: "<dir>/.<name without ext>.headroom-<pid>-<number><ext>").
std::string TempOutputOf(const std::string& output, int64_t pid, int64_t number);

// Finds or creates the batch for `record` in `journal` as the options say
// (see above), takes its lock, creates its launch log, records `plan`'s jobs (keys: JobKeys of the
// plan), and moves the jobs that are not to run again into plan->skipped.
// Errors (exit 2): --batch ID missing or of another command/source (naming
// both), the batch locked by another headroom, journal errors.
// `stop_leftovers`, when set, is called with the batch's id once its lock is
// held and before anything of it is requeued or removed (exec/leftovers.h).
Status OpenBatch(Journal* journal, const Options& options, const BatchRecord& record,
                 const std::map<int64_t, std::string>& keys, Plan* plan, OpenedBatch* out,
                 const std::function<void(int64_t batch)>& stop_leftovers = {});

}  // namespace headroom

// Rerun policy: which jobs of the plan this run starts, given what the
// journal knows of each (journal/resume.h reports it; this decides).
//   - a job that succeeded in an earlier run of the batch is not run again;
//   - a failed one runs again only with --resume-failed;
//   - queued jobs (new ones, and those a killed run left running) and
//     interrupted ones run;
//   - then --max-count keeps the first N of the jobs left to run, so that
//     `--resume --max-count N` does the next N each time.
// Jobs not run for their journaled state move to the plan's skipped list and
// keep that state in the journal (JournaledJob::keep_state).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "jobs/plan.h"
#include "journal/resume.h"

namespace headroom {

struct RerunConfig {
  bool resume_failed = false;        // --resume-failed
  std::optional<int64_t> max_count;  // --max-count
};

struct RerunCounts {
  int64_t already_done = 0;   // succeeded before: moved to plan.skipped
  int64_t failed_before = 0;  // failed before, not rerun: moved to plan.skipped
};

// Applies the policy to `plan`, setting keep_state in `jobs` (by
// Job::number; a job missing there is new and runs). With no journal at
// all, pass an empty map: only --max-count applies.
RerunCounts DecideReruns(const RerunConfig& config, std::map<int64_t, JournaledJob>* jobs,
                         Plan* plan);

// Before the plan is journaled: a new batch records only the jobs
// --max-count lets run; a resume (`resume`) records every job and cuts what
// is left to run in DecideReruns.
void LimitNewBatch(const RerunConfig& config, bool resume, Plan* plan);

// The notice of a resumed batch: "resuming batch 3: 5 job(s) already done,
// 2 left running or interrupted run again, 1 failed before and not rerun
// (--resume-failed reruns them)".
std::string ResumeNotice(int64_t batch, const RerunCounts& counts, int64_t were_running);

}  // namespace headroom

// Outcomes and states of a batch's jobs, and the one table of their names.
// The scheduler decides an attempt's Outcome; the journal stores attempts and
// job states by the names below; status, reports, metrics, the console, the
// event log and hooks show them. Every enum-to-text translation goes through
// this file, so a name is spelled in one place.
//
// Names, by who reads them (fixed: journals on disk and users' scripts hold them):
//   Outcome       label (console, logs, HEADROOM_JOB_OUTCOME): SUCCESS, FAILED,
//                 TIMEOUT, INTERRUPTED, NOT STARTED
//                 stored (the journal's attempts.outcome): succeeded, failed,
//                 timed-out, interrupted, start-failed; "oom" for any attempt
//                 that ran out of memory
//   AttemptClass  reports and status: running, succeeded, failed, oom,
//                 timeout, interrupted
//   JobState      the journal, status, reports, metrics: queued, running,
//                 succeeded, failed, skipped, interrupted
//   BatchRunState status and reports: running, finished, stopped
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace headroom {

// How one attempt ended, as the scheduler classified it.
enum class Outcome {
  kSucceeded,    // exit 0
  kFailed,       // non-zero exit, or killed by a signal headroom did not send
  kTimedOut,     // headroom killed it after --timeout
  kInterrupted,  // headroom killed it because the batch was interrupted/halted
  kStartFailed,  // could not be spawned, or its output could not be committed
};

// An attempt as reports show it: its stored outcome, with out of memory
// apart (the flag wins), an attempt without an end running, and a start
// failure counted as a failure.
enum class AttemptClass { kRunning, kSucceeded, kFailed, kOom, kTimedOut, kInterrupted };

// Where a job of a journaled batch stands.
enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kSkipped, kInterrupted };
inline constexpr std::array<JobState, 6> kAllJobStates = {
    JobState::kQueued, JobState::kRunning, JobState::kSucceeded,
    JobState::kFailed, JobState::kSkipped, JobState::kInterrupted};

// A batch as a reader of the journal finds it: kRunning while a headroom
// holds its lock; kStopped with no end recorded and nobody holding the lock
// (the headroom running it was killed).
enum class BatchRunState { kRunning, kFinished, kStopped };

std::string_view OutcomeLabel(Outcome outcome);  // "SUCCESS", "TIMEOUT", "NOT STARTED", ...
// The journal's name of an attempt's end: "oom" when it ran out of memory,
// else the outcome's stored name ("timed-out", "start-failed", ...).
std::string_view StoredOutcome(Outcome outcome, bool out_of_memory);

// A stored attempt's class. `stored` is read loosely (any case; the stored
// names and "success", "ok", "timeout", "timed out", "out of memory" and
// the like); `oom` (the journal's flag) wins; without an end the attempt is
// running; anything else is a failure.
AttemptClass ClassifyStoredOutcome(std::string_view stored, bool oom, bool ended);
std::string_view AttemptClassName(AttemptClass attempt_class);  // "timeout", "oom", ...

std::string_view JobStateName(JobState state);  // "queued", "succeeded", ...
std::optional<JobState> ParseJobState(std::string_view name);

std::string_view BatchRunStateName(BatchRunState state);  // "running", "finished", "stopped"

}  // namespace headroom

#include "jobs/outcome.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace headroom {
namespace {

struct OutcomeNames {
  Outcome key;
  std::string_view label;
  std::string_view stored;
};

constexpr OutcomeNames kOutcomeNames[] = {
    {Outcome::kSucceeded, "SUCCESS", "succeeded"},
    {Outcome::kFailed, "FAILED", "failed"},
    {Outcome::kTimedOut, "TIMEOUT", "timed-out"},
    {Outcome::kInterrupted, "INTERRUPTED", "interrupted"},
    {Outcome::kStartFailed, "NOT STARTED", "start-failed"},
};
constexpr std::string_view kStoredOom = "oom";

// Each class's name, then the other spellings a stored outcome may have
// (older journals, hand-made ones) that read as it.
struct AttemptClassNames {
  AttemptClass key;
  std::string_view name;
  std::array<std::string_view, 4> aliases;
};

constexpr AttemptClassNames kAttemptClassNames[] = {
    {AttemptClass::kRunning, "running", {}},
    {AttemptClass::kSucceeded, "succeeded", {"success", "ok"}},
    {AttemptClass::kFailed, "failed", {"start-failed"}},
    {AttemptClass::kOom, "oom", {"out of memory", "out_of_memory"}},
    {AttemptClass::kTimedOut, "timeout", {"timed-out", "timed out", "timed_out"}},
    {AttemptClass::kInterrupted, "interrupted", {}},
};

struct JobStateNames {
  JobState key;
  std::string_view name;
};

constexpr JobStateNames kJobStateNames[] = {
    {JobState::kQueued, "queued"},       {JobState::kRunning, "running"},
    {JobState::kSucceeded, "succeeded"}, {JobState::kFailed, "failed"},
    {JobState::kSkipped, "skipped"},     {JobState::kInterrupted, "interrupted"},
};

struct BatchRunStateNames {
  BatchRunState key;
  std::string_view name;
};

constexpr BatchRunStateNames kBatchRunStateNames[] = {
    {BatchRunState::kRunning, "running"},
    {BatchRunState::kFinished, "finished"},
    {BatchRunState::kStopped, "stopped"},
};

// The row of `table` for `key`: each table has a row for every value of its enum.
template <typename Row, size_t N, typename Key>
const Row& RowOf(const Row (&table)[N], Key key) {
  for (const Row& row : table) {
    if (row.key == key) return row;
  }
  return table[0];  // unreachable for a valid enum value
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

}  // namespace

std::string_view OutcomeLabel(Outcome outcome) { return RowOf(kOutcomeNames, outcome).label; }

std::string_view StoredOutcome(Outcome outcome, bool out_of_memory) {
  return out_of_memory ? kStoredOom : RowOf(kOutcomeNames, outcome).stored;
}

AttemptClass ClassifyStoredOutcome(std::string_view stored, bool oom, bool ended) {
  if (oom) return AttemptClass::kOom;
  std::string name = Lower(stored);
  // An interrupted attempt may have no end: a killed run's, closed by a resume.
  if (name == RowOf(kAttemptClassNames, AttemptClass::kInterrupted).name) {
    return AttemptClass::kInterrupted;
  }
  if (!ended) return AttemptClass::kRunning;
  for (const AttemptClassNames& row : kAttemptClassNames) {
    if (row.key == AttemptClass::kRunning || row.key == AttemptClass::kInterrupted) continue;
    bool alias = std::any_of(row.aliases.begin(), row.aliases.end(), [&](std::string_view a) {
      return !a.empty() && a == name;
    });
    if (name == row.name || alias) return row.key;
  }
  return AttemptClass::kFailed;
}

std::string_view AttemptClassName(AttemptClass attempt_class) {
  return RowOf(kAttemptClassNames, attempt_class).name;
}

std::string_view JobStateName(JobState state) { return RowOf(kJobStateNames, state).name; }

std::optional<JobState> ParseJobState(std::string_view name) {
  for (const JobStateNames& row : kJobStateNames) {
    if (row.name == name) return row.key;
  }
  return std::nullopt;
}

std::string_view BatchRunStateName(BatchRunState state) {
  return RowOf(kBatchRunStateNames, state).name;
}

}  // namespace headroom

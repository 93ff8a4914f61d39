#include "journal/batch_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "journal/batch_lock.h"
#include "journal/launch_log.h"

namespace headroom {

BatchRunState BatchData::state() const {
  if (batch.ended_at) return BatchRunState::kFinished;
  return lock_held ? BatchRunState::kRunning : BatchRunState::kStopped;
}

namespace {

// A killed batch's launch log holds the starts of its last moments that the
// journal never committed: they show as running, as a resume will see them.
// What the launch log of a stopped batch holds that the journal lacks: its
// starts as running attempts, its ends closing them (with their jobs'
// states), as a resume would replay them. A launch log that cannot be read
// is left to the resume to report.
void AddUncommittedRecords(const std::string& state_dir, BatchData* data) {
  LaunchRecords launches;
  if (!LaunchLog::Read(LaunchLog::PathIn(state_dir, data->batch.id), &launches).ok()) return;
  if (launches.starts.empty() && launches.ends.empty()) return;
  std::set<std::pair<std::string, int>> known;
  for (const AttemptRecord& a : data->attempts) known.emplace(a.job_key, a.attempt);
  std::map<std::string, JobRecord*> jobs;
  for (JobRecord& job : data->jobs) jobs.emplace(job.key, &job);
  for (AttemptRecord& start : launches.starts) {
    auto job = jobs.find(start.job_key);
    if (job == jobs.end() || !known.emplace(start.job_key, start.attempt).second) continue;
    job->second->state = JobState::kRunning;
    job->second->attempts = std::max(job->second->attempts, start.attempt);
    data->attempts.push_back(std::move(start));
  }
  std::map<std::pair<std::string, int>, AttemptRecord*> open;  // attempts without an end
  for (AttemptRecord& attempt : data->attempts) {
    if (!attempt.end) open.emplace(std::pair(attempt.job_key, attempt.attempt), &attempt);
  }
  for (const LaunchEnd& end : launches.ends) {
    auto found = open.find({end.attempt.job_key, end.attempt.attempt});
    if (found == open.end()) continue;
    AttemptRecord& attempt = *found->second;
    attempt.end = end.attempt.end;
    attempt.exit_code = end.attempt.exit_code;
    attempt.signal = end.attempt.signal;
    attempt.outcome = end.attempt.outcome;
    attempt.oom = end.attempt.oom;
    attempt.wall_seconds = end.attempt.wall_seconds;
    open.erase(found);
    auto job = jobs.find(end.attempt.job_key);
    if (job != jobs.end() && job->second->state == JobState::kRunning) {
      job->second->state = end.state;
    }
  }
  std::stable_sort(data->attempts.begin(), data->attempts.end(),
                   [](const AttemptRecord& a, const AttemptRecord& b) { return a.start < b.start; });
}

}  // namespace

Status LoadBatchData(const std::string& state_dir, std::optional<int64_t> id, BatchData* out) {
  *out = BatchData();
  std::unique_ptr<Journal> journal;
  Status status = Journal::OpenReadOnly(state_dir, &journal);
  if (!status.ok()) return status;
  BatchRecord batch;
  status = journal->ChosenBatch(id, &batch);
  if (!status.ok()) return status;
  out->batch = batch;
  // The lock first: a batch that ends between the two reads then shows as
  // finished, never as stopped.
  out->lock_held = BatchLock::IsHeld(state_dir, batch.id);
  status = journal->Jobs(batch.id, &out->jobs);
  if (status.ok()) status = journal->Attempts(batch.id, &out->attempts);
  if (status.ok()) status = journal->Samples(batch.id, &out->samples);
  if (status.ok()) status = journal->Events(batch.id, &out->events);
  if (!status.ok()) return status;
  // Reread the end: it may have been written while the rest was read.
  std::optional<BatchRecord> again;
  status = journal->FindBatch(batch.id, &again);
  if (status.ok() && again) out->batch = *again;
  if (status.ok() && out->state() == BatchRunState::kStopped) AddUncommittedRecords(state_dir, out);
  return status;
}

}  // namespace headroom

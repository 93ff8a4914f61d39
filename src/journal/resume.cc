#include "journal/resume.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "jobs/output.h"
#include "journal/launch_log.h"
#include "util/shell_quote.h"

namespace headroom {
namespace {

std::string HostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string Describe(const BatchRecord& batch) {
  return fmt::format("[{}] on [{}]", batch.command_template, batch.input_source);
}

// The batch --resume / --batch asks for; unset when a new one is to start
// (then `why` says why, for the notice).
Status FindTarget(Journal* journal, const BatchChoice& choice, const BatchRecord& record,
                  std::optional<BatchRecord>* target, std::string* why) {
  if (choice.batch) {
    Status status = journal->FindBatch(*choice.batch, target);
    if (!status.ok()) return status;
    if (!*target) {
      return Status::Error(
          fmt::format("--batch {}: no such batch in {}", *choice.batch, journal->path()));
    }
    const BatchRecord& found = **target;
    if (found.command_template != record.command_template ||
        found.input_source != record.input_source) {
      return Status::Error(fmt::format("--batch {} is a batch of {}, not of {}", found.id,
                                       Describe(found), Describe(record)));
    }
    return Status::Ok();
  }
  Status status = journal->LatestBatchFor(record.command_template, record.input_source, target);
  if (status.ok() && !*target) {
    *why = fmt::format("no batch of this command and input to resume in {}", journal->path());
  }
  return status;
}

// A job record's outputs as the run of `pid` named them.
Job OutputsOf(const JobRecord& record, int64_t pid) {
  Job job;
  job.output = record.output;
  if (!record.output.empty()) job.temp_output = TempOutputPath(record.output, pid, record.number);
  return job;
}

// A killed headroom left these jobs' temp outputs half written, but for
// those still running elsewhere (`kept`), which a resume takes back.
void RemovePartialOutputs(const std::vector<JobRecord>& were_running, int64_t pid,
                          const std::set<int64_t>& kept) {
  for (const JobRecord& job : were_running) {
    if (!kept.contains(job.number)) DiscardOutput(OutputsOf(job, pid));
  }
}

// Stores every job of the plan in `batch`, 1024 at a time: the records are
// a second copy of the plan, which a batch of 10^5 jobs should not hold all
// at once. In one transaction (the caller's, or its own).
Status UpsertPlan(Journal* journal, int64_t batch, const Plan& plan,
                  const std::map<int64_t, std::string>& keys) {
  constexpr size_t kChunk = 1024;
  bool own = !journal->in_transaction();
  Status status = own ? journal->Begin() : Status::Ok();
  std::vector<JobRecord> records;
  records.reserve(kChunk);
  auto flush = [&] {
    if (status.ok() && !records.empty()) status = journal->UpsertJobs(batch, records);
    records.clear();
  };
  for (const std::vector<Job>* list : {&plan.to_run, &plan.skipped}) {
    for (const Job& job : *list) {
      JobRecord record;
      record.key = keys.at(job.number);
      record.number = job.number;
      record.name = job.name;
      record.input = job.input;
      record.argv = job.argv_template;
      record.output = job.output;
      record.priority = job.priority;
      records.push_back(std::move(record));
      if (records.size() == kChunk) flush();
    }
  }
  flush();
  if (own && status.ok()) status = journal->Commit();
  return status;
}

// A success replayed from the launch log: its output is whole (the job
// exited 0) but the killed run may not have renamed it into place yet; then
// this does. False when neither the temp nor the final output exists: the
// success left nothing, so the job runs again.
bool CommitReplayedOutput(const JobRecord& job, int64_t pid) {
  return CommitOutput(OutputsOf(job, pid), /*output_given=*/true).ok();
}

// What a killed run wrote to its launch log but had not committed yet goes
// into the journal: a start sets its job running (requeued below, its
// partial output removed, as any job left running); an end closes its
// attempt and sets its job's state, so that a job that ended before the
// kill is not run again. `batch.pid` ran them: temp names carry it.
Status ReplayLaunches(Journal* journal, const std::string& state_dir, const BatchRecord& batch) {
  LaunchRecords launches;
  Status status = LaunchLog::Read(LaunchLog::PathIn(state_dir, batch.id), &launches);
  for (size_t i = 0; status.ok() && i < launches.starts.size(); ++i) {
    bool added = false;
    status = journal->ReplayStart(batch.id, launches.starts[i], &added);
  }
  if (!status.ok() || launches.ends.empty()) return status;
  std::vector<JobRecord> jobs;
  status = journal->Jobs(batch.id, &jobs);
  std::map<std::string, const JobRecord*> by_key;
  for (const JobRecord& job : jobs) by_key.emplace(job.key, &job);
  for (size_t i = 0; status.ok() && i < launches.ends.size(); ++i) {
    const LaunchEnd& end = launches.ends[i];
    auto job = by_key.find(end.attempt.job_key);
    if (job == by_key.end()) continue;
    if (end.state == JobState::kSucceeded && !CommitReplayedOutput(*job->second, batch.pid)) {
      continue;
    }
    bool applied = false;
    status = journal->ReplayEnd(batch.id, end.attempt, end.state, &applied);
  }
  return status;
}

// Continues `batch`: requeues what a killed run left running, records the
// plan's jobs and reports what the journal knows of each.
Status Continue(Journal* journal, const BatchRecord& batch,
                const std::map<int64_t, std::string>& keys, const Plan& plan,
                const std::set<int64_t>& kept, OpenedBatch* out) {
  std::vector<JobRecord> were_running;
  Status status = journal->RequeueRunning(batch.id, &were_running);
  if (!status.ok()) return status;
  // batch.pid is the headroom that ran them: their temp names carry it.
  RemovePartialOutputs(were_running, batch.pid, kept);
  out->were_running = static_cast<int64_t>(were_running.size());
  status = journal->ResumeBatch(batch.id, getpid());
  if (status.ok()) {
    // Where this run starts: reports leave out the downtime before it.
    EventRecord resumed;
    resumed.t = WallNow();
    resumed.kind = "resumed";
    resumed.value = getpid();
    resumed.text = fmt::format("resumed by pid {}", getpid());
    status = journal->AddEvent(batch.id, resumed);
  }
  if (status.ok()) status = UpsertPlan(journal, batch.id, plan, keys);
  if (!status.ok()) return status;
  // Row by row into the plan's own entries, looked up by key: no second
  // copy of the jobs (10^5 of them on a large resume).
  std::unordered_map<std::string_view, JournaledJob*> by_key;
  by_key.reserve(out->jobs.size());
  for (auto& [number, job] : out->jobs) by_key.emplace(job.key, &job);
  return journal->ForEachJobState(
      batch.id, [&by_key](std::string_view key, JobState state, int attempts) {
        auto job = by_key.find(key);
        if (job == by_key.end()) return;  // a job of an earlier run not in this plan
        job->second->prior_attempts = attempts;
        job->second->state = state;
      });
}

}  // namespace

BatchRecord NewBatchRecord(const std::vector<std::string>& command, std::string input_source,
                           std::string options_json) {
  BatchRecord record;
  record.started_at = WallNow();
  record.host = HostName();
  record.command_template = ShellJoin(command);
  record.input_source = std::move(input_source);
  record.options_json = std::move(options_json);
  record.pid = getpid();
  return record;
}

Status OpenBatch(Journal* journal, const BatchChoice& choice, const BatchRecord& record,
                 const std::map<int64_t, std::string>& keys, const Plan& plan, OpenedBatch* out,
                 const StopLeftovers& stop_leftovers) {
  for (const auto& [number, key] : keys) out->jobs[number].key = key;
  std::optional<BatchRecord> target;
  std::string why;
  if (choice.resume) {
    Status status = FindTarget(journal, choice, record, &target, &why);
    if (!status.ok()) return status;
  }
  if (target) {
    out->id = target->id;
    out->resumed = true;
    Status status = BatchLock::Acquire(choice.state_dir, out->id, &out->lock);
    std::set<int64_t> kept;
    if (status.ok() && stop_leftovers) kept = stop_leftovers(out->id);
    // One transaction: a resume killed half-way has changed nothing (the
    // launch log stays until the journal has what it held).
    if (status.ok()) status = journal->Begin();
    if (status.ok()) status = ReplayLaunches(journal, choice.state_dir, *target);
    if (status.ok()) status = Continue(journal, *target, keys, plan, kept, out);
    if (status.ok()) status = journal->Commit();
    if (status.ok()) {
      status = LaunchLog::Create(LaunchLog::PathIn(choice.state_dir, out->id), &out->launches);
    }
    return status;
  }
  BatchRecord fresh = record;
  Status status = journal->CreateBatch(&fresh);
  if (!status.ok()) return status;
  out->id = fresh.id;
  status = BatchLock::Acquire(choice.state_dir, out->id, &out->lock);
  if (status.ok()) status = UpsertPlan(journal, out->id, plan, keys);
  if (status.ok()) {
    status = LaunchLog::Create(LaunchLog::PathIn(choice.state_dir, out->id), &out->launches);
  }
  if (!status.ok()) return status;
  if (!why.empty()) {
    out->notice = fmt::format("{}; starting batch {}", why, out->id);
    out->notice_is_warning = true;
  } else {
    out->notice = fmt::format("batch {} (journal {})", out->id, journal->path());
  }
  return Status::Ok();
}

}  // namespace headroom

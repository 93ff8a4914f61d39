#include "journal/resume.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "jobs/job_key.h"
#include "jobs/placeholder.h"
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
Status FindTarget(Journal* journal, const Options& options, const BatchRecord& record,
                  std::optional<BatchRecord>* target, std::string* why) {
  if (options.batch) {
    Status status = journal->FindBatch(*options.batch, target);
    if (!status.ok()) return status;
    if (!*target) {
      return Status::Error(
          fmt::format("--batch {}: no such batch in {}", *options.batch, journal->path()));
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

// A killed headroom left these jobs' temp outputs half written.
void RemovePartialOutputs(const std::vector<JobRecord>& were_running, int64_t pid) {
  for (const JobRecord& job : were_running) {
    if (job.output.empty()) continue;
    unlink(TempOutputOf(job.output, pid, job.number).c_str());
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

// The starts a killed run wrote to its launch log but had not committed yet
// go into the journal, so that they are requeued (and their partial outputs
// removed) as any job left running.
Status ReplayLaunches(Journal* journal, const std::string& state_dir, int64_t batch) {
  std::vector<AttemptRecord> launches;
  Status status = LaunchLog::Read(LaunchLog::PathIn(state_dir, batch), &launches);
  for (size_t i = 0; status.ok() && i < launches.size(); ++i) {
    bool added = false;
    status = journal->ReplayStart(batch, launches[i], &added);
  }
  return status;
}

// Continues `batch`: requeues what a killed run left running, then keeps
// succeeded (and, without --resume-failed, failed) jobs out of the run.
Status Continue(Journal* journal, const Options& options, const BatchRecord& batch,
                const std::map<int64_t, std::string>& keys, Plan* plan, OpenedBatch* out) {
  std::vector<JobRecord> were_running;
  Status status = journal->RequeueRunning(batch.id, &were_running);
  if (!status.ok()) return status;
  // batch.pid is the headroom that ran them: their temp names carry it.
  RemovePartialOutputs(were_running, batch.pid);
  out->rerun = static_cast<int64_t>(were_running.size());
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
  if (status.ok()) status = UpsertPlan(journal, batch.id, *plan, keys);
  std::vector<JobRecord> known;
  if (status.ok()) status = journal->Jobs(batch.id, &known);
  if (!status.ok()) return status;
  std::map<std::string, const JobRecord*> by_key;
  for (const JobRecord& job : known) by_key.emplace(job.key, &job);

  for (auto& [number, job] : out->jobs) {
    const JobRecord& record = *by_key.at(job.key);
    job.prior_attempts = record.attempts;
    job.keep_state = record.state == JobState::kSucceeded ||
                     (record.state == JobState::kFailed && !options.resume_failed);
  }
  std::vector<Job> to_run;
  for (Job& job : plan->to_run) {
    JournaledJob& journaled = out->jobs.at(job.number);
    if (!journaled.keep_state) {
      to_run.push_back(std::move(job));
      continue;
    }
    ++(by_key.at(journaled.key)->state == JobState::kSucceeded ? out->already_done
                                                               : out->failed_before);
    plan->skipped.push_back(std::move(job));
  }
  plan->to_run = std::move(to_run);
  out->notice =
      fmt::format("resuming batch {}: {} job(s) already done", batch.id, out->already_done);
  if (out->rerun > 0) {
    out->notice += fmt::format(", {} left running or interrupted run again", out->rerun);
  }
  if (out->failed_before > 0) {
    out->notice += fmt::format(", {} failed before and not rerun (--resume-failed reruns them)",
                               out->failed_before);
  }
  return Status::Ok();
}

}  // namespace

bool WantsResume(const Options& options) {
  return options.resume || options.resume_failed || options.batch.has_value();
}

BatchRecord NewBatchRecord(const Options& options, std::string options_json) {
  BatchRecord record;
  record.started_at = WallNow();
  record.host = HostName();
  record.command_template = ShellJoin(options.command);
  record.input_source = InputSourceText(options);
  record.options_json = std::move(options_json);
  record.pid = getpid();
  return record;
}

std::string OptionsJson(const std::string& print_config_text) {
  nlohmann::ordered_json options = nlohmann::ordered_json::object();
  size_t start = 0;
  while (start < print_config_text.size()) {
    size_t end = print_config_text.find('\n', start);
    if (end == std::string::npos) end = print_config_text.size();
    std::string line = print_config_text.substr(start, end - start);
    start = end + 1;
    size_t eq = line.find(" = ");
    size_t open = line.rfind(" (");
    if (eq == std::string::npos || open == std::string::npos || open < eq || line.back() != ')') {
      continue;
    }
    auto trimmed = [](std::string text) {
      while (!text.empty() && text.back() == ' ') text.pop_back();
      return text;
    };
    std::string name = trimmed(line.substr(0, eq));
    options[name] = {{"value", trimmed(line.substr(eq + 3, open - eq - 3))},
                     {"source", line.substr(open + 2, line.size() - open - 3)}};
  }
  // Values are bytes as given; invalid UTF-8 must not make dump() throw.
  return options.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string TempOutputOf(const std::string& output, int64_t pid, int64_t number) {
  size_t slash = output.rfind('/');
  std::string dir = slash == std::string::npos ? "." : output.substr(0, slash);
  std::string name = slash == std::string::npos ? output : output.substr(slash + 1);
  return fmt::format("{}/.{}.headroom-{}-{}{}", dir, StripExtension(name), pid, number,
                     Extension(name));
}

Status OpenBatch(Journal* journal, const Options& options, const BatchRecord& record,
                 const std::map<int64_t, std::string>& keys, Plan* plan, OpenedBatch* out,
                 const std::function<void(int64_t batch)>& stop_leftovers) {
  for (const auto& [number, key] : keys) out->jobs[number].key = key;
  std::optional<BatchRecord> target;
  std::string why;
  if (WantsResume(options)) {
    Status status = FindTarget(journal, options, record, &target, &why);
    if (!status.ok()) return status;
  }
  if (target) {
    out->id = target->id;
    out->resumed = true;
    Status status = BatchLock::Acquire(options.state_dir, out->id, &out->lock);
    if (status.ok() && stop_leftovers) stop_leftovers(out->id);
    // One transaction: a resume killed half-way has changed nothing (the
    // launch log stays until the journal has what it held).
    if (status.ok()) status = journal->Begin();
    if (status.ok()) status = ReplayLaunches(journal, options.state_dir, out->id);
    if (status.ok()) status = Continue(journal, options, *target, keys, plan, out);
    if (status.ok()) status = journal->Commit();
    if (status.ok()) {
      status = LaunchLog::Create(LaunchLog::PathIn(options.state_dir, out->id), &out->launches);
    }
    ApplyMaxCount(options, plan);  // of the jobs left to run
    return status;
  }
  BatchRecord fresh = record;
  Status status = journal->CreateBatch(&fresh);
  if (!status.ok()) return status;
  out->id = fresh.id;
  status = BatchLock::Acquire(options.state_dir, out->id, &out->lock);
  if (status.ok()) status = UpsertPlan(journal, out->id, *plan, keys);
  if (status.ok()) {
    status = LaunchLog::Create(LaunchLog::PathIn(options.state_dir, out->id), &out->launches);
  }
  if (!status.ok()) return status;
  ApplyMaxCount(options, plan);  // a --resume that found nothing to resume
  if (!why.empty()) {
    out->notice = fmt::format("{}; starting batch {}", why, out->id);
    out->notice_is_warning = true;
  } else {
    out->notice = fmt::format("batch {} (journal {})", out->id, journal->path());
  }
  return Status::Ok();
}

}  // namespace headroom

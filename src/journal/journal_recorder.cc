#include "journal/journal_recorder.h"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <utility>

namespace headroom {
namespace {

JobState StateAfter(const AttemptEnd& end) {
  if (end.will_retry) return JobState::kQueued;  // it waits for its next attempt
  switch (end.outcome) {
    case Outcome::kSucceeded:
      return JobState::kSucceeded;
    case Outcome::kInterrupted:
      return JobState::kInterrupted;
    case Outcome::kFailed:
    case Outcome::kTimedOut:
    case Outcome::kStartFailed:
      break;
  }
  return JobState::kFailed;
}

}  // namespace

JournalRecorder::JournalRecorder(JournalRecorderConfig config, Journal* journal,
                                 const LogDir* log_dir, LaunchLog* launches)
    : config_(std::move(config)), journal_(journal), log_dir_(log_dir), launches_(launches) {}

JournalRecorder::~JournalRecorder() { CommitGroup(); }

double JournalRecorder::WallNow() const {
  if (config_.wall_clock) return config_.wall_clock();
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const JournaledJob* JournalRecorder::Find(const Job& job) {
  auto it = config_.jobs.find(job.number);
  if (it != config_.jobs.end()) return &it->second;
  Write(Status::Error("journal: job " + std::to_string(job.number) + " (" + job.name +
                      ") is not in the batch's plan"));
  return nullptr;
}

bool JournalRecorder::Write(const Status& status) {
  if (status_.ok() && !status.ok()) status_ = status;
  return status_.ok();
}

void JournalRecorder::Open() {
  if (status_.ok() && !journal_->in_transaction()) Write(journal_->Begin());
}

void JournalRecorder::CommitGroup() {
  if (!status_.ok()) return;
  if (!pending_.empty()) {
    Open();
    for (const Pending& p : pending_) {
      if (!Write(journal_->AddAttempt(config_.batch, p.record, p.state))) return;
    }
    pending_.clear();
  }
  if (!journal_->in_transaction()) return;
  if (Write(journal_->Commit())) Write(launches_->Clear());
}

void JournalRecorder::AddEvent(const std::string& kind, int gpu, int64_t value,
                               const std::string& text) {
  Open();
  if (!status_.ok()) return;
  EventRecord event;
  event.t = WallNow();
  event.kind = kind;
  event.gpu = gpu;
  event.value = value;
  event.text = text;
  Write(journal_->AddEvent(config_.batch, event));
}

void JournalRecorder::OnJobSkipped(const Job& job, const Counts&) {
  const JournaledJob* journaled = Find(job);
  if (journaled == nullptr || journaled->keep_state) return;
  Open();
  if (status_.ok()) Write(journal_->SetJobState(config_.batch, journaled->key, JobState::kSkipped));
}

// The starts of one unit are made durable together, after its last one.
void JournalRecorder::OnJobLaunch(const Job& job, const LaunchInfo& launch) {
  const JournaledJob* journaled = Find(job);
  if (journaled == nullptr || !status_.ok()) return;
  AttemptRecord record;
  record.job_key = journaled->key;
  record.attempt = journaled->prior_attempts + launch.attempt;
  record.slot = launch.slot;
  record.gpu = launch.gpu;
  record.start = WallNow();
  const Job& lead = launch.lead != nullptr ? *launch.lead : job;
  int lead_attempt = launch.lead != nullptr ? launch.lead_attempt : launch.attempt;
  record.stdout_log = log_dir_->StdoutPath(lead, lead_attempt);
  record.stderr_log = log_dir_->StderrPath(lead, lead_attempt);
  unit_starts_.push_back(record);
  pending_.push_back({job.number, std::move(record), JobState::kRunning});
  if (launch.last) {
    Write(launches_->Append(unit_starts_));
    unit_starts_.clear();
  }
}

void JournalRecorder::OnJobStart(const Job& job, const AttemptStart& start, const Counts&) {
  const JournaledJob* journaled = Find(job);
  if (journaled == nullptr || !status_.ok()) return;
  int attempt = journaled->prior_attempts + start.attempt;
  if (start.started.adopted) {
    for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
      if (it->number != job.number || it->record.attempt != attempt) continue;
      it->record.stdout_log = start.started.stdout_log;
      it->record.stderr_log = start.started.stderr_log;
      break;
    }
  }
  if (start.ram) {
    AddEvent("requested", -1, attempt, journaled->key + "\t" + std::to_string(*start.ram));
  }
}

AttemptRecord JournalRecorder::EndRecord(const JournaledJob& journaled,
                                         const AttemptEnd& end) const {
  AttemptRecord record;
  record.job_key = journaled.key;
  record.attempt = journaled.prior_attempts + end.attempt;
  record.slot = end.slot;
  record.gpu = end.gpu;
  record.end = WallNow();
  // A job that never started has neither an exit code nor a signal.
  if (end.exit.signal != 0) {
    record.signal = end.exit.signal;
  } else if (end.exit.exit_code >= 0) {
    record.exit_code = end.exit.exit_code;
  }
  record.outcome = StoredOutcome(end.outcome, end.out_of_memory);
  record.oom = end.out_of_memory;
  record.peak_vram = end.peak_vram;
  record.peak_rss = end.peak_rss;
  if (!record.peak_rss && end.exit.max_rss_kb > 0) {
    record.peak_rss = static_cast<uint64_t>(end.exit.max_rss_kb) * 1024;
  }
  record.cpu_seconds = end.exit.cpu_seconds;
  record.wall_seconds = end.wall_seconds;  // log paths were stored at the launch
  return record;
}

// A unit's successes are made durable together, after its last one, before
// the scheduler renames their outputs into place.
void JournalRecorder::OnJobCommit(const Job& job, const AttemptEnd& end, bool last) {
  const JournaledJob* journaled = Find(job);
  if (journaled == nullptr || !status_.ok()) return;
  unit_ends_.push_back(LaunchEnd{EndRecord(*journaled, end), JobState::kSucceeded});
  if (last) {
    Write(launches_->AppendEnds(unit_ends_));
    unit_ends_.clear();
  }
}

void JournalRecorder::OnJobEnd(const Job& job, const AttemptEnd& end, const Counts&) {
  const JournaledJob* journaled = Find(job);
  Open();
  if (journaled == nullptr || !status_.ok()) return;
  AttemptRecord record = EndRecord(*journaled, end);
  // Durable before the next commit: a success from OnJobCommit already; any
  // other end now (a failure, a retry, an interrupt, or a success whose
  // output could not be committed after all).
  bool durable = end.outcome == Outcome::kSucceeded;
  if (!durable && !Write(launches_->AppendEnds({LaunchEnd{record, StateAfter(end)}}))) return;
  // Started since the last commit: the end joins the start, written whole
  // at the commit.
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->number != job.number || it->record.attempt != record.attempt) continue;
    record.start = it->record.start;
    record.stdout_log = std::move(it->record.stdout_log);
    record.stderr_log = std::move(it->record.stderr_log);
    it->record = std::move(record);
    it->state = StateAfter(end);
    return;
  }
  if (Write(journal_->EndAttempt(config_.batch, record))) {
    Write(journal_->SetJobState(config_.batch, journaled->key, StateAfter(end)));
  }
}

void JournalRecorder::OnTick(const Counts& counts, TimePoint now, const std::string& waiting) {
  if (!waiting_ || *waiting_ != waiting) {
    AddEvent("waiting", -1, 0, waiting);
    waiting_ = waiting;
  }
  if (counts.eta_seconds && (!last_eta_ || now - *last_eta_ >= kEtaEvery)) {
    AddEvent("eta", -1, std::llround(*counts.eta_seconds * 1000), "");
    last_eta_ = now;
  }
  if (!last_lessons_) last_lessons_ = now;
  if (now - *last_lessons_ >= kLessonsEvery) {
    WriteLessons();
    last_lessons_ = now;
  }
  if (!last_tick_commit_ || now - *last_tick_commit_ >= config_.commit_every) {
    CommitGroup();
    last_tick_commit_ = now;
  }
}

void JournalRecorder::OnNotice(LogLevel level, const std::string& message) {
  // Debug notices are for the log file; the journal keeps what a person
  // looking at the batch later wants to know.
  if (level == LogLevel::kDebug) return;
  AddEvent("notice", -1, static_cast<int64_t>(level), message);
}

void JournalRecorder::OnSnapshot(const Snapshot& snapshot) {
  Open();
  if (!status_.ok()) return;
  double t = WallNow();
  for (const GpuDevice& gpu : snapshot.gpus) {
    SampleRecord sample;
    sample.t = t;
    sample.gpu = gpu.index;
    sample.used = gpu.memory_used;
    sample.total = gpu.memory_total;
    sample.temperature_c = gpu.temperature_c;
    sample.utilization_pct = gpu.utilization_pct;
    if (!Write(journal_->AddSample(config_.batch, sample))) return;
  }
  const SystemSnapshot& system = snapshot.system;
  if (system.memory_total == 0) return;  // the probe saw nothing
  SampleRecord host;
  host.t = t;
  host.gpu = -1;
  host.total = system.memory_total;
  host.used = system.memory_total - std::min(system.memory_total, system.memory_available);
  Write(journal_->AddSample(config_.batch, host));
}

void JournalRecorder::OnJobPlaced(const Job& job, int attempt, const std::string& where) {
  const JournaledJob* journaled = Find(job);
  if (journaled == nullptr) return;
  AddEvent("placed", -1, journaled->prior_attempts + attempt, journaled->key + "\t" + where);
}

void JournalRecorder::OnLimitChange(int device, int limit, const std::string& reason) {
  AddEvent("limit", device, limit, reason);
}

void JournalRecorder::OnBatchEnd(const Counts&, TimePoint) {
  // Nothing holds the queue of a batch that is over.
  if (waiting_ && !waiting_->empty()) {
    AddEvent("waiting", -1, 0, "");
    waiting_ = "";
  }
  CommitGroup();
}

void JournalRecorder::OnLearned(const LearnedFootprint& learned) {
  FootprintRecord record;
  record.job_class = learned.job_class;
  record.kind = learned.kind;
  record.input = learned.input_bytes;
  record.value = learned.value;
  record.t = WallNow();
  record.batch = config_.batch;
  if (learned.kind == "wall_ms") ++taught_jobs_[learned.job_class];
  std::deque<FootprintRecord>& kept = lessons_[{learned.job_class, learned.kind}];
  kept.push_back(std::move(record));
  if (kept.size() > kFootprintsKept) kept.pop_front();
}

void JournalRecorder::WriteLessons() {
  if (!status_.ok() || (lessons_.empty() && taught_jobs_.empty())) return;
  Open();
  double now = WallNow();
  for (const auto& [key, kept] : lessons_) {
    for (const FootprintRecord& record : kept) {
      if (!Write(journal_->AddFootprint(record))) return;
    }
  }
  for (const auto& [job_class, jobs] : taught_jobs_) {
    if (!Write(journal_->CountFootprintJobs(job_class, jobs, now))) return;
  }
  lessons_.clear();
  taught_jobs_.clear();
}

void JournalRecorder::Finish(int exit_code) {
  WriteLessons();
  if (status_.ok()) {
    Open();
    if (status_.ok()) Write(journal_->PruneFootprints(kFootprintsKept));
  }
  CommitGroup();
  if (status_.ok()) Write(journal_->EndBatch(config_.batch, WallNow(), exit_code));
  if (status_.ok()) Write(launches_->Remove());
}

}  // namespace headroom

#include "sched/scheduler.h"

#include <algorithm>
#include <csignal>
#include <string>

#include "sched/oom_classifier.h"
#include "util/units.h"

namespace headroom {
namespace {

// A job's class, for learning footprints: its command template. Jobs of one
// template do the same work on different inputs.
std::string ClassOf(const Job& job) {
  std::string key;
  for (const std::string& arg : job.argv_template) {
    key += arg;
    key += '\x1f';
  }
  return key;
}

}  // namespace

int BatchResult::ExitCode() const {
  if (interrupt_signal != 0) return 128 + interrupt_signal;
  return counts.failed > 0 ? 1 : 0;
}

Scheduler::Scheduler(const SchedulerConfig& config, JobRunner* runner, Clock* clock,
                     Observer* observer, ResourceSource* resources)
    : config_(config), runner_(runner), clock_(clock), observer_(observer), resources_(resources) {
  config_.jobs = std::max(1, config_.jobs);
  config_.admission.slots = config_.jobs;
}

// The loop, in two phases: (1) start every queued job the rules allow,
// (2) wait for one event - an exit, an interrupt, or the next timer
// (timeout, kill grace, delay, retry delay, progress tick) - and act on it.
// It ends when nothing runs and nothing more may start.
BatchResult Scheduler::Run(const Plan& plan) {
  plan_ = &plan;
  queue_.clear();
  slots_.assign(static_cast<size_t>(config_.jobs), std::nullopt);
  running_ = 0;
  counts_ = Counts();
  stopping_ = false;
  interrupt_signal_ = 0;
  last_start_.reset();
  ledger_.emplace(config_.admission, resources_);
  Refresh();
  ReportStartingLimits();

  TimePoint now = clock_->Now();
  counts_.total = static_cast<int64_t>(plan.to_run.size() + plan.skipped.size());
  counts_.skipped = static_cast<int64_t>(plan.skipped.size());
  observer_->OnBatchStart(counts_, now);
  for (const Job& job : plan.skipped) observer_->OnJobSkipped(job, counts_);
  for (size_t i = 0; i < plan.to_run.size(); ++i) queue_.push_back({i, 1, now});

  TimePoint next_tick = now;
  for (;;) {
    Refresh();
    std::string waiting = StartReady(now);
    if (running_ == 0 && (queue_.empty() || stopping_)) break;
    if (now >= next_tick) {
      observer_->OnTick(counts_, now, waiting);
      next_tick = now + config_.tick;
    }
    TimePoint wake = std::min(NextWake(now), next_tick);
    // Round up: waking early would only spin.
    auto timeout = std::chrono::ceil<Millis>(wake - now);
    WaitResult result = runner_->Wait(std::max(timeout, Millis(0)));
    now = clock_->Now();
    if (result.interrupt != 0) HandleInterrupt(result.interrupt, now);
    for (const Exited& exited : result.exited) HandleExit(exited, now);
    HandleTimers(now);
  }
  counts_.not_started = static_cast<int64_t>(queue_.size());
  observer_->OnBatchEnd(counts_, now);
  return BatchResult{counts_, interrupt_signal_};
}

std::vector<const JobUse*> Scheduler::RunningUses() const {
  std::vector<const JobUse*> uses;
  for (const auto& run : slots_) {
    if (run) uses.push_back(&run->use);
  }
  return uses;
}

void Scheduler::Refresh() {
  std::vector<JobUse*> uses;
  for (auto& run : slots_) {
    if (run) uses.push_back(&run->use);
  }
  if (!ledger_->Refresh(uses)) return;
  observer_->OnSnapshot(ledger_->snapshot());
  LearnFromPlateaus();
  UpdateReservations();
}

// A running job reserves what is predicted for it now, not what was when it
// started: as its class's footprint is learned (or raised by an OOM), the
// reservations made under slow start's cautious figures shrink (or grow),
// and the room they held is used. The ledger still counts the larger of the
// reservation and what the job uses.
void Scheduler::UpdateReservations() {
  for (auto& run : slots_) {
    if (!run || run->use.device < 0) continue;
    JobNeed need = NeedOf(run->job, run->cpu_fallback);
    if (need.vram) run->use.reserved_vram = *need.vram;
    if (need.ram) run->use.reserved_ram = *need.ram;
  }
}

// A class learns faster from its running jobs: while it has fewer peaks
// than a size fit needs, a running job whose memory stopped growing counts
// as one (once), so slow start ends without waiting for the first job to
// finish and the fit comes sooner. The peak it has at its end is learned as
// usual; an under-estimate meanwhile is corrected by the out-of-memory path.
void Scheduler::LearnFromPlateaus() {
  for (auto& run : slots_) {
    if (!run || run->plateau_learned || run->use.device < 0 || !run->use.VramPlateaued()) {
      continue;
    }
    if (footprints_.VramSamples(run->use.job_class) >= FootprintModel::kMinFitInputs) continue;
    const Job& job = plan_->to_run[run->job];
    footprints_.Observe(run->use.job_class, static_cast<uint64_t>(job.input_bytes),
                        run->use.vram_peak, std::nullopt);
    run->plateau_learned = run->use.vram_peak;
    observer_->OnNotice(LogLevel::kDebug, job.name + ": GPU memory stopped growing at " +
                                              FormatSize(run->use.vram_peak) +
                                              "; learned while it runs");
  }
}

// Declared sizes win over what was learned: the user knows the job.
JobNeed Scheduler::NeedOf(size_t job_index, bool cpu_fallback) const {
  const Job& job = plan_->to_run[job_index];
  JobNeed need;
  need.gpu = !cpu_fallback;
  Footprint learned = footprints_.Predict(ClassOf(job), static_cast<uint64_t>(job.input_bytes));
  need.vram = job.gpu_mem ? job.gpu_mem : config_.gpu_mem ? config_.gpu_mem : learned.vram;
  need.ram = job.ram ? job.ram : config_.ram_per_job ? config_.ram_per_job : learned.rss;
  return need;
}

// Phase 1. Of the first `lookahead` ready jobs of the head's priority, the
// one with the largest predicted VRAM that the gates let start goes first
// (ties and unknown sizes: queue order). Largest-first packs as
// first-fit-decreasing does: big jobs start while there is room for them,
// small ones fill the gaps, and the batch does not end on a lone big job
// (bench/packing.sh). Before anything is learned, sizes are unknown and the
// queue order holds.
std::string Scheduler::StartReady(TimePoint now) {
  while (!stopping_ && !queue_.empty()) {
    if (running_ >= slots_.size()) return "slots";
    if (last_start_ && now < *last_start_ + config_.delay) return "delay";
    std::string head_waiting;
    std::optional<std::deque<Pending>::iterator> pick;
    AdmitDecision picked;
    uint64_t picked_size = 0;
    std::optional<int64_t> priority;  // the head's
    size_t tried = 0;
    std::vector<const JobUse*> uses = RunningUses();
    HostView host = ledger_->Host(uses);
    for (auto it = queue_.begin(); it != queue_.end() && tried < config_.lookahead; ++it) {
      if (it->ready > now) continue;
      const Job& job = plan_->to_run[it->job];
      if (!priority) priority = job.priority;
      if (job.priority != *priority) break;
      ++tried;
      JobNeed need = NeedOf(it->job, it->cpu_fallback);
      AdmitDecision decision =
          Admit(need, host, ledger_->Devices(uses, ClassOf(job)), config_.admission);
      if (!decision.start) {
        if (head_waiting.empty()) head_waiting = decision.waiting;
        continue;
      }
      uint64_t size = need.vram.value_or(0);
      if (!pick || size > picked_size) {
        pick = it;
        picked = decision;
        picked_size = size;
      }
      // A forced start (nothing runs) or an unknown size: no reason to look further.
      if (decision.forced || !need.vram) break;
    }
    bool any_ready = priority.has_value();
    if (!any_ready) return "retry-delay";
    if (!pick) return head_waiting;
    if (picked.forced) {
      observer_->OnNotice(LogLevel::kInfo, "starting " + plan_->to_run[(*pick)->job].name +
                                               " although it waits for " + picked.waiting +
                                               ": nothing else runs");
    }
    StartOne(*pick, picked, now);
  }
  return "";
}

void Scheduler::StartOne(std::deque<Pending>::iterator it, const AdmitDecision& decision,
                         TimePoint now) {
  Pending pending = *it;
  queue_.erase(it);
  auto free_slot = std::find_if(slots_.begin(), slots_.end(),
                                [](const std::optional<Running>& r) { return !r; });
  int slot = static_cast<int>(free_slot - slots_.begin()) + 1;
  const Job& job = plan_->to_run[pending.job];
  last_start_ = now;
  JobNeed need = NeedOf(pending.job, pending.cpu_fallback);

  Running run;
  run.job = pending.job;
  run.attempt = pending.attempt;
  run.slot = slot;
  run.start = now;
  run.oom_failures = pending.oom_failures;
  run.cpu_fallback = pending.cpu_fallback;
  run.use.device = decision.device;
  run.use.job_class = ClassOf(job);
  run.use.reserved_vram = decision.device >= 0 ? need.vram.value_or(0) : 0;
  run.use.reserved_ram = need.ram.value_or(0);
  run.use.start = now;
  Launch launch;
  launch.slot = slot;
  launch.attempt = pending.attempt;
  if (config_.place_gpus) {
    launch.gpu = decision.device >= 0 ? std::to_string(decision.device) : std::string();
  }
  observer_->OnJobLaunch(job, slot, pending.attempt, decision.device);
  Status status = runner_->Start(job, launch, &run.started);
  if (!status.ok()) {
    AttemptEnd end;
    end.outcome = Outcome::kStartFailed;
    end.error = status.message();
    Finish(run, end, now);
    return;
  }
  run.use.pgid = run.started.pid;
  *free_slot = run;
  ++running_;
  counts_.running = static_cast<int64_t>(running_);
  observer_->OnJobStart(job, AttemptStart{slot, pending.attempt, run.started}, counts_);
}

TimePoint Scheduler::NextWake(TimePoint now) const {
  TimePoint wake = TimePoint::max();
  for (const auto& run : slots_) {
    if (!run) continue;
    if (run->kill_at) wake = std::min(wake, *run->kill_at);
    if (config_.timeout && !run->timed_out && !run->interrupted) {
      wake = std::min(wake, run->start + *config_.timeout);
    }
  }
  if (!stopping_ && !queue_.empty() && running_ < slots_.size()) {
    // Something may start soon: at the end of the delay or a retry delay.
    // Times already past were handled by StartReady() just before.
    auto consider = [&](TimePoint t) {
      if (t > now) wake = std::min(wake, t);
    };
    for (const Pending& p : queue_) consider(p.ready);
    if (last_start_) consider(*last_start_ + config_.delay);
  }
  return std::max(wake, now);
}

void Scheduler::HandleExit(const Exited& exited, TimePoint now) {
  auto it = std::find_if(slots_.begin(), slots_.end(), [&](const std::optional<Running>& r) {
    return r && r->started.handle == exited.handle;
  });
  if (it == slots_.end()) return;
  // The newest sample may hold the job's last peak.
  Refresh();
  Running run = std::move(**it);
  it->reset();
  ledger_->OnJobExit(run.use.pgid);
  --running_;
  counts_.running = static_cast<int64_t>(running_);

  AttemptEnd end;
  end.exit = exited.info;
  end.gpu = run.use.device;
  end.outcome = ClassifyExit(exited.info, run.timed_out, run.interrupted);
  const Job& job = plan_->to_run[run.job];
  if (end.outcome == Outcome::kFailed && HandleOutOfMemory(run, exited.info, &end, now)) {
    runner_->Complete(job, false);
    Finish(run, end, now);
    return;
  }
  Status committed = runner_->Complete(job, end.outcome == Outcome::kSucceeded);
  if (!committed.ok()) {
    end.outcome = Outcome::kFailed;
    end.error = committed.message();
  }
  if (end.outcome == Outcome::kSucceeded) {
    LearnFromSuccess(run, exited.info);
    UpdateReservations();
  }
  Finish(run, end, now);
}

bool Scheduler::HandleOutOfMemory(const Running& run, const ExitInfo& exit, AttemptEnd* end,
                                  TimePoint now) {
  OomInput input;
  input.exit_code = exit.exit_code;
  input.signal = exit.signal;
  input.killed_by_us = run.timed_out || run.interrupted;
  input.stderr_tail = exit.stderr_tail;
  input.oom_exit_codes = config_.oom_exit_codes;
  input.patterns = config_.oom_patterns;
  OomKind kind = ClassifyOom(input);
  if (kind == OomKind::kNone) return false;
  end->out_of_memory = true;

  // Learn: the class needs at least what this attempt held when it failed.
  const Job& job = plan_->to_run[run.job];
  bool gpu = run.use.device >= 0 && kind != OomKind::kHost;
  uint64_t input_bytes = static_cast<uint64_t>(job.input_bytes);
  if (gpu) {
    uint64_t used = std::max(run.use.vram_peak, run.use.reserved_vram);
    if (used > 0) footprints_.OnOom(run.use.job_class, input_bytes, Memory::kVram, used);
    int on_device = 1;
    for (const JobUse* other : RunningUses()) on_device += other->device == run.use.device;
    ConcurrencyLimit& limit = ledger_->Limit(run.use.device);
    std::optional<std::string> change = limit.OnOom(run.start, on_device, now);
    if (change) ReportLimit(run.use.device, limit.limit(), *change);
  } else if (std::optional<uint64_t> rss = PeakRss(run, exit)) {
    footprints_.OnOom(run.use.job_class, input_bytes, Memory::kRss, *rss);
  }
  UpdateReservations();
  if (stopping_) return false;

  int failures = run.oom_failures + 1;
  OomRetryDecision decision = DecideOomRetry(failures, run.use.device >= 0, config_.oom);
  if (decision.action == OomAction::kFail) return false;
  Pending again{run.job, run.attempt + 1, now + decision.delay, failures, false};
  if (decision.action == OomAction::kCpuFallback) {
    again.cpu_fallback = true;
    observer_->OnNotice(LogLevel::kWarn, job.name + ": out of memory " + std::to_string(failures) +
                                             " times; running it once more without a GPU");
  }
  queue_.push_front(again);
  ++counts_.oom_retries;
  end->will_retry = true;
  return true;
}

// The larger of the kernel's figure (the biggest single process of the
// tree, from wait4) and the sum over the tree that the samples saw.
std::optional<uint64_t> Scheduler::PeakRss(const Running& run, const ExitInfo& exit) {
  uint64_t peak = std::max(static_cast<uint64_t>(std::max<int64_t>(exit.max_rss_kb, 0)) * 1024,
                           run.use.rss_peak);
  if (peak == 0) return std::nullopt;
  return peak;
}

void Scheduler::LearnFromSuccess(const Running& run, const ExitInfo& exit) {
  const Job& job = plan_->to_run[run.job];
  std::optional<uint64_t> vram;
  // A plateau already learned from this job is not counted twice.
  if (run.use.device >= 0 && run.use.vram_measured && run.plateau_learned != run.use.vram_peak) {
    vram = run.use.vram_peak;
  }
  std::optional<uint64_t> rss = PeakRss(run, exit);
  footprints_.Observe(run.use.job_class, static_cast<uint64_t>(job.input_bytes), vram, rss);
  if (run.use.device >= 0 && !ledger_->Latched(run.use.device)) {
    ConcurrencyLimit& limit = ledger_->Limit(run.use.device);
    std::optional<std::string> change = limit.OnSuccess();
    if (change) ReportLimit(run.use.device, limit.limit(), *change);
  }
}

// Each allowed device's concurrency limit as the batch starts, so that
// observers (metrics, the journal) know it before it first changes.
void Scheduler::ReportStartingLimits() {
  const AdmissionConfig& admission = config_.admission;
  if (!admission.use_gpus || admission.policy != PolicyKind::kAdaptive) return;
  for (const GpuDevice& device : ledger_->snapshot().gpus) {
    const auto& allowed = admission.allowed_gpus;
    if (!allowed.empty() &&
        std::find(allowed.begin(), allowed.end(), device.index) == allowed.end()) {
      continue;
    }
    int limit = ledger_->Limit(device.index).limit();
    observer_->OnLimitChange(
        device.index, limit,
        "gpu" + std::to_string(device.index) + " limit " + std::to_string(limit) + ": batch start");
  }
}

void Scheduler::ReportLimit(int device, int limit, const std::string& reason) {
  observer_->OnNotice(LogLevel::kInfo, reason);
  observer_->OnLimitChange(device, limit, reason);
}

// Records the end of an attempt, decides on a retry, and applies --halt.
void Scheduler::Finish(const Running& run, AttemptEnd end, TimePoint now) {
  end.attempt = run.attempt;
  end.slot = run.slot;
  if (run.use.device >= 0 && run.use.vram_measured) end.peak_vram = run.use.vram_peak;
  end.peak_rss = PeakRss(run, end.exit);
  end.wall_seconds = std::chrono::duration<double>(now - run.start).count();
  end.stdout_log = run.started.stdout_log;
  end.stderr_log = run.started.stderr_log;

  bool gave_up = false;
  if (end.will_retry) {
    // Out of memory: HandleOutOfMemory() requeued it already.
  } else if (RetryDecision retry = DecideRetry(end.outcome, run.attempt, config_.retry);
             retry.retry && !stopping_) {
    end.will_retry = true;
    ++counts_.retries;
    queue_.push_front({run.job, run.attempt + 1, now + retry.delay});
  } else if (end.outcome == Outcome::kSucceeded) {
    ++counts_.succeeded;
  } else if (end.outcome == Outcome::kInterrupted) {
    ++counts_.interrupted;
  } else {
    ++counts_.failed;
    gave_up = true;
  }
  observer_->OnJobEnd(plan_->to_run[run.job], end, counts_);

  if (gave_up && config_.halt != Halt::kNever && !stopping_) {
    stopping_ = true;
    if (config_.halt == Halt::kNow && running_ > 0) {
      observer_->OnNotice(LogLevel::kWarn, "--halt now: a job failed; stopping " +
                                               std::to_string(running_) + " running job(s)");
      StopRunning(now);
    } else {
      observer_->OnNotice(LogLevel::kWarn, "--halt soon: a job failed; starting no new jobs");
    }
  }
}

void Scheduler::HandleInterrupt(int signal, TimePoint now) {
  if (interrupt_signal_ != 0) {
    // A second interrupt: the user does not want to wait for the grace.
    observer_->OnNotice(LogLevel::kWarn, "interrupted again: killing all jobs now");
    for (auto& run : slots_) {
      if (!run) continue;
      runner_->Signal(run->started.handle, SIGKILL);
      run->kill_at.reset();
    }
    return;
  }
  interrupt_signal_ = signal;
  stopping_ = true;
  observer_->OnNotice(
      LogLevel::kWarn,
      "interrupted by " +
          std::string(signal == SIGINT    ? "SIGINT"
                      : signal == SIGTERM ? "SIGTERM"
                                          : "SIGHUP") +
          ": stopping " + std::to_string(running_) + " running job(s)" +
          (running_ > 0 ? ", SIGKILL after " + FormatDuration(config_.kill_grace.count() / 1e3)
                        : std::string()));
  StopRunning(now);
}

void Scheduler::StopRunning(TimePoint now) {
  for (auto& run : slots_) {
    if (!run || run->interrupted) continue;
    run->interrupted = true;
    runner_->Signal(run->started.handle, SIGTERM);
    run->kill_at = now + config_.kill_grace;
  }
}

void Scheduler::HandleTimers(TimePoint now) {
  for (auto& run : slots_) {
    if (!run) continue;
    if (config_.timeout && !run->timed_out && !run->interrupted &&
        now >= run->start + *config_.timeout) {
      run->timed_out = true;
      runner_->Signal(run->started.handle, SIGTERM);
      run->kill_at = now + config_.kill_grace;
    }
    if (run->kill_at && now >= *run->kill_at) {
      runner_->Signal(run->started.handle, SIGKILL);
      run->kill_at.reset();
    }
  }
}

}  // namespace headroom

#include "sched/scheduler.h"

#include <algorithm>
#include <csignal>
#include <string>

#include "util/units.h"

namespace headroom {

int BatchResult::ExitCode() const {
  if (interrupt_signal != 0) return 128 + interrupt_signal;
  return counts.failed > 0 ? 1 : 0;
}

Scheduler::Scheduler(const SchedulerConfig& config, JobRunner* runner, Clock* clock,
                     Observer* observer)
    : config_(config), runner_(runner), clock_(clock), observer_(observer) {
  config_.jobs = std::max(1, config_.jobs);
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

  TimePoint now = clock_->Now();
  counts_.total = static_cast<int64_t>(plan.to_run.size() + plan.skipped.size());
  counts_.skipped = static_cast<int64_t>(plan.skipped.size());
  observer_->OnBatchStart(counts_, now);
  for (const Job& job : plan.skipped) observer_->OnJobSkipped(job, counts_);
  for (size_t i = 0; i < plan.to_run.size(); ++i) queue_.push_back({i, 1, now});

  TimePoint next_tick = now;
  for (;;) {
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

std::string Scheduler::StartReady(TimePoint now) {
  while (!stopping_ && !queue_.empty()) {
    if (running_ >= slots_.size()) return "slots";
    if (last_start_ && now < *last_start_ + config_.delay) return "delay";
    auto it = std::find_if(queue_.begin(), queue_.end(),
                           [now](const Pending& p) { return p.ready <= now; });
    if (it == queue_.end()) return "retry-delay";
    StartOne(it, now);
  }
  return "";
}

void Scheduler::StartOne(std::deque<Pending>::iterator it, TimePoint now) {
  Pending pending = *it;
  queue_.erase(it);
  auto free_slot = std::find_if(slots_.begin(), slots_.end(),
                                [](const std::optional<Running>& r) { return !r; });
  int slot = static_cast<int>(free_slot - slots_.begin()) + 1;
  const Job& job = plan_->to_run[pending.job];
  last_start_ = now;

  Running run;
  run.job = pending.job;
  run.attempt = pending.attempt;
  run.slot = slot;
  run.start = now;
  Status status = runner_->Start(job, slot, pending.attempt, &run.started);
  if (!status.ok()) {
    AttemptEnd end;
    end.outcome = Outcome::kStartFailed;
    end.error = status.message();
    Finish(run, end, now);
    return;
  }
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
  Running run = std::move(**it);
  it->reset();
  --running_;
  counts_.running = static_cast<int64_t>(running_);

  AttemptEnd end;
  end.exit = exited.info;
  end.outcome = ClassifyExit(exited.info, run.timed_out, run.interrupted);
  const Job& job = plan_->to_run[run.job];
  Status committed = runner_->Complete(job, end.outcome == Outcome::kSucceeded);
  if (!committed.ok()) {
    end.outcome = Outcome::kFailed;
    end.error = committed.message();
  }
  Finish(run, end, now);
}

// Records the end of an attempt, decides on a retry, and applies --halt.
void Scheduler::Finish(const Running& run, AttemptEnd end, TimePoint now) {
  end.attempt = run.attempt;
  end.slot = run.slot;
  end.wall_seconds = std::chrono::duration<double>(now - run.start).count();
  end.stdout_log = run.started.stdout_log;
  end.stderr_log = run.started.stderr_log;

  RetryDecision retry = DecideRetry(end.outcome, run.attempt, config_.retry);
  end.will_retry = retry.retry && !stopping_;
  bool gave_up = false;
  if (end.will_retry) {
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
      observer_->OnNotice(LogLevel::kWarn,
                          "--halt now: a job failed; stopping " + std::to_string(running_) +
                              " running job(s)");
      StopRunning(now);
    } else {
      observer_->OnNotice(LogLevel::kWarn,
                          "--halt soon: a job failed; starting no new jobs");
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
  observer_->OnNotice(LogLevel::kWarn,
                      "interrupted by " + std::string(signal == SIGINT    ? "SIGINT"
                                                      : signal == SIGTERM ? "SIGTERM"
                                                                          : "SIGHUP") +
                          ": stopping " + std::to_string(running_) + " running job(s)" +
                          (running_ > 0 ? ", SIGKILL after " +
                                              FormatDuration(config_.kill_grace.count() / 1e3)
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

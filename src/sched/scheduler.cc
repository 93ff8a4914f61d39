#include "sched/scheduler.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstddef>
#include <string>

#include "sched/exit_classifier.h"
#include "sched/oom_classifier.h"
#include "sched/unit_plan.h"
#include "sched/worker_policy.h"
#include "util/units.h"

#include <fmt/format.h>

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

// The footprint class of the workers of `job_class` (--worker): their own
// memory, before any request.
std::string BaseClassOf(const std::string& job_class) { return job_class + "\x1eworker"; }

}  // namespace

int BatchResult::ExitCode() const {
  if (interrupt_signal != 0) return 128 + interrupt_signal;
  return counts.failed > 0 || gave_up ? 1 : 0;
}

Scheduler::Scheduler(const SchedulerConfig& config, JobRunner* runner, Clock* clock,
                     Observer* observer, ResourceSource* resources)
    : config_(config),
      runner_(runner),
      clock_(clock),
      observer_(observer),
      resources_(resources),
      sizer_(config.batch) {
  config_.jobs = std::max(1, config_.jobs);
  config_.admission.slots = config_.jobs;
  // What earlier batches of these classes taught, oldest first: the newest
  // stay in the model's window.
  for (const LearnedFootprint& prior : config_.priors) {
    if (prior.kind == "vram") footprints_.Observe(prior.job_class, prior.input_bytes, prior.value, std::nullopt);
    if (prior.kind == "rss") footprints_.Observe(prior.job_class, prior.input_bytes, std::nullopt, prior.value);
    if (prior.kind == "wall_ms") durations_.Observe(prior.job_class, static_cast<double>(prior.value) / 1000);
  }
  config_.priors.clear();
}

void Scheduler::Taught(const std::string& job_class, uint64_t input_bytes, const char* kind,
                       uint64_t value) {
  observer_->OnLearned({job_class, kind, input_bytes, value});
}

// The loop, in two phases: (1) start every queued job the rules allow,
// (2) wait for one event - an exit, an interrupt, or the next timer
// (timeout, kill grace, delay, retry delay, progress tick) - and act on it.
// It ends when nothing runs and nothing more may start.
BatchResult Scheduler::Run(const Plan& plan) {
  plan_ = &plan;
  classes_.clear();
  class_of_.clear();
  std::map<std::string, size_t> class_index;
  for (const Job& job : plan.to_run) {
    auto [it, added] = class_index.emplace(ClassOf(job), classes_.size());
    if (added) classes_.push_back(it->first);
    class_of_.push_back(it->second);
  }
  queue_.clear();
  worker_caps_.clear();
  slots_.assign(static_cast<size_t>(config_.jobs), std::nullopt);
  running_ = 0;
  counts_ = Counts();
  stopping_ = false;
  interrupt_signal_ = 0;
  last_start_.reset();
  gave_up_ = false;
  draining_ = false;
  paused_ = false;
  cool_until_.clear();
  temp_caps_.clear();
  held_since_.reset();
  others_key_.clear();
  ledger_.emplace(config_.admission, resources_);
  Refresh();
  ReportStartingLimits();

  TimePoint now = clock_->Now();
  counts_.total = static_cast<int64_t>(plan.to_run.size() + plan.skipped.size());
  counts_.skipped = static_cast<int64_t>(plan.skipped.size());
  observer_->OnBatchStart(counts_, now);
  for (const Job& job : plan.skipped) observer_->OnJobSkipped(job, counts_);
  for (size_t i = 0; i < plan.to_run.size(); ++i) {
    Pending pending;
    pending.job = i;
    pending.ready = now;
    queue_.push_back(pending);
  }
  // An interrupt that came while the batch was being set up (the signals are
  // taken from then on) stops it before anything starts.
  WaitResult pending = runner_->Wait(Millis(0));
  if (pending.interrupt != 0) HandleInterrupt(pending.interrupt, now);
  AdoptLeftovers(now);

  TimePoint next_tick = now;
  for (;;) {
    Refresh();
    std::string waiting = StartReady(now);
    if (GiveUp(waiting, now)) continue;
    if (running_ == 0 && (queue_.empty() || stopping_)) break;
    if (now >= next_tick) {
      if (PollControl(now)) continue;  // its changes take effect before the tick
      counts_.eta_seconds = EstimateRemaining(now);
      observer_->OnTick(counts_, now, waiting);
      next_tick = now + config_.tick;
    }
    TimePoint wake = std::min(NextWake(now), next_tick);
    // Round up: waking early would only spin.
    auto timeout = std::chrono::ceil<Millis>(wake - now);
    WaitResult result = runner_->Wait(std::max(timeout, Millis(0)));
    now = clock_->Now();
    if (result.interrupt != 0) HandleInterrupt(result.interrupt, now);
    for (const auto& [handle, where] : result.placed) HandlePlaced(handle, where);
    for (const Exited& exited : result.exited) HandleExit(exited, now);
    HandleTimers(now);
  }
  // Idle workers; an interrupt while they stop still ends the batch as
  // interrupted.
  int closing_interrupt = runner_->Close();
  if (interrupt_signal_ == 0) interrupt_signal_ = closing_interrupt;
  // A drain that left jobs ends as SIGHUP's (129); one that left none ends
  // as the batch would have.
  if (interrupt_signal_ == 0 && draining_ && !queue_.empty()) interrupt_signal_ = SIGHUP;
  counts_.not_started = static_cast<int64_t>(queue_.size());
  counts_.stop_signal = interrupt_signal_;
  observer_->OnBatchEnd(counts_, now);
  return BatchResult{counts_, interrupt_signal_, gave_up_};
}

std::vector<DeviceView> Scheduler::DeviceViews(const std::vector<const JobUse*>& uses,
                                               const std::string& job_class, TimePoint now) {
  std::vector<DeviceView> views = ledger_->Devices(uses, job_class);
  for (DeviceView& view : views) {
    auto cool = cool_until_.find(view.index);
    view.cooling = cool != cool_until_.end() && now < cool->second;
  }
  return views;
}

bool Scheduler::GiveUp(const std::string& waiting, TimePoint now) {
  bool held = running_ == 0 && !queue_.empty() && !stopping_ && !waiting.empty() &&
              waiting != "delay" && waiting != "retry-delay" && waiting.rfind("paused", 0) != 0 &&
              waiting.find("cooldown") == std::string::npos;
  if (!held) {
    held_since_.reset();
    return false;
  }
  if (!held_since_) held_since_ = now;
  if (!config_.gate_timeout || now - *held_since_ < *config_.gate_timeout) return false;
  gave_up_ = true;
  stopping_ = true;
  observer_->OnNotice(LogLevel::kError,
                      "gave up after waiting " +
                          FormatDuration(std::chrono::duration<double>(now - *held_since_).count()) +
                          " (--gate-timeout) with nothing running: " + waiting);
  return true;
}

std::string Scheduler::Waiting(const AdmitDecision& decision,
                               const std::vector<const JobUse*>& uses, TimePoint now) {
  std::string text = decision.waiting;
  // Slow start, for people: "learning gpu0,1" -> "learning memory use on
  // gpu0,1 (first job)"; the gate's name ("learning") stays first.
  constexpr std::string_view kGate = "learning ";
  if (size_t at = text.find("learning gpu"); at != std::string::npos) {
    size_t devices = at + kGate.size();  // "gpu0,1"
    size_t end = std::min(text.find(';', at), text.size());
    text.replace(at, end - at,
                 fmt::format("learning memory use on {} (first job)", text.substr(devices, end - devices)));
  }
  if (decision.foreign.empty()) return text;
  std::string group = "foreign gpu";
  for (size_t i = 0; i < decision.foreign.size(); ++i) {
    group += (i == 0 ? "" : ",") + std::to_string(decision.foreign[i]);
  }
  constexpr auto kKeep = std::chrono::seconds(10);
  if (group != others_key_ || now - others_at_ >= kKeep) {
    others_text_.clear();
    for (int device : decision.foreign) {
      others_text_ += (others_text_.empty() ? "" : "; ") + ledger_->DescribeOthers(device, uses);
    }
    others_key_ = group;
    others_at_ = now;
  }
  size_t at = text.find(group);
  if (at != std::string::npos) text.replace(at, group.size(), others_text_);
  return text;
}

std::optional<double> Scheduler::EstimateRemaining(TimePoint now) const {
  // Each class's expected duration; a class none of whose jobs has ended
  // yet is expected to take what the known ones take on average.
  std::vector<std::optional<double>> expected(classes_.size());
  double known_sum = 0;
  size_t known = 0;
  for (size_t i = 0; i < classes_.size(); ++i) {
    expected[i] = durations_.Expected(classes_[i]);
    if (expected[i]) {
      known_sum += *expected[i];
      ++known;
    }
  }
  if (known == 0) return std::nullopt;
  auto of = [&](size_t job) { return expected[class_of_[job]].value_or(known_sum / known); };
  std::vector<RunningWork> running;
  for (const auto& run : slots_) {
    if (!run) continue;
    double unit = 0;
    for (const Pending& member : run->members) unit += of(member.job);
    running.push_back({std::chrono::duration<double>(now - run->start).count(), unit});
  }
  double queued = 0;
  if (!stopping_ && !draining_) {  // else what is queued will not run
    for (const Pending& pending : queue_) queued += of(pending.job);
    for (const Pending& pending : retries_) queued += of(pending.job);
  }
  return EstimateEta(running, queued);
}

bool Scheduler::IsReady(const Pending& pending, TimePoint now) const {
  return pending.ready <= now || (pending.oom_wait && running_ == 0);
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
  ReportTemperatureLimits();
  LearnFromPlateaus();
  UpdateReservations();
  CapWorkers();
}

// --worker: a device keeps no more workers than its gates would let jobs
// run there now - its concurrency limit, and its temperature cap (half
// when warm, one when hot), as admission counts them. Those beyond it stop
// (sched/worker_policy.h: idle ones now, busy ones when their request ends).
void Scheduler::CapWorkers() {
  if (!config_.workers || !config_.admission.use_gpus) return;
  const AdmissionConfig& admission = config_.admission;
  for (const GpuDevice& device : ledger_->snapshot().gpus) {
    int cap = TemperatureCapOf(device);
    if (admission.policy == PolicyKind::kAdaptive) {
      cap = std::min(cap, ledger_->Limit(device.index).limit());
    }
    auto [it, added] = worker_caps_.try_emplace(device.index, cap);
    if (!added && it->second == cap) continue;
    it->second = cap;
    for (pid_t pid : WorkersBeyondCap(runner_->KeptProcesses(), std::to_string(device.index), cap)) {
      runner_->StopKept(pid);
    }
  }
}

// A running job reserves what is predicted for it now, not what was when it
// started: as its class's footprint is learned (or raised by an OOM), the
// reservations made under slow start's cautious figures shrink (or grow),
// and the room they held is used. The ledger still counts the larger of the
// reservation and what the job uses.
void Scheduler::UpdateReservations() {
  for (auto& run : slots_) {
    if (!run || run->use.device < 0) continue;
    std::vector<size_t> jobs;
    for (const Pending& member : run->members) jobs.push_back(member.job);
    JobNeed need = NeedOf(jobs, run->cpu_fallback, run->members.front().oom_failures > 0);
    if (need.vram) {
      run->use.reserved_vram = *need.vram + (config_.workers ? WorkerBase(*run).value_or(0) : 0);
      // A job whose memory stopped growing below its class's prediction
      // holds what it uses: the rest is room for others (a small job of a
      // widely varying class). Declared sizes are the user's word and stay.
      if (!config_.workers && !Declared(jobs) && run->use.VramPlateaued()) {
        run->use.reserved_vram = std::min(run->use.reserved_vram, run->use.vram_peak);
      }
    }
    if (need.ram) run->use.reserved_ram = *need.ram;
  }
}

// A class learns faster from its running jobs: while it has fewer peaks
// than a size fit needs, a running job whose memory stopped growing counts
// as one (once), so slow start ends without waiting for the first job to
// finish and the fit comes sooner. The peak it has at its end is learned as
// usual; an under-estimate meanwhile is corrected by the out-of-memory path.
void Scheduler::LearnFromPlateaus() {
  // A worker holds its base before the request grows: a plateau would be
  // taken too early. Requests are learned when they end.
  if (config_.workers) return;
  for (auto& run : slots_) {
    if (!run || run->plateau_learned || run->use.device < 0 || !run->use.VramPlateaued()) {
      continue;
    }
    if (footprints_.VramSamples(run->use.job_class) >= FootprintModel::kMinFitInputs) continue;
    const Job& job = run->Lead(*plan_);
    std::optional<uint64_t> share = RequestShare(*run, run->use.vram_peak);
    if (!share) continue;
    footprints_.Observe(run->use.job_class, run->measure, *share, std::nullopt);
    Taught(run->use.job_class, run->measure, "vram", *share);
    run->plateau_learned = run->use.vram_peak;
    observer_->OnNotice(LogLevel::kDebug, job.name + ": GPU memory stopped growing at " +
                                              FormatSize(run->use.vram_peak) +
                                              "; learned while it runs");
  }
}

// How much input a unit has, for footprints: the sum of its inputs' sizes,
// an input that is not a file counting as one byte (so that batches of
// non-file inputs are measured by their count).
uint64_t Scheduler::UnitMeasure(const std::vector<size_t>& jobs) const {
  uint64_t measure = 0;
  for (size_t index : jobs) {
    int64_t bytes = plan_->to_run[index].input_bytes;
    measure += bytes > 0 ? static_cast<uint64_t>(bytes) : 1;
  }
  return measure;
}

bool Scheduler::Declared(const std::vector<size_t>& jobs) const {
  if (config_.gpu_mem) return true;
  return std::any_of(jobs.begin(), jobs.end(),
                     [&](size_t index) { return plan_->to_run[index].gpu_mem.has_value(); });
}

// Declared sizes win over what was learned: the user knows the job. With
// --batch-size they are per process: the largest declared by a member, else
// --gpu-mem / --ram-per-job.
JobNeed Scheduler::NeedOf(const std::vector<size_t>& jobs, bool cpu_fallback,
                          bool cautious) const {
  std::optional<uint64_t> gpu_mem = config_.gpu_mem;
  std::optional<uint64_t> ram = config_.ram_per_job;
  std::optional<uint64_t> job_gpu_mem, job_ram;
  for (size_t index : jobs) {
    const Job& job = plan_->to_run[index];
    if (job.gpu_mem) job_gpu_mem = std::max(job_gpu_mem.value_or(0), *job.gpu_mem);
    if (job.ram) job_ram = std::max(job_ram.value_or(0), *job.ram);
  }
  JobNeed need;
  need.gpu = !cpu_fallback;
  Footprint learned = footprints_.Predict(JobClass(jobs.front()), UnitMeasure(jobs), cautious);
  need.vram = job_gpu_mem ? job_gpu_mem : gpu_mem ? gpu_mem : learned.vram;
  need.ram = job_ram ? job_ram : ram ? ram : learned.rss;
  return need;
}

std::string Scheduler::StartReady(TimePoint now) {
  if (draining_ && !queue_.empty()) return "draining (SIGHUP or headroom ctl drain)";
  while (!stopping_ && !queue_.empty()) {
    if (paused_) return "paused (headroom ctl continue)";
    if (running_ >= SlotLimit()) return "slots";
    if (last_start_ && now < *last_start_ + config_.delay) return "delay";
    Pick pick;
    std::string waiting;
    bool found = sizer_.batching() ? PickBatch(now, &pick, &waiting)
                                   : PickSingle(now, &pick, &waiting);
    if (!found) return waiting;
    if (pick.decision.forced) {
      observer_->OnNotice(LogLevel::kInfo,
                          "starting " + plan_->to_run[pick.members.front()->job].name +
                              " although it waits for " + pick.decision.waiting +
                              ": nothing else runs");
    }
    StartUnit(pick, now);
  }
  return "";
}

// One job per process. Of the first `lookahead` ready jobs of the head's
// priority, the one with the largest predicted VRAM that the gates let start
// goes first (ties and unknown sizes: queue order). Largest-first packs as
// first-fit-decreasing does: big jobs start while there is room for them,
// small ones fill the gaps, and the batch does not end on a lone big job
// (bench/packing.sh). Before anything is learned, sizes are unknown and the
// queue order holds.
bool Scheduler::PickSingle(TimePoint now, Pick* pick, std::string* waiting) {
  std::string head_waiting;
  std::optional<std::deque<Pending>::iterator> best;
  AdmitDecision picked;
  uint64_t picked_size = 0;
  std::optional<int64_t> priority;  // the head's
  size_t tried = 0;
  std::vector<const JobUse*> uses = RunningUses();
  HostView host = ledger_->Host(uses);
  for (auto it = queue_.begin(); it != queue_.end() && tried < config_.lookahead; ++it) {
    if (!IsReady(*it, now)) continue;
    const Job& job = plan_->to_run[it->job];
    if (!priority) priority = job.priority;
    if (job.priority != *priority) break;
    ++tried;
    JobNeed need = NeedOf({it->job}, it->cpu_fallback, it->oom_failures > 0);
    AdmitDecision decision = AdmitUnit(need, it->job, host, DeviceViews(uses, JobClass(it->job), now));
    if (!decision.start) {
      if (head_waiting.empty()) head_waiting = Waiting(decision, uses, now);
      continue;
    }
    uint64_t size = need.vram.value_or(0);
    if (!best || size > picked_size) {
      best = it;
      picked = decision;
      picked_size = size;
    }
    // A forced start (nothing runs) or an unknown size: no reason to look further.
    if (decision.forced || !need.vram) break;
  }
  if (!priority) {
    *waiting = "retry-delay";
    return false;
  }
  if (!best) {
    *waiting = head_waiting;
    return false;
  }
  pick->members = {*best};
  pick->decision = picked;
  return true;
}

// Several jobs per process (--batch-size): the first ready job and the ready
// jobs after it that may share its process (same command template,
// priority, environment and CPU fallback), in queue order, up to the class's
// limit - for auto, as many as fit (AutoSize). The unit's need is admitted
// as one job's.
bool Scheduler::PickBatch(TimePoint now, Pick* pick, std::string* waiting) {
  auto head = std::find_if(queue_.begin(), queue_.end(),
                           [&](const Pending& p) { return IsReady(p, now); });
  if (head == queue_.end()) {
    *waiting = "retry-delay";
    return false;
  }
  const Job& lead = plan_->to_run[head->job];
  const std::string& job_class = JobClass(head->job);
  size_t limit = static_cast<size_t>(sizer_.Limit(job_class));
  if (sizer_.is_auto()) {
    // Leave work for the other slots: at most an equal share of what is
    // left (queued, and running in other units), so that the slots end
    // together instead of one running a long tail.
    size_t left = queue_.size();
    for (const auto& run : slots_) {
      if (run) left += run->members.size();
    }
    size_t slots = SlotLimit();
    limit = std::min(limit, std::max<size_t>(1, (left + slots - 1) / slots));
  }
  std::vector<std::deque<Pending>::iterator> members;
  for (auto it = head; it != queue_.end() && members.size() < limit; ++it) {
    if (!IsReady(*it, now)) continue;
    const Job& job = plan_->to_run[it->job];
    // Same class (command template), priority, env and fallback as the lead.
    if (it != head && (!MayShareProcess(lead, job) || it->cpu_fallback != head->cpu_fallback)) {
      continue;
    }
    members.push_back(it);
  }
  std::vector<const JobUse*> uses = RunningUses();
  HostView host = ledger_->Host(uses);
  std::vector<DeviceView> devices = DeviceViews(uses, job_class, now);
  if (sizer_.is_auto()) members.resize(AutoSize(members, host, devices));
  std::vector<size_t> jobs;
  for (const auto& it : members) jobs.push_back(it->job);
  AdmitDecision decision =
      AdmitUnit(NeedOf(jobs, head->cpu_fallback, head->oom_failures > 0), head->job, host, devices);
  if (!decision.start) {
    *waiting = Waiting(decision, uses, now);
    return false;
  }
  pick->members = std::move(members);
  pick->decision = decision;
  return true;
}

// --batch-size auto: of `candidates` (queue order), how many to run in one
// process - the most whose predicted peaks (scaled up from what is learned,
// FootprintModel::PredictScaled) fit this unit's share of the room: the
// freest allowed device's room under --vram-high, and the RAM --max-memory
// leaves, less what the other free slots need for units of the size the
// class last ran. So the size grows a step at a time at any -j (slots that
// free together do not each get half the room and stay at one input
// forever), and settles where every slot's unit fits. One while nothing is
// learned (the first batches measure), and at least one.
size_t Scheduler::AutoSize(const std::vector<std::deque<Pending>::iterator>& candidates,
                           const HostView& host, const std::vector<DeviceView>& devices) const {
  if (candidates.size() <= 1) return candidates.size();
  const Job& lead = plan_->to_run[candidates.front()->job];
  const std::string& job_class = JobClass(candidates.front()->job);
  bool gpu = config_.admission.use_gpus && !devices.empty() && !candidates.front()->cpu_fallback;
  if (lead.gpu_mem || config_.gpu_mem || lead.ram || config_.ram_per_job) {
    return candidates.size();  // declared per process: the user sized it
  }
  Footprint one = footprints_.Predict(job_class, UnitMeasure({candidates.front()->job}));
  if (gpu ? !one.vram : !one.rss) return 1;  // nothing learned yet

  double others = static_cast<double>(
      std::max<size_t>(1, SlotLimit() - std::min(SlotLimit(), running_)) - 1);
  // What each other free slot keeps for a unit of the class's last size.
  size_t last = std::min(candidates.size(), LastUnitSize(job_class));
  std::vector<size_t> last_jobs;
  for (size_t i = 0; i < last; ++i) last_jobs.push_back(candidates[i]->job);
  Footprint other = footprints_.PredictScaled(job_class, UnitMeasure(last_jobs));
  std::optional<double> vram_share, ram_share;
  if (gpu) {
    int64_t best = 0;
    for (const DeviceView& device : devices) {
      if (!Allowed(device.index)) continue;
      best = std::max(best, DeviceFree(device, config_.admission.vram_high));
    }
    vram_share = static_cast<double>(best) - others * static_cast<double>(other.vram.value_or(0));
  }
  if (host.memory_total > 0) {
    double allowed = static_cast<double>(host.memory_total) * config_.admission.max_memory_pct / 100;
    double in_use = static_cast<double>(host.memory_total - std::min(host.memory_total,
                                                                      host.memory_available));
    ram_share = std::max(0.0, allowed - in_use - static_cast<double>(host.reserved_ram)) -
                others * static_cast<double>(other.rss.value_or(0));
  }
  auto fits = [&](size_t n) {
    std::vector<size_t> jobs;
    for (size_t i = 0; i < n; ++i) jobs.push_back(candidates[i]->job);
    Footprint predicted = footprints_.PredictScaled(job_class, UnitMeasure(jobs));
    if (vram_share && predicted.vram && static_cast<double>(*predicted.vram) > *vram_share) {
      return false;
    }
    if (ram_share && predicted.rss && static_cast<double>(*predicted.rss) > *ram_share) {
      return false;
    }
    return true;
  };
  // Predictions grow with n: the largest n that fits, by bisection.
  size_t lo = 1, hi = candidates.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// With --worker, a request that an idle worker on some device can take
// needs only what a request adds there (the worker's base is in use
// already); else a new worker starts and its learned base is added.
AdmitDecision Scheduler::AdmitUnit(JobNeed need, size_t lead, const HostView& host,
                                   const std::vector<DeviceView>& devices) const {
  const std::string& job_class = JobClass(lead);
  // memory_requests: a class whose memory is not known yet runs one job
  // at a time, which asks for the executor's default and shows the peak.
  if (config_.memory_requests.on && !need.ram && ClassInFlight(job_class) > 0) {
    AdmitDecision decision;
    decision.waiting = "learning memory use (first job)";
    return decision;
  }
  if (!config_.workers || !need.gpu || !config_.place_gpus) {
    return Admit(need, host, devices, config_.admission);
  }
  AdmissionConfig reuse = config_.admission;
  reuse.allowed_gpus.clear();
  for (const DeviceView& device : devices) {
    if (Allowed(device.index) && runner_->HasIdleProcess(plan_->to_run[lead], std::to_string(device.index))) {
      reuse.allowed_gpus.push_back(device.index);
    }
  }
  if (!reuse.allowed_gpus.empty()) {
    AdmitDecision decision = Admit(need, host, devices, reuse);
    if (decision.start) return decision;
  }
  std::optional<uint64_t> base = footprints_.Predict(BaseClassOf(job_class), 0).vram;
  if (need.vram && base) need.vram = *need.vram + *base;
  return Admit(need, host, devices, config_.admission);
}

int Scheduler::ClassInFlight(const std::string& job_class) const {
  int n = 0;
  for (const auto& run : slots_) n += run && run->use.job_class == job_class;
  return n;
}

std::optional<uint64_t> Scheduler::MemoryRequest(const std::vector<size_t>& jobs,
                                                 const JobNeed& need, const Pending& lead) const {
  const SchedulerConfig::MemoryRequests& requests = config_.memory_requests;
  bool declared = config_.ram_per_job.has_value();
  for (size_t index : jobs) declared |= plan_->to_run[index].ram.has_value();
  std::optional<uint64_t> request;
  if (declared) {
    request = need.ram;
  } else if (std::optional<uint64_t> learned =
                 footprints_.Predict(JobClass(jobs.front()), UnitMeasure(jobs),
                                     /*cautious=*/true)
                     .rss) {
    // A job over its --mem is killed, so not the class's typical peak but
    // its largest (with the model's margin while few are known), + margin.
    request = static_cast<uint64_t>(std::ceil(static_cast<double>(*learned) * (1 + requests.margin)));
  }
  if (lead.min_ram) request = std::max(request.value_or(0), *lead.min_ram);
  if (!request) return std::nullopt;
  uint64_t step = std::max<uint64_t>(requests.step, 1);
  return (*request + step - 1) / step * step;
}

// Whether the kernel's OOM killer killed anything since the unit started (its
// count from the last sample before the start, read again now): asked only
// of a unit that died of SIGKILL, or a shell that exited 137.
bool Scheduler::OomKillerFired(const Running& run, const ExitInfo& exit) const {
  if (!DiedOfSigkill(exit.exit_code, exit.signal) || !run.oom_kills_at_start ||
      resources_ == nullptr) {
    return false;
  }
  std::optional<uint64_t> now = resources_->OomKills();
  return now && *now > *run.oom_kills_at_start;
}

// --gpus: an empty list allows every device.
bool Scheduler::Allowed(int device) const {
  const auto& allowed = config_.admission.allowed_gpus;
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), device) != allowed.end();
}

uint64_t Scheduler::GroupVram(pid_t pgid, int device) const {
  uint64_t used = 0;
  for (const GpuDevice& gpu : ledger_->snapshot().gpus) {
    if (gpu.index != device) continue;
    for (const GpuProcess& process : gpu.processes) {
      if (process.pgid == pgid) used += process.used_bytes;
    }
  }
  return used;
}

std::optional<uint64_t> Scheduler::WorkerBase(const Running& run) const {
  if (!run.fresh) return run.base_at_start;
  return footprints_.Predict(BaseClassOf(run.use.job_class), 0).vram;
}

std::optional<uint64_t> Scheduler::RequestShare(const Running& run, uint64_t vram) const {
  if (!config_.workers) return vram;
  std::optional<uint64_t> base = WorkerBase(run);
  if (!base) return std::nullopt;
  return vram > *base ? vram - *base : 0;
}

void Scheduler::AdoptLeftovers(TimePoint now) {
  std::vector<std::vector<int64_t>> units = runner_->Leftovers();
  size_t adopted = 0, left = 0;  // jobs
  for (const std::vector<int64_t>& numbers : units) {
    left += numbers.size();
    if (stopping_ || running_ >= SlotLimit()) continue;
    Pick pick;
    for (int64_t number : numbers) {
      auto it = std::find_if(queue_.begin(), queue_.end(), [&](const Pending& pending) {
        return plan_->to_run[pending.job].number == number;
      });
      if (it == queue_.end()) break;
      pick.members.push_back(it);
    }
    if (pick.members.size() != numbers.size()) continue;  // not all of it runs again
    size_t before = running_;
    adopting_ = true;
    StartUnit(pick, now);
    adopting_ = false;
    if (running_ > before) adopted += numbers.size();
  }
  runner_->DropLeftovers();
  if (units.empty()) return;
  std::string notice =
      fmt::format("took back {} job(s) that a killed headroom left queued or running", adopted);
  if (adopted < left) notice += fmt::format("; {} cancelled, to run again", left - adopted);
  // As loud as the resume's other word on what a killed run left.
  observer_->OnNotice(LogLevel::kWarn, notice);
}

void Scheduler::StartUnit(const Pick& pick, TimePoint now) {
  Running run;
  std::vector<size_t> jobs;
  for (const auto& it : pick.members) {
    run.members.push_back(*it);
    jobs.push_back(it->job);
  }
  // Erasing from a deque invalidates its iterators: by position, the last
  // first, so that the earlier positions still hold.
  std::vector<size_t> positions;
  for (const auto& it : pick.members) positions.push_back(static_cast<size_t>(it - queue_.begin()));
  std::sort(positions.rbegin(), positions.rend());
  for (size_t position : positions) queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(position));

  const AdmitDecision& decision = pick.decision;
  // The lowest free slot: after `ctl jobs` lowered the limit, one below it
  // is free whenever fewer than the limit run.
  auto free_slot = std::find_if(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(SlotLimit()),
                                [](const std::optional<Running>& r) { return !r; });
  int slot = static_cast<int>(free_slot - slots_.begin()) + 1;
  const Pending& lead = run.members.front();
  const Job& lead_job = plan_->to_run[lead.job];
  last_start_ = now;
  JobNeed need = NeedOf(jobs, lead.cpu_fallback, lead.oom_failures > 0);

  run.slot = slot;
  run.start = now;
  run.cpu_fallback = lead.cpu_fallback;
  run.measure = UnitMeasure(jobs);
  run.use.device = decision.device;
  run.use.job_class = JobClass(lead.job);
  run.use.reserved_vram = decision.device >= 0 ? need.vram.value_or(0) : 0;
  run.use.reserved_ram = need.ram.value_or(0);
  run.use.start = now;
  run.oom_kills_at_start = ledger_->snapshot().system.oom_kills;
  Launch launch;
  launch.slot = slot;
  launch.attempt = lead.attempt;
  launch.cpu_fallback = lead.cpu_fallback;
  if (config_.place_gpus) {
    launch.gpu = decision.device >= 0 ? std::to_string(decision.device) : std::string();
  }
  if (config_.memory_requests.on) {
    launch.ram = MemoryRequest(jobs, need, lead);
    run.requested_ram = launch.ram;
  }
  Unit unit;
  for (size_t i = 0; i < run.members.size(); ++i) {
    const Job& job = plan_->to_run[run.members[i].job];
    unit.jobs.push_back(&job);
    LaunchInfo info;
    info.slot = slot;
    info.attempt = run.members[i].attempt;
    info.gpu = decision.device;
    info.lead = &lead_job;
    info.lead_attempt = lead.attempt;
    info.unit_size = run.members.size();
    info.last = i + 1 == run.members.size();
    observer_->OnJobLaunch(job, info);
  }
  ++counts_.units;
  last_unit_size_[run.use.job_class] = run.members.size();
  // A new worker beyond the slots evicts the one idle the longest.
  if (config_.workers && !runner_->HasIdleProcess(lead_job, launch.gpu)) {
    std::optional<pid_t> evict = WorkerToEvict(runner_->KeptProcesses(), config_.jobs);
    if (evict) runner_->StopKept(*evict);
  }
  const std::optional<uint64_t>& limit = config_.memory_requests.limit;
  Status status;
  // A leftover being taken back already runs with what it asked for then.
  if (!adopting_ && launch.ram && limit && *launch.ram > *limit) {
    // Retrying would only ask for more.
    status = Status::Error(fmt::format("needs more than {:.1f} GiB: it would ask for {:.1f} GiB, and {}",
                                       static_cast<double>(*limit) / (1 << 30),
                                       static_cast<double>(*launch.ram) / (1 << 30),
                                       config_.memory_requests.limit_why));
  } else {
    status = runner_->Start(unit, launch, &run.started);
  }
  if (!status.ok()) {
    AttemptEnd end;
    end.outcome = Outcome::kStartFailed;
    end.error = status.message();
    FinishAll(run, end, now);
    return;
  }
  run.use.pgid = run.started.pid;
  if (run.started.adopted) run.requested_ram = run.started.ram;
  if (config_.workers) {
    run.fresh = run.started.fresh_process;
    if (!run.fresh && decision.device >= 0) {
      // An idle worker's memory is its base: learned, and part of what the
      // request is expected to hold.
      run.base_at_start = GroupVram(run.started.pid, decision.device);
      if (run.base_at_start > 0) {
        footprints_.Observe(BaseClassOf(run.use.job_class), 0, run.base_at_start, std::nullopt);
        Taught(BaseClassOf(run.use.job_class), 0, "vram", run.base_at_start);
      }
    }
    if (run.use.device >= 0) run.use.reserved_vram += WorkerBase(run).value_or(0);
  }
  *free_slot = run;
  ++running_;
  counts_.running += static_cast<int64_t>(run.members.size());
  for (const Pending& member : run.members) {
    AttemptStart start{slot, member.attempt, run.started, run.members.size(), run.requested_ram};
    observer_->OnJobStart(plan_->to_run[member.job], start, counts_);
  }
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
  if (!stopping_ && !paused_ && !queue_.empty() && running_ < SlotLimit()) {
    // Something may start soon: at the end of the delay or a retry delay.
    // Times already past were handled by StartReady() just before.
    auto consider = [&](TimePoint t) {
      if (t > now) wake = std::min(wake, t);
    };
    for (const Pending& p : queue_) consider(p.ready);
    if (last_start_) consider(*last_start_ + config_.delay);
    for (const auto& [device, until] : cool_until_) consider(until);
  }
  return std::max(wake, now);
}

// A unit's process ended. Each of its jobs gets an outcome: the one the
// program reported for its input (ExitInfo::results), else the process's.
// Jobs that ran out of memory go to HandleOutOfMemory together; the others
// commit or discard their outputs and are finished one by one.
void Scheduler::HandleExit(const Exited& exited, TimePoint now) {
  auto it = std::find_if(slots_.begin(), slots_.end(), [&](const std::optional<Running>& r) {
    return r && r->started.handle == exited.handle;
  });
  if (it == slots_.end()) return;
  // The newest sample may hold the job's last peak.
  Refresh();
  Running run = std::move(**it);
  it->reset();
  // A worker that answered lives on, holding its memory, unless it ran out
  // of memory: then it serves no other request.
  if (!config_.workers || exited.info.worker_lost) ledger_->OnJobExit(run.use.pgid);
  if (config_.workers && !exited.info.worker_lost && RetireAfter(exited.info)) {
    runner_->StopKept(run.started.pid);
  }
  --running_;
  counts_.running -= static_cast<int64_t>(run.members.size());
  if (config_.cooldown.count() > 0 && run.use.device >= 0) {
    cool_until_[run.use.device] = now + config_.cooldown;
  }

  const ExitInfo& info = exited.info;
  Outcome unit_outcome = ClassifyExit(info, run.timed_out, run.interrupted);
  OomKind unit_oom = OomKind::kNone;
  if (unit_outcome == Outcome::kFailed) {
    OomInput input;
    input.exit_code = info.exit_code;
    input.signal = info.signal;
    input.killed_by_us = run.timed_out || run.interrupted;
    input.oom_killer_fired = OomKillerFired(run, info);
    input.stderr_tail = info.stderr_tail;
    input.oom_exit_codes = config_.oom_exit_codes;
    input.patterns = config_.oom_patterns;
    unit_oom = info.reported_oom ? OomKind::kUnknown : ClassifyOom(input);
  }
  size_t n = run.members.size();
  std::vector<AttemptEnd> ends(n);
  std::vector<bool> oom(n, unit_oom != OomKind::kNone);
  for (size_t i = 0; i < n; ++i) {
    ends[i].exit = info;
    ends[i].gpu = run.use.device;
    ends[i].outcome = unit_outcome;
  }
  for (const InputResult& result : info.results) {
    if (result.index >= n) continue;
    ends[result.index].outcome = result.ok ? Outcome::kSucceeded : Outcome::kFailed;
    oom[result.index] = !result.ok && result.oom;
    if (!result.ok && !result.error.empty()) ends[result.index].error = result.error;
  }
  std::vector<size_t> oom_members;
  bool all_succeeded = true;
  for (size_t i = 0; i < n; ++i) {
    if (oom[i]) {
      ends[i].out_of_memory = true;
      ends[i].outcome = Outcome::kFailed;
      oom_members.push_back(i);
    }
    all_succeeded = all_succeeded && ends[i].outcome == Outcome::kSucceeded;
  }
  if (!oom_members.empty()) {
    OomKind kind = unit_oom != OomKind::kNone ? unit_oom : OomKind::kUnknown;
    if (HandleOutOfMemory(run, info, kind, oom_members, now)) {
      for (size_t i : oom_members) ends[i].will_retry = true;
    }
  }
  for (size_t i = 0; i < n; ++i) ends[i] = Completed(run, i, std::move(ends[i]), now);
  AnnounceCommits(run, ends);
  for (size_t i = 0; i < n; ++i) {
    const Job& job = plan_->to_run[run.members[i].job];
    if (ends[i].out_of_memory) {
      runner_->Complete(job, false);
      continue;
    }
    Status committed = runner_->Complete(job, ends[i].outcome == Outcome::kSucceeded);
    if (!committed.ok()) {
      ends[i].outcome = Outcome::kFailed;
      ends[i].error = committed.message();
      all_succeeded = false;
    }
  }
  if (all_succeeded) {
    LearnFromSuccess(run, info);
    UpdateReservations();
  }
  for (size_t i = 0; i < n; ++i) Finish(run, i, ends[i], now);
  RequeueRetries();
}

// A unit of several jobs that ran out of memory is cut in half: the class's
// batch limit halves and its jobs go back to the head of the queue, where
// the next starts take them half at a time; this does not count against
// their --oom-retries, and the device's limit is left alone (the smaller
// batch is the remedy). A single job is handled as before: the device's
// limit decreases, and the job is retried (after --retry-delay) while it has
// out-of-memory retries left, then maybe without a GPU.
bool Scheduler::HandleOutOfMemory(const Running& run, const ExitInfo& exit, OomKind kind,
                                  const std::vector<size_t>& oom, TimePoint now) {
  // Learn: the class needs at least what this attempt held when it failed.
  bool gpu = run.use.device >= 0 && kind != OomKind::kHost;
  size_t n = run.members.size();
  const Job& lead = run.Lead(*plan_);
  if (gpu) {
    uint64_t used = RequestShare(run, std::max(run.use.vram_peak, run.use.reserved_vram))
                        .value_or(std::max(run.use.vram_peak, run.use.reserved_vram));
    if (used > 0) {
      footprints_.OnOom(run.use.job_class, run.measure, Memory::kVram, used);
      Taught(run.use.job_class, run.measure, "vram", used);
    }
  } else if (std::optional<uint64_t> rss = PeakRss(run, exit)) {
    footprints_.OnOom(run.use.job_class, run.measure, Memory::kRss, *rss);
    Taught(run.use.job_class, run.measure, "rss", *rss);
  }
  if (n > 1) {
    int limit = sizer_.OnOom(run.use.job_class, static_cast<int>(n));
    observer_->OnNotice(LogLevel::kInfo, "a batch of " + std::to_string(n) + " (" + lead.name +
                                             ", ...) ran out of memory; batches of " +
                                             std::to_string(limit) + " from now");
  } else if (gpu) {
    int on_device = 1;
    for (const JobUse* other : RunningUses()) on_device += other->device == run.use.device;
    ConcurrencyLimit& limit = ledger_->Limit(run.use.device);
    std::optional<std::string> change = limit.OnOom(run.start, on_device, now);
    if (change) ReportLimit(run.use.device, limit.limit(), *change);
  }
  UpdateReservations();
  if (stopping_) return false;

  // memory_requests: the next attempt asks for at least oom_growth x this one.
  std::optional<uint64_t> more_ram;
  if (config_.memory_requests.on) {
    uint64_t asked = run.requested_ram ? *run.requested_ram : PeakRss(run, exit).value_or(0);
    if (asked > 0) {
      more_ram = static_cast<uint64_t>(
          std::ceil(static_cast<double>(asked) * std::max(1.0, config_.memory_requests.oom_growth)));
    }
  }
  if (n > 1) {
    for (auto i = oom.rbegin(); i != oom.rend(); ++i) {
      Pending again = run.members[*i];
      again.attempt += 1;
      if (more_ram) again.min_ram = more_ram;
      again.ready = now;
      queue_.push_front(again);
      ++counts_.oom_retries;
    }
    return true;
  }
  const Pending& member = run.members.front();
  int failures = member.oom_failures + 1;
  OomRetryConfig retry = config_.oom;
  retry.cpu_fallback |= !lead.cpu_argv_template.empty();  // a CPU command asks for the fallback
  OomRetryDecision decision = DecideOomRetry(failures, run.use.device >= 0, retry);
  if (decision.action == OomAction::kFail) return false;
  Pending again = member;
  again.attempt += 1;
  again.ready = now + decision.delay;
  again.oom_wait = decision.delay > Millis(0);
  again.oom_failures = failures;
  again.cpu_fallback = false;
  if (more_ram) again.min_ram = more_ram;
  if (decision.action == OomAction::kCpuFallback) {
    again.cpu_fallback = true;
    observer_->OnNotice(LogLevel::kWarn, lead.name + ": out of memory " + std::to_string(failures) +
                                             " times; running it once more without a GPU");
  }
  queue_.push_front(again);
  ++counts_.oom_retries;
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
  std::optional<uint64_t> vram;
  // A plateau already learned from this job is not counted twice.
  if (run.use.device >= 0 && run.use.vram_measured && run.plateau_learned != run.use.vram_peak) {
    vram = RequestShare(run, run.use.vram_peak);
  } else if (run.use.device < 0 && exit.peak_vram && *exit.peak_vram > 0) {
    vram = exit.peak_vram;  // measured on its Slurm node: the class's footprint all the same
  }
  std::optional<uint64_t> rss = PeakRss(run, exit);
  footprints_.Observe(run.use.job_class, run.measure, vram, rss);
  if (vram) Taught(run.use.job_class, run.measure, "vram", *vram);
  if (rss) Taught(run.use.job_class, run.measure, "rss", *rss);
  auto wall = std::chrono::duration_cast<Millis>(clock_->Now() - run.start).count();
  Taught(run.use.job_class, run.measure, "wall_ms", static_cast<uint64_t>(std::max<int64_t>(0, wall)));
  durations_.Observe(run.use.job_class,
                     static_cast<double>(std::max<int64_t>(0, wall)) / 1000 /
                         static_cast<double>(run.members.size()));
  if (sizer_.batching()) {
    std::optional<int> grown = sizer_.OnSuccess(run.use.job_class, static_cast<int>(run.members.size()));
    if (grown) {
      observer_->OnNotice(LogLevel::kInfo, run.Lead(*plan_).name + ": batches of up to " +
                                               std::to_string(*grown) + " again");
    }
  }
  if (run.use.device >= 0 && !ledger_->Latched(run.use.device)) {
    ConcurrencyLimit& limit = ledger_->Limit(run.use.device);
    std::optional<std::string> change = limit.OnSuccess(run.use.vram_measured);
    if (change) ReportLimit(run.use.device, limit.limit(), *change);
  }
}

// Each allowed device's concurrency limit as the batch starts, so that
// observers (metrics, the journal) know it before it first changes.
void Scheduler::ReportStartingLimits() {
  const AdmissionConfig& admission = config_.admission;
  if (!admission.use_gpus || admission.policy != PolicyKind::kAdaptive) return;
  for (const GpuDevice& device : ledger_->snapshot().gpus) {
    if (!Allowed(device.index)) continue;
    int limit = std::min(ledger_->Limit(device.index).limit(), TemperatureCapOf(device));
    observer_->OnLimitChange(
        device.index, limit,
        "gpu" + std::to_string(device.index) + " limit " + std::to_string(limit) + ": batch start");
  }
}

// Observers get the device's effective limit: the concurrency limit within
// its temperature cap.
void Scheduler::ReportLimit(int device, int limit, const std::string& reason) {
  CapWorkers();
  auto cap = temp_caps_.find(device);
  if (cap != temp_caps_.end()) limit = std::min(limit, cap->second);
  observer_->OnNotice(LogLevel::kInfo, reason);
  observer_->OnLimitChange(device, limit, reason);
}

int Scheduler::TemperatureCapOf(const GpuDevice& device) const {
  const AdmissionConfig& admission = config_.admission;
  TempState state =
      ClassifyTemperature(device.temperature_c, admission.temp_warm, admission.temp_limit);
  return TemperatureCap(state, admission.jobs_per_gpu > 0 ? admission.jobs_per_gpu
                                                          : admission.slots);
}

void Scheduler::ReportTemperatureLimits() {
  const AdmissionConfig& admission = config_.admission;
  if (!admission.use_gpus || admission.policy != PolicyKind::kAdaptive) return;
  for (const GpuDevice& device : ledger_->snapshot().gpus) {
    if (!Allowed(device.index)) continue;
    int cap = TemperatureCapOf(device);
    auto [it, added] = temp_caps_.try_emplace(device.index, cap);
    if (added || it->second == cap) continue;
    int concurrency = ledger_->Limit(device.index).limit();
    int before = std::min(concurrency, it->second);
    int after = std::min(concurrency, cap);
    it->second = cap;
    if (before == after) continue;
    std::string why = cap < before ? fmt::format("{} °C", device.temperature_c.value_or(0))
                                   : fmt::format("{} °C, cooler", device.temperature_c.value_or(0));
    ReportLimit(device.index, after,
                fmt::format("gpu{} limit {} -> {}: {}", device.index, before, after, why));
  }
}

// A request whose worker crashed or hung past --timeout goes back to the
// queue once, beyond --retries, for a fresh worker: the worker, not the
// job, may be what failed (a second loss is the job's).
bool Scheduler::LostWorker(const AttemptEnd& end, const Pending& member) const {
  return config_.workers && end.exit.worker_lost && !member.requeued_lost &&
         (end.outcome == Outcome::kFailed || end.outcome == Outcome::kTimedOut);
}

void Scheduler::FinishAll(const Running& run, const AttemptEnd& end, TimePoint now) {
  for (size_t i = 0; i < run.members.size(); ++i) Finish(run, i, Completed(run, i, end, now), now);
  RequeueRetries();
}

// Retried jobs go back to the head of the queue in their unit's order.
void Scheduler::RequeueRetries() {
  queue_.insert(queue_.begin(), retries_.begin(), retries_.end());
  retries_.clear();
}

AttemptEnd Scheduler::Completed(const Running& run, size_t i, AttemptEnd end,
                                TimePoint now) const {
  end.attempt = run.members[i].attempt;
  end.slot = run.slot;
  end.unit_size = run.members.size();
  if (run.use.device >= 0 && run.use.vram_measured) end.peak_vram = run.use.vram_peak;
  if (!end.peak_vram) end.peak_vram = end.exit.peak_vram;  // measured where it ran (Slurm)
  end.peak_rss = PeakRss(run, end.exit);
  end.wall_seconds = std::chrono::duration<double>(now - run.start).count();
  end.stdout_log = run.started.stdout_log;
  end.stderr_log = run.started.stderr_log;
  return end;
}

// Exactly once: observers hear of each success of a unit before its output
// is renamed into place (the journal makes it durable then), so that a kill
// between the rename and the journal's next commit does not run it again.
void Scheduler::AnnounceCommits(const Running& run, const std::vector<AttemptEnd>& ends) {
  std::vector<size_t> commits;
  for (size_t i = 0; i < ends.size(); ++i) {
    if (!ends[i].out_of_memory && ends[i].outcome == Outcome::kSucceeded) commits.push_back(i);
  }
  for (size_t k = 0; k < commits.size(); ++k) {
    size_t i = commits[k];
    observer_->OnJobCommit(plan_->to_run[run.members[i].job], ends[i], k + 1 == commits.size());
  }
}

void Scheduler::Finish(const Running& run, size_t i, AttemptEnd end, TimePoint now) {
  const Pending& member = run.members[i];

  bool gave_up = false;
  if (end.will_retry) {
    // Out of memory: HandleOutOfMemory() requeued it already.
  } else if (RetryDecision retry = DecideRetry(end.outcome, member.attempt, config_.retry);
             (retry.retry || LostWorker(end, member)) && !stopping_) {
    end.will_retry = true;
    ++counts_.retries;
    Pending again = member;
    again.attempt += 1;
    again.ready = now + (retry.retry ? retry.delay : Millis(0));
    again.oom_wait = false;  // a plain failure's retry waits out its delay
    again.requeued_lost = again.requeued_lost || !retry.retry;
    retries_.push_back(again);
  } else if (end.outcome == Outcome::kSucceeded) {
    ++counts_.succeeded;
  } else if (end.outcome == Outcome::kInterrupted) {
    ++counts_.interrupted;
  } else {
    ++counts_.failed;
    gave_up = true;
  }
  observer_->OnJobEnd(plan_->to_run[member.job], end, counts_);

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

void Scheduler::HandlePlaced(RunHandle handle, const std::string& where) {
  for (const auto& run : slots_) {
    if (!run || run->started.handle != handle) continue;
    for (const Pending& member : run->members) {
      observer_->OnJobPlaced(plan_->to_run[member.job], member.attempt, where);
    }
  }
}

// SIGHUP drains, as GNU parallel's does: nothing new starts, the running
// jobs finish, and the rest stays queued in the journal for --resume (exit
// 129 when jobs were left). Any signal during a drain stops the running
// jobs as a first SIGINT/SIGTERM would.
void Scheduler::HandleInterrupt(int signal, TimePoint now) {
  if (signal == SIGHUP && !draining_ && interrupt_signal_ == 0) {
    Drain("SIGHUP");
    return;
  }
  if (interrupt_signal_ != 0) {
    // A second interrupt: the user does not want to wait for the grace.
    observer_->OnNotice(LogLevel::kWarn, "interrupted again: killing all jobs now");
    for (auto& run : slots_) {
      if (!run) continue;
      SignalRun(*run, SIGKILL);
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

void Scheduler::Drain(const std::string& why) {
  draining_ = true;
  stopping_ = true;
  observer_->OnNotice(LogLevel::kWarn,
                      why + ": starting nothing new; " + std::to_string(running_) +
                          " running job(s) finish, " + std::to_string(queue_.size()) +
                          " left for --resume (a second signal stops them)");
}

// headroom ctl (journal/batch_control.h): a request is read on the tick
// after it was written, applied, and acknowledged so that `ctl` can say it
// took effect. True when it changed what may start.
bool Scheduler::PollControl(TimePoint now) {
  if (control_ == nullptr) return false;
  std::optional<ControlRequest> request = control_->Poll();
  if (!request) return false;
  bool changed = false;
  if (request->jobs && *request->jobs >= 1 && static_cast<size_t>(*request->jobs) != SlotLimit()) {
    SetSlots(*request->jobs);
    changed = true;
  }
  if (request->paused != paused_) {
    paused_ = request->paused;
    observer_->OnNotice(LogLevel::kWarn,
                        paused_ ? "paused by headroom ctl: starting nothing new until "
                                  "'headroom ctl continue'; " +
                                      std::to_string(running_) + " running job(s) go on"
                                : "continued by headroom ctl");
    changed = true;
  }
  if (request->draining && !draining_ && interrupt_signal_ == 0) {
    Drain("drain by headroom ctl");
    changed = true;
  }
  control_->Acknowledge(*request);
  (void)now;
  return changed;
}

// `ctl jobs N`: the slot limit from now on. Running jobs are not stopped
// when it drops; slots never shrink, so a running job keeps its slot.
void Scheduler::SetSlots(int jobs) {
  int before = config_.jobs;
  config_.jobs = jobs;
  config_.admission.slots = jobs;
  if (slots_.size() < static_cast<size_t>(jobs)) slots_.resize(static_cast<size_t>(jobs));
  for (const auto& [device, limit, reason] : ledger_->SetSlots(jobs)) {
    ReportLimit(device, limit, reason);
  }
  std::string reason = "slot limit -j " + std::to_string(before) + " -> " + std::to_string(jobs) +
                       " (headroom ctl jobs)";
  observer_->OnNotice(LogLevel::kWarn, reason);
  observer_->OnLimitChange(-1, jobs, reason);  // device -1: the batch's slots
}

// A worker whose request headroom signalled serves no other: whatever it
// answers, its state is unknown (sched/worker_policy.h).
void Scheduler::SignalRun(const Running& run, int signal) {
  runner_->Signal(run.started.handle, signal);
  if (config_.workers) runner_->StopKept(run.started.pid);
}

void Scheduler::StopRunning(TimePoint now) {
  for (auto& run : slots_) {
    if (!run || run->interrupted) continue;
    run->interrupted = true;
    SignalRun(*run, SIGTERM);
    run->kill_at = now + config_.kill_grace;
  }
}

void Scheduler::HandleTimers(TimePoint now) {
  for (auto& run : slots_) {
    if (!run) continue;
    if (config_.timeout && !run->timed_out && !run->interrupted &&
        now >= run->start + *config_.timeout) {
      run->timed_out = true;
      SignalRun(*run, SIGTERM);
      run->kill_at = now + config_.kill_grace;
    }
    if (run->kill_at && now >= *run->kill_at) {
      SignalRun(*run, SIGKILL);
      run->kill_at.reset();
    }
  }
}

}  // namespace headroom

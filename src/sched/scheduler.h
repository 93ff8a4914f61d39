// Scheduler: the loop that owns every decision of a batch. In two phases,
// as ninja's: start every queued job the admission rules allow, then wait for
// one event (a job exited, an interrupt, a timer) and act on it.
#pragma once

#include <csignal>
#include <deque>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "exec/job_runner.h"
#include "journal/batch_control.h"
#include "jobs/observer.h"
#include "jobs/plan.h"
#include "probe/resource_source.h"
#include "sched/admission.h"
#include "sched/batch_sizer.h"
#include "sched/eta.h"
#include "sched/footprint_model.h"
#include "sched/halt.h"
#include "sched/oom_classifier.h"
#include "sched/oom_retry.h"
#include "sched/resource_ledger.h"
#include "sched/retry_policy.h"
#include "util/clock.h"

namespace headroom {

struct SchedulerConfig {
  int jobs = 1;                   // slots
  std::optional<Millis> timeout;  // per attempt
  Millis kill_grace{5000};        // SIGTERM -> SIGKILL
  Millis delay{0};                // between starts
  Halt halt = Halt::kNever;
  RetryConfig retry;
  Millis tick{100};               // OnTick period
  // Resources: the gates (admission.slots is set from `jobs`).
  AdmissionConfig admission;
  // Place jobs on GPUs (CUDA_VISIBLE_DEVICES, {gpu}): false when no GPU
  // provider found any device, so a job's environment is left alone.
  bool place_gpus = false;
  std::optional<uint64_t> gpu_mem;      // --gpu-mem
  std::optional<uint64_t> ram_per_job;  // --ram-per-job
  // Out of memory.
  OomRetryConfig oom;
  std::vector<int> oom_exit_codes;
  std::vector<std::regex> oom_patterns;
  // How many ready jobs from the head of the queue are weighed for each
  // start (largest predicted VRAM first), so that small jobs fill room a
  // big one cannot use yet.
  size_t lookahead = 64;
  // --batch-size: jobs of one class that may share a process.
  BatchSizerConfig batch;
  // --worker: processes outlive their jobs. A worker's own memory (its
  // model) is learned apart from what each request adds, and counted once.
  bool workers = false;
  // --gate-timeout: give up (exit 1, the rest not started, resumable) when
  // nothing of ours runs and the machine's state has held the queue this
  // long; unset = wait as long as it takes.
  std::optional<Millis> gate_timeout;
  // --cooldown: after a job ends on a GPU, the GPU takes no new job for
  // this long (0: off).
  Millis cooldown{0};
  // What earlier batches learned (the journal's RecentFootprints, oldest
  // first): the footprint model starts from them, so that a second batch of
  // a class packs from its first job.
  std::vector<LearnedFootprint> priors;
  // --executor slurm: each launch asks for its memory (Launch::ram): a
  // declared size, else the class's largest peak RSS (with the footprint
  // model's margin while few are known) + `margin`, else the executor's
  // default while one job of the class shows what it needs; after running
  // out of memory, at least `oom_growth` x what the attempt asked for.
  struct MemoryRequests {
    bool on = false;
    double margin = 0.10;
    uint64_t step = uint64_t{64} << 20;  // requests are rounded up to it
    double oom_growth = 1.5;
    // The most one unit can be given (Slurm: the largest node's memory, or
    // the partition's MaxMemPerNode); a unit that would ask for more fails
    // unstarted, "needs more than N GiB: it would ask for M GiB, and
    // <limit_why>". nullopt: unknown.
    std::optional<uint64_t> limit;
    std::string limit_why = "no node has more";
  };
  MemoryRequests memory_requests;
};

struct BatchResult {
  Counts counts;
  int interrupt_signal = 0;  // SIGINT/SIGTERM that stopped the batch, else 0
  bool gave_up = false;      // --gate-timeout ran out
  int ExitCode() const;      // 0, 1 (a job failed or gave up), 130/143 (interrupted)
};

// `runner`, `clock` and `observer` must outlive the Scheduler.
class Scheduler {
 public:
  // `resources` may be null: then only the slot gate applies.
  Scheduler(const SchedulerConfig& config, JobRunner* runner, Clock* clock,
            Observer* observer, ResourceSource* resources = nullptr);

  // Runs the plan to the end (or until interrupted / halted).
  BatchResult Run(const Plan& plan);

  // `headroom ctl` requests for the batch that Run() runs (pause, continue,
  // drain, jobs N); `control` must outlive Run(). Without one, only signals
  // steer the batch.
  void SetControl(BatchControl* control) { control_ = control; }

 private:
  struct Pending {
    size_t job = 0;  // index into the plan's to_run
    int attempt = 1;
    TimePoint ready{};
    int oom_failures = 0;      // out-of-memory attempts so far
    // Waiting out --retry-delay after running out of memory: ready at once
    // when nothing of ours runs (ReadyAt).
    bool oom_wait = false;
    bool cpu_fallback = false;  // run without a GPU
    bool requeued_lost = false; // --worker: requeued once already because its worker was lost
    std::optional<uint64_t> min_ram;  // memory_requests.on: at least this, after an OOM
  };
  // One process (a unit): its jobs, lead first, as they were queued.
  struct Running {
    std::vector<Pending> members;
    int slot = 0;
    TimePoint start{};
    StartedJob started;
    bool cpu_fallback = false;
    std::optional<uint64_t> requested_ram;  // memory_requests.on: what its launch asked for
    uint64_t measure = 0;      // UnitMeasure of its jobs, what footprints are learned against
    // --worker: a worker started for this request (its base memory is part
    // of what it uses), else the memory the worker held as it began.
    bool fresh = true;
    uint64_t base_at_start = 0;
    JobUse use;                // what the ledger knows of it
    std::optional<uint64_t> plateau_learned;  // its plateau, when learned while it ran
    // The kernel's OOM-kill count when it started (sched/oom_classifier.h).
    std::optional<uint64_t> oom_kills_at_start;
    bool timed_out = false;    // headroom sent SIGTERM for --timeout
    bool interrupted = false;  // headroom sent SIGTERM for an interrupt or --halt now
    std::optional<TimePoint> kill_at;  // when SIGKILL follows the SIGTERM
    const Job& Lead(const Plan& plan) const { return plan.to_run[members.front().job]; }
  };
  // A unit chosen to start: queue positions of its jobs, lead first.
  struct Pick {
    std::vector<std::deque<Pending>::iterator> members;
    AdmitDecision decision;
  };

  // A resume after a kill: takes back the units a killed headroom left
  // running elsewhere (JobRunner::Leftovers), before anything else starts
  // and whatever the gates say (they run already), as slots allow; the
  // runner cancels the rest.
  void AdoptLeftovers(TimePoint now);
  // Phase 1: starts every job the admission rules allow; returns what holds
  // the queue ("" when nothing does).
  std::string StartReady(TimePoint now);
  // The ledger's views for a job of `job_class`, with --cooldown applied.
  std::vector<DeviceView> DeviceViews(const std::vector<const JobUse*>& uses,
                                      const std::string& job_class, TimePoint now);
  // What holds the queue, for people: `decision.waiting` with its "foreign"
  // devices described (ResourceLedger::DescribeOthers).
  std::string Waiting(const AdmitDecision& decision, const std::vector<const JobUse*>& uses,
                      TimePoint now);
  // --gate-timeout: true (and the batch stops) when the queue has been held
  // with nothing running for longer than it allows.
  bool GiveUp(const std::string& waiting, TimePoint now);
  bool PickSingle(TimePoint now, Pick* pick, std::string* waiting);
  bool PickBatch(TimePoint now, Pick* pick, std::string* waiting);
  size_t AutoSize(const std::vector<std::deque<Pending>::iterator>& candidates,
                  const HostView& host, const std::vector<DeviceView>& devices) const;
  size_t LastUnitSize(const std::string& job_class) const {
    auto it = last_unit_size_.find(job_class);
    return it == last_unit_size_.end() ? 1 : it->second;
  }
  void StartUnit(const Pick& pick, TimePoint now);
  // `lead`: the unit's lead, an index into the plan's to_run.
  AdmitDecision AdmitUnit(JobNeed need, size_t lead, const HostView& host,
                          const std::vector<DeviceView>& devices) const;
  // --worker: the memory of a worker before its request: what it held at
  // the start, or (fresh) its class's learned base; nullopt when unknown.
  std::optional<uint64_t> WorkerBase(const Running& run) const;
  // What a unit's request itself used of `vram`: all of it without
  // workers; nullopt when a fresh worker's base is not known yet.
  std::optional<uint64_t> RequestShare(const Running& run, uint64_t vram) const;
  uint64_t GroupVram(pid_t pgid, int device) const;
  bool OomKillerFired(const Running& run, const ExitInfo& exit) const;
  bool Allowed(int device) const;  // --gpus
  // `cautious`: the unit's lead ran out of memory before (its prediction is
  // the class's largest peak, FootprintModel::Predict).
  JobNeed NeedOf(const std::vector<size_t>& jobs, bool cpu_fallback, bool cautious) const;
  uint64_t UnitMeasure(const std::vector<size_t>& jobs) const;
  bool Declared(const std::vector<size_t>& jobs) const;  // a VRAM size given by the user
  // memory_requests.on: what a unit's launch asks for (SchedulerConfig).
  std::optional<uint64_t> MemoryRequest(const std::vector<size_t>& jobs, const JobNeed& need,
                                        const Pending& lead) const;
  int ClassInFlight(const std::string& job_class) const;  // units of the class running
  std::vector<const JobUse*> RunningUses() const;
  // Whether a queued job may start now: its `ready` time has come, or it
  // waits out the retry delay after running out of memory and nothing of
  // ours runs any more (the delay is for our own jobs' memory to drain;
  // others' memory is the admission's to judge, and an idle GPU would only
  // wait for the clock).
  bool IsReady(const Pending& pending, TimePoint now) const;
  void Refresh();  // a fresh snapshot: the ledger, and the log
  void LearnFromPlateaus();
  void UpdateReservations();  // to what is predicted for each running job now
  // After a unit ran out of memory: learn, halve its batch or lower the
  // device's limit, and requeue or fall back the jobs in `oom` (indices
  // into run.members); false when they fail for good.
  bool HandleOutOfMemory(const Running& run, const ExitInfo& exit, OomKind kind,
                         const std::vector<size_t>& oom, TimePoint now);
  void LearnFromSuccess(const Running& run, const ExitInfo& exit);
  // Tells observers what a job taught (Observer::OnLearned).
  void Taught(const std::string& job_class, uint64_t input_bytes, const char* kind,
              uint64_t value);
  // Counts::eta_seconds now: the running units and the queue, in what
  // their classes' jobs took (sched/eta.h); nullopt while a queued or
  // running job's class has no duration and no other class has one either.
  std::optional<double> EstimateRemaining(TimePoint now) const;
  static std::optional<uint64_t> PeakRss(const Running& run, const ExitInfo& exit);
  void ReportLimit(int device, int limit, const std::string& reason);  // log and observers
  // A fresh snapshot: a device whose temperature cap (half when warm, one
  // when hot) changed reports its new limit as a limit change.
  void ReportTemperatureLimits();
  int TemperatureCapOf(const GpuDevice& device) const;
  void ReportStartingLimits();
  void CapWorkers();  // --worker: stop workers beyond a device's cap when it changes
  // Phase 2 helpers.
  TimePoint NextWake(TimePoint now) const;
  void HandleExit(const Exited& exited, TimePoint now);
  void HandleInterrupt(int signal, TimePoint now);
  void HandlePlaced(RunHandle handle, const std::string& where);  // WaitResult::placed
  // Start nothing new; the running jobs finish; the rest is left for
  // --resume (SIGHUP, `ctl drain`). `why` names the cause in the notice.
  void Drain(const std::string& why);
  bool PollControl(TimePoint now);
  void SetSlots(int jobs);
  size_t SlotLimit() const { return static_cast<size_t>(config_.jobs); }
  void HandleTimers(TimePoint now);
  void StopRunning(TimePoint now);  // SIGTERM all, SIGKILL after the grace
  void SignalRun(const Running& run, int signal);
  // `end` with what the unit's run says of member `i`: attempt, slot, wall
  // time, peaks, logs.
  AttemptEnd Completed(const Running& run, size_t i, AttemptEnd end, TimePoint now) const;
  void AnnounceCommits(const Running& run, const std::vector<AttemptEnd>& ends);
  // Records the end of one job's attempt (member `i` of `run`; `end` as
  // Completed made it), decides on a retry, and applies --halt.
  void Finish(const Running& run, size_t i, AttemptEnd end, TimePoint now);
  // Every job of a unit that could not start.
  void FinishAll(const Running& run, const AttemptEnd& end, TimePoint now);
  void RequeueRetries();  // what Finish decided to retry, to the queue's head
  bool LostWorker(const AttemptEnd& end, const Pending& member) const;

  SchedulerConfig config_;
  JobRunner* runner_;
  Clock* clock_;
  Observer* observer_;
  ResourceSource* resources_;
  FootprintModel footprints_;  // lives across batches of one process
  DurationModel durations_;    // likewise: each class's job durations, for the ETA
  BatchSizer sizer_;

  // State of the batch being run; reset by Run().
  const Plan* plan_ = nullptr;
  std::vector<std::string> classes_;   // the plan's classes, each once
  std::vector<size_t> class_of_;       // index into classes_, per to_run job
  // The class of to_run job `job`, from the table Run() builds once.
  const std::string& JobClass(size_t job) const { return classes_[class_of_[job]]; }
  std::deque<Pending> queue_;
  std::vector<Pending> retries_;  // Finish's retries, until RequeueRetries
  std::map<int, int> worker_caps_;  // --worker: each device's cap when workers were last stopped
  std::vector<std::optional<Running>> slots_;  // index = slot - 1
  size_t running_ = 0;
  Counts counts_;
  bool stopping_ = false;     // start nothing new (interrupt or --halt)
  int interrupt_signal_ = 0;
  std::optional<TimePoint> last_start_;
  bool gave_up_ = false;
  bool draining_ = false;  // SIGHUP: start nothing new, let the running finish
  bool paused_ = false;    // headroom ctl pause: start nothing new until continue
  bool adopting_ = false;  // StartUnit is taking back a leftover (AdoptLeftovers)
  BatchControl* control_ = nullptr;
  std::map<int, TimePoint> cool_until_;  // --cooldown: per device
  std::map<int, int> temp_caps_;          // each device's temperature cap, as last reported
  std::map<std::string, size_t> last_unit_size_;  // --batch-size auto: inputs of each class's last unit
  std::optional<TimePoint> held_since_;  // nothing runs and a gate holds the queue
  // The description of others' memory, kept for a while so that the
  // waiting reason (journaled on each change) does not follow every MiB.
  std::string others_key_, others_text_;
  TimePoint others_at_{};
  std::optional<ResourceLedger> ledger_;
};

}  // namespace headroom

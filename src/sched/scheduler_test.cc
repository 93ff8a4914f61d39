#include "sched/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using std::chrono::milliseconds;

class FakeClock : public Clock {
 public:
  TimePoint Now() override { return now; }
  TimePoint now{};  // starts at the epoch of steady_clock
};

// A scripted job: each attempt runs `ms` milliseconds and exits `code`.
struct Script {
  std::vector<std::pair<int, int>> attempts;  // (ms, exit code); last repeats
  bool ignores_sigterm = false;
  std::string stderr_tail;  // of failed attempts
  int64_t max_rss_kb = 0;
};

// Runs no processes: jobs end when the fake clock reaches their scripted
// end, and Wait() advances the clock to the next event.
class FakeRunner : public JobRunner {
 public:
  explicit FakeRunner(FakeClock* clock) : clock_(clock) {}

  Status Start(const Unit& unit, const Launch& launch, StartedJob* started) override {
    Job job = unit.lead();  // a unit of several is named "a+b+c" here
    for (size_t i = 1; i < unit.jobs.size(); ++i) job.name += "+" + unit.jobs[i]->name;
    int slot = launch.slot;
    int attempt = launch.attempt;
    launches.push_back(launch);
    std::vector<int64_t> numbers;
    for (const Job* member : unit.jobs) numbers.push_back(member->number);
    auto leftover = std::find(leftovers.begin(), leftovers.end(), numbers);
    if (leftover != leftovers.end()) {
      leftovers.erase(leftover);
      started->adopted = true;
    }
    log.push_back((started->adopted ? "adopt " : "start ") + job.name + " slot " + std::to_string(slot) + " attempt " +
                  std::to_string(attempt) + " at " + std::to_string(NowMs()));
    if (unstartable.count(job.name)) return Status::Error("cannot start " + job.name);
    const Script& script = scripts[job.name];
    auto [ms, code] =
        script.attempts.empty()
            ? std::pair<int, int>(100, 0)
            : script.attempts[std::min<size_t>(attempt - 1, script.attempts.size() - 1)];
    RunHandle handle = next_handle_++;
    // A negative code dies of that signal: -9 is SIGKILL.
    live_[handle] = Live{job.name,
                         clock_->now + milliseconds(ms),
                         code < 0 ? 0 : code,
                         code < 0 ? -code : 0,
                         script.ignores_sigterm,
                         script.stderr_tail,
                         script.max_rss_kb,
                         slot};
    started->handle = handle;
    started->pid = static_cast<pid_t>(1000 + handle);
    if (workers) {
      started->pid = static_cast<pid_t>(2000 + slot);
      started->fresh_process = kept_.try_emplace(slot, Kept{launch.gpu}).second;
    }
    started->stderr_log = job.name + ".err";
    return Status::Ok();
  }

  void Signal(RunHandle handle, int signal) override {
    auto it = live_.find(handle);
    if (it == live_.end()) return;
    log.push_back("signal " + it->second.name + " " + std::to_string(signal) + " at " +
                  std::to_string(NowMs()));
    if (signal == SIGKILL || !it->second.ignores_sigterm) {
      it->second.end = clock_->now;
      it->second.signal = signal;
    }
  }

  WaitResult Wait(Millis timeout) override {
    TimePoint next = clock_->now + timeout;
    for (auto& [handle, live] : live_) next = std::min(next, live.end);
    for (auto& [at, sig] : interrupts) {
      if (at >= clock_->now) next = std::min(next, at);
    }
    for (auto& [at, action] : actions) next = std::min(next, std::max(at, clock_->now));
    clock_->now = std::max(clock_->now, next);
    for (auto it = actions.begin(); it != actions.end();) {
      if (it->first <= clock_->now) {
        it->second();
        it = actions.erase(it);
      } else {
        ++it;
      }
    }
    WaitResult result;
    for (auto it = live_.begin(); it != live_.end();) {
      if (it->second.end <= clock_->now) {
        ExitInfo info;
        info.exit_code = it->second.signal ? -1 : it->second.code;
        info.signal = it->second.signal;
        if (info.exit_code != 0) info.stderr_tail = it->second.stderr_tail;
        info.max_rss_kb = it->second.max_rss_kb;
        info.worker_lost = lost.count(it->second.name) > 0 && info.exit_code != 0;
        info.reported_oom = reports_oom.count(it->second.name) > 0 && info.exit_code != 0;
        EndRequest(it->second.slot);
        auto reported = results.find(it->second.name);
        if (reported != results.end()) info.results = reported->second;
        result.exited.push_back({it->first, info});
        it = live_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = interrupts.begin(); it != interrupts.end(); ++it) {
      if (it->first <= clock_->now) {
        result.interrupt = it->second;
        interrupts.erase(it);
        break;
      }
    }
    return result;
  }

  Status Complete(const Job& job, bool succeeded) override {
    log.push_back(std::string(succeeded ? "commit " : "discard ") + job.name);
    if (succeeded && uncommittable.count(job.name)) return Status::Error("rename failed");
    return Status::Ok();
  }

  bool IsLive(pid_t pid) const {
    if (workers && pid > 2000) return kept_.count(pid - 2000) > 0;
    return live_.count(static_cast<RunHandle>(pid - 1000)) > 0;
  }

  // Worker mode: the worker `pid` is serving a request.
  bool IsBusy(pid_t pid) const {
    return std::any_of(live_.begin(), live_.end(),
                       [&](const auto& entry) { return 2000 + entry.second.slot == pid; });
  }

  bool HasIdleProcess(const Job&, const std::optional<std::string>&) const override {
    return std::any_of(kept_.begin(), kept_.end(), [&](const auto& entry) {
      return !IsBusy(static_cast<pid_t>(2000 + entry.first));
    });
  }

  std::vector<KeptProcess> KeptProcesses() const override {
    std::vector<KeptProcess> kept;
    for (const auto& [slot, worker] : kept_) {
      pid_t pid = static_cast<pid_t>(2000 + slot);
      kept.push_back(KeptProcess{pid, worker.gpu, IsBusy(pid), worker.retiring, worker.last_used});
    }
    return kept;
  }

  // Logged as "stop worker 2001 at 200"; a busy worker stops when its
  // request ends.
  void StopKept(pid_t pid) override {
    log.push_back("stop worker " + std::to_string(pid) + " at " + std::to_string(NowMs()));
    auto it = kept_.find(pid - 2000);
    if (it == kept_.end()) return;
    if (IsBusy(pid)) {
      it->second.retiring = true;
    } else {
      kept_.erase(it);
    }
  }

  long NowMs() const {
    return static_cast<long>(
        std::chrono::duration_cast<milliseconds>(clock_->now.time_since_epoch()).count());
  }

  std::map<std::string, Script> scripts;
  std::map<std::string, bool> unstartable;
  std::map<std::string, bool> uncommittable;
  std::vector<std::pair<TimePoint, int>> interrupts;  // (when, signal)
  // Done when the clock reaches their time (a person at another terminal).
  std::vector<std::pair<TimePoint, std::function<void()>>> actions;
  std::map<std::string, std::vector<InputResult>> results;  // what a unit reports, by its name
  std::vector<std::string> log;
  std::vector<Launch> launches;
  // --worker: one persistent worker per slot (pid 2000 + slot), fresh on the
  // slot's first start, idle while its slot runs nothing.
  bool workers = false;
  std::set<std::string> lost;  // units whose (failed) attempts lost their worker
  std::set<std::string> reports_oom;  // units whose failed requests report running out of memory
  // A resume: units a killed headroom left running (job numbers); a Start
  // of one is logged as "adopt" instead of "start".
  std::vector<std::vector<int64_t>> leftovers;

  std::vector<std::vector<int64_t>> Leftovers() const override { return leftovers; }
  void DropLeftovers() override {
    if (leftovers.empty()) return;
    log.push_back("drop " + std::to_string(leftovers.size()) + " at " + std::to_string(NowMs()));
    leftovers.clear();
  }

 private:
  struct Kept {
    std::optional<std::string> gpu;
    bool retiring = false;
    uint64_t last_used = 0;
  };

  // A request on `slot`'s worker ended.
  void EndRequest(int slot) {
    auto it = kept_.find(slot);
    if (!workers || it == kept_.end()) return;
    it->second.last_used = ++uses_;
    if (it->second.retiring) kept_.erase(it);
  }

  struct Live {
    std::string name;
    TimePoint end;
    int code;
    int signal;
    bool ignores_sigterm;
    std::string stderr_tail;
    int64_t max_rss_kb;
    int slot;
  };
  FakeClock* clock_;
  RunHandle next_handle_ = 1;
  std::map<RunHandle, Live> live_;
  std::map<int, Kept> kept_;  // --worker: each slot's worker, while it lives
  uint64_t uses_ = 0;
};

class RecordingObserver : public Observer {
 public:
  void OnJobEnd(const Job& job, const AttemptEnd& end, const Counts&) override {
    ends.push_back(job.name + " " + std::string(OutcomeLabel(end.outcome)) +
                   (end.will_retry ? " retry" : ""));
    if (end.peak_vram) peak_vram[job.name] = *end.peak_vram;
    if (!end.error.empty()) errors.push_back(job.name + ": " + end.error);
  }
  void OnTick(const Counts& counts, TimePoint now, const std::string& waiting) override {
    if (!waiting.empty()) waits.push_back(waiting);
    auto ms = std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
    etas.emplace_back(ms, counts.eta_seconds);
  }
  void OnNotice(LogLevel, const std::string& message) override { notices.push_back(message); }
  void OnLimitChange(int device, int limit, const std::string&) override {
    limits.push_back("gpu" + std::to_string(device) + " " + std::to_string(limit));
  }
  void OnLearned(const LearnedFootprint& f) override {
    learned.push_back(f.kind + " " + std::to_string(f.value));
  }
  std::vector<std::string> limits;  // "gpu0 1"
  std::vector<std::pair<int64_t, std::optional<double>>> etas;  // (tick ms, its estimate)
  std::vector<std::string> learned;  // "wall_ms 100"
  std::map<std::string, uint64_t> peak_vram;
  std::vector<std::string> ends;
  std::vector<std::string> waits;
  std::vector<std::string> notices;
  std::vector<std::string> errors;  // "name: error" of ends that carry one
};

Plan MakeJobs(std::vector<std::string> names) {
  Plan plan;
  int64_t n = 0;
  for (auto& name : names) {
    Job job;
    job.number = ++n;
    job.name = name;
    plan.to_run.push_back(job);
  }
  return plan;
}

// Scripted snapshots: what the monitor would have sampled.
class FakeResources : public ResourceSource {
 public:
  const Snapshot& Latest(uint64_t* generation) override {
    if (clock && hot_from_ms && snapshot.gpus[0].temperature_c != 85 &&
        std::chrono::duration_cast<milliseconds>(clock->now.time_since_epoch()).count() >=
            *hot_from_ms) {
      snapshot.gpus[0].temperature_c = 85;
      ++generation_;
    }
    if (clock && !vram_by_pid.empty()) {
      // A fresh sample every 100 ms of fake time, listing the live pids'
      // memory on device 0.
      auto ms = std::chrono::duration_cast<milliseconds>(clock->now.time_since_epoch()).count();
      if (static_cast<uint64_t>(ms / 100) + 2 != generation_) {
        generation_ = static_cast<uint64_t>(ms / 100) + 2;
        snapshot.gpus[0].processes.clear();
        for (const auto& [pid, bytes] : vram_by_pid) {
          if (runner && !runner->IsLive(pid)) continue;
          GpuProcess process;
          process.pid = pid;
          process.pgid = pid;
          process.used_bytes = bytes;
          auto serving = serving_vram_by_pid.find(pid);
          if (runner && serving != serving_vram_by_pid.end() && runner->IsBusy(pid)) {
            process.used_bytes = serving->second;
          }
          snapshot.gpus[0].processes.push_back(process);
        }
      }
    }
    *generation = generation_;
    return snapshot;
  }
  void AddDevice(int index, uint64_t gib, int temperature = 40) {
    GpuDevice device;
    device.index = index;
    device.name = "fake";
    device.memory_total = gib << 30;
    device.temperature_c = temperature;
    device.processes_known = true;
    snapshot.gpus.push_back(device);
    ++generation_;
  }
  Snapshot snapshot;
  std::map<pid_t, uint64_t> TreeRss(const std::vector<pid_t>& roots) override {
    std::map<pid_t, uint64_t> rss;
    for (pid_t root : roots) {
      if (rss_by_pid.count(root)) rss[root] = rss_by_pid[root];
    }
    return rss;
  }
  std::map<pid_t, uint64_t> rss_by_pid;   // each job's process tree's RSS
  FakeClock* clock = nullptr;             // with vram_by_pid: samples follow the clock
  FakeRunner* runner = nullptr;           // set: only its live pids are listed
  std::map<pid_t, uint64_t> vram_by_pid;  // what each process holds on device 0
  // With runner: what a worker holds while it serves (else vram_by_pid's).
  std::map<pid_t, uint64_t> serving_vram_by_pid;
  // With clock: device 0 is at 85 C from this time (ms) on.
  std::optional<long> hot_from_ms;
  // The kernel's OOM-kill count read at once (snapshot.system.oom_kills is
  // the sampled one).
  std::optional<uint64_t> oom_kills_now;
  std::optional<uint64_t> OomKills() override { return oom_kills_now; }

 private:
  uint64_t generation_ = 1;
};

class SchedulerTest : public ::testing::Test {
 protected:
  BatchResult RunJobs(const std::vector<std::string>& names) {
    Scheduler scheduler(config, &runner, &clock, &observer, with_resources ? &resources : nullptr);
    scheduler.SetControl(control);
    return scheduler.Run(MakeJobs(names));
  }
  bool Logged(const std::string& line) const {
    return std::find(runner.log.begin(), runner.log.end(), line) != runner.log.end();
  }
  FakeClock clock;
  FakeRunner runner{&clock};
  RecordingObserver observer;
  SchedulerConfig config;
  FakeResources resources;
  bool with_resources = false;
  BatchControl* control = nullptr;
};

// The most jobs that ran at once, from the runner's log ("start"/"commit"/
// "discard" lines in time order).
int MostAtOnce(const std::vector<std::string>& log) {
  int now = 0;
  int most = 0;
  for (const std::string& line : log) {
    if (line.rfind("start", 0) == 0) most = std::max(most, ++now);
    if (line.rfind("commit", 0) == 0 || line.rfind("discard", 0) == 0) --now;
  }
  return most;
}

class ResourceSchedulerTest : public SchedulerTest {
 protected:
  ResourceSchedulerTest() {
    with_resources = true;
    config.place_gpus = true;
    config.jobs = 8;
    config.oom.retry_delay = milliseconds(0);
  }
  std::vector<std::string> Gpus() const {
    std::vector<std::string> gpus;
    for (const Launch& launch : runner.launches) gpus.push_back(launch.gpu.value_or("unset"));
    return gpus;
  }
};

TEST_F(ResourceSchedulerTest, DeclaredVramLimitsJobsPerDevice) {
  // 0.85 x 10 GiB holds two 4 GiB jobs, not three.
  resources.AddDevice(0, 10);
  config.gpu_mem = uint64_t{4} << 30;
  BatchResult result = RunJobs({"a", "b", "c", "d"});
  EXPECT_EQ(result.counts.succeeded, 4);
  EXPECT_EQ(MostAtOnce(runner.log), 2);
  EXPECT_EQ(Gpus(), (std::vector<std::string>{"0", "0", "0", "0"}));
  ASSERT_FALSE(observer.waits.empty());
  EXPECT_EQ(observer.waits.front(), "vram gpu0");
}

// --cooldown: a GPU takes no new job for that long after one ended on it;
// a second GPU goes on meanwhile. Jobs take 100 ms.
TEST_F(ResourceSchedulerTest, CooldownPausesTheDeviceAJobEndedOn) {
  resources.AddDevice(0, 10);
  config.gpu_mem = uint64_t{1} << 30;
  config.jobs = 1;
  config.cooldown = milliseconds(400);
  RunJobs({"a", "b", "c"});
  EXPECT_TRUE(Logged("start a slot 1 attempt 1 at 0"));
  EXPECT_TRUE(Logged("start b slot 1 attempt 1 at 500"));
  EXPECT_TRUE(Logged("start c slot 1 attempt 1 at 1000"));
}

TEST_F(ResourceSchedulerTest, CooldownOnOneDeviceLeavesTheOthersWorking) {
  resources.AddDevice(0, 10);
  resources.AddDevice(1, 10);
  config.gpu_mem = uint64_t{1} << 30;
  config.jobs = 2;
  config.cooldown = milliseconds(400);
  RunJobs({"a", "b", "c", "d"});
  EXPECT_TRUE(Logged("start a slot 1 attempt 1 at 0"));
  EXPECT_TRUE(Logged("start b slot 2 attempt 1 at 0"));
  EXPECT_TRUE(Logged("start c slot 1 attempt 1 at 500")) << ::testing::PrintToString(runner.log);
  EXPECT_TRUE(Logged("start d slot 2 attempt 1 at 500"));
}

// What an earlier batch learned of the class is where this one starts: no
// slow start, the jobs packed from the first second; and what this batch
// learns is told to observers (the journal keeps it for the next).
TEST_F(ResourceSchedulerTest, PriorsFromEarlierBatchesSkipTheSlowStart) {
  resources.AddDevice(0, 10);
  RunJobs({"a", "b", "c"});
  EXPECT_EQ(MostAtOnce(runner.log), 1) << "nothing learned: one job shows the footprint first";
  EXPECT_EQ(observer.learned,
            (std::vector<std::string>{"wall_ms 100", "wall_ms 100", "wall_ms 100"}));

  runner.log.clear();
  config.priors = {{"", "vram", 0, uint64_t{2} << 30}, {"", "rss", 0, uint64_t{1} << 20}};
  RunJobs({"a", "b", "c"});
  EXPECT_EQ(MostAtOnce(runner.log), 3) << ::testing::PrintToString(runner.log);
}

TEST_F(ResourceSchedulerTest, JobsGoToTheDeviceWithTheMostRoom) {
  resources.AddDevice(0, 10);
  resources.AddDevice(1, 20);
  config.gpu_mem = uint64_t{4} << 30;
  RunJobs({"a", "b", "c", "d"});
  // Room under the high mark: gpu0 8.5 GiB; gpu1 17, then 13, 9, 5.
  EXPECT_EQ(Gpus(), (std::vector<std::string>{"1", "1", "1", "0"}));
}

TEST_F(ResourceSchedulerTest, AHotDeviceTakesOneJob) {
  resources.AddDevice(0, 80, /*temperature=*/85);
  config.gpu_mem = uint64_t{1} << 30;
  RunJobs({"a", "b", "c"});
  EXPECT_EQ(MostAtOnce(runner.log), 1);
}

// Killed by SIGKILL while the kernel's OOM-kill count rose: out of memory,
// retried; the same death without that evidence (a user's kill -9) fails.
TEST_F(ResourceSchedulerTest, ASigkillIsAnOutOfMemoryRetryOnlyWhenTheOomKillerFired) {
  resources.AddDevice(0, 10);
  resources.snapshot.system.oom_kills = 5;
  resources.oom_kills_now = 6;
  runner.scripts["a"] = Script{{{100, -SIGKILL}, {100, 0}}, false, ""};
  BatchResult result = RunJobs({"a"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a FAILED retry", "a SUCCESS"}));
  EXPECT_EQ(result.counts.oom_retries, 1);

  resources.oom_kills_now = 5;
  observer.ends.clear();
  result = RunJobs({"a"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a FAILED"}));
  EXPECT_EQ(result.counts.oom_retries, 0);
  EXPECT_EQ(result.ExitCode(), 1);
}

TEST_F(ResourceSchedulerTest, AnOutOfMemoryFailureIsRetriedNotCounted) {
  resources.AddDevice(0, 10);
  config.oom.retry_delay = milliseconds(300);
  runner.scripts["a"] = Script{{{100, 1}, {100, 0}}, false, "RuntimeError: CUDA out of memory."};
  BatchResult result = RunJobs({"a"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a FAILED retry", "a SUCCESS"}));
  // Nothing else of ours runs: waiting out the delay would only leave the
  // GPU idle, so the retry starts at once.
  EXPECT_TRUE(Logged("start a slot 1 attempt 2 at 100")) << ::testing::PrintToString(runner.log);
  EXPECT_EQ(result.counts.oom_retries, 1);
  EXPECT_EQ(result.counts.retries, 0);
  EXPECT_EQ(result.ExitCode(), 0);
}

// While other jobs of ours run, their memory may be what the job lacked:
// its retry waits out --retry-delay.
TEST_F(ResourceSchedulerTest, AnOutOfMemoryRetryWaitsTheDelayWhileOtherJobsRun) {
  // Two devices: the job's own is free again at once (its lowered limit
  // holds no other job), so only the delay holds the retry.
  resources.AddDevice(0, 10);
  resources.AddDevice(1, 10);
  config.oom.retry_delay = milliseconds(300);
  config.priors = {{"", "vram", 0, uint64_t{2} << 30}};  // no slow start: both start at 0
  runner.scripts["a"] = Script{{{100, 1}, {100, 0}}, false, "RuntimeError: CUDA out of memory."};
  runner.scripts["b"].attempts = {{1000, 0}};
  BatchResult result = RunJobs({"a", "b"});
  EXPECT_TRUE(Logged("start b slot 2 attempt 1 at 0")) << ::testing::PrintToString(runner.log);
  EXPECT_TRUE(Logged("start a slot 1 attempt 2 at 400")) << ::testing::PrintToString(runner.log);
  EXPECT_EQ(result.counts.oom_retries, 1);
  EXPECT_EQ(result.ExitCode(), 0);
}

TEST_F(ResourceSchedulerTest, AfterItsOomRetriesAJobFallsBackToTheCpu) {
  resources.AddDevice(0, 10);
  config.oom.oom_retries = 1;
  config.oom.cpu_fallback = true;
  runner.scripts["a"] = Script{{{100, 1}, {100, 1}, {100, 0}}, false, "std::bad_alloc"};
  runner.scripts["a"].stderr_tail = "CUDA error: out of memory";
  BatchResult result = RunJobs({"a"});
  EXPECT_EQ(Gpus(), (std::vector<std::string>{"0", "0", ""}));
  EXPECT_EQ(result.ExitCode(), 0);
}

TEST_F(ResourceSchedulerTest, WithoutFallbackTheLastOomIsAFailure) {
  resources.AddDevice(0, 10);
  config.oom.oom_retries = 2;
  runner.scripts["a"] = Script{{{100, 1}}, false, "CUDA out of memory"};
  BatchResult result = RunJobs({"a"});
  EXPECT_EQ(observer.ends,
            (std::vector<std::string>{"a FAILED retry", "a FAILED retry", "a FAILED"}));
  EXPECT_EQ(result.ExitCode(), 1);
}

TEST_F(ResourceSchedulerTest, APlainFailureIsNotAnOutOfMemory) {
  resources.AddDevice(0, 10);
  runner.scripts["a"] = Script{{{100, 3}}, false, "ValueError: bad frame"};
  BatchResult result = RunJobs({"a"});
  EXPECT_EQ(result.counts.oom_retries, 0);
  EXPECT_EQ(result.counts.failed, 1);
}

TEST_F(ResourceSchedulerTest, WithoutDevicesTheEnvironmentIsLeftAlone) {
  config.place_gpus = false;
  RunJobs({"a"});
  EXPECT_EQ(Gpus(), (std::vector<std::string>{"unset"}));
}

TEST_F(ResourceSchedulerTest, UnknownFootprintsStartOnePerDeviceFirst) {
  // Slow start: nothing learned yet, so one job of the class per device
  // until one has finished and been measured.
  resources.AddDevice(0, 80);
  RunJobs({"a", "b", "c"});
  EXPECT_TRUE(Logged("start b slot 1 attempt 1 at 100"));
  ASSERT_FALSE(observer.waits.empty());
  EXPECT_EQ(observer.waits.front(), "learning memory use on gpu0 (first job)");
}

TEST_F(ResourceSchedulerTest, SlowStartEndsWhenTheFirstJobStopsGrowing) {
  // "a" (pid 1001) holds a steady 10 GiB from its start; after three equal
  // samples its class is admitted by that, long before "a" ends at 1000 ms.
  resources.AddDevice(0, 80);
  resources.clock = &clock;
  resources.vram_by_pid[1001] = uint64_t{10} << 30;
  runner.scripts["a"] = Script{{{1000, 0}}, false, ""};
  runner.scripts["b"] = Script{{{1000, 0}}, false, ""};
  RunJobs({"a", "b"});
  auto b = std::find_if(runner.log.begin(), runner.log.end(),
                        [](const std::string& line) { return line.rfind("start b", 0) == 0; });
  ASSERT_NE(b, runner.log.end());
  long at = std::stol(b->substr(b->rfind(' ') + 1));
  EXPECT_GE(at, 200);
  EXPECT_LE(at, 400);
  EXPECT_EQ(MostAtOnce(runner.log), 2);
  EXPECT_EQ(observer.peak_vram["a"], uint64_t{10} << 30) << "the attempt's measured peak";
}

// A job whose memory stopped growing below its class's prediction holds
// only what it uses: "a" (2 GiB steady, predicted 6.9) leaves room for "b"
// long before it ends, on 12 GiB (10.2 under the high mark).
TEST_F(ResourceSchedulerTest, AJobThatStoppedGrowingReservesWhatItUses) {
  resources.AddDevice(0, 12);
  resources.clock = &clock;
  resources.vram_by_pid[1001] = uint64_t{2} << 30;
  config.priors = {{"", "vram", 0, uint64_t{6} << 30}};
  runner.scripts["a"] = Script{{{1000, 0}}, false, ""};
  runner.scripts["b"] = Script{{{1000, 0}}, false, ""};
  auto start_of = [&](const std::string& name) -> long {
    auto line = std::find_if(runner.log.begin(), runner.log.end(), [&](const std::string& l) {
      return l.rfind("start " + name + " ", 0) == 0;
    });
    return line == runner.log.end() ? -1 : std::stol(line->substr(line->rfind(' ') + 1));
  };
  RunJobs({"a", "b"});
  ASSERT_GE(start_of("b"), 0);
  EXPECT_LE(start_of("b") - start_of("a"), 500) << ::testing::PrintToString(runner.log);

  // Declared sizes are the user's word: no early start.
  runner.log.clear();
  config.gpu_mem = uint64_t{6} << 30;
  RunJobs({"a", "b"});
  ASSERT_GE(start_of("b"), 0);
  EXPECT_GE(start_of("b") - start_of("a"), 1000) << ::testing::PrintToString(runner.log);
}

TEST_F(ResourceSchedulerTest, LargestJobsStartFirstAndSmallOnesFillTheGaps) {
  // 0.85 x 10 GiB = 8.5 GiB. Largest first: "big" (6) goes before "a" (4)
  // although it is second in the queue; of the rest only "small" (2) fits
  // the 2.5 GiB left beside it.
  resources.AddDevice(0, 10);
  Plan plan = MakeJobs({"a", "big", "small", "medium"});
  uint64_t gib = uint64_t{1} << 30;
  plan.to_run[0].gpu_mem = 4 * gib;
  plan.to_run[1].gpu_mem = 6 * gib;
  plan.to_run[2].gpu_mem = 2 * gib;
  plan.to_run[3].gpu_mem = 4 * gib;
  Scheduler scheduler(config, &runner, &clock, &observer, &resources);
  BatchResult result = scheduler.Run(plan);
  EXPECT_EQ(result.counts.succeeded, 4);
  ASSERT_GE(runner.log.size(), 3u);
  EXPECT_EQ(runner.log[0], "start big slot 1 attempt 1 at 0");
  EXPECT_EQ(runner.log[1], "start small slot 2 attempt 1 at 0");
  EXPECT_EQ(runner.log[2], "commit big");
}

TEST_F(ResourceSchedulerTest, SizeNeverJumpsAheadOfPriority) {
  resources.AddDevice(0, 10);
  Plan plan = MakeJobs({"urgent", "huge"});
  uint64_t gib = uint64_t{1} << 30;
  plan.to_run[0].priority = 5;
  plan.to_run[0].gpu_mem = 1 * gib;
  plan.to_run[1].gpu_mem = 8 * gib;
  Scheduler scheduler(config, &runner, &clock, &observer, &resources);
  scheduler.Run(plan);
  ASSERT_FALSE(runner.log.empty());
  EXPECT_EQ(runner.log[0], "start urgent slot 1 attempt 1 at 0");
}

TEST_F(ResourceSchedulerTest, ReservationsFollowWhatIsLearned) {
  // 0.85 x 60 GiB = 51 GiB. "a" (12 GiB) stops growing first, so "b" and
  // "c" start reserving its 12 x 1.15 = 13.8 GiB. Once they show 4 and 8
  // GiB, three input sizes give an exact fit, their reservations shrink to
  // 4.2 and 8.4, and "d" (11 x 1.05 = 11.55 GiB, which the 11.4 GiB left
  // under the old reservations could not hold) starts long before anything
  // ends.
  resources.AddDevice(0, 60);
  resources.clock = &clock;
  resources.runner = &runner;
  Plan plan = MakeJobs({"a", "b", "c", "d"});
  const uint64_t gib = uint64_t{1} << 30;
  const std::vector<int64_t> inputs = {300, 100, 200, 275};
  const std::vector<uint64_t> use = {12 * gib, 4 * gib, 8 * gib, 11 * gib};
  for (size_t i = 0; i < plan.to_run.size(); ++i) {
    plan.to_run[i].input_bytes = inputs[i];
    resources.vram_by_pid[static_cast<pid_t>(1001 + i)] = use[i];
    runner.scripts[plan.to_run[i].name] = Script{{{3000, 0}}, false, ""};
  }
  Scheduler scheduler(config, &runner, &clock, &observer, &resources);
  scheduler.Run(plan);
  auto d = std::find_if(runner.log.begin(), runner.log.end(),
                        [](const std::string& line) { return line.rfind("start d", 0) == 0; });
  ASSERT_NE(d, runner.log.end());
  EXPECT_LT(std::stol(d->substr(d->rfind(' ') + 1)), 1500) << *d;
  EXPECT_EQ(MostAtOnce(runner.log), 4);
}

TEST_F(ResourceSchedulerTest, HostMemoryIsLearnedFromTheWholeProcessTree) {
  // The kernel's max RSS (0 here) misses a job's children; the tree's sum
  // (3 GiB) is what later jobs are admitted by: 3 x 1.15 GiB each fits
  // twice under 80 % of 10 GiB, not three times.
  resources.snapshot.system.memory_total = uint64_t{10} << 30;
  resources.snapshot.system.memory_available = uint64_t{10} << 30;
  resources.clock = &clock;
  resources.runner = &runner;
  resources.AddDevice(0, 80);
  for (pid_t pid = 1001; pid <= 1005; ++pid) {
    resources.rss_by_pid[pid] = uint64_t{3} << 30;
    resources.vram_by_pid[pid] = uint64_t{1} << 30;
  }
  config.gpu_mem = uint64_t{1} << 30;
  runner.scripts["a"] = Script{{{500, 0}}, false, ""};
  // What is learned lives across batches of one scheduler: "a" first, alone.
  Scheduler scheduler(config, &runner, &clock, &observer, &resources);
  scheduler.Run(MakeJobs({"a"}));
  Plan rest = MakeJobs({"b", "c", "d", "e"});
  scheduler.Run(rest);
  EXPECT_EQ(MostAtOnce(runner.log), 2);
}

TEST_F(ResourceSchedulerTest, LimitChangesReachObservers) {
  resources.AddDevice(0, 10);
  config.gpu_mem = uint64_t{1} << 30;
  runner.scripts["a"] = Script{{{100, 1}, {100, 0}}, false, "CUDA out of memory"};
  runner.scripts["b"] = Script{{{100, 0}}, false, ""};
  RunJobs({"a", "b"});
  ASSERT_FALSE(observer.limits.empty());
  EXPECT_EQ(observer.limits.front(), "gpu0 8") << "the starting limit comes first";
  EXPECT_NE(std::find(observer.limits.begin(), observer.limits.end(), "gpu0 1"),
            observer.limits.end());
}

TEST_F(SchedulerTest, StartsNoMoreThanTheSlotsAllow) {
  // Given two slots and three 100 ms jobs, the third should start when the
  // first ends, in the slot it freed.
  config.jobs = 2;
  BatchResult result = RunJobs({"a", "b", "c"});
  EXPECT_EQ(result.ExitCode(), 0);
  EXPECT_EQ(result.counts.succeeded, 3);
  std::vector<std::string> starts;
  for (auto& line : runner.log) {
    if (line.rfind("start", 0) == 0) starts.push_back(line);
  }
  EXPECT_EQ(starts, (std::vector<std::string>{"start a slot 1 attempt 1 at 0",
                                              "start b slot 2 attempt 1 at 0",
                                              "start c slot 1 attempt 1 at 100"}));
}

TEST_F(SchedulerTest, TheEtaCountsDownToTheBatchsEndOnceAJobsDurationIsKnown) {
  // Six 1 s jobs two at a time end at 3 s. The estimate is unknown until
  // the first jobs end, then each tick's "now + ETA" is the real end, where
  // jobs done / elapsed would have said 4 s at 1.5 s.
  config.jobs = 2;
  for (const char* name : {"a", "b", "c", "d", "e", "f"}) runner.scripts[name].attempts = {{1000, 0}};
  RunJobs({"a", "b", "c", "d", "e", "f"});
  ASSERT_FALSE(observer.etas.empty());
  int checked = 0;
  for (const auto& [ms, eta] : observer.etas) {
    if (ms < 1000) {
      EXPECT_FALSE(eta) << "at " << ms << " ms nothing has ended";
      continue;
    }
    ASSERT_TRUE(eta) << "at " << ms << " ms";
    EXPECT_NEAR(static_cast<double>(ms) / 1000 + *eta, 3.0, 1e-6) << "at " << ms << " ms";
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST_F(SchedulerTest, AnEarlierBatchsDurationsGiveTheEtaFromTheFirstTick) {
  config.jobs = 2;
  config.priors = {{"", "wall_ms", 0, 1000}};
  for (const char* name : {"a", "b", "c", "d"}) runner.scripts[name].attempts = {{1000, 0}};
  RunJobs({"a", "b", "c", "d"});
  ASSERT_FALSE(observer.etas.empty());
  ASSERT_EQ(observer.etas.front().first, 0);
  ASSERT_TRUE(observer.etas.front().second);
  EXPECT_DOUBLE_EQ(*observer.etas.front().second, 2.0);
}

TEST_F(SchedulerTest, AFailureDoesNotStopTheOthersAndExitsOne) {
  config.jobs = 1;
  runner.scripts["b"].attempts = {{50, 3}};
  BatchResult result = RunJobs({"a", "b", "c"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a SUCCESS", "b FAILED", "c SUCCESS"}));
  EXPECT_EQ(result.counts.failed, 1);
  EXPECT_EQ(result.ExitCode(), 1);
}

TEST_F(SchedulerTest, OutputsAreCommittedOnlyOnSuccess) {
  runner.scripts["b"].attempts = {{50, 1}};
  RunJobs({"a", "b"});
  EXPECT_NE(std::find(runner.log.begin(), runner.log.end(), "commit a"), runner.log.end());
  EXPECT_NE(std::find(runner.log.begin(), runner.log.end(), "discard b"), runner.log.end());
}

TEST_F(SchedulerTest, ACommitFailureIsAJobFailure) {
  runner.uncommittable["a"] = true;
  BatchResult result = RunJobs({"a"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a FAILED"}));
  EXPECT_EQ(result.ExitCode(), 1);
}

TEST_F(SchedulerTest, RetriesAFailedJobAfterTheRetryDelay) {
  config.retry.retries = 2;
  config.retry.retry_delay = milliseconds(500);
  runner.scripts["a"].attempts = {{100, 1}, {100, 0}};
  BatchResult result = RunJobs({"a"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a FAILED retry", "a SUCCESS"}));
  EXPECT_EQ(runner.log[2], "start a slot 1 attempt 2 at 600");
  EXPECT_EQ(result.counts.retries, 1);
  EXPECT_EQ(result.ExitCode(), 0);
}

TEST_F(SchedulerTest, GivesUpWhenRetriesAreSpent) {
  config.retry.retries = 1;
  runner.scripts["a"].attempts = {{100, 1}};
  BatchResult result = RunJobs({"a"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a FAILED retry", "a FAILED"}));
  EXPECT_EQ(result.ExitCode(), 1);
}

TEST_F(SchedulerTest, OtherJobsRunWhileARetryWaits) {
  config.jobs = 1;
  config.retry.retries = 1;
  config.retry.retry_delay = milliseconds(1000);
  runner.scripts["a"].attempts = {{100, 1}, {100, 0}};
  RunJobs({"a", "b"});
  EXPECT_EQ(runner.log[2], "start b slot 1 attempt 1 at 100");
  EXPECT_EQ(runner.log[4], "start a slot 1 attempt 2 at 1100");
}

TEST_F(SchedulerTest, TimeoutSendsSigtermThenSigkillAfterTheGrace) {
  config.timeout = milliseconds(1000);
  config.kill_grace = milliseconds(300);
  runner.scripts["stubborn"] = Script{{{10000, 0}}, true, ""};
  BatchResult result = RunJobs({"stubborn"});
  EXPECT_EQ(runner.log[1], "signal stubborn 15 at 1000");
  EXPECT_EQ(runner.log[2], "signal stubborn 9 at 1300");
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"stubborn TIMEOUT"}));
  EXPECT_EQ(result.ExitCode(), 1);
}

TEST_F(SchedulerTest, DelaySpacesStarts) {
  config.jobs = 3;
  config.delay = milliseconds(250);
  RunJobs({"a", "b", "c"});
  // Jobs take 100 ms, so each one has ended before the next may start.
  EXPECT_TRUE(Logged("start a slot 1 attempt 1 at 0"));
  EXPECT_TRUE(Logged("start b slot 1 attempt 1 at 250"));
  EXPECT_TRUE(Logged("start c slot 1 attempt 1 at 500"));
}

TEST_F(SchedulerTest, HaltSoonStartsNothingNewAfterAFailure) {
  config.jobs = 2;
  config.halt = Halt::kSoon;
  runner.scripts["bad"].attempts = {{50, 1}};
  runner.scripts["long"].attempts = {{500, 0}};
  BatchResult result = RunJobs({"bad", "long", "never"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"bad FAILED", "long SUCCESS"}));
  EXPECT_EQ(result.ExitCode(), 1);
}

TEST_F(SchedulerTest, HaltNowStopsRunningJobs) {
  config.jobs = 2;
  config.halt = Halt::kNow;
  runner.scripts["bad"].attempts = {{50, 1}};
  runner.scripts["long"].attempts = {{5000, 0}};
  BatchResult result = RunJobs({"bad", "long", "never"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"bad FAILED", "long INTERRUPTED"}));
  EXPECT_EQ(result.counts.interrupted, 1);
  EXPECT_EQ(result.ExitCode(), 1);
}

// Ctrl-C while headroom sets up (journal, logs): the batch is interrupted
// before any job starts.
TEST_F(SchedulerTest, AnInterruptBeforeTheFirstStartStartsNothing) {
  runner.interrupts.push_back({TimePoint{}, SIGINT});
  BatchResult result = RunJobs({"a", "b"});
  EXPECT_TRUE(runner.log.empty()) << runner.log.front();
  EXPECT_EQ(result.ExitCode(), 130);
  EXPECT_EQ(result.counts.not_started, 2);
}

TEST_F(SchedulerTest, InterruptStopsEverythingAndExits130) {
  config.jobs = 2;
  config.kill_grace = milliseconds(1000);
  runner.scripts["a"].attempts = {{5000, 0}};
  runner.scripts["b"] = Script{{{5000, 0}}, true, ""};
  runner.interrupts.push_back({TimePoint{} + milliseconds(200), SIGINT});
  BatchResult result = RunJobs({"a", "b", "c"});
  EXPECT_EQ(result.ExitCode(), 130);
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a INTERRUPTED", "b INTERRUPTED"}));
  // b ignores SIGTERM and is killed when the grace is over.
  EXPECT_TRUE(Logged("signal b 9 at 1200"));
  EXPECT_EQ(result.counts.not_started, 1);  // c
  EXPECT_EQ(result.counts.stop_signal, SIGINT);  // as OnBatchEnd saw them
}

// SIGHUP drains, as GNU parallel's does: the running jobs finish, nothing
// new starts, and the batch ends 129 with the rest not started.
TEST_F(SchedulerTest, SighupLetsTheRunningFinishAndStartsNothingNew) {
  config.jobs = 2;
  runner.scripts["a"].attempts = {{500, 0}};
  runner.scripts["b"].attempts = {{500, 0}};
  runner.interrupts.push_back({TimePoint{} + milliseconds(200), SIGHUP});
  BatchResult result = RunJobs({"a", "b", "c", "d"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a SUCCESS", "b SUCCESS"}));
  EXPECT_EQ(result.counts.not_started, 2);
  EXPECT_EQ(result.ExitCode(), 129);
  EXPECT_FALSE(Logged("signal a 15 at 200"));

  // Nothing left: the batch ends as it would have.
  runner.log.clear();
  observer.ends.clear();
  runner.interrupts.push_back({clock.now + milliseconds(200), SIGHUP});
  result = RunJobs({"a", "b"});
  EXPECT_EQ(result.ExitCode(), 0);
  EXPECT_EQ(result.counts.succeeded, 2);
}

// The fake time at which `name` started, from the runner's log.
long StartedAt(const std::vector<std::string>& log, const std::string& name) {
  for (const std::string& line : log) {
    if (line.rfind("start " + name + " ", 0) == 0) return std::stol(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

// headroom ctl, through a real control file: pause holds new starts (the
// running job goes on), continue with jobs 2 starts two at once.
TEST_F(SchedulerTest, CtlPauseHoldsStartsAndJobsRaisesTheSlotLimit) {
  test::TempDir dir;
  BatchControl batch_control(dir.path(), 1);
  control = &batch_control;
  config.jobs = 1;
  for (const char* name : {"a", "b", "c"}) runner.scripts[name].attempts = {{500, 0}};
  ControlRequest request;
  request.seq = 1;
  request.paused = true;
  runner.actions.push_back({TimePoint{} + milliseconds(100), [&] {
                              ASSERT_TRUE(BatchControl::Write(dir.path(), 1, request).ok());
                            }});
  runner.actions.push_back({TimePoint{} + milliseconds(2000), [&] {
                              request.seq = 2;
                              request.paused = false;
                              request.jobs = 2;
                              ASSERT_TRUE(BatchControl::Write(dir.path(), 1, request).ok());
                            }});
  BatchResult result = RunJobs({"a", "b", "c"});
  EXPECT_EQ(result.ExitCode(), 0);
  EXPECT_EQ(StartedAt(runner.log, "a"), 0);
  EXPECT_GE(StartedAt(runner.log, "b"), 2000) << "started while paused";
  EXPECT_EQ(StartedAt(runner.log, "c"), StartedAt(runner.log, "b")) << "jobs 2 not applied";
  EXPECT_EQ(MostAtOnce(runner.log), 2);
  EXPECT_EQ(BatchControl::ReadAck(dir.path(), 1), 2);
  EXPECT_TRUE(std::any_of(observer.notices.begin(), observer.notices.end(), [](const std::string& n) {
    return n.find("-j 1 -> 2") != std::string::npos;
  }));
}

// ctl drain is SIGHUP's drain: the running job finishes, exit 129.
TEST_F(SchedulerTest, CtlDrainLetsTheRunningFinishAndLeavesTheRest) {
  test::TempDir dir;
  BatchControl batch_control(dir.path(), 1);
  control = &batch_control;
  runner.scripts["a"].attempts = {{500, 0}};
  ControlRequest request;
  request.seq = 1;
  request.draining = true;
  runner.actions.push_back({TimePoint{} + milliseconds(200), [&] {
                              ASSERT_TRUE(BatchControl::Write(dir.path(), 1, request).ok());
                            }});
  BatchResult result = RunJobs({"a", "b", "c"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a SUCCESS"}));
  EXPECT_EQ(result.counts.not_started, 2);
  EXPECT_EQ(result.ExitCode(), 129);
}

// --executor slurm: a class's first job asks for the executor's default
// memory and runs alone; the next ask for its largest peak RSS with the
// model's margin for one sample (x 1.15), + 10 %, rounded up to 64 MiB.
TEST_F(SchedulerTest, MemoryRequestsStartFromOneJobThenAskForThePeakPlusTenPercent) {
  config.jobs = 4;
  config.memory_requests.on = true;
  for (const char* name : {"a", "b", "c"}) {
    runner.scripts[name].attempts = {{100, 0}};
    runner.scripts[name].max_rss_kb = 1024 * 1024;  // 1 GiB
  }
  BatchResult result = RunJobs({"a", "b", "c"});
  EXPECT_EQ(result.ExitCode(), 0);
  ASSERT_EQ(runner.launches.size(), 3u);
  EXPECT_FALSE(runner.launches[0].ram.has_value());
  EXPECT_GE(StartedAt(runner.log, "b"), 100) << "b started before a showed its memory";
  EXPECT_EQ(runner.launches[1].ram, uint64_t{1344} << 20);  // 1.265 GiB, rounded up
  EXPECT_EQ(runner.launches[2].ram, uint64_t{1344} << 20);
  EXPECT_EQ(StartedAt(runner.log, "c"), StartedAt(runner.log, "b"));
}

// After running out of memory, the next attempt asks for 1.5x as much.
TEST_F(SchedulerTest, AnAttemptThatRanOutOfMemoryIsRetriedWithHalfAsMuchMoreMemory) {
  config.memory_requests.on = true;
  config.ram_per_job = uint64_t{1} << 30;
  config.oom.retry_delay = milliseconds(0);
  runner.scripts["x"].attempts = {{100, -9}, {100, -9}, {100, 0}};
  runner.reports_oom.insert("x");
  BatchResult result = RunJobs({"x"});
  EXPECT_EQ(result.ExitCode(), 0);
  ASSERT_EQ(runner.launches.size(), 3u);
  EXPECT_EQ(runner.launches[0].ram, uint64_t{1024} << 20);  // declared: as given
  EXPECT_EQ(runner.launches[1].ram, uint64_t{1536} << 20);
  EXPECT_EQ(runner.launches[2].ram, uint64_t{2304} << 20);
  EXPECT_EQ(result.counts.oom_retries, 2);
}

// Past what the executor can give one job (its largest node), a job fails
// unstarted, saying so: after an out-of-memory attempt, when 1.5x more is
// too much.
TEST_F(SchedulerTest, AMemoryRequestBeyondTheLimitFailsTheJobUnstarted) {
  config.memory_requests.on = true;
  config.memory_requests.limit = uint64_t{1280} << 20;  // 1.25 GiB
  config.memory_requests.limit_why = "no node of partition gpu has more";
  config.ram_per_job = uint64_t{1} << 30;
  config.oom.retry_delay = milliseconds(0);
  runner.scripts["x"].attempts = {{100, -9}};
  runner.reports_oom.insert("x");
  BatchResult result = RunJobs({"x"});
  EXPECT_EQ(result.ExitCode(), 1);
  EXPECT_EQ(runner.launches.size(), 1u) << "the retry was not started";
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"x FAILED retry", "x NOT STARTED"}));
  EXPECT_EQ(observer.errors, (std::vector<std::string>{
                                 "x: needs more than 1.2 GiB: it would ask for 1.5 GiB, and no "
                                 "node of partition gpu has more"}));
}

// A job that a killed run left running on Slurm is taken back even when
// what it would ask for today is past the limit: it asked long ago, and
// runs.
TEST_F(SchedulerTest, ALeftoverIsTakenBackWhateverItWouldAskForToday) {
  config.memory_requests.on = true;
  config.memory_requests.limit = uint64_t{1280} << 20;  // 1.25 GiB
  config.memory_requests.limit_why = "no node of partition gpu has more";
  config.ram_per_job = uint64_t{2} << 30;
  runner.leftovers = {{1}};
  BatchResult result = RunJobs({"x", "y"});
  EXPECT_TRUE(Logged("adopt x slot 1 attempt 1 at 0")) << ::testing::PrintToString(runner.log);
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"x SUCCESS", "y NOT STARTED"}));
  EXPECT_EQ(result.counts.succeeded, 1);
}

// A signal during a drain stops the running jobs.
TEST_F(SchedulerTest, ASignalDuringADrainStopsTheRunning) {
  runner.scripts["a"].attempts = {{5000, 0}};
  runner.interrupts.push_back({TimePoint{} + milliseconds(100), SIGHUP});
  runner.interrupts.push_back({TimePoint{} + milliseconds(300), SIGINT});
  BatchResult result = RunJobs({"a", "b"});
  EXPECT_EQ(result.ExitCode(), 130);
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a INTERRUPTED"}));
}

TEST_F(SchedulerTest, ASecondInterruptKillsAtOnce) {
  config.kill_grace = milliseconds(30000);
  runner.scripts["a"] = Script{{{60000, 0}}, true, ""};
  runner.interrupts.push_back({TimePoint{} + milliseconds(100), SIGTERM});
  runner.interrupts.push_back({TimePoint{} + milliseconds(300), SIGINT});
  BatchResult result = RunJobs({"a"});
  EXPECT_EQ(result.ExitCode(), 143);
  EXPECT_TRUE(Logged("signal a 9 at 300"));
}

TEST_F(SchedulerTest, AJobThatCannotStartFailsAndTheBatchGoesOn) {
  runner.unstartable["a"] = true;
  BatchResult result = RunJobs({"a", "b"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a NOT STARTED", "b SUCCESS"}));
  EXPECT_EQ(result.ExitCode(), 1);
}

TEST_F(SchedulerTest, SkippedJobsAreCountedAndDoNotRun) {
  Plan plan = MakeJobs({"a"});
  Job skipped;
  skipped.name = "s";
  plan.skipped.push_back(skipped);
  Scheduler scheduler(config, &runner, &clock, &observer);
  BatchResult result = scheduler.Run(plan);
  EXPECT_EQ(result.counts.total, 2);
  EXPECT_EQ(result.counts.skipped, 1);
  EXPECT_EQ(result.counts.done(), 2);
  EXPECT_EQ(result.counts.stop_signal, 0);
  EXPECT_EQ(result.ExitCode(), 0);
}

TEST_F(SchedulerTest, TellsWhatHoldsTheQueue) {
  config.jobs = 1;
  runner.scripts["a"].attempts = {{1000, 0}};
  RunJobs({"a", "b"});
  ASSERT_FALSE(observer.waits.empty());
  EXPECT_EQ(observer.waits.front(), "slots");
}

// --- batches (--batch-size) ---

std::vector<std::string> Starts(const std::vector<std::string>& log) {
  std::vector<std::string> starts;
  for (const std::string& line : log) {
    if (line.rfind("start", 0) == 0) starts.push_back(line);
  }
  return starts;
}

TEST_F(SchedulerTest, ABatchSizeGroupsJobsInQueueOrder) {
  config.batch.size = 3;
  BatchResult result = RunJobs({"a", "b", "c", "d", "e", "f", "g"});
  EXPECT_EQ(Starts(runner.log), (std::vector<std::string>{"start a+b+c slot 1 attempt 1 at 0",
                                                          "start d+e+f slot 1 attempt 1 at 100",
                                                          "start g slot 1 attempt 1 at 200"}));
  EXPECT_EQ(result.counts.succeeded, 7);
  EXPECT_EQ(result.counts.units, 3);
  EXPECT_TRUE(Logged("commit e"));
}

TEST_F(SchedulerTest, AnOutOfMemoryBatchIsHalvedDownToWhatFits) {
  config.batch.size = 4;
  config.oom.retry_delay = milliseconds(5000);  // halving does not wait for it
  runner.scripts["a+b+c+d"] = Script{{{100, 1}}, false, "CUDA out of memory"};
  BatchResult result = RunJobs({"a", "b", "c", "d", "e", "f", "g", "h"});
  EXPECT_EQ(Starts(runner.log), (std::vector<std::string>{"start a+b+c+d slot 1 attempt 1 at 0",
                                                          "start a+b slot 1 attempt 2 at 100",
                                                          "start c+d slot 1 attempt 2 at 200",
                                                          "start e+f slot 1 attempt 1 at 300",
                                                          "start g+h slot 1 attempt 1 at 400"}));
  EXPECT_EQ(result.counts.succeeded, 8);
  EXPECT_EQ(result.counts.oom_retries, 4);
  EXPECT_EQ(result.ExitCode(), 0);
  EXPECT_TRUE(Logged("discard a"));
}

TEST_F(SchedulerTest, HalvingDoesNotSpendOutOfMemoryRetries) {
  config.batch.size = 4;
  config.oom.oom_retries = 0;
  config.oom.retry_delay = milliseconds(0);
  for (const char* unit : {"a+b+c+d", "a+b", "a"}) {
    runner.scripts[unit] = Script{{{100, 1}}, false, "CUDA out of memory"};
  }
  BatchResult result = RunJobs({"a", "b", "c", "d"});
  EXPECT_EQ(Starts(runner.log), (std::vector<std::string>{"start a+b+c+d slot 1 attempt 1 at 0",
                                                          "start a+b slot 1 attempt 2 at 100",
                                                          "start a slot 1 attempt 3 at 200",
                                                          "start b slot 1 attempt 3 at 300",
                                                          "start c slot 1 attempt 2 at 400",
                                                          "start d slot 1 attempt 2 at 500"}));
  // Only the single job's own out-of-memory failure counts against it.
  EXPECT_EQ(result.counts.failed, 1);
  EXPECT_EQ(result.counts.succeeded, 3);
}

TEST_F(SchedulerTest, ReportedResultsRetryOnlyTheFailedInputs) {
  config.batch.size = 3;
  config.retry = RetryConfig{1, milliseconds(0)};
  runner.scripts["a+b+c"] = Script{{{100, 1}}, false, ""};
  runner.results["a+b+c"] = {InputResult{0, true, false, ""}, InputResult{1, false, false, "bad frame"}};
  BatchResult result = RunJobs({"a", "b", "c", "d"});
  // a reported ok; b failed; c is not in the results and takes the exit status (1).
  EXPECT_EQ(Starts(runner.log), (std::vector<std::string>{"start a+b+c slot 1 attempt 1 at 0",
                                                          "start b+c+d slot 1 attempt 2 at 100"}));
  EXPECT_TRUE(Logged("commit a"));
  EXPECT_TRUE(Logged("discard b"));
  EXPECT_EQ(result.counts.succeeded, 4);
  EXPECT_EQ(result.counts.retries, 2);
}

TEST_F(SchedulerTest, AReportedOutOfMemoryInputHalvesTheBatch) {
  config.batch.size = 2;
  runner.results["a+b"] = {InputResult{0, true, false, ""}, InputResult{1, false, true, "oom"}};
  BatchResult result = RunJobs({"a", "b", "c"});
  EXPECT_EQ(Starts(runner.log), (std::vector<std::string>{"start a+b slot 1 attempt 1 at 0",
                                                          "start b slot 1 attempt 2 at 100",
                                                          "start c slot 1 attempt 1 at 200"}));
  EXPECT_EQ(result.counts.succeeded, 3);
  EXPECT_EQ(result.counts.oom_retries, 1);
}

TEST_F(SchedulerTest, BatchesHoldOnlyJobsThatMayShareAProcess) {
  config.batch.size = 4;
  Plan plan = MakeJobs({"a", "b", "c", "d"});
  plan.to_run[1].env = {EnvVar{"X", "1"}};
  plan.to_run[2].argv_template = {"other"};
  Scheduler scheduler(config, &runner, &clock, &observer);
  scheduler.Run(plan);
  EXPECT_EQ(Starts(runner.log), (std::vector<std::string>{"start a+d slot 1 attempt 1 at 0",
                                                          "start b slot 1 attempt 1 at 100",
                                                          "start c slot 1 attempt 1 at 200"}));
}

TEST_F(SchedulerTest, DelaySpacesBatches) {
  config.batch.size = 2;
  config.jobs = 2;
  config.delay = milliseconds(250);
  RunJobs({"a", "b", "c", "d"});
  EXPECT_EQ(Starts(runner.log), (std::vector<std::string>{"start a+b slot 1 attempt 1 at 0",
                                                          "start c+d slot 1 attempt 1 at 250"}));
}

TEST_F(ResourceSchedulerTest, AutoBatchesGrowToWhatTheLearnedFootprintFits) {
  // 10 GiB of RAM, 80 % allowed, nothing else in use; each input takes 1 GiB.
  config.jobs = 1;
  config.batch.size = 0;
  resources.snapshot.system.memory_total = uint64_t{10} << 30;
  resources.snapshot.system.memory_available = uint64_t{10} << 30;
  runner.scripts["a"] = Script{{{100, 0}}, false, "", int64_t{1} << 20};
  std::vector<std::string> names;
  for (char c = 'a'; c <= 'p'; ++c) names.push_back(std::string(1, c));
  BatchResult result = RunJobs(names);
  std::vector<std::string> starts = Starts(runner.log);
  ASSERT_GE(starts.size(), 2u);
  EXPECT_EQ(starts[0], "start a slot 1 attempt 1 at 0");  // nothing learned: one
  // 8 GiB / (1 GiB x 1.15 margin): six inputs.
  EXPECT_EQ(starts[1], "start b+c+d+e+f+g slot 1 attempt 1 at 100");
  EXPECT_EQ(result.counts.succeeded, 16);
}

// --- persistent workers (--worker) ---

TEST_F(ResourceSchedulerTest, ASecondWorkerNeedsRoomForItsBase) {
  // A worker holds 4 GiB idle, 5 GiB while it serves. Its base (4 GiB) is
  // learned when a request starts on it idle ("b"), a request's share (1
  // GiB) when that request ends. From then on a second worker would need
  // 4.6 + 1.15 GiB (with the margin) beside the first's 5: more than the
  // 3.5 left of 0.85 x 10 GiB. So none starts, though a slot is free, and
  // each request waits for the first worker to be idle again.
  resources.AddDevice(0, 10);
  resources.clock = &clock;
  resources.runner = &runner;
  runner.workers = true;
  config.workers = true;
  config.jobs = 2;
  const uint64_t gib = uint64_t{1} << 30;
  for (pid_t worker : {2001, 2002}) {
    resources.vram_by_pid[worker] = 4 * gib;
    resources.serving_vram_by_pid[worker] = 5 * gib;
  }
  std::vector<std::string> names = {"a", "b", "c", "d", "e", "f"};
  for (const std::string& name : names) runner.scripts[name] = Script{{{1000, 0}}, false, ""};
  BatchResult result = RunJobs(names);
  EXPECT_EQ(result.counts.succeeded, 6);
  EXPECT_EQ(result.ExitCode(), 0);
  ASSERT_EQ(runner.launches.size(), 6u);
  for (const Launch& launch : runner.launches) {
    EXPECT_EQ(launch.slot, 1) << "one worker (slot 1) serves every request";
  }
  EXPECT_TRUE(Logged("start d slot 1 attempt 1 at 3000"));
  // What held the second worker back was its memory, not slow start.
  EXPECT_NE(std::find(observer.waits.begin(), observer.waits.end(), "vram gpu0"),
            observer.waits.end());
}

TEST(RetryPolicyTest, RetriesOnlyFailuresAndTimeouts) {
  RetryConfig config{2, milliseconds(10)};
  EXPECT_TRUE(DecideRetry(Outcome::kFailed, 1, config).retry);
  EXPECT_TRUE(DecideRetry(Outcome::kTimedOut, 2, config).retry);
  EXPECT_FALSE(DecideRetry(Outcome::kFailed, 3, config).retry);
  EXPECT_FALSE(DecideRetry(Outcome::kSucceeded, 1, config).retry);
  EXPECT_FALSE(DecideRetry(Outcome::kInterrupted, 1, config).retry);
  EXPECT_FALSE(DecideRetry(Outcome::kStartFailed, 1, config).retry);
  EXPECT_EQ(DecideRetry(Outcome::kFailed, 1, config).delay, milliseconds(10));
}

}  // namespace
}  // namespace headroom

namespace headroom {
namespace {

TEST_F(SchedulerTest, AJobThatLostItsWorkerIsRequeuedOnceWithoutRetries) {
  config.workers = true;
  runner.scripts["a"] = Script{{{100, 1}, {100, 1}, {100, 0}}, false, ""};
  runner.lost.insert("a");
  BatchResult result = RunJobs({"a", "b"});
  // The first loss is the worker's: a second attempt; the second loss is a's.
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a FAILED retry", "a FAILED", "b SUCCESS"}));
  EXPECT_EQ(result.counts.failed, 1);
}

TEST_F(SchedulerTest, AFailedReplyIsNotALostWorker) {
  config.workers = true;
  runner.scripts["a"] = Script{{{100, 1}, {100, 0}}, false, ""};
  BatchResult result = RunJobs({"a"});
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a FAILED"}));
  EXPECT_EQ(result.ExitCode(), 1);
}


// The stops StopKept logged ("stop worker 2001 at 200").
std::vector<std::string> Stops(const std::vector<std::string>& log) {
  std::vector<std::string> stops;
  for (const std::string& line : log) {
    if (line.rfind("stop worker ", 0) == 0) stops.push_back(line);
  }
  return stops;
}

// Two workers serve on a cool device; once it is hot it may run one job,
// so it keeps one worker: the one idle the longest stops.
TEST_F(ResourceSchedulerTest, WorkersBeyondAHotDevicesCapAreStopped) {
  resources.AddDevice(0, 80);
  resources.clock = &clock;
  resources.hot_from_ms = 150;
  runner.workers = true;
  config.workers = true;
  config.jobs = 2;
  config.gpu_mem = uint64_t{1} << 30;
  BatchResult result = RunJobs({"a", "b", "c", "d", "e", "f"});
  EXPECT_EQ(result.counts.succeeded, 6);
  // c (slot 1) and d (slot 2) end at 200, d last: slot 1's worker was idle longer.
  EXPECT_EQ(Stops(runner.log), (std::vector<std::string>{"stop worker 2001 at 200"}));
  EXPECT_EQ(MostAtOnce(runner.log), 2);
  EXPECT_TRUE(Logged("start e slot 1 attempt 1 at 200"));
  EXPECT_TRUE(Logged("start f slot 1 attempt 1 at 300")) << "one at a time once hot";
}

// Temperature lowers a device's limit like an out-of-memory failure does,
// and observers hear it the same way (the journal, metrics, the report).
TEST_F(ResourceSchedulerTest, ATemperatureCapIsReportedAsALimitChange) {
  resources.AddDevice(0, 80);
  resources.clock = &clock;
  resources.hot_from_ms = 150;
  config.jobs = 4;
  config.gpu_mem = uint64_t{1} << 30;
  RunJobs({"a", "b", "c", "d", "e", "f"});
  EXPECT_EQ(observer.limits, (std::vector<std::string>{"gpu0 4", "gpu0 1"}));
  EXPECT_NE(std::find(observer.notices.begin(), observer.notices.end(),
                      "gpu0 limit 4 -> 1: 85 °C"),
            observer.notices.end())
      << ::testing::PrintToString(observer.notices);
}

// An out-of-memory failure lowers the device's limit: the workers beyond
// it stop, idle ones at once.
TEST_F(ResourceSchedulerTest, WorkersFollowTheDevicesLimit) {
  resources.AddDevice(0, 80);
  runner.workers = true;
  config.workers = true;
  config.jobs = 4;
  config.gpu_mem = uint64_t{1} << 30;
  runner.scripts["a"] = Script{{{100, 1}, {100, 0}}, false, "CUDA out of memory"};
  runner.scripts["b"] = Script{{{100, 0}}, false, ""};
  runner.scripts["c"] = Script{{{300, 0}}, false, ""};
  RunJobs({"a", "b", "c"});
  std::vector<std::string> stops = Stops(runner.log);
  ASSERT_FALSE(stops.empty()) << "after the out-of-memory failure the device's limit drops";
  for (const std::string& stop : stops) EXPECT_NE(stop.find(" at 100"), std::string::npos) << stop;
}

TEST_F(ResourceSchedulerTest, WithoutWorkersNothingIsStopped) {
  resources.AddDevice(0, 80, /*temperature=*/85);
  config.gpu_mem = uint64_t{1} << 30;
  RunJobs({"a", "b"});
  EXPECT_TRUE(Stops(runner.log).empty());
}

// A worker that reported running out of memory may hold fragmented memory:
// it serves no other request, and the retry gets a fresh worker.
TEST_F(SchedulerTest, AWorkerThatRanOutOfMemoryServesNoOtherRequest) {
  runner.workers = true;
  config.workers = true;
  config.oom.retry_delay = milliseconds(0);
  runner.scripts["a"] = Script{{{100, 1}, {100, 0}}, false, ""};
  runner.reports_oom.insert("a");
  BatchResult result = RunJobs({"a"});
  EXPECT_EQ(result.counts.succeeded, 1);
  EXPECT_EQ(Stops(runner.log), (std::vector<std::string>{"stop worker 2001 at 100"}));
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a FAILED retry", "a SUCCESS"}));
}

// A request headroom signalled (here: --timeout) leaves its worker in an
// unknown state: it stops once the request ends.
TEST_F(SchedulerTest, AWorkerWhoseRequestWasSignalledServesNoOtherRequest) {
  runner.workers = true;
  config.workers = true;
  config.timeout = milliseconds(50);
  runner.scripts["a"] = Script{{{1000, 0}}, false, ""};
  runner.scripts["b"] = Script{{{10, 0}}, false, ""};
  BatchResult result = RunJobs({"a", "b"});
  EXPECT_EQ(Stops(runner.log), (std::vector<std::string>{"stop worker 2001 at 50"}));
  EXPECT_TRUE(Logged("start b slot 1 attempt 1 at 50"));
  EXPECT_EQ(result.counts.succeeded, 1);
}

// A resume after a kill: what a killed headroom left running elsewhere is
// taken back before anything else starts, as slots allow; the rest is
// dropped (cancelled) and runs again in its turn. Jobs take 100 ms.
TEST_F(SchedulerTest, AResumeTakesBackWhatAKilledRunLeftBeforeStartingAnything) {
  config.jobs = 2;
  runner.leftovers = {{3}, {4}, {5}};
  BatchResult result = RunJobs({"a", "b", "c", "d", "e"});
  EXPECT_EQ(result.counts.succeeded, 5);
  ASSERT_GE(runner.log.size(), 3u);
  EXPECT_EQ(std::vector<std::string>(runner.log.begin(), runner.log.begin() + 3),
            (std::vector<std::string>{"adopt c slot 1 attempt 1 at 0", "adopt d slot 2 attempt 1 at 0",
                                      "drop 1 at 0"}));
  EXPECT_TRUE(Logged("start e slot 1 attempt 1 at 200")) << "e waits its turn";
  EXPECT_NE(std::find(observer.notices.begin(), observer.notices.end(),
                      "took back 2 job(s) that a killed headroom left queued or running; 1 "
                      "cancelled, to run again"),
            observer.notices.end());
}

}  // namespace
}  // namespace headroom

#include "sched/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <string>
#include <vector>

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
};

// Runs no processes: jobs end when the fake clock reaches their scripted
// end, and Wait() advances the clock to the next event.
class FakeRunner : public JobRunner {
 public:
  explicit FakeRunner(FakeClock* clock) : clock_(clock) {}

  Status Start(const Job& job, int slot, int attempt, StartedJob* started) override {
    log.push_back("start " + job.name + " slot " + std::to_string(slot) + " attempt " +
                  std::to_string(attempt) + " at " + std::to_string(NowMs()));
    if (unstartable.count(job.name)) return Status::Error("cannot start " + job.name);
    const Script& script = scripts[job.name];
    auto [ms, code] = script.attempts.empty()
                          ? std::pair<int, int>(100, 0)
                          : script.attempts[std::min<size_t>(attempt - 1, script.attempts.size() - 1)];
    RunHandle handle = next_handle_++;
    live_[handle] = Live{job.name, clock_->now + milliseconds(ms), code, 0,
                         script.ignores_sigterm};
    started->handle = handle;
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
    clock_->now = std::max(clock_->now, next);
    WaitResult result;
    for (auto it = live_.begin(); it != live_.end();) {
      if (it->second.end <= clock_->now) {
        ExitInfo info;
        info.exit_code = it->second.signal ? -1 : it->second.code;
        info.signal = it->second.signal;
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

  long NowMs() const {
    return static_cast<long>(
        std::chrono::duration_cast<milliseconds>(clock_->now.time_since_epoch()).count());
  }

  std::map<std::string, Script> scripts;
  std::map<std::string, bool> unstartable;
  std::map<std::string, bool> uncommittable;
  std::vector<std::pair<TimePoint, int>> interrupts;  // (when, signal)
  std::vector<std::string> log;

 private:
  struct Live {
    std::string name;
    TimePoint end;
    int code;
    int signal;
    bool ignores_sigterm;
  };
  FakeClock* clock_;
  RunHandle next_handle_ = 1;
  std::map<RunHandle, Live> live_;
};

class RecordingObserver : public Observer {
 public:
  void OnJobEnd(const Job& job, const AttemptEnd& end, const Counts&) override {
    ends.push_back(job.name + " " + std::string(OutcomeName(end.outcome)) +
                   (end.will_retry ? " retry" : ""));
  }
  void OnTick(const Counts&, TimePoint, const std::string& waiting) override {
    if (!waiting.empty()) waits.push_back(waiting);
  }
  void OnNotice(LogLevel, const std::string& message) override { notices.push_back(message); }
  std::vector<std::string> ends;
  std::vector<std::string> waits;
  std::vector<std::string> notices;
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

class SchedulerTest : public ::testing::Test {
 protected:
  BatchResult RunJobs(const std::vector<std::string>& names) {
    Scheduler scheduler(config, &runner, &clock, &observer);
    return scheduler.Run(MakeJobs(names));
  }
  bool Logged(const std::string& line) const {
    return std::find(runner.log.begin(), runner.log.end(), line) != runner.log.end();
  }
  FakeClock clock;
  FakeRunner runner{&clock};
  RecordingObserver observer;
  SchedulerConfig config;
};

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
  runner.scripts["stubborn"] = Script{{{10000, 0}}, true};
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

TEST_F(SchedulerTest, InterruptStopsEverythingAndExits130) {
  config.jobs = 2;
  config.kill_grace = milliseconds(1000);
  runner.scripts["a"].attempts = {{5000, 0}};
  runner.scripts["b"] = Script{{{5000, 0}}, true};
  runner.interrupts.push_back({TimePoint{} + milliseconds(200), SIGINT});
  BatchResult result = RunJobs({"a", "b", "c"});
  EXPECT_EQ(result.ExitCode(), 130);
  EXPECT_EQ(observer.ends, (std::vector<std::string>{"a INTERRUPTED", "b INTERRUPTED"}));
  // b ignores SIGTERM and is killed when the grace is over.
  EXPECT_TRUE(Logged("signal b 9 at 1200"));
  EXPECT_EQ(result.counts.not_started, 1);  // c
}

TEST_F(SchedulerTest, ASecondInterruptKillsAtOnce) {
  config.kill_grace = milliseconds(30000);
  runner.scripts["a"] = Script{{{60000, 0}}, true};
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
  EXPECT_EQ(result.ExitCode(), 0);
}

TEST_F(SchedulerTest, TellsWhatHoldsTheQueue) {
  config.jobs = 1;
  runner.scripts["a"].attempts = {{1000, 0}};
  RunJobs({"a", "b"});
  ASSERT_FALSE(observer.waits.empty());
  EXPECT_EQ(observer.waits.front(), "slots");
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

TEST(OutcomeTest, WhatHeadroomDidExplainsTheEnd) {
  ExitInfo ok{0, 0, 0, 0};
  ExitInfo bad{2, 0, 0, 0};
  ExitInfo killed{-1, SIGKILL, 0, 0};
  EXPECT_EQ(ClassifyExit(ok, false, false), Outcome::kSucceeded);
  EXPECT_EQ(ClassifyExit(bad, false, false), Outcome::kFailed);
  EXPECT_EQ(ClassifyExit(killed, false, false), Outcome::kFailed);
  EXPECT_EQ(ClassifyExit(ok, true, false), Outcome::kTimedOut);
  EXPECT_EQ(ClassifyExit(killed, false, true), Outcome::kInterrupted);
}

}  // namespace
}  // namespace headroom

#include "exec/worker_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "exec/exec_test_util.h"

namespace headroom {
namespace {

using exec_test::Eventually;
using exec_test::IsDead;
using test::ReadFile;

// A worker in sh: records its pid, environment and requests, then answers
// each request (of one input, or "multi-a multi-b") as its input's name says.
const char kWorker[] = R"(
echo $$ >> "$DIR/pids"
echo "env slot=$HEADROOM_SLOT worker=$HEADROOM_WORKER gpu=${CUDA_VISIBLE_DEVICES-unset} args=$*" >&2
while IFS= read -r line; do
  printf '%s\n' "$line" >> "$DIR/requests"
  id=${line#*\"id\": }; id=${id%%,*}
  input=${line#*\"inputs\": \[\"}; input=${input%%\"*}
  case "$input" in
    *crash*) echo "crashing on $input" >&2; exit 3 ;;
    *quit*) exit 0 ;;
    *hang*) echo $$ > "$DIR/hung"; sleep 30 ;;
    *wait*) while [ ! -e "$DIR/go" ]; do sleep 0.01; done; echo "{\"id\": $id, \"ok\": true}" ;;
    *oom*) echo "{\"id\": $id, \"ok\": false, \"error\": \"CUDA out of memory\", \"oom\": true}" ;;
    *fail*) echo "{\"id\": $id, \"ok\": false, \"error\": \"bad input $input\"}" ;;
    *nan*) echo "{\"id\": $id, \"ok\": true, \"score\": NaN}" ;;
    *chatty*) echo "progress 50%"; echo "{\"id\": 999, \"ok\": true}"; echo warn >&2
              echo "{\"id\": $id, \"ok\": true}" ;;
    *multi*) echo "{\"id\": $id, \"ok\": false, \"results\": [{\"index\": 1, \"ok\": false,\
 \"error\": \"second\"}, {\"input\": \"multi-a\", \"ok\": true}]}" ;;
    *) echo "{\"id\": $id, \"ok\": true}" ;;
  esac
done
echo eof >&2
)";

class WorkerRunnerTest : public ::testing::Test {
 protected:
  WorkerRunnerTest() : log_dir_(dir_.File("logs"), "20260101_120000") {
    EXPECT_TRUE(log_dir_.Create().ok());
    config_.process.base_env = {"PATH=/usr/bin:/bin", "DIR=" + dir_.path()};
    config_.process.resolved = {{"sh", "/bin/sh"}};
    config_.process.path_env = "/usr/bin:/bin";
    config_.kill_grace = Millis(2000);
  }

  WorkerRunner& Runner() {
    if (!runner_) runner_ = std::make_unique<WorkerRunner>(config_, log_dir_, &processes_);
    return *runner_;
  }

  // A job for input `input` (owned by the fixture) running `script`.
  const Job& MakeJob(const std::string& input, const std::string& script = kWorker,
                     std::vector<std::string> args = {}) {
    auto job = std::make_unique<Job>();
    job->number = static_cast<int64_t>(jobs_.size()) + 1;
    job->name = input;
    job->input = input;
    job->argv_template = {"sh", "-c", script, "sh"};
    job->argv_template.insert(job->argv_template.end(), args.begin(), args.end());
    jobs_.push_back(std::move(job));
    return *jobs_.back();
  }

  StartedJob Start(const Job& job, std::optional<std::string> gpu = std::nullopt, int slot = 1) {
    Launch launch;
    launch.slot = slot;
    launch.gpu = std::move(gpu);
    StartedJob started;
    Status status = Runner().Start(Unit{{&job}}, launch, &started);
    EXPECT_TRUE(status.ok()) << status.message();
    return started;
  }

  // Waits (at most 5 s) for `handle` to end; ends of others are kept.
  ExitInfo WaitFor(RunHandle handle) {
    return exec_test::WaitForEnd(Runner(), handle, &exited_, std::chrono::seconds(5));
  }

  // Runs `job` to its end on a worker.
  StartedJob Run(const Job& job, std::optional<std::string> gpu = std::nullopt) {
    StartedJob started = Start(job, std::move(gpu));
    EXPECT_EQ(WaitFor(started.handle).exit_code, 0);
    return started;
  }

  // Waits (calling Wait, which reaps) until `pid` is gone.
  bool Gone(pid_t pid) {
    return Eventually(
        [&] {
          WaitResult result = Runner().Wait(Millis(10));
          exited_.insert(exited_.end(), result.exited.begin(), result.exited.end());
          return IsDead(pid);
        },
        std::chrono::seconds(5));
  }

  std::vector<std::string> Lines(const std::string& name) {
    std::vector<std::string> lines;
    std::string text = ReadFile(dir_.File(name));
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines.push_back(text.substr(start, nl - start));
    }
    return lines;
  }

  test::TempDir dir_;
  LogDir log_dir_;
  WorkerRunnerConfig config_;
  ProcessSet processes_;
  std::unique_ptr<WorkerRunner> runner_;
  std::vector<std::unique_ptr<Job>> jobs_;
  std::vector<Exited> exited_;
};

TEST_F(WorkerRunnerTest, OneWorkerServesRequestAfterRequest) {
  pid_t pid = 0;
  for (int i = 0; i < 5; ++i) {
    StartedJob started = Run(MakeJob("in" + std::to_string(i)));
    EXPECT_EQ(started.fresh_process, i == 0) << i;
    if (i == 0) pid = started.pid;
    EXPECT_EQ(started.pid, pid);
  }
  EXPECT_EQ(Lines("pids").size(), 1u);
  EXPECT_EQ(Runner().workers(), 1u);
  std::vector<std::string> requests = Lines("requests");
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0], "{\"id\": 1, \"inputs\": [\"in0\"], \"outputs\": [null], \"gpu\": null}");
}

TEST_F(WorkerRunnerTest, TheWorkerGetsItsSlotGpuAndLogs) {
  const Job& job = MakeJob("a", kWorker, {"--slot={%}", "--gpu={gpu}"});
  StartedJob started = Start(job, "1", 2);
  EXPECT_EQ(WaitFor(started.handle).exit_code, 0);
  std::string logs = log_dir_.dir() + "/jobs_20260101_120000/";
  EXPECT_EQ(started.stdout_log, logs + "worker_1.out");
  EXPECT_EQ(started.stderr_log, logs + "worker_1.err");
  EXPECT_EQ(started.argv.back(), "--gpu=1");
  EXPECT_EQ(ReadFile(started.stderr_log), "env slot=2 worker=1 gpu=1 args=--slot=2 --gpu=1\n");
  EXPECT_EQ(Lines("requests").at(0),
            "{\"id\": 1, \"inputs\": [\"a\"], \"outputs\": [null], \"gpu\": 1}");
}

TEST_F(WorkerRunnerTest, AFailedReplyIsExit1WithTheErrorAsItsTail) {
  StartedJob first = Start(MakeJob("fail-1"));
  ExitInfo info = WaitFor(first.handle);
  EXPECT_EQ(info.exit_code, 1);
  EXPECT_EQ(info.signal, 0);
  EXPECT_EQ(info.stderr_tail, "bad input fail-1");
  EXPECT_FALSE(info.reported_oom);
  StartedJob second = Run(MakeJob("ok"));
  EXPECT_FALSE(second.fresh_process) << "a failed request does not cost the worker";
}

// The runner reports the worker's out-of-memory reply; whether the worker
// serves again is the scheduler's decision (sched/worker_policy.h), carried
// out by StopKept.
TEST_F(WorkerRunnerTest, AnOutOfMemoryReplyIsReportedAndStopKeptRestartsTheWorker) {
  StartedJob first = Start(MakeJob("oom-1"));
  ExitInfo info = WaitFor(first.handle);
  EXPECT_EQ(info.exit_code, 1);
  EXPECT_TRUE(info.reported_oom);
  EXPECT_EQ(info.stderr_tail, "CUDA out of memory");
  EXPECT_FALSE(IsDead(first.pid)) << "the runner does not decide to stop it";
  Runner().StopKept(first.pid);
  EXPECT_TRUE(Gone(first.pid));
  EXPECT_NE(ReadFile(first.stderr_log).find("eof"), std::string::npos) << "not stopped by EOF";
  StartedJob second = Run(MakeJob("ok"));
  EXPECT_TRUE(second.fresh_process);
  EXPECT_NE(second.pid, first.pid);
}

// Python's json.dumps writes NaN: a reply that is not JSON fails its
// request instead of leaving it waiting forever.
TEST_F(WorkerRunnerTest, AReplyThatIsNotJsonFailsTheRequest) {
  StartedJob started = Start(MakeJob("nan-1"));
  ExitInfo info = WaitFor(started.handle);
  EXPECT_EQ(info.exit_code, 1);
  EXPECT_EQ(info.stderr_tail.rfind("headroom: the worker's reply is not valid JSON", 0), 0u)
      << info.stderr_tail;
  EXPECT_NE(info.stderr_tail.find("NaN}"), std::string::npos) << info.stderr_tail;
  EXPECT_FALSE(Run(MakeJob("ok")).fresh_process) << "the worker serves on";
}

TEST_F(WorkerRunnerTest, AWorkerThatDiesEndsItsRequestWithItsExit) {
  StartedJob first = Run(MakeJob("ok"));
  StartedJob crash = Start(MakeJob("crash-1"));
  EXPECT_EQ(crash.pid, first.pid);
  ExitInfo info = WaitFor(crash.handle);
  EXPECT_EQ(info.exit_code, 3);
  EXPECT_EQ(info.stderr_tail, "crashing on crash-1\n") << "only what this request wrote";
  EXPECT_EQ(Runner().workers(), 0u);
  EXPECT_TRUE(Run(MakeJob("ok")).fresh_process);
}

TEST_F(WorkerRunnerTest, AWorkerThatExitsZeroWithoutAnsweringFailedItsRequest) {
  ExitInfo info = WaitFor(Start(MakeJob("quit")).handle);
  EXPECT_EQ(info.exit_code, 1);
  EXPECT_NE(info.stderr_tail.find("without answering"), std::string::npos) << info.stderr_tail;
}

TEST_F(WorkerRunnerTest, SignalEndsAHungRequestAndItsWorker) {
  StartedJob started = Start(MakeJob("hang"));
  ASSERT_TRUE(
      Eventually([&] { return !ReadFile(dir_.File("hung")).empty(); }, std::chrono::seconds(5)));
  Runner().Signal(started.handle, SIGTERM);
  ExitInfo info = WaitFor(started.handle);
  EXPECT_EQ(info.signal, SIGTERM);
  EXPECT_EQ(Runner().workers(), 0u);
  EXPECT_TRUE(IsDead(started.pid));
  Runner().Signal(started.handle, SIGKILL);  // ended: a no-op
}

TEST_F(WorkerRunnerTest, AnswersToASignalledRequestEndIt) {
  // A worker that traps SIGTERM, answers and exits: the request ends with
  // the answer.
  const char script[] = R"(
trap 'echo "{\"id\": $id, \"ok\": false, \"error\": \"stopped\"}"; exit 0' TERM
echo $$ >> "$DIR/pids"
while IFS= read -r line; do
  id=${line#*\"id\": }; id=${id%%,*}
  echo ready > "$DIR/hung"
  sleep 30 & wait
done
)";
  StartedJob started = Start(MakeJob("x", script));
  ASSERT_TRUE(
      Eventually([&] { return !ReadFile(dir_.File("hung")).empty(); }, std::chrono::seconds(5)));
  Runner().Signal(started.handle, SIGTERM);
  ExitInfo info = WaitFor(started.handle);
  EXPECT_EQ(info.exit_code, 1);
  EXPECT_EQ(info.stderr_tail, "stopped");
  EXPECT_TRUE(Gone(started.pid));
}

TEST_F(WorkerRunnerTest, OtherOutputGoesToTheWorkersLogs) {
  StartedJob started = Run(MakeJob("chatty"));
  EXPECT_EQ(ReadFile(started.stdout_log), "progress 50%\n{\"id\": 999, \"ok\": true}\n");
  EXPECT_NE(ReadFile(started.stderr_log).find("warn\n"), std::string::npos);
}

TEST_F(WorkerRunnerTest, PerInputResultsMapToPositionsInTheUnit) {
  const Job& a = MakeJob("multi-a");
  const Job& b = MakeJob("multi-b");
  StartedJob started;
  ASSERT_TRUE(Runner().Start(Unit{{&a, &b}}, Launch(), &started).ok());
  ExitInfo info = WaitFor(started.handle);
  EXPECT_EQ(info.exit_code, 1);
  ASSERT_EQ(info.results.size(), 2u);
  EXPECT_EQ(info.results[0].index, 1u);
  EXPECT_FALSE(info.results[0].ok);
  EXPECT_EQ(info.results[0].error, "second");
  EXPECT_EQ(info.results[1].index, 0u);
  EXPECT_TRUE(info.results[1].ok);
  EXPECT_EQ(Lines("requests").at(0),
            "{\"id\": 1, \"inputs\": [\"multi-a\", \"multi-b\"], \"outputs\": [null, null], "
            "\"gpu\": null}");
}

TEST_F(WorkerRunnerTest, EachGpuHasItsOwnWorkers) {
  StartedJob on0 = Run(MakeJob("a"), "0");
  StartedJob on1 = Run(MakeJob("b"), "1");
  EXPECT_TRUE(on1.fresh_process);
  EXPECT_NE(on1.pid, on0.pid);
  StartedJob again = Run(MakeJob("c"), "0");
  EXPECT_FALSE(again.fresh_process);
  EXPECT_EQ(again.pid, on0.pid);
  EXPECT_NE(ReadFile(on1.stderr_log).find("gpu=1 "), std::string::npos);
  EXPECT_EQ(Runner().workers(), 2u);
}

// What the scheduler's worker policy sees: each serving worker's GPU,
// whether it is busy, and which was used last.
TEST_F(WorkerRunnerTest, KeptProcessesListsTheServingWorkers) {
  StartedJob busy = Start(MakeJob("wait"), "0");
  StartedJob on0 = Run(MakeJob("a"), "0");
  StartedJob on1 = Run(MakeJob("b"), "1");
  std::vector<KeptProcess> kept = Runner().KeptProcesses();
  ASSERT_EQ(kept.size(), 3u);
  std::map<pid_t, KeptProcess> by_pid;
  for (const KeptProcess& worker : kept) by_pid[worker.pid] = worker;
  EXPECT_EQ(by_pid.at(on0.pid).gpu, "0");
  EXPECT_EQ(by_pid.at(on1.pid).gpu, "1");
  EXPECT_FALSE(by_pid.at(on0.pid).busy);
  EXPECT_TRUE(by_pid.at(busy.pid).busy);
  EXPECT_LT(by_pid.at(on0.pid).last_used, by_pid.at(on1.pid).last_used);
  std::fclose(std::fopen(dir_.File("go").c_str(), "w"));
  EXPECT_EQ(WaitFor(busy.handle).exit_code, 0);
}

TEST_F(WorkerRunnerTest, StopKeptStopsAnIdleWorkerNowAndABusyOneWhenItsRequestEnds) {
  StartedJob busy = Start(MakeJob("wait"), "0");
  StartedJob idle = Run(MakeJob("ok"), "0");
  EXPECT_TRUE(idle.fresh_process);
  Runner().StopKept(idle.pid);
  EXPECT_TRUE(Gone(idle.pid));
  EXPECT_FALSE(IsDead(busy.pid));
  Runner().StopKept(busy.pid);
  EXPECT_FALSE(IsDead(busy.pid)) << "a busy worker finishes its request";
  ASSERT_EQ(Runner().KeptProcesses().size(), 1u);
  EXPECT_TRUE(Runner().KeptProcesses()[0].retiring);
  std::fclose(std::fopen(dir_.File("go").c_str(), "w"));
  EXPECT_EQ(WaitFor(busy.handle).exit_code, 0);
  EXPECT_TRUE(Gone(busy.pid));
  EXPECT_EQ(Runner().workers(), 0u);
}

TEST_F(WorkerRunnerTest, ADeadIdleWorkerIsNotGivenARequest) {
  StartedJob first = Run(MakeJob("ok"));
  kill(first.pid, SIGKILL);
  ASSERT_TRUE(Eventually([&] { return IsDead(first.pid); }));  // a zombie, not reaped yet
  StartedJob second = Run(MakeJob("ok"));
  EXPECT_TRUE(second.fresh_process);
}

TEST_F(WorkerRunnerTest, CloseStopsEveryWorkerByEndOfInput) {
  StartedJob a = Run(MakeJob("a"), "0");
  StartedJob b = Run(MakeJob("b"), "1");
  auto start = std::chrono::steady_clock::now();
  Runner().Close();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(Runner().workers(), 0u);
  for (const StartedJob& started : {a, b}) {
    EXPECT_EQ(kill(started.pid, 0), -1) << "worker " << started.pid << " not reaped";
    EXPECT_NE(ReadFile(started.stderr_log).find("eof"), std::string::npos);
  }
}

TEST_F(WorkerRunnerTest, CloseKillsAWorkerThatIgnoresEndOfInputAndSigterm) {
  config_.kill_grace = Millis(50);
  const char deaf[] = "trap '' TERM; echo $$ >> \"$DIR/pids\"; while :; do sleep 0.01; done";
  StartedJob started = Start(MakeJob("x", deaf));
  ASSERT_TRUE(Eventually([&] { return !Lines("pids").empty(); }));
  Runner().Close();  // its request is dropped
  EXPECT_EQ(kill(started.pid, 0), -1);
  EXPECT_EQ(Runner().workers(), 0u);
}

TEST_F(WorkerRunnerTest, AnInterruptDuringCloseKillsAtOnceAndIsKept) {
  config_.kill_grace = Millis(2000);  // unstopped, the deaf worker would take 4 s
  const char deaf[] = "trap '' TERM; echo $$ >> \"$DIR/pids\"; while :; do sleep 0.01; done";
  StartedJob started = Start(MakeJob("x", deaf));
  ASSERT_TRUE(Eventually([&] { return !Lines("pids").empty(); }));
  EXPECT_EQ(Runner().TakenInterrupt(), 0);
  raise(SIGTERM);  // pending: Close's first wait takes it
  auto start = std::chrono::steady_clock::now();
  Runner().Close();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(kill(started.pid, 0), -1);
  EXPECT_EQ(Runner().TakenInterrupt(), SIGTERM);
}

TEST_F(WorkerRunnerTest, InterruptsAreReturned) {
  Run(MakeJob("a"));
  raise(SIGINT);
  WaitResult result = Runner().Wait(Millis(5000));
  EXPECT_EQ(result.interrupt, SIGINT);
}

TEST_F(WorkerRunnerTest, APerJobPlaceholderIsAStartError) {
  const Job& job = MakeJob("a", kWorker, {"{}"});
  StartedJob started;
  Status status = Runner().Start(Unit{{&job}}, Launch(), &started);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(Runner().workers(), 0u);
}

TEST_F(WorkerRunnerTest, CompleteCommitsOrDiscardsTheOutput) {
  Job job = MakeJob("a");
  job.output = dir_.File("a.out");
  job.temp_output = dir_.File(".a.tmp");
  std::fclose(std::fopen(job.temp_output.c_str(), "w"));
  EXPECT_TRUE(Runner().Complete(job, true).ok());
  EXPECT_EQ(access(job.output.c_str(), F_OK), 0);
  std::fclose(std::fopen(job.temp_output.c_str(), "w"));
  EXPECT_TRUE(Runner().Complete(job, false).ok());
  EXPECT_NE(access(job.temp_output.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace headroom

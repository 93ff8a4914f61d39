// WorkerRunner: the JobRunner for --worker. Instead of a process per job it
// keeps persistent workers - COMMAND started once, with {%} and {gpu}
// expanded - and sends each unit to one of them as a request on its stdin
// (exec/worker_protocol.h, docs/worker-protocol.md). A worker serves one
// request at a time and is placed on one GPU (CUDA_VISIBLE_DEVICES) for its
// life; the scheduler keeps at most -j of them serving.
//
// It decides nothing the scheduler decides: Start takes the launch's GPU,
// Signal and StopKept do as told (which worker to evict or retire is
// sched/worker_policy.h's). What it does on its own is the mechanics: which
// idle worker of the right command and GPU serves a request, stopping a
// worker found dead or deaf, and stopping every worker at Close. A worker is
// stopped by closing its stdin, then SIGTERM to its group after
// `kill_grace`, then SIGKILL after another.
//
// Each request gets its own RunHandle; StartedJob::pid is the worker's (its
// process group is what headroom samples) and the logs are the worker's:
// <jobs log dir>/worker_<n>.out (what it prints that is not a reply) and
// .err. Uses the ProcessSet alone: no other runner may spawn through it.
// Single-threaded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/job_runner.h"
#include "exec/log_dir.h"
#include "exec/process_runner.h"
#include "exec/process_set.h"
#include "exec/worker_channel.h"

namespace headroom {

struct WorkerRunnerConfig {
  ProcessRunnerConfig process;  // --shell, --env, threads, resolved programs
  Millis kill_grace{5000};      // stdin closed -> SIGTERM -> SIGKILL
};

// What `list` and --dry-run print with --worker: the command a worker of
// `lead`'s template runs on slot 1 without a GPU, shell-quoted ...
std::string ListedWorkerCommand(const Job& lead, bool shell);
// ... and the request a unit is sent as, without its newline: its id the
// lead's number, its outputs the jobs' final outputs.
std::string ListedRequest(const Unit& unit);

class WorkerRunner : public JobRunner {
 public:
  // `log_dir` and `processes` must outlive the runner.
  WorkerRunner(const WorkerRunnerConfig& config, const LogDir& log_dir, ProcessSet* processes);
  ~WorkerRunner() override;  // Close()
  WorkerRunner(const WorkerRunner&) = delete;
  WorkerRunner& operator=(const WorkerRunner&) = delete;

  // Sends `unit` to an idle worker of the lead job's command and env on
  // launch.gpu, or starts one (StartedJob::fresh_process). Error: the
  // command uses a per-job placeholder, or the worker could not start.
  Status Start(const Unit& unit, const Launch& launch, StartedJob* started) override;
  // Signals the group of the worker serving `handle`. No-op for a request
  // that ended.
  void Signal(RunHandle handle, int signal) override;
  // Returns requests answered (exit 0, or 1 with the error as stderr_tail)
  // and requests whose worker died (its exit code or signal), and
  // interrupts. Meanwhile writes workers' other output to their logs and
  // steps the workers being stopped.
  WaitResult Wait(Millis timeout) override;
  Status Complete(const Job& job, bool succeeded) override;
  bool HasIdleProcess(const Job& lead, const std::optional<std::string>& gpu) const override;
  std::vector<KeptProcess> KeptProcesses() const override;
  void StopKept(pid_t pid) override;
  // Stops every worker and reaps it (bounded: 2 x kill_grace, then what is
  // left is SIGKILLed). A request still in flight is dropped unreported.
  // An interrupt meanwhile SIGKILLs what is left at once, and is returned
  // (and kept for TakenInterrupt).
  int Close() override;
  // The first interrupt (SIGINT/SIGTERM/SIGHUP) that Close took, else 0.
  // Close consumed it, so no Wait reports it: the caller treats the batch
  // as interrupted by it.
  int TakenInterrupt() const { return taken_interrupt_; }

  // Workers alive: serving, or being stopped.
  size_t workers() const { return workers_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Request {
    RunHandle handle = 0;
    std::vector<std::string> inputs;
    uint64_t stderr_from = 0;  // the worker's stderr log size when it began
  };
  enum class Stop { kNo, kEof, kTerm, kKill };
  struct Worker {
    Worker() = default;
    ~Worker();  // closes the stdout log
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    int number = 0;  // log names
    int slot = 0;    // HEADROOM_SLOT, {%}
    pid_t pid = 0;
    // What a request must match to be sent here.
    std::vector<std::string> argv_template;
    std::vector<EnvVar> env;
    std::optional<std::string> gpu;
    std::unique_ptr<WorkerChannel> channel;
    int stdout_log_fd = -1;
    std::vector<std::string> argv;
    std::string stdout_log;
    std::string stderr_log;
    std::optional<Request> request;  // in flight
    bool retire = false;             // stop once the request ends
    Stop stop = Stop::kNo;
    Clock::time_point next_stop_step{};
    uint64_t last_used = 0;  // idle the longest: smallest
  };

  // see worker_runner.cc
  Worker* FindIdle(const Job& lead, const std::optional<std::string>& gpu);
  int FreeSlot(int wanted) const;
  Status StartWorker(const Job& lead, const Launch& launch, Worker** started);
  std::vector<std::string> WorkerEnvironment(const Job& lead, const Launch& launch, int slot) const;
  Status ProgramPath(const Job& lead, const std::string& arg0, std::string* path) const;
  void BeginStop(Worker* worker);
  void StepStops(Clock::time_point now);
  std::optional<Clock::time_point> NextStopStep() const;
  bool Serving(const Worker& worker) const { return worker.stop == Stop::kNo; }
  void WaitOnce(Clock::time_point until, std::vector<Exited>* exited, int* interrupt);
  void ReadOutput(Worker* worker, std::vector<Exited>* exited);
  void HandleLine(Worker* worker, std::string line, std::vector<Exited>* exited);
  void EndRequest(Worker* worker, ExitInfo info, std::vector<Exited>* exited);
  void HandleExit(const ProcessExit& exit, std::vector<Exited>* exited);
  void WriteLog(Worker* worker, const std::string& line);

  WorkerRunnerConfig config_;
  const LogDir& log_dir_;
  ProcessSet* processes_;
  // Built once, as ProcessRunner's: base_env, thread limits, --env.
  std::vector<std::string> env_;
  std::vector<std::unique_ptr<Worker>> workers_;
  RunHandle last_handle_ = 0;
  int last_worker_number_ = 0;
  uint64_t use_counter_ = 0;
  int taken_interrupt_ = 0;  // see TakenInterrupt
};

}  // namespace headroom

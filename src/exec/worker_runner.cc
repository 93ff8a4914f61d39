#include "exec/worker_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "exec/environment.h"
#include "exec/executable.h"
#include "exec/log_tail.h"
#include "exec/worker_command.h"
#include "exec/worker_protocol.h"
#include "jobs/output.h"
#include "jobs/placeholder.h"
#include "util/shell_quote.h"

namespace headroom {

namespace {

constexpr std::string_view kJobNumberVariable = "HEADROOM_JOB_NUMBER";
constexpr std::string_view kSlotVariable = "HEADROOM_SLOT";
constexpr std::string_view kWorkerVariable = "HEADROOM_WORKER";
constexpr size_t kStderrTailBytes = 8192;
// How much of a malformed reply the request's error quotes.
constexpr size_t kQuotedReplyBytes = 200;
// Close waits this long for SIGKILLed workers to be reaped, then leaves them
// to ProcessSet::KillAll.
constexpr Millis kReapBound{2000};

// True when `pid`, a child not reaped yet, has exited (Wait will reap it).
bool HasExited(pid_t pid) {
  siginfo_t info;
  std::memset(&info, 0, sizeof(info));
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

void WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk loses log lines, not the batch
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// The request for `unit`: each job's input and `outputs` (its temp output
// for a run, its final output for a listing).
WorkerRequest RequestFor(const Unit& unit, bool final_outputs) {
  WorkerRequest request;
  for (const Job* job : unit.jobs) {
    request.inputs.push_back(job->input);
    request.outputs.push_back(final_outputs ? job->output : job->temp_output);
  }
  return request;
}

}  // namespace

std::string ListedWorkerCommand(const Job& lead, bool shell) {
  return ShellJoin(ExpandWorkerCommand(lead.argv_template, 1, "", shell));
}

std::string ListedRequest(const Unit& unit) {
  WorkerRequest request = RequestFor(unit, /*final_outputs=*/true);
  request.id = unit.lead().number;
  std::string line = EncodeRequest(request);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

WorkerRunner::Worker::~Worker() {
  if (stdout_log_fd >= 0) close(stdout_log_fd);
}

WorkerRunner::WorkerRunner(const WorkerRunnerConfig& config, const LogDir& log_dir,
                           ProcessSet* processes)
    : config_(config),
      log_dir_(log_dir),
      processes_(processes),
      env_(BaseJobEnvironment(config.process.base_env, config.process.threads_per_job,
                              config.process.env)) {
  // Inherited when headroom runs inside a headroom job or worker.
  RemoveVariable(kJobNumberVariable, &env_);
  RemoveVariable(kSlotVariable, &env_);
  RemoveVariable(kWorkerVariable, &env_);
}

WorkerRunner::~WorkerRunner() { Close(); }

Status WorkerRunner::Start(const Unit& unit, const Launch& launch, StartedJob* started) {
  const Job& lead = unit.lead();
  if (lead.argv_template.empty()) return Status::Error("job '" + lead.name + "' has no command");
  Status status = CheckWorkerCommand(lead.argv_template);
  if (!status.ok()) return status;
  Worker* worker = FindIdle(lead, launch.gpu);
  bool fresh = worker == nullptr;
  if (fresh) {
    status = StartWorker(lead, launch, &worker);
    if (!status.ok()) return status;
  }
  WorkerRequest request = RequestFor(unit, /*final_outputs=*/false);
  request.id = ++last_handle_;
  request.gpu = launch.gpu;
  Request& in_flight = worker->request.emplace();
  in_flight.handle = request.id;
  in_flight.stderr_from = LogSize(worker->stderr_log);
  if (!worker->channel->Send(EncodeRequest(request))) {
    // Its stdin is closed, so no answer can come: its end ends the request.
    processes_->SignalGroup(worker->pid, SIGKILL);
    worker->retire = true;
  }
  in_flight.inputs = std::move(request.inputs);
  started->handle = in_flight.handle;
  started->pid = worker->pid;
  started->argv = worker->argv;
  started->stdout_log = worker->stdout_log;
  started->stderr_log = worker->stderr_log;
  started->fresh_process = fresh;
  return Status::Ok();
}

// The idle worker that served last among those that match (fewer workers
// stay busy, the others may be stopped first). One found dead or deaf on the
// way is stopped.
bool WorkerRunner::HasIdleProcess(const Job& lead, const std::optional<std::string>& gpu) const {
  for (const auto& worker : workers_) {
    if (Serving(*worker) && !worker->request && !worker->retire && worker->gpu == gpu &&
        worker->argv_template == lead.argv_template && worker->env == lead.env &&
        worker->channel->stdin_open() && worker->channel->stdout_open()) {
      return true;
    }
  }
  return false;
}

WorkerRunner::Worker* WorkerRunner::FindIdle(const Job& lead,
                                             const std::optional<std::string>& gpu) {
  Worker* found = nullptr;
  for (const auto& worker : workers_) {
    if (!Serving(*worker) || worker->request || worker->retire || worker->gpu != gpu ||
        worker->argv_template != lead.argv_template || worker->env != lead.env) {
      continue;
    }
    if (!worker->channel->stdin_open() || !worker->channel->stdout_open() ||
        HasExited(worker->pid)) {
      BeginStop(worker.get());
      continue;
    }
    if (found == nullptr || worker->last_used > found->last_used) found = worker.get();
  }
  return found;
}

// `wanted` (the launch's slot) when no serving worker has it, else the
// lowest free one: a slot names one worker at a time.
int WorkerRunner::FreeSlot(int wanted) const {
  std::set<int> taken;
  for (const auto& worker : workers_) {
    if (Serving(*worker)) taken.insert(worker->slot);
  }
  if (!taken.contains(wanted)) return wanted;
  int slot = 1;
  while (taken.contains(slot)) ++slot;
  return slot;
}

Status WorkerRunner::StartWorker(const Job& lead, const Launch& launch, Worker** started) {
  auto worker = std::make_unique<Worker>();
  worker->slot = FreeSlot(launch.slot);
  worker->argv_template = lead.argv_template;
  worker->env = lead.env;
  worker->gpu = launch.gpu;
  SpawnSpec spec;
  spec.argv = ExpandWorkerCommand(lead.argv_template, worker->slot, launch.gpu.value_or(""),
                                  config_.process.shell);
  Status status = ProgramPath(lead, spec.argv.front(), &spec.path);
  if (!status.ok()) return status;
  spec.env = WorkerEnvironment(lead, launch, worker->slot);
  worker->number = ++last_worker_number_;
  std::string base =
      Dirname(log_dir_.StdoutPath(lead, 1)) + "/worker_" + std::to_string(worker->number);
  spec.stdout_path = base + ".out";
  spec.stderr_path = base + ".err";
  worker->stdout_log_fd =
      open(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (worker->stdout_log_fd < 0) {
    return Status::Error("cannot open job log " + spec.stdout_path + ": " + std::strerror(errno));
  }
  ChildPipes pipes;
  status = processes_->SpawnWithPipes(spec, &worker->pid, &pipes);
  if (!status.ok()) return status;
  worker->channel = std::make_unique<WorkerChannel>(pipes);
  worker->argv = std::move(spec.argv);
  worker->stdout_log = std::move(spec.stdout_path);
  worker->stderr_log = std::move(spec.stderr_path);
  workers_.push_back(std::move(worker));
  *started = workers_.back().get();
  return Status::Ok();
}

std::vector<std::string> WorkerRunner::WorkerEnvironment(const Job& lead, const Launch& launch,
                                                         int slot) const {
  std::vector<std::string> env = env_;
  env.push_back(std::string(kWorkerVariable) + "=1");
  env.push_back(std::string(kSlotVariable) + "=" + std::to_string(slot));
  ApplyGpu(config_.process.gpu, launch.gpu, &env);
  // As for a job: the user's word for one job wins over placement.
  for (const EnvVar& var : lead.env) SetVariable(var.name, var.value, &env);
  return env;
}

Status WorkerRunner::ProgramPath(const Job& lead, const std::string& arg0,
                                 std::string* path) const {
  if (config_.process.shell) {
    *path = "/bin/sh";
    return Status::Ok();
  }
  auto it = config_.process.resolved.find(lead.argv_template.front());
  if (it != config_.process.resolved.end()) {
    *path = it->second;
    return Status::Ok();
  }
  return ResolveExecutable(arg0, config_.process.path_env, path);
}

void WorkerRunner::Signal(RunHandle handle, int signal) {
  for (const auto& worker : workers_) {
    if (worker->request && worker->request->handle == handle) {
      processes_->SignalGroup(worker->pid, signal);
      return;
    }
  }
}

WaitResult WorkerRunner::Wait(Millis timeout) {
  WaitResult result;
  Clock::time_point deadline = Clock::now() + std::max(timeout, Millis(0));
  for (;;) {
    WaitOnce(deadline, &result.exited, &result.interrupt);
    if (!result.exited.empty() || result.interrupt != 0 || Clock::now() >= deadline) {
      return result;
    }
  }
}

// One wait on the workers' pipes and exits, until `until` at the latest
// (or the next step of a worker being stopped), and what follows from it.
void WorkerRunner::WaitOnce(Clock::time_point until, std::vector<Exited>* exited, int* interrupt) {
  std::optional<Clock::time_point> step = NextStopStep();
  if (step && *step < until) until = *step;
  std::vector<pollfd> fds;
  for (const auto& worker : workers_) worker->channel->AddPollFds(&fds);
  Millis left = std::chrono::ceil<Millis>(until - Clock::now());
  std::vector<ProcessExit> exits;
  processes_->Wait(std::max(left, Millis(0)), &fds, &exits, interrupt);
  for (const auto& worker : workers_) {
    worker->channel->Flush();
    ReadOutput(worker.get(), exited);
  }
  for (const ProcessExit& exit : exits) HandleExit(exit, exited);
  StepStops(Clock::now());
}

void WorkerRunner::ReadOutput(Worker* worker, std::vector<Exited>* exited) {
  std::vector<std::string> lines;
  worker->channel->Read(&lines);
  for (std::string& line : lines) HandleLine(worker, std::move(line), exited);
}

// The reply to the request in flight ends it; any other line is the
// worker's own output, for its log.
void WorkerRunner::HandleLine(Worker* worker, std::string line, std::vector<Exited>* exited) {
  WorkerReply reply;
  bool is_reply = ParseReply(line, &reply);
  // A reply that is not JSON would leave its request waiting forever.
  if (!is_reply && worker->request && IsMalformedReply(line)) {
    WriteAll(worker->stdout_log_fd, line + "\n");
    ExitInfo info;
    info.exit_code = 1;
    info.stderr_tail = "headroom: the worker's reply is not valid JSON (NaN and Infinity are "
                       "not JSON): " + line.substr(0, kQuotedReplyBytes);
    EndRequest(worker, std::move(info), exited);
    return;
  }
  if (!worker->request || !is_reply || reply.id != worker->request->handle) {
    WriteAll(worker->stdout_log_fd, line + "\n");
    return;
  }
  ExitInfo info;
  info.exit_code = reply.ok ? 0 : 1;
  if (!reply.ok) {
    info.reported_oom = reply.oom;
    info.stderr_tail = !reply.error.empty() ? reply.error
                                            : ReadLogTail(worker->stderr_log, kStderrTailBytes,
                                                          worker->request->stderr_from);
  }
  info.results = MapResults(reply.results, worker->request->inputs);
  EndRequest(worker, std::move(info), exited);
}

void WorkerRunner::EndRequest(Worker* worker, ExitInfo info, std::vector<Exited>* exited) {
  exited->push_back(Exited{worker->request->handle, std::move(info)});
  worker->request.reset();
  worker->last_used = ++use_counter_;
  if (worker->retire) BeginStop(worker);
}

// A worker ended. A reply it wrote before still counts; else its request
// ends with the worker's exit (exit 0 without a reply is a failure: the
// request was not done).
void WorkerRunner::HandleExit(const ProcessExit& exit, std::vector<Exited>* exited) {
  auto it = std::find_if(workers_.begin(), workers_.end(),
                         [&](const auto& worker) { return worker->pid == exit.pid; });
  if (it == workers_.end()) return;
  Worker* worker = it->get();
  ReadOutput(worker, exited);
  if (worker->request) {
    ExitInfo info;
    info.exit_code = exit.exit_code;
    info.signal = exit.signal;
    info.cpu_seconds = exit.cpu_seconds;
    info.max_rss_kb = exit.max_rss_kb;
    info.stderr_tail =
        ReadLogTail(worker->stderr_log, kStderrTailBytes, worker->request->stderr_from);
    info.worker_lost = true;  // the scheduler gives the job a new worker once
    if (exit.exit_code == 0) {
      info.exit_code = 1;
      info.stderr_tail += "headroom: the worker exited without answering\n";
    }
    EndRequest(worker, std::move(info), exited);
  }
  workers_.erase(it);
}

void WorkerRunner::BeginStop(Worker* worker) {
  if (worker->stop != Stop::kNo) return;
  worker->channel->CloseStdin();  // EOF: "exit now"
  worker->stop = Stop::kEof;
  worker->next_stop_step = Clock::now() + config_.kill_grace;
}

void WorkerRunner::StepStops(Clock::time_point now) {
  for (const auto& worker : workers_) {
    if (worker->stop == Stop::kNo || worker->stop == Stop::kKill || now < worker->next_stop_step) {
      continue;
    }
    bool term = worker->stop == Stop::kEof;
    processes_->SignalGroup(worker->pid, term ? SIGTERM : SIGKILL);
    worker->stop = term ? Stop::kTerm : Stop::kKill;
    worker->next_stop_step = now + config_.kill_grace;
  }
}

std::optional<WorkerRunner::Clock::time_point> WorkerRunner::NextStopStep() const {
  std::optional<Clock::time_point> next;
  for (const auto& worker : workers_) {
    if (worker->stop == Stop::kEof || worker->stop == Stop::kTerm) {
      if (!next || worker->next_stop_step < *next) next = worker->next_stop_step;
    }
  }
  return next;
}

Status WorkerRunner::Complete(const Job& job, bool succeeded) {
  if (succeeded) return CommitOutput(job, /*output_given=*/true);  // in its request
  DiscardOutput(job);
  return Status::Ok();
}

std::vector<KeptProcess> WorkerRunner::KeptProcesses() const {
  std::vector<KeptProcess> kept;
  for (const auto& worker : workers_) {
    if (!Serving(*worker)) continue;
    kept.push_back(KeptProcess{worker->pid, worker->gpu, worker->request.has_value(),
                               worker->retire, worker->last_used});
  }
  return kept;
}

void WorkerRunner::StopKept(pid_t pid) {
  for (const auto& worker : workers_) {
    if (worker->pid != pid || !Serving(*worker)) continue;
    if (worker->request) {
      worker->retire = true;
    } else {
      BeginStop(worker.get());
    }
  }
}

int WorkerRunner::Close() {
  for (const auto& worker : workers_) BeginStop(worker.get());
  Clock::time_point give_up = Clock::now() + 2 * config_.kill_grace + kReapBound;
  std::vector<Exited> dropped;
  while (!workers_.empty() && Clock::now() < give_up) {
    int interrupt = 0;
    WaitOnce(give_up, &dropped, &interrupt);
    if (interrupt == 0) continue;
    // Interrupted while stopping: no more waiting.
    if (taken_interrupt_ == 0) taken_interrupt_ = interrupt;
    for (const auto& worker : workers_) {
      processes_->SignalGroup(worker->pid, SIGKILL);
      worker->stop = Stop::kKill;
    }
  }
  workers_.clear();  // any left: ProcessSet::KillAll's
  return taken_interrupt_;
}

}  // namespace headroom

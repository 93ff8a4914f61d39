// headroom: wires one run together - options, inputs, plan, journal,
// executor, monitor, scheduler and reporters - and turns the outcome into an
// exit code. Wiring only: every decision is the scheduler's (src/sched), and
// each module gets its own config struct from cli/module_configs.h.
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli.h"
#include "cli/module_configs.h"
#include "exec/environment.h"
#include "exec/executable.h"
#include "exec/leftovers.h"
#include "exec/log_dir.h"
#include "exec/process_runner.h"
#include "exec/process_set.h"
#include "exec/replace_process.h"
#include "exec/slurm_exec.h"
#include "exec/slurm_launcher.h"
#include "exec/worker_command.h"
#include "exec/worker_runner.h"
#include "jobs/job_key.h"
#include "jobs/output.h"
#include "jobs/plan.h"
#include "jobs/sources.h"
#include "journal/batch_control.h"
#include "journal/invocation.h"
#include "journal/journal.h"
#include "journal/journal_recorder.h"
#include "journal/resume.h"
#include "probe/gpu_providers.h"
#include "probe/gpu_table.h"
#include "probe/monitor.h"
#include "probe/monitor_source.h"
#include "probe/process_info.h"
#include "probe/system_probe.h"
#include "probe/visible_devices.h"
#include "report/console.h"
#include "report/event_log.h"
#include "report/failure_hook.h"
#include "report/finish_hook.h"
#include "report/footprints_view.h"
#include "report/job_log.h"
#include "report/metrics.h"
#include "report/metrics_server.h"
#include "report/metrics_textfile.h"
#include "report/report_writer.h"
#include "report/status_view.h"
#include "sched/footprint_model.h"
#include "sched/rerun_policy.h"
#include "sched/scheduler.h"
#include "sched/unit_plan.h"
#include "util/shell_quote.h"

extern char** environ;

namespace headroom {
namespace {

constexpr int kExitUsage = 2;
// How long --on-failure hooks may still run once the batch is over.
constexpr Millis kHookGrace{10000};
// --on-finish: how long headroom waits for it before it kills it.
constexpr Millis kFinishHookBound{60000};

int Fail(const Status& status) {
  std::fprintf(stderr, "headroom: error: %s\n", status.message().c_str());
  return kExitUsage;
}

void Warn(const std::string& message) {
  std::fprintf(stderr, "headroom: warning: %s\n", message.c_str());
}

std::map<std::string, std::string> EnvironmentMap() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

std::string PathVariable() {
  const char* path = std::getenv("PATH");
  return path != nullptr ? path : "";
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int TerminalWidth() {
  winsize size{};
  if ((ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0) && size.ws_col > 0) return size.ws_col;
  return 100;
}

void PrintLine(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
}

// `list` and --dry-run: one pasteable line per process, in the order and
// grouping the scheduler starts them (sched/unit_plan.h), expanded as the
// runner expands them. With --worker: the worker's command, then the
// request each unit would send it.
int ListPlan(const Options& options, Plan plan) {
  ApplyMaxCount(options.max_count, &plan);  // a resume applies it after skipping done jobs
  ProcessRunnerConfig runner = ProcessRunnerConfigOf(options);
  if (options.worker && !plan.to_run.empty()) {
    PrintLine("# worker: " + ListedWorkerCommand(plan.to_run.front(), options.shell));
  }
  for (const PlannedUnit& planned : PlanUnits(plan, options.batch_size, options.jobs)) {
    Unit unit;
    for (size_t index : planned.jobs) unit.jobs.push_back(&plan.to_run[index]);
    PrintLine(options.worker ? ListedRequest(unit) : ListedCommand(unit, planned.slot, runner));
  }
  return 0;
}

// Everything one batch holds while it runs, made in this order by RunBatch's
// steps and torn down in the reverse order.
struct Batch {
  explicit Batch(Options o) : options(std::move(o)) {}

  const Options options;
  // First: it blocks SIGINT/SIGTERM/SIGHUP/SIGCHLD before any thread starts,
  // so every thread inherits the mask and the scheduler takes them.
  ProcessSet processes;
  SchedulerConfig config;
  std::unique_ptr<GpuProvider> gpu;
  std::string gpu_warning;
  GpuVisibility gpu_visibility;
  Metrics metrics;
  std::unique_ptr<MetricsServer> metrics_server;
  std::unique_ptr<MetricsTextfile> metrics_textfile;  // --metrics-textfile
  bool metrics_port_picked = false;  // --metrics-addr HOST:0: the server picked the port
  std::unique_ptr<Journal> journal;
  OpenedBatch opened;
  std::unique_ptr<BatchControl> control;  // headroom ctl requests, with a journal
  RerunCounts reruns;
  std::string leftovers_notice;
  std::vector<SlurmLeftover> slurm_leftovers;  // --executor slurm --resume: to take back
  std::optional<FailureHookConfig> finish_hook;  // --on-finish
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::unique_ptr<LogDir> log_dir;
  std::unique_ptr<EventLog> event_log;
  std::unique_ptr<Console> console;
  std::unique_ptr<FailureHook> hook;
  std::unique_ptr<JournalRecorder> recorder;
  ObserverList observers;
  std::unique_ptr<JobRunner> runner;
  std::unique_ptr<Monitor> monitor;
  std::unique_ptr<MonitorSource> resources;

  // After a batch is in the journal, a failure to set up ends it there with
  // exit 2, so that it does not look killed (and resumable) to `status`.
  int FailBatch(const Status& why) {
    if (journal) (void)journal->EndBatch(opened.id, UnixNow(), kExitUsage);
    return Fail(why);
  }
};

std::optional<std::string> Getenv(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::optional<std::string>(value) : std::nullopt;
}

// The GPUs the batch may use: those its environment gave it
// (CUDA_VISIBLE_DEVICES, ROCR/HIP_VISIBLE_DEVICES), and of those the ones
// --gpus names; and how each job is told its own (probe/visible_devices.h).
Status ResolveGpus(Batch* b) {
  std::vector<GpuDevice> devices;
  std::string provider = b->gpu ? b->gpu->Name() : "none";
  if (b->gpu && !b->gpu->Sample(&devices).ok()) devices.clear();
  VisibleDevices visible;
  if (!devices.empty()) {
    VisibleVariables inherited{Getenv("CUDA_VISIBLE_DEVICES"), Getenv("ROCR_VISIBLE_DEVICES"),
                               Getenv("HIP_VISIBLE_DEVICES")};
    Status status = ResolveVisibleDevices(provider, inherited, devices, &visible);
    if (!status.ok()) return status;
  }
  const Options& options = b->options;
  AdmissionConfig& admission = b->config.admission;
  if (!options.gpus_all && !options.gpus.empty()) {
    Status status = CheckGpuList(options.gpus, visible, devices);
    if (!status.ok()) return status;
  } else if (options.gpus_all && visible.indices) {
    admission.allowed_gpus = *visible.indices;
    admission.use_gpus = !visible.indices->empty();
  }
  b->gpu_visibility = VisibilityFor(provider, devices);
  return Status::Ok();
}

// Usage errors found before the batch is journaled: the worker commands,
// the GPU provider, --on-failure's program, --metrics-addr.
Status CheckSetup(const Plan& plan, Batch* b, FailureHookConfig* hook) {
  const Options& options = b->options;
  Status status = SchedulerConfigOf(options, &b->config);
  if (status.ok() && options.worker) status = CheckWorkerCommands(options.command, plan);
  if (status.ok()) {
    status = OpenGpuProvider(options.gpu_provider, options.gpu_sim, &b->processes, &b->gpu,
                             &b->gpu_warning);
  }
  if (status.ok()) status = ResolveGpus(b);
  if (status.ok() && !options.on_failure.empty()) {
    status = MakeFailureHookConfig(options.on_failure, options.shell, CurrentEnvironment(),
                                   PathVariable(), hook);
  }
  if (status.ok() && !options.on_finish.empty()) {
    b->finish_hook.emplace();
    status = MakeHookConfig("--on-finish", options.on_finish, options.shell, CurrentEnvironment(),
                            PathVariable(), &*b->finish_hook);
  }
  if (status.ok() && !options.metrics_textfile.empty()) {
    status = MetricsTextfile::Check(options.metrics_textfile).WithContext("--metrics-textfile");
  }
  if (!status.ok() || options.metrics_addr.empty()) return status;
  MetricsAddress address;
  status = ParseMetricsAddress(options.metrics_addr, &address);
  if (!status.ok()) return status.WithContext("--metrics-addr");
  b->metrics_port_picked = address.port == 0;
  b->metrics_server = std::make_unique<MetricsServer>([m = &b->metrics] { return m->Render(); });
  status = b->metrics_server->Bind(address);
  return status.WithContext("--metrics-addr " + options.metrics_addr);
}

// The journal before anything is created: a journal headroom cannot use,
// or a batch another headroom runs, stops the run here (exit 2). A resume
// first stops what a killed headroom left running of the batch; then the
// rerun policy decides what of the plan runs. --no-journal: no journal.
Status OpenJournal(const std::vector<ConfigEntry>& effective, Plan* plan, Batch* b) {
  const Options& options = b->options;
  std::map<int64_t, JournaledJob> none;
  if (options.no_journal) {
    b->reruns = DecideReruns(RerunConfigOf(options), &none, plan);
    return Status::Ok();
  }
  auto stop_leftovers = [b](int64_t id) {
    // Its Slurm jobs first: --executor slurm takes them back (the
    // scheduler adopts them; their outputs stay), another executor cancels
    // them, so that queued ones do not start meanwhile. Then its processes
    // on this machine.
    std::set<int64_t> kept;
    int stopped = 0;
    if (b->options.slurm) {
      b->slurm_leftovers = FindSlurmLeftovers(b->options.state_dir, id, &b->processes);
      for (const SlurmLeftover& left : b->slurm_leftovers) {
        for (int64_t number : UnitTagJobs(left.tag.unit)) kept.insert(number);
      }
    } else {
      stopped = CancelSlurmLeftovers(b->options.state_dir, id, &b->processes);
    }
    stopped += StopTagged(BatchTag(b->options.state_dir, id), b->options.kill_grace);
    if (stopped > 0) {
      b->leftovers_notice = fmt::format(
          "stopped {} process(es) of batch {} that a killed headroom left running", stopped, id);
    }
    return kept;
  };
  Status status = Journal::Open(options.state_dir, &b->journal);
  if (!status.ok()) return status;
  BatchRecord record = NewBatchRecord(options.command, InputSourceText(InputSpecOf(options)),
                                      OptionsJson(effective));
  BatchChoice choice = BatchChoiceOf(options);
  LimitNewBatch(RerunConfigOf(options), choice.resume, plan);
  status = OpenBatch(b->journal.get(), choice, record, JobKeys(*plan, options.command), *plan,
                     &b->opened, stop_leftovers);
  if (!status.ok()) return status;
  b->reruns = DecideReruns(RerunConfigOf(options), &b->opened.jobs, plan);
  if (b->opened.resumed) {
    b->opened.notice = ResumeNotice(b->opened.id, b->reruns, b->opened.were_running);
  }
  return Status::Ok();
}

// The output and log directories, and the logs of this batch.
Status PrepareFiles(const std::string& source, Batch* b) {
  const Options& options = b->options;
  if (!options.output_dir.empty()) {
    Status status = PrepareOutputDir(options.output_dir);
    if (!status.ok()) return status.WithContext("--output-dir");
  }
  RemoveOldLogs(options.log_dir, options.log_retention_days);
  b->log_dir = std::make_unique<LogDir>(options.log_dir, TimeStamp(std::time(nullptr)));
  Status status = b->log_dir->Create();
  if (!status.ok()) return status.WithContext("--log-dir");
  b->event_log = std::make_unique<EventLog>(EventLogConfigOf(options, source), *b->log_dir);
  return b->event_log->Open().WithContext("--log-dir");
}

// The observers, in the order they hear each event: the console (it copies
// a job's output before the event log trims its log to --max-job-log), the
// event log, metrics, the failure hook, and last the journal (each attempt
// durable before it is spawned). The jobs' output goes to stdout,
// headroom's own lines to stderr.
void AddObservers(FailureHookConfig hook_config, Batch* b) {
  const Options& options = b->options;
  // A terminal that cannot redraw a line (TERM=dumb: Emacs' shell, some CI
  // logs) gets plain lines, one per finished job.
  std::optional<std::string> term = Getenv("TERM");
  bool tty = isatty(STDERR_FILENO) == 1 && term.value_or("") != "dumb";
  ConsoleConfig console = ConsoleConfigOf(options, tty, tty ? TerminalWidth() : 100);
  // A resized window (SIGWINCH) gets a line of its new width at the next tick.
  if (tty) console.terminal_width = TerminalWidth;
  b->console = std::make_unique<Console>(console,
                                         stderr, stdout);
  b->observers.Add(b->console.get());
  b->observers.Add(b->event_log.get());
  if (b->metrics_server || !options.metrics_textfile.empty()) {
    b->metrics.SetBatch(b->journal ? std::to_string(b->opened.id) : "",
                        ShellJoin(b->options.command));
    b->observers.Add(&b->metrics);
  }
  if (!options.metrics_textfile.empty()) {
    b->metrics_textfile = std::make_unique<MetricsTextfile>(options.metrics_textfile, &b->metrics);
    b->observers.Add(b->metrics_textfile.get());
  }
  if (!options.on_failure.empty()) {
    b->hook = std::make_unique<FailureHook>(
        std::move(hook_config), &b->processes,
        [b](LogLevel level, const std::string& message) { b->observers.OnNotice(level, message); });
    b->observers.Add(b->hook.get());
  }
  if (b->journal) {
    JournalRecorderConfig recorder;
    recorder.batch = b->opened.id;
    recorder.jobs = std::move(b->opened.jobs);
    b->recorder = std::make_unique<JournalRecorder>(std::move(recorder), b->journal.get(),
                                                    b->log_dir.get(), b->opened.launches.get());
    b->observers.Add(b->recorder.get());
  }
  if (!b->opened.notice.empty()) {
    b->observers.OnNotice(b->opened.notice_is_warning ? LogLevel::kWarn : LogLevel::kInfo,
                          b->opened.notice);
  }
  if (!b->leftovers_notice.empty()) b->observers.OnNotice(LogLevel::kWarn, b->leftovers_notice);
}

// `headroom slurm-exec` on a Slurm node: the GPU memory of the job's
// process group, from the provider a local run would pick there (the
// simulated GPU when HEADROOM_GPU_SIM, exported by sbatch, names one, else
// NVML, nvidia-smi, AMD); none when it finds no GPU.
VramSamplerFactory NodeVramSampler() {
  return [](ProcessSet* processes) -> VramSampler {
    const char* sim = std::getenv("HEADROOM_GPU_SIM");
    std::shared_ptr<GpuProvider> gpu;
    {
      std::unique_ptr<GpuProvider> opened;
      std::string warning;
      if (!OpenGpuProvider(GpuProviderKind::kAuto, sim != nullptr ? sim : "", processes, &opened,
                           &warning)
               .ok() ||
          !opened) {
        return {};
      }
      gpu = std::move(opened);
    }
    return [gpu](pid_t pgid) { return GroupVram(gpu.get(), pgid); };
  };
}

// --executor slurm: the files of this run's Slurm jobs go under the state
// dir (the nodes must share it), and the nodes run this very binary.
SlurmConfig SlurmSetup(const Batch& b) {
  SlurmConfig config = SlurmConfigOf(b.options);
  std::error_code error;
  config.self = std::filesystem::read_symlink("/proc/self/exe", error).string();
  config.cwd = std::filesystem::current_path(error).string();
  std::filesystem::path state = std::filesystem::absolute(b.options.state_dir, error);
  std::string run = b.journal ? fmt::format("batch-{}-{}", b.opened.id, getpid())
                              : fmt::format("run-{}", getpid());
  config.dir = (state / "slurm" / run).string();
  config.job_name = "headroom-" + run;
  return config;
}

// The job runner (a process per unit, or persistent workers), then the
// threads: the metrics endpoint and the monitor, which inherit the blocked
// signals from the ProcessSet made before them.
Status StartRunnerAndMonitor(const std::map<std::string, std::string>& resolved, Batch* b) {
  const Options& options = b->options;
  ProcessRunnerConfig runner = ProcessRunnerConfigOf(options);
  runner.base_env = CurrentEnvironment();
  // Marks the batch's processes, so that a resume finds them if this
  // headroom is killed (exec/leftovers.h).
  if (b->journal) {
    SetVariable(kBatchTagVariable, BatchTag(options.state_dir, b->opened.id), &runner.base_env);
  }
  runner.resolved = resolved;
  runner.path_env = PathVariable();
  runner.gpu = b->gpu_visibility;
  if (options.worker) {
    b->runner = std::make_unique<WorkerRunner>(WorkerRunnerConfigOf(options, std::move(runner)),
                                               *b->log_dir, &b->processes);
  } else if (options.slurm) {
    auto launcher = std::make_unique<SlurmLauncher>(SlurmSetup(*b), &b->processes);
    Status status = launcher->Connect();
    if (!status.ok()) return status.WithContext("--executor slurm");
    launcher->SetLeftovers(std::move(b->slurm_leftovers));
    // Beyond the largest node, a job fails unsubmitted (the scheduler's call).
    b->config.memory_requests.limit = launcher->MaxMemory(&b->config.memory_requests.limit_why);
    b->runner = std::make_unique<ProcessRunner>(runner, *b->log_dir, std::move(launcher));
  } else {
    b->runner = std::make_unique<ProcessRunner>(runner, *b->log_dir, &b->processes);
  }
  if (b->metrics_server) {
    b->metrics_server->Start();
    b->observers.OnNotice(LogLevel::kInfo, "metrics on " + b->metrics_server->Url());
    // Port 0 picked a port: this is the only place to learn which.
    if (b->metrics_port_picked) {
      std::fprintf(stderr, "headroom: metrics on %s\n", b->metrics_server->Url().c_str());
    }
  }
  b->monitor = std::make_unique<Monitor>(std::make_unique<SystemProbe>(), std::move(b->gpu),
                                         options.monitor_interval);
  b->monitor->SampleNow();
  b->resources = std::make_unique<MonitorSource>(
      b->monitor.get(), options.output_dir.empty() ? options.log_dir : options.output_dir);
  b->config.place_gpus = !b->monitor->Latest().gpus.empty() || !b->config.admission.use_gpus;
  // On Slurm, the nodes' GPUs are Slurm's to give (--gpus-per-job).
  if (options.slurm) b->config.place_gpus = false;
  b->monitor->Start();
  // Most batches need no GPU: say it in the log (and with -v), not on every run.
  if (!b->gpu_warning.empty()) b->observers.OnNotice(LogLevel::kInfo, b->gpu_warning);
  return Status::Ok();
}

// --metrics-linger: the endpoint keeps serving the batch's final state, so
// that a scrape every 15 s still sees it; SIGINT/SIGTERM stop it sooner.
void LingerServingMetrics(Batch* b) {
  Millis linger = b->options.metrics_linger;
  if (linger.count() <= 0) return;
  if (b->options.verbosity != Verbosity::kQuiet) {
    std::fprintf(stderr, "headroom: serving the final metrics on %s for %s more (Ctrl-C stops)\n",
                 b->metrics_server->Url().c_str(),
                 FormatDuration(std::chrono::duration<double>(linger).count()).c_str());
  }
  auto deadline = std::chrono::steady_clock::now() + linger;
  for (auto now = std::chrono::steady_clock::now(); now < deadline;
       now = std::chrono::steady_clock::now()) {
    std::vector<ProcessExit> exits;
    int interrupt = 0;
    b->processes.Wait(std::chrono::ceil<Millis>(deadline - now), &exits, &interrupt);
    if (interrupt != 0) return;
  }
}

// After the scheduler: hooks finish, threads and leftover processes stop,
// the journal gets the batch's end, --report is written.
int FinishBatch(const BatchResult& result, Batch* b) {
  const Options& options = b->options;
  if (b->hook) b->hook->Finish(kHookGrace);  // before KillAll, which would kill the hooks
  b->monitor->Stop();
  b->processes.KillAll();
  int exit_code = result.ExitCode();
  // Failed jobs a resume did not run again have still failed.
  if (exit_code == 0 && b->reruns.failed_before > 0) exit_code = 1;
  if (b->recorder) {
    b->recorder->Finish(exit_code);
    if (!b->recorder->status().ok()) {
      Warn(fmt::format("{}; batch {} may not resume exactly", b->recorder->status().message(),
                       b->opened.id));
    }
  }
  // --report: the batch ran whatever happens here, so a report that cannot
  // be written is a warning and does not change the exit status.
  if (!options.report_json.empty()) {
    ReportFiles files;
    files.json = options.report_json;
    files.json_option = "--report";
    Status status = WriteReports(options.state_dir, b->opened.id, files, UnixNow());
    if (!status.ok()) Warn(status.message());
  }
  if (b->opened.resumed && options.verbosity != Verbosity::kQuiet) {
    std::string line = fmt::format("headroom: resumed batch {}: {} already done (counted as skipped)",
                                   b->opened.id, b->reruns.already_done);
    if (b->reruns.failed_before > 0) {
      line += fmt::format(", {} failed before and not run again (--resume-failed runs them)",
                          b->reruns.failed_before);
    }
    std::fprintf(stderr, "%s\n", line.c_str());  // headroom's own lines go to stderr
  }
  if (b->finish_hook) {
    BatchEnd end;
    end.batch = b->journal ? std::to_string(b->opened.id) : "";
    end.exit_code = exit_code;
    end.counts = result.counts;
    end.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - b->started).count();
    end.report = options.report_json;
    end.log_dir = options.log_dir;
    std::string warning = RunFinishHook(*b->finish_hook, end, b->log_dir->dir() + "/on-finish.log",
                                        &b->processes, kFinishHookBound);
    if (!warning.empty()) Warn(warning);
  }
  if (b->metrics_server) {
    LingerServingMetrics(b);
    b->metrics_server->Stop();
  }
  return exit_code;
}

// What earlier batches in this state dir learned of each class: where the
// footprint model starts (a second batch of a class packs from its first
// job, with no slow start and no repeated out-of-memory retries).
Status LoadPriors(Batch* b) {
  if (!b->journal) return Status::Ok();
  std::vector<FootprintRecord> rows;
  Status status = b->journal->RecentFootprints(FootprintModel::kDefaultWindow, &rows);
  for (FootprintRecord& row : rows) {
    b->config.priors.push_back({std::move(row.job_class), std::move(row.kind), row.input, row.value});
  }
  return status;
}

// A new batch keeps how it was started, for `headroom resume`
// (journal/invocation.h).
Status RecordInvocation(const Cli& cli, Batch* b) {
  const Options& options = b->options;
  Invocation invocation;
  invocation.args = cli.args;
  std::error_code error;
  invocation.cwd = std::filesystem::current_path(error).string();
  invocation.stdin_inputs = !options.has_arg_inputs && options.input_dir.empty() &&
                            options.jobs_file.empty() &&
                            (options.arg_files.empty() || options.arg_files.front() == "-");
  EventRecord event;
  event.t = UnixNow();
  event.kind = std::string(kInvocationEvent);
  event.text = InvocationJson(invocation);
  return b->journal->AddEvent(b->opened.id, event);
}

int RunBatch(const Cli& cli, Plan plan, const std::map<std::string, std::string>& resolved,
             const std::string& source) {
  Batch b(cli.options);
  FailureHookConfig hook;
  Status status = CheckSetup(plan, &b, &hook);
  if (status.ok()) status = OpenJournal(cli.effective, &plan, &b);
  if (!status.ok()) return Fail(status);
  if (b.journal && !b.opened.resumed) status = RecordInvocation(cli, &b);
  if (!status.ok()) return b.FailBatch(status);
  status = LoadPriors(&b);
  if (!status.ok()) return b.FailBatch(status);
  status = PrepareFiles(source, &b);
  if (!status.ok()) return b.FailBatch(status);
  AddObservers(std::move(hook), &b);
  status = StartRunnerAndMonitor(resolved, &b);
  if (!status.ok()) return b.FailBatch(status);
  SteadyClock clock;
  // On Slurm this machine's RAM, disk and GPUs are not the jobs': -j alone
  // gates what is submitted.
  Scheduler scheduler(b.config, b.runner.get(), &clock, &b.observers,
                      b.options.slurm ? nullptr : b.resources.get());
  if (b.journal) {
    b.control = std::make_unique<BatchControl>(b.options.state_dir, b.opened.id);
    scheduler.SetControl(b.control.get());
  }
  BatchResult result = scheduler.Run(plan);
  return FinishBatch(result, &b);
}

// Redraws in place on a terminal, like watch(1); elsewhere a blank line
// between snapshots of text.
void PrintSnapshot(const Options& options, bool first, std::string text) {
  if (options.watch && isatty(STDOUT_FILENO) == 1) {
    text = "\x1b[H\x1b[2J" + text;
  } else if (options.watch && !first && !options.json) {
    text = "\n" + text;
  }
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

// headroom gpus [--watch] [--json]: what the provider sees, once or every
// --monitor-interval until interrupted.
int ShowGpus(const Options& options) {
  ProcessSet processes;  // nvidia-smi runs as its child; it takes the interrupts too
  std::unique_ptr<GpuProvider> gpu;
  std::string warning;
  Status status = OpenGpuProvider(options.gpu_provider, options.gpu_sim, &processes, &gpu,
                                  &warning);
  if (!status.ok()) return Fail(status);
  if (!warning.empty()) Warn(warning);
  Monitor monitor(std::make_unique<SystemProbe>(), std::move(gpu), options.monitor_interval);
  for (bool first = true;; first = false) {
    monitor.SampleNow();
    Snapshot snapshot = monitor.Latest();
    std::map<pid_t, ProcessInfo> infos;
    for (const GpuDevice& device : snapshot.gpus) {
      for (const GpuProcess& p : device.processes) infos.emplace(p.pid, ReadProcessInfo(p.pid));
    }
    PrintSnapshot(options, first,
                  options.json ? FormatGpuJson(snapshot, infos) + "\n"
                               : FormatGpuTable(snapshot, infos));
    if (!options.watch) return 0;
    std::vector<ProcessExit> exits;
    int interrupt = 0;
    processes.Wait(options.monitor_interval, &exits, &interrupt);
    if (interrupt != 0) return 128 + interrupt;
  }
}

// headroom status [--batch ID] [--json] [--watch]: the batch as the journal
// has it, once or every second until interrupted (or stdout closes).
int ShowStatus(const Options& options) {
  for (bool first = true;; first = false) {
    std::string text;
    Status status = RenderStatus(options.state_dir, options.batch, options.json, UnixNow(), &text);
    if (!status.ok()) return Fail(status);
    PrintSnapshot(options, first, std::move(text));
    if (std::ferror(stdout) || !options.watch) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// headroom report [--batch ID] --json FILE --html FILE --trace FILE
int WriteReport(const Options& options) {
  ReportFiles files;
  files.json = options.report_json;
  files.html = options.report_html;
  files.trace = options.report_trace;
  Status status = WriteReports(options.state_dir, options.batch, files, UnixNow());
  return status.ok() ? 0 : Fail(status);
}

// headroom footprints [--json] [--forget CLASS | --all]: what batches in
// the state dir learned of each command, or forgetting it.
int ShowFootprints(const Options& options) {
  std::vector<FootprintClassView> view;
  Status status = LoadFootprintsView(options.state_dir, &view);
  if (!status.ok()) return Fail(status);
  if (options.forget.empty() && !options.forget_all) {
    std::string text = options.json ? FormatFootprintsJson(view) : FormatFootprintsText(view, UnixNow());
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  if (!options.forget.empty() && options.forget_all) {
    return Fail(Status::Error("--forget CLASS and --all: give one of them"));
  }
  std::vector<std::optional<std::string>> classes = {std::nullopt};  // --all
  if (!options.forget.empty()) {
    std::vector<std::string> found;
    status = FindFootprintClass(view, options.forget, &found);
    if (!status.ok()) return Fail(status);
    classes.assign(found.begin(), found.end());
  }
  if (view.empty()) {
    std::puts("nothing learned yet: nothing to forget");
    return 0;
  }
  std::unique_ptr<Journal> journal;
  status = Journal::Open(options.state_dir, &journal);
  for (const auto& job_class : classes) {
    int64_t classes_gone = 0;
    if (status.ok()) status = journal->ForgetFootprints(job_class, &classes_gone);
  }
  if (!status.ok()) return Fail(status);
  std::string what = options.forget_all ? fmt::format("{} class(es)", view.size())
                                        : Printable(options.forget);
  std::printf("forgot what was learned of %s\n", what.c_str());
  return 0;
}

// headroom ctl [--batch ID] drain|pause|continue|jobs N: exit 0 once the
// running headroom applied it, 1 when it is not running or did not.
int SteerBatch(const Options& options) {
  const std::string& word = options.ctl_action;
  ControlAction action = word == "drain"   ? ControlAction::kDrain
                         : word == "pause" ? ControlAction::kPause
                         : word == "jobs"  ? ControlAction::kJobs
                                           : ControlAction::kContinue;
  std::string message;
  Status status =
      SendControl(options.state_dir, options.batch, action, options.ctl_jobs, Millis(10000), &message);
  if (!status.ok()) {
    std::fprintf(stderr, "headroom: error: %s\n", status.message().c_str());
    return 1;
  }
  std::puts(message.c_str());
  return 0;
}

// headroom log [--batch ID] JOB|#N [--stderr] [-f]
int ShowJobLog(const Options& options) {
  JobLogRequest request{options.state_dir, options.batch, options.log_job, options.log_stderr,
                        options.follow};
  bool not_started = false;
  Status status = PrintJobLog(request, stdout, &not_started);
  if (!status.ok()) return Fail(status);
  if (!not_started) return 0;
  std::fprintf(stderr, "headroom: job %s has not started%s\n", Printable(options.log_job).c_str(),
               options.follow ? " and the batch is not running" : " yet (-f waits for it)");
  return 1;
}

// headroom resume [ID] [--failed]: becomes the `run --resume` that
// continues the batch; returns only when that cannot start.
int ResumeBatch(const Options& options) {
  ResumeCommand command;
  Status status = PlanResume(options.state_dir, options.batch, options.resume_failed, &command);
  if (!status.ok()) return Fail(status);
  std::vector<std::string> argv = {"headroom"};
  argv.insert(argv.end(), command.args.begin(), command.args.end());
  if (options.verbosity != Verbosity::kQuiet) {
    std::fprintf(stderr, "headroom: resuming batch %lld in %s: %s\n",
                 static_cast<long long>(command.batch), Printable(command.cwd).c_str(),
                 Printable(ShellJoin(argv)).c_str());
  }
  status = ReplaceProcess("/proc/self/exe", argv, command.cwd, command.stdin_data);
  return Fail(status);
}

int Main(int argc, char** argv) {
  // A closed stdout must not kill the runner while jobs run; children get
  // the default disposition back (ProcessSet).
  std::signal(SIGPIPE, SIG_IGN);

  Cli cli;
  Status status = ParseCli(std::vector<std::string>(argv, argv + argc), EnvironmentMap(), &cli);
  if (!status.ok()) return Fail(status);
  const Options& options = cli.options;
  switch (cli.command) {
    case Command::kPrint:
      std::fputs(cli.text.c_str(), stdout);
      return 0;
    case Command::kGpus:
      return ShowGpus(options);
    case Command::kStatus:
      return ShowStatus(options);
    case Command::kReport:
      return WriteReport(options);
    case Command::kFootprints:
      return ShowFootprints(options);
    case Command::kCtl:
      return SteerBatch(options);
    case Command::kLog:
      return ShowJobLog(options);
    case Command::kResume:
      return ResumeBatch(options);
    case Command::kSlurmExec:
      return RunSlurmUnit(options.slurm_spec, CurrentEnvironment(), NodeVramSampler());
    case Command::kRun:
    case Command::kList:
      break;
  }

  std::vector<RawInput> inputs;
  std::string source;
  status = LoadInputs(InputSpecOf(options), stdin, isatty(STDIN_FILENO) == 1, &inputs, &source);
  if (!status.ok()) return Fail(status);
  Plan plan;
  status = MakePlan(PlanConfigOf(options), std::move(inputs), static_cast<int>(getpid()), &plan);
  if (!status.ok()) return Fail(status);
  if (cli.command == Command::kList || options.dry_run) return ListPlan(options, std::move(plan));

  // Every program a job will run must exist before the first job starts: a
  // typo should cost nothing.
  std::map<std::string, std::string> resolved;
  if (!options.shell) status = ResolvePrograms(plan, PathVariable(), &resolved);
  if (!status.ok()) return Fail(status);
  return RunBatch(cli, std::move(plan), resolved, source);
}

}  // namespace
}  // namespace headroom

// No input may end in std::terminate: an exception that escaped every
// check is one line and exit 2 (the ProcessSet, unwound, has killed any job).
int main(int argc, char** argv) {
  try {
    return headroom::Main(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "headroom: error: %s\n", error.what());
    return 2;
  }
}

// headroom: wires one run together - options, inputs, plan, executor,
// scheduler and reporters - and turns the outcome into an exit code.
#include <sys/ioctl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli.h"
#include "exec/environment.h"
#include "exec/executable.h"
#include "exec/leftovers.h"
#include "exec/process_runner.h"
#include "exec/process_set.h"
#include "exec/worker_command.h"
#include "exec/worker_protocol.h"
#include "exec/worker_runner.h"
#include "jobs/job_key.h"
#include "jobs/output.h"
#include "jobs/placeholder.h"
#include "jobs/plan.h"
#include "jobs/sources.h"
#include "journal/journal.h"
#include "journal/resume.h"
#include "probe/gpu_providers.h"
#include "probe/gpu_table.h"
#include "probe/monitor.h"
#include "probe/monitor_source.h"
#include "probe/system_probe.h"
#include "report/console.h"
#include "report/event_log.h"
#include "report/failure_hook.h"
#include "report/journal_recorder.h"
#include "report/log_dir.h"
#include "report/metrics.h"
#include "report/metrics_server.h"
#include "report/report_writer.h"
#include "report/status_view.h"
#include "sched/oom_classifier.h"
#include "sched/scheduler.h"
#include "util/shell_quote.h"

extern char** environ;

namespace headroom {
namespace {

constexpr int kExitUsage = 2;
// How long --on-failure hooks may still run once the batch is over.
constexpr Millis kHookGrace{10000};

int Fail(const Status& status) {
  std::fprintf(stderr, "headroom: error: %s\n", status.message().c_str());
  return kExitUsage;
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

std::vector<std::string> EnvironmentList() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

// --dry-run and `list`: one pasteable command per line. {out} shows the
// final output path (the temp name is an implementation detail) and {%} the
// slot the job would get if jobs ran in turn.
// `list` / --dry-run: one pasteable line per process, as a first pass would
// start them. With --batch-size N, consecutive jobs that may share a process
// are grouped N at a time ({@} {@out} {results} are shown as they are: their
// files exist only while the batch runs); auto decides sizes while it runs,
// so its lines are per job. With --worker: the worker's command, then the
// request each job would send it.
void PrintCommands(const Options& options, const Plan& plan) {
  auto print = [](const std::string& line) {
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
  };
  size_t batch = options.batch_size > 1 ? static_cast<size_t>(options.batch_size) : 1;
  if (options.worker && !plan.to_run.empty()) {
    print("# worker: " + ShellJoin(ExpandWorkerCommand(plan.to_run.front().argv_template, 1, "",
                                                       options.shell)));
  }
  int64_t index = 0;
  for (size_t i = 0; i < plan.to_run.size();) {
    const Job& lead = plan.to_run[i];
    size_t end = i + 1;
    while (end < plan.to_run.size() && end - i < batch &&
           plan.to_run[end].argv_template == lead.argv_template && plan.to_run[end].env == lead.env) {
      ++end;
    }
    if (options.worker) {
      WorkerRequest request;
      request.id = lead.number;
      for (size_t j = i; j < end; ++j) {
        request.inputs.push_back(plan.to_run[j].input);
        request.outputs.push_back(plan.to_run[j].output);
      }
      std::string line = EncodeRequest(request);
      while (!line.empty() && line.back() == '\n') line.pop_back();
      print(line);
    } else {
      UnitValues values;
      for (size_t j = i; j < end; ++j) {
        values.inputs.push_back(plan.to_run[j].input);
        values.outs.push_back(plan.to_run[j].output);
      }
      values.number = lead.number;
      values.slot = static_cast<int>(index++ % options.jobs) + 1;
      values.inputs_file = "{@}";
      values.outputs_file = "{@out}";
      values.results_file = options.batch_results.empty() ? "" : "{results}";
      print(ShellJoin(ExpandUnitCommand(lead.argv_template, values, options.shell)));
    }
    i = end;
  }
}

// Every program a job will run must exist before the first job starts: a
// typo should cost nothing. Programs named by a placeholder are checked when
// their job starts.
Status ResolvePrograms(const Options& options, const Plan& plan,
                       std::map<std::string, std::string>* resolved) {
  if (options.shell) return Status::Ok();
  const char* path = std::getenv("PATH");
  std::set<std::string> seen;
  for (const Job& job : plan.to_run) {
    const std::string& program = job.argv_template.front();
    if (!seen.insert(program).second || HasPlaceholder(program)) continue;
    std::string found;
    Status status = ResolveExecutable(program, path ? path : "", &found);
    if (!status.ok()) return status;
    (*resolved)[program] = found;
  }
  return Status::Ok();
}

int TerminalWidth() {
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 100;
}

// What the options say about resources, as the scheduler takes it.
Status ResourceConfig(const Options& options, SchedulerConfig* config) {
  AdmissionConfig& admission = config->admission;
  admission.policy = options.policy;
  admission.max_memory_pct = options.max_memory_pct;
  admission.vram_high = options.vram_high;
  admission.vram_low = options.vram_low;
  admission.jobs_per_gpu = options.jobs_per_gpu;
  admission.temp_warm = options.temp_warm;
  admission.temp_limit = options.temp_limit;
  admission.min_free_disk = options.min_free_disk;
  admission.max_load = options.max_load;
  admission.use_gpus = options.gpus_all || !options.gpus.empty();
  if (!options.gpus_all) admission.allowed_gpus = options.gpus;
  config->gpu_mem = options.gpu_mem;
  config->ram_per_job = options.ram_per_job;
  config->oom.oom_retries = options.oom_retries;
  config->oom.retry_delay = options.retry_delay;
  config->oom.cpu_fallback = options.cpu_fallback;
  config->oom_exit_codes = options.oom_exit_codes;
  return CompileOomPatterns(options.oom_patterns, &config->oom_patterns);
}

// --on-failure: the hook's argv and program, found before anything runs (a
// typo should cost nothing here either).
Status HookConfig(const Options& options, FailureHookConfig* config) {
  Status status = HookCommand(options.on_failure, options.shell, &config->argv);
  if (status.ok()) {
    const char* path = std::getenv("PATH");
    status = ResolveExecutable(config->argv.front(), path ? path : "", &config->path);
  }
  config->env = EnvironmentList();
  return status.WithContext("--on-failure");
}

// The effective options as --print-config lists them, as JSON for the
// journal: the same command line parsed again with --print-config added.
std::string EffectiveOptionsJson(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  args.insert(args.begin() + 2, "--print-config");
  Cli cli;
  Status status = ParseCli(args, EnvironmentMap(), &cli);
  return status.ok() && cli.command == Command::kPrint ? OptionsJson(cli.text) : "{}";
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// --report FILE: the batch's JSON report, once the journal has its end. The
// batch ran whatever happens here, so a report that cannot be written is a
// warning and does not change the exit status.
void WriteRunReport(const Options& options, int64_t batch) {
  ReportFiles files;
  files.json = options.report_json;
  files.json_option = "--report";
  Status status = WriteReports(options.state_dir, batch, files, UnixNow());
  if (!status.ok()) std::fprintf(stderr, "headroom: warning: %s\n", status.message().c_str());
}

int RunBatch(const Options& options, Plan plan, const std::map<std::string, std::string>& resolved,
             const std::string& source, const std::string& options_json) {
  SchedulerConfig config;
  config.jobs = options.jobs;
  config.timeout = options.timeout;
  config.kill_grace = options.kill_grace;
  config.delay = options.delay;
  config.halt = options.halt;
  config.retry = RetryConfig{options.retries, options.retry_delay};
  config.batch.size = options.batch_size;
  config.workers = options.worker;
  Status status = ResourceConfig(options, &config);
  if (!status.ok()) return Fail(status);
  if (options.worker) {
    // A usage error: before the batch is journaled. A jobs-file "cmd" is a
    // worker's command too.
    status = CheckWorkerCommand(options.command);
    for (size_t i = 0; status.ok() && i < plan.to_run.size(); ++i) {
      const Job& job = plan.to_run[i];
      if (job.argv_template == options.command) continue;
      status = CheckWorkerCommand(job.argv_template)
                   .WithContext("--jobs-file: the \"cmd\" of job '" + job.name + "'");
    }
    if (!status.ok()) return Fail(status);
  }
  std::unique_ptr<GpuProvider> gpu;
  std::string gpu_warning;
  status = OpenGpuProvider(options.gpu_provider, options.gpu_sim, &gpu, &gpu_warning);
  if (!status.ok()) return Fail(status);
  FailureHookConfig hook_config;
  if (!options.on_failure.empty()) {
    status = HookConfig(options, &hook_config);
    if (!status.ok()) return Fail(status);
  }
  Metrics metrics;
  MetricsServer metrics_server([&metrics] { return metrics.Render(); });
  MetricsAddress metrics_address;
  if (!options.metrics_addr.empty()) {
    status = ParseMetricsAddress(options.metrics_addr, &metrics_address);
    if (!status.ok()) return Fail(status.WithContext("--metrics-addr"));
    status = metrics_server.Bind(metrics_address);
    if (!status.ok()) return Fail(status.WithContext("--metrics-addr " + options.metrics_addr));
  }
  // The journal before anything is created: a journal headroom cannot use,
  // or a batch another headroom runs, stops the run here (exit 2).
  // --no-journal: none at all.
  std::unique_ptr<Journal> journal;
  OpenedBatch batch;
  std::string leftovers_notice;
  // A resume first stops what a killed headroom left running of the batch.
  auto stop_leftovers = [&](int64_t id) {
    std::vector<pid_t> pids = FindTagged(BatchTag(options.state_dir, id));
    if (pids.empty()) return;
    StopProcesses(pids, options.kill_grace);
    leftovers_notice = fmt::format(
        "stopped {} process(es) of batch {} that a killed headroom left running", pids.size(), id);
  };
  if (!options.no_journal) {
    status = Journal::Open(options.state_dir, &journal);
    if (status.ok()) {
      status = OpenBatch(journal.get(), options, NewBatchRecord(options, options_json),
                         JobKeys(plan, options.command), &plan, &batch, stop_leftovers);
    }
    if (!status.ok()) return Fail(status);
  }
  // From here a failure to set up ends the batch in the journal with exit 2,
  // so that it does not look killed (and resumable) to `status`.
  auto fail_batch = [&](const Status& why) {
    if (journal) (void)journal->EndBatch(batch.id, UnixNow(), 2);
    return Fail(why);
  };

  if (!options.output_dir.empty()) {
    status = PrepareOutputDir(options.output_dir);
    if (!status.ok()) return fail_batch(status.WithContext("--output-dir"));
  }
  RemoveOldLogs(options.log_dir, options.log_retention_days);
  LogDir log_dir(options.log_dir, TimeStamp(std::time(nullptr)));
  status = log_dir.Create();
  if (!status.ok()) return fail_batch(status.WithContext("--log-dir"));

  EventLogConfig log_config;
  log_config.format = options.log_format;
  log_config.level = options.log_level;
  log_config.max_job_log = options.max_job_log;
  log_config.command = ShellJoin(options.command);
  log_config.source = source;
  EventLog event_log(log_config, log_dir);
  status = event_log.Open();
  if (!status.ok()) return fail_batch(status.WithContext("--log-dir"));

  ConsoleConfig console_config;
  console_config.tty = isatty(STDOUT_FILENO) == 1;
  console_config.verbosity = options.verbosity;
  console_config.output_dir = options.output_dir;
  console_config.width = console_config.tty ? TerminalWidth() : 100;
  Console console(console_config, stdout);

  ObserverList observers;
  observers.Add(&event_log);
  observers.Add(&console);
  if (!options.metrics_addr.empty()) observers.Add(&metrics);
  std::unique_ptr<FailureHook> hook;
  if (!options.on_failure.empty()) {
    hook = std::make_unique<FailureHook>(hook_config,
                                         [&observers](LogLevel level, const std::string& message) {
                                           observers.OnNotice(level, message);
                                         });
    observers.Add(hook.get());
  }
  // The journal's observer: each attempt is durable before it is spawned.
  std::unique_ptr<JournalRecorder> recorder;
  if (journal) {
    JournalRecorderConfig recorder_config;
    recorder_config.batch = batch.id;
    recorder_config.jobs = std::move(batch.jobs);
    recorder = std::make_unique<JournalRecorder>(std::move(recorder_config), journal.get(),
                                                 &log_dir, batch.launches.get());
    observers.Add(recorder.get());
  }
  if (!batch.notice.empty()) {
    observers.OnNotice(batch.notice_is_warning ? LogLevel::kWarn : LogLevel::kInfo, batch.notice);
  }
  if (!leftovers_notice.empty()) observers.OnNotice(LogLevel::kWarn, leftovers_notice);

  ProcessSet processes;  // from here on, SIGINT/SIGTERM are the scheduler's
  ProcessRunnerConfig runner_config;
  runner_config.shell = options.shell;
  runner_config.threads_per_job = options.threads_per_job;
  runner_config.env = options.env;
  runner_config.base_env = EnvironmentList();
  // Marks the batch's processes, so that a resume finds them if this
  // headroom is killed (exec/leftovers.h).
  if (journal) {
    SetVariable(kBatchTagVariable, BatchTag(options.state_dir, batch.id),
                &runner_config.base_env);
  }
  runner_config.resolved = resolved;
  runner_config.batch_results = options.batch_results;
  const char* path = std::getenv("PATH");
  runner_config.path_env = path ? path : "";
  std::unique_ptr<JobRunner> runner;
  if (options.worker) {
    runner = std::make_unique<WorkerRunner>(
        WorkerRunnerConfig{runner_config, options.jobs, options.kill_grace}, log_dir, &processes);
  } else {
    runner = std::make_unique<ProcessRunner>(runner_config, log_dir, &processes);
  }
  if (!options.metrics_addr.empty()) {
    metrics_server.Start();  // after the ProcessSet: its threads block the signals
    observers.OnNotice(LogLevel::kInfo, "metrics on " + metrics_server.Url());
    // Port 0 picked a port: this is the only place to learn which.
    if (metrics_address.port == 0) {
      std::fprintf(stderr, "headroom: metrics on %s\n", metrics_server.Url().c_str());
    }
  }

  // The monitor's thread starts after the ProcessSet, so that it inherits
  // the blocked signals.
  Monitor monitor(std::make_unique<SystemProbe>(), std::move(gpu), options.monitor_interval);
  monitor.SampleNow();
  MonitorSource resources(&monitor,
                          options.output_dir.empty() ? options.log_dir : options.output_dir);
  config.place_gpus = !monitor.Latest().gpus.empty() || !config.admission.use_gpus;
  monitor.Start();
  // Most batches need no GPU: say it in the log (and with -v), not on every run.
  if (!gpu_warning.empty()) observers.OnNotice(LogLevel::kInfo, gpu_warning);

  SteadyClock clock;
  Scheduler scheduler(config, runner.get(), &clock, &observers, &resources);
  BatchResult result = scheduler.Run(plan);
  if (hook) hook->Finish(kHookGrace);  // before KillAll, which would kill the hooks
  metrics_server.Stop();
  monitor.Stop();
  processes.KillAll();
  int exit_code = result.ExitCode();
  // Failed jobs a resume did not run again have still failed.
  if (exit_code == 0 && batch.failed_before > 0) exit_code = 1;
  if (recorder) {
    recorder->Finish(exit_code);
    if (!recorder->status().ok()) {
      std::fprintf(stderr, "headroom: warning: %s; batch %lld may not resume exactly\n",
                   recorder->status().message().c_str(), static_cast<long long>(batch.id));
    }
  }
  if (!options.report_json.empty()) WriteRunReport(options, batch.id);
  if (batch.resumed && options.verbosity != Verbosity::kQuiet) {
    std::string line = "headroom: resumed batch " + std::to_string(batch.id) + ": " +
                       std::to_string(batch.already_done) + " already done (counted as skipped)";
    if (batch.failed_before > 0) {
      line += ", " + std::to_string(batch.failed_before) +
              " failed before and not run again (--resume-failed runs them)";
    }
    std::fputs((line + "\n").c_str(), stdout);
  }
  return exit_code;
}

// headroom gpus [--watch] [--json]: what the provider sees, once or every
// --monitor-interval until interrupted.
int ShowGpus(const Options& options) {
  std::unique_ptr<GpuProvider> gpu;
  std::string warning;
  Status status = OpenGpuProvider(options.gpu_provider, options.gpu_sim, &gpu, &warning);
  if (!status.ok()) return Fail(status);
  if (!warning.empty()) std::fprintf(stderr, "headroom: warning: %s\n", warning.c_str());
  Monitor monitor(std::make_unique<SystemProbe>(), std::move(gpu), options.monitor_interval);
  for (bool first = true;; first = false) {
    monitor.SampleNow();
    Snapshot snapshot = monitor.Latest();
    std::string text = options.json ? FormatGpuJson(snapshot) + "\n" : FormatGpuTable(snapshot);
    // --watch on a terminal redraws in place, like watch(1).
    if (options.watch && isatty(STDOUT_FILENO) == 1)
      text = "\x1b[H\x1b[2J" + text;
    else if (options.watch && !first && !options.json)
      text = "\n" + text;
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    if (!options.watch) return 0;
    std::this_thread::sleep_for(options.monitor_interval);
  }
}

// headroom status [--batch ID] [--json] [--watch]: the batch as the journal
// has it, once or every second until interrupted (or stdout closes).
int ShowStatus(const Options& options) {
  for (bool first = true;; first = false) {
    std::string text;
    Status status = RenderStatus(options.state_dir, options.batch, options.json, UnixNow(), &text);
    if (!status.ok()) return Fail(status);
    // As `gpus --watch`: redrawn in place on a terminal.
    if (options.watch && isatty(STDOUT_FILENO) == 1) {
      text = "\x1b[H\x1b[2J" + text;
    } else if (options.watch && !first && !options.json) {
      text = "\n" + text;
    }
    std::fputs(text.c_str(), stdout);
    if (std::fflush(stdout) != 0 || !options.watch) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// headroom report [--batch ID] --json FILE --html FILE
int WriteReport(const Options& options) {
  ReportFiles files;
  files.json = options.report_json;
  files.html = options.report_html;
  Status status = WriteReports(options.state_dir, options.batch, files, UnixNow());
  return status.ok() ? 0 : Fail(status);
}

int Main(int argc, char** argv) {
  // A closed stdout must not kill the runner while jobs run; children get
  // the default disposition back (ProcessSet).
  std::signal(SIGPIPE, SIG_IGN);

  Cli cli;
  Status status = ParseCli(std::vector<std::string>(argv, argv + argc), EnvironmentMap(), &cli);
  if (!status.ok()) return Fail(status);
  if (cli.command == Command::kPrint) {
    std::fputs(cli.text.c_str(), stdout);
    return 0;
  }
  const Options& options = cli.options;
  if (cli.command == Command::kGpus) return ShowGpus(options);
  if (cli.command == Command::kStatus) return ShowStatus(options);
  if (cli.command == Command::kReport) return WriteReport(options);

  std::vector<RawInput> inputs;
  std::string source;
  status = LoadInputs(options, stdin, isatty(STDIN_FILENO) == 1, &inputs, &source);
  if (!status.ok()) return Fail(status);
  Plan plan;
  status = MakePlan(options, std::move(inputs), static_cast<int>(getpid()), &plan);
  if (!status.ok()) return Fail(status);

  if (cli.command == Command::kList || options.dry_run) {
    ApplyMaxCount(options, &plan);  // a resume would apply it after skipping done jobs
    PrintCommands(options, plan);
    return 0;
  }
  std::map<std::string, std::string> resolved;
  status = ResolvePrograms(options, plan, &resolved);
  if (!status.ok()) return Fail(status);
  return RunBatch(options, std::move(plan), resolved, source,
                  options.no_journal ? "{}" : EffectiveOptionsJson(argc, argv));
}

}  // namespace
}  // namespace headroom

int main(int argc, char** argv) { return headroom::Main(argc, argv); }

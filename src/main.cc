// headroom: wires one run together - options, inputs, plan, executor,
// scheduler and reporters - and turns the outcome into an exit code.
#include <sys/ioctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "exec/executable.h"
#include "exec/process_runner.h"
#include "exec/process_set.h"
#include "jobs/output.h"
#include "jobs/placeholder.h"
#include "jobs/plan.h"
#include "jobs/sources.h"
#include "report/console.h"
#include "report/event_log.h"
#include "report/log_dir.h"
#include "sched/scheduler.h"
#include "util/shell_quote.h"

extern char** environ;

namespace headroom {
namespace {

constexpr int kExitUsage = 2;

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
void PrintCommands(const Options& options, const Plan& plan) {
  int64_t index = 0;
  for (const Job& job : plan.to_run) {
    PlaceholderValues values;
    values.input = job.input;
    values.number = job.number;
    values.slot = static_cast<int>(index++ % options.jobs) + 1;
    values.out = job.output;
    std::string line = ShellJoin(ExpandCommand(job.argv_template, values, options.shell));
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
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

int RunBatch(const Options& options, const Plan& plan,
             const std::map<std::string, std::string>& resolved, const std::string& source) {
  if (!options.output_dir.empty()) {
    Status status = PrepareOutputDir(options.output_dir);
    if (!status.ok()) return Fail(status.WithContext("--output-dir"));
  }
  RemoveOldLogs(options.log_dir, options.log_retention_days);
  LogDir log_dir(options.log_dir, TimeStamp(std::time(nullptr)));
  Status status = log_dir.Create();
  if (!status.ok()) return Fail(status.WithContext("--log-dir"));

  EventLogConfig log_config;
  log_config.format = options.log_format;
  log_config.level = options.log_level;
  log_config.max_job_log = options.max_job_log;
  log_config.command = ShellJoin(options.command);
  log_config.source = source;
  EventLog event_log(log_config, log_dir);
  status = event_log.Open();
  if (!status.ok()) return Fail(status.WithContext("--log-dir"));

  ConsoleConfig console_config;
  console_config.tty = isatty(STDOUT_FILENO) == 1;
  console_config.verbosity = options.verbosity;
  console_config.output_dir = options.output_dir;
  console_config.width = console_config.tty ? TerminalWidth() : 100;
  Console console(console_config, stdout);

  ObserverList observers;
  observers.Add(&event_log);
  observers.Add(&console);

  ProcessSet processes;  // from here on, SIGINT/SIGTERM are the scheduler's
  ProcessRunnerConfig runner_config;
  runner_config.shell = options.shell;
  runner_config.threads_per_job = options.threads_per_job;
  runner_config.env = options.env;
  runner_config.base_env = EnvironmentList();
  runner_config.resolved = resolved;
  const char* path = std::getenv("PATH");
  runner_config.path_env = path ? path : "";
  ProcessRunner runner(runner_config, log_dir, &processes);

  SchedulerConfig config;
  config.jobs = options.jobs;
  config.timeout = options.timeout;
  config.kill_grace = options.kill_grace;
  config.delay = options.delay;
  config.halt = options.halt;
  config.retry = RetryConfig{options.retries, options.retry_delay};
  SteadyClock clock;
  Scheduler scheduler(config, &runner, &clock, &observers);
  BatchResult result = scheduler.Run(plan);
  processes.KillAll();
  return result.ExitCode();
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

  std::vector<RawInput> inputs;
  std::string source;
  status = LoadInputs(options, stdin, isatty(STDIN_FILENO) == 1, &inputs, &source);
  if (!status.ok()) return Fail(status);
  Plan plan;
  status = MakePlan(options, std::move(inputs), static_cast<int>(getpid()), &plan);
  if (!status.ok()) return Fail(status);

  if (cli.command == Command::kList || options.dry_run) {
    PrintCommands(options, plan);
    return 0;
  }
  std::map<std::string, std::string> resolved;
  status = ResolvePrograms(options, plan, &resolved);
  if (!status.ok()) return Fail(status);
  return RunBatch(options, plan, resolved, source);
}

}  // namespace
}  // namespace headroom

int main(int argc, char** argv) { return headroom::Main(argc, argv); }

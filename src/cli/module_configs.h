// Each module's own config struct, built from the parsed Options in this one
// place, so that no module below cli sees Options: main.cc calls these and
// hands each module only what it needs.
#pragma once

#include <string>
#include <vector>

#include "cli/options.h"
#include "exec/process_runner.h"
#include "exec/slurm_launcher.h"
#include "exec/worker_runner.h"
#include "jobs/plan.h"
#include "jobs/sources.h"
#include "journal/resume.h"
#include "report/console.h"
#include "report/event_log.h"
#include "sched/rerun_policy.h"
#include "sched/scheduler.h"
#include "util/status.h"

namespace headroom {

InputSpec InputSpecOf(const Options& options);
PlanConfig PlanConfigOf(const Options& options);
BatchChoice BatchChoiceOf(const Options& options);  // resume: --resume, --resume-failed or --batch
RerunConfig RerunConfigOf(const Options& options);

// Error: an --oom-pattern that is not a valid regex (the parser checked it
// already, so only in theory).
Status SchedulerConfigOf(const Options& options, SchedulerConfig* config);

// Without what only the running process knows: base_env, resolved, path_env.
ProcessRunnerConfig ProcessRunnerConfigOf(const Options& options);
WorkerRunnerConfig WorkerRunnerConfigOf(const Options& options, ProcessRunnerConfig process);
// Without what only the running process knows: self, cwd, dir, job_name.
// --slurm-extra was checked by the parser.
SlurmConfig SlurmConfigOf(const Options& options);

// `source` names where the inputs came from (LoadInputs).
EventLogConfig EventLogConfigOf(const Options& options, std::string source);
// `tty`: stdout is a terminal of `width` columns.
ConsoleConfig ConsoleConfigOf(const Options& options, bool tty, int width);

// The effective options (Cli::effective) as the journal stores them with a
// batch: {"jobs": {"value": "4", "source": "command line"}, ...}.
std::string OptionsJson(const std::vector<ConfigEntry>& effective);

}  // namespace headroom

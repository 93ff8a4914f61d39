#include "exec/process_runner.h"

#include <utility>

#include "exec/environment.h"
#include "exec/executable.h"
#include "jobs/output.h"
#include "jobs/placeholder.h"

namespace headroom {

namespace {

constexpr std::string_view kJobNumberVariable = "HEADROOM_JOB_NUMBER";
constexpr std::string_view kSlotVariable = "HEADROOM_SLOT";

}  // namespace

ProcessRunner::ProcessRunner(const ProcessRunnerConfig& config, const LogDir& log_dir,
                             ProcessSet* processes)
    : config_(config),
      log_dir_(log_dir),
      processes_(processes),
      env_(BaseJobEnvironment(config.base_env, config.threads_per_job, config.env)) {
  // Inherited when headroom runs inside a headroom job; each job gets its own.
  RemoveVariable(kJobNumberVariable, &env_);
  RemoveVariable(kSlotVariable, &env_);
}

Status ProcessRunner::ProgramPath(const Job& job, const std::string& arg0,
                                  std::string* path) const {
  if (config_.shell) {
    *path = "/bin/sh";
    return Status::Ok();
  }
  auto it = config_.resolved.find(job.argv_template.front());
  if (it != config_.resolved.end()) {
    *path = it->second;
    return Status::Ok();
  }
  // argv[0] came from a placeholder or a jobs-file "cmd": found only now.
  return ResolveExecutable(arg0, config_.path_env, path);
}

std::vector<std::string> ProcessRunner::JobEnvironment(const Job& job, int slot) const {
  std::vector<std::string> env;
  env.reserve(env_.size() + 2 + job.env.size());
  env = env_;
  env.push_back(std::string(kJobNumberVariable) + "=" + std::to_string(job.number));
  env.push_back(std::string(kSlotVariable) + "=" + std::to_string(slot));
  for (const EnvVar& var : job.env) SetVariable(var.name, var.value, &env);
  return env;
}

Status ProcessRunner::Start(const Job& job, int slot, int attempt, StartedJob* started) {
  if (job.argv_template.empty()) return Status::Error("job '" + job.name + "' has no command");
  PlaceholderValues values;
  values.input = job.input;
  values.number = job.number;
  values.slot = slot;
  values.out = job.temp_output;
  SpawnSpec spec;
  spec.argv = ExpandCommand(job.argv_template, values, config_.shell);
  Status status = ProgramPath(job, spec.argv.front(), &spec.path);
  if (!status.ok()) return status;
  spec.env = JobEnvironment(job, slot);
  spec.stdout_path = log_dir_.StdoutPath(job, attempt);
  spec.stderr_path = log_dir_.StderrPath(job, attempt);
  pid_t pid = 0;
  status = processes_->Spawn(spec, &pid);
  if (!status.ok()) return status;
  started->handle = pid;
  started->argv = std::move(spec.argv);
  started->stdout_log = std::move(spec.stdout_path);
  started->stderr_log = std::move(spec.stderr_path);
  return Status::Ok();
}

void ProcessRunner::Signal(RunHandle handle, int signal) {
  processes_->SignalGroup(static_cast<pid_t>(handle), signal);
}

WaitResult ProcessRunner::Wait(Millis timeout) {
  std::vector<ProcessExit> exits;
  WaitResult result;
  processes_->Wait(timeout, &exits, &result.interrupt);
  result.exited.reserve(exits.size());
  for (const ProcessExit& exit : exits) {
    Exited exited;
    exited.handle = exit.pid;
    exited.info.exit_code = exit.exit_code;
    exited.info.signal = exit.signal;
    exited.info.cpu_seconds = exit.cpu_seconds;
    exited.info.max_rss_kb = exit.max_rss_kb;
    result.exited.push_back(exited);
  }
  return result;
}

Status ProcessRunner::Complete(const Job& job, bool succeeded) {
  if (succeeded) return CommitOutput(job);
  DiscardOutput(job);
  return Status::Ok();
}

}  // namespace headroom

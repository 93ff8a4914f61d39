#include "exec/process_runner.h"

#include <cstdio>
#include <utility>

#include "exec/environment.h"
#include "exec/executable.h"
#include "jobs/output.h"
#include "jobs/placeholder.h"

namespace headroom {

namespace {

constexpr std::string_view kJobNumberVariable = "HEADROOM_JOB_NUMBER";
constexpr std::string_view kSlotVariable = "HEADROOM_SLOT";
constexpr size_t kStderrTailBytes = 8192;

// The last `max` bytes of the file at `path`; empty when unreadable.
std::string ReadTail(const std::string& path, size_t max) {
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) return "";
  std::string text;
  if (std::fseek(file, 0, SEEK_END) == 0) {
    long size = std::ftell(file);
    long from = size > static_cast<long>(max) ? size - static_cast<long>(max) : 0;
    if (size >= 0 && std::fseek(file, from, SEEK_SET) == 0) {
      text.resize(static_cast<size_t>(size - from));
      text.resize(std::fread(text.data(), 1, text.size(), file));
    }
  }
  std::fclose(file);
  return text;
}

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

std::vector<std::string> ProcessRunner::JobEnvironment(const Job& job,
                                                      const Launch& launch) const {
  std::vector<std::string> env;
  env.reserve(env_.size() + 3 + job.env.size());
  env = env_;
  env.push_back(std::string(kJobNumberVariable) + "=" + std::to_string(job.number));
  env.push_back(std::string(kSlotVariable) + "=" + std::to_string(launch.slot));
  // Placement is headroom's decision, but a job's own env may still say
  // otherwise: the user's word for one job wins.
  if (launch.gpu) SetVariable("CUDA_VISIBLE_DEVICES", *launch.gpu, &env);
  for (const EnvVar& var : job.env) SetVariable(var.name, var.value, &env);
  return env;
}

Status ProcessRunner::Start(const Job& job, const Launch& launch, StartedJob* started) {
  if (job.argv_template.empty()) return Status::Error("job '" + job.name + "' has no command");
  PlaceholderValues values;
  values.input = job.input;
  values.number = job.number;
  values.slot = launch.slot;
  values.out = job.temp_output;
  if (launch.gpu) values.gpu = *launch.gpu;
  SpawnSpec spec;
  spec.argv = ExpandCommand(job.argv_template, values, config_.shell);
  Status status = ProgramPath(job, spec.argv.front(), &spec.path);
  if (!status.ok()) return status;
  spec.env = JobEnvironment(job, launch);
  spec.stdout_path = log_dir_.StdoutPath(job, launch.attempt);
  spec.stderr_path = log_dir_.StderrPath(job, launch.attempt);
  pid_t pid = 0;
  status = processes_->Spawn(spec, &pid);
  if (!status.ok()) return status;
  started->handle = pid;
  started->pid = pid;
  stderr_logs_[pid] = spec.stderr_path;
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
    auto log = stderr_logs_.find(exit.pid);
    if (log != stderr_logs_.end()) {
      // Only failures are read: a batch of short successes must not pay a
      // file read per job.
      if (exit.exit_code != 0) exited.info.stderr_tail = ReadTail(log->second, kStderrTailBytes);
      stderr_logs_.erase(log);
    }
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

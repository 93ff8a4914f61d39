#include "exec/process_runner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "exec/environment.h"
#include "exec/executable.h"
#include "jobs/batch_results.h"
#include "jobs/output.h"
#include "jobs/placeholder.h"
#include "util/shell_quote.h"

namespace headroom {

namespace {

constexpr std::string_view kJobNumberVariable = "HEADROOM_JOB_NUMBER";
constexpr std::string_view kSlotVariable = "HEADROOM_SLOT";
// What `headroom gpus` names a job's processes by (probe/process_info.h).
constexpr std::string_view kJobInputVariable = "HEADROOM_JOB_INPUT";
constexpr std::string_view kBatchSizeVariable = "HEADROOM_BATCH_SIZE";
constexpr std::string_view kBatchResultsVariable = "HEADROOM_BATCH_RESULTS";
constexpr size_t kStderrTailBytes = 8192;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

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

// A file beside the unit's stdout log: "<log without .out><suffix>".
std::string BesideLog(const std::string& stdout_log, std::string_view suffix) {
  std::string_view base = stdout_log;
  if (base.ends_with(".out")) base.remove_suffix(4);
  return std::string(base) + std::string(suffix);
}

// Writes `lines`, each followed by '\n', to a new file at `path`.
Status WriteList(const std::string& path, const std::vector<std::string_view>& lines) {
  File file(std::fopen(path.c_str(), "we"));
  if (!file) return Status::Error("cannot write '" + path + "': " + std::strerror(errno));
  for (std::string_view line : lines) {
    std::fwrite(line.data(), 1, line.size(), file.get());
    std::fputc('\n', file.get());
  }
  if (std::fflush(file.get()) != 0 || std::ferror(file.get())) {
    return Status::Error("cannot write '" + path + "': " + std::strerror(errno));
  }
  return Status::Ok();
}

// A results file left by an earlier run or attempt must not be read as this
// attempt's.
Status RemoveStale(const std::string& path) {
  if (unlink(path.c_str()) == 0 || errno == ENOENT) return Status::Ok();
  return Status::Error("cannot remove old batch results '" + path + "': " + std::strerror(errno));
}

// Appends "headroom: <line>" lines to the unit's stderr log, after its own
// output: warnings about what it reported.
void AppendToLog(const std::string& path, const std::vector<std::string>& lines) {
  File file(std::fopen(path.c_str(), "ae"));
  if (!file) return;
  for (const std::string& line : lines) std::fprintf(file.get(), "headroom: %s\n", line.c_str());
}

std::vector<InputResult> ToInputResults(const std::vector<BatchInputResult>& results) {
  std::vector<InputResult> out;
  out.reserve(results.size());
  for (const BatchInputResult& result : results) {
    InputResult input;
    input.index = result.index;
    input.ok = result.ok;
    input.oom = result.oom;
    input.error = result.error;
    out.push_back(std::move(input));
  }
  return out;
}

// The template a launch runs: a CPU fallback's own command where the job
// has one.
const std::vector<std::string>& TemplateOf(const Job& job, const Launch& launch) {
  return launch.cpu_fallback && !job.cpu_argv_template.empty() ? job.cpu_argv_template
                                                               : job.argv_template;
}

// The unit's command: its lead's template expanded with every job's input
// and `outs`, on `launch`, with `files` for {@} {@out} {results}.
std::vector<std::string> UnitArgv(const Unit& unit, const Launch& launch,
                                  const std::vector<std::string_view>& outs,
                                  const ProcessRunner::ListFiles& files, bool shell) {
  const Job& lead = unit.lead();
  UnitValues values;
  values.inputs.reserve(unit.jobs.size());
  for (const Job* member : unit.jobs) values.inputs.push_back(member->input);
  values.outs = outs;
  values.number = lead.number;
  values.slot = launch.slot;
  if (launch.gpu) values.gpu = *launch.gpu;
  values.inputs_file = files.inputs;
  values.outputs_file = files.outputs;
  values.results_file = files.results;
  return ExpandUnitCommand(TemplateOf(lead, launch), values, shell);
}

}  // namespace

std::string ListedCommand(const Unit& unit, int slot, const ProcessRunnerConfig& config) {
  Launch launch;
  launch.slot = slot;
  std::vector<std::string_view> outs;
  for (const Job* member : unit.jobs) outs.push_back(member->output);
  ProcessRunner::ListFiles files{"{@}", "{@out}",
                                 config.batch_results.empty() ? "" : "{results}"};
  return ShellJoin(UnitArgv(unit, launch, outs, files, config.shell));
}

std::string UnitTag(const Unit& unit) {
  std::string numbers, inputs;
  for (const Job* job : unit.jobs) {
    if (!numbers.empty()) numbers += ',';
    numbers += std::to_string(job->number);
    inputs += '\n' + job->input;
  }
  return numbers + inputs;
}

std::vector<int64_t> UnitTagJobs(const std::string& tag) {
  std::vector<int64_t> numbers;
  std::string_view line(tag.data(), std::min(tag.find('\n'), tag.size()));
  while (!line.empty()) {
    numbers.push_back(std::strtoll(std::string(line).c_str(), nullptr, 10));
    size_t comma = line.find(',');
    line.remove_prefix(comma == std::string_view::npos ? line.size() : comma + 1);
  }
  return numbers;
}

ProcessRunner::ProcessRunner(const ProcessRunnerConfig& config, const LogDir& log_dir,
                             ProcessSet* processes)
    : ProcessRunner(config, log_dir, std::make_unique<LocalLauncher>(processes)) {}

ProcessRunner::ProcessRunner(const ProcessRunnerConfig& config, const LogDir& log_dir,
                             std::unique_ptr<Launcher> launcher)
    : config_(config),
      log_dir_(log_dir),
      launcher_(std::move(launcher)),
      env_(BaseJobEnvironment(config.base_env, config.threads_per_job, config.env)) {
  // Inherited when headroom runs inside a headroom job; each job gets its own.
  RemoveVariable(kJobNumberVariable, &env_);
  RemoveVariable(kSlotVariable, &env_);
  RemoveVariable(kJobInputVariable, &env_);
  RemoveVariable(kBatchSizeVariable, &env_);
  RemoveVariable(kBatchResultsVariable, &env_);
}

Status ProcessRunner::ProgramPath(const Job& job, const Launch& launch, const std::string& arg0,
                                  std::string* path) const {
  if (config_.shell) {
    *path = "/bin/sh";
    return Status::Ok();
  }
  auto it = config_.resolved.find(TemplateOf(job, launch).front());
  if (it != config_.resolved.end()) {
    *path = it->second;
    return Status::Ok();
  }
  // argv[0] came from a placeholder or a jobs-file "cmd": found only now.
  return ResolveExecutable(arg0, config_.path_env, path);
}

std::vector<std::string> ProcessRunner::UnitEnvironment(const Unit& unit, const Launch& launch,
                                                        const ListFiles& files) const {
  const Job& job = unit.lead();
  std::vector<std::string> env;
  env.reserve(env_.size() + 6 + job.env.size());
  env = env_;
  env.push_back(std::string(kJobNumberVariable) + "=" + std::to_string(job.number));
  env.push_back(std::string(kSlotVariable) + "=" + std::to_string(launch.slot));
  env.push_back(std::string(kJobInputVariable) + "=" + job.input);
  env.push_back(std::string(kBatchSizeVariable) + "=" + std::to_string(unit.jobs.size()));
  if (!files.results.empty()) {
    env.push_back(std::string(kBatchResultsVariable) + "=" + files.results);
  }
  // Placement is headroom's decision, but a job's own env may still say
  // otherwise: the user's word for one job wins.
  ApplyGpu(config_.gpu, launch.gpu, &env);
  for (const EnvVar& var : job.env) SetVariable(var.name, var.value, &env);
  return env;
}

Status ProcessRunner::PrepareFiles(const Unit& unit, const Launch& launch,
                                   const std::string& stdout_log, ListFiles* files) const {
  const Job& lead = unit.lead();
  Status status;
  if (UsesPlaceholder(lead.argv_template, "{@}")) {
    files->inputs = BesideLog(stdout_log, ".inputs");
    std::vector<std::string_view> inputs;
    for (const Job* job : unit.jobs) inputs.push_back(job->input);
    status = WriteList(files->inputs, inputs);
  }
  if (status.ok() && UsesPlaceholder(lead.argv_template, "{@out}")) {
    files->outputs = BesideLog(stdout_log, ".outputs");
    std::vector<std::string_view> outputs;
    for (const Job* job : unit.jobs) outputs.push_back(job->temp_output);
    status = WriteList(files->outputs, outputs);
  }
  if (status.ok() && !config_.batch_results.empty()) {
    PlaceholderValues values;
    values.input = lead.input;
    values.out = lead.temp_output;
    values.number = lead.number;
    values.slot = launch.slot;
    if (launch.gpu) values.gpu = *launch.gpu;
    files->results = ExpandArg(config_.batch_results, values, /*quote=*/false);
    status = RemoveStale(files->results);
  }
  return status;
}

Status ProcessRunner::Start(const Unit& unit, const Launch& launch, StartedJob* started) {
  const Job& job = unit.lead();
  if (job.argv_template.empty()) return Status::Error("job '" + job.name + "' has no command");
  LaunchTag tag;
  tag.unit = UnitTag(unit);
  AdoptedLaunch adopted;
  if (launcher_->Adopt(tag.unit, &adopted)) {
    Running& running = running_[adopted.handle];
    running.stdout_log = adopted.stdout_path;
    running.stderr_log = adopted.stderr_path;
    if (!adopted.tag.results.empty()) {
      running.results_path = adopted.tag.results;
      for (const Job* member : unit.jobs) running.inputs.push_back(member->input);
    }
    for (size_t i = 0; i < unit.jobs.size() && i < adopted.tag.temp_outputs.size(); ++i) {
      adopted_outputs_[unit.jobs[i]->number] = adopted.tag.temp_outputs[i];
    }
    started->handle = adopted.handle;
    started->pid = adopted.handle;
    started->argv = std::move(adopted.argv);
    started->stdout_log = std::move(adopted.stdout_path);
    started->stderr_log = std::move(adopted.stderr_path);
    started->adopted = true;
    started->ram = adopted.memory;
    return Status::Ok();
  }
  SpawnSpec spec;
  spec.stdout_path = log_dir_.StdoutPath(job, launch.attempt);
  spec.stderr_path = log_dir_.StderrPath(job, launch.attempt);
  ListFiles files;
  Status status = PrepareFiles(unit, launch, spec.stdout_path, &files);
  if (!status.ok()) return status;
  std::vector<std::string_view> outs;
  outs.reserve(unit.jobs.size());
  for (const Job* member : unit.jobs) outs.push_back(member->temp_output);
  spec.argv = UnitArgv(unit, launch, outs, files, config_.shell);
  status = ProgramPath(job, launch, spec.argv.front(), &spec.path);
  if (!status.ok()) return status;
  spec.env = UnitEnvironment(unit, launch, files);
  for (const Job* member : unit.jobs) {
    tag.temp_outputs.push_back(member->temp_output);
    // A job taken back from a killed headroom that runs again: what its
    // taken-back attempt left is not its output.
    auto adopted_output = adopted_outputs_.find(member->number);
    if (adopted_output != adopted_outputs_.end()) {
      if (!adopted_output->second.empty()) std::remove(adopted_output->second.c_str());
      adopted_outputs_.erase(adopted_output);
    }
  }
  tag.results = files.results;
  pid_t pid = 0;
  status = launcher_->Launch(spec, launch.ram, tag, &pid);
  if (!status.ok()) return status;
  started->handle = pid;
  started->pid = pid;
  Running& running = running_[pid];
  running.stdout_log = spec.stdout_path;
  running.stderr_log = spec.stderr_path;
  if (!files.results.empty()) {
    running.results_path = std::move(files.results);
    for (const Job* member : unit.jobs) running.inputs.push_back(member->input);
  }
  started->argv = std::move(spec.argv);
  started->stdout_log = std::move(spec.stdout_path);
  started->stderr_log = std::move(spec.stderr_path);
  return Status::Ok();
}

void ProcessRunner::Signal(RunHandle handle, int signal) {
  launcher_->Signal(static_cast<pid_t>(handle), signal);
}

WaitResult ProcessRunner::Wait(Millis timeout) {
  std::vector<ProcessExit> exits;
  WaitResult result;
  launcher_->Wait(timeout, &exits, &result.interrupt);
  if (launcher_->Places()) {
    for (const auto& [handle, unit] : running_) {
      std::string where = launcher_->Where(handle);
      std::string& last = where_[handle];
      if (where.empty() || where == last) continue;
      last = where;
      result.placed.emplace_back(handle, where);
    }
    for (const ProcessExit& exit : exits) where_.erase(exit.pid);
  }
  result.exited.reserve(exits.size());
  for (const ProcessExit& exit : exits) {
    Exited exited;
    exited.handle = exit.pid;
    exited.info.exit_code = exit.exit_code;
    exited.info.signal = exit.signal;
    exited.info.cpu_seconds = exit.cpu_seconds;
    exited.info.max_rss_kb = exit.max_rss_kb;
    exited.info.reported_oom = exit.oom_reported;
    exited.info.peak_vram = exit.peak_vram;
    auto running = running_.find(exit.pid);
    if (running != running_.end()) {
      // The launcher's word on the end goes in the log, where its tail is read.
      if (!exit.note.empty()) AppendToLog(running->second.stderr_log, {exit.note});
      // Only failures are read: a batch of short successes must not pay a
      // file read per job.
      if (exit.exit_code != 0) {
        exited.info.stderr_tail = ReadTail(running->second.stderr_log, kStderrTailBytes);
      }
      if (!running->second.results_path.empty()) ReadResults(running->second, &exited.info);
      if (exit.exit_code == 0) {
        RemoveIfEmpty(running->second.stdout_log);
        RemoveIfEmpty(running->second.stderr_log);
      }
      running_.erase(running);
    }
    result.exited.push_back(exited);
  }
  return result;
}

// Warnings go to the unit's stderr log (after its tail was taken, so that
// they never look like the program's own last words).
void ProcessRunner::ReadResults(const Running& running, ExitInfo* info) {
  const std::string& path = running.results_path;
  std::vector<std::string_view> inputs(running.inputs.begin(), running.inputs.end());
  ParsedBatchResults parsed;
  bool missing = false;
  Status status = ReadBatchResults(path, inputs, &parsed, &missing);
  if (!status.ok()) {
    std::string why = missing ? "the program wrote no batch results '" + path +
                                    "'; each input takes the exit status"
                              : status.message();
    AppendToLog(running.stderr_log, {why});
    return;
  }
  info->results = ToInputResults(parsed.results);
  for (std::string& warning : parsed.warnings) {
    warning = "batch results '" + path + "' " + warning;
  }
  AppendToLog(running.stderr_log, parsed.warnings);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    AppendToLog(running.stderr_log,
                {"cannot remove batch results '" + path + "': " + std::strerror(errno)});
  }
}

// A success's empty log is not kept: 100,000 quiet jobs would otherwise
// leave 200,000 empty files. A failure's logs stay, so that "log: PATH"
// always names a file. Relative to the logs' directory, opened once: the
// dispatch of short jobs pays for every path lookup.
void ProcessRunner::RemoveIfEmpty(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return;
  std::string_view dir(path.data(), slash);
  if (dir != log_dir_path_) {
    if (log_dir_fd_ >= 0) close(log_dir_fd_);
    log_dir_path_ = std::string(dir);
    log_dir_fd_ = open(log_dir_path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  if (log_dir_fd_ < 0) return;
  const char* name = path.c_str() + slash + 1;
  struct stat info {};
  if (fstatat(log_dir_fd_, name, &info, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(info.st_mode) &&
      info.st_size == 0) {
    unlinkat(log_dir_fd_, name, 0);
  }
}

ProcessRunner::~ProcessRunner() {
  if (log_dir_fd_ >= 0) close(log_dir_fd_);
}

Status ProcessRunner::Complete(const Job& job, bool succeeded) {
  auto adopted = adopted_outputs_.find(job.number);
  if (adopted != adopted_outputs_.end()) {
    // Its process writes where the killed headroom told it to.
    Job was = job;
    was.temp_output = std::move(adopted->second);
    adopted_outputs_.erase(adopted);
    return Complete(was, succeeded);
  }
  if (succeeded) return CommitOutput(job, UsesOutput(job.argv_template));
  DiscardOutput(job);
  return Status::Ok();
}

std::vector<std::vector<int64_t>> ProcessRunner::Leftovers() const {
  std::vector<std::vector<int64_t>> units;
  for (const std::string& tag : launcher_->Leftovers()) units.push_back(UnitTagJobs(tag));
  return units;
}

void ProcessRunner::DropLeftovers() {
  for (const LaunchTag& tag : launcher_->DropLeftovers()) {
    for (const std::string& output : tag.temp_outputs) {
      if (!output.empty()) std::remove(output.c_str());
    }
  }
}

}  // namespace headroom

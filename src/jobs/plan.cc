#include "jobs/plan.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "jobs/output.h"
#include "jobs/placeholder.h"

namespace headroom {
namespace {

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// "out/" and "out" name one directory; keep "/" as it is.
std::string TrimTrailingSlashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

// True when the command of any job uses the placeholder `name`.
bool AnyCommandUses(const PlanConfig& config, const std::vector<RawInput>& inputs,
                    std::string_view name) {
  if (UsesPlaceholder(config.command, name)) return true;
  for (const RawInput& input : inputs) {
    if (UsesPlaceholder(input.cmd, name)) return true;
  }
  return false;
}

// --batch-results names one file per unit; units that run at once must not
// share it, or one would read another's results.
Status CheckBatchResults(const PlanConfig& config, const std::vector<RawInput>& inputs) {
  const std::string& results = config.batch_results;
  if (results.empty()) {
    if (AnyCommandUses(config, inputs, "{results}")) {
      return Status::Error("{results} is used in the command but --batch-results is not given");
    }
    return Status::Ok();
  }
  bool per_unit = UsesPlaceholder({results}, "{#}") || UsesPlaceholder({results}, "{%}");
  if (config.slots > 1 && !per_unit) {
    return Status::Error("--batch-results " + Quoted(results) +
                         " would be shared by batches running at once: put {#} or {%} in it");
  }
  return Status::Ok();
}

// --shell quotes each value for the shell; inside "..." that quoting is
// plain text and $(...) in an input would run: refused, with the fix.
Status CheckShellQuoting(const PlanConfig& config, const std::vector<RawInput>& inputs) {
  std::string found = PlaceholderInDoubleQuotes(config.command);
  for (size_t i = 0; found.empty() && i < inputs.size(); ++i) {
    found = PlaceholderInDoubleQuotes(inputs[i].cmd);
  }
  if (found.empty()) return Status::Ok();
  return Status::Error("--shell: " + found +
                       " stands inside double quotes, where the quoting headroom gives its value "
                       "does not hold ($(...) in an input would run); drop the quotes around it: "
                       "headroom quotes each value");
}

Status CheckOptions(const PlanConfig& config, const std::vector<RawInput>& inputs) {
  if (config.output_dir.empty()) {
    if (config.skip_existing) {
      return Status::Error("--skip-existing needs --output-dir (the outputs it looks for)");
    }
    bool uses_out = UsesOutput(config.command);
    for (const RawInput& input : inputs) uses_out = uses_out || UsesOutput(input.cmd);
    if (uses_out) {
      std::string_view name = AnyCommandUses(config, inputs, "{out}") ? "{out}" : "{@out}";
      return Status::Error(std::string(name) +
                           " is used in the command but --output-dir is not given");
    }
  }
  std::string unsupported = UnsupportedParallelPlaceholder(config.command);
  for (size_t i = 0; unsupported.empty() && i < inputs.size(); ++i) {
    unsupported = UnsupportedParallelPlaceholder(inputs[i].cmd);
  }
  if (!unsupported.empty()) return Status::Error(unsupported);
  Status status = CheckBatchResults(config, inputs);
  if (!status.ok()) return status;
  if (config.shell) status = CheckShellQuoting(config, inputs);
  if (!status.ok()) return status;
  for (const RawInput& input : inputs) {
    if (input.cmd.empty() && config.command.empty()) {
      return Status::Error("no command for input " + Quoted(input.input) +
                           ": give COMMAND after -- or a 'cmd' in the jobs file");
    }
  }
  return Status::Ok();
}

// A name that would leave the output directory or name the directory itself
// is an error rather than something to repair: the user's template is wrong.
bool IsPlainFileName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
}

Status AssignOutput(const PlanConfig& config, const std::string& dir, int pid, Job* job) {
  PlaceholderValues values;
  values.input = job->input;
  values.number = job->number;
  std::string name = ExpandArg(config.output_name, values, /*quote=*/false);
  if (!IsPlainFileName(name)) {
    return Status::Error("--output-name " + Quoted(config.output_name) + " gives " + Quoted(name) +
                         " for input " + Quoted(job->input) + "; expected a file name without '/'");
  }
  job->output = dir + "/" + name;
  job->temp_output = TempOutputPath(job->output, pid, job->number);
  return Status::Ok();
}

Status CheckCollisions(const std::vector<Job>& jobs) {
  std::unordered_map<std::string_view, const Job*> owner;
  owner.reserve(jobs.size());
  for (const Job& job : jobs) {
    auto [it, inserted] = owner.emplace(job.output, &job);
    if (!inserted) {
      return Status::Error("inputs " + Quoted(it->second->input) + " and " + Quoted(job.input) +
                           " both map to output " + Quoted(job.output) +
                           "; use --output-name to tell them apart");
    }
  }
  return Status::Ok();
}

using FileId = std::pair<dev_t, ino_t>;

// Outputs are renamed over whatever is at their path, so an output that is
// some job's input (the same file, however it is spelled) would destroy it.
// Inputs are stat'ed only when some output already exists: the common fresh
// output directory costs one stat per job.
Status CheckOverwrites(const std::vector<Job>& jobs) {
  std::map<FileId, const Job*> existing_outputs;
  struct stat st;
  for (const Job& job : jobs) {
    if (stat(job.output.c_str(), &st) == 0) existing_outputs[{st.st_dev, st.st_ino}] = &job;
  }
  if (existing_outputs.empty()) return Status::Ok();
  for (const Job& job : jobs) {
    if (stat(job.input.c_str(), &st) != 0) continue;
    auto it = existing_outputs.find({st.st_dev, st.st_ino});
    if (it == existing_outputs.end()) continue;
    const Job& writer = *it->second;
    if (&writer == &job) {
      return Status::Error("output " + Quoted(job.output) + " would overwrite its input " +
                           Quoted(job.input) + "; choose another --output-dir or --output-name");
    }
    return Status::Error("output " + Quoted(writer.output) + " of input " + Quoted(writer.input) +
                         " would overwrite input " + Quoted(job.input));
  }
  return Status::Ok();
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

Job MakeJob(const PlanConfig& config, RawInput&& raw, const InputStat& stat, int64_t number) {
  Job job;
  job.number = number;
  job.input = std::move(raw.input);
  job.name = raw.name.empty() ? job.input : std::move(raw.name);
  if (raw.cmd.empty()) {
    job.argv_template = config.command;
  } else {
    job.argv_template = std::move(raw.cmd);
  }
  job.cpu_argv_template = raw.cpu_cmd.empty() ? config.cpu_command : std::move(raw.cpu_cmd);
  job.priority = raw.priority;
  job.env = std::move(raw.env);
  job.gpu_mem = raw.gpu_mem;
  job.ram = raw.ram;
  job.input_bytes = stat.regular ? stat.bytes : 0;
  return job;
}

}  // namespace

Status MakePlan(const PlanConfig& config, std::vector<RawInput> inputs, int pid, Plan* plan) {
  Status status = CheckOptions(config, inputs);
  if (!status.ok()) return status;
  // One stat per input serves both --order mtime/size and input_bytes.
  std::vector<InputStat> stats = StatInputs(inputs);
  OrderInputs(config.order, &inputs, &stats);
  std::vector<Job> jobs;
  jobs.reserve(inputs.size());
  const std::string dir = TrimTrailingSlashes(config.output_dir);
  for (size_t i = 0; i < inputs.size(); ++i) {
    // Numbered before skipping and --max-count so that {#} of a job does not
    // change between a first run and a resumed one.
    jobs.push_back(MakeJob(config, std::move(inputs[i]), stats[i], static_cast<int64_t>(i) + 1));
    if (!dir.empty()) status = AssignOutput(config, dir, pid, &jobs.back());
    if (!status.ok()) return status;
  }
  if (!dir.empty()) {
    status = CheckCollisions(jobs);
    if (status.ok()) status = CheckOverwrites(jobs);
    if (!status.ok()) return status;
  }
  if (!config.skip_existing) {
    plan->to_run = std::move(jobs);  // no copy: a Job is ~250 bytes, batches are 10^4..10^6
  } else {
    std::vector<bool> skip(jobs.size());
    size_t skipped = 0;
    for (size_t i = 0; i < jobs.size(); ++i) skipped += skip[i] = Exists(jobs[i].output);
    plan->to_run.reserve(jobs.size() - skipped);
    plan->skipped.reserve(skipped);
    for (size_t i = 0; i < jobs.size(); ++i) {
      (skip[i] ? plan->skipped : plan->to_run).push_back(std::move(jobs[i]));
    }
  }
  return Status::Ok();
}

void ApplyMaxCount(std::optional<int64_t> max_count, Plan* plan) {
  if (max_count && static_cast<int64_t>(plan->to_run.size()) > *max_count) {
    plan->to_run.resize(static_cast<size_t>(std::max<int64_t>(0, *max_count)));
  }
}

}  // namespace headroom

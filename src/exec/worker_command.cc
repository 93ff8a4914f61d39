#include "exec/worker_command.h"

#include <string_view>

#include "jobs/placeholder.h"

namespace headroom {

namespace {

// `arg` with each {%} and {gpu} replaced by a byte no placeholder holds, so
// that what is left has a placeholder only if `arg` has a per-job one. (No
// placeholder word holds another's '{', so this cannot make or break one.)
std::string WithoutWorkerPlaceholders(std::string_view arg) {
  std::string rest;
  rest.reserve(arg.size());
  while (!arg.empty()) {
    size_t skip = arg.starts_with("{%}") ? 3 : arg.starts_with("{gpu}") ? 5 : 0;
    if (skip > 0) {
      rest.push_back('\x01');
    } else {
      rest.push_back(arg.front());
      skip = 1;
    }
    arg.remove_prefix(skip);
  }
  return rest;
}

}  // namespace

Status CheckWorkerCommand(const std::vector<std::string>& argv_template) {
  for (const std::string& arg : argv_template) {
    if (HasPlaceholder(WithoutWorkerPlaceholders(arg))) {
      return Status::Error("--worker: '" + arg +
                           "' uses a per-job placeholder; a worker gets inputs and outputs in "
                           "its requests (only {%} and {gpu} may appear in its command)");
    }
  }
  return Status::Ok();
}

std::vector<std::string> ExpandWorkerCommand(const std::vector<std::string>& argv_template,
                                             int slot, const std::string& gpu, bool shell) {
  PlaceholderValues values;
  values.slot = slot;
  values.gpu = gpu;
  std::vector<std::string> argv;
  argv.reserve(argv_template.size());
  for (const std::string& arg : argv_template) argv.push_back(ExpandArg(arg, values, shell));
  if (!shell) return argv;
  std::string script;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i > 0) script.push_back(' ');
    script += argv[i];
  }
  return {"/bin/sh", "-c", std::move(script)};
}

Status CheckWorkerCommands(const std::vector<std::string>& command, const Plan& plan) {
  Status status = CheckWorkerCommand(command);
  for (size_t i = 0; status.ok() && i < plan.to_run.size(); ++i) {
    const Job& job = plan.to_run[i];
    if (job.argv_template == command) continue;
    status = CheckWorkerCommand(job.argv_template)
                 .WithContext("--jobs-file: the \"cmd\" of job '" + job.name + "'");
  }
  return status;
}

}  // namespace headroom

#include "jobs/job_key.h"

#include <algorithm>
#include <unordered_map>

#include "util/shell_quote.h"

namespace headroom {

std::string JobKey(const Job& job, const std::vector<std::string>& command) {
  std::string key = job.input;
  if (job.name != job.input) key += "\x1fname:" + job.name;
  if (job.argv_template != command)
    key +=
        "\x1f"
        "cmd:" +
        ShellJoin(job.argv_template);
  return key;
}

std::map<int64_t, std::string> JobKeys(const Plan& plan, const std::vector<std::string>& command) {
  std::vector<const Job*> jobs;
  jobs.reserve(plan.to_run.size() + plan.skipped.size());
  for (const Job& job : plan.to_run) jobs.push_back(&job);
  for (const Job& job : plan.skipped) jobs.push_back(&job);
  // Number order, so that which duplicate is "#2" does not depend on which
  // of them --skip-existing skipped.
  std::sort(jobs.begin(), jobs.end(),
            [](const Job* a, const Job* b) { return a->number < b->number; });
  std::map<int64_t, std::string> keys;
  std::unordered_map<std::string, int> seen;
  for (const Job* job : jobs) {
    std::string key = JobKey(*job, command);
    int count = ++seen[key];
    if (count > 1) key += "\x1f#" + std::to_string(count);
    keys.emplace(job->number, std::move(key));
  }
  return keys;
}

std::string InputSourceText(const InputSpec& spec) {
  if (spec.has_arg_inputs) return "::: arguments";
  if (!spec.input_dir.empty()) {
    std::string text = "--input-dir " + ShellQuote(spec.input_dir);
    if (!spec.exts.empty()) {
      // --ext mp4,mkv and --ext mkv,mp4 select the same files.
      std::vector<std::string> sorted = spec.exts;
      std::sort(sorted.begin(), sorted.end());
      std::string exts;
      for (const std::string& ext : sorted) exts += (exts.empty() ? "" : ",") + ext;
      text += " --ext " + ShellQuote(exts);
    }
    if (spec.recursive) text += " --recursive";
    return text;
  }
  if (!spec.jobs_file.empty()) return "--jobs-file " + ShellQuote(spec.jobs_file);
  return "stdin";
}

}  // namespace headroom

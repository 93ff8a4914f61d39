#include "cli/module_configs.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <utility>

#include "util/shell_quote.h"

namespace headroom {

InputSpec InputSpecOf(const Options& options) {
  InputSpec spec;
  spec.has_arg_inputs = options.has_arg_inputs;
  spec.arg_inputs = options.arg_inputs;
  spec.input_dir = options.input_dir;
  spec.exts = options.exts;
  spec.recursive = options.recursive;
  spec.jobs_file = options.jobs_file;
  spec.arg_files = options.arg_files;
  spec.null_separated = options.null_separated;
  return spec;
}

PlanConfig PlanConfigOf(const Options& options) {
  PlanConfig config;
  config.command = options.command;
  config.order = options.order;
  config.output_dir = options.output_dir;
  config.output_name = options.output_name;
  config.skip_existing = options.skip_existing;
  config.batch_results = options.batch_results;
  config.slots = options.jobs;
  config.shell = options.shell;
  // --shell: the CPU command is a script too; else its words, as checked
  // when the option was read.
  std::string error;
  if (options.shell && !options.cpu_command.empty()) {
    config.cpu_command = {options.cpu_command};
  } else if (!SplitShellWords(options.cpu_command, &config.cpu_command, &error)) {
    config.cpu_command.clear();
  }
  return config;
}

BatchChoice BatchChoiceOf(const Options& options) {
  BatchChoice choice;
  choice.state_dir = options.state_dir;
  choice.resume = options.resume || options.resume_failed || options.batch.has_value();
  choice.batch = options.batch;
  return choice;
}

RerunConfig RerunConfigOf(const Options& options) {
  RerunConfig config;
  config.resume_failed = options.resume_failed;
  config.max_count = options.max_count;
  return config;
}

Status SchedulerConfigOf(const Options& options, SchedulerConfig* config) {
  config->jobs = options.jobs;
  config->memory_requests.on = options.slurm;
  config->timeout = options.timeout;
  config->gate_timeout = options.gate_timeout;
  config->kill_grace = options.kill_grace;
  config->delay = options.delay;
  config->cooldown = options.cooldown;
  config->halt = options.halt;
  config->retry = RetryConfig{options.retries, options.retry_delay};
  config->batch.size = options.batch_size;
  config->workers = options.worker;
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
  config->oom.cpu_fallback = options.cpu_fallback || !options.cpu_command.empty();
  config->oom_exit_codes = options.oom_exit_codes;
  return CompileOomPatterns(options.oom_patterns, &config->oom_patterns);
}

ProcessRunnerConfig ProcessRunnerConfigOf(const Options& options) {
  ProcessRunnerConfig config;
  config.shell = options.shell;
  config.threads_per_job = options.threads_per_job;
  config.env = options.env;
  config.batch_results = options.batch_results;
  return config;
}

WorkerRunnerConfig WorkerRunnerConfigOf(const Options& options, ProcessRunnerConfig process) {
  return WorkerRunnerConfig{std::move(process), options.kill_grace};
}

EventLogConfig EventLogConfigOf(const Options& options, std::string source) {
  EventLogConfig config;
  config.format = options.log_format;
  config.level = options.log_level;
  config.max_job_log = options.max_job_log;
  config.command = ShellJoin(options.command);
  config.source = std::move(source);
  return config;
}

ConsoleConfig ConsoleConfigOf(const Options& options, bool tty, int width) {
  ConsoleConfig config;
  config.tty = tty;
  // A worker's stdout is its protocol: its requests' output is in its log.
  config.job_output = !options.no_job_output && !options.worker;
  config.tag = options.tag;
  config.keep_order = options.keep_order;
  config.line_buffer = options.line_buffer;
  config.stderr_pass = options.stderr_pass && !options.worker;
  config.verbosity = options.verbosity;
  config.output_dir = options.output_dir;
  config.width = width;
  config.color = UseColor(options.color, tty, std::getenv("NO_COLOR"), std::getenv("TERM"));
  return config;
}

SlurmConfig SlurmConfigOf(const Options& options) {
  SlurmConfig config;
  config.partition = options.slurm_partition;
  config.account = options.slurm_account;
  config.time = options.slurm_time;
  config.gpus_per_job = options.gpus_per_job;
  config.cpus_per_job = options.cpus_per_job;
  config.mem = options.ram_per_job;
  config.poll = options.slurm_poll;
  config.arrays = options.slurm_array;
  std::string error;
  (void)SplitShellWords(options.slurm_extra, &config.extra, &error);
  return config;
}

std::string OptionsJson(const std::vector<ConfigEntry>& effective) {
  nlohmann::ordered_json options = nlohmann::ordered_json::object();
  for (const ConfigEntry& entry : effective) {
    options[entry.name] = {{"value", entry.value}, {"source", entry.source}};
  }
  // Values are bytes as given; invalid UTF-8 must not make dump() throw.
  return options.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace headroom

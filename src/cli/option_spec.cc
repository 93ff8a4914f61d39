#include "cli/option_spec.h"

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "cli/option_values.h"
#include "util/units.h"

namespace headroom {
namespace {

using Words = std::vector<std::string>;

const std::string& Last(const Words& words) {
  static const std::string kEmpty;
  return words.empty() ? kEmpty : words.back();
}

Status NotEmpty(const std::string& text, std::string_view expected) {
  if (!text.empty()) return Status::Ok();
  return Status::Error(fmt::format("an empty value is not allowed (expected {})", expected));
}

Status ApplyInt(const Words& words, int64_t max, int* field) {
  int64_t value = 0;
  Status status = ParseInteger(Last(words), 0, max, &value);
  if (status.ok()) *field = static_cast<int>(value);
  return status;
}

Status ApplyIntRange(const Words& words, int64_t min, int64_t max, int* field) {
  int64_t value = 0;
  Status status = ParseInteger(Last(words), min, max, &value);
  if (status.ok()) *field = static_cast<int>(value);
  return status;
}

Status ApplyDuration(const Words& words, Millis* field) {
  return ParseDuration(Last(words), field);
}

// A limit in time: a duration, or "none" (or 0) for no limit.
Status ApplyOptionalDuration(const Words& words, std::optional<Millis>* field) {
  if (Last(words) == "none") {
    field->reset();
    return Status::Ok();
  }
  Millis duration{0};
  Status status = ParseDuration(Last(words), &duration);
  if (!status.ok()) return status;
  *field = duration.count() > 0 ? std::optional<Millis>(duration) : std::nullopt;
  return Status::Ok();
}

// A declared per-job footprint: a size above 0, or "none" (learned).
Status ApplyFootprint(const Words& words, std::optional<uint64_t>* field) {
  if (Last(words) == "none") {
    field->reset();
    return Status::Ok();
  }
  uint64_t bytes = 0;
  Status status = ParseSize(Last(words), &bytes);
  if (!status.ok()) return status;
  if (bytes == 0) {
    return Status::Error(fmt::format(
        "'{}' is too small (expected a size above 0, or 'none' to learn it)", Last(words)));
  }
  *field = bytes;
  return Status::Ok();
}

constexpr int64_t kMaxRetries = 1'000'000;
constexpr int64_t kMaxRetentionDays = 1'000'000;
// Degrees Celsius; well above what any GPU survives.
constexpr int64_t kMaxTemperature = 200;

constexpr std::string_view kResources = "Resources (GPU, memory, disk)";
constexpr std::string_view kBatches = "Batches and workers";
constexpr std::string_view kSlurm = "Slurm (--executor slurm)";

// A Slurm option's value: given as is to sbatch, so it must be one word.
Status ApplySlurmWord(const Words& w, std::string* out) {
  const std::string& v = Last(w);
  if (v == "none") {
    out->clear();
    return Status::Ok();
  }
  if (v.empty() || v.find_first_of(" \t\n") != std::string::npos) {
    return Status::Error(fmt::format("'{}' is not one word (expected e.g. gpu, 2:00:00)", v));
  }
  *out = v;
  return Status::Ok();
}
// Inputs one process may get with --batch-size N (and at most with auto).
constexpr int64_t kMaxBatchSize = 100'000;

constexpr OptionSpec kSpecs[] = {
    // --- inputs ---
    {"input-dir", 0, "DIR", ValueKind::kScalar, OptionScope::kEverywhere, "", "Inputs",
     "run COMMAND once for each file in DIR",
     [](const Words& w, unsigned, Options* o, std::string*) {
       o->input_dir = Last(w);
       return Status::Ok();
     }},
    {"ext", 0, "LIST", ValueKind::kList, OptionScope::kEverywhere, "", "Inputs",
     "with --input-dir, only these extensions, any case: mp4,mkv",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseExtensions(w, &o->exts);
     }},
    {"recursive", 0, "", ValueKind::kFlag, OptionScope::kEverywhere, "false", "Inputs",
     "with --input-dir, also scan its sub-directories",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->recursive);
     }},
    {"arg-file", 'a', "FILE", ValueKind::kList, OptionScope::kCommandLineOnly, "", "Inputs",
     "read inputs from FILE, one per line ('-' = stdin), as GNU parallel's -a and :::: FILE",
     [](const Words& w, unsigned, Options* o, std::string*) {
       o->arg_files.assign(w.begin(), w.end());
       return Status::Ok();
     }},
    {"null", '0', "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false", "Inputs",
     "inputs on stdin (or in -a FILE) end at NUL bytes, not newlines (find -print0)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->null_separated);
     }},
    {"jobs-file", 0, "FILE", ValueKind::kScalar, OptionScope::kEverywhere, "", "Inputs",
     "JSON Lines, one job per line: input; optional cmd, name, priority, env, gpu_mem, ram",
     [](const Words& w, unsigned, Options* o, std::string*) {
       o->jobs_file = Last(w);
       return Status::Ok();
     }},
    {"shell", 0, "", ValueKind::kFlag, OptionScope::kEverywhere, "false", "Inputs",
     "run COMMAND with /bin/sh -c, each substituted value single-quoted",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->shell);
     }},
    // --- outputs ---
    {"output-dir", 0, "DIR", ValueKind::kScalar, OptionScope::kEverywhere, "", "Outputs",
     "where {out} goes (created if missing); kept only if its job succeeds",
     [](const Words& w, unsigned, Options* o, std::string*) {
       o->output_dir = Last(w);
       return Status::Ok();
     }},
    {"output-name", 0, "TEMPLATE", ValueKind::kScalar, OptionScope::kEverywhere, "{/}", "Outputs",
     "file name of {out} in --output-dir, e.g. {/.}_small.mp4",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "a template such as {/.}.mp4");
       if (status.ok()) o->output_name = Last(w);
       return status;
     }},
    {"skip-existing", 0, "", ValueKind::kFlag, OptionScope::kEverywhere, "false", "Outputs",
     "skip each job whose output already exists",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->skip_existing);
     }},
    {"max-count", 0, "N", ValueKind::kScalar, OptionScope::kEverywhere, "none", "Outputs",
     "run at most N jobs, counted after skipping (and after a resume skips done ones; 'none': all)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       if (Last(w) == "none") {
         o->max_count.reset();
         return Status::Ok();
       }
       int64_t value = 0;
       Status status = ParseInteger(Last(w), 0, std::numeric_limits<int64_t>::max(), &value);
       if (status.ok()) o->max_count = value;
       return status;
     }},
    {"order", 0, "given|name|mtime|size", ValueKind::kScalar, OptionScope::kEverywhere, "given",
     "Outputs", "job order (mtime: oldest first); a jobs-file priority comes first",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseOrder(Last(w), &o->order);
     }},
    {"dry-run", 0, "", ValueKind::kFlag, OptionScope::kEverywhere, "false", "Outputs",
     "print each command, shell-quoted, and run nothing (as 'list')",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->dry_run);
     }},
    // --- running ---
    {"jobs", 'j', "N|N%|0|auto", ValueKind::kScalar, OptionScope::kEverywhere, "auto", "Running",
     "jobs running at once; auto = max(1, cores - 2); N% = N percent of the cores; 0 = as "
     "many as the other gates allow (at most 256)",
     [](const Words& w, unsigned cores, Options* o, std::string* resolved) {
       Status status = ParseJobCount(Last(w), cores, &o->jobs);
       if (status.ok() && (Last(w) == "auto" || Last(w) == "0" || Last(w).ends_with('%'))) {
         *resolved = std::to_string(o->jobs);
       }
       return status;
     }},
    {"threads-per-job", 0, "N|auto|off", ValueKind::kScalar, OptionScope::kEverywhere, "auto",
     "Running",
     "OMP_NUM_THREADS and the like for each job, unless already set;\nauto = max(1, cores / jobs)",
     [](const Words& w, unsigned cores, Options* o, std::string* resolved) {
       Status status = ParseThreadsPerJob(Last(w), cores, o->jobs, &o->threads_per_job);
       if (status.ok() && Last(w) == "auto") *resolved = std::to_string(o->threads_per_job);
       return status;
     }},
    {"env", 0, "K=V", ValueKind::kList, OptionScope::kEverywhere, "", "Running",
     "add K=V to each job's environment (repeatable)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       std::vector<EnvVar> vars(w.size());
       for (size_t i = 0; i < w.size(); ++i) {
         Status status = ParseEnvAssignment(w[i], &vars[i]);
         if (!status.ok()) return status;
       }
       o->env = std::move(vars);
       return Status::Ok();
     }},
    {"timeout", 0, "DURATION", ValueKind::kScalar, OptionScope::kEverywhere, "none", "Running",
     "SIGTERM a job's process group after DURATION ('none' or 0: no limit)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyOptionalDuration(w, &o->timeout);
     }},
    {"kill-grace", 0, "DURATION", ValueKind::kScalar, OptionScope::kEverywhere, "5s", "Running",
     "SIGKILL the group this long after SIGTERM",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyDuration(w, &o->kill_grace);
     }},
    {"retries", 0, "N", ValueKind::kScalar, OptionScope::kEverywhere, "0", "Running",
     "run a failed job again, up to N more times",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyInt(w, kMaxRetries, &o->retries);
     }},
    {"retry-delay", 0, "DURATION", ValueKind::kScalar, OptionScope::kEverywhere, "30s", "Running",
     "wait this long before a retry (also one after running out of memory, while other jobs run)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyDuration(w, &o->retry_delay);
     }},
    {"delay", 0, "DURATION", ValueKind::kScalar, OptionScope::kEverywhere, "0s", "Running",
     "wait this long between job starts",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyDuration(w, &o->delay);
     }},
    {"cooldown", 0, "DURATION", ValueKind::kScalar, OptionScope::kEverywhere, "0s", "Running",
     "after a job ends on a GPU, that GPU takes no new job for DURATION (lets it recover)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyDuration(w, &o->cooldown);
     }},
    {"halt", 0, "never|soon|now", ValueKind::kScalar, OptionScope::kEverywhere, "never", "Running",
     "on a failure, soon: start no new job; now: also stop running jobs",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseHalt(Last(w), &o->halt);
     }},
    // --- batches and workers ---
    {"batch-size", 0, "N|auto", ValueKind::kScalar, OptionScope::kEverywhere, "1", kBatches,
     "inputs per process: N, or auto (as many as fit in memory); halved on out of memory",
     [](const Words& w, unsigned, Options* o, std::string*) {
       if (Last(w) == "auto") {
         o->batch_size = 0;
         return Status::Ok();
       }
       int64_t value = 0;
       Status status = ParseInteger(Last(w), 1, kMaxBatchSize, &value);
       if (!status.ok()) {
         return Status::Error(fmt::format("'{}' is not a batch size (expected 1..{} or auto)",
                                          Last(w), kMaxBatchSize));
       }
       o->batch_size = static_cast<int>(value);
       return Status::Ok();
     }},
    {"batch-results", 0, "FILE", ValueKind::kScalar, OptionScope::kEverywhere, "", kBatches,
     "where each batch writes per-input results (JSON Lines; {#} {%} expand): failed ones retry alone",
     [](const Words& w, unsigned, Options* o, std::string*) {
       o->batch_results = Last(w);
       return Status::Ok();
     }},
    {"worker", 0, "", ValueKind::kFlag, OptionScope::kEverywhere, "false", kBatches,
     "start COMMAND once per slot and send it jobs as JSON Lines (docs/worker-protocol.md)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->worker);
     }},
    // --- resources ---
    {"gpus", 0, "all|none|LIST", ValueKind::kScalar, OptionScope::kEverywhere, "all", kResources,
     "GPUs jobs may use: all (those CUDA_VISIBLE_DEVICES gives, if set), none, or indices as "
     "nvidia-smi numbers them: 0,2",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseGpuList(Last(w), &o->gpus_all, &o->gpus);
     }},
    // Before --gpu-provider, which resolves "auto" by it.
    {"gpu-sim", 0, "FILE", ValueKind::kScalar, OptionScope::kEverywhere, "", kResources,
     "read GPUs from the simulated GPU described by FILE (JSON); makes --gpu-provider auto mean "
     "sim",
     [](const Words& w, unsigned, Options* o, std::string*) {
       o->gpu_sim = Last(w);
       return Status::Ok();
     },
     kForRun | kForGpus},
    {"gpu-provider", 0, "auto|nvml|nvidia-smi|amd|sim|none", ValueKind::kScalar,
     OptionScope::kEverywhere, "auto", kResources,
     "where GPU readings come from; auto: sim with --gpu-sim, else the first of nvml, "
     "nvidia-smi, amd that works; none: GPU gates off",
     [](const Words& w, unsigned, Options* o, std::string* resolved) {
       Status status = ParseGpuProvider(Last(w), &o->gpu_provider);
       if (!status.ok()) return status;
       if (o->gpu_provider == GpuProviderKind::kAuto && !o->gpu_sim.empty()) {
         o->gpu_provider = GpuProviderKind::kSim;
         *resolved = "sim";
       }
       if (o->gpu_provider == GpuProviderKind::kSim && o->gpu_sim.empty()) {
         return Status::Error("'sim' needs --gpu-sim FILE (or HEADROOM_GPU_SIM)");
       }
       return Status::Ok();
     },
     kForRun | kForGpus},
    {"monitor-interval", 0, "DURATION", ValueKind::kScalar, OptionScope::kEverywhere, "1s",
     kResources, "sample the GPUs and the system this often (and redraw 'gpus --watch')",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Millis interval{0};
       Status status = ParseDuration(Last(w), &interval);
       if (!status.ok()) return status;
       if (interval.count() <= 0) {
         return Status::Error(
             fmt::format("'{}' is out of range (expected more than 0, e.g. 500ms)", Last(w)));
       }
       o->monitor_interval = interval;
       return Status::Ok();
     },
     kForRun | kForGpus},
    {"max-memory", 0, "PERCENT", ValueKind::kScalar, OptionScope::kEverywhere, "80", kResources,
     "start a job only while system RAM in use plus its predicted RSS stays below PERCENT",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParsePercent(Last(w), &o->max_memory_pct);
     }},
    {"vram-high", 0, "FRACTION", ValueKind::kScalar, OptionScope::kEverywhere, "0.85", kResources,
     "start a job on a GPU only if used + its predicted peak stays within FRACTION of its "
     "memory; a GPU above it takes nothing new until below --vram-low",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseFraction(Last(w), &o->vram_high);
     }},
    {"vram-low", 0, "FRACTION", ValueKind::kScalar, OptionScope::kEverywhere, "0.70", kResources,
     "a GPU that crossed --vram-high takes new jobs again below FRACTION (at most --vram-high)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseFraction(Last(w), &o->vram_low);
     }},
    {"jobs-per-gpu", 0, "N|auto", ValueKind::kScalar, OptionScope::kEverywhere, "auto", kResources,
     "jobs at once on one GPU while it is cool; auto = no cap beyond --jobs",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseJobsPerGpu(Last(w), &o->jobs_per_gpu);
     }},
    {"temp-warm", 0, "C", ValueKind::kScalar, OptionScope::kEverywhere, "70", kResources,
     "at or above C degrees Celsius a GPU takes half of --jobs-per-gpu",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyIntRange(w, 0, kMaxTemperature, &o->temp_warm);
     }},
    {"temp-limit", 0, "C", ValueKind::kScalar, OptionScope::kEverywhere, "80", kResources,
     "at or above C degrees Celsius a GPU takes one job at a time (above --temp-warm)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyIntRange(w, 0, kMaxTemperature, &o->temp_limit);
     }},
    {"min-free-disk", 0, "SIZE", ValueKind::kScalar, OptionScope::kEverywhere, "1G", kResources,
     "start a job only while the output directory has SIZE free (0: off)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseSize(Last(w), &o->min_free_disk);
     }},
    {"load", 0, "N", ValueKind::kScalar, OptionScope::kEverywhere, "none", kResources,
     "start a job only while the 1-minute load average is below N ('none': off)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       if (Last(w) == "none") {
         o->max_load.reset();
         return Status::Ok();
       }
       double load = 0;
       Status status = ParsePositiveNumber(Last(w), 0, &load);
       if (status.ok()) o->max_load = load;
       return status;
     }},
    {"gate-timeout", 0, "DURATION", ValueKind::kScalar, OptionScope::kEverywhere, "none",
     kResources,
     "with nothing running, give up (exit 1, the rest resumable) once the machine's state "
     "(other processes' GPU memory, RAM, disk, load) has held the queue this long",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyOptionalDuration(w, &o->gate_timeout);
     }},
    {"gpu-mem", 0, "SIZE", ValueKind::kScalar, OptionScope::kEverywhere, "none", kResources,
     "VRAM each job needs ('none': learned from the jobs that ran); a jobs-file gpu_mem wins",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyFootprint(w, &o->gpu_mem);
     }},
    {"ram-per-job", 0, "SIZE", ValueKind::kScalar, OptionScope::kEverywhere, "none", kResources,
     "RAM each job needs ('none': learned from peak RSS); a jobs-file ram wins",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyFootprint(w, &o->ram_per_job);
     }},
    {"executor", 0, "local|slurm", ValueKind::kScalar, OptionScope::kEverywhere, "local", kSlurm,
     "where jobs run: local = this machine; slurm = one Slurm job per process, submitted with "
     "sbatch from here (-j caps the batch's jobs in the queue and running)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       const std::string& v = Last(w);
       if (v != "local" && v != "slurm") {
         return Status::Error(fmt::format("'{}' is not an executor (expected local or slurm)", v));
       }
       o->slurm = v == "slurm";
       return Status::Ok();
     }},
    {"slurm-partition", 0, "NAME", ValueKind::kScalar, OptionScope::kEverywhere, "none", kSlurm,
     "sbatch --partition (none: the cluster's default)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplySlurmWord(w, &o->slurm_partition);
     }},
    {"slurm-account", 0, "NAME", ValueKind::kScalar, OptionScope::kEverywhere, "none", kSlurm,
     "sbatch --account",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplySlurmWord(w, &o->slurm_account);
     }},
    {"slurm-time", 0, "TIME", ValueKind::kScalar, OptionScope::kEverywhere, "none", kSlurm,
     "sbatch --time, in Slurm's format (2:00:00, 1-0)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplySlurmWord(w, &o->slurm_time);
     }},
    {"gpus-per-job", 0, "N|TYPE:N", ValueKind::kScalar, OptionScope::kEverywhere, "none", kSlurm,
     "GPUs each Slurm job asks for (sbatch --gres=gpu:N)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplySlurmWord(w, &o->gpus_per_job);
     }},
    {"cpus-per-job", 0, "N", ValueKind::kScalar, OptionScope::kEverywhere, "0", kSlurm,
     "CPUs each Slurm job asks for (sbatch --cpus-per-task; 0: the cluster's default)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyInt(w, 4096, &o->cpus_per_job);
     }},
    {"slurm-extra", 0, "ARGS", ValueKind::kScalar, OptionScope::kEverywhere, "", kSlurm,
     "more sbatch options, split into words as a shell would (--constraint=a100 --qos=low)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       o->slurm_extra = Last(w);
       return Status::Ok();
     }},
    {"slurm-array", 0, "auto|off", ValueKind::kScalar, OptionScope::kEverywhere, "auto", kSlurm,
     "auto: jobs started together with the same request go as job arrays (below the "
     "cluster's MaxArraySize); off: one sbatch per job",
     [](const Words& w, unsigned, Options* o, std::string*) {
       const std::string& v = Last(w);
       if (v != "auto" && v != "off") {
         return Status::Error(fmt::format("'{}' is not an array mode (expected auto or off)", v));
       }
       o->slurm_array = v == "auto";
       return Status::Ok();
     }},
    {"slurm-poll", 0, "DURATION", ValueKind::kScalar, OptionScope::kEverywhere, "2s", kSlurm,
     "how often one squeue call checks the batch's jobs (results are seen sooner)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = ParseDuration(Last(w), &o->slurm_poll);
       if (status.ok() && o->slurm_poll.count() <= 0) {
         return Status::Error(fmt::format("'{}' is out of range (expected more than 0, e.g. 5s)", Last(w)));
       }
       return status;
     }},
    {"policy", 0, "adaptive|fixed|watermark", ValueKind::kScalar, OptionScope::kEverywhere,
     "adaptive", kResources,
     "adaptive: all the gates above, learned footprints; fixed: a plain -j pool; watermark: "
     "start while used VRAM < --vram-high; the last two are kept for comparison",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParsePolicy(Last(w), &o->policy);
     }},
    // --- out of memory ---
    {"oom-exit-code", 0, "N", ValueKind::kList, OptionScope::kEverywhere, "", "Out of memory",
     "also count exit code N as out of memory (repeatable, or a comma list)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseExitCodes(w, &o->oom_exit_codes);
     }},
    {"oom-pattern", 0, "REGEX", ValueKind::kList, OptionScope::kEverywhere, "", "Out of memory",
     "also count a failure whose stderr tail matches REGEX (ECMAScript) as out of memory "
     "(repeatable); CUDA, PyTorch, TensorFlow and C++ messages are built in",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseRegexes(w, &o->oom_patterns);
     }},
    {"oom-retries", 0, "N", ValueKind::kScalar, OptionScope::kEverywhere, "3", "Out of memory",
     "run a job that ran out of memory again, up to N times, after --retry-delay and with more "
     "memory reserved; not counted against --retries",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyInt(w, kMaxRetries, &o->oom_retries);
     }},
    {"cpu-fallback", 0, "", ValueKind::kFlag, OptionScope::kEverywhere, "false", "Out of memory",
     "after the last out-of-memory retry, run the job once more without a GPU "
     "(CUDA_VISIBLE_DEVICES and {gpu} empty)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->cpu_fallback);
     }},
    {"cpu-command", 0, "TEMPLATE", ValueKind::kScalar, OptionScope::kEverywhere, "none",
     "Out of memory",
     "the command of that CPU attempt (implies --cpu-fallback): words split as a shell would, "
     "no shell run (with --shell: a script), same placeholders; e.g. "
     "'ffmpeg -i {} -c:v libx264 {out}'",
     [](const Words& w, unsigned, Options* o, std::string*) {
       if (Last(w) == "none") {
         o->cpu_command.clear();
         return Status::Ok();
       }
       Status status = NotEmpty(Last(w), "a command or 'none'");
       if (status.ok()) o->cpu_command = Last(w);
       return status;
     }},
    // --- `headroom gpus` and `headroom status` ---
    {"watch", 0, "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false", "Display",
     "redraw the table every --monitor-interval until interrupted",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->watch);
     },
     kForGpus},
    {"watch", 0, "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false", "Display",
     "redraw every second until interrupted",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->watch);
     },
     kForStatus},
    // `report --json FILE` (below) takes a value: FindLongOption(name, bit).
    {"json", 0, "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false", "Display",
     "print JSON instead of text (with --watch: one object per line)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->json);
     },
     kForGpus | kForStatus | kForFootprints},
    {"forget", 0, "CLASS", ValueKind::kScalar, OptionScope::kCommandLineOnly, "none", "Display",
     "forget what was learned of CLASS (its id, or its command as listed)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "a class id or command");
       if (status.ok()) o->forget = Last(w) == "none" ? "" : Last(w);
       return status;
     },
     kForFootprints},
    {"all", 0, "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false", "Display",
     "forget what was learned of every class",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->forget_all);
     },
     kForFootprints},
    // --- logs and console ---
    {"log-dir", 0, "DIR", ValueKind::kScalar, OptionScope::kEverywhere, ".headroom/logs",
     "Logs and console", "per-job stdout/stderr logs, the main log and the daily error log",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "a directory");
       if (status.ok()) o->log_dir = Last(w);
       return status;
     }},
    {"max-job-log", 0, "SIZE", ValueKind::kScalar, OptionScope::kEverywhere, "64M",
     "Logs and console", "keep the last SIZE of each job's stdout and of its stderr",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseSize(Last(w), &o->max_job_log);
     }},
    {"log-retention-days", 0, "N", ValueKind::kScalar, OptionScope::kEverywhere, "14",
     "Logs and console", "at start, remove logs older than N days",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ApplyInt(w, kMaxRetentionDays, &o->log_retention_days);
     }},
    {"log-level", 0, "debug|info|warn|error", ValueKind::kScalar, OptionScope::kEverywhere, "info",
     "Logs and console", "least severe event written to the main log",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseLogLevel(Last(w), &o->log_level);
     }},
    {"log-format", 0, "text|json", ValueKind::kScalar, OptionScope::kEverywhere, "text",
     "Logs and console", "main log format (json: JSON Lines, one event per line)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseLogFormat(Last(w), &o->log_format);
     }},
    // -q and -v are resolved together by ParseCli, which knows their sources.
    {"no-job-output", 0, "", ValueKind::kFlag, OptionScope::kEverywhere, "false",
     "Logs and console",
     "do not copy each job's stdout to headroom's stdout (logs only: for jobs that print "
     "progress, like ffmpeg)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->no_job_output);
     }},
    {"keep-order", 'k', "", ValueKind::kFlag, OptionScope::kEverywhere, "false",
     "Logs and console",
     "write the jobs' output in input order (as --order sorted it), not in the order they end",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->keep_order);
     }},
    {"line-buffer", 0, "", ValueKind::kFlag, OptionScope::kEverywhere, "false",
     "Logs and console",
     "copy each job's output line by line as it comes (within a tenth of a second), not whole "
     "when the job ends; lines of different jobs may alternate, a line is never split",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->line_buffer);
     }},
    {"stderr", 0, "pass|log", ValueKind::kScalar, OptionScope::kEverywhere, "log",
     "Logs and console",
     "pass: also copy each job's stderr to headroom's stderr, as its stdout goes to stdout; "
     "log: stderr only in the job's .err log (a failure shows its last lines)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       const std::string& v = Last(w);
       if (v != "pass" && v != "log") {
         return Status::Error(fmt::format("'{}' is not a stderr mode (expected pass or log)", v));
       }
       o->stderr_pass = v == "pass";
       return Status::Ok();
     }},
    {"color", 0, "auto|always|never", ValueKind::kScalar, OptionScope::kEverywhere, "auto",
     "Logs and console",
     "colour FAILED, RETRY, SUCCESS, warnings and the summary; auto: when stderr is a terminal, "
     "TERM is not dumb and NO_COLOR is not set",
     [](const Words& w, unsigned, Options* o, std::string*) {
       const std::string& v = Last(w);
       if (v == "auto") {
         o->color = ColorMode::kAuto;
       } else if (v == "always") {
         o->color = ColorMode::kAlways;
       } else if (v == "never") {
         o->color = ColorMode::kNever;
       } else {
         return Status::Error(fmt::format("'{}' is not a colour mode (expected auto, always or never)", v));
       }
       return Status::Ok();
     }},
    {"tag", 0, "", ValueKind::kFlag, OptionScope::kEverywhere, "false", "Logs and console",
     "prefix each line of a job's output with its input and a tab",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->tag);
     }},
    {"quiet", 'q', "", ValueKind::kFlag, OptionScope::kEverywhere, "false", "Logs and console",
     "print only failed jobs: no progress line, no summary",
     [](const Words& w, unsigned, Options*, std::string*) {
       bool quiet = false;
       return ParseBoolWord(Last(w), &quiet);
     }},
    {"verbose", 'v', "", ValueKind::kFlag, OptionScope::kEverywhere, "false", "Logs and console",
     "print more: each job's command, and why jobs wait",
     [](const Words& w, unsigned, Options*, std::string*) {
       bool verbose = false;
       return ParseBoolWord(Last(w), &verbose);
     }},
    // --- journal and resume ---
    {"state-dir", 0, "DIR", ValueKind::kScalar, OptionScope::kEverywhere, ".headroom",
     "Journal and resume", "where the journal (journal.db) and batch locks live",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "a directory");
       if (status.ok()) o->state_dir = Last(w);
       return status;
     },
     kForRun | kForStatus | kForReport | kForFootprints | kForCtl | kForLog | kForResume},
    {"no-journal", 0, "", ValueKind::kFlag, OptionScope::kEverywhere, "false",
     "Journal and resume",
     "keep no journal: nothing is written to the state dir, and the batch cannot be resumed, "
     "shown by status or reported",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->no_journal);
     }},
    {"resume", 0, "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false",
     "Journal and resume",
     "continue the latest batch of this command and input source: succeeded jobs are not run "
     "again, jobs that were running (the batch was killed) run again, failed ones stay failed",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->resume);
     }},
    {"resume-failed", 0, "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false",
     "Journal and resume", "as --resume, and run the batch's failed jobs again too",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->resume_failed);
     }},
    {"batch", 0, "ID", ValueKind::kScalar, OptionScope::kCommandLineOnly, "latest",
     "Journal and resume", "the batch to resume (run) or show (status, report)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       if (Last(w) == "latest") {
         o->batch.reset();
         return Status::Ok();
       }
       int64_t id = 0;
       Status status = ParseInteger(Last(w), 1, std::numeric_limits<int64_t>::max(), &id);
       if (status.ok()) o->batch = id;
       return status;
     },
     kForRun | kForStatus | kForReport | kForCtl | kForLog | kForResume},
    {"report", 0, "FILE", ValueKind::kScalar, OptionScope::kEverywhere, "none",
     "Journal and resume", "when the batch ends, write its JSON report to FILE",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "a file name or 'none'");
       if (status.ok()) o->report_json = Last(w) == "none" ? "" : Last(w);
       return status;
     }},
    // --- `headroom resume` ---
    {"failed", 0, "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false", "Journal",
     "run again only the jobs that failed (as run --resume-failed)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->resume_failed);
     },
     kForResume},
    // --- `headroom log` ---
    {"stderr", 0, "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false", "Display",
     "print the job's stderr log instead of its stdout",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->log_stderr);
     },
     kForLog},
    {"follow", 'f', "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false", "Display",
     "keep printing what the job writes until it ends (waits for it to start)",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseBoolWord(Last(w), &o->follow);
     },
     kForLog},
    // --- `headroom report` ---
    {"json", 0, "FILE", ValueKind::kScalar, OptionScope::kCommandLineOnly, "none", "Report files",
     "write the batch's JSON report to FILE",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "a file name");
       if (status.ok()) o->report_json = Last(w) == "none" ? "" : Last(w);
       return status;
     },
     kForReport},
    {"html", 0, "FILE", ValueKind::kScalar, OptionScope::kCommandLineOnly, "none", "Report files",
     "write the batch's HTML report to FILE: one file, viewable offline",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "a file name");
       if (status.ok()) o->report_html = Last(w) == "none" ? "" : Last(w);
       return status;
     },
     kForReport},
    {"trace", 0, "FILE", ValueKind::kScalar, OptionScope::kCommandLineOnly, "none", "Report files",
     "write the batch as a Chrome trace (trace-event JSON) to FILE, to open in Perfetto "
     "(ui.perfetto.dev) and zoom",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "a file name");
       if (status.ok()) o->report_trace = Last(w) == "none" ? "" : Last(w);
       return status;
     },
     kForReport},
    // --- metrics and hooks ---
    {"metrics-addr", 0, "HOST:PORT", ValueKind::kScalar, OptionScope::kEverywhere, "none",
     "Metrics and hooks",
     "serve Prometheus metrics at http://HOST:PORT/metrics; :PORT = 127.0.0.1:PORT; port 0 = "
     "any free port, printed on stderr",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "HOST:PORT or 'none'");
       if (status.ok()) o->metrics_addr = Last(w) == "none" ? "" : Last(w);
       return status;
     }},
    {"metrics-textfile", 0, "FILE", ValueKind::kScalar, OptionScope::kEverywhere, "none",
     "Metrics and hooks",
     "also write the metrics to FILE (node_exporter's textfile collector format) every 5 s and "
     "at the end, atomically, so that the final state outlives headroom",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "a file name or 'none'");
       if (status.ok()) o->metrics_textfile = Last(w) == "none" ? "" : Last(w);
       return status;
     }},
    {"metrics-linger", 0, "DURATION", ValueKind::kScalar, OptionScope::kEverywhere, "0s",
     "Metrics and hooks",
     "keep serving --metrics-addr this long after the batch ends (its final state, for a "
     "scrape that comes late); Ctrl-C stops sooner",
     [](const Words& w, unsigned, Options* o, std::string*) {
       return ParseDuration(Last(w), &o->metrics_linger);
     }},
    {"on-finish", 0, "CMD", ValueKind::kScalar, OptionScope::kEverywhere, "none",
     "Metrics and hooks",
     "run CMD once when the batch has ended, with HEADROOM_BATCH_ID, _EXIT_CODE, _TOTAL, "
     "_SUCCEEDED, _FAILED, _SKIPPED, _INTERRUPTED, _WALL_SECONDS, _REPORT and _LOG_DIR set; no "
     "shell unless --shell",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "a command or 'none'");
       if (status.ok()) o->on_finish = Last(w) == "none" ? "" : Last(w);
       return status;
     }},
    {"on-failure", 0, "CMD", ValueKind::kScalar, OptionScope::kEverywhere, "none",
     "Metrics and hooks",
     "run CMD once per job that failed for good, with HEADROOM_JOB_NAME, _INPUT, _EXIT, _LOG, "
     "_STDOUT_LOG and _ATTEMPTS set; no shell unless --shell",
     [](const Words& w, unsigned, Options* o, std::string*) {
       Status status = NotEmpty(Last(w), "a command or 'none'");
       if (status.ok()) o->on_failure = Last(w) == "none" ? "" : Last(w);
       return status;
     }},
    // --- configuration ---
    {"config", 0, "FILE", ValueKind::kScalar, OptionScope::kNoConfigFile, "",
     "Configuration and help", "TOML file of option values: keys are long names with _ for -",
     nullptr, kForRun | kForGpus | kForStatus | kForReport | kForFootprints | kForCtl | kForLog | kForResume},
    {"profile", 0, "NAME", ValueKind::kScalar, OptionScope::kNoConfigFile, "",
     "Configuration and help",
     "apply the config file's [profile.NAME] table over its top-level keys", nullptr,
     kForRun | kForGpus | kForStatus | kForReport | kForFootprints | kForCtl | kForLog | kForResume},
    {"print-config", 0, "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false",
     "Configuration and help", "print each option's effective value and its source; run nothing",
     nullptr, kForRun | kForGpus | kForStatus | kForReport | kForFootprints | kForCtl | kForLog | kForResume},
    {"help", 'h', "", ValueKind::kFlag, OptionScope::kCommandLineOnly, "false",
     "Configuration and help", "print this help", nullptr,
     kForRun | kForGpus | kForStatus | kForReport | kForFootprints | kForCtl | kForLog | kForResume},
};

}  // namespace

std::span<const OptionSpec> OptionSpecs() { return kSpecs; }

const OptionSpec* FindLongOption(std::string_view name) {
  for (const OptionSpec& spec : kSpecs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const OptionSpec* FindLongOption(std::string_view name, unsigned command_bit) {
  for (const OptionSpec& spec : kSpecs) {
    if (spec.name == name && (spec.commands & command_bit) != 0) return &spec;
  }
  return FindLongOption(name);
}

const OptionSpec* FindShortOption(char short_name) {
  for (const OptionSpec& spec : kSpecs) {
    if (short_name != 0 && spec.short_name == short_name) return &spec;
  }
  return nullptr;
}

std::string EnvName(const OptionSpec& spec) {
  std::string name = "HEADROOM_";
  for (char c : spec.name) name += c == '-' ? '_' : static_cast<char>(c - 'a' + 'A');
  return name;
}

std::string ConfigKey(const OptionSpec& spec) {
  std::string key(spec.name);
  for (char& c : key) c = c == '-' ? '_' : c;
  return key;
}

}  // namespace headroom

// Options: everything a run was asked to do, after the command line, the
// HEADROOM_* environment and the TOML config were merged (command line > env >
// config file > default) and validated. Plain data, read only by src/cli and
// main.cc: main builds each module's own config struct from it, so no module
// below cli includes this file. The enums it uses live with the module that
// owns them (Order in jobs, PolicyKind and Halt in sched, ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jobs/job.h"
#include "jobs/plan.h"
#include "probe/gpu_providers.h"
#include "report/console.h"
#include "report/event_log.h"
#include "sched/admission.h"
#include "sched/halt.h"
#include "util/log_level.h"
#include "util/units.h"

namespace headroom {

struct Options {
  // --- what to run -------------------------------------------------------
  // COMMAND [ARG...]: the argv template, placeholders unexpanded. Everything
  // after "--" (or after the first positional argument) up to ":::".
  std::vector<std::string> command;
  // Inputs given after ":::"; has_arg_inputs is true when ":::" appeared.
  bool has_arg_inputs = false;
  std::vector<std::string> arg_inputs;
  std::vector<std::string> arg_files;  // -a FILE, and the files after "::::"
  bool null_separated = false;         // -0: NUL-separated stdin and input files
  std::string input_dir;            // --input-dir
  std::vector<std::string> exts;    // --ext, lower case, no dots; empty = all
  bool recursive = false;           // --recursive
  std::string jobs_file;            // --jobs-file
  bool shell = false;               // --shell

  // --- outputs -----------------------------------------------------------
  std::string output_dir;           // --output-dir; empty = no managed output
  std::string output_name = "{/}";  // --output-name
  bool skip_existing = false;       // --skip-existing
  std::optional<int64_t> max_count; // --max-count
  Order order = Order::kGiven;      // --order
  bool dry_run = false;             // --dry-run (and the `list` subcommand)

  // --- running -----------------------------------------------------------
  int jobs = 1;                     // -j/--jobs, "auto" resolved: max(1, cores-2)
  int threads_per_job = 0;          // --threads-per-job, "auto" resolved; 0 = off
  std::vector<EnvVar> env;          // --env K=V (repeatable)
  std::optional<Millis> timeout;    // --timeout
  std::optional<Millis> gate_timeout;  // --gate-timeout
  std::string forget;                  // footprints --forget CLASS
  bool forget_all = false;             // footprints --all
  Millis kill_grace{5000};          // --kill-grace
  int retries = 0;                  // --retries
  Millis retry_delay{30000};        // --retry-delay, also before an out-of-memory retry
  Millis delay{0};                  // --delay between job starts
  Millis cooldown{0};               // --cooldown: a GPU's pause after a job ends on it
  Halt halt = Halt::kNever;         // --halt

  // --- batches and workers ---------------------------------------------
  int batch_size = 1;               // --batch-size: inputs per process; 0 = auto
  std::string batch_results;        // --batch-results FILE template; empty = none
  bool worker = false;              // --worker: persistent workers, jobs over stdin

  // --- resources (GPU, memory, disk) ------------------------------------
  bool gpus_all = true;             // --gpus all; false with empty `gpus`: --gpus none
  std::vector<int> gpus;            // --gpus 0,2: device indices, as given, no repeats
  // --gpu-provider; "auto" with --gpu-sim set resolves to kSim here.
  GpuProviderKind gpu_provider = GpuProviderKind::kAuto;
  std::string gpu_sim;              // --gpu-sim / HEADROOM_GPU_SIM: sim spec JSON; empty = none
  Millis monitor_interval{1000};    // --monitor-interval, > 0
  int max_memory_pct = 80;          // --max-memory, 1..100: system RAM use allowed
  double vram_high = 0.85;          // --vram-high, (0, 1]
  double vram_low = 0.70;           // --vram-low, (0, vram_high]
  int jobs_per_gpu = 0;             // --jobs-per-gpu; 0 = auto: no cap beyond --jobs
  int temp_warm = 70;               // --temp-warm, degrees C: at or above, half the jobs
  int temp_limit = 80;              // --temp-limit, degrees C, > temp_warm: one job
  uint64_t min_free_disk = 1ull << 30;  // --min-free-disk, bytes; 0 = off
  std::optional<double> max_load;   // --load: 1-minute load average limit; none = off
  std::optional<uint64_t> gpu_mem;  // --gpu-mem: declared VRAM per job; none = learned
  std::optional<uint64_t> ram_per_job;  // --ram-per-job: declared RAM per job; none = learned
  PolicyKind policy = PolicyKind::kAdaptive;  // --policy

  // --- out of memory -----------------------------------------------------
  std::vector<int> oom_exit_codes;          // --oom-exit-code (repeatable), 1..255, no repeats
  std::vector<std::string> oom_patterns;    // --oom-pattern (repeatable), valid ECMAScript regexes
  int oom_retries = 3;                      // --oom-retries
  bool cpu_fallback = false;                // --cpu-fallback
  bool no_job_output = false;               // --no-job-output
  bool tag = false;                         // --tag
  bool keep_order = false;                  // -k, --keep-order
  bool line_buffer = false;                 // --line-buffer
  ColorMode color = ColorMode::kAuto;       // --color
  bool stderr_pass = false;                 // --stderr pass (default log)
  std::string cpu_command;                  // --cpu-command, as given (valid words)

  // --- `headroom gpus` and `headroom status` ------------------------------
  bool watch = false;               // --watch: redraw (gpus: every --monitor-interval; status: 1 s)
  bool json = false;                // --json: print JSON instead of text

  // --- logs and console --------------------------------------------------
  std::string log_dir = ".headroom/logs";  // --log-dir
  uint64_t max_job_log = 64ull << 20;      // --max-job-log, per stream
  int log_retention_days = 14;             // --log-retention-days
  LogLevel log_level = LogLevel::kInfo;    // --log-level
  LogFormat log_format = LogFormat::kText; // --log-format
  Verbosity verbosity = Verbosity::kNormal;// -q/--quiet, -v/--verbose

  // --- journal and resume ------------------------------------------------
  std::string state_dir = ".headroom";  // --state-dir: journal.db and batch locks
  bool no_journal = false;              // --no-journal: no journal, no batch lock
  bool resume = false;                  // --resume: continue the latest matching batch
  bool resume_failed = false;           // --resume-failed: --resume, and rerun failed jobs
  std::optional<int64_t> batch;         // --batch ID: that batch (run: implies --resume)
  std::string ctl_action;               // ctl: drain, pause, continue or jobs
  int ctl_jobs = 0;                     // ctl jobs N
  std::string log_job;                  // log: #N, or a job's name or input
  bool log_stderr = false;              // log --stderr
  bool follow = false;                  // log -f, --follow
  bool slurm = false;                   // --executor slurm
  std::string slurm_partition, slurm_account, slurm_time, gpus_per_job;
  std::string slurm_extra;              // --slurm-extra, unsplit
  int cpus_per_job = 0;                 // --cpus-per-job
  bool slurm_array = true;              // --slurm-array auto|off
  Millis slurm_poll{2000};              // --slurm-poll
  std::string slurm_spec;               // slurm-exec SPEC (hidden)
  std::string report_json;              // --report FILE.json: write the JSON report at the end
                                        // (`report --json FILE`: write it now)
  std::string report_html;              // `report --html FILE`: write the HTML report
  std::string report_trace;             // `report --trace FILE`: write the Chrome trace

  // --- metrics and hooks -------------------------------------------------
  std::string metrics_addr;  // --metrics-addr HOST:PORT as given; empty = no endpoint
  std::string metrics_textfile;  // --metrics-textfile FILE; empty = none
  Millis metrics_linger{0};      // --metrics-linger: serve the final metrics this long after the end
  std::string on_finish;         // --on-finish CMD as given; empty = none
  std::string on_failure;    // --on-failure CMD as given; empty = none
};

// One option's effective value and where it came from, for --print-config.
struct ConfigEntry {
  std::string name;    // long name without dashes: "jobs"
  std::string value;   // as given (or the default's text)
  std::string source;  // "command line", "env HEADROOM_JOBS", "config FILE [profile.X]", "default"
};

}  // namespace headroom

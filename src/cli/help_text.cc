#include "cli/help_text.h"

#include <fmt/format.h>

#include <vector>

#include "cli/option_spec.h"

namespace headroom {
namespace {

constexpr size_t kWidth = 100;
constexpr size_t kDescriptionColumn = 32;

size_t CurrentColumn(const std::string& out) { return out.size() - (out.rfind('\n') + 1); }

// Appends `text` word-wrapped to kWidth, each line indented to `indent`; the
// first line continues wherever `out` ends. A '\n' in `text` breaks the line.
void AppendWrapped(std::string_view text, size_t indent, std::string* out) {
  size_t newline = text.find('\n');
  if (newline != std::string_view::npos) {
    AppendWrapped(text.substr(0, newline), indent, out);
    AppendWrapped(text.substr(newline + 1), indent, out);
    return;
  }
  size_t column = CurrentColumn(*out);
  while (!text.empty()) {
    size_t space = text.find(' ');
    std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (column > indent && column + 1 + word.size() > kWidth) {
      *out += '\n';
      column = 0;
    }
    if (column < indent) {
      out->append(indent - column, ' ');
      column = indent;
    } else if (column > indent) {
      *out += ' ';
      ++column;
    }
    *out += word;
    column += word.size();
  }
  *out += '\n';
}

std::string OptionName(const OptionSpec& spec) {
  std::string name = spec.short_name != 0 ? fmt::format("  -{}, ", spec.short_name) : "      ";
  name += fmt::format("--{}", spec.name);
  if (!spec.value_name.empty()) name += fmt::format(" {}", spec.value_name);
  return name;
}

std::string DefaultAndEnv(const OptionSpec& spec) {
  std::string default_text(spec.default_text);
  if (spec.kind == ValueKind::kFlag) {
    default_text = "off";
  } else if (default_text.empty()) {
    default_text = "none";
  }
  std::string text = fmt::format("[default: {}]", default_text);
  if (spec.scope == OptionScope::kCommandLineOnly) return text + " [command line only]";
  text += fmt::format(" [env: {}]", EnvName(spec));
  if (spec.scope == OptionScope::kNoConfigFile) text += " [not in the config file]";
  return text;
}

// The options that `command_bit` (kForRun, kForGpus, ...) takes, under their groups.
std::string OptionsHelp(unsigned command_bit) {
  std::string out;
  std::string_view group;
  for (const OptionSpec& spec : OptionSpecs()) {
    if ((spec.commands & command_bit) == 0) continue;
    if (spec.group != group) {
      group = spec.group;
      out += fmt::format("\n{}:\n", group);
    }
    out += OptionName(spec);
    if (CurrentColumn(out) + 2 > kDescriptionColumn) out += '\n';
    AppendWrapped(spec.help, kDescriptionColumn, &out);
    AppendWrapped(DefaultAndEnv(spec), kDescriptionColumn, &out);
  }
  return out;
}

constexpr std::string_view kRunIntro = R"(
Runs COMMAND once per input, up to --jobs at a time. A failing job does not stop the others.

Inputs come from the words after ':::', else from the lines of ':::: FILE' (or -a FILE), else
from --input-dir, else from --jobs-file, else from the lines of stdin when it is not a terminal
(-0: NUL-separated). Everything after '--' is COMMAND; without '--', the
first word that is not an option starts it, and what follows is COMMAND's own.

COMMAND is run directly, without a shell, so an input is always one intact argument.
Placeholders in its arguments:
  {}     the input                  {/}    its basename        {//}   its directory
  {.}    the input without extension                           {/.}   basename without extension
  {#}    job number, from 1         {%}    slot number         {out}  output path (--output-dir)
A COMMAND without any placeholder gets the input as its last argument.
)";

constexpr std::string_view kGpusIntro = R"(
Shows each GPU as headroom sees it: index, name, UUID, memory used and total, temperature,
utilization, the provider that read it, and the memory of each process on it. With --watch it
redraws every --monitor-interval until interrupted. Runs nothing.
)";

constexpr std::string_view kStatusIntro = R"(
Shows a batch from the journal (<state-dir>/journal.db) from any terminal, while it runs or
after: its state, the jobs by state, each running job with its time, GPU and attempt, the queue,
throughput and ETA, the last failures with their logs, what holds the queue, and the latest GPU
and RAM figures. A batch whose headroom was killed shows as stopped (killed?); 'headroom run
--resume' continues it. Without --batch, the latest batch. No journal: exit 2.
)";

constexpr std::string_view kReportIntro = R"(
Writes the report of a batch from the journal (<state-dir>/journal.db): --json FILE has the
totals, throughput, each job's timing and attempts, per-GPU use and peaks, OOM retries and the
footprints measured, and what held the queue when; --html FILE is one self-contained page that
says why the batch took as long as it did, with a timeline of the jobs per GPU, what held the
queue, GPU memory, temperature and RAM over time, the concurrency limits with their reasons, and
the slowest and failed jobs; --trace FILE is the same batch as a Chrome trace for Perfetto. Without
--batch, the latest batch. 'headroom run --report FILE' writes the JSON report when its batch
ends.
)";

constexpr std::string_view kFootprintsIntro = R"(
Lists what batches in this state dir learned of each command (its class): the GPU memory and
RAM its jobs peaked at, how long they took, and how many jobs taught it. A batch of the same
command starts from it: no slow start, no repeated out-of-memory retries. --forget CLASS (its id
or command) or --all resets what was learned. No journal: nothing learned yet.
)";

constexpr std::string_view kCtlIntro = R"(
Steers the batch that a headroom is running (the latest, or --batch ID) from any terminal, through
the state dir, and waits until that headroom has applied the request (a few tenths of a second):
  drain      start nothing new; running jobs finish; the rest stays queued for 'run --resume'
             (as SIGHUP; the batch exits 129 when jobs were left)
  pause      start nothing new until 'continue'; running jobs go on
  continue   undo 'pause'
  jobs N     run at most N jobs at once from now on (running jobs are not stopped)
'headroom status' shows a paused or draining batch as waiting for it. Exit codes: 0 applied,
1 the batch is not running or did not apply it in time, 2 usage error.
)";

constexpr std::string_view kLogIntro = R"(
Prints the output of one job of the batch (the latest, or --batch ID): its latest attempt's stdout
log, or with --stderr its stderr log. JOB is the job's input or name as 'status' and the summary
show it, or #N for job number N ({#}). With -f it waits for the job to start if it has not, prints
what it writes as it writes it, and ends when the job ends (a retry's attempt follows). Log paths
are as the batch wrote them: run it in the same directory. Exit codes: 0 printed, 1 the job has not
started (without -f) or never did, 2 usage error or no such job.
)";

constexpr std::string_view kResumeIntro = R"(
Continues batch ID (default: the latest) with the command line it was started with, recorded in
its journal: runs 'headroom run --resume --batch ID' with the batch's own options and command, in
the directory it ran in; inputs it read from stdin come from the journal. Jobs that succeeded are
not run again; --failed runs again only the jobs that failed (as --resume-failed). Options come
from the recorded command line; HEADROOM_* variables and the config file are read again. Exit
codes are the run's.
)";

constexpr std::string_view kResourcesHelp = R"(
Resources:
  A job starts only when every gate passes: a free slot (--jobs), system RAM (--max-memory),
  room on an allowed GPU (--vram-high, hysteresis down to --vram-low; the job's predicted peak
  is its jobs-file gpu_mem, else --gpu-mem, else learned from earlier jobs of the same command),
  the GPU's temperature (--jobs-per-gpu, --temp-warm, --temp-limit), free disk
  (--min-free-disk) and load (--load). With nothing of the batch running, one job may always
  start, so a batch never stalls. The job gets CUDA_VISIBLE_DEVICES of its GPU; {gpu} is its
  index. A job that runs out of memory is retried (--oom-retries) with more room reserved.
)";

constexpr std::string_view kConfigHelp = R"(
Where options come from:
  Each option --foo-bar can also be set in the environment as HEADROOM_FOO_BAR, or in the TOML
  file named by --config as the key foo_bar; with --profile NAME, the file's [profile.NAME] table
  overrides its top-level keys. The command line wins over the environment, which wins over the
  config file, which wins over the default. An empty environment variable counts as unset.
  Flags from the environment take 1/0, true/false, yes/no, on/off; in the config file they are
  TOML booleans. HEADROOM_EXT is a comma list; HEADROOM_ENV, HEADROOM_OOM_PATTERN and
  HEADROOM_OOM_EXIT_CODE hold one item per line. A list given on the command line (--env, --ext,
  --oom-pattern, ...) replaces the lists from the environment and config file. A subcommand reads
  only its own options from the environment and the config file and ignores the others there.
  Sizes are binary: 512K, 512M, 6G, 1.5GiB, 100MB (= 100 MiB), or bytes.
  Durations: 500ms, 90s, 2m, 1h30m, 1d, or seconds.

Exit status: 0 all jobs succeeded or were skipped, 1 some job failed, 2 usage, configuration or
input error, 130/143 interrupted by SIGINT/SIGTERM.
)";

// For the subcommands other than run: where their options come from, in
// one line (run's help has the whole of it, and its exit codes).
constexpr std::string_view kOtherConfigHelp = R"(
Each option --foo-bar can also be set as HEADROOM_FOO_BAR or as foo_bar in the --config file
('headroom run --help' says how).
)";

}  // namespace

std::string TopLevelHelp(std::string_view version) {
  return fmt::format(R"(headroom {} - runs a batch of heavy jobs as fast as the machine allows

Usage: headroom run|list [OPTIONS] -- COMMAND [ARG...] [::: INPUT...]
       headroom status [--batch ID] [--json] [--watch] [OPTIONS]
       headroom report [--batch ID] [--json FILE] [--html FILE] [--trace FILE] [OPTIONS]
       headroom gpus [--watch] [--json] [OPTIONS]
       headroom footprints [--json] [--forget CLASS | --all] [OPTIONS]
       headroom ctl [--batch ID] drain|pause|continue|jobs N
       headroom log [--batch ID] JOB|#N [--stderr] [-f]
       headroom resume [ID] [--failed]
       headroom completions bash|zsh|fish

Subcommands:
  run     run COMMAND once per input, in parallel, isolating failures
  list    print each command that 'run' would start, shell-quoted, and run nothing
  status  show a batch's progress from the journal, live or after ('status --help')
  report  write a batch's JSON and/or HTML report from the journal ('report --help')
  gpus    show the GPUs, their memory, temperature and processes ('gpus --help')
  footprints  show (or forget) what was learned of each command's memory and duration
  ctl     steer a running batch from another terminal: drain, pause, continue, jobs N
  log     print a job's output (its latest attempt's log), or follow it while it runs
  resume  continue the latest (or given) batch as it was started, without its command line
  completions  print the shell completion script ('source <(headroom completions bash)')

Options:
  -h, --help    print this help; 'headroom run --help' describes every option of run and list
  -V, --version print the version
  help SUB      the help of subcommand SUB (as 'headroom SUB --help')

Examples:
  headroom run -j 4 -- gzip -k ::: *.log
  headroom run --input-dir ./videos --ext mp4,mkv --output-dir ./restored \
      --output-name '{{/.}}_1080p.mp4' --skip-existing -- upscale --in {{}} --out {{out}}
  find . -name '*.wav' | headroom list -- ffmpeg -i {{}} {{.}}.flac
  headroom status --watch
  headroom report --json report.json --html report.html
  headroom gpus --watch
)",
                     version);
}

std::string SubcommandHelp(std::string_view subcommand) {
  if (subcommand == "gpus") {
    std::string out = "Usage: headroom gpus [--watch] [--json] [OPTIONS]\n";
    out += kGpusIntro;
    out += OptionsHelp(kForGpus);
    out += kOtherConfigHelp;
    return out;
  }
  if (subcommand == "footprints") {
    std::string out = "Usage: headroom footprints [--json] [--forget CLASS | --all] [OPTIONS]\n";
    out += kFootprintsIntro;
    out += OptionsHelp(kForFootprints);
    out += kOtherConfigHelp;
    return out;
  }
  if (subcommand == "resume") {
    std::string out = "Usage: headroom resume [ID] [--failed] [OPTIONS]\n";
    out += kResumeIntro;
    out += OptionsHelp(kForResume);
    return out;
  }
  if (subcommand == "log") {
    std::string out = "Usage: headroom log [--batch ID] [OPTIONS] JOB|#N\n";
    out += kLogIntro;
    out += OptionsHelp(kForLog);
    return out;
  }
  if (subcommand == "ctl") {
    std::string out = "Usage: headroom ctl [--batch ID] [OPTIONS] drain|pause|continue|jobs N\n";
    out += kCtlIntro;
    out += OptionsHelp(kForCtl);
    return out;
  }
  if (subcommand == "status" || subcommand == "report") {
    bool status = subcommand == "status";
    std::string out = status ? "Usage: headroom status [--batch ID] [--json] [--watch] [OPTIONS]\n"
                             : "Usage: headroom report [--batch ID] [--json FILE] [--html FILE] "
                               "[--trace FILE] [OPTIONS]\n";
    out += status ? kStatusIntro : kReportIntro;
    out += OptionsHelp(status ? kForStatus : kForReport);
    out += kOtherConfigHelp;
    return out;
  }
  std::string out =
      fmt::format("Usage: headroom {} [OPTIONS] -- COMMAND [ARG...] [::: INPUT...]\n", subcommand);
  if (subcommand == "list") {
    out +=
        "\nPrints each command that 'headroom run' would start with the same options, one per\n"
        "line, shell-quoted so that it can be pasted into a shell; runs nothing.\n";
  }
  out += kRunIntro;
  out += kResourcesHelp;
  out += OptionsHelp(kForRun);
  out += kConfigHelp;
  return out;
}

}  // namespace headroom

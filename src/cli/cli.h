// The command line: argv + HEADROOM_* environment + TOML config -> Options.
// The only translation unit that includes toml++ is config_file.cc, to keep
// compile times down.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/options.h"
#include "util/status.h"

namespace headroom {

enum class Command {
  kRun,     // headroom run ...
  kList,    // headroom list ... (same options as run; prints, runs nothing)
  kGpus,    // headroom gpus [--watch] [--json]: show the GPUs; options.command is empty
  kStatus,  // headroom status [--batch ID] [--json] [--watch]: a batch from the journal
  kReport,  // headroom report [--batch ID] --json FILE --html FILE --trace FILE (any of them)
  kFootprints,  // headroom footprints [--json] [--forget CLASS | --all]: what was learned
  kCtl,     // headroom ctl [--batch ID] drain|pause|continue|jobs N: steer a running batch
  kLog,     // headroom log [--batch ID] JOB|#N [--stderr] [-f]: a job's output
  kResume,  // headroom resume [ID] [--failed]: continue a batch as it was started
  kSlurmExec,  // headroom slurm-exec SPEC (hidden): a Slurm job's unit, on its node
  kPrint,   // --help, --version, --print-config: print `text` and exit 0
};

struct Cli {
  Command command = Command::kPrint;
  Options options;
  // Each option of the subcommand with its effective value and source, as
  // --print-config lists them (the journal stores them with a batch).
  std::vector<ConfigEntry> effective;
  std::string text;  // for kPrint: what to print on stdout, ending with a newline
  std::vector<std::string> args;  // the command line after the program name, as given
};

// Parses argv (argv[0] is the program name). `env` is the process
// environment as name -> value (only HEADROOM_* names are read). Returns an
// error Status (one line, naming the bad value and what was expected) for any
// usage, configuration or value error; main() exits 2 on it.
Status ParseCli(const std::vector<std::string>& argv,
                const std::map<std::string, std::string>& env, Cli* cli);

// As above, with the machine's CPU count given instead of read from
// std::thread::hardware_concurrency(), so that "auto" values are testable.
Status ParseCli(const std::vector<std::string>& argv,
                const std::map<std::string, std::string>& env, unsigned cores, Cli* cli);

}  // namespace headroom

// Splits the words after `headroom run` (or `list`) into options, COMMAND
// and the inputs after ":::". GNU style: --name VALUE, --name=VALUE, -j4,
// -j 4, clustered short flags (-qv); "--" ends the options, and so does the
// first word that is not an option, so COMMAND's own options stay its own.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/option_spec.h"
#include "util/status.h"

namespace headroom {

struct CommandLine {
  // Each option given, with its words in the order given: a value option's
  // values, or a flag's "true" (or the VALUE of --flag=VALUE).
  std::map<const OptionSpec*, std::vector<std::string>> values;
  std::vector<std::string> command;  // up to the first standalone ":::"
  bool has_arg_inputs = false;       // ":::" appeared
  std::vector<std::string> arg_inputs;
  std::vector<std::string> arg_files;  // the files after "::::" (GNU parallel's)
};

// `command_bit` is the subcommand's (kForRun, kForStatus, ...): a long name
// that two subcommands use differently (--json) is read as that subcommand's.
// Errors: "unknown option '--jbos'", "--jobs: missing N|auto", and GNU
// parallel's input constructs headroom does not do (several ::: groups,
// :::+), named with what to write instead: never taken as inputs.
Status SplitCommandLine(const std::vector<std::string>& args, unsigned command_bit,
                        CommandLine* out);

}  // namespace headroom

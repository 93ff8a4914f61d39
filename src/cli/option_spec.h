// The table of `headroom run` options: names, help, defaults, where each may
// be set, and how its value is applied to Options. The command line parser,
// the environment and config readers, --help and --print-config all work
// from this one table, so an option is added in one place.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/options.h"
#include "util/status.h"

namespace headroom {

enum class ValueKind {
  kFlag,    // --recursive; "true"/"false" words, or 1/0, yes/no, on/off
  kScalar,  // --jobs N; one word
  kList,    // --env K=V; repeatable, every word kept
};

enum class OptionScope {
  kEverywhere,       // command line, HEADROOM_<NAME> and config key <name>
  kNoConfigFile,     // command line and environment (--config, --profile)
  kCommandLineOnly,  // --help, --print-config
};

// Which subcommands take an option: a bit set of these.
constexpr unsigned kForRun = 1;     // run and list
constexpr unsigned kForGpus = 2;    // gpus
constexpr unsigned kForStatus = 4;  // status
constexpr unsigned kForReport = 8;  // report
constexpr unsigned kForFootprints = 16;  // footprints
constexpr unsigned kForCtl = 32;         // ctl
constexpr unsigned kForLog = 64;         // log
constexpr unsigned kForResume = 128;     // resume

// Applies an option's words (one for flags and scalars) to `options`. Sets
// *resolved when the effective value differs from the words ("auto" -> "6").
// `cores` is the machine's CPU count, for "auto" values. Options are applied
// in table order, so --threads-per-job sees the resolved --jobs.
using ApplyFn = Status (*)(const std::vector<std::string>& words, unsigned cores, Options* options,
                           std::string* resolved);

struct OptionSpec {
  std::string_view name;        // long name without dashes: "input-dir"
  char short_name;              // 'j', or 0 for none
  std::string_view value_name;  // "DIR", "N|auto"; empty for flags
  ValueKind kind;
  OptionScope scope;
  std::string_view default_text;  // what is applied when no source sets it; "" = none
  std::string_view group;         // heading in --help
  std::string_view help;          // one line
  ApplyFn apply;                  // nullptr: handled by ParseCli itself
  unsigned commands = kForRun;    // a set of kForRun, kForGpus, kForStatus, kForReport, kForFootprints
};

// All options of every subcommand, in --help order.
std::span<const OptionSpec> OptionSpecs();

// nullptr when there is no such option.
const OptionSpec* FindLongOption(std::string_view name);
// Two subcommands may give one name different meanings (`status --json` is a
// flag, `report --json FILE` takes a file), so the table may hold a name once
// per subcommand: this finds the one `command_bit` takes, else the first of
// that name (for "an option of another subcommand" errors), else nullptr.
const OptionSpec* FindLongOption(std::string_view name, unsigned command_bit);
const OptionSpec* FindShortOption(char short_name);

std::string EnvName(const OptionSpec& spec);    // "HEADROOM_INPUT_DIR"
std::string ConfigKey(const OptionSpec& spec);  // "input_dir"

}  // namespace headroom

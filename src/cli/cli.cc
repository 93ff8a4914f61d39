#include "cli/cli.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <thread>

#include "cli/command_line.h"
#include "cli/completions.h"
#include "cli/config_file.h"
#include "cli/help_text.h"
#include "cli/option_spec.h"
#include "cli/option_values.h"
#include "util/shell_quote.h"

namespace headroom {
namespace {

using Env = std::map<std::string, std::string>;

// Where a value came from, lowest precedence first.
enum class Tier { kDefault, kConfigTopLevel, kConfigProfile, kEnv, kCommandLine };

// The value an option ends up with and where it came from.
struct Setting {
  std::vector<std::string> words;
  Tier tier = Tier::kDefault;
  std::string source;   // for --print-config: "env HEADROOM_JOBS"
  std::string context;  // for errors: "HEADROOM_JOBS", "config a.toml [profile.x]: jobs"
  int line = 0;         // config file line, for errors
};

const std::string& Last(const std::vector<std::string>& words) {
  static const std::string kEmpty;
  return words.empty() ? kEmpty : words.back();
}

Status WithOrigin(const Status& status, const Setting& setting) {
  if (status.ok()) return status;
  std::string message = setting.context + ": " + status.message();
  if (setting.line > 0) message += fmt::format(" (line {})", setting.line);
  return Status::Error(message);
}

// A list from the environment holds one item per line.
std::vector<std::string> EnvWords(const OptionSpec& spec, const std::string& value) {
  if (spec.kind != ValueKind::kList) return {value};
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = std::min(value.find('\n', start), value.size());
    std::string line = value.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) words.push_back(line);
    start = end + 1;
  }
  return words;
}

std::vector<std::string> DefaultWords(const OptionSpec& spec) {
  if (spec.kind == ValueKind::kList && spec.default_text.empty()) return {};
  return {std::string(spec.default_text)};
}

// Finds `spec`'s value in precedence order: command line, environment,
// config file (profile, then top level), default.
Setting Lookup(const OptionSpec& spec, const CommandLine& command_line, const Env& env,
               const ConfigFile* config, const std::string& profile) {
  auto given = command_line.values.find(&spec);
  if (given != command_line.values.end()) {
    std::vector<std::string> words = given->second;
    if (spec.kind != ValueKind::kList) words = {Last(words)};  // the last one wins
    return {words, Tier::kCommandLine, "command line", fmt::format("--{}", spec.name)};
  }
  if (spec.scope != OptionScope::kCommandLineOnly) {
    std::string name = EnvName(spec);
    auto value = env.find(name);
    if (value != env.end() && !value->second.empty()) {
      return {EnvWords(spec, value->second), Tier::kEnv, "env " + name, name};
    }
  }
  if (config != nullptr && spec.scope == OptionScope::kEverywhere) {
    std::string key = ConfigKey(spec);
    if (const ConfigValue* value = config->Find(key, profile)) {
      std::string source = config->Source(*value);
      Tier tier = value->profile.empty() ? Tier::kConfigTopLevel : Tier::kConfigProfile;
      return {value->words, tier, source, source + ": " + key, value->line};
    }
  }
  return {DefaultWords(spec), Tier::kDefault, "default", fmt::format("default of --{}", spec.name)};
}

std::map<std::string, ValueKind> ConfigKeys() {
  std::map<std::string, ValueKind> keys;
  for (const OptionSpec& spec : OptionSpecs()) {
    if (spec.scope == OptionScope::kEverywhere) keys[ConfigKey(spec)] = spec.kind;
  }
  return keys;
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string joined;
  for (const std::string& item : items) {
    if (!joined.empty()) joined += separator;
    joined += item;
  }
  return joined;
}

// Loads the config file and checks the profile, both named by the command
// line or the environment.
Status LoadConfig(const Setting& path, const Setting& profile, ConfigFile* config, bool* loaded) {
  *loaded = !Last(path.words).empty();
  if (*loaded) {
    Status status = config->Load(Last(path.words), ConfigKeys());
    if (!status.ok()) return status;
  }
  const std::string& name = Last(profile.words);
  if (name.empty()) return Status::Ok();
  if (!*loaded) {
    return WithOrigin(Status::Error(fmt::format("'{}' needs a config file (--config FILE)", name)),
                      profile);
  }
  if (config->HasProfile(name)) return Status::Ok();
  std::vector<std::string> names = config->ProfileNames();
  std::string known = names.empty() ? "it defines none" : "profiles: " + Join(names, ", ");
  return WithOrigin(
      Status::Error(fmt::format("'{}' is not a profile in {} ({})", name, config->path(), known)),
      profile);
}

// -q and -v from different sources: the higher precedence wins; from the same
// source they contradict each other.
Status ResolveVerbosity(const Setting& quiet, const Setting& verbose, Verbosity* verbosity) {
  bool is_quiet = false;
  bool is_verbose = false;
  // Both were validated when applied.
  (void)ParseBoolWord(Last(quiet.words), &is_quiet);
  (void)ParseBoolWord(Last(verbose.words), &is_verbose);
  if (is_quiet && is_verbose) {
    if (quiet.tier == verbose.tier) {
      return Status::Error(
          fmt::format("{} and {} cannot be used together", quiet.context, verbose.context));
    }
    (quiet.tier > verbose.tier ? is_verbose : is_quiet) = false;
  }
  *verbosity = is_quiet ? Verbosity::kQuiet : is_verbose ? Verbosity::kVerbose : Verbosity::kNormal;
  return Status::Ok();
}

std::string DisplayValue(const OptionSpec& spec, const Setting& setting,
                         const std::string& resolved) {
  std::string value;
  bool flag = false;
  if (spec.kind == ValueKind::kFlag && ParseBoolWord(Last(setting.words), &flag).ok()) {
    value = flag ? "true" : "false";
  } else if (std::all_of(setting.words.begin(), setting.words.end(),
                         [](const std::string& word) { return word.empty(); })) {
    value = "(none)";
  } else {
    value = ShellJoin(setting.words);
  }
  if (!resolved.empty()) value += fmt::format(" ({})", resolved);
  return value;
}

std::string FormatRows(const std::vector<ConfigEntry>& rows) {
  size_t name_width = 0;
  size_t value_width = 10;
  for (const ConfigEntry& row : rows) {
    name_width = std::max(name_width, row.name.size());
    value_width = std::max(value_width, std::min<size_t>(row.value.size(), 40));
  }
  std::string text;
  for (const ConfigEntry& row : rows) {
    text += fmt::format("{:<{}} = {:<{}} ({})\n", row.name, name_width, row.value, value_width,
                        row.source);
  }
  return text;
}

// True when a command-line-only flag (--help, --print-config) was given and
// not turned off with =false.
Status CommandLineFlag(const CommandLine& command_line, std::string_view name, bool* value) {
  const OptionSpec* spec = FindLongOption(name);
  auto given = command_line.values.find(spec);
  *value = false;
  if (given == command_line.values.end()) return Status::Ok();
  return ParseBoolWord(Last(given->second), value).WithContext(fmt::format("--{}", name));
}

// "--vram-low '0.9'", "HEADROOM_VRAM_LOW '0.9'", "--vram-high '0.85' (default)":
// a setting named as the user gave it, for errors about two options at once.
std::string Named(const OptionSpec& spec, const Setting& setting) {
  if (setting.tier == Tier::kDefault) {
    return fmt::format("--{} '{}' (default)", spec.name, Last(setting.words));
  }
  std::string text = fmt::format("{} '{}'", setting.context, Last(setting.words));
  if (setting.line > 0) text += fmt::format(" (line {})", setting.line);
  return text;
}

// Checks between options, once each has its effective value.
Status CheckPairs(const std::map<std::string_view, Setting>& settings, const Options& options) {
  auto named = [&](std::string_view name) {
    return Named(*FindLongOption(name), settings.at(name));
  };
  if (options.vram_low > options.vram_high) {
    return Status::Error(fmt::format("{} is above {} (expected 0 < --vram-low <= --vram-high <= 1)",
                                     named("vram-low"), named("vram-high")));
  }
  if (options.slurm && options.worker) {
    return Status::Error(fmt::format(
        "{} and {} cannot be used together (a worker outlives its jobs; a Slurm job does not)",
        named("executor"), named("worker")));
  }
  if (options.line_buffer && (options.keep_order || options.no_job_output)) {
    std::string_view other = options.keep_order ? "keep-order" : "no-job-output";
    return Status::Error(fmt::format(
        "{} and {} cannot be used together (--line-buffer prints lines as jobs write them; {})",
        named("line-buffer"), named(other),
        options.keep_order ? "-k waits for each job's turn" : "--no-job-output prints none"));
  }
  if (options.metrics_linger.count() > 0 && options.metrics_addr.empty()) {
    return Status::Error(fmt::format("{} needs --metrics-addr (there is no endpoint to keep serving)",
                                     named("metrics-linger")));
  }
  if (options.temp_warm >= options.temp_limit) {
    return Status::Error(fmt::format("{} is not below {} (expected --temp-warm < --temp-limit)",
                                     named("temp-warm"), named("temp-limit")));
  }
  return Status::Ok();
}

// Applies every option of the subcommand (`command_bit`) from its winning
// source to `options`, and collects the --print-config rows.
Status ApplyOptions(const CommandLine& command_line, const Env& env, const ConfigFile* config,
                    const std::string& profile, unsigned cores, unsigned command_bit,
                    Options* options, std::vector<ConfigEntry>* rows) {
  std::map<std::string_view, Setting> settings;
  for (const OptionSpec& spec : OptionSpecs()) {
    if ((spec.commands & command_bit) == 0) continue;
    // --help and --print-config were handled before.
    if (spec.scope == OptionScope::kCommandLineOnly && spec.apply == nullptr) continue;
    Setting setting = Lookup(spec, command_line, env, config, profile);
    std::string resolved;
    if (spec.apply != nullptr) {
      Status status = spec.apply(setting.words, cores, options, &resolved);
      if (!status.ok()) return WithOrigin(status, setting);
    }
    if (spec.scope != OptionScope::kCommandLineOnly) {
      rows->push_back({ConfigKey(spec), DisplayValue(spec, setting, resolved), setting.source});
    }
    settings[spec.name] = std::move(setting);
  }
  if (command_bit != kForRun) return Status::Ok();
  Status status = CheckPairs(settings, *options);
  if (!status.ok()) return status;
  return ResolveVerbosity(settings.at("quiet"), settings.at("verbose"), &options->verbosity);
}

unsigned CommandBit(std::string_view subcommand) {
  if (subcommand == "gpus") return kForGpus;
  if (subcommand == "status") return kForStatus;
  if (subcommand == "report") return kForReport;
  if (subcommand == "footprints") return kForFootprints;
  if (subcommand == "ctl") return kForCtl;
  if (subcommand == "log") return kForLog;
  if (subcommand == "resume") return kForResume;
  return kForRun;
}

// The first subcommand that takes an option of `commands`, for errors.
std::string_view OwnerName(unsigned commands) {
  if ((commands & kForRun) != 0) return "run";
  if ((commands & kForGpus) != 0) return "gpus";
  if ((commands & kForStatus) != 0) return "status";
  if ((commands & kForReport) != 0) return "report";
  if ((commands & kForFootprints) != 0) return "footprints";
  if ((commands & kForCtl) != 0) return "ctl";
  if ((commands & kForLog) != 0) return "log";
  return "resume";
}

// An option of another subcommand, given on the command line, is a usage
// error; from the environment or a config file it is simply not read, so one
// config file can serve every subcommand.
Status CheckOptionsBelong(const CommandLine& command_line, const std::string& subcommand) {
  unsigned bit = CommandBit(subcommand);
  for (const auto& [spec, words] : command_line.values) {
    if ((spec->commands & bit) != 0) continue;
    std::string_view owner = OwnerName(spec->commands);
    return Status::Error(
        fmt::format("--{} is an option of 'headroom {}', not of 'headroom {}' (see 'headroom {} "
                    "--help')",
                    spec->name, owner, subcommand, subcommand));
  }
  return Status::Ok();
}

// `headroom gpus`, `status` and `report` run nothing, so they take no COMMAND.
Status CheckNoCommand(const CommandLine& command_line, const std::string& subcommand) {
  if (command_line.command.empty() && !command_line.has_arg_inputs &&
      command_line.arg_files.empty()) {
    return Status::Ok();
  }
  std::string word = command_line.command.empty() ? ":::" : command_line.command.front();
  return Status::Error(fmt::format(
      "unexpected argument '{}' (headroom {} takes only options; see 'headroom {} --help')", word,
      subcommand, subcommand));
}

// `headroom ctl drain|pause|continue|jobs N`: the words after the options.
Status ParseCtlWords(const std::vector<std::string>& words, Options* options) {
  const char* usage = "(usage: headroom ctl [--batch ID] drain|pause|continue|jobs N)";
  if (words.empty()) return Status::Error(fmt::format("ctl: no action given {}", usage));
  const std::string& action = words.front();
  if (action != "drain" && action != "pause" && action != "continue" && action != "jobs") {
    return Status::Error(fmt::format(
        "ctl: unknown action '{}' (expected drain, pause, continue or jobs N)", action));
  }
  size_t wanted = action == "jobs" ? 2 : 1;
  if (words.size() != wanted) {
    const std::string& extra = words.size() > wanted ? words[wanted] : action;
    return Status::Error(words.size() > wanted
                             ? fmt::format("ctl {}: unexpected argument '{}' {}", action, extra, usage)
                             : fmt::format("ctl jobs: no slot count given (e.g. 'headroom ctl jobs 8')"));
  }
  options->ctl_action = action;
  if (action == "jobs") {
    const std::string& n = words[1];
    bool digits = !n.empty() && n.size() <= 6 &&
                  n.find_first_not_of("0123456789") == std::string::npos;
    int value = digits ? std::stoi(n) : 0;
    if (value < 1) {
      return Status::Error(
          fmt::format("ctl jobs: '{}' is not a slot count (expected a whole number >= 1)", n));
    }
    options->ctl_jobs = value;
  }
  return Status::Ok();
}

// --no-journal leaves nothing to resume from or to report on.
Status CheckNoJournal(const Options& options) {
  const char* other = options.resume_failed      ? "--resume-failed"
                      : options.resume           ? "--resume"
                      : options.batch.has_value() ? "--batch"
                      : !options.report_json.empty() ? "--report"
                                                      : nullptr;
  if (other == nullptr) return Status::Ok();
  return Status::Error(fmt::format(
      "--no-journal and {} cannot be used together ({} needs the batch's journal)", other, other));
}

// Everything after the subcommand word.
// ctl, log and resume take their words anywhere among the options
// (`headroom log clip.mp4 -f`): the words go last, after "--", so that the
// splitter, which ends the options at the first word, sees every option.
// An option's value stays with it.
std::vector<std::string> WordsLast(const std::vector<std::string>& args, unsigned command_bit) {
  std::vector<std::string> options, words;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      words.insert(words.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    bool negative_number = arg.size() >= 2 && arg[0] == '-' &&
                           arg.find_first_not_of("0123456789", 1) == std::string::npos;
    if (arg.size() < 2 || arg[0] != '-' || negative_number) {
      words.push_back(arg);
      continue;
    }
    options.push_back(arg);
    const OptionSpec* spec = nullptr;
    if (arg.rfind("--", 0) == 0) {
      if (arg.find('=') == std::string::npos) spec = FindLongOption(arg.substr(2), command_bit);
    } else if (arg.size() == 2) {
      spec = FindShortOption(arg[1]);
    }
    if (spec != nullptr && spec->kind != ValueKind::kFlag && i + 1 < args.size()) {
      options.push_back(args[++i]);
    }
  }
  if (words.empty()) return options;
  options.push_back("--");
  options.insert(options.end(), words.begin(), words.end());
  return options;
}

Status ParseSubcommand(const std::string& subcommand, const std::vector<std::string>& given,
                       const Env& env, unsigned cores, Cli* cli) {
  std::string hint = fmt::format(" (see 'headroom {} --help')", subcommand);
  bool takes_words = subcommand == "ctl" || subcommand == "log" || subcommand == "resume";
  std::vector<std::string> args = takes_words ? WordsLast(given, CommandBit(subcommand)) : given;
  CommandLine command_line;
  Status status = SplitCommandLine(args, CommandBit(subcommand), &command_line);
  if (!status.ok()) return Status::Error(status.message() + hint);
  status = CheckOptionsBelong(command_line, subcommand);
  if (!status.ok()) return status;

  bool help = false;
  bool print_config = false;
  status = CommandLineFlag(command_line, "help", &help);
  if (status.ok()) status = CommandLineFlag(command_line, "print-config", &print_config);
  if (!status.ok()) return status;
  if (help) {
    cli->command = Command::kPrint;
    cli->text = SubcommandHelp(subcommand);
    return Status::Ok();
  }

  Setting config_path = Lookup(*FindLongOption("config"), command_line, env, nullptr, "");
  Setting profile = Lookup(*FindLongOption("profile"), command_line, env, nullptr, "");
  ConfigFile config;
  bool have_config = false;
  status = LoadConfig(config_path, profile, &config, &have_config);
  if (!status.ok()) return status;

  Options& options = cli->options;
  std::vector<ConfigEntry>& rows = cli->effective;
  status = ApplyOptions(command_line, env, have_config ? &config : nullptr, Last(profile.words),
                        cores, CommandBit(subcommand), &options, &rows);
  if (!status.ok()) return status;

  if (subcommand == "resume") {
    const char* usage = "(usage: headroom resume [ID] [--failed])";
    if (command_line.has_arg_inputs || !command_line.arg_files.empty() ||
        command_line.command.size() > 1) {
      std::string extra = command_line.command.size() > 1 ? command_line.command[1] : ":::";
      return Status::Error(fmt::format("resume: unexpected argument '{}' {}", extra, usage));
    }
    if (!command_line.command.empty()) {
      const std::string& id = command_line.command.front();
      bool digits = !id.empty() && id.size() <= 12 &&
                    id.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || std::stoll(id) < 1) {
        return Status::Error(
            fmt::format("resume: '{}' is not a batch id (expected a whole number >= 1) {}", id, usage));
      }
      if (options.batch) return Status::Error("resume: give the batch once, as ID or as --batch ID");
      options.batch = std::stoll(id);
    }
    cli->command = Command::kResume;
  } else if (subcommand == "log") {
    const char* usage = "(usage: headroom log [--batch ID] JOB|#N [--stderr] [-f])";
    if (command_line.has_arg_inputs || !command_line.arg_files.empty() ||
        command_line.command.size() > 1) {
      std::string extra = command_line.command.size() > 1 ? command_line.command[1] : ":::";
      return Status::Error(fmt::format("log: unexpected argument '{}' {}", extra, usage));
    }
    if (command_line.command.empty()) {
      return Status::Error(fmt::format("log: which job? {}", usage));
    }
    options.log_job = command_line.command.front();
    cli->command = Command::kLog;
  } else if (subcommand == "ctl") {
    if (command_line.has_arg_inputs || !command_line.arg_files.empty()) {
      return Status::Error("ctl: unexpected ':::' (usage: headroom ctl [--batch ID] drain|pause|continue|jobs N)");
    }
    status = ParseCtlWords(command_line.command, &options);
    if (!status.ok()) return status;
    cli->command = Command::kCtl;
  } else if (subcommand == "gpus" || subcommand == "status" || subcommand == "report" ||
      subcommand == "footprints") {
    status = CheckNoCommand(command_line, subcommand);
    if (!status.ok()) return status;
    cli->command = subcommand == "gpus"       ? Command::kGpus
                   : subcommand == "status"   ? Command::kStatus
                   : subcommand == "report"   ? Command::kReport
                                              : Command::kFootprints;
  } else {
    options.command = std::move(command_line.command);
    options.has_arg_inputs = command_line.has_arg_inputs;
    options.arg_inputs = std::move(command_line.arg_inputs);
    for (std::string& file : command_line.arg_files) options.arg_files.push_back(std::move(file));
    cli->command = subcommand == "list" ? Command::kList : Command::kRun;
    if (cli->command == Command::kList) options.dry_run = true;
  }

  if (print_config) {
    cli->command = Command::kPrint;
    cli->text = FormatRows(rows);
    return Status::Ok();
  }
  if (cli->command == Command::kReport && options.report_json.empty() &&
      options.report_html.empty() && options.report_trace.empty()) {
    return Status::Error(
        "nothing to write (usage: headroom report [--batch ID] --json FILE --html FILE --trace "
        "FILE; any of them)");
  }
  if (!options.slurm_extra.empty()) {
    std::vector<std::string> words;
    std::string error;
    if (!SplitShellWords(options.slurm_extra, &words, &error)) {
      return Status::Error("--slurm-extra: " + error);
    }
  }
  if (!options.shell && !options.cpu_command.empty()) {
    std::vector<std::string> words;
    std::string error;
    if (!SplitShellWords(options.cpu_command, &words, &error)) {
      return Status::Error("--cpu-command: " + error);
    }
    if (words.empty()) return Status::Error("--cpu-command: no command in '" + options.cpu_command + "'");
  }
  if (options.no_journal && (cli->command == Command::kRun || cli->command == Command::kList)) {
    status = CheckNoJournal(options);
    if (!status.ok()) return status;
  }
  if ((cli->command == Command::kRun || cli->command == Command::kList) &&
      options.command.empty()) {
    return Status::Error(fmt::format(
        "no command given (usage: headroom {} [OPTIONS] -- COMMAND [ARG...])", subcommand));
  }
  return Status::Ok();
}

Status ParseArgv(const std::vector<std::string>& argv, const Env& env, unsigned cores, Cli* cli) {
  if (argv.size() < 2) return Status::Error("no subcommand given (try 'headroom run --help')");
  const std::string& first = argv[1];
  if (first == "help" && argv.size() > 2) {  // headroom help SUB
    const std::string& sub = argv[2];
    if (sub != "run" && sub != "list" && sub != "gpus" && sub != "status" && sub != "report" &&
        sub != "footprints" && sub != "ctl" && sub != "log" && sub != "resume") {
      return Status::Error(fmt::format(
          "help: unknown subcommand '{}' (expected run, list, status, report, gpus, footprints, "
          "ctl, log or resume)",
          sub));
    }
    cli->command = Command::kPrint;
    cli->text = SubcommandHelp(sub);
    return Status::Ok();
  }
  if (first == "-h" || first == "--help" || first == "help") {
    cli->command = Command::kPrint;
    cli->text = TopLevelHelp(HEADROOM_VERSION);
    return Status::Ok();
  }
  if (first == "--version" || first == "-V") {
    cli->command = Command::kPrint;
    cli->text = "headroom " HEADROOM_VERSION "\n";
    return Status::Ok();
  }
  if (first == "completions") {
    if (argv.size() != 3) return Status::Error("usage: headroom completions bash|zsh|fish");
    cli->command = Command::kPrint;
    return CompletionScript(argv[2], &cli->text);
  }
  if (first == "manpage") {  // hidden: what the build writes as <build>/share/headroom.1
    cli->command = Command::kPrint;
    cli->text = ManPage(HEADROOM_VERSION);
    return Status::Ok();
  }
  if (first == "slurm-exec") {  // hidden: what --executor slurm submits
    if (argv.size() != 3) return Status::Error("usage: headroom slurm-exec SPEC");
    cli->command = Command::kSlurmExec;
    cli->options.slurm_spec = argv[2];
    return Status::Ok();
  }
  if (!first.empty() && first[0] == '-') {
    return Status::Error(
        fmt::format("unknown option '{}' before the subcommand (see 'headroom --help')", first));
  }
  if (first != "run" && first != "list" && first != "gpus" && first != "status" &&
      first != "report" && first != "footprints" && first != "ctl" && first != "log" &&
      first != "resume") {
    return Status::Error(fmt::format(
        "unknown subcommand '{}' (expected run, list, status, report, gpus, footprints, ctl, log or resume; see "
        "'headroom --help')",
        first));
  }
  return ParseSubcommand(first, std::vector<std::string>(argv.begin() + 2, argv.end()), env,
                         std::max(1u, cores), cli);
}

}  // namespace

Status ParseCli(const std::vector<std::string>& argv, const Env& env, unsigned cores, Cli* cli) {
  *cli = Cli();
  // Nothing below should throw, but an exception (bad_alloc, a library's
  // surprise) must still reach the user as one line, not an abort.
  try {
    if (!argv.empty()) cli->args.assign(argv.begin() + 1, argv.end());
    return ParseArgv(argv, env, cores, cli);
  } catch (const std::exception& error) {
    std::string message = error.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    return Status::Error(fmt::format("cannot parse the command line: {}", message));
  }
}

Status ParseCli(const std::vector<std::string>& argv, const Env& env, Cli* cli) {
  return ParseCli(argv, env, std::thread::hardware_concurrency(), cli);
}

}  // namespace headroom

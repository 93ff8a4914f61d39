#include "cli/cli.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli/option_spec.h"

namespace headroom {
namespace {

::testing::AssertionResult HasSubstr(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << part << "' is not in:\n" << text;
}

::testing::AssertionResult StartsWith(const std::string& text, const std::string& prefix) {
  if (text.rfind(prefix, 0) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not start with '" << prefix << "'";
}

::testing::AssertionResult Matches(const std::string& text, const std::string& regex) {
  if (std::regex_match(text, std::regex(regex))) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not match /" << regex << "/";
}

// A regular expression matching `text` literally.
std::string Literal(const std::string& text) {
  return std::regex_replace(text, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/headroom_cli_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes a config file into the temp dir and returns its path.
  std::string WriteConfig(const std::string& text, const std::string& name = "cfg.toml") {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  Status Parse(std::vector<std::string> args, unsigned cores = 8) {
    args.insert(args.begin(), "headroom");
    return ParseCli(args, env_, cores, &cli_);
  }

  // Parses args that must be valid and returns the options.
  Options Ok(const std::vector<std::string>& args, unsigned cores = 8) {
    Status status = Parse(args, cores);
    EXPECT_TRUE(status.ok()) << status.message();
    return cli_.options;
  }

  // Parses args that must be invalid and returns the error message.
  std::string Error(const std::vector<std::string>& args) {
    Status status = Parse(args);
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
    return status.message();
  }

  // The --print-config line of `key`.
  std::string ConfigLine(const std::string& key) {
    std::istringstream lines(cli_.text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(key + " ", 0) == 0) return line;
    }
    return "(no line for " + key + ")";
  }

  std::string dir_;
  std::map<std::string, std::string> env_;
  Cli cli_;
};

// --- subcommands, help, version ------------------------------------------

TEST_F(CliTest, NoSubcommandIsAnError) {
  EXPECT_EQ(Error({}), "no subcommand given (try 'headroom run --help')");
}

TEST_F(CliTest, UnknownSubcommandIsNamed) {
  EXPECT_EQ(Error({"frob"}),
            "unknown subcommand 'frob' (expected run, list, status, report or gpus; see "
            "'headroom --help')");
  EXPECT_TRUE(StartsWith(Error({"--jobs", "3"}), "unknown option '--jobs'"));
}

TEST_F(CliTest, TopLevelHelpListsSubcommandsAndExamples) {
  for (const char* flag : {"--help", "-h"}) {
    ASSERT_TRUE(Parse({flag}).ok());
    EXPECT_EQ(cli_.command, Command::kPrint);
    EXPECT_TRUE(HasSubstr(cli_.text, "\n  run "));
    EXPECT_TRUE(HasSubstr(cli_.text, "\n  list "));
    EXPECT_TRUE(HasSubstr(cli_.text, "\n  gpus "));
    EXPECT_TRUE(HasSubstr(cli_.text, "Examples:\n  headroom run"));
  }
}

TEST_F(CliTest, VersionIsPrinted) {
  ASSERT_TRUE(Parse({"--version"}).ok());
  EXPECT_EQ(cli_.command, Command::kPrint);
  EXPECT_TRUE(Matches(cli_.text, "headroom [0-9]+\\.[0-9]+\\.[0-9]+\n"));
}

TEST_F(CliTest, SubcommandHelpDocumentsEveryOptionWithDefaultAndEnv) {
  for (const char* subcommand : {"run", "list"}) {
    ASSERT_TRUE(Parse({subcommand, "--help"}).ok());
    EXPECT_EQ(cli_.command, Command::kPrint);
    EXPECT_TRUE(StartsWith(cli_.text, std::string("Usage: headroom ") + subcommand));
    size_t defaults = 0;
    for (size_t at = 0; (at = cli_.text.find("[default: ", at)) != std::string::npos; ++at) {
      ++defaults;
    }
    size_t of_run = 0;
    for (const OptionSpec& spec : OptionSpecs()) {
      if ((spec.commands & kForRun) == 0) {
        EXPECT_FALSE(HasSubstr(cli_.text, "--" + std::string(spec.name) + " ")) << spec.name;
        continue;
      }
      ++of_run;
      EXPECT_TRUE(HasSubstr(cli_.text, "--" + std::string(spec.name) + " ")) << spec.name;
      if (spec.scope != OptionScope::kCommandLineOnly) {
        EXPECT_TRUE(HasSubstr(cli_.text, "[env: " + EnvName(spec) + "]")) << spec.name;
      }
    }
    EXPECT_EQ(defaults, of_run);
  }
  ASSERT_TRUE(Parse({"run", "-h"}).ok());
  EXPECT_EQ(cli_.command, Command::kPrint);
}

TEST_F(CliTest, HelpLinesFitInOneHundredColumns) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--help"}, {"run", "--help"}, {"gpus", "--help"}}) {
    ASSERT_TRUE(Parse(args).ok());
    std::istringstream lines(cli_.text);
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
  }
}

// --- COMMAND and ::: ---------------------------------------------------------

TEST_F(CliTest, EverythingAfterDashDashIsTheCommand) {
  Options options = Ok({"run", "-j", "2", "--", "echo", "-j", "3", "--help", "--"});
  EXPECT_EQ(cli_.command, Command::kRun);
  EXPECT_EQ(options.command, (std::vector<std::string>{"echo", "-j", "3", "--help", "--"}));
  EXPECT_EQ(options.jobs, 2);
  EXPECT_FALSE(options.has_arg_inputs);
}

TEST_F(CliTest, FirstPositionalStartsTheCommandWithoutDashDash) {
  Options options = Ok({"run", "-j", "2", "--timeout", "5s", "echo", "-j", "3", "--", "x"});
  EXPECT_EQ(options.command, (std::vector<std::string>{"echo", "-j", "3", "--", "x"}));
  EXPECT_EQ(options.jobs, 2);
  EXPECT_EQ(options.timeout, Millis(5000));
}

TEST_F(CliTest, TripleColonEndsTheCommandAndStartsTheInputs) {
  Options options = Ok({"run", "--", "echo", "{}", ":::", "a", "b c", "-j", "--"});
  EXPECT_EQ(options.command, (std::vector<std::string>{"echo", "{}"}));
  EXPECT_TRUE(options.has_arg_inputs);
  EXPECT_EQ(options.arg_inputs, (std::vector<std::string>{"a", "b c", "-j", "--"}));

  options = Ok({"run", "gzip", ":::"});
  EXPECT_EQ(options.command, std::vector<std::string>{"gzip"});
  EXPECT_TRUE(options.has_arg_inputs);
  EXPECT_TRUE(options.arg_inputs.empty());

  // Only a standalone ":::" counts.
  options = Ok({"run", "echo", "::::", "a:::"});
  EXPECT_FALSE(options.has_arg_inputs);
  EXPECT_EQ(options.command, (std::vector<std::string>{"echo", "::::", "a:::"}));
}

TEST_F(CliTest, SecondTripleColonGroupIsAnError) {
  EXPECT_EQ(Error({"run", "echo", ":::", "a", ":::", "b"}),
            "multiple ::: groups are not supported (see 'headroom run --help')");
}

TEST_F(CliTest, EmptyCommandIsAnError) {
  EXPECT_EQ(Error({"run"}), "no command given (usage: headroom run [OPTIONS] -- COMMAND [ARG...])");
  EXPECT_EQ(Error({"run", "-j", "2", "--"}),
            "no command given (usage: headroom run [OPTIONS] -- COMMAND [ARG...])");
  EXPECT_EQ(Error({"run", "--", ":::", "a"}),
            "no command given (usage: headroom run [OPTIONS] -- COMMAND [ARG...])");
  EXPECT_EQ(Error({"list", "-j", "2"}),
            "no command given (usage: headroom list [OPTIONS] -- COMMAND [ARG...])");
}

TEST_F(CliTest, ListTakesTheSameOptionsAndIsADryRun) {
  Options options = Ok({"list", "-j", "3", "--ext", "mp4", "--", "echo", ":::", "a"});
  EXPECT_EQ(cli_.command, Command::kList);
  EXPECT_TRUE(options.dry_run);
  EXPECT_EQ(options.jobs, 3);
  EXPECT_EQ(options.arg_inputs, std::vector<std::string>{"a"});
  EXPECT_FALSE(Ok({"run", "echo"}).dry_run);
}

// --- option syntax -----------------------------------------------------------

TEST_F(CliTest, LongAndShortValueForms) {
  EXPECT_EQ(Ok({"run", "--jobs=4", "x"}).jobs, 4);
  EXPECT_EQ(Ok({"run", "-j4", "x"}).jobs, 4);
  EXPECT_EQ(Ok({"run", "-j=4", "x"}).jobs, 4);
  Options options = Ok({"run", "-qj", "4", "x"});
  EXPECT_EQ(options.jobs, 4);
  EXPECT_EQ(options.verbosity, Verbosity::kQuiet);
  EXPECT_EQ(Ok({"run", "-j", "2", "-j", "5", "x"}).jobs, 5);  // the last one wins
  EXPECT_EQ(Ok({"run", "--output-name", "-{/}", "x"}).output_name, "-{/}");
  EXPECT_EQ(Ok({"run", "--output-name=a=b", "x"}).output_name, "a=b");
}

TEST_F(CliTest, UnknownOptionsAreNamed) {
  EXPECT_EQ(Error({"run", "--jbos", "3", "x"}),
            "unknown option '--jbos' (see 'headroom run --help')");
  EXPECT_EQ(Error({"run", "--jbos=3", "x"}), "unknown option '--jbos' (see 'headroom run --help')");
  EXPECT_EQ(Error({"run", "-x", "cmd"}), "unknown option '-x' (see 'headroom run --help')");
  EXPECT_EQ(Error({"list", "-qz", "cmd"}), "unknown option '-z' (see 'headroom list --help')");
  EXPECT_EQ(Error({"run", "--version", "x"}),
            "unknown option '--version' (see 'headroom run --help')");
}

TEST_F(CliTest, MissingValuesAreNamed) {
  EXPECT_EQ(Error({"run", "-j"}), "--jobs: missing N|auto (see 'headroom run --help')");
  EXPECT_EQ(Error({"run", "--timeout"}), "--timeout: missing DURATION (see 'headroom run --help')");
  EXPECT_EQ(Error({"run", "--timeout", "--", "x"}),
            "--timeout: missing DURATION (see 'headroom run --help')");
}

// --- values ------------------------------------------------------------------

TEST_F(CliTest, DefaultsMatchOptionsDefaults) {
  Options options = Ok({"run", "x"}, 8);
  Options defaults;
  EXPECT_EQ(options.input_dir, defaults.input_dir);
  EXPECT_EQ(options.exts, defaults.exts);
  EXPECT_EQ(options.recursive, defaults.recursive);
  EXPECT_EQ(options.jobs_file, defaults.jobs_file);
  EXPECT_EQ(options.shell, defaults.shell);
  EXPECT_EQ(options.output_dir, defaults.output_dir);
  EXPECT_EQ(options.output_name, "{/}");
  EXPECT_EQ(options.skip_existing, defaults.skip_existing);
  EXPECT_EQ(options.max_count, std::nullopt);
  EXPECT_EQ(options.order, Order::kGiven);
  EXPECT_FALSE(options.dry_run);
  EXPECT_EQ(options.jobs, 6);
  EXPECT_EQ(options.threads_per_job, 1);
  EXPECT_TRUE(options.env.empty());
  EXPECT_EQ(options.timeout, std::nullopt);
  EXPECT_EQ(options.kill_grace, Millis(5000));
  EXPECT_EQ(options.retries, 0);
  EXPECT_EQ(options.retry_delay, Millis(30000));
  EXPECT_EQ(options.delay, Millis(0));
  EXPECT_EQ(options.halt, Halt::kNever);
  EXPECT_EQ(options.log_dir, ".headroom/logs");
  EXPECT_EQ(options.max_job_log, 64ull << 20);
  EXPECT_EQ(options.log_retention_days, 14);
  EXPECT_EQ(options.log_level, LogLevel::kInfo);
  EXPECT_EQ(options.log_format, LogFormat::kText);
  EXPECT_EQ(options.verbosity, Verbosity::kNormal);
  // Resources and out of memory.
  EXPECT_TRUE(options.gpus_all);
  EXPECT_TRUE(options.gpus.empty());
  EXPECT_EQ(options.gpu_provider, GpuProviderKind::kAuto);
  EXPECT_EQ(options.gpu_sim, "");
  EXPECT_EQ(options.monitor_interval, Millis(1000));
  EXPECT_EQ(options.max_memory_pct, 80);
  EXPECT_DOUBLE_EQ(options.vram_high, 0.85);
  EXPECT_DOUBLE_EQ(options.vram_low, 0.70);
  EXPECT_EQ(options.jobs_per_gpu, 0);
  EXPECT_EQ(options.temp_warm, 70);
  EXPECT_EQ(options.temp_limit, 80);
  EXPECT_EQ(options.min_free_disk, 1ull << 30);
  EXPECT_EQ(options.max_load, std::nullopt);
  EXPECT_EQ(options.gpu_mem, std::nullopt);
  EXPECT_EQ(options.ram_per_job, std::nullopt);
  EXPECT_EQ(options.policy, PolicyKind::kAdaptive);
  EXPECT_TRUE(options.oom_exit_codes.empty());
  EXPECT_TRUE(options.oom_patterns.empty());
  EXPECT_EQ(options.oom_retries, 3);
  EXPECT_FALSE(options.cpu_fallback);
  EXPECT_FALSE(options.watch);
  EXPECT_FALSE(options.json);
  // The table's defaults and the struct's agree for every field above.
  EXPECT_EQ(options.retry_delay, defaults.retry_delay);
  EXPECT_EQ(options.min_free_disk, defaults.min_free_disk);
  EXPECT_EQ(options.monitor_interval, defaults.monitor_interval);
  EXPECT_DOUBLE_EQ(options.vram_low, defaults.vram_low);
  EXPECT_EQ(options.temp_limit, defaults.temp_limit);
  EXPECT_EQ(options.oom_retries, defaults.oom_retries);
}

TEST_F(CliTest, AutoJobsAndThreadsFollowTheCoreCount) {
  EXPECT_EQ(Ok({"run", "x"}, 16).jobs, 14);
  EXPECT_EQ(Ok({"run", "x"}, 16).threads_per_job, 1);  // 16 / 14
  EXPECT_EQ(Ok({"run", "x"}, 2).jobs, 1);
  EXPECT_EQ(Ok({"run", "x"}, 2).threads_per_job, 2);
  EXPECT_EQ(Ok({"run", "x"}, 1).jobs, 1);
  EXPECT_EQ(Ok({"run", "x"}, 0).jobs, 1);  // unknown core count
  EXPECT_EQ(Ok({"run", "-j", "4", "x"}, 16).threads_per_job, 4);
  EXPECT_EQ(Ok({"run", "-j", "32", "x"}, 16).threads_per_job, 1);
  EXPECT_EQ(Ok({"run", "--threads-per-job", "3", "x"}).threads_per_job, 3);
  EXPECT_EQ(Ok({"run", "--threads-per-job", "off", "x"}).threads_per_job, 0);
}

TEST_F(CliTest, BadNumbersAreNamed) {
  EXPECT_EQ(Error({"run", "-j", "x", "cmd"}), "--jobs: 'x' is not a number or 'auto'");
  EXPECT_TRUE(StartsWith(Error({"run", "-j", "0", "cmd"}), "--jobs: '0' is out of range"));
  EXPECT_TRUE(StartsWith(Error({"run", "-j", "99999999999999999999", "cmd"}),
                         "--jobs: '99999999999999999999' is out of range"));
  EXPECT_EQ(Error({"run", "--jobs=", "cmd"}), "--jobs: '' is not a number or 'auto'");
  EXPECT_EQ(Error({"run", "--threads-per-job", "many", "cmd"}),
            "--threads-per-job: 'many' is not a number, 'auto' or 'off'");
  EXPECT_EQ(Error({"run", "--retries", "-1", "cmd"}),
            "--retries: '-1' is out of range (expected 0 to 1000000)");
  EXPECT_EQ(Error({"run", "--max-count", "3.5", "cmd"}),
            "--max-count: '3.5' is not a whole number");
  EXPECT_EQ(Error({"run", "--log-retention-days", "two", "cmd"}),
            "--log-retention-days: 'two' is not a whole number");
}

TEST_F(CliTest, CountsAndEnums) {
  Options options =
      Ok({"run", "--max-count", "0", "--retries", "3", "--log-retention-days", "0", "--order",
          "mtime", "--halt", "soon", "--log-level", "warn", "--log-format", "json", "x"});
  EXPECT_EQ(options.max_count, 0);
  EXPECT_EQ(options.retries, 3);
  EXPECT_EQ(options.log_retention_days, 0);
  EXPECT_EQ(options.order, Order::kMtime);
  EXPECT_EQ(options.halt, Halt::kSoon);
  EXPECT_EQ(options.log_level, LogLevel::kWarn);
  EXPECT_EQ(options.log_format, LogFormat::kJson);
  EXPECT_EQ(Error({"run", "--order", "random", "x"}),
            "--order: 'random' is not one of given, name, mtime, size");
  EXPECT_EQ(Error({"run", "--halt", "later", "x"}),
            "--halt: 'later' is not one of never, soon, now");
  EXPECT_EQ(Error({"run", "--log-level", "trace", "x"}),
            "--log-level: 'trace' is not one of debug, info, warn, error");
  EXPECT_EQ(Error({"run", "--log-format", "xml", "x"}),
            "--log-format: 'xml' is not one of text, json");
}

TEST_F(CliTest, SizesAndDurations) {
  Options options = Ok({"run", "--timeout", "1h30m", "--kill-grace", "500ms", "--retry-delay",
                        "1.5s", "--delay", "2", "--max-job-log", "1.5GiB", "x"});
  EXPECT_EQ(options.timeout, Millis(5400000));
  EXPECT_EQ(options.kill_grace, Millis(500));
  EXPECT_EQ(options.retry_delay, Millis(1500));
  EXPECT_EQ(options.delay, Millis(2000));
  EXPECT_EQ(options.max_job_log, 3ull << 29);
  EXPECT_EQ(Ok({"run", "--timeout", "0", "x"}).timeout, std::nullopt);
  EXPECT_EQ(Ok({"run", "--timeout", "none", "x"}).timeout, std::nullopt);
  EXPECT_EQ(Error({"run", "--timeout", "5x", "x"}),
            "--timeout: '5x' is not a duration (expected e.g. 90s, 2m, 1h30m)");
  EXPECT_EQ(Error({"run", "--kill-grace", "-1s", "x"}),
            "--kill-grace: '-1s' is not a duration (expected e.g. 90s, 2m, 1h30m)");
  EXPECT_EQ(Error({"run", "--max-job-log", "6X", "x"}),
            "--max-job-log: '6X' is not a size (expected e.g. 512M, 6G, 1.5GiB)");
}

TEST_F(CliTest, ExtensionsAreLowerCaseWithoutDots) {
  EXPECT_EQ(Ok({"run", "--ext", ".MP4, mkv,,.Avi", "x"}).exts,
            (std::vector<std::string>{"mp4", "mkv", "avi"}));
  EXPECT_EQ(Ok({"run", "--ext", "mp4", "--ext", "MKV", "x"}).exts,
            (std::vector<std::string>{"mp4", "mkv"}));
  EXPECT_TRUE(
      StartsWith(Error({"run", "--ext", "a/b", "x"}), "--ext: 'a/b' is not a file extension"));
}

TEST_F(CliTest, EnvAssignments) {
  Options options = Ok({"run", "--env", "A=1", "--env", "_B2=x=y", "--env", "C=", "x"});
  EXPECT_EQ(options.env, (std::vector<EnvVar>{{"A", "1"}, {"_B2", "x=y"}, {"C", ""}}));
  EXPECT_EQ(Error({"run", "--env", "NOEQ", "x"}), "--env: 'NOEQ' is not K=V");
  EXPECT_TRUE(
      StartsWith(Error({"run", "--env", "1A=x", "x"}), "--env: '1A' is not a valid variable name"));
  EXPECT_TRUE(
      StartsWith(Error({"run", "--env", "=x", "x"}), "--env: '' is not a valid variable name"));
  EXPECT_TRUE(StartsWith(Error({"run", "--env", "A-B=x", "x"}),
                         "--env: 'A-B' is not a valid variable name"));
}

TEST_F(CliTest, FlagsAndTheirValues) {
  Options options = Ok({"run", "--recursive", "--shell", "--skip-existing", "--dry-run", "x"});
  EXPECT_TRUE(options.recursive);
  EXPECT_TRUE(options.shell);
  EXPECT_TRUE(options.skip_existing);
  EXPECT_TRUE(options.dry_run);
  EXPECT_FALSE(Ok({"run", "--recursive=no", "x"}).recursive);
  EXPECT_EQ(Error({"run", "--recursive=maybe", "x"}),
            "--recursive: 'maybe' is not a boolean (expected 1/0, true/false, yes/no, on/off)");
}

TEST_F(CliTest, QuietAndVerbose) {
  EXPECT_EQ(Ok({"run", "-q", "x"}).verbosity, Verbosity::kQuiet);
  EXPECT_EQ(Ok({"run", "--verbose", "x"}).verbosity, Verbosity::kVerbose);
  EXPECT_EQ(Error({"run", "-q", "-v", "x"}), "--quiet and --verbose cannot be used together");
  EXPECT_EQ(Error({"run", "-qv", "x"}), "--quiet and --verbose cannot be used together");
  env_["HEADROOM_QUIET"] = "1";
  EXPECT_EQ(Ok({"run", "-v", "x"}).verbosity, Verbosity::kVerbose);  // command line wins
  EXPECT_EQ(Ok({"run", "x"}).verbosity, Verbosity::kQuiet);
}

TEST_F(CliTest, EmptyTemplatesAndLogDirsAreErrors) {
  EXPECT_TRUE(StartsWith(Error({"run", "--output-name", "", "x"}),
                         "--output-name: an empty value is not allowed"));
  EXPECT_TRUE(
      StartsWith(Error({"run", "--log-dir=", "x"}), "--log-dir: an empty value is not allowed"));
}

// --- environment -------------------------------------------------------------

TEST_F(CliTest, EnvironmentSetsOptions) {
  env_ = {{"HEADROOM_JOBS", "4"},         {"HEADROOM_TIMEOUT", "2m"},
          {"HEADROOM_EXT", "MP4,.mkv"},   {"HEADROOM_ENV", "A=1\nB=two words\r\n\n"},
          {"HEADROOM_RECURSIVE", "yes"},  {"HEADROOM_SKIP_EXISTING", "ON"},
          {"HEADROOM_SHELL", "0"},        {"HEADROOM_MAX_JOB_LOG", "1K"},
          {"HEADROOM_OUTPUT_DIR", "out"}, {"HEADROOM_NOT_AN_OPTION", "x"},
          {"HEADROOM_PRINT_CONFIG", "1"}, {"HEADROOM_HELP", "1"}};
  Options options = Ok({"run", "x"});
  EXPECT_EQ(cli_.command, Command::kRun);  // --help and --print-config are command line only
  EXPECT_EQ(options.jobs, 4);
  EXPECT_EQ(options.timeout, Millis(120000));
  EXPECT_EQ(options.exts, (std::vector<std::string>{"mp4", "mkv"}));
  EXPECT_EQ(options.env, (std::vector<EnvVar>{{"A", "1"}, {"B", "two words"}}));
  EXPECT_TRUE(options.recursive);
  EXPECT_TRUE(options.skip_existing);
  EXPECT_FALSE(options.shell);
  EXPECT_EQ(options.max_job_log, 1024u);
  EXPECT_EQ(options.output_dir, "out");
}

TEST_F(CliTest, EmptyEnvironmentVariableCountsAsUnset) {
  env_["HEADROOM_JOBS"] = "";
  EXPECT_EQ(Ok({"run", "x"}, 8).jobs, 6);
}

TEST_F(CliTest, BadEnvironmentValuesNameTheVariable) {
  env_ = {{"HEADROOM_TIMEOUT", "5x"}};
  EXPECT_EQ(Error({"run", "x"}),
            "HEADROOM_TIMEOUT: '5x' is not a duration (expected e.g. 90s, 2m, 1h30m)");
  env_ = {{"HEADROOM_JOBS", "x"}};
  EXPECT_EQ(Error({"run", "x"}), "HEADROOM_JOBS: 'x' is not a number or 'auto'");
  env_ = {{"HEADROOM_RECURSIVE", "maybe"}};
  EXPECT_EQ(
      Error({"run", "x"}),
      "HEADROOM_RECURSIVE: 'maybe' is not a boolean (expected 1/0, true/false, yes/no, on/off)");
  env_ = {{"HEADROOM_ENV", "A=1\nbad"}};
  EXPECT_EQ(Error({"run", "x"}), "HEADROOM_ENV: 'bad' is not K=V");
  env_ = {{"HEADROOM_QUIET", "1"}, {"HEADROOM_VERBOSE", "1"}};
  EXPECT_EQ(Error({"run", "x"}), "HEADROOM_QUIET and HEADROOM_VERBOSE cannot be used together");
}

TEST_F(CliTest, CommandLineValueIsNotCheckedAgainstOverriddenEnvironment) {
  env_ = {{"HEADROOM_JOBS", "x"}};
  EXPECT_EQ(Ok({"run", "-j", "3", "cmd"}).jobs, 3);
}

TEST_F(CliTest, RepeatableOptionOnTheCommandLineReplacesEnvironmentAndConfig) {
  std::string config = WriteConfig("env = [\"C=3\"]\next = [\"avi\"]\n");
  env_ = {{"HEADROOM_ENV", "A=1"}};
  Options options = Ok({"run", "--config", config, "--env", "B=2", "x"});
  EXPECT_EQ(options.env, (std::vector<EnvVar>{{"B", "2"}}));
  EXPECT_EQ(options.exts, std::vector<std::string>{"avi"});
  env_ = {{"HEADROOM_EXT", "mp4"}};
  EXPECT_EQ(Ok({"run", "--config", config, "x"}).exts, std::vector<std::string>{"mp4"});
  EXPECT_EQ(Ok({"run", "--config", config, "--ext", "mkv", "x"}).exts,
            std::vector<std::string>{"mkv"});
}

// --- config file and precedence ----------------------------------------------

TEST_F(CliTest, PrecedenceIsCommandLineEnvProfileTopLevelDefault) {
  std::string config = WriteConfig(R"(
jobs = 2
timeout = "10s"
skip_existing = true
[profile.fast]
jobs = 3
timeout = 20
skip_existing = false
)");
  env_ = {{"HEADROOM_CONFIG", config},
          {"HEADROOM_PROFILE", "fast"},
          {"HEADROOM_JOBS", "4"},
          {"HEADROOM_TIMEOUT", "30s"},
          {"HEADROOM_SKIP_EXISTING", "yes"}};
  Options options = Ok({"run", "-j", "5", "--timeout", "40s", "x"});
  EXPECT_EQ(options.jobs, 5);
  EXPECT_EQ(options.timeout, Millis(40000));
  EXPECT_TRUE(options.skip_existing);

  options = Ok({"run", "x"});
  EXPECT_EQ(options.jobs, 4);
  EXPECT_EQ(options.timeout, Millis(30000));
  EXPECT_TRUE(options.skip_existing);

  env_.erase("HEADROOM_JOBS");
  env_.erase("HEADROOM_TIMEOUT");
  env_.erase("HEADROOM_SKIP_EXISTING");
  options = Ok({"run", "x"});
  EXPECT_EQ(options.jobs, 3);
  EXPECT_EQ(options.timeout, Millis(20000));
  EXPECT_FALSE(options.skip_existing);

  env_.erase("HEADROOM_PROFILE");
  options = Ok({"run", "x"});
  EXPECT_EQ(options.jobs, 2);
  EXPECT_EQ(options.timeout, Millis(10000));
  EXPECT_TRUE(options.skip_existing);

  env_.erase("HEADROOM_CONFIG");
  options = Ok({"run", "x"}, 8);
  EXPECT_EQ(options.jobs, 6);
  EXPECT_EQ(options.timeout, std::nullopt);
  EXPECT_FALSE(options.skip_existing);
}

TEST_F(CliTest, ProfileKeepsTopLevelKeysItDoesNotSet) {
  std::string config = WriteConfig("retries = 2\njobs = 2\n[profile.gpu]\njobs = 6\n");
  Options options = Ok({"run", "--config", config, "--profile", "gpu", "x"});
  EXPECT_EQ(options.jobs, 6);
  EXPECT_EQ(options.retries, 2);
}

TEST_F(CliTest, ConfigValueTypes) {
  std::string config = WriteConfig(R"(
jobs = "4"
max_job_log = 1048576
timeout = 90
retry_delay = 1.5
kill_grace = "1m"
ext = "MP4,mkv"
env = ["A=1", "B=2"]
recursive = true
order = "size"
output_name = "{/.}.flac"
)");
  Options options = Ok({"run", "--config", config, "x"});
  EXPECT_EQ(options.jobs, 4);
  EXPECT_EQ(options.max_job_log, 1048576u);
  EXPECT_EQ(options.timeout, Millis(90000));
  EXPECT_EQ(options.retry_delay, Millis(1500));
  EXPECT_EQ(options.kill_grace, Millis(60000));
  EXPECT_EQ(options.exts, (std::vector<std::string>{"mp4", "mkv"}));
  EXPECT_EQ(options.env, (std::vector<EnvVar>{{"A", "1"}, {"B", "2"}}));
  EXPECT_TRUE(options.recursive);
  EXPECT_EQ(options.order, Order::kSize);
  EXPECT_EQ(options.output_name, "{/.}.flac");
}

TEST_F(CliTest, ConfigTypeErrorsNameFileKeyAndLine) {
  std::string config = WriteConfig("jobs = 2\nrecursive = \"yes\"\n");
  EXPECT_EQ(Error({"run", "--config", config, "x"}),
            "config " + config + ": recursive: expected true or false, got a string (line 2)");
  config = WriteConfig("jobs = [1, 2]\n");
  EXPECT_EQ(Error({"run", "--config", config, "x"}),
            "config " + config + ": jobs: expected a string or a number, got an array (line 1)");
  config = WriteConfig("env = [1.5]\n");
  EXPECT_EQ(Error({"run", "--config", config, "x"}),
            "config " + config + ": env: expected an array of strings, got a float in it (line 1)");
  config = WriteConfig("timeout = true\n");
  EXPECT_EQ(
      Error({"run", "--config", config, "x"}),
      "config " + config + ": timeout: expected a string or a number, got a boolean (line 1)");
}

TEST_F(CliTest, ConfigValueErrorsNameFileProfileKeyAndLine) {
  std::string config = WriteConfig("jobs = 2\n\n[profile.fast]\njobs = \"x\"\n");
  EXPECT_EQ(Error({"run", "--config", config, "--profile", "fast", "cmd"}),
            "config " + config + " [profile.fast]: jobs: 'x' is not a number or 'auto' (line 4)");
  config = WriteConfig("timeout = \"5x\"\n");
  EXPECT_EQ(Error({"run", "--config", config, "cmd"}),
            "config " + config +
                ": timeout: '5x' is not a duration (expected e.g. 90s, 2m, 1h30m) (line 1)");
}

TEST_F(CliTest, UnknownConfigKeysAreErrorsEvenInUnusedProfiles) {
  std::string config = WriteConfig("jobs = 2\njbos = 3\n");
  EXPECT_EQ(Error({"run", "--config", config, "x"}),
            "config " + config + ": unknown key 'jbos' (line 2)");
  config = WriteConfig("[profile.a]\njobs = 1\n[profile.b]\n\nfoo = 1\n");
  EXPECT_EQ(Error({"run", "--config", config, "--profile", "a", "x"}),
            "config " + config + " [profile.b]: unknown key 'foo' (line 5)");
  // Options that choose the config, or only make sense on the command line.
  for (const char* key : {"config = \"x\"", "print_config = true", "help = true"}) {
    config = WriteConfig(std::string(key) + "\n");
    EXPECT_TRUE(HasSubstr(Error({"run", "--config", config, "x"}), ": unknown key '")) << key;
  }
  config = WriteConfig("profile = 3\n");
  EXPECT_TRUE(StartsWith(Error({"run", "--config", config, "x"}),
                         "config " + config + ": profile: expected [profile.NAME] tables"));
}

TEST_F(CliTest, ConfigThatDoesNotParseNamesFileAndLine) {
  std::string config = WriteConfig("jobs = 2\njobs = = 3\n");
  std::string message = Error({"run", "--config", config, "x"});
  EXPECT_TRUE(StartsWith(message, "config " + config + ": "));
  EXPECT_TRUE(HasSubstr(message, "(line 2)"));
}

TEST_F(CliTest, MissingConfigFileIsNamed) {
  std::string missing = dir_ + "/nope.toml";
  EXPECT_EQ(Error({"run", "--config", missing, "x"}),
            "config " + missing + ": cannot read: No such file or directory");
  env_["HEADROOM_CONFIG"] = missing;
  EXPECT_EQ(Error({"run", "x"}), "config " + missing + ": cannot read: No such file or directory");
  EXPECT_EQ(Error({"run", "--config", dir_, "x"}),
            "config " + dir_ + ": cannot read: is a directory");
  // An empty --config turns off the file named in the environment.
  EXPECT_TRUE(Parse({"run", "--config", "", "x"}).ok());
}

TEST_F(CliTest, MissingProfileListsTheProfilesThatExist) {
  std::string config = WriteConfig("[profile.gpu]\njobs = 1\n[profile.quick]\nretries = 1\n");
  EXPECT_EQ(Error({"run", "--config", config, "--profile", "fast", "x"}),
            "--profile: 'fast' is not a profile in " + config + " (profiles: gpu, quick)");
  env_["HEADROOM_PROFILE"] = "slow";
  EXPECT_EQ(Error({"run", "--config", config, "x"}),
            "HEADROOM_PROFILE: 'slow' is not a profile in " + config + " (profiles: gpu, quick)");
  config = WriteConfig("jobs = 1\n");
  EXPECT_EQ(Error({"run", "--config", config, "--profile", "fast", "x"}),
            "--profile: 'fast' is not a profile in " + config + " (it defines none)");
  EXPECT_EQ(Error({"run", "--profile", "fast", "x"}),
            "--profile: 'fast' needs a config file (--config FILE)");
}

// --- --print-config ----------------------------------------------------------

TEST_F(CliTest, PrintConfigShowsEveryValueAndItsSource) {
  std::string config = WriteConfig("retries = 2\njobs = 2\n[profile.gpu]\nthreads_per_job = 3\n");
  env_ = {{"HEADROOM_TIMEOUT", "2m"}, {"HEADROOM_PROFILE", "gpu"}};
  ASSERT_TRUE(
      Parse({"run", "--config", config, "--print-config", "-j", "5", "--ext", "MP4", "--", "true"})
          .ok());
  EXPECT_EQ(cli_.command, Command::kPrint);
  EXPECT_TRUE(Matches(ConfigLine("jobs"), "jobs += 5 +\\(command line\\)"));
  EXPECT_TRUE(Matches(ConfigLine("timeout"), "timeout += 2m +\\(env HEADROOM_TIMEOUT\\)"));
  EXPECT_TRUE(Matches(ConfigLine("retries"), "retries += 2 +\\(config " + Literal(config) + "\\)"));
  EXPECT_TRUE(
      Matches(ConfigLine("threads_per_job"),
              "threads_per_job += 3 +\\(config " + Literal(config) + " \\[profile.gpu\\]\\)"));
  EXPECT_TRUE(Matches(ConfigLine("kill_grace"), "kill_grace += 5s +\\(default\\)"));
  EXPECT_TRUE(Matches(ConfigLine("ext"), "ext += MP4 +\\(command line\\)"));
  EXPECT_TRUE(Matches(ConfigLine("profile"), "profile += gpu +\\(env HEADROOM_PROFILE\\)"));
  EXPECT_TRUE(Matches(ConfigLine("input_dir"), "input_dir += \\(none\\) +\\(default\\)"));

  // One aligned line per option that a config file or the environment can set.
  std::istringstream lines(cli_.text);
  size_t count = 0;
  size_t equals_column = std::string::npos;
  for (std::string line; std::getline(lines, line); ++count) {
    size_t column = line.find(" = ");
    if (equals_column == std::string::npos) equals_column = column;
    EXPECT_EQ(column, equals_column) << line;
  }
  size_t settable = 0;
  for (const OptionSpec& spec : OptionSpecs())
    settable += spec.scope != OptionScope::kCommandLineOnly && (spec.commands & kForRun) != 0;
  EXPECT_EQ(count, settable);
}

TEST_F(CliTest, PrintConfigShowsResolvedAutoValuesAndNeedsNoCommand) {
  ASSERT_TRUE(Parse({"run", "--print-config"}, 16).ok());
  EXPECT_EQ(cli_.command, Command::kPrint);
  EXPECT_TRUE(Matches(ConfigLine("jobs"), "jobs += auto \\(14\\) +\\(default\\)"));
  EXPECT_TRUE(
      Matches(ConfigLine("threads_per_job"), "threads_per_job += auto \\(1\\) +\\(default\\)"));
  EXPECT_TRUE(Matches(ConfigLine("recursive"), "recursive += false +\\(default\\)"));
}

TEST_F(CliTest, PrintConfigStillRejectsBadValues) {
  EXPECT_EQ(Error({"run", "--print-config", "-j", "x"}), "--jobs: 'x' is not a number or 'auto'");
}

// --- resources ---------------------------------------------------------------

TEST_F(CliTest, GpusAllNoneOrAList) {
  Options options = Ok({"run", "--gpus", "none", "x"});
  EXPECT_FALSE(options.gpus_all);
  EXPECT_TRUE(options.gpus.empty());
  options = Ok({"run", "--gpus", "2, 0", "x"});
  EXPECT_FALSE(options.gpus_all);
  EXPECT_EQ(options.gpus, (std::vector<int>{2, 0}));
  options = Ok({"run", "--gpus", "1", "--gpus", "all", "x"});
  EXPECT_TRUE(options.gpus_all);
  EXPECT_TRUE(options.gpus.empty());
  env_["HEADROOM_GPUS"] = "3";
  EXPECT_EQ(Ok({"run", "x"}).gpus, std::vector<int>{3});
  env_.clear();
  EXPECT_EQ(Error({"run", "--gpus", "first", "x"}),
            "--gpus: 'first' is not a device index (expected all, none or indices like 0,2)");
  EXPECT_EQ(Error({"run", "--gpus", "0,,2", "x"}),
            "--gpus: '' is not a device index (expected all, none or indices like 0,2)");
  EXPECT_EQ(Error({"run", "--gpus=", "x"}),
            "--gpus: '' is not a device index (expected all, none or indices like 0,2)");
  EXPECT_EQ(Error({"run", "--gpus", "-1", "x"}),
            "--gpus: device index '-1' is out of range (expected 0 to 1023)");
  EXPECT_EQ(Error({"run", "--gpus", "0,1,0", "x"}), "--gpus: '0,1,0' lists device 0 twice");
  EXPECT_EQ(Error({"run", "--gpus", "ALL", "x"}),
            "--gpus: 'ALL' is not a device index (expected all, none or indices like 0,2)");
}

TEST_F(CliTest, GpuProviderNames) {
  const std::pair<const char*, GpuProviderKind> kNames[] = {
      {"auto", GpuProviderKind::kAuto},
      {"nvml", GpuProviderKind::kNvml},
      {"nvidia-smi", GpuProviderKind::kNvidiaSmi},
      {"amd", GpuProviderKind::kAmd},
      {"none", GpuProviderKind::kNone}};
  for (const auto& [name, kind] : kNames) {
    EXPECT_EQ(Ok({"run", "--gpu-provider", name, "x"}).gpu_provider, kind) << name;
  }
  EXPECT_EQ(Error({"run", "--gpu-provider", "cuda", "x"}),
            "--gpu-provider: 'cuda' is not one of auto, nvml, nvidia-smi, amd, sim, none");
}

TEST_F(CliTest, GpuSimMakesAutoProviderSim) {
  std::string spec = dir_ + "/sim.json";
  Options options = Ok({"run", "--gpu-sim", spec, "x"});
  EXPECT_EQ(options.gpu_sim, spec);
  EXPECT_EQ(options.gpu_provider, GpuProviderKind::kSim);
  // HEADROOM_GPU_SIM is the simulated GPU's fixed contract.
  env_["HEADROOM_GPU_SIM"] = spec;
  options = Ok({"run", "x"});
  EXPECT_EQ(options.gpu_sim, spec);
  EXPECT_EQ(options.gpu_provider, GpuProviderKind::kSim);
  EXPECT_EQ(Ok({"run", "--gpu-provider", "sim", "x"}).gpu_provider, GpuProviderKind::kSim);
  // A provider named outright is kept.
  EXPECT_EQ(Ok({"run", "--gpu-provider", "none", "x"}).gpu_provider, GpuProviderKind::kNone);
  // An empty --gpu-sim on the command line turns off the environment's.
  options = Ok({"run", "--gpu-sim=", "x"});
  EXPECT_EQ(options.gpu_sim, "");
  EXPECT_EQ(options.gpu_provider, GpuProviderKind::kAuto);

  ASSERT_TRUE(Parse({"run", "--print-config"}).ok());
  EXPECT_TRUE(Matches(ConfigLine("gpu_provider"), "gpu_provider += auto \\(sim\\) +\\(default\\)"));
  EXPECT_TRUE(Matches(ConfigLine("gpu_sim"),
                      "gpu_sim += " + Literal(spec) + " +\\(env HEADROOM_GPU_SIM\\)"));
  env_.clear();
  EXPECT_EQ(Error({"run", "--gpu-provider", "sim", "x"}),
            "--gpu-provider: 'sim' needs --gpu-sim FILE (or HEADROOM_GPU_SIM)");
}

TEST_F(CliTest, MonitorIntervalMustBePositive) {
  EXPECT_EQ(Ok({"run", "--monitor-interval", "250ms", "x"}).monitor_interval, Millis(250));
  EXPECT_EQ(Error({"run", "--monitor-interval", "0", "x"}),
            "--monitor-interval: '0' is out of range (expected more than 0, e.g. 500ms)");
  EXPECT_EQ(Error({"run", "--monitor-interval", "often", "x"}),
            "--monitor-interval: 'often' is not a duration (expected e.g. 90s, 2m, 1h30m)");
}

TEST_F(CliTest, MaxMemoryIsAPercentage) {
  EXPECT_EQ(Ok({"run", "--max-memory", "75", "x"}).max_memory_pct, 75);
  EXPECT_EQ(Ok({"run", "--max-memory", "90%", "x"}).max_memory_pct, 90);
  EXPECT_EQ(Ok({"run", "--max-memory", "100", "x"}).max_memory_pct, 100);
  EXPECT_EQ(Error({"run", "--max-memory", "0", "x"}),
            "--max-memory: '0' is out of range (expected 1 to 100)");
  EXPECT_EQ(Error({"run", "--max-memory", "101%", "x"}),
            "--max-memory: '101%' is out of range (expected 1 to 100)");
  EXPECT_EQ(Error({"run", "--max-memory", "80.5", "x"}),
            "--max-memory: '80.5' is not a whole percentage (expected e.g. 80 or 80%)");
  EXPECT_EQ(Error({"run", "--max-memory", "%", "x"}),
            "--max-memory: '%' is not a whole percentage (expected e.g. 80 or 80%)");
}

TEST_F(CliTest, VramWatermarksAreFractions) {
  Options options = Ok({"run", "--vram-high", "0.9", "--vram-low", "80%", "x"});
  EXPECT_DOUBLE_EQ(options.vram_high, 0.9);
  EXPECT_DOUBLE_EQ(options.vram_low, 0.8);
  options = Ok({"run", "--vram-high", "1", "--vram-low", "1", "x"});  // low == high is allowed
  EXPECT_DOUBLE_EQ(options.vram_low, 1.0);
  for (const char* bad : {"0", "1.01", "-0.5", "101%"}) {
    EXPECT_EQ(Error({"run", "--vram-high", bad, "x"}),
              "--vram-high: '" + std::string(bad) +
                  "' is out of range (expected more than 0 and at most 1, or 100%)");
  }
  for (const char* bad : {"high", "nan", "inf", "0.5.1", ""}) {
    EXPECT_EQ(
        Error({"run", "--vram-low", bad, "x"}),
        "--vram-low: '" + std::string(bad) + "' is not a fraction (expected e.g. 0.85 or 85%)");
  }
}

TEST_F(CliTest, VramLowAboveHighNamesBoth) {
  EXPECT_EQ(Error({"run", "--vram-low", "0.9", "x"}),
            "--vram-low '0.9' is above --vram-high '0.85' (default) "
            "(expected 0 < --vram-low <= --vram-high <= 1)");
  EXPECT_EQ(Error({"run", "--vram-high", "0.6", "--vram-low", "0.65", "x"}),
            "--vram-low '0.65' is above --vram-high '0.6' "
            "(expected 0 < --vram-low <= --vram-high <= 1)");
  env_["HEADROOM_VRAM_HIGH"] = "0.5";
  EXPECT_EQ(Error({"run", "x"}),
            "--vram-low '0.70' (default) is above HEADROOM_VRAM_HIGH '0.5' "
            "(expected 0 < --vram-low <= --vram-high <= 1)");
  // The pair is checked after precedence: the command line may fix it.
  EXPECT_DOUBLE_EQ(Ok({"run", "--vram-low", "0.4", "x"}).vram_low, 0.4);
  std::string config = WriteConfig("vram_low = 0.6\n");
  EXPECT_EQ(Error({"run", "--config", config, "x"}),
            "config " + config +
                ": vram_low '0.6' (line 1) is above HEADROOM_VRAM_HIGH '0.5' "
                "(expected 0 < --vram-low <= --vram-high <= 1)");
}

TEST_F(CliTest, JobsPerGpu) {
  EXPECT_EQ(Ok({"run", "--jobs-per-gpu", "auto", "x"}).jobs_per_gpu, 0);
  EXPECT_EQ(Ok({"run", "--jobs-per-gpu", "3", "x"}).jobs_per_gpu, 3);
  EXPECT_EQ(Error({"run", "--jobs-per-gpu", "0", "x"}),
            "--jobs-per-gpu: '0' is out of range (expected 1 to 1000000, or 'auto')");
  EXPECT_EQ(Error({"run", "--jobs-per-gpu", "two", "x"}),
            "--jobs-per-gpu: 'two' is not a number or 'auto'");
}

TEST_F(CliTest, TemperaturesWarmBelowLimit) {
  Options options = Ok({"run", "--temp-warm", "60", "--temp-limit", "90", "x"});
  EXPECT_EQ(options.temp_warm, 60);
  EXPECT_EQ(options.temp_limit, 90);
  EXPECT_EQ(Error({"run", "--temp-warm", "80", "x"}),
            "--temp-warm '80' is not below --temp-limit '80' (default) "
            "(expected --temp-warm < --temp-limit)");
  EXPECT_EQ(Error({"run", "--temp-limit", "65", "x"}),
            "--temp-warm '70' (default) is not below --temp-limit '65' "
            "(expected --temp-warm < --temp-limit)");
  EXPECT_EQ(Error({"run", "--temp-limit", "hot", "x"}),
            "--temp-limit: 'hot' is not a whole number");
  EXPECT_EQ(Error({"run", "--temp-warm", "-5", "x"}),
            "--temp-warm: '-5' is out of range (expected 0 to 200)");
}

TEST_F(CliTest, DiskLoadAndDeclaredFootprints) {
  Options options = Ok({"run", "--min-free-disk", "0", "--load", "7.5", "--gpu-mem", "6G",
                        "--ram-per-job", "1.5GiB", "x"});
  EXPECT_EQ(options.min_free_disk, 0u);
  EXPECT_EQ(options.max_load, 7.5);
  EXPECT_EQ(options.gpu_mem, 6ull << 30);
  EXPECT_EQ(options.ram_per_job, 3ull << 29);
  EXPECT_EQ(Ok({"run", "--min-free-disk", "10G", "x"}).min_free_disk, 10ull << 30);
  EXPECT_EQ(Ok({"run", "--load", "8", "x"}).max_load, 8.0);
  env_ = {{"HEADROOM_LOAD", "4"}, {"HEADROOM_GPU_MEM", "2G"}};
  options = Ok({"run", "--load", "none", "--gpu-mem", "none", "x"});
  EXPECT_EQ(options.max_load, std::nullopt);
  EXPECT_EQ(options.gpu_mem, std::nullopt);
  env_.clear();
  EXPECT_EQ(Error({"run", "--load", "0", "x"}),
            "--load: '0' is out of range (expected more than 0)");
  EXPECT_EQ(Error({"run", "--load", "high", "x"}),
            "--load: 'high' is not a number (expected e.g. 8 or 7.5)");
  EXPECT_EQ(Error({"run", "--min-free-disk", "lots", "x"}),
            "--min-free-disk: 'lots' is not a size (expected e.g. 512M, 6G, 1.5GiB)");
  EXPECT_EQ(Error({"run", "--gpu-mem", "0", "x"}),
            "--gpu-mem: '0' is too small (expected a size above 0, or 'none' to learn it)");
  EXPECT_EQ(Error({"run", "--ram-per-job", "6X", "x"}),
            "--ram-per-job: '6X' is not a size (expected e.g. 512M, 6G, 1.5GiB)");
}

TEST_F(CliTest, Policy) {
  EXPECT_EQ(Ok({"run", "--policy", "fixed", "x"}).policy, PolicyKind::kFixed);
  EXPECT_EQ(Ok({"run", "--policy", "watermark", "x"}).policy, PolicyKind::kWatermark);
  EXPECT_EQ(Ok({"run", "--policy", "adaptive", "x"}).policy, PolicyKind::kAdaptive);
  EXPECT_EQ(Error({"run", "--policy", "greedy", "x"}),
            "--policy: 'greedy' is not one of adaptive, fixed, watermark");
}

// --- out of memory -----------------------------------------------------------

TEST_F(CliTest, OomExitCodesAreRepeatableCommaListsWithoutRepeats) {
  EXPECT_EQ(
      Ok({"run", "--oom-exit-code", "137", "--oom-exit-code", "3, 137,255", "x"}).oom_exit_codes,
      (std::vector<int>{137, 3, 255}));
  env_["HEADROOM_OOM_EXIT_CODE"] = "2\n3\n";
  EXPECT_EQ(Ok({"run", "x"}).oom_exit_codes, (std::vector<int>{2, 3}));
  env_.clear();
  EXPECT_EQ(Error({"run", "--oom-exit-code", "0", "x"}),
            "--oom-exit-code: '0' is out of range (expected 1 to 255)");
  EXPECT_EQ(Error({"run", "--oom-exit-code", "256", "x"}),
            "--oom-exit-code: '256' is out of range (expected 1 to 255)");
  EXPECT_EQ(Error({"run", "--oom-exit-code", "oom", "x"}),
            "--oom-exit-code: 'oom' is not a whole number");
}

TEST_F(CliTest, OomPatternsMustBeValidRegexes) {
  EXPECT_EQ(Ok({"run", "--oom-pattern", "out of (GPU )?memory", "--oom-pattern", "OOM\\b", "x"})
                .oom_patterns,
            (std::vector<std::string>{"out of (GPU )?memory", "OOM\\b"}));
  EXPECT_TRUE(StartsWith(Error({"run", "--oom-pattern", "ok", "--oom-pattern", "(unclosed", "x"}),
                         "--oom-pattern: '(unclosed' is not a valid regular expression: "));
  EXPECT_TRUE(StartsWith(Error({"run", "--oom-pattern", "[a-", "x"}),
                         "--oom-pattern: '[a-' is not a valid regular expression: "));
  EXPECT_EQ(Error({"run", "--oom-pattern", "", "x"}),
            "--oom-pattern: an empty pattern is not allowed (it would match every failure)");
  env_["HEADROOM_OOM_PATTERN"] = "a+\n*b";
  EXPECT_TRUE(StartsWith(Error({"run", "x"}),
                         "HEADROOM_OOM_PATTERN: '*b' is not a valid regular expression: "));
}

TEST_F(CliTest, OomRetriesAndCpuFallback) {
  Options options = Ok({"run", "--oom-retries", "0", "--cpu-fallback", "x"});
  EXPECT_EQ(options.oom_retries, 0);
  EXPECT_TRUE(options.cpu_fallback);
  EXPECT_EQ(Error({"run", "--oom-retries", "-1", "x"}),
            "--oom-retries: '-1' is out of range (expected 0 to 1000000)");
}

TEST_F(CliTest, ResourceOptionsFromTheConfigFile) {
  std::string config = WriteConfig(R"(
gpus = "0,2"
vram_high = 0.9
vram_low = "75%"
max_memory = 70
jobs_per_gpu = 2
load = 6.5
min_free_disk = "5G"
oom_exit_code = [137, "139"]
oom_pattern = ["CUDA_ERROR_OUT_OF_MEMORY"]
oom_retries = 5
cpu_fallback = true
policy = "watermark"
retry_delay = "1s"
)");
  Options options = Ok({"run", "--config", config, "x"});
  EXPECT_EQ(options.gpus, (std::vector<int>{0, 2}));
  EXPECT_DOUBLE_EQ(options.vram_high, 0.9);
  EXPECT_DOUBLE_EQ(options.vram_low, 0.75);
  EXPECT_EQ(options.max_memory_pct, 70);
  EXPECT_EQ(options.jobs_per_gpu, 2);
  EXPECT_EQ(options.max_load, 6.5);
  EXPECT_EQ(options.min_free_disk, 5ull << 30);
  EXPECT_EQ(options.oom_exit_codes, (std::vector<int>{137, 139}));
  EXPECT_EQ(options.oom_patterns, std::vector<std::string>{"CUDA_ERROR_OUT_OF_MEMORY"});
  EXPECT_EQ(options.oom_retries, 5);
  EXPECT_TRUE(options.cpu_fallback);
  EXPECT_EQ(options.policy, PolicyKind::kWatermark);
  EXPECT_EQ(options.retry_delay, Millis(1000));
  config = WriteConfig("oom_exit_code = 137\n");
  EXPECT_EQ(Ok({"run", "--config", config, "x"}).oom_exit_codes, std::vector<int>{137});
  config = WriteConfig("oom_exit_code = [true]\n");
  EXPECT_EQ(Error({"run", "--config", config, "x"}),
            "config " + config +
                ": oom_exit_code: expected an array of strings, got a boolean in it (line 1)");
}

TEST_F(CliTest, PrintConfigShowsResourceOptions) {
  ASSERT_TRUE(Parse({"run", "--print-config", "--gpus", "1", "--oom-exit-code", "137"}).ok());
  EXPECT_TRUE(Matches(ConfigLine("gpus"), "gpus += 1 +\\(command line\\)"));
  EXPECT_TRUE(Matches(ConfigLine("vram_high"), "vram_high += 0.85 +\\(default\\)"));
  EXPECT_TRUE(Matches(ConfigLine("retry_delay"), "retry_delay += 30s +\\(default\\)"));
  EXPECT_TRUE(Matches(ConfigLine("oom_exit_code"), "oom_exit_code += 137 +\\(command line\\)"));
  EXPECT_TRUE(Matches(ConfigLine("oom_pattern"), "oom_pattern += \\(none\\) +\\(default\\)"));
  EXPECT_TRUE(Matches(ConfigLine("gpu_mem"), "gpu_mem += none +\\(default\\)"));
  EXPECT_TRUE(Matches(ConfigLine("cpu_fallback"), "cpu_fallback += false +\\(default\\)"));
  EXPECT_TRUE(HasSubstr(ConfigLine("watch"), "(no line for"));  // command line only
}

TEST_F(CliTest, RunHelpGroupsResourceAndOutOfMemoryOptions) {
  ASSERT_TRUE(Parse({"run", "--help"}).ok());
  size_t running = cli_.text.find("\nRunning:\n");
  size_t resources = cli_.text.find("\nResources (GPU, memory, disk):\n");
  size_t oom = cli_.text.find("\nOut of memory:\n");
  size_t logs = cli_.text.find("\nLogs and console:\n");
  ASSERT_NE(resources, std::string::npos);
  ASSERT_NE(oom, std::string::npos);
  EXPECT_LT(running, resources);
  EXPECT_LT(resources, cli_.text.find("--vram-high FRACTION"));
  EXPECT_LT(cli_.text.find("--policy adaptive|fixed|watermark"), oom);
  EXPECT_LT(oom, cli_.text.find("--oom-pattern REGEX"));
  EXPECT_LT(cli_.text.find("--cpu-fallback"), logs);
  EXPECT_TRUE(HasSubstr(cli_.text, "[default: 30s] [env: HEADROOM_RETRY_DELAY]"));
  EXPECT_TRUE(HasSubstr(cli_.text, "[env: HEADROOM_GPU_SIM]"));
}

// --- the gpus subcommand -----------------------------------------------------

TEST_F(CliTest, GpusSubcommandTakesItsOwnOptions) {
  Options options = Ok({"gpus"});
  EXPECT_EQ(cli_.command, Command::kGpus);
  EXPECT_TRUE(options.command.empty());
  EXPECT_FALSE(options.watch);
  EXPECT_FALSE(options.json);
  options =
      Ok({"gpus", "--watch", "--json", "--gpu-provider", "nvidia-smi", "--monitor-interval", "2s"});
  EXPECT_EQ(cli_.command, Command::kGpus);
  EXPECT_TRUE(options.watch);
  EXPECT_TRUE(options.json);
  EXPECT_EQ(options.gpu_provider, GpuProviderKind::kNvidiaSmi);
  EXPECT_EQ(options.monitor_interval, Millis(2000));
  options = Ok({"gpus", "--gpu-sim", "s.json"});
  EXPECT_EQ(options.gpu_sim, "s.json");
  EXPECT_EQ(options.gpu_provider, GpuProviderKind::kSim);
  EXPECT_FALSE(Ok({"gpus", "--watch=no"}).watch);
}

TEST_F(CliTest, GpusSubcommandRejectsOptionsOfRunAndACommand) {
  EXPECT_EQ(Error({"gpus", "-j", "3"}),
            "--jobs is an option of 'headroom run', not of 'headroom gpus' "
            "(see 'headroom gpus --help')");
  EXPECT_EQ(Error({"gpus", "--vram-high", "0.9"}),
            "--vram-high is an option of 'headroom run', not of 'headroom gpus' "
            "(see 'headroom gpus --help')");
  EXPECT_EQ(Error({"run", "--watch", "x"}),
            "--watch is an option of 'headroom gpus', not of 'headroom run' "
            "(see 'headroom run --help')");
  EXPECT_EQ(Error({"list", "--json", "x"}),
            "--json is an option of 'headroom gpus', not of 'headroom list' "
            "(see 'headroom list --help')");
  EXPECT_EQ(Error({"gpus", "nvidia-smi"}),
            "unexpected argument 'nvidia-smi' (headroom gpus takes only options; see 'headroom "
            "gpus --help')");
  EXPECT_EQ(Error({"gpus", ":::", "a"}),
            "unexpected argument ':::' (headroom gpus takes only options; see 'headroom gpus "
            "--help')");
  EXPECT_EQ(Error({"gpus", "--monitor-interval", "0s"}),
            "--monitor-interval: '0s' is out of range (expected more than 0, e.g. 500ms)");
  EXPECT_EQ(Error({"gpus", "--frob"}), "unknown option '--frob' (see 'headroom gpus --help')");
}

TEST_F(CliTest, GpusSubcommandIgnoresRunOptionsFromEnvironmentAndConfig) {
  std::string config = WriteConfig("jobs = 3\nmonitor_interval = \"3s\"\n");
  env_ = {{"HEADROOM_JOBS", "not a number"}, {"HEADROOM_WATCH", "1"}};
  Options options = Ok({"gpus", "--config", config});
  EXPECT_EQ(cli_.command, Command::kGpus);
  EXPECT_EQ(options.monitor_interval, Millis(3000));
  EXPECT_FALSE(options.watch);  // command line only
  ASSERT_TRUE(Parse({"gpus", "--config", config, "--print-config"}).ok());
  EXPECT_EQ(cli_.command, Command::kPrint);
  EXPECT_TRUE(Matches(ConfigLine("monitor_interval"),
                      "monitor_interval += 3s +\\(config " + Literal(config) + "\\)"));
  EXPECT_TRUE(HasSubstr(ConfigLine("jobs"), "(no line for"));
}

TEST_F(CliTest, GpusHelpListsOnlyItsOptions) {
  ASSERT_TRUE(Parse({"gpus", "--help"}).ok());
  EXPECT_EQ(cli_.command, Command::kPrint);
  EXPECT_TRUE(StartsWith(cli_.text, "Usage: headroom gpus [--watch] [--json]"));
  for (const char* option : {"--watch ", "--json ", "--gpu-provider ", "--gpu-sim ",
                             "--monitor-interval ", "--config "}) {
    EXPECT_TRUE(HasSubstr(cli_.text, option)) << option;
  }
  for (const char* option : {"--jobs ", "--vram-high ", "--oom-retries ", "--output-dir "}) {
    EXPECT_FALSE(HasSubstr(cli_.text, option)) << option;
  }
}

// --- the status and report subcommands -------------------------------------

TEST_F(CliTest, StatusTakesBatchJsonWatchAndStateDir) {
  Options options = Ok({"status"});
  EXPECT_EQ(cli_.command, Command::kStatus);
  EXPECT_FALSE(options.batch);
  EXPECT_FALSE(options.json);
  EXPECT_FALSE(options.watch);
  EXPECT_EQ(options.state_dir, ".headroom");
  options = Ok({"status", "--batch", "3", "--json", "--watch", "--state-dir", "st"});
  EXPECT_EQ(cli_.command, Command::kStatus);
  EXPECT_EQ(options.batch, 3);
  EXPECT_TRUE(options.json);
  EXPECT_TRUE(options.watch);
  EXPECT_EQ(options.state_dir, "st");
  env_["HEADROOM_STATE_DIR"] = "from-env";
  EXPECT_EQ(Ok({"status"}).state_dir, "from-env");
}

TEST_F(CliTest, StatusRejectsOtherOptionsAndArguments) {
  EXPECT_EQ(Error({"status", "-j", "2"}),
            "--jobs is an option of 'headroom run', not of 'headroom status' "
            "(see 'headroom status --help')");
  EXPECT_EQ(Error({"status", "--html", "r.html"}),
            "--html is an option of 'headroom report', not of 'headroom status' "
            "(see 'headroom status --help')");
  EXPECT_EQ(Error({"status", "3"}),
            "unexpected argument '3' (headroom status takes only options; see 'headroom status "
            "--help')");
  EXPECT_EQ(Error({"status", "--batch", "0"}),
            "--batch: '0' is out of range (expected at least 1)");
}

TEST_F(CliTest, NoJournalRefusesWhatNeedsTheJournal) {
  EXPECT_TRUE(Ok({"run", "--no-journal", "x"}).no_journal);
  EXPECT_FALSE(Ok({"run", "x"}).no_journal);
  env_ = {{"HEADROOM_NO_JOURNAL", "1"}};
  EXPECT_TRUE(Ok({"list", "x"}).no_journal);
  EXPECT_EQ(Error({"run", "--resume", "x"}),
            "--no-journal and --resume cannot be used together (--resume needs the batch's "
            "journal)");
  env_.clear();
  EXPECT_EQ(Error({"run", "--no-journal", "--resume-failed", "x"}),
            "--no-journal and --resume-failed cannot be used together (--resume-failed needs the "
            "batch's journal)");
  EXPECT_EQ(Error({"run", "--no-journal", "--batch", "3", "x"}),
            "--no-journal and --batch cannot be used together (--batch needs the batch's "
            "journal)");
  std::string config = WriteConfig("report = \"r.json\"\n");
  EXPECT_EQ(Error({"run", "--config", config, "--no-journal", "x"}),
            "--no-journal and --report cannot be used together (--report needs the batch's "
            "journal)");
  // status and report read a journal; --no-journal is not theirs.
  EXPECT_TRUE(StartsWith(Error({"status", "--no-journal"}), "--no-journal is an option of"));
}

TEST_F(CliTest, ReportJsonTakesAFileWhereStatusJsonIsAFlag) {
  Options options = Ok({"report", "--json", "r.json", "--html", "r.html", "--batch", "2"});
  EXPECT_EQ(cli_.command, Command::kReport);
  EXPECT_EQ(options.report_json, "r.json");
  EXPECT_EQ(options.report_html, "r.html");
  EXPECT_EQ(options.batch, 2);
  EXPECT_FALSE(options.json);
  options = Ok({"report", "--json=out.json"});
  EXPECT_EQ(options.report_json, "out.json");
  EXPECT_TRUE(options.report_html.empty());
  options = Ok({"report", "--html", "--json"});  // a file may be named --json
  EXPECT_EQ(options.report_html, "--json");
  EXPECT_TRUE(options.report_json.empty());
  // The same word stays a flag for status and gpus.
  EXPECT_TRUE(Ok({"status", "--json"}).json);
  EXPECT_TRUE(Ok({"gpus", "--json"}).json);
  EXPECT_EQ(Error({"status", "--json", "r.json"}),
            "unexpected argument 'r.json' (headroom status takes only options; see 'headroom "
            "status --help')");
}

TEST_F(CliTest, ReportNeedsAFileToWrite) {
  EXPECT_EQ(Error({"report"}),
            "nothing to write (usage: headroom report [--batch ID] --json FILE --html FILE; "
            "either or both)");
  EXPECT_EQ(Error({"report", "--batch", "1"}),
            "nothing to write (usage: headroom report [--batch ID] --json FILE --html FILE; "
            "either or both)");
  EXPECT_EQ(Error({"report", "--json"}), "--json: missing FILE (see 'headroom report --help')");
  EXPECT_EQ(Error({"report", "--html="}),
            "--html: an empty value is not allowed (expected a file name)");
  EXPECT_EQ(Error({"report", "--watch", "--json", "r.json"}),
            "--watch is an option of 'headroom gpus', not of 'headroom report' "
            "(see 'headroom report --help')");
  EXPECT_EQ(Error({"run", "--html", "r.html", "x"}),
            "--html is an option of 'headroom report', not of 'headroom run' "
            "(see 'headroom run --help')");
}

TEST_F(CliTest, StatusAndReportHelpListOnlyTheirOptions) {
  ASSERT_TRUE(Parse({"status", "--help"}).ok());
  EXPECT_EQ(cli_.command, Command::kPrint);
  EXPECT_TRUE(StartsWith(cli_.text, "Usage: headroom status [--batch ID] [--json] [--watch]"));
  EXPECT_TRUE(HasSubstr(cli_.text, "redraw every second until interrupted"));
  EXPECT_TRUE(HasSubstr(cli_.text, "print JSON instead of text"));
  for (const char* option : {"--batch ID", "--state-dir DIR", "--json ", "--watch ", "--config "}) {
    EXPECT_TRUE(HasSubstr(cli_.text, option)) << option;
  }
  for (const char* option :
       {"--jobs ", "--html ", "--json FILE", "--monitor-interval ", "--resume "}) {
    EXPECT_FALSE(HasSubstr(cli_.text, option)) << option;
  }
  ASSERT_TRUE(Parse({"report", "-h"}).ok());
  EXPECT_TRUE(
      StartsWith(cli_.text, "Usage: headroom report [--batch ID] [--json FILE] [--html FILE]"));
  for (const char* option : {"--batch ID", "--state-dir DIR", "--json FILE", "--html FILE"}) {
    EXPECT_TRUE(HasSubstr(cli_.text, option)) << option;
  }
  for (const char* option : {"--watch ", "--jobs ", "\n      --report FILE"}) {
    EXPECT_FALSE(HasSubstr(cli_.text, option)) << option;
  }
  ASSERT_TRUE(Parse({"--help"}).ok());
  EXPECT_TRUE(HasSubstr(cli_.text, "\n  status "));
  EXPECT_TRUE(HasSubstr(cli_.text, "\n  report "));
  for (std::vector<std::string> args :
       {std::vector<std::string>{"status", "--help"}, {"report", "--help"}}) {
    ASSERT_TRUE(Parse(args).ok());
    std::istringstream lines(cli_.text);
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
  }
}

}  // namespace
}  // namespace headroom

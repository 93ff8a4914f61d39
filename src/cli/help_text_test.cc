#include "cli/help_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/cli_test_util.h"
#include "cli/option_spec.h"

// --help and --version: every option documented, in groups, within 100 columns.

namespace headroom::cli_test {
namespace {


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
        // `log --stderr` is a flag of its own; run's --stderr is listed.
        if (FindLongOption(spec.name, kForRun)->commands & kForRun) continue;
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
}  // namespace headroom::cli_test

namespace headroom::cli_test {
namespace {

TEST_F(CliTest, HelpSubPrintsThatSubcommandsHelp) {
  ASSERT_TRUE(Parse({"help", "status"}).ok());
  EXPECT_EQ(cli_.command, Command::kPrint);
  EXPECT_TRUE(StartsWith(cli_.text, "Usage: headroom status"));
  EXPECT_EQ(Error({"help", "frob"}).substr(0, 31), "help: unknown subcommand 'frob'");
  ASSERT_TRUE(Parse({"-V"}).ok());
  EXPECT_TRUE(StartsWith(cli_.text, "headroom "));
}

// The blocks about run (its exit codes, the long "where options come from")
// stay in run's help; the others point there in one line.
TEST_F(CliTest, OtherSubcommandsHelpLeavesOutRunsBlocks) {
  for (const char* sub : {"status", "report", "gpus", "footprints"}) {
    ASSERT_TRUE(Parse({sub, "--help"}).ok());
    EXPECT_FALSE(HasSubstr(cli_.text, "Where options come from")) << sub;
    EXPECT_FALSE(HasSubstr(cli_.text, "Exit status: 0 all jobs")) << sub;
    EXPECT_TRUE(HasSubstr(cli_.text, "HEADROOM_FOO_BAR")) << sub;
  }
  ASSERT_TRUE(Parse({"run", "--help"}).ok());
  EXPECT_TRUE(HasSubstr(cli_.text, "Where options come from"));
  EXPECT_TRUE(HasSubstr(cli_.text, "failed ones stay failed")) << "the --resume text is whole";
}

TEST_F(CliTest, AnUnknownOptionSuggestsTheClosestOne) {
  EXPECT_EQ(Error({"run", "--jbos", "2", "--", "true"}),
            "unknown option '--jbos' (did you mean '--jobs'?) (see 'headroom run --help')");
  EXPECT_EQ(Error({"run", "--output-dri", "x", "--", "true"}).substr(0, 58),
            "unknown option '--output-dri' (did you mean '--output-dir'");
  EXPECT_EQ(Error({"status", "--wach"}),
            "unknown option '--wach' (did you mean '--watch'?) (see 'headroom status --help')");
  // Nothing close: no guess.
  EXPECT_EQ(Error({"run", "--frobnicate", "--", "true"}),
            "unknown option '--frobnicate' (see 'headroom run --help')");
}

}  // namespace
}  // namespace headroom::cli_test

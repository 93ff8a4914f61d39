#include "cli/command_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/cli_test_util.h"
#include "cli/option_spec.h"

// The command line's shape: subcommands, options and their values, COMMAND,
// ::: inputs.

namespace headroom::cli_test {
namespace {


TEST_F(CliTest, NoSubcommandIsAnError) {
  EXPECT_EQ(Error({}), "no subcommand given (try 'headroom run --help')");
}

TEST_F(CliTest, UnknownSubcommandIsNamed) {
  EXPECT_EQ(Error({"frob"}),
            "unknown subcommand 'frob' (expected run, list, status, report, gpus, footprints, ctl, log or resume; "
            "see 'headroom --help')");
  EXPECT_TRUE(StartsWith(Error({"--jobs", "3"}), "unknown option '--jobs'"));
}

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
  options = Ok({"run", "echo", "::", "a:::"});
  EXPECT_FALSE(options.has_arg_inputs);
  EXPECT_EQ(options.command, (std::vector<std::string>{"echo", "::", "a:::"}));

  // ":::: FILE", as GNU parallel: the inputs are FILE's lines (as -a FILE).
  options = Ok({"run", "-a", "x.txt", "echo", "::::", "in.txt"});
  EXPECT_FALSE(options.has_arg_inputs);
  EXPECT_EQ(options.command, std::vector<std::string>{"echo"});
  EXPECT_EQ(options.arg_files, (std::vector<std::string>{"x.txt", "in.txt"}));
  EXPECT_TRUE(Ok({"run", "-0", "echo"}).null_separated);
}

// What GNU parallel does with several groups or linked ones is refused,
// never taken as inputs, and the message says what to write instead.
TEST_F(CliTest, ParallelsInputConstructsHeadroomDoesNotDoAreNamed) {
  EXPECT_EQ(Error({"run", "echo", ":::", "a", ":::", "b"}),
            "':::' after ':::': several input groups (GNU parallel runs all their combinations) "
            "are not supported: list the combinations as inputs, or write a --jobs-file (see "
            "'headroom run --help')");
  EXPECT_TRUE(StartsWith(Error({"run", "echo", ":::", "a", "::::", "f"}), "'::::' after ':::'"));
  EXPECT_TRUE(StartsWith(Error({"run", "echo", ":::", "a", ":::+", "b"}),
                         "':::+' (GNU parallel's linked inputs) is not supported"));
  EXPECT_TRUE(StartsWith(Error({"run", "echo", "::::"}), ":::: needs a file of inputs"));
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
            "unknown option '--jbos' (did you mean '--jobs'?) (see 'headroom run --help')");
  EXPECT_EQ(Error({"run", "--jbos=3", "x"}),
            "unknown option '--jbos' (did you mean '--jobs'?) (see 'headroom run --help')");
  EXPECT_EQ(Error({"run", "-x", "cmd"}), "unknown option '-x' (see 'headroom run --help')");
  EXPECT_EQ(Error({"list", "-qz", "cmd"}), "unknown option '-z' (see 'headroom list --help')");
  EXPECT_EQ(Error({"run", "--version", "x"}),
            "unknown option '--version' (see 'headroom run --help')");
}

TEST_F(CliTest, MissingValuesAreNamed) {
  EXPECT_EQ(Error({"run", "-j"}), "--jobs: missing N|N%|0|auto (see 'headroom run --help')");
  EXPECT_EQ(Error({"run", "--timeout"}), "--timeout: missing DURATION (see 'headroom run --help')");
  EXPECT_EQ(Error({"run", "--timeout", "--", "x"}),
            "--timeout: missing DURATION (see 'headroom run --help')");
}

}  // namespace
}  // namespace headroom::cli_test

#include "cli/cli.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/cli_test_util.h"
#include "cli/option_spec.h"

// The subcommands other than run (gpus, status, report, list), what each
// accepts, and --print-config.

namespace headroom::cli_test {
namespace {


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
            "nothing to write (usage: headroom report [--batch ID] --json FILE --html FILE --trace "
            "FILE; any of them)");
  EXPECT_EQ(Error({"report", "--batch", "1"}),
            "nothing to write (usage: headroom report [--batch ID] --json FILE --html FILE --trace "
            "FILE; any of them)");
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

}  // namespace
}  // namespace headroom::cli_test

namespace headroom::cli_test {
namespace {

TEST_F(CliTest, CtlTakesAnActionAndTheBatchToSteer) {
  Cli cli;
  ASSERT_TRUE(ParseCli({"headroom", "ctl", "--batch", "3", "jobs", "4"}, {}, 4, &cli).ok());
  EXPECT_EQ(cli.command, Command::kCtl);
  EXPECT_EQ(cli.options.ctl_action, "jobs");
  EXPECT_EQ(cli.options.ctl_jobs, 4);
  EXPECT_EQ(cli.options.batch, 3);
  ASSERT_TRUE(ParseCli({"headroom", "ctl", "--state-dir", "/s", "pause"}, {}, 4, &cli).ok());
  EXPECT_EQ(cli.options.ctl_action, "pause");
  EXPECT_EQ(cli.options.state_dir, "/s");
  EXPECT_EQ(Error({"ctl", "--json", "pause"}),
            "--json is an option of 'headroom gpus', not of 'headroom ctl' (see 'headroom ctl "
            "--help')");
  EXPECT_EQ(Error({"ctl", "jobs", "-1"}).substr(0, 9), "ctl jobs:");
  ASSERT_TRUE(ParseCli({"headroom", "ctl", "--help"}, {}, 4, &cli).ok());
  EXPECT_NE(cli.text.find("Usage: headroom ctl"), std::string::npos);
}

}  // namespace
}  // namespace headroom::cli_test

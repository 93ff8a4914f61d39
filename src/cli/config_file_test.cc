#include "cli/config_file.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/cli_test_util.h"
#include "cli/option_spec.h"

// Options from HEADROOM_* variables and TOML config files, and their
// precedence: command line > environment > profile > top level > default.

namespace headroom::cli_test {
namespace {


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

}  // namespace
}  // namespace headroom::cli_test

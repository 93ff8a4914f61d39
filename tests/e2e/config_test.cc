// Configuration: every long option from the command line, HEADROOM_<NAME>
// and a TOML file (with [profile.NAME] tables); precedence command line >
// env > config > default, shown by --print-config.
#include "harness.h"

namespace headroom::e2e {
namespace {

using Calls = std::vector<std::vector<std::string>>;

class ConfigTest : public E2eTest {
 protected:
  // The --print-config line for `name` ("jobs = 4 (env HEADROOM_JOBS)"), or
  // "" (with a failure) if there is not exactly one.
  std::string ConfigLine(const RunResult& r, const std::string& name) {
    std::vector<std::string> found;
    for (const std::string& line : r.OutLines()) {
      if (StartsWith(line, name + " ") || StartsWith(line, name + "=") ||
          StartsWith(line, name + ":")) {
        found.push_back(line);
      }
    }
    EXPECT_EQ(found.size(), 1u) << "no single line for " << name << " in:\n" << r.out << r.err;
    return found.empty() ? "" : found[0];
  }
  RunResult PrintConfig(std::vector<std::string> extra, std::vector<std::string> env = {}) {
    std::vector<std::string> args = {"run", "--print-config"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunOptions opts = Opts();
    opts.env = std::move(env);
    RunResult r = Hr(args, opts);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }
  // Fails on the first attempt, succeeds on the second.
  std::string FlakyJob() {
    return Script("flaky.sh", "c=\"" + Path("count_") +
                                  "$1\"\n"
                                  "n=$(cat \"$c\" 2>/dev/null || echo 0); n=$((n + 1));"
                                  " echo $n > \"$c\"\n"
                                  "[ $n -ge 2 ]\n");
  }
};

TEST_F(ConfigTest, DefaultsAreShownAsDefaults) {
  RunResult r = PrintConfig({});
  std::string jobs = ConfigLine(r, "jobs");
  EXPECT_TRUE(Contains(jobs, "default")) << jobs;
  std::string grace = ConfigLine(r, "kill_grace");
  EXPECT_TRUE(Contains(grace, "5s")) << grace;
  EXPECT_TRUE(Contains(grace, "default")) << grace;
  std::string name = ConfigLine(r, "output_name");
  EXPECT_TRUE(Contains(name, "{/}")) << name;
  std::string retention = ConfigLine(r, "log_retention_days");
  EXPECT_TRUE(Contains(retention, "14")) << retention;
}

TEST_F(ConfigTest, PrintConfigRunsNothing) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "--print-config", "--", rec, ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(FileExists(Path("record")));
}

TEST_F(ConfigTest, CommandLineValueAndSource) {
  RunResult r = PrintConfig({"-j", "3"});
  std::string line = ConfigLine(r, "jobs");
  EXPECT_TRUE(Contains(line, "3")) << line;
  EXPECT_TRUE(Contains(line, "command line")) << line;
}

TEST_F(ConfigTest, EnvValueAndSource) {
  RunResult r = PrintConfig({}, {"HEADROOM_JOBS=4", "HEADROOM_KILL_GRACE=2s"});
  std::string line = ConfigLine(r, "jobs");
  EXPECT_TRUE(Contains(line, "4")) << line;
  EXPECT_TRUE(Contains(line, "env HEADROOM_JOBS")) << line;
  std::string grace = ConfigLine(r, "kill_grace");
  EXPECT_TRUE(Contains(grace, "2s")) << grace;
  EXPECT_TRUE(Contains(grace, "HEADROOM_KILL_GRACE")) << grace;
}

TEST_F(ConfigTest, ConfigFileValueAndSource) {
  WriteFile(Path("hr.toml"), "jobs = 5\nkill_grace = \"3s\"\noutput_name = \"{/.}.mkv\"\n");
  RunResult r = PrintConfig({"--config", Path("hr.toml")});
  std::string line = ConfigLine(r, "jobs");
  EXPECT_TRUE(Contains(line, "5")) << line;
  EXPECT_TRUE(Contains(line, "config")) << line;
  EXPECT_TRUE(Contains(ConfigLine(r, "kill_grace"), "3s"));
  EXPECT_TRUE(Contains(ConfigLine(r, "output_name"), "{/.}.mkv"));
}

TEST_F(ConfigTest, CommandLineBeatsEnvBeatsConfigBeatsDefault) {
  WriteFile(Path("hr.toml"), "jobs = 5\nretries = 7\ndelay = \"1s\"\n");
  RunResult r = PrintConfig({"--config", Path("hr.toml"), "--jobs", "3"},
                            {"HEADROOM_JOBS=4", "HEADROOM_RETRIES=6"});
  std::string jobs = ConfigLine(r, "jobs");
  EXPECT_TRUE(Contains(jobs, "3") && Contains(jobs, "command line")) << jobs;
  EXPECT_FALSE(Contains(jobs, "4")) << jobs;
  std::string retries = ConfigLine(r, "retries");
  EXPECT_TRUE(Contains(retries, "6") && Contains(retries, "env")) << retries;
  std::string delay = ConfigLine(r, "delay");
  EXPECT_TRUE(Contains(delay, "1s") && Contains(delay, "config")) << delay;
  std::string timeout_line = ConfigLine(r, "halt");
  EXPECT_TRUE(Contains(timeout_line, "never") && Contains(timeout_line, "default")) << timeout_line;
}

TEST_F(ConfigTest, ProfileTableOverridesTopLevel) {
  WriteFile(Path("hr.toml"),
            "jobs = 5\nretries = 1\n\n[profile.fast]\njobs = 7\n"
            "\n[profile.slow]\njobs = 1\n");
  RunResult r = PrintConfig({"--config", Path("hr.toml"), "--profile", "fast"});
  std::string jobs = ConfigLine(r, "jobs");
  EXPECT_TRUE(Contains(jobs, "7")) << jobs;
  EXPECT_TRUE(Contains(jobs, "fast")) << jobs;
  std::string retries = ConfigLine(r, "retries");
  EXPECT_TRUE(Contains(retries, "1") && Contains(retries, "config")) << retries;
  RunResult env_beats =
      PrintConfig({"--config", Path("hr.toml"), "--profile", "fast"}, {"HEADROOM_JOBS=2"});
  EXPECT_TRUE(Contains(ConfigLine(env_beats, "jobs"), "2"));
}

TEST_F(ConfigTest, ProfileAndConfigFromEnv) {
  WriteFile(Path("hr.toml"), "[profile.fast]\njobs = 7\n");
  RunResult r = PrintConfig({}, {"HEADROOM_CONFIG=" + Path("hr.toml"), "HEADROOM_PROFILE=fast"});
  EXPECT_TRUE(Contains(ConfigLine(r, "jobs"), "7"));
}

TEST_F(ConfigTest, EnvRetriesTakeEffect) {
  std::string job = FlakyJob();
  RunOptions opts = Opts();
  opts.env = {"HEADROOM_RETRIES=1", "HEADROOM_RETRY_DELAY=0"};
  RunResult r = Hr({"run", "--", job, ":::", "a"}, opts);
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(ReadFile(Path("count_a")), "2\n");
}

TEST_F(ConfigTest, CommandLineOverridesEnvInARealRun) {
  std::string job = FlakyJob();
  RunOptions opts = Opts();
  opts.env = {"HEADROOM_RETRIES=1"};
  RunResult r = Hr({"run", "--retries", "0", "--", job, ":::", "a"}, opts);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(ReadFile(Path("count_a")), "1\n");
}

TEST_F(ConfigTest, ConfigFileTakesEffect) {
  std::string job = FlakyJob();
  WriteFile(Path("hr.toml"), "retries = 1\nretry_delay = 0\noutput_dir = \"" + Path("cfg-out") +
                                 "\"\n"
                                 "env = [\"FROM_CONFIG=yes\"]\n");
  std::string envjob = Script("env.sh", "env > \"" + Path("env_") + "$1\"\n");
  RunResult r = Hr({"run", "--config", Path("hr.toml"), "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(ReadFile(Path("count_a")), "2\n");
  EXPECT_TRUE(Contains(r.err, "cfg-out")) << "output_dir from config not used: " << r.out;
  RunResult e = Hr({"run", "--config", Path("hr.toml"), "--", envjob, ":::", "b"});
  EXPECT_EQ(e.exit_code, 0) << e.err;
  EXPECT_TRUE(Contains(ReadFile(Path("env_b")), "\nFROM_CONFIG=yes\n")) << ReadFile(Path("env_b"));
}

TEST_F(ConfigTest, BooleanOptionsFromEnvAndConfig) {
  std::string rec = RecorderScript();
  RunOptions opts = Opts();
  opts.env = {"HEADROOM_DRY_RUN=1"};
  RunResult env = Hr({"run", "--", rec, ":::", "a"}, opts);
  EXPECT_EQ(env.exit_code, 0) << env.err;
  EXPECT_FALSE(FileExists(Path("record"))) << "HEADROOM_DRY_RUN=1 ran the job";
  EXPECT_EQ(env.OutLines().size(), 1u) << env.out;

  WriteFile(Path("hr.toml"), "dry_run = true\n");
  RunResult cfg = Hr({"run", "--config", Path("hr.toml"), "--", rec, ":::", "a"});
  EXPECT_EQ(cfg.exit_code, 0) << cfg.err;
  EXPECT_FALSE(FileExists(Path("record"))) << "dry_run = true ran the job";
}

TEST_F(ConfigTest, SizesAndDurationsParseTheSameEverywhere) {
  WriteFile(Path("hr.toml"), "max_job_log = \"1.5GiB\"\ntimeout = \"1h30m\"\n");
  RunResult cfg = PrintConfig({"--config", Path("hr.toml")});
  RunResult env = PrintConfig({}, {"HEADROOM_MAX_JOB_LOG=1.5GiB", "HEADROOM_TIMEOUT=1h30m"});
  RunResult cli = PrintConfig({"--max-job-log", "1.5GiB", "--timeout", "1h30m"});
  for (const RunResult* r : {&cfg, &env, &cli}) {
    EXPECT_TRUE(Contains(ConfigLine(*r, "max_job_log"), "1.5GiB")) << r->out;
    EXPECT_TRUE(Contains(ConfigLine(*r, "timeout"), "1h30m")) << r->out;
  }
}

}  // namespace
}  // namespace headroom::e2e

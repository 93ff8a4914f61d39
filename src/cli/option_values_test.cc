#include "cli/option_values.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/cli_test_util.h"
#include "cli/option_spec.h"

// Each option's values: defaults, ranges, units, lists, enums, and the
// errors that name a bad value and what was expected.

namespace headroom::cli_test {
namespace {


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

// GNU parallel's -j spellings: 0 = as many as the other gates allow, N% of
// the cores.
TEST_F(CliTest, JobsZeroAndPercentOfTheCores) {
  EXPECT_EQ(Ok({"run", "-j", "0", "x"}, 8).jobs, kAsManyAsPossible);
  EXPECT_EQ(Ok({"run", "-j", "50%", "x"}, 16).jobs, 8);
  EXPECT_EQ(Ok({"run", "-j", "200%", "x"}, 4).jobs, 8);
  EXPECT_EQ(Ok({"run", "-j", "10%", "x"}, 4).jobs, 1);  // at least one
}

TEST_F(CliTest, BadNumbersAreNamed) {
  EXPECT_EQ(Error({"run", "-j", "x", "cmd"}), "--jobs: 'x' is not a number or 'auto'");
  EXPECT_TRUE(StartsWith(Error({"run", "-j", "-3", "cmd"}), "--jobs: '-3' is out of range"));
  EXPECT_EQ(Error({"run", "-j", "x%", "cmd"}),
            "--jobs: 'x%' is not a percentage of the cores (expected e.g. 50%)");
  EXPECT_EQ(Error({"run", "-j", "0%", "cmd"}),
            "--jobs: '0%' is not a percentage of the cores (expected e.g. 50%)");
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

}  // namespace
}  // namespace headroom::cli_test

#include "exec/slurm_launcher.h"

#include <gtest/gtest.h>

#include <fstream>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

TEST(SlurmLauncherTest, SbatchArgvCarriesTheBatchsOptions) {
  test::TempDir dir;
  ProcessSet processes;
  SlurmConfig config;
  config.self = "/opt/headroom/bin/headroom";
  config.dir = dir.path();
  config.job_name = "headroom-batch-3-77";
  config.cwd = "/work/clips dir";
  config.partition = "gpu";
  config.time = "2:00:00";
  config.gpus_per_job = "a100:1";
  config.cpus_per_job = 4;
  config.mem = (uint64_t{8} << 30) + 1;  // rounds up to whole MiB
  config.extra = {"--constraint=x", "--qos=low"};
  SlurmLauncher launcher(config, &processes);
  std::vector<std::string> argv = launcher.SbatchArgv("/s/1.spec.json", "/s/1.slurm.out");
  EXPECT_EQ(argv, (std::vector<std::string>{
                      "sbatch", "--parsable", "--job-name", "headroom-batch-3-77", "--chdir",
                      "/work/clips dir", "--output", "/s/1.slurm.out", "--open-mode=append",
                      "--partition=gpu", "--time=2:00:00", "--cpus-per-task=4", "--mem=8193M",
                      "--gres=gpu:a100:1", "--constraint=x", "--qos=low", "--wrap",
                      "exec /opt/headroom/bin/headroom slurm-exec /s/1.spec.json"}));
}

TEST(SlurmLauncherTest, AResultFileIsReadOnlyWhenWhole) {
  test::TempDir dir;
  std::string path = dir.path() + "/1.result.json";
  ProcessExit exit;
  EXPECT_FALSE(ReadSlurmResult(path, &exit)) << "no file";
  std::ofstream(path) << R"({"exit_code": 3, "sig)";
  EXPECT_FALSE(ReadSlurmResult(path, &exit)) << "half a file";
  std::ofstream(path) << R"({"exit_code": -1, "signal": 9, "cpu_seconds": 1.5, "max_rss_kb": 2048, "oom": true, "note": "oom_kill"})";
  ASSERT_TRUE(ReadSlurmResult(path, &exit));
  EXPECT_EQ(exit.exit_code, -1);
  EXPECT_EQ(exit.signal, 9);
  EXPECT_EQ(exit.max_rss_kb, 2048);
  EXPECT_TRUE(exit.oom_reported);
  EXPECT_EQ(exit.note, "oom_kill");
}

}  // namespace
}  // namespace headroom

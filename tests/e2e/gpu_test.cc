// End-to-end: resource-aware admission on the simulated GPU (docs/simgpu.md).
// Jobs are real processes of headroom-simgpu allocating simulated memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"

namespace headroom::e2e {
namespace {

class GpuTest : public E2eTest {
 protected:
  // A spec with one device per entry of `mib`, all at `temperature`.
  void Devices(const std::vector<int>& mib, int temperature = 45) {
    std::string spec = "{\"devices\": [";
    for (size_t i = 0; i < mib.size(); ++i) {
      if (i > 0) spec += ", ";
      spec += "{\"name\": \"SimGPU\", \"memory_mib\": " + std::to_string(mib[i]) +
              ", \"temperature_c\": " + std::to_string(temperature) + "}";
    }
    WriteFile(Path("sim.json"), spec + "]}");
  }
  RunOptions SimOpts() const {
    RunOptions options = Opts();
    std::string bin = HEADROOM_SIMGPU_BIN;
    std::string dir = bin.substr(0, bin.rfind('/'));
    options.env.push_back("HEADROOM_GPU_SIM=" + Path("sim.json"));
    options.env.push_back("PATH=" + dir + ":/usr/bin:/bin");
    return options;
  }
  // A job that records where it ran ({gpu}, CUDA_VISIBLE_DEVICES), then
  // allocates `mib` for `seconds`.
  std::string AllocJob(int mib, double seconds, const std::string& extra = "") {
    return Script("alloc.sh", "echo \"$1 gpu=$2 cvd=${CUDA_VISIBLE_DEVICES-unset}\" >> \"" +
                                  Path("where") + "\"\n" + extra +
                                  "exec headroom-simgpu alloc --mib " + std::to_string(mib) +
                                  " --seconds " + std::to_string(seconds) + "\n");
  }
  RunResult HrSim(std::vector<std::string> args) { return Hr(std::move(args), SimOpts()); }

  // Another user's process holding `mib` on device 0: a live process with
  // an allocation in the simulated GPU's state (docs/simgpu.md). Ends
  // with the returned process (the allocation dies with it).
  std::unique_ptr<Process> OtherProcess(int mib) {
    auto other = std::make_unique<Process>(std::vector<std::string>{"/bin/sleep", "120"}, Opts());
    WriteFile(Path("sim.json.state"),
              "alloc 0 " + std::to_string(other->pid()) + " " + std::to_string(mib) + " 0\n");
    return other;
  }

  // The "waiting" of `status --json`, "" while there is none to read.
  std::string StatusWaiting() {
    RunResult r = HrSim({"status", "--json"});
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    if (!json.is_object() || !json["waiting"].is_string()) return "";
    return json["waiting"].get<std::string>();
  }
};

TEST_F(GpuTest, JobsSpreadOverTwoDevicesAndGetTheirGpu) {
  Devices({10240, 10240});
  // Each job notes when it started; 1.5 s each, so one after the other
  // would start at least 1.5 s apart however slow the machine is.
  std::string job = AllocJob(6000, 1.5, "date +%s.%N >> \"" + Path("starts") + "\"\n");
  RunResult r = HrSim({"run", "-j4", "--gpu-mem", "6G", "--monitor-interval", "50ms", "--", job,
                       "{}", "{gpu}", ":::", "a", "b"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string where = ReadFile(Path("where"));
  // 6 GiB each: one per 10 GiB device, both at once.
  EXPECT_TRUE(Contains(where, "gpu=0 cvd=0")) << where;
  EXPECT_TRUE(Contains(where, "gpu=1 cvd=1")) << where;
  std::vector<std::string> starts = SplitLines(ReadFile(Path("starts")));
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_LT(std::abs(std::stod(starts[0]) - std::stod(starts[1])), 1.0)
      << "the two jobs should have run side by side";
}

// Memory that another process holds is not headroom's to override: with
// nothing of its own running, a job that does not fit beside it waits (and
// says for what) instead of failing out of memory, and starts when the
// other process frees the memory.
TEST_F(GpuTest, AnotherProcessesMemoryMakesJobsWaitNotFail) {
  Devices({10240});  // high mark 8704 MiB
  std::unique_ptr<Process> other = OtherProcess(9000);
  std::string job = AllocJob(2000, 0.2);
  std::unique_ptr<Process> run =
      Start({"run", "-j2", "--gpu-mem", "2000M", "--monitor-interval", "50ms", "--", job, "{}",
             "{gpu}", ":::", "a", "b", "c"},
            SimOpts());
  std::string waiting;
  ASSERT_TRUE(run->PumpUntil(
      [&] {
        waiting = StatusWaiting();
        return !waiting.empty();
      },
      20))
      << run->err();
  EXPECT_EQ(waiting, "gpu0: 8.8 of 10.0 GiB used by other processes (pid " +
                         std::to_string(other->pid()) + ")");
  EXPECT_FALSE(FileExists(Path("where"))) << "nothing may start beside the other process";
  EXPECT_TRUE(run->Running());

  other->Signal(SIGKILL);  // the other process ends: its memory is free
  other->Wait(10);
  RunResult r = run->Wait(30);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(SplitLines(ReadFile(Path("where"))).size(), 3u);
  EXPECT_FALSE(Contains(r.out + r.err, "out of memory")) << r.out << r.err;
  EXPECT_FALSE(Contains(r.out + r.err, "although it waits")) << r.out << r.err;
}

// --gate-timeout: a batch that the machine's state holds gives up with
// exit 1 and the reason; what did not start is resumable.
TEST_F(GpuTest, AGateTimeoutGivesUpWithTheReasonAndLeavesTheRestResumable) {
  Devices({10240});
  std::unique_ptr<Process> other = OtherProcess(9000);
  std::string job = AllocJob(2000, 0.1);
  RunResult r = HrSim({"run", "--gpu-mem", "2000M", "--gate-timeout", "0.5s",
                       "--monitor-interval", "50ms", "--", job, "{}", "{gpu}", ":::", "a", "b"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out + r.err, "gave up after waiting")) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out + r.err, "used by other processes (pid " +
                                          std::to_string(other->pid()) + ")"))
      << r.out << r.err;
  EXPECT_FALSE(FileExists(Path("where")));

  other->Signal(SIGKILL);
  other->Wait(10);
  r = HrSim({"run", "--resume", "--gpu-mem", "2000M", "--gate-timeout", "0.5s",
             "--monitor-interval", "50ms", "--", job, "{}", "{gpu}", ":::", "a", "b"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(SplitLines(ReadFile(Path("where"))).size(), 2u);
}

// What a batch learned of a command is kept in the state dir: a second batch
// of it packs from its first second (no slow start); `headroom footprints`
// shows it and --forget resets it.
TEST_F(GpuTest, ASecondBatchOfACommandStartsFromWhatTheFirstLearned) {
  Devices({10240});
  std::string job = AllocJob(2000, 1.0, "date +%s.%N >> \"" + Path("starts") + "\"\n");
  std::vector<std::string> run = {"run", "-j3", "--monitor-interval", "50ms", "--", job, "{}",
                                  "{gpu}", ":::"};
  std::vector<std::string> first = run;
  first.insert(first.end(), {"a", "b", "c"});
  RunResult r = HrSim(first);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  r = HrSim({"footprints", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(json.is_object()) << r.out;
  ASSERT_EQ(json["classes"].size(), 1u) << r.out;
  const auto& learned = json["classes"][0];
  EXPECT_EQ(learned["jobs"], 3);
  EXPECT_TRUE(Contains(learned["command"].get<std::string>(), "alloc.sh")) << r.out;
  EXPECT_EQ(learned["vram_max"], uint64_t{2000} << 20) << r.out;
  EXPECT_GE(learned["seconds_median"].get<double>(), 1.0) << r.out;
  r = HrSim({"footprints"});
  EXPECT_TRUE(Contains(r.out, learned["id"].get<std::string>() + "       3  ")) << r.out;

  std::remove(Path("starts").c_str());
  std::vector<std::string> second = run;
  second.insert(second.end(), {"d", "e", "f"});
  r = HrSim(second);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> starts = SplitLines(ReadFile(Path("starts")));
  ASSERT_EQ(starts.size(), 3u);
  double spread = 0;
  for (const std::string& start : starts) {
    spread = std::max(spread, std::stod(start) - std::stod(starts[0]));
  }
  EXPECT_LT(spread, 0.9) << "the second batch should start all three at once";

  r = HrSim({"footprints", "--forget", "nosuch"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "--forget nosuch: no class has that id or command")) << r.err;
  r = HrSim({"footprints", "--forget", learned["id"].get<std::string>()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = HrSim({"footprints"});
  EXPECT_TRUE(Contains(r.out, "nothing learned yet")) << r.out;
}

TEST_F(GpuTest, DeclaredFootprintsAreNeverOverbooked) {
  // 0.85 x 10 GiB holds two 4 GiB jobs, never three: no OOM.
  Devices({10240});
  std::string job = AllocJob(4096, 0.3);
  RunResult r = HrSim({"run", "-j8", "--gpu-mem", "4G", "--monitor-interval", "50ms", "--", job,
                       "{}", "{gpu}", ":::", "a", "b", "c", "d"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(Contains(r.err, "out of memory")) << r.out;
  EXPECT_GT(r.seconds, 0.3 * 2 - 0.05) << "four jobs two at a time take two rounds";
}

TEST_F(GpuTest, AFixedPoolRunsOutOfMemoryAndRecovers) {
  // The hand-written pool starts all four at once; two do not fit, fail with
  // CUDA's message, and are retried until they do.
  Devices({10240});
  std::string job = AllocJob(4096, 0.4);
  RunResult r = HrSim({"run", "-j4", "--policy", "fixed", "--retry-delay", "0.1s", "--oom-retries",
                       "20", "--", job, "{}", "{gpu}", ":::", "a", "b", "c", "d"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(Contains(r.err, "out-of-memory retries")) << r.err;
  EXPECT_TRUE(Contains(r.err, "RETRY: ")) << r.out;
}

TEST_F(GpuTest, AnOomWithoutRetriesLeftFallsBackToTheCpu) {
  Devices({1024});
  // Too big for the device: every GPU attempt fails; without a GPU the
  // script succeeds (as a CPU path would).
  std::string job =
      Script("big.sh", "echo \"cvd=${CUDA_VISIBLE_DEVICES-unset}\" >> \"" + Path("where") +
                           "\"\n"
                           "[ -z \"$CUDA_VISIBLE_DEVICES\" ] && exit 0\n"
                           "exec headroom-simgpu alloc --mib 4096 --seconds 0\n");
  RunResult r = HrSim(
      {"run", "--oom-retries", "1", "--retry-delay", "0", "--cpu-fallback", "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(ReadFile(Path("where")), "cvd=0\ncvd=0\ncvd=\n");
}

// --cpu-command: a job whose GPU path cannot run on the CPU (an NVENC
// encode) gets a different command there; a jobs-file cpu_cmd wins for its
// job. Either implies the fallback.
TEST_F(GpuTest, TheCpuAttemptRunsTheCpuCommand) {
  Devices({1024});
  std::string gpu_job = AllocJob(4096, 0);
  std::string cpu_job =
      Script("cpu.sh", "echo \"cpu $1 $2 gpu=$3 cvd=${CUDA_VISIBLE_DEVICES-unset}\" >> \"" +
                           Path("where") + "\"\n");
  RunResult r = HrSim({"run", "--oom-retries", "0", "--cpu-command",
                       cpu_job + " {} 'x264 preset' {gpu}", "--", gpu_job, "{}", "{gpu}", ":::",
                       "a"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFile(Path("where")), "a gpu=0 cvd=0\ncpu a x264 preset gpu= cvd=\n");

  std::remove(Path("where").c_str());
  WriteFile(Path("jobs.jsonl"),
            "{\"input\": \"b\", \"cpu_cmd\": [\"" + cpu_job + "\", \"{}\", \"own\"]}\n");
  r = HrSim({"run", "--oom-retries", "0", "--jobs-file", Path("jobs.jsonl"), "--", gpu_job, "{}",
             "{gpu}"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFile(Path("where")), "b gpu=0 cvd=0\ncpu b own gpu= cvd=\n");

  r = HrSim({"run", "--cpu-command", "x264 {} | tee log", "--", gpu_job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "headroom: error: --cpu-command: '|' in 'x264 {} | tee log' would need a shell (quote "
            "it, or use a script)\n");
}

TEST_F(GpuTest, WithoutFallbackTheLastOomFails) {
  Devices({1024});
  std::string job = AllocJob(4096, 0);
  RunResult r = HrSim(
      {"run", "--oom-retries", "1", "--retry-delay", "0", "--", job, "{}", "{gpu}", ":::", "a"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(Grep(r.err, "FAILED: a (out of memory").size(), 1u) << r.out;
}

TEST_F(GpuTest, AHotDeviceTakesOneJobAtATime) {
  Devices({81920}, /*temperature=*/90);
  std::string job = AllocJob(1024, 0.2);
  RunResult r = HrSim({"run", "-j4", "--gpu-mem", "1G", "--monitor-interval", "50ms", "--", job,
                       "{}", "{gpu}", ":::", "a", "b", "c"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_GT(r.seconds, 0.2 * 3 - 0.05) << "a device at 90 C runs one job";
}

// An allocation inherited from Slurm, Docker or a shared box's convention:
// only those devices are used, and each job is told the one it got.
TEST_F(GpuTest, AnInheritedCudaVisibleDevicesIsTheBatchsAllocation) {
  Devices({10240, 10240, 10240, 10240});
  std::string job = AllocJob(6000, 0.3);
  RunOptions options = SimOpts();
  options.env.push_back("CUDA_VISIBLE_DEVICES=2,SIM-3");
  RunResult r = Hr({"run", "-j4", "--gpu-mem", "6G", "--monitor-interval", "50ms", "--", job,
                    "{}", "{gpu}", ":::", "a", "b", "c", "d"},
                   options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> where = SplitLines(ReadFile(Path("where")));
  ASSERT_EQ(where.size(), 4u);
  for (const std::string& line : where) {
    EXPECT_TRUE(Contains(line, "gpu=2 cvd=2") || Contains(line, "gpu=3 cvd=3")) << line;
  }

  options.env.back() = "CUDA_VISIBLE_DEVICES=2,7";
  r = Hr({"run", "--", job, "{}", ":::", "a"}, options);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "headroom: error: CUDA_VISIBLE_DEVICES entry '7': no such GPU (this machine has "
            "gpu0-3)\n");
  options.env.back() = "CUDA_VISIBLE_DEVICES=2,3";
  r = Hr({"run", "--gpus", "0", "--", job, "{}", ":::", "a"}, options);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "headroom: error: --gpus 0: no such GPU (CUDA_VISIBLE_DEVICES='2,3' gives this "
            "batch gpu2,3)\n");
}

TEST_F(GpuTest, GpusNamingADeviceThatDoesNotExistIsAnInputError) {
  Devices({10240, 10240});
  std::string job = AllocJob(0, 0);
  RunResult r = HrSim({"run", "--gpus", "1,7", "--", job, "{}", ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "headroom: error: --gpus 7: no such GPU (this machine has gpu0,1)\n");
  EXPECT_FALSE(FileExists(Path("where")));
}

TEST_F(GpuTest, GpusNoneHidesEveryDevice) {
  Devices({10240});
  std::string job = AllocJob(0, 0);
  RunResult r = HrSim({"run", "--gpus", "none", "--", job, "{}", "{gpu}", ":::", "a"});
  EXPECT_EQ(ReadFile(Path("where")), "a gpu= cvd=\n");
}

TEST_F(GpuTest, WithoutAnyGpuJobsRunAndTheirEnvironmentIsLeftAlone) {
  std::string job = AllocJob(0, 0);
  RunOptions options = Opts();
  RunResult r = Hr({"run", "--gpu-provider", "none", "--", "sh", "-c",
                    "echo \"gpu=$1 cvd=${CUDA_VISIBLE_DEVICES-unset}\" > \"" + Path("where") + "\"",
                    "sh", "{gpu}", ":::", "a"},
                   options);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFile(Path("where")), "gpu= cvd=unset\n");
}

TEST_F(GpuTest, GpusShowsTheSimulatedDevices) {
  Devices({10240, 20480});
  RunResult r = HrSim({"gpus"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "SimGPU")) << r.out;
  EXPECT_TRUE(Contains(r.out, "20.0 GiB")) << r.out;
  RunResult json = HrSim({"gpus", "--json"});
  EXPECT_TRUE(Contains(json.out, "\"memory_total_bytes\":21474836480")) << json.out;
}

// `headroom gpus` names the headroom job that owns a GPU process (its
// number and input) and shows the process's command.
TEST_F(GpuTest, GpusNamesTheJobThatOwnsEachProcess) {
  Devices({10240});
  auto p = Start({"run", "--", AllocJob(1000, 30), "{}", "{gpu}", ":::", "clip 1.mp4"}, SimOpts());
  std::string shown;
  bool named = p->PumpUntil(
      [&] {
        shown = HrSim({"gpus"}).out;
        return Contains(shown, "job #1 'clip 1.mp4': headroom-simgpu alloc --mib 1000");
      },
      10);
  EXPECT_TRUE(named) << shown << p->err();
  RunResult json = HrSim({"gpus", "--json"});
  EXPECT_TRUE(Contains(json.out, R"("job_number":1,"job_input":"clip 1.mp4")")) << json.out;
  p->Signal(SIGINT);
  EXPECT_EQ(p->Wait(15).exit_code, 130);
}

TEST_F(GpuTest, ANamedProviderThatDoesNotWorkIsAnInputError) {
  RunResult r = Hr({"run", "--gpu-provider", "sim", "--gpu-sim", Path("missing.json"), "--", "true",
                    ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "missing.json")) << r.err;
}

}  // namespace
}  // namespace headroom::e2e

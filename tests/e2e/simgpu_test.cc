// End-to-end: headroom-simgpu itself, the simulated GPU that the other GPU
// tests and bench/packing.sh rely on (docs/simgpu.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"

#ifdef HEADROOM_SIMGPU_BIN

namespace headroom::e2e {
namespace {

class SimGpuToolTest : public E2eTest {
 protected:
  void SetUp() override {
    WriteFile(Path("sim.json"),
              R"({"devices": [{"name": "SimGPU-10G", "memory_mib": 10000, "temperature_c": 45},
                              {"name": "SimGPU-5G", "memory_mib": 5000}]})");
  }
  RunOptions SimOpts(const std::string& visible = "0") const {
    RunOptions options = Opts();
    options.env.push_back("HEADROOM_GPU_SIM=" + Path("sim.json"));
    options.env.push_back("CUDA_VISIBLE_DEVICES=" + visible);
    return options;
  }
  std::vector<std::string> Argv(std::vector<std::string> args) const {
    args.insert(args.begin(), HEADROOM_SIMGPU_BIN);
    return args;
  }
  RunResult Sim(std::vector<std::string> args, const RunOptions& options) {
    return RunProgram(Argv(std::move(args)), options);
  }
  RunResult Sim(std::vector<std::string> args) { return Sim(std::move(args), SimOpts()); }
  std::unique_ptr<Process> StartSim(std::vector<std::string> args,
                                    const std::string& visible = "0") {
    return std::make_unique<Process>(Argv(std::move(args)), SimOpts(visible));
  }
  std::string Status() {
    RunResult r = Sim({"status"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  // Pumps `p` until `status` prints `line`.
  bool WaitForStatus(Process* p, const std::string& line) {
    return p->PumpUntil([&] { return Contains(Status(), line); }, 5);
  }
};

TEST_F(SimGpuToolTest, AllocHoldsItsMemoryForItsTimeThenReleasesIt) {
  // 2 s: long enough for `status` to see it on a loaded machine.
  auto p = StartSim({"alloc", "--mib", "3000", "--seconds", "2"});
  std::string mine = "pid " + std::to_string(p->pid()) + ": 3000 MiB";
  EXPECT_TRUE(WaitForStatus(p.get(), mine)) << Status();
  EXPECT_TRUE(Contains(Status(), "gpu0 SimGPU-10G: 3000 / 10000 MiB used")) << Status();
  RunResult r = p->Wait(5);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_GE(r.seconds, 2.0);
  EXPECT_LT(r.seconds, 4.0);
  EXPECT_TRUE(Contains(Status(), "gpu0 SimGPU-10G: 0 / 10000 MiB used")) << Status();
}

TEST_F(SimGpuToolTest, ARampGrowsTheAllocationGradually) {
  auto p = StartSim({"alloc", "--mib", "1000", "--seconds", "2.3", "--ramp", "2"});
  std::string prefix = "pid " + std::to_string(p->pid()) + ": ";
  std::vector<int> seen;
  p->PumpUntil(
      [&] {
        for (const std::string& line : SplitLines(Status())) {
          size_t at = line.find(prefix);
          if (at != std::string::npos) seen.push_back(std::stoi(line.substr(at + prefix.size())));
        }
        return !seen.empty() && seen.back() == 1000;
      },
      5);
  EXPECT_EQ(p->Wait(5).exit_code, 0);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), 1000);
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [](int mib) { return mib > 0 && mib < 900; }))
      << "no step of the ramp was seen between 0 and 900 MiB";
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(SimGpuToolTest, AnAllocThatDoesNotFitFailsLikePyTorch) {
  auto first = StartSim({"alloc", "--mib", "6000", "--seconds", "20"});
  ASSERT_TRUE(WaitForStatus(first.get(), "6000 / 10000 MiB used")) << Status();

  RunResult second = Sim({"alloc", "--mib", "6000", "--seconds", "5"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_EQ(second.err,
            "CUDA out of memory. Tried to allocate 6000 MiB (GPU 0; 10000 MiB total capacity; "
            "6000 MiB already allocated)\n");
  EXPECT_LT(second.seconds, 2.5) << "an OOM fails at once, it does not hold for 5 s";
  // The failed one holds nothing; the other device is free.
  EXPECT_TRUE(Contains(Status(), "gpu0 SimGPU-10G: 6000 / 10000 MiB used")) << Status();
  EXPECT_EQ(Sim({"alloc", "--mib", "4000", "--seconds", "0"}, SimOpts("1")).exit_code, 0);

  // SIGTERM: released, 128 + 15.
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(5).exit_code, 143);
  EXPECT_TRUE(Contains(Status(), "gpu0 SimGPU-10G: 0 / 10000 MiB used")) << Status();
}

TEST_F(SimGpuToolTest, ARampThatOutgrowsTheDeviceReportsTheStepThatFailed) {
  auto first = StartSim({"alloc", "--mib", "9000", "--seconds", "20"});
  ASSERT_TRUE(WaitForStatus(first.get(), "9000 / 10000 MiB used")) << Status();
  RunResult r = Sim({"alloc", "--mib", "4000", "--seconds", "10", "--ramp", "0.4"});
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_TRUE(StartsWith(r.err, "CUDA out of memory. Tried to allocate ")) << r.err;
  // It got close to the 1000 MiB left before a step failed.
  size_t held = r.err.find("capacity; ");
  ASSERT_NE(held, std::string::npos);
  int already = std::stoi(r.err.substr(held + 10));
  EXPECT_GT(already, 9000);
  EXPECT_LE(already, 10000);
  EXPECT_LT(r.seconds, 5) << "it failed on the way up, it did not hold for 10 s";
}

TEST_F(SimGpuToolTest, NoVisibleDeviceMeansNoCudaDevice) {
  for (const char* visible : {"", "7", "-1"}) {
    RunResult r = Sim({"alloc", "--mib", "1", "--seconds", "0"}, SimOpts(visible));
    EXPECT_EQ(r.exit_code, 1) << "CUDA_VISIBLE_DEVICES=" << visible;
    EXPECT_TRUE(StartsWith(r.err, "no CUDA-capable device")) << r.err;
    EXPECT_EQ(r.ErrLines().size(), 1u) << r.err;
  }
  // The first listed device is the one used.
  auto p = StartSim({"alloc", "--mib", "100", "--seconds", "20"}, "1,0");
  EXPECT_TRUE(WaitForStatus(p.get(), "gpu1 SimGPU-5G: 100 / 5000 MiB used")) << Status();
}

TEST_F(SimGpuToolTest, SetChangesTheTemperatureThatStatusShows) {
  EXPECT_TRUE(Contains(Status(), "gpu1 SimGPU-5G: 0 / 5000 MiB used, 40 C")) << Status();
  RunResult r = Sim({"set", "--device", "1", "--temperature", "88"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string status = Status();
  EXPECT_TRUE(Contains(status, "gpu0 SimGPU-10G: 0 / 10000 MiB used, 45 C")) << status;
  EXPECT_TRUE(Contains(status, "gpu1 SimGPU-5G: 0 / 5000 MiB used, 88 C")) << status;
  // --gpu-sim names the spec as well as HEADROOM_GPU_SIM does.
  RunOptions no_env = Opts();
  RunResult named = Sim({"--gpu-sim", Path("sim.json"), "status"}, no_env);
  EXPECT_EQ(named.exit_code, 0) << named.err;
  EXPECT_TRUE(Contains(named.out, "88 C")) << named.out;
}

TEST_F(SimGpuToolTest, AKilledAllocHoldsNoMemory) {
  auto p = StartSim({"alloc", "--mib", "8000", "--seconds", "20"});
  ASSERT_TRUE(WaitForStatus(p.get(), "8000 / 10000 MiB used")) << Status();
  p->Signal(SIGKILL);
  RunResult killed = p->Wait(5);
  EXPECT_EQ(killed.signal, SIGKILL);
  // Its entry is still in the state file, but no longer counts.
  EXPECT_TRUE(Contains(Status(), "gpu0 SimGPU-10G: 0 / 10000 MiB used")) << Status();
  RunResult again = Sim({"alloc", "--mib", "8000", "--seconds", "0"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST_F(SimGpuToolTest, BadUsageIsOneLineAndExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"alloc", "--mib", "x", "--seconds", "1"},
           {"alloc", "--mib", "10"},
           {"alloc", "--mib", "10", "--seconds", "1", "--bogus", "1"},
           {"set", "--device", "9", "--temperature", "50"},
           {"frobnicate"},
           {},
       }) {
    RunResult r = Sim(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.ErrLines().size(), 1u) << r.err;
    EXPECT_TRUE(StartsWith(r.err, "headroom-simgpu: error: ")) << r.err;
  }
  RunResult no_spec = Sim({"status"}, Opts());
  EXPECT_EQ(no_spec.exit_code, 2);
  EXPECT_TRUE(Contains(no_spec.err, "HEADROOM_GPU_SIM")) << no_spec.err;

  RunResult help = Sim({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* word : {"alloc --mib N --seconds S [--ramp R]", "set --device D", "status"}) {
    EXPECT_TRUE(Contains(help.out, word)) << help.out;
  }
}

TEST_F(SimGpuToolTest, InputWordsHeadroomAppendsAreIgnored) {
  RunResult r = Sim({"alloc", "--mib", "10", "--seconds", "0", "video.mp4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace headroom::e2e

#endif  // HEADROOM_SIMGPU_BIN

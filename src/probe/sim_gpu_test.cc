#include "probe/sim_gpu.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

constexpr uint64_t kMiB = uint64_t{1024} * 1024;

// A child process that waits to be killed, so that its pid is live.
class Sleeper {
 public:
  Sleeper() : pid_(fork()) {
    if (pid_ == 0) {
      pause();
      _exit(0);
    }
  }
  ~Sleeper() { Kill(); }
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;
  pid_t pid() const { return pid_; }
  // SIGKILL; reaped unless `reap` is false (then it stays a zombie).
  void Kill(bool reap = true) {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    if (reap) {
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_;
};

class SimGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Write("sim.json",
                R"({"devices": [{"name": "SimGPU-80G", "memory_mib": 1000, "temperature_c": 45},
                                {"name": "Small", "memory_mib": 500}]})");
    ASSERT_TRUE(SimGpu::Open(Spec(), &sim_).ok());
  }
  std::string Spec() const { return tree_.File("sim.json"); }
  std::string StateText() const {
    std::ifstream in(Spec() + ".state");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::vector<GpuDevice> Devices() const {
    std::vector<GpuDevice> devices;
    EXPECT_TRUE(sim_->Read(&devices).ok());
    return devices;
  }
  SimAllocResult Allocate(int device, pid_t pid, uint64_t mib) {
    SimAllocResult result;
    Status status = sim_->Allocate(device, pid, mib, &result);
    EXPECT_TRUE(status.ok()) << status.message();
    return result;
  }

  test::TempDir tree_;
  std::unique_ptr<SimGpu> sim_;
};

TEST_F(SimGpuTest, ReadsTheSpecAndReportsIdleDevices) {
  ASSERT_EQ(sim_->devices().size(), 2u);
  EXPECT_EQ(sim_->devices()[1].temperature_c, 40);  // the default
  std::vector<GpuDevice> devices = Devices();
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].index, 0);
  EXPECT_EQ(devices[0].name, "SimGPU-80G");
  EXPECT_EQ(devices[0].uuid, "SIM-0");
  EXPECT_EQ(devices[0].memory_total, 1000 * kMiB);
  EXPECT_EQ(devices[0].memory_used, 0u);
  EXPECT_EQ(devices[0].temperature_c, 45);
  EXPECT_EQ(devices[0].utilization_pct, 0);
  EXPECT_TRUE(devices[0].processes_known);
  EXPECT_TRUE(devices[0].processes.empty());
  EXPECT_EQ(devices[1].name, "Small");
  EXPECT_EQ(devices[1].uuid, "SIM-1");
  EXPECT_EQ(devices[1].memory_total, 500 * kMiB);
}

TEST_F(SimGpuTest, BadSpecsAreErrorsThatSayWhatIsWrong) {
  std::unique_ptr<SimGpu> sim;
  Status missing = SimGpu::Open(tree_.File("nope.json"), &sim);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("nope.json"), std::string::npos) << missing.message();

  struct Case {
    std::string text;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {"{", "not valid JSON"},
           {R"({"gpus": []})", "expected {\"devices\""},
           {R"({"devices": [3]})", "devices[0]: expected an object"},
           {R"({"devices": [{"name": "a"}]})", "devices[0].memory_mib"},
           {R"({"devices": [{"memory_mib": 8}, {"memory_mib": -1}]})", "devices[1].memory_mib"},
           {R"({"devices": [{"memory_mib": 1.5}]})", "devices[0].memory_mib"},
           {R"({"devices": [{"memory_mib": 8, "name": 3}]})", "devices[0].name"},
           {R"({"devices": [{"memory_mib": 8, "temperature_c": "hot"}]})",
            "devices[0].temperature_c"},
           {R"({"devices": [{"memory_mib": 8, "temperature_c": 1e300}]})",
            "devices[0].temperature_c"},
       }) {
    tree_.Write("bad.json", c.text);
    Status status = SimGpu::Open(tree_.File("bad.json"), &sim);
    ASSERT_FALSE(status.ok()) << c.text;
    EXPECT_NE(status.message().find(c.expected), std::string::npos)
        << c.text << " -> " << status.message();
    EXPECT_NE(status.message().find("bad.json"), std::string::npos) << status.message();
  }
}

TEST_F(SimGpuTest, AllocationsCountUntilReleased) {
  Sleeper other;
  SimAllocResult mine = Allocate(0, getpid(), 300);
  EXPECT_TRUE(mine.fits);
  EXPECT_EQ(mine.total_mib, 1000u);
  EXPECT_EQ(mine.others_mib, 0u);
  SimAllocResult theirs = Allocate(0, other.pid(), 200);
  EXPECT_TRUE(theirs.fits);
  EXPECT_EQ(theirs.others_mib, 300u);

  std::vector<GpuDevice> devices = Devices();
  EXPECT_EQ(devices[0].memory_used, 500 * kMiB);
  EXPECT_EQ(devices[0].utilization_pct, 100);
  ASSERT_EQ(devices[0].processes.size(), 2u);
  EXPECT_EQ(devices[0].processes[0].pid, getpid());
  EXPECT_EQ(devices[0].processes[0].used_bytes, 300 * kMiB);
  EXPECT_EQ(devices[0].processes[0].pgid, getpgrp());
  EXPECT_EQ(devices[0].processes[1].pid, other.pid());
  EXPECT_EQ(devices[0].processes[1].used_bytes, 200 * kMiB);
  EXPECT_EQ(devices[1].memory_used, 0u);  // other devices untouched

  ASSERT_TRUE(sim_->Release(getpid()).ok());
  devices = Devices();
  EXPECT_EQ(devices[0].memory_used, 200 * kMiB);
  ASSERT_EQ(devices[0].processes.size(), 1u);
  EXPECT_EQ(devices[0].processes[0].pid, other.pid());
}

TEST_F(SimGpuTest, GrowingSetsTheSizeInsteadOfAddingToIt) {
  EXPECT_TRUE(Allocate(0, getpid(), 100).fits);
  SimAllocResult grown = Allocate(0, getpid(), 400);
  EXPECT_TRUE(grown.fits);
  EXPECT_EQ(grown.mine_mib, 100u);
  EXPECT_EQ(Devices()[0].memory_used, 400 * kMiB);
  EXPECT_EQ(Devices()[0].processes.size(), 1u);
  ASSERT_TRUE(sim_->Release(getpid()).ok());
}

TEST_F(SimGpuTest, AnAllocationThatDoesNotFitChangesNothing) {
  Sleeper other;
  EXPECT_TRUE(Allocate(0, other.pid(), 700).fits);
  EXPECT_TRUE(Allocate(0, getpid(), 300).fits);  // exactly full fits
  SimAllocResult result = Allocate(0, getpid(), 301);
  EXPECT_FALSE(result.fits);
  EXPECT_EQ(result.total_mib, 1000u);
  EXPECT_EQ(result.others_mib, 700u);
  EXPECT_EQ(result.mine_mib, 300u);
  EXPECT_EQ(Devices()[0].memory_used, 1000 * kMiB);
  // Shrinking always fits, even on a full device.
  EXPECT_TRUE(Allocate(0, getpid(), 10).fits);
  EXPECT_EQ(Devices()[0].memory_used, 710 * kMiB);
  ASSERT_TRUE(sim_->Release(getpid()).ok());
}

TEST_F(SimGpuTest, DeadAndZombieProcessesHoldNothing) {
  Sleeper dying;
  EXPECT_TRUE(Allocate(0, dying.pid(), 900).fits);
  EXPECT_FALSE(Allocate(0, getpid(), 200).fits);

  dying.Kill(/*reap=*/false);
  // A zombie has freed its memory, as a dead CUDA process has.
  for (int i = 0; i < 200 && Devices()[0].memory_used != 0; ++i) usleep(1000);
  EXPECT_EQ(Devices()[0].memory_used, 0u);
  dying.Kill();
  EXPECT_EQ(Devices()[0].memory_used, 0u);
  EXPECT_NE(StateText().find("alloc 0 "), std::string::npos);  // stale until the next write

  EXPECT_TRUE(Allocate(0, getpid(), 200).fits);
  EXPECT_EQ(StateText().find("900"), std::string::npos) << StateText();  // pruned
  ASSERT_TRUE(sim_->Release(getpid()).ok());
}

TEST_F(SimGpuTest, AReusedPidIsNotTheProcessThatAllocated) {
  SimAllocation mine{0, getpid(), 10, ProcessStartTicks(getpid())};
  ASSERT_NE(mine.start_ticks, 0u);
  EXPECT_TRUE(SimAllocationLive(mine));
  SimAllocation earlier = mine;
  earlier.start_ticks -= 1;
  EXPECT_FALSE(SimAllocationLive(earlier));
  SimAllocation unknown_start = mine;
  unknown_start.start_ticks = 0;
  EXPECT_TRUE(SimAllocationLive(unknown_start));
}

TEST_F(SimGpuTest, TemperatureIsTheSpecsUntilSet) {
  ASSERT_TRUE(sim_->SetTemperature(1, 83).ok());
  std::vector<GpuDevice> devices = Devices();
  EXPECT_EQ(devices[0].temperature_c, 45);
  EXPECT_EQ(devices[1].temperature_c, 83);
  // Another handle on the same spec sees it too.
  std::unique_ptr<SimGpu> again;
  ASSERT_TRUE(SimGpu::Open(Spec(), &again).ok());
  std::vector<GpuDevice> seen;
  ASSERT_TRUE(again->Read(&seen).ok());
  EXPECT_EQ(seen[1].temperature_c, 83);

  Status bad = sim_->SetTemperature(2, 50);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("device 2"), std::string::npos) << bad.message();
  SimAllocResult result;
  EXPECT_FALSE(sim_->Allocate(-1, getpid(), 1, &result).ok());
}

TEST_F(SimGpuTest, ConcurrentAllocationsNeverOverbook) {
  // Eight processes race for 300 MiB each of 1000: exactly three may win.
  constexpr int kRacers = 8;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  std::vector<pid_t> racers;
  for (int i = 0; i < kRacers; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      close(pipe_fds[0]);
      SimAllocResult result;
      Status status = sim_->Allocate(0, getpid(), 300, &result);
      char verdict = !status.ok() ? 'e' : result.fits ? 'y' : 'n';
      if (write(pipe_fds[1], &verdict, 1) != 1) _exit(1);
      pause();  // holds the allocation until killed
      _exit(0);
    }
    racers.push_back(pid);
  }
  close(pipe_fds[1]);
  std::string verdicts;
  char c;
  while (verdicts.size() < kRacers && read(pipe_fds[0], &c, 1) == 1) verdicts += c;
  close(pipe_fds[0]);
  EXPECT_EQ(std::count(verdicts.begin(), verdicts.end(), 'y'), 3) << verdicts;
  EXPECT_EQ(std::count(verdicts.begin(), verdicts.end(), 'n'), kRacers - 3) << verdicts;
  EXPECT_EQ(Devices()[0].memory_used, 900 * kMiB);
  for (pid_t pid : racers) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  EXPECT_EQ(Devices()[0].memory_used, 0u);
}

TEST_F(SimGpuTest, ACorruptStateFileIsAnError) {
  tree_.Write("sim.json.state", "alloc zero\n");
  std::vector<GpuDevice> devices;
  Status status = sim_->Read(&devices);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("sim.json.state"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("alloc zero"), std::string::npos) << status.message();
}

TEST(SimStateTest, FormatsAndParsesBack) {
  SimState state;
  state.temperature_c[1] = 77;
  state.allocations.push_back({0, 1234, 8000, 99});
  state.allocations.push_back({1, 55, 1, 0});
  SimState back;
  ASSERT_TRUE(ParseSimState(FormatSimState(state), &back).ok());
  EXPECT_EQ(back.temperature_c, state.temperature_c);
  ASSERT_EQ(back.allocations.size(), 2u);
  EXPECT_EQ(back.allocations[0].device, 0);
  EXPECT_EQ(back.allocations[0].pid, 1234);
  EXPECT_EQ(back.allocations[0].mib, 8000u);
  EXPECT_EQ(back.allocations[0].start_ticks, 99u);
  EXPECT_EQ(back.allocations[1].pid, 55);

  ASSERT_TRUE(ParseSimState("\n# note\ntemp 0 50\n", &back).ok());
  EXPECT_EQ(back.temperature_c.at(0), 50);
  for (const char* bad :
       {"temp 0\n", "alloc 0 12 5\n", "alloc 0 0 5 0\n", "temp 0 1 2\n", "heat 0 1\n"}) {
    EXPECT_FALSE(ParseSimState(bad, &back).ok()) << bad;
  }
}

TEST(CudaVisibleDeviceTest, PicksTheFirstListedDevice) {
  int device = -1;
  ASSERT_TRUE(CudaVisibleDevice(nullptr, 2, &device).ok());
  EXPECT_EQ(device, 0);
  ASSERT_TRUE(CudaVisibleDevice("1", 2, &device).ok());
  EXPECT_EQ(device, 1);
  ASSERT_TRUE(CudaVisibleDevice("1,0", 2, &device).ok());
  EXPECT_EQ(device, 1);
  ASSERT_TRUE(CudaVisibleDevice("SIM-1", 2, &device).ok());
  EXPECT_EQ(device, 1);
  for (const char* none : {"", "-1", "2", "x", "0x1"}) {
    Status status = CudaVisibleDevice(none, 2, &device);
    ASSERT_FALSE(status.ok()) << none;
    EXPECT_EQ(status.message().rfind("no CUDA-capable device", 0), 0u) << status.message();
  }
  EXPECT_FALSE(CudaVisibleDevice(nullptr, 0, &device).ok());
}

TEST(SimGpuProviderTest, OpensBySpecOrSaysWhyNot) {
  test::TempDir tree;
  tree.Write("sim.json", R"({"devices": [{"name": "S", "memory_mib": 64}]})");
  std::string why_not;
  std::unique_ptr<GpuProvider> provider = OpenSimGpu(tree.File("sim.json"), &why_not);
  ASSERT_NE(provider, nullptr) << why_not;
  EXPECT_EQ(provider->Name(), "sim");
  std::vector<GpuDevice> devices;
  ASSERT_TRUE(provider->Sample(&devices).ok());
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].memory_total, 64 * kMiB);

  EXPECT_EQ(OpenSimGpu(tree.File("missing.json"), &why_not), nullptr);
  EXPECT_NE(why_not.find("missing.json"), std::string::npos) << why_not;
}

}  // namespace
}  // namespace headroom

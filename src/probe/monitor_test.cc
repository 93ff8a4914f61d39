#include "probe/monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using std::chrono::steady_clock;

// Reports one device whose used memory counts the samples taken, or fails
// when told to.
class CountingGpu : public GpuProvider {
 public:
  explicit CountingGpu(std::atomic<bool>* fail) : fail_(fail) {}
  std::string Name() const override { return "fake"; }
  Status Sample(std::vector<GpuDevice>* devices) override {
    if (fail_->load()) return Status::Error("GPU is lost");
    GpuDevice device;
    device.name = "FakeGPU";
    device.memory_total = 100;
    device.memory_used = ++samples_;
    *devices = {device};
    return Status::Ok();
  }

 private:
  std::atomic<bool>* fail_;
  uint64_t samples_ = 0;
};

class FixedClock : public Clock {
 public:
  TimePoint Now() override { return TimePoint(std::chrono::seconds(42)); }
};

template <typename Predicate>
bool Eventually(Predicate done) {
  auto deadline = steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class MonitorTest : public ::testing::Test {
 protected:
  MonitorTest() {
    proc_.Write("meminfo", "MemTotal: 2048 kB\nMemAvailable: 1024 kB\n");
    proc_.Write("self/cgroup", "0::/\n");
  }

  std::unique_ptr<Monitor> Make(Millis interval, Clock* clock = nullptr) {
    return std::make_unique<Monitor>(std::make_unique<SystemProbe>(proc_.path(), cgroup_.path()),
                                     std::make_unique<CountingGpu>(&fail_), interval, clock);
  }

  test::TempDir proc_;
  test::TempDir cgroup_;
  std::atomic<bool> fail_{false};
};

TEST_F(MonitorTest, SampleNowFillsTheSnapshotBeforeStart) {
  FixedClock clock;
  std::unique_ptr<Monitor> monitor = Make(Millis(1000), &clock);
  EXPECT_EQ(monitor->Generation(), 0u);
  EXPECT_EQ(monitor->Latest().gpu_provider, "fake");
  monitor->SampleNow();
  EXPECT_EQ(monitor->Generation(), 1u);
  Snapshot s = monitor->Latest();
  EXPECT_EQ(s.taken, TimePoint(std::chrono::seconds(42)));
  EXPECT_EQ(s.system.memory_total, 2048u * 1024);
  EXPECT_EQ(s.system.memory_available, 1024u * 1024);
  ASSERT_EQ(s.gpus.size(), 1u);
  EXPECT_EQ(s.gpus[0].memory_used, 1u);
  EXPECT_EQ(monitor->LastError(), "");
}

TEST_F(MonitorTest, BackgroundThreadKeepsSamplingAndCallsBack) {
  std::unique_ptr<Monitor> monitor = Make(Millis(2));
  std::atomic<int> callbacks{0};
  monitor->SetOnSample([&] { ++callbacks; });
  monitor->Start();
  EXPECT_TRUE(Eventually([&] { return monitor->Generation() >= 3; }));
  monitor->Stop();
  uint64_t generation = monitor->Generation();
  EXPECT_EQ(static_cast<uint64_t>(callbacks.load()), generation);
  EXPECT_EQ(monitor->Latest().gpus.at(0).memory_used, generation);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(monitor->Generation(), generation);  // stopped means stopped
}

TEST_F(MonitorTest, StopDoesNotWaitForTheInterval) {
  std::unique_ptr<Monitor> monitor = Make(Millis(60000));
  monitor->Start();
  auto start = steady_clock::now();
  monitor->Stop();
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(monitor->Generation(), 0u);
  monitor->Stop();  // idempotent
}

TEST_F(MonitorTest, FailedPartKeepsItsPreviousValueAndSaysWhy) {
  std::unique_ptr<Monitor> monitor = Make(Millis(1000));
  monitor->SampleNow();
  fail_ = true;
  proc_.Write("meminfo", "MemTotal: 4096 kB\nMemAvailable: 4096 kB\n");
  monitor->SampleNow();
  Snapshot s = monitor->Latest();
  EXPECT_EQ(s.system.memory_total, 4096u * 1024);  // the system part still updates
  ASSERT_EQ(s.gpus.size(), 1u);
  EXPECT_EQ(s.gpus[0].memory_used, 1u);
  EXPECT_EQ(monitor->LastError(), "fake: GPU is lost");
  fail_ = false;
  monitor->SampleNow();
  EXPECT_EQ(monitor->LastError(), "");
}

TEST_F(MonitorTest, NoGpuProviderIsNone) {
  Monitor monitor(std::make_unique<SystemProbe>(proc_.path(), cgroup_.path()), nullptr);
  monitor.SampleNow();
  EXPECT_EQ(monitor.Latest().gpu_provider, "none");
  EXPECT_TRUE(monitor.Latest().gpus.empty());
}

}  // namespace
}  // namespace headroom

#include "probe/system_probe.h"

#include <gtest/gtest.h>

#include <string>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using test::TempDir;

constexpr uint64_t kGiB = uint64_t{1} << 30;

// Recorded from a 24 GiB machine, trimmed.
constexpr const char* kMeminfo =
    "MemTotal:       25165824 kB\n"
    "MemFree:         1048576 kB\n"
    "MemAvailable:   16777216 kB\n"
    "Buffers:          123456 kB\n";

std::string Stat(uint64_t user, uint64_t idle) {
  return "cpu  " + std::to_string(user) + " 0 0 " + std::to_string(idle) +
         " 0 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\nintr 5\n";
}

class SystemProbeTest : public ::testing::Test {
 protected:
  SystemProbeTest() {
    proc_.Write("meminfo", kMeminfo);
    proc_.Write("stat", Stat(100, 300));
    proc_.Write("loadavg", "2.80 1.97 1.28 6/114 23277\n");
    proc_.Write("self/cgroup", "0::/\n");
  }

  SystemSnapshot Sample(SystemProbe* probe) {
    SystemSnapshot snapshot;
    Status status = probe->Sample(&snapshot);
    EXPECT_TRUE(status.ok()) << status.message();
    return snapshot;
  }

  TempDir proc_;
  TempDir cgroup_;
};

// Recorded from a 6.x kernel's /proc/vmstat, around the line that counts.
TEST_F(SystemProbeTest, TheOomKillCountIsReadFromVmstatAndUnknownWithoutIt) {
  SystemProbe probe(proc_.path(), cgroup_.path());
  EXPECT_EQ(Sample(&probe).oom_kills, std::nullopt);
  EXPECT_EQ(ReadOomKills(proc_.path()), std::nullopt);
  proc_.Write("vmstat", "pgmajfault 1234\noom_kill 3\nnuma_hit 7\n");
  EXPECT_EQ(ReadOomKills(proc_.path()), 3u);
  EXPECT_EQ(Sample(&probe).oom_kills, 3u);
  proc_.Write("vmstat", "pgmajfault 1234\n");  // a kernel before 4.13
  EXPECT_EQ(ReadOomKills(proc_.path()), std::nullopt);
}

TEST_F(SystemProbeTest, ReadsMeminfoAndLoadWithoutCgroupLimit) {
  SystemProbe probe(proc_.path(), cgroup_.path());
  SystemSnapshot s = Sample(&probe);
  EXPECT_EQ(s.memory_total, 24 * kGiB);
  EXPECT_EQ(s.memory_available, 16 * kGiB);
  EXPECT_DOUBLE_EQ(s.load1, 2.80);
  EXPECT_DOUBLE_EQ(s.cpu_busy_pct, 0);  // no previous sample
}

TEST_F(SystemProbeTest, CpuBusyIsTheShareOfNonIdleTicksSinceTheLastSample) {
  SystemProbe probe(proc_.path(), cgroup_.path());
  Sample(&probe);
  proc_.Write("stat", Stat(100 + 30, 300 + 10));  // 30 busy of 40 ticks
  EXPECT_DOUBLE_EQ(Sample(&probe).cpu_busy_pct, 75);
  proc_.Write("stat", Stat(130, 310));  // no ticks at all: not a division by 0
  EXPECT_DOUBLE_EQ(Sample(&probe).cpu_busy_pct, 0);
}

TEST_F(SystemProbeTest, CgroupV2LimitLowersTotalAndAvailable) {
  proc_.Write("self/cgroup", "0::/user.slice/job\n");
  cgroup_.Write("user.slice/job/memory.max", std::to_string(8 * kGiB) + "\n");
  cgroup_.Write("user.slice/job/memory.current", std::to_string(3 * kGiB) + "\n");
  cgroup_.Write("user.slice/job/memory.stat",
                "anon 1000\ninactive_file " + std::to_string(kGiB) + "\n");
  SystemProbe probe(proc_.path(), cgroup_.path());
  SystemSnapshot s = Sample(&probe);
  EXPECT_EQ(s.memory_total, 8 * kGiB);
  // 3 GiB used of which 1 GiB is reclaimable page cache: 6 GiB left.
  EXPECT_EQ(s.memory_available, 6 * kGiB);
}

TEST_F(SystemProbeTest, CgroupV2MaxMeansNoLimitButAnEnclosingLimitApplies) {
  proc_.Write("self/cgroup", "0::/slice/job\n");
  cgroup_.Write("slice/job/memory.max", "max\n");
  cgroup_.Write("slice/job/memory.current", "100\n");
  cgroup_.Write("slice/memory.max", std::to_string(20 * kGiB) + "\n");
  cgroup_.Write("slice/memory.current", std::to_string(18 * kGiB) + "\n");
  SystemProbe probe(proc_.path(), cgroup_.path());
  SystemSnapshot s = Sample(&probe);
  EXPECT_EQ(s.memory_total, 20 * kGiB);
  EXPECT_EQ(s.memory_available, 2 * kGiB);
}

TEST_F(SystemProbeTest, CgroupV2UnlimitedKeepsMeminfo) {
  proc_.Write("self/cgroup", "0::/a\n");
  cgroup_.Write("a/memory.max", "max\n");
  SystemProbe probe(proc_.path(), cgroup_.path());
  SystemSnapshot s = Sample(&probe);
  EXPECT_EQ(s.memory_total, 24 * kGiB);
  EXPECT_EQ(s.memory_available, 16 * kGiB);
}

TEST_F(SystemProbeTest, CgroupV1MemoryControllerWinsOverUnifiedLine) {
  // Hybrid mode, as recorded in a Docker container on a v1 host.
  proc_.Write("self/cgroup", "9:name=systemd:/\n4:memory:/docker/abc\n2:cpu,cpuacct:/\n0::/\n");
  cgroup_.Write("memory/docker/abc/memory.limit_in_bytes", std::to_string(4 * kGiB) + "\n");
  cgroup_.Write("memory/docker/abc/memory.usage_in_bytes", std::to_string(kGiB) + "\n");
  cgroup_.Write("memory/docker/abc/memory.stat", "inactive_file 5\ntotal_inactive_file 0\n");
  cgroup_.Write("memory/memory.limit_in_bytes", "9223372036854771712\n");
  SystemProbe probe(proc_.path(), cgroup_.path());
  SystemSnapshot s = Sample(&probe);
  EXPECT_EQ(s.memory_total, 4 * kGiB);
  EXPECT_EQ(s.memory_available, 3 * kGiB);
}

TEST_F(SystemProbeTest, CgroupV1HugeLimitMeansNone) {
  proc_.Write("self/cgroup", "4:memory:/process_api/c240\n");
  cgroup_.Write("memory/process_api/c240/memory.limit_in_bytes", "9223372036854771712\n");
  cgroup_.Write("memory/process_api/c240/memory.usage_in_bytes", "3923968\n");
  SystemProbe probe(proc_.path(), cgroup_.path());
  EXPECT_EQ(Sample(&probe).memory_total, 24 * kGiB);
}

TEST_F(SystemProbeTest, CgroupNamespaceSeesItsOwnCgroupAsTheRoot) {
  // The path names the host's hierarchy, which is not mounted here.
  proc_.Write("self/cgroup", "0::/kubepods/pod1/c1\n");
  cgroup_.Write("memory.max", std::to_string(2 * kGiB) + "\n");
  cgroup_.Write("memory.current", std::to_string(kGiB) + "\n");
  SystemProbe probe(proc_.path(), cgroup_.path());
  SystemSnapshot s = Sample(&probe);
  EXPECT_EQ(s.memory_total, 2 * kGiB);
  EXPECT_EQ(s.memory_available, kGiB);
}

TEST_F(SystemProbeTest, PressureIsReadWhenPresent) {
  proc_.Write("pressure/cpu",
              "some avg10=87.18 avg60=48.96 avg300=21.11 total=1307874095\n"
              "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  proc_.Write("pressure/memory", "some avg10=1.50 avg60=0.00 avg300=0.00 total=7\n");
  SystemProbe probe(proc_.path(), cgroup_.path());
  SystemSnapshot s = Sample(&probe);
  ASSERT_TRUE(s.psi_cpu.has_value());
  EXPECT_DOUBLE_EQ(s.psi_cpu->some_avg10, 87.18);
  ASSERT_TRUE(s.psi_memory.has_value());
  EXPECT_DOUBLE_EQ(s.psi_memory->some_avg10, 1.5);
  EXPECT_FALSE(s.psi_io.has_value());
}

TEST_F(SystemProbeTest, MissingMeminfoIsAnErrorNamingTheFile) {
  proc_.Remove("meminfo");
  SystemProbe probe(proc_.path(), cgroup_.path());
  SystemSnapshot s;
  Status status = probe.Sample(&s);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("meminfo"), std::string::npos) << status.message();
}

TEST(SystemProbeLiveTest, ReadsThisMachine) {
  SystemProbe probe;
  SystemSnapshot s;
  Status status = probe.Sample(&s);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_GT(s.memory_total, 0u);
  EXPECT_LE(s.memory_available, s.memory_total);
}

}  // namespace
}  // namespace headroom

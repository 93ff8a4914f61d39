#include "probe/nvidia_smi_provider.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

// Recorded from a two-GPU machine, the second with sensors it will not read.
constexpr const char* kGpus =
    "0, NVIDIA H100 80GB HBM3, GPU-5b1c7b2a-0f3e-4c7e-9d51-3a8f0e6c2b11, 81559, 40960, 45, 87\n"
    "1, Tesla K80, GPU-9e2f, 11441, 0, [N/A], [Not Supported]\n";

constexpr const char* kApps =
    "GPU-5b1c7b2a-0f3e-4c7e-9d51-3a8f0e6c2b11, 4242, 30720\n"
    "GPU-5b1c7b2a-0f3e-4c7e-9d51-3a8f0e6c2b11, 4343, 10240\n";

std::vector<GpuDevice> Gpus(const std::string& text) {
  std::vector<GpuDevice> devices;
  Status status = ParseNvidiaSmiGpus(text, &devices);
  EXPECT_TRUE(status.ok()) << status.message();
  return devices;
}

TEST(ParseNvidiaSmiGpusTest, ReadsEveryFieldInBytes) {
  std::vector<GpuDevice> d = Gpus(kGpus);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].index, 0);
  EXPECT_EQ(d[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(d[0].uuid, "GPU-5b1c7b2a-0f3e-4c7e-9d51-3a8f0e6c2b11");
  EXPECT_EQ(d[0].memory_total, 81559 * kMiB);
  EXPECT_EQ(d[0].memory_used, 40960 * kMiB);
  EXPECT_EQ(d[0].temperature_c, 45);
  EXPECT_EQ(d[0].utilization_pct, 87);
  EXPECT_FALSE(d[0].processes_known);
  EXPECT_EQ(d[1].index, 1);
  EXPECT_EQ(d[1].memory_used, 0u);
}

TEST(ParseNvidiaSmiGpusTest, NotAvailableSensorsAreUnknownNotZero) {
  std::vector<GpuDevice> d = Gpus(kGpus);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_FALSE(d[1].temperature_c.has_value());
  EXPECT_FALSE(d[1].utilization_pct.has_value());
}

TEST(ParseNvidiaSmiGpusTest, NameWithCommaAndMissingUuidAndCrlf) {
  std::vector<GpuDevice> d = Gpus("3, Odd, Name, [N/A], 1024, 512, 30, 0\r\n\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].index, 3);
  EXPECT_EQ(d[0].name, "Odd,Name");
  EXPECT_EQ(d[0].uuid, "");
  EXPECT_EQ(d[0].memory_total, 1024 * kMiB);
  EXPECT_EQ(d[0].utilization_pct, 0);
}

TEST(ParseNvidiaSmiGpusTest, EmptyOutputIsNoDevice) { EXPECT_TRUE(Gpus("").empty()); }

TEST(ParseNvidiaSmiGpusTest, ErrorTextOrUnknownMemoryIsAnErrorNamingTheLine) {
  std::vector<GpuDevice> d(1);
  Status status = ParseNvidiaSmiGpus("No devices were found\n", &d);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("'No devices were found'"), std::string::npos);
  EXPECT_EQ(d.size(), 1u);  // untouched on error
  status = ParseNvidiaSmiGpus("0, GPU, GPU-1, [N/A], 5, 40, 0\n", &d);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("[N/A]"), std::string::npos) << status.message();
}

TEST(ParseNvidiaSmiAppsTest, ProcessesGoToTheDeviceWithTheirUuid) {
  std::vector<GpuDevice> d = Gpus(kGpus);
  Status status = ParseNvidiaSmiApps(kApps, &d);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_TRUE(d[0].processes_known);
  ASSERT_EQ(d[0].processes.size(), 2u);
  EXPECT_EQ(d[0].processes[0].pid, 4242);
  EXPECT_EQ(d[0].processes[0].used_bytes, 30720 * kMiB);
  EXPECT_EQ(d[0].processes[1].pid, 4343);
  EXPECT_TRUE(d[1].processes_known);  // known to hold none
  EXPECT_TRUE(d[1].processes.empty());
}

TEST(ParseNvidiaSmiAppsTest, UnknownProcessMemoryMakesThatDeviceUnknown) {
  std::vector<GpuDevice> d = Gpus(kGpus);
  Status status = ParseNvidiaSmiApps(
      "GPU-9e2f, 7, [N/A]\nGPU-9e2f, 8, 100\nGPU-other, 9, 5\n" + std::string(kApps), &d);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_FALSE(d[1].processes_known);
  EXPECT_TRUE(d[1].processes.empty());
  EXPECT_TRUE(d[0].processes_known);
  EXPECT_EQ(d[0].processes.size(), 2u);
}

TEST(ParseNvidiaSmiAppsTest, MalformedLineIsAnErrorAndChangesNothing) {
  std::vector<GpuDevice> d = Gpus(kGpus);
  Status status = ParseNvidiaSmiApps("GPU-9e2f, x, 5\n", &d);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("'GPU-9e2f, x, 5'"), std::string::npos) << status.message();
  EXPECT_FALSE(d[1].processes_known);
}

constexpr const char* kGpuFields =
    "index,name,uuid,memory.total,memory.used,temperature.gpu,utilization.gpu";

// A stand-in for nvidia-smi that answers both queries from recorded files.
class FakeNvidiaSmi {
 public:
  FakeNvidiaSmi(const std::string& gpus, const std::string& apps, int gpus_exit = 0) {
    dir_.Write("gpus.csv", gpus);
    dir_.Write("apps.csv", apps);
    std::string script = "#!/bin/sh\ncd '" + dir_.path() + "' || exit 1\ncase \"$1\" in\n";
    script += "--query-gpu=" + std::string(kGpuFields) + ") cat gpus.csv; exit " +
              std::to_string(gpus_exit) + ";;\n";
    script += "--query-compute-apps=gpu_uuid,pid,used_memory) cat apps.csv;;\n";
    script += "*) echo \"bad args: $*\"; exit 2;;\nesac\n";
    dir_.Write("nvidia-smi", script);
    std::filesystem::permissions(dir_.File("nvidia-smi"), std::filesystem::perms::owner_all);
  }
  std::string program() const { return dir_.File("nvidia-smi"); }

 private:
  test::TempDir dir_;
};

TEST(NvidiaSmiProviderTest, SamplesDevicesAndProcesses) {
  ProcessSet processes;
  FakeNvidiaSmi smi(kGpus, kApps);
  std::string why_not;
  std::unique_ptr<GpuProvider> provider = OpenNvidiaSmi(&processes, &why_not, smi.program());
  ASSERT_NE(provider, nullptr) << why_not;
  EXPECT_EQ(provider->Name(), "nvidia-smi");
  std::vector<GpuDevice> d;
  Status status = provider->Sample(&d);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].processes.size(), 2u);
}

TEST(NvidiaSmiProviderTest, DriverFailureGivesNoProviderAndItsMessage) {
  ProcessSet processes;
  FakeNvidiaSmi smi(
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", "", 9);
  std::string why_not;
  EXPECT_EQ(OpenNvidiaSmi(&processes, &why_not, smi.program()), nullptr);
  EXPECT_NE(why_not.find("exited with status 9: NVIDIA-SMI has failed"), std::string::npos)
      << why_not;
}

TEST(NvidiaSmiProviderTest, NoGpuGivesNoProvider) {
  ProcessSet processes;
  FakeNvidiaSmi smi("", "");
  std::string why_not;
  EXPECT_EQ(OpenNvidiaSmi(&processes, &why_not, smi.program()), nullptr);
  EXPECT_NE(why_not.find("no GPU"), std::string::npos) << why_not;
}

TEST(NvidiaSmiProviderTest, MissingToolGivesNoProvider) {
  ProcessSet processes;
  std::string why_not;
  EXPECT_EQ(OpenNvidiaSmi(&processes, &why_not, "headroom-no-such-nvidia-smi"), nullptr);
  EXPECT_NE(why_not.find("no-such-nvidia-smi: cannot run"), std::string::npos) << why_not;
}

}  // namespace
}  // namespace headroom

#include "probe/nvml_provider.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace headroom {
namespace {

using nvml::Return;

// A scripted NVML: the fake api's functions below read and record this.
struct FakeDevice {
  std::string name;
  unsigned long long total = 0;
  unsigned long long free = 0;
  Return temperature_rc = nvml::kSuccess;
  std::vector<nvml::ProcessInfoV1> processes;
};

struct FakeNvml {
  Return init_rc = nvml::kSuccess;
  Return handle_rc = nvml::kSuccess;
  Return memory_v2_rc = nvml::kSuccess;
  Return processes_v3_rc = nvml::kSuccess;
  size_t v3_entry_size = sizeof(nvml::ProcessInfoV2);
  std::vector<FakeDevice> devices;
  int shutdowns = 0;
  int memory_v2_calls = 0;
  int memory_v1_calls = 0;
  unsigned bad_memory_versions = 0;
  std::vector<std::string> process_calls;
};

FakeNvml fake;

FakeDevice* Get(nvml::Device handle) { return reinterpret_cast<FakeDevice*>(handle); }

Return FakeInit() { return fake.init_rc; }
Return FakeShutdown() {
  ++fake.shutdowns;
  return nvml::kSuccess;
}
const char* FakeErrorString(Return rc) {
  return rc == nvml::kErrorDriverNotLoaded ? "Driver Not Loaded" : nullptr;
}
Return FakeCount(unsigned int* count) {
  *count = static_cast<unsigned int>(fake.devices.size());
  return nvml::kSuccess;
}
Return FakeHandle(unsigned int i, nvml::Device* handle) {
  if (fake.handle_rc != nvml::kSuccess) return fake.handle_rc;
  *handle = reinterpret_cast<nvml::Device>(&fake.devices.at(i));
  return nvml::kSuccess;
}
Return FakeName(nvml::Device handle, char* buf, unsigned int size) {
  std::strncpy(buf, Get(handle)->name.c_str(), size);
  return nvml::kSuccess;
}
Return FakeUuid(nvml::Device, char*, unsigned int) { return nvml::kErrorNotSupported; }
Return FakeMemory(nvml::Device handle, nvml::Memory* memory) {
  ++fake.memory_v1_calls;
  memory->total = Get(handle)->total;
  memory->free = Get(handle)->free;
  memory->used = memory->total - memory->free;
  return nvml::kSuccess;
}
Return FakeMemoryV2(nvml::Device handle, nvml::MemoryV2* memory) {
  ++fake.memory_v2_calls;
  if (memory->version != (40u | 2u << 24)) {
    fake.bad_memory_versions = memory->version;
    return nvml::kErrorArgumentVersionMismatch;
  }
  if (fake.memory_v2_rc != nvml::kSuccess) return fake.memory_v2_rc;
  memory->total = Get(handle)->total;
  memory->reserved = 512;
  memory->free = Get(handle)->free;
  memory->used = memory->total - memory->free - memory->reserved;
  return nvml::kSuccess;
}
Return FakeTemperature(nvml::Device handle, int sensor, unsigned int* celsius) {
  if (sensor != nvml::kTemperatureGpu) return nvml::kErrorNotSupported;
  *celsius = 61;
  return Get(handle)->temperature_rc;
}
Return FakeUtilization(nvml::Device, nvml::Utilization* utilization) {
  utilization->gpu = 87;
  return nvml::kSuccess;
}

// Writes the device's processes in `entry_size`-byte entries, as a driver does.
Return WriteProcesses(nvml::Device handle, unsigned int* count, void* infos, size_t entry_size) {
  const std::vector<nvml::ProcessInfoV1>& processes = Get(handle)->processes;
  if (*count < processes.size()) {
    *count = static_cast<unsigned int>(processes.size());
    return nvml::kErrorInsufficientSize;
  }
  auto* out = static_cast<unsigned char*>(infos);
  for (size_t i = 0; i < processes.size(); ++i) {
    std::memset(out + i * entry_size, 0xee, entry_size);
    std::memcpy(out + i * entry_size, &processes[i], sizeof(processes[i]));
  }
  *count = static_cast<unsigned int>(processes.size());
  return nvml::kSuccess;
}
Return FakeProcessesV3(nvml::Device handle, unsigned int* count, void* infos) {
  fake.process_calls.push_back("v3 room " + std::to_string(*count));
  if (fake.processes_v3_rc != nvml::kSuccess) return fake.processes_v3_rc;
  return WriteProcesses(handle, count, infos, fake.v3_entry_size);
}
Return FakeProcessesV2(nvml::Device handle, unsigned int* count, void* infos) {
  fake.process_calls.push_back("v2");
  return WriteProcesses(handle, count, infos, sizeof(nvml::ProcessInfoV2));
}
Return FakeProcessesV1(nvml::Device handle, unsigned int* count, void* infos) {
  fake.process_calls.push_back("v1");
  return WriteProcesses(handle, count, infos, sizeof(nvml::ProcessInfoV1));
}

constexpr unsigned long long kGiB = 1ull << 30;

class NvmlProviderTest : public ::testing::Test {
 protected:
  NvmlProviderTest() {
    fake = FakeNvml();
    FakeDevice busy{"NVIDIA H100 80GB HBM3", 80 * kGiB, 60 * kGiB, nvml::kSuccess, {}};
    busy.processes = {{100, 8 * kGiB}, {101, 12 * kGiB}};
    FakeDevice idle{"NVIDIA H100 80GB HBM3", 80 * kGiB, 80 * kGiB, nvml::kErrorNotSupported, {}};
    fake.devices = {busy, idle};
    api_.init = FakeInit;
    api_.shutdown = FakeShutdown;
    api_.error_string = FakeErrorString;
    api_.get_count = FakeCount;
    api_.get_handle = FakeHandle;
    api_.get_name = FakeName;
    api_.get_uuid = FakeUuid;
    api_.get_memory = FakeMemory;
    api_.get_memory_v2 = FakeMemoryV2;
    api_.get_temperature = FakeTemperature;
    api_.get_utilization = FakeUtilization;
    api_.processes_v3 = FakeProcessesV3;
    api_.processes_v2 = FakeProcessesV2;
    api_.processes_v1 = FakeProcessesV1;
  }

  std::vector<GpuDevice> Sample(GpuProvider* provider) {
    std::vector<GpuDevice> devices;
    Status status = provider->Sample(&devices);
    EXPECT_TRUE(status.ok()) << status.message();
    return devices;
  }

  std::unique_ptr<GpuProvider> Open() {
    std::string why_not;
    std::unique_ptr<GpuProvider> provider = OpenNvmlApi(api_, nullptr, &why_not);
    EXPECT_NE(provider, nullptr) << why_not;
    return provider;
  }

  nvml::Api api_;
};

TEST(NvmlHelpersTest, VersionWordIsSizeOrVersionShifted) {
  EXPECT_EQ(nvml::StructVersion(sizeof(nvml::MemoryV2), 2), 0x02000028u);
  EXPECT_EQ(nvml::StructVersion(24, 1), 0x01000018u);
}

TEST(NvmlHelpersTest, V3EntrySizeFollowsTheDriverGeneration) {
  EXPECT_EQ(nvml::ProcessesV3EntrySize(false, false), 24u);  // before confidential compute
  EXPECT_EQ(nvml::ProcessesV3EntrySize(true, false), 32u);   // the API that added the field
  EXPECT_EQ(nvml::ProcessesV3EntrySize(true, true), 24u);    // moved to the detail list
}

TEST(NvmlHelpersTest, ProcessesAreReadAtTheGivenEntrySize) {
  nvml::ProcessInfoV3 v3[2] = {{7, 100, 1, 2, 3}, {8, nvml::kValueNotAvailable, 0, 0, 0}};
  bool all_known = true;
  std::vector<GpuProcess> p =
      ProcessesFromNvml(reinterpret_cast<const unsigned char*>(v3), 2, sizeof(v3[0]), &all_known);
  EXPECT_FALSE(all_known);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].pid, 7);
  EXPECT_EQ(p[0].used_bytes, 100u);

  nvml::ProcessInfoV1 v1[2] = {{9, 5}, {10, 6}};
  p = ProcessesFromNvml(reinterpret_cast<const unsigned char*>(v1), 2, sizeof(v1[0]), &all_known);
  EXPECT_TRUE(all_known);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].pid, 10);
  EXPECT_EQ(p[1].used_bytes, 6u);
}

TEST(OpenNvmlTest, MissingLibraryFailsCleanlyWithAReason) {
  std::string why_not;
  EXPECT_EQ(OpenNvml(&why_not, "libheadroom-no-such-nvml.so.1"), nullptr);
  EXPECT_NE(why_not.find("libheadroom-no-such-nvml.so.1"), std::string::npos) << why_not;
}

TEST(OpenNvmlTest, LibraryWithoutNvmlSymbolsIsRefused) {
  std::string why_not;
  EXPECT_EQ(OpenNvml(&why_not, "libm.so.6"), nullptr);
  EXPECT_NE(why_not.find("not an NVML library"), std::string::npos) << why_not;
}

TEST(OpenNvmlTest, ThisMachineEitherHasNvmlOrSaysWhyNot) {
  std::string why_not;
  std::unique_ptr<GpuProvider> provider = OpenNvml(&why_not);
  if (provider == nullptr) {
    EXPECT_FALSE(why_not.empty());
  } else {
    std::vector<GpuDevice> devices;
    Status status = provider->Sample(&devices);
    EXPECT_TRUE(status.ok()) << status.message();
    EXPECT_FALSE(devices.empty());
  }
}

TEST_F(NvmlProviderTest, InitFailureGivesNoProviderAndTheDriversReason) {
  fake.init_rc = nvml::kErrorDriverNotLoaded;
  std::string why_not;
  EXPECT_EQ(OpenNvmlApi(api_, nullptr, &why_not), nullptr);
  EXPECT_EQ(why_not, "nvmlInit: Driver Not Loaded");
}

TEST_F(NvmlProviderTest, NoGpuGivesNoProviderAndShutsDown) {
  fake.devices.clear();
  std::string why_not;
  EXPECT_EQ(OpenNvmlApi(api_, nullptr, &why_not), nullptr);
  EXPECT_EQ(why_not, "NVML sees no GPU");
  EXPECT_EQ(fake.shutdowns, 1);
}

TEST_F(NvmlProviderTest, SamplesEveryDevice) {
  std::unique_ptr<GpuProvider> provider = Open();
  EXPECT_EQ(provider->Name(), "nvml");
  std::vector<GpuDevice> d = Sample(provider.get());
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].index, 0);
  EXPECT_EQ(d[1].index, 1);
  EXPECT_EQ(d[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(d[0].uuid, "");  // not supported: empty, not an error
  EXPECT_EQ(d[0].memory_total, 80 * kGiB);
  EXPECT_EQ(d[0].memory_used, 20 * kGiB);  // reserved counts as used
  EXPECT_EQ(d[0].temperature_c, 61);
  EXPECT_FALSE(d[1].temperature_c.has_value());
  EXPECT_EQ(d[0].utilization_pct, 87);
  ASSERT_TRUE(d[0].processes_known);
  ASSERT_EQ(d[0].processes.size(), 2u);
  EXPECT_EQ(d[0].processes[1].pid, 101);
  EXPECT_EQ(d[0].processes[1].used_bytes, 12 * kGiB);
  EXPECT_TRUE(d[1].processes_known);
  EXPECT_EQ(fake.memory_v2_calls, 2);
  EXPECT_EQ(fake.memory_v1_calls, 0);
  EXPECT_EQ(fake.bad_memory_versions, 0u);
}

TEST_F(NvmlProviderTest, ShutsDownWhenDestroyed) {
  Open().reset();
  EXPECT_EQ(fake.shutdowns, 1);
}

TEST_F(NvmlProviderTest, FailingMemoryV2FallsBackToV1AndIsNotAskedAgain) {
  fake.memory_v2_rc = nvml::kErrorNotSupported;
  std::unique_ptr<GpuProvider> provider = Open();
  std::vector<GpuDevice> d = Sample(provider.get());
  Sample(provider.get());
  EXPECT_EQ(d[0].memory_used, 20 * kGiB);
  EXPECT_EQ(fake.memory_v2_calls, 1);
  EXPECT_EQ(fake.memory_v1_calls, 4);
}

TEST_F(NvmlProviderTest, MissingMemoryV2UsesV1) {
  api_.get_memory_v2 = nullptr;
  std::unique_ptr<GpuProvider> provider = Open();
  EXPECT_EQ(Sample(provider.get())[0].memory_total, 80 * kGiB);
  EXPECT_EQ(fake.memory_v1_calls, 2);
}

TEST_F(NvmlProviderTest, ManyProcessesGrowTheBuffer) {
  for (unsigned pid = 200; pid < 240; ++pid) fake.devices[0].processes.push_back({pid, kGiB});
  std::unique_ptr<GpuProvider> provider = Open();
  std::vector<GpuDevice> d = Sample(provider.get());
  EXPECT_TRUE(d[0].processes_known);
  EXPECT_EQ(d[0].processes.size(), 42u);
  EXPECT_EQ(d[0].processes.back().pid, 239);
  ASSERT_GE(fake.process_calls.size(), 2u);
  EXPECT_EQ(fake.process_calls[0], "v3 room 16");
  EXPECT_EQ(fake.process_calls[1], "v3 room 58");
}

TEST_F(NvmlProviderTest, V3LayoutWithProtectedMemoryFieldIsRead) {
  fake.v3_entry_size = api_.v3_entry_size = sizeof(nvml::ProcessInfoV3);
  std::unique_ptr<GpuProvider> provider = Open();
  std::vector<GpuDevice> d = Sample(provider.get());
  ASSERT_EQ(d[0].processes.size(), 2u);
  EXPECT_EQ(d[0].processes[1].pid, 101);
  EXPECT_EQ(d[0].processes[1].used_bytes, 12 * kGiB);
}

TEST_F(NvmlProviderTest, FailingV3FallsBackToOlderCalls) {
  fake.processes_v3_rc = nvml::kErrorNotSupported;
  api_.processes_v2 = nullptr;
  std::unique_ptr<GpuProvider> provider = Open();
  std::vector<GpuDevice> d = Sample(provider.get());
  ASSERT_EQ(d[0].processes.size(), 2u);
  EXPECT_EQ(d[0].processes[0].used_bytes, 8 * kGiB);
  EXPECT_EQ(fake.process_calls[1], "v1");
}

TEST_F(NvmlProviderTest, ProcessesUnknownWhenNoCallWorksOrMemoryIsNotAvailable) {
  fake.devices[1].processes = {{300, nvml::kValueNotAvailable}};
  api_.processes_v2 = nullptr;
  api_.processes_v1 = nullptr;
  std::unique_ptr<GpuProvider> provider = Open();
  std::vector<GpuDevice> d = Sample(provider.get());
  EXPECT_TRUE(d[0].processes_known);
  EXPECT_FALSE(d[1].processes_known);
  EXPECT_TRUE(d[1].processes.empty());
  fake.processes_v3_rc = nvml::kErrorNoPermission;
  d = Sample(provider.get());
  EXPECT_FALSE(d[0].processes_known);
}

TEST_F(NvmlProviderTest, LostGpuFailsTheSampleAndKeepsTheCallersDevices) {
  std::unique_ptr<GpuProvider> provider = Open();
  fake.handle_rc = nvml::kErrorGpuIsLost;
  std::vector<GpuDevice> devices(3);
  Status status = provider->Sample(&devices);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "nvmlDeviceGetHandleByIndex(0): NVML error 15");
  EXPECT_EQ(devices.size(), 3u);
}

}  // namespace
}  // namespace headroom

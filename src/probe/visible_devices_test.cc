#include "probe/visible_devices.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace headroom {
namespace {

// Four GPUs as NVML numbers them, with their UUIDs.
std::vector<GpuDevice> FourGpus() {
  std::vector<GpuDevice> devices;
  for (int i = 0; i < 4; ++i) {
    GpuDevice device;
    device.index = i;
    device.uuid = "GPU-" + std::to_string(i) + "a1b2c3d-0000-1111-2222-33334444555" +
                  std::to_string(i);
    devices.push_back(device);
  }
  return devices;
}

VisibleDevices Resolve(const std::string& provider, const VisibleVariables& variables) {
  VisibleDevices visible;
  Status status = ResolveVisibleDevices(provider, variables, FourGpus(), &visible);
  EXPECT_TRUE(status.ok()) << status.message();
  return visible;
}

std::string Error(const std::string& provider, const VisibleVariables& variables) {
  VisibleDevices visible;
  Status status = ResolveVisibleDevices(provider, variables, FourGpus(), &visible);
  EXPECT_FALSE(status.ok());
  return status.message();
}

TEST(VisibleDevicesTest, UnsetMeansEveryDevice) {
  VisibleDevices visible = Resolve("nvml", {});
  EXPECT_FALSE(visible.indices.has_value());
  EXPECT_EQ(visible.from, "");
}

TEST(VisibleDevicesTest, IndicesAndUuidsNameTheSamePhysicalGpus) {
  VisibleVariables cuda;
  cuda.cuda = "2,3";
  VisibleDevices visible = Resolve("nvml", cuda);
  EXPECT_EQ(visible.indices, (std::vector<int>{2, 3}));
  EXPECT_EQ(visible.from, "CUDA_VISIBLE_DEVICES='2,3'");

  cuda.cuda = "GPU-3a1b2c3d-0000-1111-2222-333344445553, GPU-1a1";  // a unique prefix is enough
  EXPECT_EQ(Resolve("nvidia-smi", cuda).indices, (std::vector<int>{3, 1}));
  cuda.cuda = "1,1";
  EXPECT_EQ(Resolve("sim", cuda).indices, (std::vector<int>{1}));
}

TEST(VisibleDevicesTest, EmptyMinusOneAndNoDevFilesHideEveryGpu) {
  for (const char* value : {"", " ", "-1", "NoDevFiles"}) {
    VisibleVariables cuda;
    cuda.cuda = value;
    VisibleDevices visible = Resolve("nvml", cuda);
    ASSERT_TRUE(visible.indices.has_value()) << value;
    EXPECT_TRUE(visible.indices->empty()) << value;
  }
}

TEST(VisibleDevicesTest, AnEntryThatNamesNoGpuIsAnErrorNamingIt) {
  VisibleVariables cuda;
  cuda.cuda = "2,7";
  EXPECT_EQ(Error("nvml", cuda),
            "CUDA_VISIBLE_DEVICES entry '7': no such GPU (this machine has gpu0-3)");
  cuda.cuda = "GPU-";
  EXPECT_EQ(Error("nvml", cuda),
            "CUDA_VISIBLE_DEVICES entry 'GPU-': names more than one GPU (give more of its UUID)");
  cuda.cuda = "GPU-ffff";
  EXPECT_EQ(Error("nvml", cuda),
            "CUDA_VISIBLE_DEVICES entry 'GPU-ffff': no GPU has that index or UUID (this machine "
            "has gpu0-3; 'headroom gpus' lists their UUIDs)");
  cuda.cuda = "MIG-GPU-0a1b2c3d/1/0";
  EXPECT_NE(Error("nvml", cuda).find("MIG instances are not supported"), std::string::npos);
}

TEST(VisibleDevicesTest, AmdAppliesRocrThenHipAmongWhatRocrLeft) {
  VisibleVariables amd;
  amd.cuda = "0";  // not AMD's variable
  amd.rocr = "1,2,3";
  amd.hip = "2";  // the third of ROCR's: gpu3
  VisibleDevices visible = Resolve("amd", amd);
  EXPECT_EQ(visible.indices, (std::vector<int>{3}));
  EXPECT_EQ(visible.from, "ROCR_VISIBLE_DEVICES='1,2,3' HIP_VISIBLE_DEVICES='2'");
  amd.rocr.reset();
  amd.hip = "0,2";
  EXPECT_EQ(Resolve("amd", amd).indices, (std::vector<int>{0, 2}));
  amd.rocr = "1";
  amd.hip = "1";
  EXPECT_EQ(Error("amd", amd),
            "HIP_VISIBLE_DEVICES entry '1': no such GPU (this machine has gpu0-3)");
}

TEST(CheckGpuListTest, NamesTheDevicesThatExist) {
  VisibleDevices all;
  EXPECT_TRUE(CheckGpuList({0, 3}, all, FourGpus()).ok());
  EXPECT_EQ(CheckGpuList({7}, all, FourGpus()).message(),
            "--gpus 7: no such GPU (this machine has gpu0-3)");
  VisibleDevices given;
  given.indices = std::vector<int>{2, 3};
  given.from = "CUDA_VISIBLE_DEVICES='2,3'";
  EXPECT_TRUE(CheckGpuList({3}, given, FourGpus()).ok());
  EXPECT_EQ(CheckGpuList({0}, given, FourGpus()).message(),
            "--gpus 0: no such GPU (CUDA_VISIBLE_DEVICES='2,3' gives this batch gpu2,3)");
  EXPECT_EQ(CheckGpuList({0}, all, {}).message(), "--gpus 0: no such GPU (no GPU was found)");
}

TEST(DescribeDevicesTest, RangesAndLists) {
  EXPECT_EQ(DescribeDevices({}), "no GPU");
  EXPECT_EQ(DescribeDevices({0}), "gpu0");
  EXPECT_EQ(DescribeDevices({0, 1}), "gpu0,1");
  EXPECT_EQ(DescribeDevices({4, 5, 6, 7}), "gpu4-7");
  EXPECT_EQ(DescribeDevices({0, 2, 3}), "gpu0,2,3");
}

}  // namespace
}  // namespace headroom

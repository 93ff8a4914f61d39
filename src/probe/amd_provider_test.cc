#include "probe/amd_provider.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using test::TempDir;

constexpr uint64_t kGiB = uint64_t{1} << 30;

// A recorded /sys/class/drm: an integrated Intel GPU (card0, no VRAM files),
// its connector, and two amdgpu cards, the second without the optional files.
class AmdProviderTest : public ::testing::Test {
 protected:
  AmdProviderTest() {
    drm_.Write("card0/device/vendor", "0x8086\n");
    drm_.Write("card0-DP-1/status", "connected\n");
    drm_.Write("version", "drm 1.1.0\n");
    drm_.Write("card1/device/mem_info_vram_total", std::to_string(64 * kGiB) + "\n");
    drm_.Write("card1/device/mem_info_vram_used", std::to_string(16 * kGiB) + "\n");
    drm_.Write("card1/device/product_name", "AMD Instinct MI210\n");
    drm_.Write("card1/device/unique_id", "a1b2c3d4e5f60708\n");
    drm_.Write("card1/device/gpu_busy_percent", "42\n");
    drm_.Write("card1/device/hwmon/hwmon3/name", "amdgpu\n");
    drm_.Write("card1/device/hwmon/hwmon3/temp1_input", "45500\n");
    drm_.Write("card10/device/mem_info_vram_total", std::to_string(8 * kGiB) + "\n");
    drm_.Write("card10/device/mem_info_vram_used", "1048576\n");
    drm_.Write("card10/device/product_name", "\n");
  }

  std::vector<GpuDevice> Sample() {
    AmdProvider provider(drm_.path());
    std::vector<GpuDevice> devices;
    Status status = provider.Sample(&devices);
    EXPECT_TRUE(status.ok()) << status.message();
    return devices;
  }

  TempDir drm_;
};

TEST_F(AmdProviderTest, ReadsCardsWithVramInCardOrder) {
  std::vector<GpuDevice> d = Sample();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].index, 0);
  EXPECT_EQ(d[0].name, "AMD Instinct MI210");
  EXPECT_EQ(d[0].uuid, "a1b2c3d4e5f60708");
  EXPECT_EQ(d[0].memory_total, 64 * kGiB);
  EXPECT_EQ(d[0].memory_used, 16 * kGiB);
  EXPECT_EQ(d[0].temperature_c, 46);  // 45.5 °C rounds up
  EXPECT_EQ(d[0].utilization_pct, 42);
  EXPECT_FALSE(d[0].processes_known);
  EXPECT_EQ(d[1].index, 1);
  EXPECT_EQ(d[1].memory_used, 1048576u);
}

TEST_F(AmdProviderTest, MissingOptionalFilesAreUnknown) {
  std::vector<GpuDevice> d = Sample();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1].name, "AMD GPU card10");
  EXPECT_EQ(d[1].uuid, "");
  EXPECT_FALSE(d[1].temperature_c.has_value());
  EXPECT_FALSE(d[1].utilization_pct.has_value());
}

TEST_F(AmdProviderTest, OpenNeedsACardWithVram) {
  std::string why_not;
  std::unique_ptr<GpuProvider> provider = OpenAmd(drm_.path(), &why_not);
  ASSERT_NE(provider, nullptr) << why_not;
  EXPECT_EQ(provider->Name(), "amd");

  drm_.Remove("card1");
  drm_.Remove("card10");
  EXPECT_EQ(OpenAmd(drm_.path(), &why_not), nullptr);
  EXPECT_NE(why_not.find("mem_info_vram_total"), std::string::npos) << why_not;
}

TEST(AmdProviderNoSysfsTest, MissingDrmDirectoryGivesNoProvider) {
  std::string why_not;
  EXPECT_EQ(OpenAmd("/nonexistent/headroom/drm", &why_not), nullptr);
  EXPECT_NE(why_not.find("/nonexistent/headroom/drm"), std::string::npos) << why_not;
}

}  // namespace
}  // namespace headroom

#include "probe/none_provider.h"

#include <gtest/gtest.h>

#include <vector>

namespace headroom {
namespace {

TEST(NoneProviderTest, ReportsNoDevices) {
  NoneProvider provider;
  EXPECT_EQ(provider.Name(), "none");
  std::vector<GpuDevice> devices(2);
  ASSERT_TRUE(provider.Sample(&devices).ok());
  EXPECT_TRUE(devices.empty());
}

}  // namespace
}  // namespace headroom

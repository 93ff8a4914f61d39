#include "probe/disk.h"

#include <gtest/gtest.h>

#include <string>

#include "probe/probe_test_util.h"

namespace headroom {
namespace {

TEST(FreeDiskBytesTest, MeasuresAnExistingDirectory) {
  probe_test::FakeTree dir;
  uint64_t bytes = 0;
  Status status = FreeDiskBytes(dir.root(), &bytes);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_GT(bytes, 0u);
}

TEST(FreeDiskBytesTest, PathNotMadeYetIsMeasuredAtItsNearestParent) {
  probe_test::FakeTree dir;
  uint64_t bytes = 0;
  Status status = FreeDiskBytes(dir.Path("out/later/deeper/"), &bytes);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_GT(bytes, 0u);
}

TEST(FreeDiskBytesTest, RelativePathNotMadeYetIsMeasuredAtTheWorkingDirectory) {
  uint64_t bytes = 0;
  Status status = FreeDiskBytes("headroom-no-such-dir/out", &bytes);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_GT(bytes, 0u);
}

TEST(FreeDiskBytesTest, FileInTheWayIsAnErrorNamingThePath) {
  probe_test::FakeTree dir;
  dir.Write("file", "x");
  uint64_t bytes = 7;
  Status status = FreeDiskBytes(dir.Path("file/out"), &bytes);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(dir.Path("file/out")), std::string::npos) << status.message();
  EXPECT_EQ(bytes, 7u);
}

}  // namespace
}  // namespace headroom

#include "probe/disk.h"

#include <gtest/gtest.h>

#include <string>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

TEST(FreeDiskBytesTest, MeasuresAnExistingDirectory) {
  test::TempDir dir;
  uint64_t bytes = 0;
  Status status = FreeDiskBytes(dir.path(), &bytes);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_GT(bytes, 0u);
}

TEST(FreeDiskBytesTest, PathNotMadeYetIsMeasuredAtItsNearestParent) {
  test::TempDir dir;
  uint64_t bytes = 0;
  Status status = FreeDiskBytes(dir.File("out/later/deeper/"), &bytes);
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
  test::TempDir dir;
  dir.Write("file", "x");
  uint64_t bytes = 7;
  Status status = FreeDiskBytes(dir.File("file/out"), &bytes);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(dir.File("file/out")), std::string::npos) << status.message();
  EXPECT_EQ(bytes, 7u);
}

}  // namespace
}  // namespace headroom

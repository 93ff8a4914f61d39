// End-to-end: headroom-gpu-alloc, the real-GPU allocator of
// scripts/gpu-check.sh. Here (no NVIDIA driver, as on CI) it must say so
// and exit 2; its allocations are checked by scripts/gpu-check.sh where a
// GPU is lent.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.h"

namespace headroom::e2e {
namespace {

bool HaveDriver() {
  void* handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return false;
  dlclose(handle);
  return true;
}

TEST(GpuAllocTest, WithoutADriverItSaysSoAndExits2) {
  if (HaveDriver()) GTEST_SKIP() << "an NVIDIA driver is installed: scripts/gpu-check.sh covers it";
  RunResult r = RunProgram({HEADROOM_GPU_ALLOC_BIN, "alloc", "--mib", "64", "--seconds", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(StartsWith(r.err, "headroom-gpu-alloc: error: no NVIDIA driver (")) << r.err;
}

TEST(GpuAllocTest, BadUsageIsOneLineAndExit2) {
  RunResult r = RunProgram({HEADROOM_GPU_ALLOC_BIN, "alloc", "--mib", "lots", "--seconds", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "headroom-gpu-alloc: error: --mib 'lots': expected a number >= 0\n");
  r = RunProgram({HEADROOM_GPU_ALLOC_BIN, "free"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "headroom-gpu-alloc: error: unknown command 'free' (expected alloc)\n");
  r = RunProgram({HEADROOM_GPU_ALLOC_BIN, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(StartsWith(r.out, "Usage: headroom-gpu-alloc alloc --mib N --seconds S")) << r.out;
}

}  // namespace
}  // namespace headroom::e2e

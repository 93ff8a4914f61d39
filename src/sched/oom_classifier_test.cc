#include "sched/oom_classifier.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

namespace headroom {
namespace {

OomInput Failed(std::string_view tail, int exit_code = 1) {
  OomInput in;
  in.exit_code = exit_code;
  in.stderr_tail = tail;
  return in;
}

TEST(OomClassifierTest, BuiltInPatternsAndTheMemoryTheyName) {
  struct Case {
    std::string tail;
    OomKind want;
  };
  std::vector<Case> cases = {
      {"torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; "
       "79.15 GiB total capacity)",
       OomKind::kGpu},
      {"CUDA out of memory. Tried to allocate 512 MiB (GPU 1; 8192 MiB total capacity; "
       "8000 MiB already allocated)",
       OomKind::kGpu},
      {"RuntimeError: CUDA error: out of memory\nCUDA kernel errors might be...", OomKind::kGpu},
      {"error: cudaErrorMemoryAllocation at line 42", OomKind::kGpu},
      {"RuntimeError: CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate", OomKind::kGpu},
      {"jax.errors.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory", OomKind::kGpu},
      {"jax.errors.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying to allocate "
       "17179869184 bytes.",
       OomKind::kGpu},
      {"tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM when allocating "
       "tensor with shape[64,256,256,128] and type float on "
       "/job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc [Op:Conv2D]",
       OomKind::kGpu},
      {"[0 NVIDIA GeForce RTX 3060]  queueC=2[8]  queueG=0[16]  queueT=1[2]\n"
       "vkAllocateMemory failed -2\nvkAllocateMemory failed -2",
       OomKind::kGpu},
      {"vkAllocateMemory: VK_ERROR_OUT_OF_DEVICE_MEMORY", OomKind::kGpu},
      {"terminate called after throwing an instance of 'vk::OutOfDeviceMemoryError'\n"
       "  what():  vk::Device::allocateMemory: ErrorOutOfDeviceMemory",
       OomKind::kGpu},
      {"[h264_nvenc @ 0x55d0c8a4e2c0] OpenEncodeSessionEx failed: out of memory (10): (no "
       "details)\n[h264_nvenc @ 0x55d0c8a4e2c0] No capable devices found",
       OomKind::kGpu},
      {"[hevc_nvenc @ 0x5601] No capable devices found\nError initializing output stream 0:0",
       OomKind::kGpu},
      {"onnxruntime.capi.onnxruntime_pybind11_state.Fail: [ONNXRuntimeError] : 1 : FAIL : "
       "CUDA failure 2: out of memory ; GPU=0 ; hostname=box ; expr=cudaMalloc((void**)&p, size);",
       OomKind::kGpu},
      {"[E:onnxruntime:, sequential_executor.cc:494 ExecuteKernel] Non-zero status code returned "
       "while running Conv node. Status Message: "
       "/onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376 void* "
       "onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*, bool, "
       "onnxruntime::WaitNotificationFn) Failed to allocate memory for requested buffer of size "
       "2147483648",
       OomKind::kGpu},
      {"[h264 @ 0x5601] Error while decoding stream: Cannot allocate memory", OomKind::kHost},
      {"terminate called after throwing an instance of 'std::bad_alloc'", OomKind::kHost},
      {"Traceback (most recent call last):\nMemoryError", OomKind::kHost},
      {"ffmpeg: Cannot allocate memory", OomKind::kHost},
      // Slurm 22.05, a command run under srun in a job whose --mem it passed.
      {"srun: error: localhost: task 0: Out Of Memory\nslurmstepd-localhost: error: Detected 1 "
       "oom-kill event(s) in StepId=1.0. Some of your processes may have been killed by the "
       "cgroup out-of-memory handler.",
       OomKind::kHost},
      {"No such file or directory", OomKind::kNone},
      {"cuda out of memory", OomKind::kNone},  // the built-ins are case-sensitive
      {"", OomKind::kNone},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyOom(Failed(c.tail)), c.want) << c.tail;
    EXPECT_EQ(IsOutOfMemory(Failed(c.tail)), c.want != OomKind::kNone) << c.tail;
  }
}

TEST(OomClassifierTest, ACleanExitIsNeverOom) {
  EXPECT_EQ(ClassifyOom(Failed("CUDA out of memory (recovered by halving the batch)", 0)),
            OomKind::kNone);
}

TEST(OomClassifierTest, JobsHeadroomKilledAreNotOom) {
  OomInput in = Failed("CUDA out of memory");
  in.exit_code = -1;
  in.signal = SIGKILL;
  in.killed_by_us = true;  // --timeout's SIGKILL after the grace
  EXPECT_EQ(ClassifyOom(in), OomKind::kNone);
}

// A SIGKILL is the OOM killer's only when its count rose while the job ran:
// a user's `kill -9` is a failure, not a reason to retry with more room.
TEST(OomClassifierTest, ASigkillIsTheOomKillerOnlyWithItsEvidence) {
  OomInput in = Failed("");
  in.exit_code = -1;
  in.signal = SIGKILL;
  EXPECT_EQ(ClassifyOom(in), OomKind::kNone);
  in.oom_killer_fired = true;
  EXPECT_EQ(ClassifyOom(in), OomKind::kHost);
  in.signal = SIGSEGV;
  EXPECT_EQ(ClassifyOom(in), OomKind::kNone);
  in.signal = SIGTERM;
  EXPECT_EQ(ClassifyOom(in), OomKind::kNone);
}

// A shell whose child the OOM killer took exits 137 (128 + SIGKILL).
TEST(OomClassifierTest, AShellsExit137IsTheOomKillerOnlyWithItsEvidence) {
  OomInput in = Failed("", 137);
  EXPECT_EQ(ClassifyOom(in), OomKind::kNone);
  in.oom_killer_fired = true;
  EXPECT_EQ(ClassifyOom(in), OomKind::kHost);
  in.exit_code = 1;
  EXPECT_EQ(ClassifyOom(in), OomKind::kNone) << "the evidence alone is not enough";
}

TEST(OomClassifierTest, UserExitCodes) {
  std::vector<int> codes = {3, 137};
  OomInput in = Failed("", 3);
  EXPECT_EQ(ClassifyOom(in), OomKind::kNone);  // no codes given: not OOM
  in.oom_exit_codes = codes;
  EXPECT_EQ(ClassifyOom(in), OomKind::kUnknown);
  in.exit_code = 137;
  EXPECT_EQ(ClassifyOom(in), OomKind::kUnknown);
  in.exit_code = 4;
  EXPECT_EQ(ClassifyOom(in), OomKind::kNone);
}

TEST(OomClassifierTest, UserPatternsAreSearchedRegexes) {
  std::vector<std::regex> patterns;
  ASSERT_TRUE(
      CompileOomPatterns({"not enough (video )?memory", "^VK_ERROR_OUT_OF_\\w+"}, &patterns).ok());
  ASSERT_EQ(patterns.size(), 2u);
  struct Case {
    std::string tail;
    OomKind want;
  };
  std::vector<Case> cases = {
      {"encoder: not enough video memory for frame 12", OomKind::kUnknown},
      {"not enough memory", OomKind::kUnknown},
      {"VK_ERROR_OUT_OF_POOL_MEMORY", OomKind::kUnknown},
      {"not enough disk", OomKind::kNone},
      {"CUDA out of memory", OomKind::kGpu},  // built-ins still say which memory
  };
  for (const Case& c : cases) {
    OomInput in = Failed(c.tail);
    in.patterns = patterns;
    EXPECT_EQ(ClassifyOom(in), c.want) << c.tail;
  }
}

TEST(OomClassifierTest, ABadPatternIsNamed) {
  std::vector<std::regex> patterns;
  Status status = CompileOomPatterns({"fine", "(unclosed"}, &patterns);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("--oom-pattern: '(unclosed'"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace headroom

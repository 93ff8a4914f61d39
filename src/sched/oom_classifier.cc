#include "sched/oom_classifier.h"

#include <algorithm>
#include <csignal>
#include <utility>

namespace headroom {
namespace {

// What the tools our users run print when an allocation fails.
// "OutOfMemoryError" is PyTorch's torch.cuda.OutOfMemoryError (Java's too,
// rarer on GPU hosts); RESOURCE_EXHAUSTED is XLA's (JAX, TensorFlow's C++
// side), "OOM when allocating tensor" TensorFlow's Python
// ResourceExhaustedError. Vulkan upscalers (ncnn: Real-ESRGAN, waifu2x,
// RIFE) fail in vkAllocateMemory with VK_ERROR_OUT_OF_DEVICE_MEMORY; ffmpeg's
// NVENC fails to open a session when the GPU's memory is full ("No capable
// devices found" is what it says when it cannot open one at all); ONNX
// Runtime's CUDA allocator fails with "CUDA failure 2: out of memory" or in
// its BFC arena. Slurm's slurmstepd says "Detected 1 oom-kill event(s) in
// StepId=42.0" on the job's stderr when a step's memory cgroup killed it
// (a command run under `srun` inside the job, which the job's own cgroup
// counter does not see).
constexpr std::pair<std::string_view, OomKind> kBuiltinPatterns[] = {
    {"CUDA out of memory", OomKind::kGpu},
    {"CUDA error: out of memory", OomKind::kGpu},
    {"cudaErrorMemoryAllocation", OomKind::kGpu},
    {"CUBLAS_STATUS_ALLOC_FAILED", OomKind::kGpu},
    {"OutOfMemoryError", OomKind::kGpu},
    {"RESOURCE_EXHAUSTED", OomKind::kGpu},
    {"OOM when allocating tensor", OomKind::kGpu},
    {"vkAllocateMemory failed", OomKind::kGpu},
    {"VK_ERROR_OUT_OF_DEVICE_MEMORY", OomKind::kGpu},
    {"ErrorOutOfDeviceMemory", OomKind::kGpu},
    {"OpenEncodeSessionEx failed: out of memory", OomKind::kGpu},
    {"No capable devices found", OomKind::kGpu},
    {"CUDA failure 2: out of memory", OomKind::kGpu},
    {"Failed to allocate memory for requested buffer", OomKind::kGpu},
    {"std::bad_alloc", OomKind::kHost},
    {"MemoryError", OomKind::kHost},
    {"Cannot allocate memory", OomKind::kHost},
    {"oom-kill event(s)", OomKind::kHost},
};

}  // namespace

OomKind ClassifyOom(const OomInput& input) {
  if (input.signal == 0 && input.exit_code == 0) return OomKind::kNone;
  if (input.killed_by_us) return OomKind::kNone;
  // Built-ins first: they also say which memory ran out. "OutOfMemoryError"
  // precedes its substring "MemoryError" in the table.
  for (const auto& [text, kind] : kBuiltinPatterns) {
    if (input.stderr_tail.find(text) != std::string_view::npos) return kind;
  }
  for (const std::regex& pattern : input.patterns) {
    if (std::regex_search(input.stderr_tail.begin(), input.stderr_tail.end(), pattern)) {
      return OomKind::kUnknown;
    }
  }
  if (input.signal == 0 && std::find(input.oom_exit_codes.begin(), input.oom_exit_codes.end(),
                                     input.exit_code) != input.oom_exit_codes.end()) {
    return OomKind::kUnknown;
  }
  if (DiedOfSigkill(input.exit_code, input.signal) && input.oom_killer_fired) return OomKind::kHost;
  return OomKind::kNone;
}

Status CompileOomPatterns(const std::vector<std::string>& patterns,
                          std::vector<std::regex>* compiled) {
  compiled->clear();
  for (const std::string& pattern : patterns) {
    try {
      compiled->emplace_back(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Status::Error("--oom-pattern: '" + pattern + "' is not a valid regular expression (" +
                           e.what() + ")");
    }
  }
  return Status::Ok();
}

}  // namespace headroom

// A job's environment as posix_spawn takes it: "NAME=VALUE" entries, at most
// one per name when built with these functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job.h"


namespace headroom {

// The variables --threads-per-job sets, so that one job's math libraries do
// not start a thread per core each.
inline constexpr std::string_view kThreadVariables[] = {
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS"};

// This process's environment as "K=V" entries (what a child inherits).
std::vector<std::string> CurrentEnvironment();

// True when an entry of `env` sets `name`.
bool HasVariable(const std::vector<std::string>& env, std::string_view name);

// Replaces the entry for `name`, or appends one.
void SetVariable(std::string_view name, std::string_view value, std::vector<std::string>* env);

// Removes every entry for `name`.
void RemoveVariable(std::string_view name, std::vector<std::string>* env);

// What every job of a batch starts from: `inherited`, plus each thread
// variable set to `threads_per_job` when that is > 0 and `inherited` does not
// set it already, then `overrides` (--env) replacing same names.
std::vector<std::string> BaseJobEnvironment(const std::vector<std::string>& inherited,
                                            int threads_per_job,
                                            const std::vector<EnvVar>& overrides);

// How the scheduler's placement reaches a job: the variable that names its
// GPU, the value naming each device (by default its index), and what else
// the job's environment needs so that the value names the same physical GPU
// that headroom measures.
struct GpuVisibility {
  std::string variable = "CUDA_VISIBLE_DEVICES";
  std::map<std::string, std::string> values;  // {gpu} index -> value (a UUID); missing: the index
  std::vector<EnvVar> set;                    // e.g. CUDA_DEVICE_ORDER=PCI_BUS_ID
  std::vector<std::string> removed;           // e.g. HIP_VISIBLE_DEVICES for AMD
  std::string hidden;                         // the value that hides every device
};

// Sets the job's GPU in `env`: nothing when `gpu` is nullopt (no GPU
// gating), every device hidden when it is "", else `visibility`'s value
// for that device.
void ApplyGpu(const GpuVisibility& visibility, const std::optional<std::string>& gpu,
              std::vector<std::string>* env);

}  // namespace headroom

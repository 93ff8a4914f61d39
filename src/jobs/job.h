// Job: one unit of work of a batch - an argv template, its input, where its
// output goes, its priority and extra environment. Plain data, made by the
// planner (jobs/plan.h) and read by the scheduler, executor and reporters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>


namespace headroom {

// One NAME=value of a job's environment (--env, a jobs-file "env").
struct EnvVar {
  std::string name;
  std::string value;
  bool operator==(const EnvVar&) const = default;
};

// One input as a source produced it, before ordering and numbering.
struct RawInput {
  std::string input;                 // path or argument, byte-exact
  std::vector<std::string> cmd;      // jobs-file "cmd": overrides the template when non-empty
  std::vector<std::string> cpu_cmd;  // jobs-file "cpu_cmd": the CPU fallback's command
  std::string name;                  // jobs-file "name"; empty = derived from input
  int64_t priority = 0;              // jobs-file "priority": higher runs first
  std::vector<EnvVar> env;           // jobs-file "env"
  std::optional<uint64_t> gpu_mem;   // jobs-file "gpu_mem": declared VRAM peak, bytes (> 0)
  std::optional<uint64_t> ram;       // jobs-file "ram": declared RAM peak, bytes (> 0)
};

struct Job {
  int64_t number = 0;                // {#}: 1-based position after ordering
  std::string input;                 // {}
  std::string name;                  // shown to people and used in log names
  std::vector<std::string> argv_template;  // command with placeholders
  // The command of a CPU fallback attempt (--cpu-command, jobs-file
  // cpu_cmd); empty = argv_template without a GPU.
  std::vector<std::string> cpu_argv_template;
  std::string output;                // final output path; empty = none managed
  std::string temp_output;           // {out}: where the job writes; renamed to `output` on success
  int64_t priority = 0;
  std::vector<EnvVar> env;           // extra environment of this job (after --env)
  // Declared footprints from the jobs file; unset = --gpu-mem/--ram-per-job,
  // else learned.
  std::optional<uint64_t> gpu_mem;
  std::optional<uint64_t> ram;
  // Size of the input when it is an existing regular file (symlinks
  // followed) at planning time, else 0: footprints are learned against it.
  int64_t input_bytes = 0;
};

}  // namespace headroom

// `headroom slurm-exec SPEC` (hidden): what a Slurm job of --executor slurm
// runs on its node (for an array, SPEC is a list of specs, one per line, and
// the task runs line SLURM_ARRAY_TASK_ID). SPEC is the JSON the SlurmLauncher wrote: the program,
// argv, environment and log files the ProcessRunner prepared. It runs them
// as the local runner would (its own process group, stdin /dev/null, the
// logs), passes a SIGTERM from scancel on to the program's group, and
// writes a result file atomically: exit status or signal, CPU time, peak
// RSS, peak VRAM (sampled every half second, when the node has a GPU
// provider), and whether the job's cgroup saw an OOM kill meanwhile. Its exit
// status is the program's (128 + N for a signal), so Slurm's job state
// agrees.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "exec/process_set.h"

namespace headroom {

// The GPU memory the processes of group `pgid` hold now, on every GPU this
// node shows; nullopt when it cannot tell. Made by the caller (main, which
// has the GPU providers) for the wrapper's ProcessSet (nvidia-smi runs as
// its child); null when the node has no GPU provider.
using VramSampler = std::function<std::optional<uint64_t>(pid_t pgid)>;
using VramSamplerFactory = std::function<VramSampler(ProcessSet* processes)>;

// Runs the unit of `spec_path`; `node_env` is this process's environment
// ("K=V"): the variables Slurm sets for the job (SLURM_*, the GPUs it
// gave: CUDA_VISIBLE_DEVICES and the like) replace the submitter's.
// Returns the exit status to exit with; problems with the spec itself are
// printed on stderr (Slurm's output file) and return 2.
int RunSlurmUnit(const std::string& spec_path, const std::vector<std::string>& node_env,
                 const VramSamplerFactory& vram = {});

}  // namespace headroom

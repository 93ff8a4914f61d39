// Atomic outputs: a job writes its temp_output; the output appears under its
// final name only when the job succeeded.
#pragma once

#include "jobs/job.h"
#include "util/status.h"

namespace headroom {

// Creates the output directory (and parents) when missing.
Status PrepareOutputDir(const std::string& dir);

// After a success: renames temp_output onto output (replacing it). A job
// that wrote nothing is fine (nothing to rename). No-op without an output.
Status CommitOutput(const Job& job);

// After a failure or interruption: removes temp_output if it exists.
void DiscardOutput(const Job& job);

}  // namespace headroom

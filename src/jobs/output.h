// Atomic outputs: a job writes its temp_output; the output appears under its
// final name only when the job succeeded.
#pragma once

#include "jobs/job.h"
#include "util/status.h"

namespace headroom {

// Where a job writes its output until it succeeds ({out}): a hidden name
// beside `output`, ".<name without ext>.headroom-<pid>-<number><ext>", so
// that two runs (pid) and two jobs (number) never share one. It always
// fits a file name's 255 bytes: a long name is cut (at a UTF-8 character's
// start), the extension kept unless it is itself over 64 bytes.
std::string TempOutputPath(const std::string& output, int64_t pid, int64_t number);

// Creates the output directory (and parents) when missing, and checks that
// a file can be created in it (error: "output directory 'out' is not
// writable: Permission denied").
Status PrepareOutputDir(const std::string& dir);

// After a success: renames temp_output onto output (replacing it). A job
// that wrote its final output itself is fine. With `output_given` (the job
// was given its temp output: {out} or {@out} in its command, or a worker's
// request), one that wrote neither failed: "no output written (expected
// 'out/a.mp4')"; without, writing nothing is its business. No-op without an
// output.
Status CommitOutput(const Job& job, bool output_given);

// After a failure or interruption: removes temp_output if it exists.
void DiscardOutput(const Job& job);

}  // namespace headroom

// Running a short-lived helper program (nvidia-smi) and capturing what it
// prints, without a shell and with a time limit, from any thread. The
// program is a child of the ProcessSet like every other, under an owner of
// its own, so its exit status is never lost to the batch's reaper.
#pragma once

#include <string>
#include <vector>

#include "exec/process_set.h"
#include "util/status.h"
#include "util/units.h"

namespace headroom {

// Runs argv[0] (searched on PATH) with argv and headroom's environment,
// stdin and stderr on /dev/null, and puts what it wrote on stdout into `out`
// (even when it fails, since nvidia-smi prints its own errors there). Fails
// when it cannot start, runs past `timeout` (it is then killed), prints more
// than 1 MiB, or exits with a non-zero status; the message names argv[0].
// `processes` must outlive the call.
Status CommandOutput(ProcessSet* processes, const std::vector<std::string>& argv, Millis timeout,
                     std::string* out);

}  // namespace headroom

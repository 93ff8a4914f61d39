// Running a short-lived helper program (nvidia-smi) and capturing what it
// prints, without a shell and with a time limit, from any thread.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"
#include "util/units.h"

namespace headroom {

// Runs argv[0] (searched on PATH) with argv, stdin and stderr on /dev/null,
// and puts what it wrote on stdout into `out` (even when it fails, since
// nvidia-smi prints its own errors there). Fails when it cannot start, runs
// past `timeout` (it is then killed), prints more than 1 MiB, or exits with
// a non-zero status; the message names argv[0].
Status CommandOutput(const std::vector<std::string>& argv, Millis timeout, std::string* out);

}  // namespace headroom

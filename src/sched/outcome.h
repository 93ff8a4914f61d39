// Outcome: what an attempt's end means, named once so that retry policy,
// reporters and exit codes agree.
#pragma once

#include <string_view>

#include "sched/job_runner.h"

namespace headroom {

enum class Outcome {
  kSucceeded,    // exit 0
  kFailed,       // non-zero exit, or killed by a signal headroom did not send
  kTimedOut,     // headroom killed it after --timeout
  kInterrupted,  // headroom killed it because the batch was interrupted/halted
  kStartFailed,  // could not be spawned, or its output could not be committed
};

std::string_view OutcomeName(Outcome outcome);  // "SUCCESS", "FAILED", "TIMEOUT", ...

// Names the end of an attempt. `timed_out`/`interrupted` say whether
// headroom itself signalled the job for that reason.
Outcome ClassifyExit(const ExitInfo& info, bool timed_out, bool interrupted);

}  // namespace headroom

// The exit classifier: what an attempt's end means (jobs/outcome.h), decided
// once here so that retry policy, reporters and exit codes agree.
#pragma once

#include "jobs/attempt.h"
#include "jobs/outcome.h"

namespace headroom {

// Names the end of an attempt. `timed_out`/`interrupted` say whether
// headroom itself signalled the job for that reason.
Outcome ClassifyExit(const ExitInfo& info, bool timed_out, bool interrupted);

}  // namespace headroom

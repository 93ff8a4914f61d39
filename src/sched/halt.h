// Halt (--halt): what the scheduler does once a job has failed for good.
#pragma once

namespace headroom {

enum class Halt {
  kNever,  // go on with the batch
  kSoon,   // start nothing new; let running jobs end
  kNow,    // stop running jobs too (SIGTERM, then SIGKILL after the grace)
};

}  // namespace headroom

#include "sched/exit_classifier.h"

namespace headroom {

Outcome ClassifyExit(const ExitInfo& info, bool timed_out, bool interrupted) {
  // What headroom did to the job explains its end better than the exit code:
  // a job that caught SIGTERM and exited 0 after its timeout still timed out.
  if (interrupted) return Outcome::kInterrupted;
  if (timed_out) return Outcome::kTimedOut;
  if (info.signal == 0 && info.exit_code == 0) return Outcome::kSucceeded;
  return Outcome::kFailed;
}

}  // namespace headroom

// FinishHook: --on-finish CMD, the "tell me when it is done" hook. Runs CMD
// once, after the batch ended and its journal and --report were written,
// with headroom's environment and:
//   HEADROOM_BATCH_ID            the journal's batch id ("" with --no-journal)
//   HEADROOM_BATCH_EXIT_CODE     the exit code headroom is about to exit with
//   HEADROOM_BATCH_TOTAL, HEADROOM_BATCH_SUCCEEDED, HEADROOM_BATCH_FAILED,
//   HEADROOM_BATCH_SKIPPED, HEADROOM_BATCH_INTERRUPTED   job counts
//   HEADROOM_BATCH_WALL_SECONDS  the batch's wall time ("12.3")
//   HEADROOM_BATCH_REPORT        the --report file, "" when none
//   HEADROOM_BATCH_LOG_DIR       --log-dir
// stdin /dev/null, stdout and stderr appended to <log dir>/on-finish.log.
// headroom waits for it (a notification should go out before the shell
// prompt returns), up to a bound, then kills it. A hook that fails is a
// warning, never a change of the exit code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exec/process_set.h"
#include "jobs/observer.h"
#include "report/failure_hook.h"
#include "util/units.h"

namespace headroom {

struct BatchEnd {
  std::string batch;  // the journal's id, "" without one
  int exit_code = 0;
  Counts counts;
  double wall_seconds = 0;
  std::string report;   // --report, "" when none
  std::string log_dir;  // --log-dir
};

// `base` with the HEADROOM_BATCH_* variables of `end` set (replacing
// entries of the same name).
std::vector<std::string> FinishHookEnvironment(const std::vector<std::string>& base,
                                               const BatchEnd& end);

// Runs the hook `config` describes (its env: headroom's) for `end`, its
// output appended to `log_path`; waits up to `timeout`, then kills it.
// Returns "" when it exited 0, else a one-line warning naming --on-finish.
std::string RunFinishHook(const FailureHookConfig& config, const BatchEnd& end,
                          const std::string& log_path, ProcessSet* processes, Millis timeout);

}  // namespace headroom

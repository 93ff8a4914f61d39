// Worker policy (--worker): which of the runner's kept workers the scheduler
// stops, and when. Workers hold memory (a loaded model) while idle, so:
//   - a new worker beyond -j evicts the one idle the longest (on another GPU
//     or for another command, or it would have been reused);
//   - a device whose concurrency cap falls (out of memory, heat) keeps no more
//     workers than the cap: idle ones go first, the longest idle first, busy
//     ones when their request ends;
//   - a worker that ran out of memory, or whose request headroom signalled
//     (timeout, interrupt), serves no other request: its memory may be
//     fragmented, its state unknown.
// Pure functions of what the runner reports (JobRunner::KeptProcesses).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "exec/job_runner.h"
#include "jobs/attempt.h"

namespace headroom {

// A new worker is about to start: the worker to stop first, when `slots`
// serve already; nullopt when there is room, or no idle one to stop.
std::optional<pid_t> WorkerToEvict(const std::vector<KeptProcess>& kept, int slots);

// The workers on `gpu` beyond `cap` (not counting retiring ones), in the
// order to stop them: idle ones first, the longest idle first.
std::vector<pid_t> WorkersBeyondCap(const std::vector<KeptProcess>& kept, const std::string& gpu,
                                    int cap);

// True when the worker that served a request that ended with `exit` must
// not serve another: it reported running out of memory (for the request or
// one of its inputs).
bool RetireAfter(const ExitInfo& exit);

}  // namespace headroom

// A persistent worker's command (--worker): the template started once per
// worker. Only {%} (the worker's slot) and {gpu} (its device) may appear in
// it: inputs, outputs and job numbers change with every request and reach
// the worker in the request, never on its command line. Nothing is appended.
#pragma once

#include <string>
#include <vector>

#include "jobs/plan.h"
#include "util/status.h"

namespace headroom {

// Error naming the first argument that uses a per-job placeholder ({} {/}
// {.} {/.} {//} {#} {out} {@} {@out} {results}).
Status CheckWorkerCommand(const std::vector<std::string>& argv_template);

// CheckWorkerCommand of `command` and of every jobs-file "cmd" of `plan`
// (a worker's command too), before the batch is journaled.
Status CheckWorkerCommands(const std::vector<std::string>& command, const Plan& plan);

// The argv to start a worker: {%} and {gpu} expanded. With `shell`,
// {"/bin/sh", "-c", S}, S being the arguments joined by spaces with each
// substituted value single-quoted (as for a job).
std::vector<std::string> ExpandWorkerCommand(const std::vector<std::string>& argv_template,
                                             int slot, const std::string& gpu, bool shell);

}  // namespace headroom

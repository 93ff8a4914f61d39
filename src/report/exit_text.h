// How a job's end reads to people, shared by the console and the logs.
#pragma once

#include <string>

#include "exec/job_runner.h"

namespace headroom {

// "SIGKILL" for 9; "signal 77" when the system has no name for it.
std::string SignalName(int signal);

// "exit 1", or "killed by SIGKILL" when a signal ended the job.
std::string DescribeExit(const ExitInfo& exit);

}  // namespace headroom

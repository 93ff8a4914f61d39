// How a job's end reads to people, shared by the console and the logs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "exec/job_runner.h"

namespace headroom {

// "SIGKILL" for 9; "signal 77" when the system has no name for it.
std::string SignalName(int signal);

// "exit 1", or "killed by SIGKILL" when a signal ended the job.
std::string DescribeExit(const ExitInfo& exit);

// The last `count` non-empty lines of `text` (a stderr tail), each cut at
// `width` bytes: why a job failed, without opening its log.
std::vector<std::string_view> LastLines(std::string_view text, size_t count, size_t width);

}  // namespace headroom

// Job keys: how the journal knows a job again in a later run of the same
// batch. A job's number is its position after ordering, so it shifts when new
// inputs appear; its key is what it does instead: its input, plus its
// jobs-file name and command where those set it apart from the batch's
// template. Also the batch's input source as the journal matches it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "jobs/job.h"
#include "jobs/plan.h"
#include "jobs/sources.h"

namespace headroom {

// `input`, then "\x1fname:<name>" when the job has a name of its own (a
// jobs-file "name"), then "\x1fcmd:<argv shell-joined>" when its argv
// template differs from `command` (a jobs-file "cmd").
std::string JobKey(const Job& job, const std::vector<std::string>& command);

// The key of every job of `plan` (to_run and skipped), by job number. Jobs
// with the same JobKey (the same input given twice) are told apart by their
// order: the second gets "\x1f#2", the third "\x1f#3", ...
std::map<int64_t, std::string> JobKeys(const Plan& plan, const std::vector<std::string>& command);

// Where the inputs come from, without the inputs themselves, so that a
// later run of the same batch with more inputs matches: "::: arguments",
// "--input-dir DIR [--ext mp4,mkv] [--recursive]", "--jobs-file FILE" or
// "stdin". Paths are shell-quoted as given.
std::string InputSourceText(const InputSpec& spec);

}  // namespace headroom

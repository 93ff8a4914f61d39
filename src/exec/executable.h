// Finding the program a job runs, before any job starts.
#pragma once

#include <string>

#include "util/status.h"

namespace headroom {

// Resolves `name` as execvp would: a name with a '/' is checked as a path;
// otherwise each directory of `path_env` (empty entries = ".") is tried.
// Sets `resolved` to a path that is a regular, executable file. Error:
// "command not found: NAME (not on PATH)" or "NAME: not executable".
Status ResolveExecutable(const std::string& name, const std::string& path_env,
                         std::string* resolved);

}  // namespace headroom

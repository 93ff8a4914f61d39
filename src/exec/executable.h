// Finding the programs jobs run, before any job starts.
#pragma once

#include <map>
#include <string>

#include "jobs/plan.h"
#include "util/status.h"

namespace headroom {

// Resolves `name` as execvp would: a name with a '/' is checked as a path;
// otherwise each directory of `path_env` (empty entries = ".") is tried.
// Sets `resolved` to a path that is a regular, executable file. Error:
// "command not found: NAME (not on PATH)" or "NAME: not executable".
Status ResolveExecutable(const std::string& name, const std::string& path_env,
                         std::string* resolved);

// Resolves the program of every job of `plan` that does not come from a
// placeholder, once per name, into `resolved` (name -> path), so that a
// typo costs nothing: the error of the first that cannot be found.
Status ResolvePrograms(const Plan& plan, const std::string& path_env,
                       std::map<std::string, std::string>* resolved);

}  // namespace headroom

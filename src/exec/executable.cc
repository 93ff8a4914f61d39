#include "exec/executable.h"

#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string_view>
#include <utility>

#include "jobs/placeholder.h"

namespace headroom {

namespace {

enum class Candidate { kMissing, kNotExecutable, kExecutable };

Candidate Check(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Candidate::kMissing;
  // A directory passes access(X_OK) but cannot be exec'd.
  if (!S_ISREG(st.st_mode) || access(path.c_str(), X_OK) != 0) {
    return Candidate::kNotExecutable;
  }
  return Candidate::kExecutable;
}

Status NotExecutable(const std::string& name) {
  return Status::Error(name + ": not executable");
}

}  // namespace

Status ResolveExecutable(const std::string& name, const std::string& path_env,
                         std::string* resolved) {
  if (name.empty()) return Status::Error("command not found: '' (empty program name)");
  if (name.find('/') != std::string::npos) {
    switch (Check(name)) {
      case Candidate::kExecutable:
        *resolved = name;
        return Status::Ok();
      case Candidate::kNotExecutable:
        return NotExecutable(name);
      case Candidate::kMissing:
        return Status::Error("command not found: " + name + " (no such file)");
    }
  }
  // As execvp: a match that cannot run does not stop the search, but it is
  // the better error when nothing later runs.
  bool found_unrunnable = false;
  std::string_view rest = path_env;
  for (;;) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = dir.back() == '/' ? dir + name : dir + "/" + name;
    Candidate kind = Check(candidate);
    if (kind == Candidate::kExecutable) {
      *resolved = std::move(candidate);
      return Status::Ok();
    }
    found_unrunnable |= kind == Candidate::kNotExecutable;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (found_unrunnable) return NotExecutable(name);
  return Status::Error("command not found: " + name + " (not on PATH)");
}

// A program word with blanks or shell operators is most often a shell
// command line given without --shell ('echo {} > {.}.out'): no program has
// that name, and every job would fail at start.
bool LooksLikeShellLine(std::string_view program) {
  return program.find_first_of(" \t\n|&;<>()$`") != std::string_view::npos;
}

Status ResolvePrograms(const Plan& plan, const std::string& path_env,
                       std::map<std::string, std::string>* resolved) {
  std::set<std::string> seen;
  for (const Job& job : plan.to_run) {
    for (const auto* command : {&job.argv_template, &job.cpu_argv_template}) {
      if (command->empty()) continue;
      const std::string& program = command->front();
      if (!seen.insert(program).second) continue;
      // A program from a placeholder is found only when each job starts.
      bool placeholder = HasPlaceholder(program);
      std::string found;
      Status status = placeholder ? Status::Ok() : ResolveExecutable(program, path_env, &found);
      if (LooksLikeShellLine(program) && (placeholder || !status.ok())) {
        return Status::Error("command not found: '" + program +
                             "' is a shell command line, not a program: add --shell to run it "
                             "with sh -c");
      }
      if (!status.ok()) return status;
      if (!placeholder) (*resolved)[program] = found;
    }
  }
  return Status::Ok();
}

}  // namespace headroom

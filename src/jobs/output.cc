#include "jobs/output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace headroom {
namespace {

std::string Quoted(const std::string& text) { return "'" + text + "'"; }

// mkdir of one path that may already exist as a directory.
bool MakeOneDir(const std::string& path) {
  if (mkdir(path.c_str(), 0777) == 0) return true;
  int saved = errno;
  struct stat st;
  if (saved == EEXIST && stat(path.c_str(), &st) == 0) {
    errno = S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    return errno == 0;
  }
  errno = saved;
  return false;
}

}  // namespace

Status PrepareOutputDir(const std::string& dir) {
  // Each prefix ending before a '/' is a parent; the loop's last step is
  // `dir` itself.
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string prefix = dir.substr(0, slash);
    if (!prefix.empty() && prefix.back() != '/' && !MakeOneDir(prefix)) {
      std::string where = prefix == dir ? "" : Quoted(prefix) + ": ";
      return Status::Error("cannot create output directory " + Quoted(dir) + ": " + where +
                           std::strerror(errno));
    }
    if (slash == std::string::npos) break;
  }
  return Status::Ok();
}

Status CommitOutput(const Job& job) {
  if (job.output.empty()) return Status::Ok();
  struct stat st;
  if (lstat(job.temp_output.c_str(), &st) != 0) return Status::Ok();
  if (std::rename(job.temp_output.c_str(), job.output.c_str()) != 0) {
    return Status::Error("cannot rename " + Quoted(job.temp_output) + " to " + Quoted(job.output) +
                         ": " + std::strerror(errno));
  }
  return Status::Ok();
}

void DiscardOutput(const Job& job) {
  if (job.temp_output.empty()) return;
  // A missing temp file (the job wrote nothing) is the common case, not an error.
  unlink(job.temp_output.c_str());
}

}  // namespace headroom

#include "probe/disk.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

namespace headroom {
namespace {

// "a/b/c" -> "a/b", "/a" -> "/", "a" -> ".".
std::string Parent(const std::string& path) {
  size_t end = path.find_last_not_of('/');
  if (end == std::string::npos) return "/";
  size_t slash = path.find_last_of('/', end);
  if (slash == std::string::npos) return ".";
  size_t keep = path.find_last_not_of('/', slash);
  return keep == std::string::npos ? "/" : path.substr(0, keep + 1);
}

}  // namespace

Status FreeDiskBytes(const std::string& path, uint64_t* bytes) {
  std::string probe = path.empty() ? "." : path;
  for (;;) {
    struct statvfs fs;
    if (statvfs(probe.c_str(), &fs) == 0) {
      *bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
      return Status::Ok();
    }
    if (errno != ENOENT || probe == "/" || probe == ".") {
      return Status::Error(path + ": cannot measure free disk space: " + std::strerror(errno));
    }
    probe = Parent(probe);
  }
}

}  // namespace headroom

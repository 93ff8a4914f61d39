// ScanDirectory (declared in jobs/sources.h).
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "jobs/sources.h"

namespace headroom {
namespace {

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Suffix match rather than "the last extension", so that "tar.gz" works too.
bool HasExtension(std::string_view name, std::string_view ext) {
  if (name.size() <= ext.size() + 1) return false;  // "x.mp4" at least; ".mp4" is hidden
  std::string_view tail = name.substr(name.size() - ext.size() - 1);
  if (tail[0] != '.') return false;
  for (size_t i = 0; i < ext.size(); ++i) {
    if (LowerAscii(tail[i + 1]) != LowerAscii(ext[i])) return false;
  }
  return true;
}

bool Wanted(std::string_view name, const std::vector<std::string>& exts) {
  if (exts.empty()) return true;
  return std::any_of(exts.begin(), exts.end(),
                     [&](const std::string& ext) { return HasExtension(name, ext); });
}

std::string Quoted(const std::string& text) { return "'" + text + "'"; }

Status CheckIsDirectory(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Error("input directory " + Quoted(dir) + " does not exist");
    return Status::Error("cannot read input directory " + Quoted(dir) + ": " +
                         std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::Error("input directory " + Quoted(dir) + " is not a directory");
  }
  return Status::Ok();
}

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

// One directory level; `base` is where the scan started (ending in '/'),
// `relative` this directory's path below it ("" or ending in '/').
class Scanner {
 public:
  Scanner(std::string base, const std::vector<std::string>& exts, bool recursive,
          std::vector<RawInput>* found)
      : base_(std::move(base)), exts_(exts), recursive_(recursive), found_(found) {}

  Status Scan(const std::string& relative) {
    const std::string dir = base_ + relative;
    std::unique_ptr<DIR, DirCloser> handle(opendir(dir.c_str()));
    if (!handle) return Failure(dir);
    for (;;) {
      errno = 0;
      const dirent* entry = readdir(handle.get());
      if (entry == nullptr) break;
      std::string name = entry->d_name;
      if (name.starts_with('.')) continue;  // also "." and ".."
      Status status = Visit(relative + name, name);
      if (!status.ok()) return status;
    }
    return errno == 0 ? Status::Ok() : Failure(dir);
  }

 private:
  Status Visit(const std::string& relative, const std::string& name) {
    const std::string path = base_ + relative;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return Failure(path);
    if (S_ISDIR(st.st_mode)) return recursive_ ? Scan(relative + "/") : Status::Ok();
    // A symlink counts as what it points to when that is a regular file.
    // Links to directories are not followed, so a link loop cannot make the
    // scan endless; dangling or looping links are skipped.
    if (S_ISLNK(st.st_mode) && stat(path.c_str(), &st) != 0) {
      return (errno == ENOENT || errno == ELOOP) ? Status::Ok() : Failure(path);
    }
    if (S_ISREG(st.st_mode) && Wanted(name, exts_)) {
      RawInput input;
      input.input = path;
      input.name = relative;
      found_->push_back(std::move(input));
    }
    return Status::Ok();
  }

  static Status Failure(const std::string& path) {
    return Status::Error("cannot read " + Quoted(path) + ": " + std::strerror(errno));
  }

  const std::string base_;
  const std::vector<std::string>& exts_;
  const bool recursive_;
  std::vector<RawInput>* found_;
};

}  // namespace

Status ScanDirectory(const std::string& dir, const std::vector<std::string>& exts, bool recursive,
                     std::vector<RawInput>* out) {
  Status status = CheckIsDirectory(dir);
  if (!status.ok()) return status;
  std::vector<RawInput> found;
  status = Scanner(dir.ends_with('/') ? dir : dir + "/", exts, recursive, &found).Scan("");
  if (!status.ok()) return status;
  std::sort(found.begin(), found.end(),
            [](const RawInput& a, const RawInput& b) { return a.input < b.input; });
  for (RawInput& input : found) out->push_back(std::move(input));
  return Status::Ok();
}

}  // namespace headroom

#include "jobs/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "jobs/placeholder.h"

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

constexpr size_t kNameMax = 255;    // bytes of one file name (NAME_MAX)
constexpr size_t kLongestExtension = 64;

// `text` cut to at most `bytes`, not inside a UTF-8 character.
std::string_view CutAtCharacter(std::string_view text, size_t bytes) {
  if (text.size() <= bytes) return text;
  while (bytes > 0 && (static_cast<unsigned char>(text[bytes]) & 0xC0) == 0x80) --bytes;
  return text.substr(0, bytes);
}

}  // namespace

std::string TempOutputPath(const std::string& output, int64_t pid, int64_t number) {
  size_t slash = output.rfind('/');
  std::string dir = slash == std::string::npos ? "." : output.substr(0, slash);
  std::string name = slash == std::string::npos ? output : output.substr(slash + 1);
  std::string stem = StripExtension(name);
  std::string ext = Extension(name);
  if (ext.size() > kLongestExtension) {
    stem = name;
    ext.clear();
  }
  std::string tag = ".headroom-" + std::to_string(pid) + "-" + std::to_string(number);
  size_t room = kNameMax - 1 - tag.size() - ext.size();  // 1: the leading dot
  return dir + "/." + std::string(CutAtCharacter(stem, room)) + tag + ext;
}

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
  // An existing directory jobs cannot write to (mode 555, a read-only
  // mount) would fail every job: found before anything runs.
  std::string probe = dir + "/.headroom-probe-" + std::to_string(getpid());
  int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Error("output directory " + Quoted(dir) + " is not writable: " +
                         std::strerror(errno));
  }
  close(fd);
  unlink(probe.c_str());
  return Status::Ok();
}

Status CommitOutput(const Job& job, bool output_given) {
  if (job.output.empty()) return Status::Ok();
  struct stat st;
  if (lstat(job.temp_output.c_str(), &st) != 0) {
    // A job may write its final path itself; one that wrote neither failed.
    if (!output_given || lstat(job.output.c_str(), &st) == 0) return Status::Ok();
    return Status::Error("no output written (expected " + Quoted(job.output) + ")");
  }
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

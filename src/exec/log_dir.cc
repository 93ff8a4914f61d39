#include "exec/log_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <utility>

namespace headroom {
namespace {

constexpr size_t kMaxSafeName = 80;
constexpr size_t kTailReadBytes = 64 * 1024;
// How far into the kept region TrimToTail looks for a line start.
constexpr size_t kLineSearchBytes = 4 * 1024;

std::string ErrnoText(int err) { return std::strerror(err); }

bool IsSafeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// A job name becomes part of a file name: hostile bytes ('/', newlines,
// non-ASCII) must not escape the folder or confuse people reading `ls`.
std::string SafeName(const std::string& name) {
  std::string safe;
  safe.reserve(std::min(name.size(), kMaxSafeName));
  for (char c : name) {
    if (safe.size() == kMaxSafeName) break;
    safe.push_back(IsSafeChar(c) ? c : '_');
  }
  if (safe.empty()) safe = "job";
  return safe;
}

std::string JobLogBase(const std::string& jobs_dir, const Job& job, int attempt) {
  std::string path = jobs_dir + "/" + std::to_string(job.number) + "_" + SafeName(job.name);
  if (attempt > 1) path += "." + std::to_string(attempt);
  return path;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Only what headroom itself writes is ever removed: a user who points
// --log-dir at a folder holding other files keeps them.
bool IsLogEntry(std::string_view name, bool is_dir) {
  if (is_dir) return StartsWith(name, "jobs_");
  return (StartsWith(name, "processing_") || StartsWith(name, "errors_")) && EndsWith(name, ".log");
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool ReadFully(int fd, char* buf, size_t size, off_t offset) {
  while (size > 0) {
    ssize_t n = pread(fd, buf, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

bool WriteFully(int fd, const char* buf, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, buf, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Copies [offset, end) of `in` to `out` in chunks, so a 64 MiB cap does not
// mean a 64 MiB buffer.
bool CopyRange(int in, off_t offset, off_t end, int out) {
  std::string buf(1 << 16, '\0');
  while (offset < end) {
    size_t n = static_cast<size_t>(std::min<off_t>(end - offset, static_cast<off_t>(buf.size())));
    if (!ReadFully(in, buf.data(), n, offset) || !WriteFully(out, buf.data(), n)) return false;
    offset += static_cast<off_t>(n);
  }
  return true;
}

// Where the kept tail starts: just after the first newline near the cut, so
// the log does not begin with half a line.
off_t TailStart(int fd, off_t size, uint64_t max_bytes) {
  off_t cut = size - static_cast<off_t>(max_bytes);
  size_t look = static_cast<size_t>(std::min<uint64_t>(max_bytes, kLineSearchBytes));
  std::string head(look, '\0');
  if (look == 0 || !ReadFully(fd, head.data(), look, cut)) return cut;
  size_t newline = head.find('\n');
  return newline == std::string::npos ? cut : cut + static_cast<off_t>(newline) + 1;
}

}  // namespace

LogDir::LogDir(std::string dir, std::string stamp)
    : dir_(std::move(dir)), stamp_(std::move(stamp)), jobs_dir_(dir_ + "/jobs_" + stamp_) {}

Status LogDir::Create() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Status::Error("log dir '" + dir_ + "': cannot create: " + ec.message());
  // Two batches started in the same second must not share a folder: claim
  // jobs_<stamp>, else jobs_<stamp>_2, _3, ... (mkdir is atomic).
  std::string base = stamp_;
  for (int n = 1; n <= 1000; ++n) {
    stamp_ = n == 1 ? base : base + "_" + std::to_string(n);
    jobs_dir_ = dir_ + "/jobs_" + stamp_;
    if (std::filesystem::create_directory(jobs_dir_, ec)) return Status::Ok();
    if (ec) return Status::Error("log dir '" + jobs_dir_ + "': cannot create: " + ec.message());
  }
  return Status::Error("log dir '" + dir_ + "': too many batches started at " + base);
}

std::string LogDir::StdoutPath(const Job& job, int attempt) const {
  return JobLogBase(jobs_dir_, job, attempt) + ".out";
}

std::string LogDir::StderrPath(const Job& job, int attempt) const {
  return JobLogBase(jobs_dir_, job, attempt) + ".err";
}

std::string LogDir::MainLogPath() const { return dir_ + "/processing_" + stamp_ + ".log"; }

std::string LogDir::ErrorLogPath() const {
  return dir_ + "/errors_" + stamp_.substr(0, 8) + ".log";
}

int RemoveOldLogs(const std::string& dir, int days) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  const time_t cutoff = time(nullptr) - static_cast<time_t>(days) * 86400;
  std::vector<std::string> old;
  while (dirent* entry = readdir(d)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + entry->d_name;
    struct stat st;
    // lstat: a symlink named jobs_x is removed as a link, never followed.
    if (lstat(path.c_str(), &st) != 0) continue;
    if (!IsLogEntry(name, S_ISDIR(st.st_mode))) continue;
    if (st.st_mtime < cutoff) old.push_back(std::move(path));
  }
  closedir(d);
  int removed = 0;
  for (const std::string& path : old) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (!ec) ++removed;
  }
  return removed;
}

Status TrimToTail(const std::string& path, uint64_t max_bytes) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Error("job log '" + path + "': " + ErrnoText(errno));
  }
  if (static_cast<uint64_t>(st.st_size) <= max_bytes) return Status::Ok();

  Fd in(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Status::Error("job log '" + path + "': " + ErrnoText(errno));
  std::string temp = path + ".trimXXXXXX";
  Fd out(mkostemp(temp.data(), O_CLOEXEC));
  if (out.get() < 0) return Status::Error("job log '" + temp + "': " + ErrnoText(errno));
  fchmod(out.get(), st.st_mode & 07777);

  off_t start = TailStart(in.get(), st.st_size, max_bytes);
  // Temp file + rename: a reader (or a crash) sees the old log or the
  // trimmed one, never a half-written file.
  if (!CopyRange(in.get(), start, st.st_size, out.get()) ||
      rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(temp.c_str());
    return Status::Error("job log '" + path + "': cannot trim: " + ErrnoText(err));
  }
  return Status::Ok();
}

std::vector<std::string> ReadTailLines(const std::string& path, int max_lines) {
  std::vector<std::string> lines;
  if (max_lines <= 0) return lines;
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (fd.get() < 0 || fstat(fd.get(), &st) != 0) return lines;
  size_t size = static_cast<size_t>(std::min<off_t>(st.st_size, kTailReadBytes));
  off_t offset = st.st_size - static_cast<off_t>(size);
  std::string text(size, '\0');
  if (!ReadFully(fd.get(), text.data(), size, offset)) return lines;

  size_t begin = 0;
  if (offset > 0) {  // the first line read is most likely cut: drop it
    size_t newline = text.find('\n');
    begin = newline == std::string::npos ? text.size() : newline + 1;
  }
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    lines.emplace_back(text, begin, end - begin);
    begin = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.size() > static_cast<size_t>(max_lines)) {
    lines.erase(lines.begin(), lines.end() - max_lines);
  }
  return lines;
}

std::string TimeStamp(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y%m%d_%H%M%S", &tm);
  return buf;
}

}  // namespace headroom

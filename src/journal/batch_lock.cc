#include "journal/batch_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace headroom {
namespace {

constexpr int kMaxRetries = 100;

// A lock on the whole file. OFD locks need l_pid == 0.
struct flock WholeFile(short type) {
  struct flock lock;
  std::memset(&lock, 0, sizeof lock);
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  return lock;
}

// The pid the holder wrote, or "unknown" (it may not have written it yet).
std::string ReadPid(int fd) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  std::string pid;
  for (ssize_t i = 0; i < n && std::isdigit(static_cast<unsigned char>(buf[i])); ++i) {
    pid += buf[i];
  }
  return pid.empty() ? "unknown" : pid;
}

bool WritePid(int fd) {
  std::string text = fmt::format("{}\n", getpid());
  return ftruncate(fd, 0) == 0 &&
         pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
}

// Whether `fd` is still the file at `path`: a holder removes the file before
// it unlocks, so a lock taken on a removed file is worthless.
bool IsFileAt(int fd, const std::string& path) {
  struct stat by_fd, by_path;
  return fstat(fd, &by_fd) == 0 && stat(path.c_str(), &by_path) == 0 &&
         by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
}

}  // namespace

std::string BatchLock::PathIn(const std::string& state_dir, int64_t batch) {
  return fmt::format("{}/batch-{}.lock", state_dir, batch);
}

Status BatchLock::Acquire(const std::string& state_dir, int64_t batch,
                          std::unique_ptr<BatchLock>* out) {
  out->reset();
  std::string path = PathIn(state_dir, batch);
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Status::Error(
          fmt::format("batch {}: cannot open lock file {}: {}", batch, path, strerror(errno)));
    }
    struct flock lock = WholeFile(F_WRLCK);
    if (fcntl(fd, F_OFD_SETLK, &lock) != 0) {
      int err = errno;
      std::string message =
          err == EAGAIN || err == EACCES
              ? fmt::format("batch {} is being run by another headroom (pid {})", batch,
                            ReadPid(fd))
              : fmt::format("batch {}: cannot lock {}: {}", batch, path, strerror(err));
      close(fd);
      return Status::Error(message);
    }
    if (IsFileAt(fd, path)) {
      if (!WritePid(fd)) {
        std::string message =
            fmt::format("batch {}: cannot write lock file {}: {}", batch, path, strerror(errno));
        unlink(path.c_str());
        close(fd);
        return Status::Error(message);
      }
      out->reset(new BatchLock(fd, path, batch));
      return Status::Ok();
    }
    close(fd);  // its holder removed it as we opened it: try the new one
  }
  return Status::Error(fmt::format("batch {}: cannot lock {}: it keeps changing", batch, path));
}

bool BatchLock::IsHeld(const std::string& state_dir, int64_t batch) {
  int fd = open(PathIn(state_dir, batch).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock lock = WholeFile(F_WRLCK);
  bool held = fcntl(fd, F_OFD_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
  close(fd);
  return held;
}

BatchLock::BatchLock(int fd, std::string path, int64_t batch)
    : fd_(fd), path_(std::move(path)), batch_(batch) {}

BatchLock::~BatchLock() {
  unlink(path_.c_str());  // first, while still locked (see IsFileAt)
  close(fd_);
}

}  // namespace headroom

#include "util/whole_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace headroom {
namespace {

Status WriteAll(int fd, const std::string& content) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string temp = fmt::format("{}.tmp-{}", path, getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  Status status = WriteAll(fd, content);
  if (status.ok() && fsync(fd) != 0) status = Status::Error(std::strerror(errno));
  if (close(fd) != 0 && status.ok()) status = Status::Error(std::strerror(errno));
  if (status.ok() && std::rename(temp.c_str(), path.c_str()) != 0) {
    status = Status::Error(std::strerror(errno));
  }
  if (!status.ok()) {
    unlink(temp.c_str());
    return Status::Error(fmt::format("{}: cannot write: {}", path, status.message()));
  }
  return Status::Ok();
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) return std::nullopt;
  std::string text;
  char buffer[65536];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  bool ok = std::ferror(file) == 0;
  std::fclose(file);
  if (!ok) return std::nullopt;
  return text;
}

}  // namespace headroom

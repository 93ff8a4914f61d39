#include "exec/replace_process.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace headroom {
namespace {

// An anonymous file holding `data`, read from its start.
Status FeedStdin(const std::string& data) {
  int fd = memfd_create("headroom-inputs", MFD_CLOEXEC);
  if (fd < 0) return Status::Error(fmt::format("cannot hold the batch's inputs: {}", strerror(errno)));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      close(fd);
      return Status::Error(fmt::format("cannot hold the batch's inputs: {}", strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  bool ok = lseek(fd, 0, SEEK_SET) == 0 && dup2(fd, STDIN_FILENO) == STDIN_FILENO;
  int err = errno;
  close(fd);
  if (!ok) return Status::Error(fmt::format("cannot give the batch its inputs: {}", strerror(err)));
  return Status::Ok();
}

}  // namespace

Status ReplaceProcess(const std::string& program, const std::vector<std::string>& argv,
                      const std::string& cwd, const std::optional<std::string>& stdin_data) {
  if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
    return Status::Error(
        fmt::format("cannot enter the batch's directory {}: {}", cwd, strerror(errno)));
  }
  if (stdin_data) {
    Status status = FeedStdin(*stdin_data);
    if (!status.ok()) return status;
  }
  std::vector<char*> pointers;
  pointers.reserve(argv.size() + 1);
  for (const std::string& arg : argv) pointers.push_back(const_cast<char*>(arg.c_str()));
  pointers.push_back(nullptr);
  execv(program.c_str(), pointers.data());
  return Status::Error(fmt::format("cannot run {}: {}", program, strerror(errno)));
}

}  // namespace headroom

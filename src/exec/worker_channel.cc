#include "exec/worker_channel.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace headroom {

namespace {

// At most this much is read from one worker per Read, so that a worker that
// prints without pause cannot hold the loop.
constexpr size_t kReadBudget = 1 << 20;

// write(2) with SIGPIPE blocked in this thread: a reader that is gone gives
// EPIPE. A SIGPIPE this write raised is taken before the mask is restored,
// so that it is not delivered afterwards (one pending before is left alone).
ssize_t WriteWithoutSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending;
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
  ssize_t written = write(fd, data, size);
  int error = errno;
  if (written < 0 && error == EPIPE && !was_pending) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = error;
  return written;
}

}  // namespace

WorkerChannel::WorkerChannel(ChildPipes pipes)
    : stdin_fd_(pipes.stdin_fd), stdout_fd_(pipes.stdout_fd) {}

WorkerChannel::~WorkerChannel() {
  CloseStdin();
  CloseStdout();
}

bool WorkerChannel::Send(std::string_view text) {
  if (stdin_fd_ < 0) return false;
  unsent_.append(text);
  Flush();
  return stdin_fd_ >= 0;
}

void WorkerChannel::Flush() {
  while (stdin_fd_ >= 0 && !unsent_.empty()) {
    ssize_t n = WriteWithoutSigpipe(stdin_fd_, unsent_.data(), unsent_.size());
    if (n > 0) {
      unsent_.erase(0, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;  // the pipe is full: the rest when it is writable
    } else {
      CloseStdin();  // EPIPE: the worker closed its stdin or is gone
    }
  }
}

void WorkerChannel::CloseStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
  unsent_.clear();
}

void WorkerChannel::CloseStdout() {
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
}

void WorkerChannel::Read(std::vector<std::string>* lines) {
  char buf[65536];
  size_t budget = kReadBudget;
  while (stdout_fd_ >= 0 && budget > 0) {
    ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n > 0) {
      partial_.append(buf, static_cast<size_t>(n));
      budget -= std::min(budget, static_cast<size_t>(n));
      SplitLines(lines);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {  // end of file, or an error that ends it as well
      if (!partial_.empty()) lines->push_back(std::move(partial_));
      partial_.clear();
      CloseStdout();
    }
  }
}

void WorkerChannel::SplitLines(std::vector<std::string>* lines) {
  size_t start = 0;
  for (;;) {
    size_t newline = partial_.find('\n', start);
    if (newline == std::string::npos) break;
    lines->push_back(partial_.substr(start, newline - start));
    start = newline + 1;
  }
  partial_.erase(0, start);
  while (partial_.size() >= kMaxLine) {
    lines->push_back(partial_.substr(0, kMaxLine));
    partial_.erase(0, kMaxLine);
  }
}

void WorkerChannel::AddPollFds(std::vector<pollfd>* fds) const {
  if (stdout_fd_ >= 0) fds->push_back(pollfd{stdout_fd_, POLLIN, 0});
  if (stdin_fd_ >= 0 && !unsent_.empty()) fds->push_back(pollfd{stdin_fd_, POLLOUT, 0});
}

}  // namespace headroom

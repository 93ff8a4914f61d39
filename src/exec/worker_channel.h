// WorkerChannel: headroom's side of one worker's stdin and stdout pipes.
// Sends request lines without ever blocking (what the pipe does not take at
// once is kept and written when it is writable again) and cuts what the
// worker prints into lines. Owns both fds. A write to a worker that is gone
// gives EPIPE, never SIGPIPE. Single-threaded.
#pragma once

#include <poll.h>

#include <string>
#include <string_view>
#include <vector>

#include "exec/process_set.h"

namespace headroom {

class WorkerChannel {
 public:
  // Takes ownership of both fds (either may be -1). They must be O_NONBLOCK.
  explicit WorkerChannel(ChildPipes pipes);
  ~WorkerChannel();  // closes what is open
  WorkerChannel(const WorkerChannel&) = delete;
  WorkerChannel& operator=(const WorkerChannel&) = delete;

  // Queues `text` for the worker's stdin and writes what the pipe takes
  // now. False when stdin is closed (by CloseStdin, or the worker closed its
  // end): nothing will reach the worker.
  bool Send(std::string_view text);
  // Writes more of what Send queued (call when stdin is writable).
  void Flush();
  // End of input for the worker ("exit now" in the protocol); what was
  // queued and not written yet is dropped.
  void CloseStdin();

  // Reads what the worker wrote so far (a bounded amount per call) and
  // appends each complete line, without its '\n', to `lines`. At the end of
  // its stdout, a last unterminated line is appended too and the fd is
  // closed. A line longer than kMaxLine comes in pieces of kMaxLine bytes.
  void Read(std::vector<std::string>* lines);

  // What to poll: stdout while it is open, stdin while data waits for it.
  void AddPollFds(std::vector<pollfd>* fds) const;

  bool stdin_open() const { return stdin_fd_ >= 0; }
  bool stdout_open() const { return stdout_fd_ >= 0; }

  static constexpr size_t kMaxLine = 1 << 20;

 private:
  void CloseStdout();
  void SplitLines(std::vector<std::string>* lines);

  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string unsent_;   // queued for stdin
  std::string partial_;  // stdout read past the last '\n'
};

}  // namespace headroom

#include "exec/worker_channel.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace headroom {
namespace {

using Lines = std::vector<std::string>;

// A channel on two pipes whose other ends the test holds: it reads what
// the channel sends on `to_worker_` and writes on `from_worker_`.
class WorkerChannelTest : public ::testing::Test {
 protected:
  WorkerChannelTest() {
    int in[2];
    int out[2];
    EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    to_worker_ = in[0];
    from_worker_ = out[1];
    channel_ = std::make_unique<WorkerChannel>(ChildPipes{in[1], out[0]});
  }
  ~WorkerChannelTest() override {
    channel_.reset();
    CloseWorkerStdin();
    CloseWorkerStdout();
  }
  void CloseWorkerStdin() {
    if (to_worker_ >= 0) close(to_worker_);
    to_worker_ = -1;
  }
  void CloseWorkerStdout() {
    if (from_worker_ >= 0) close(from_worker_);
    from_worker_ = -1;
  }
  // What the worker would read now (at most `max` bytes).
  std::string WorkerReads(size_t max = 1 << 20) {
    std::string text(max, '\0');
    fcntl(to_worker_, F_SETFL, O_NONBLOCK);
    ssize_t n = read(to_worker_, text.data(), text.size());
    text.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return text;
  }
  void WorkerWrites(const std::string& text) {
    ASSERT_EQ(write(from_worker_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  Lines Read() {
    Lines lines;
    channel_->Read(&lines);
    return lines;
  }

  int to_worker_ = -1;
  int from_worker_ = -1;
  std::unique_ptr<WorkerChannel> channel_;
};

TEST_F(WorkerChannelTest, SendsText) {
  EXPECT_TRUE(channel_->Send("{\"id\": 1}\n"));
  EXPECT_EQ(WorkerReads(), "{\"id\": 1}\n");
}

TEST_F(WorkerChannelTest, WhatThePipeCannotTakeIsSentWhenItIsWritable) {
  std::string big(200000, 'x');  // more than a pipe holds
  EXPECT_TRUE(channel_->Send(big));
  std::vector<pollfd> fds;
  channel_->AddPollFds(&fds);
  ASSERT_EQ(fds.size(), 2u);  // stdout, and stdin for the rest
  EXPECT_EQ(fds[1].events, POLLOUT);
  std::string received;
  for (int i = 0; i < 100 && received.size() < big.size(); ++i) {
    received += WorkerReads();
    channel_->Flush();
  }
  EXPECT_EQ(received, big);
  fds.clear();
  channel_->AddPollFds(&fds);
  EXPECT_EQ(fds.size(), 1u);  // nothing left to write
}

TEST_F(WorkerChannelTest, SendToAWorkerThatClosedItsStdinFailsWithoutSigpipe) {
  CloseWorkerStdin();  // SIGPIPE has its default action here: it would end the test binary
  EXPECT_FALSE(channel_->Send("{\"id\": 1}\n"));
  EXPECT_FALSE(channel_->stdin_open());
  EXPECT_FALSE(channel_->Send("again\n"));
}

TEST_F(WorkerChannelTest, CloseStdinIsEndOfFileForTheWorker) {
  channel_->CloseStdin();
  EXPECT_FALSE(channel_->stdin_open());
  char c;
  EXPECT_EQ(read(to_worker_, &c, 1), 0);
}

TEST_F(WorkerChannelTest, CutsOutputIntoLines) {
  WorkerWrites("one\ntw");
  EXPECT_EQ(Read(), (Lines{"one"}));
  EXPECT_EQ(Read(), Lines{});
  WorkerWrites("o\n\nthree\nfou");
  EXPECT_EQ(Read(), (Lines{"two", "", "three"}));
  CloseWorkerStdout();
  EXPECT_EQ(Read(), (Lines{"fou"}));  // the last line needs no '\n'
  EXPECT_FALSE(channel_->stdout_open());
  EXPECT_EQ(Read(), Lines{});
}

TEST_F(WorkerChannelTest, AVeryLongLineComesInPieces) {
  std::string piece(WorkerChannel::kMaxLine, 'a');
  std::string line = piece + "tail\n";
  size_t written = 0;
  Lines lines;
  while (written < line.size()) {  // the pipe holds less than a line
    size_t chunk = std::min<size_t>(line.size() - written, 32768);
    ssize_t n = write(from_worker_, line.data() + written, chunk);
    ASSERT_GT(n, 0);
    written += static_cast<size_t>(n);
    channel_->Read(&lines);
  }
  channel_->Read(&lines);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], piece);
  EXPECT_EQ(lines[1], "tail");
}

}  // namespace
}  // namespace headroom

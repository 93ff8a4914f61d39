#include "journal/batch_control.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using test::TempDir;

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

void Overwrite(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

TEST(BatchControlTest, AWrittenRequestReadsBackWhole) {
  TempDir dir;
  ControlRequest request;
  request.seq = 4;
  request.paused = true;
  request.jobs = 7;
  ASSERT_TRUE(BatchControl::Write(dir.path(), 3, request).ok());
  ControlRequest read;
  ASSERT_TRUE(BatchControl::Read(dir.path(), 3, &read).ok());
  EXPECT_EQ(read.seq, 4);
  EXPECT_TRUE(read.paused);
  EXPECT_FALSE(read.draining);
  EXPECT_EQ(read.jobs, 7);
  // Another batch has no request: the default one.
  ASSERT_TRUE(BatchControl::Read(dir.path(), 2, &read).ok());
  EXPECT_EQ(read.seq, 0);
  EXPECT_FALSE(read.jobs.has_value());
}

TEST(BatchControlTest, ADamagedFileIsAnErrorForCtlAndIgnoredByTheBatch) {
  TempDir dir;
  BatchControl control(dir.path(), 1);
  Overwrite(BatchControl::PathIn(dir.path(), 1), "{not json");
  ControlRequest read;
  Status status = BatchControl::Read(dir.path(), 1, &read);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("batch-1.control: not a headroom control file"), std::string::npos)
      << status.message();
  EXPECT_FALSE(control.Poll().has_value());
}

TEST(BatchControlTest, PollSeesEachNewRequestOnceAndAcknowledges) {
  TempDir dir;
  BatchControl control(dir.path(), 5);
  EXPECT_FALSE(control.Poll().has_value());  // no file yet
  ControlRequest request;
  request.seq = 1;
  request.draining = true;
  ASSERT_TRUE(BatchControl::Write(dir.path(), 5, request).ok());
  std::optional<ControlRequest> seen = control.Poll();
  ASSERT_TRUE(seen.has_value());
  EXPECT_TRUE(seen->draining);
  EXPECT_FALSE(control.Poll().has_value()) << "the same request twice";
  EXPECT_EQ(BatchControl::ReadAck(dir.path(), 5), 0);
  control.Acknowledge(*seen);
  EXPECT_EQ(BatchControl::ReadAck(dir.path(), 5), 1);

  // A file rewritten with an older sequence number is not a new request.
  request.seq = 1;
  request.paused = true;
  ASSERT_TRUE(BatchControl::Write(dir.path(), 5, request).ok());
  EXPECT_FALSE(control.Poll().has_value());
  request.seq = 2;
  ASSERT_TRUE(BatchControl::Write(dir.path(), 5, request).ok());
  seen = control.Poll();
  ASSERT_TRUE(seen.has_value());
  EXPECT_TRUE(seen->paused);
}

TEST(BatchControlTest, TheRunningSideStartsCleanAndLeavesNothing) {
  TempDir dir;
  ControlRequest stale;
  stale.seq = 9;
  stale.paused = true;
  ASSERT_TRUE(BatchControl::Write(dir.path(), 1, stale).ok());  // from a killed run
  {
    BatchControl control(dir.path(), 1);
    EXPECT_FALSE(Exists(BatchControl::PathIn(dir.path(), 1))) << "a killed run's request applies";
    ControlRequest request;
    request.seq = 1;
    ASSERT_TRUE(BatchControl::Write(dir.path(), 1, request).ok());
    ASSERT_TRUE(control.Poll().has_value());
    control.Acknowledge(request);
  }
  EXPECT_FALSE(Exists(BatchControl::PathIn(dir.path(), 1)));
  EXPECT_FALSE(Exists(BatchControl::AckPathIn(dir.path(), 1)));
}

TEST(BatchControlTest, SendControlNeedsARunningBatch) {
  TempDir dir;
  std::string message;
  Status status =
      SendControl(dir.path() + "/none", std::nullopt, ControlAction::kPause, 0, Millis(100), &message);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no such file"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace headroom

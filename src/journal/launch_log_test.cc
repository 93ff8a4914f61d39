#include "journal/launch_log.h"
#include "util/test_temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace headroom {
namespace {

AttemptRecord Start(const std::string& key, int attempt) {
  AttemptRecord a;
  a.job_key = key;
  a.attempt = attempt;
  a.slot = 3;
  a.gpu = 1;
  a.start = 1764650000.25;
  a.stdout_log = "logs/" + key + ".out";
  a.stderr_log = "logs/" + key + ".err";
  return a;
}

class LaunchLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = LaunchLog::PathIn(dir_, 7);
  }

  std::vector<AttemptRecord> ReadBack() {
    std::vector<AttemptRecord> out;
    Status status = LaunchLog::Read(path_, &out);
    EXPECT_TRUE(status.ok()) << status.message();
    return out;
  }
  std::string FileText() {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  void WriteText(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }

  test::TempDir temp_;
  const std::string dir_ = temp_.path();
  std::string path_;
};

TEST_F(LaunchLogTest, RecordsRoundTripWithAnyBytesInKeysAndPaths) {
  EXPECT_EQ(path_, dir_ + "/batch-7.launches");
  std::unique_ptr<LaunchLog> log;
  ASSERT_TRUE(LaunchLog::Create(path_, &log).ok());
  // Spaces, newlines, colons, digits and bytes that are not UTF-8.
  AttemptRecord odd = Start("clip 1\n2:3 \xff\x01", 2);
  odd.gpu = -1;
  ASSERT_TRUE(log->Append({Start("a", 1), odd}).ok());
  ASSERT_TRUE(log->Append({Start("b", 4)}).ok());
  std::vector<AttemptRecord> back = ReadBack();
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].job_key, "a");
  EXPECT_EQ(back[0].attempt, 1);
  EXPECT_EQ(back[0].slot, 3);
  EXPECT_EQ(back[0].gpu, 1);
  EXPECT_DOUBLE_EQ(back[0].start, 1764650000.25);
  EXPECT_EQ(back[0].stdout_log, "logs/a.out");
  EXPECT_EQ(back[0].stderr_log, "logs/a.err");
  EXPECT_EQ(back[1].job_key, odd.job_key);
  EXPECT_EQ(back[1].gpu, -1);
  EXPECT_EQ(back[1].stdout_log, odd.stdout_log);
  EXPECT_EQ(back[2].job_key, "b");
  EXPECT_EQ(back[2].attempt, 4);
  EXPECT_EQ(FileText().substr(0, FileText().find('\n') + 1),
            "1 3 1 1764650000.250000 1:a 10:logs/a.out 10:logs/a.err\n");
}

TEST_F(LaunchLogTest, ClearEmptiesAndLaterAppendsStartAtTheTop) {
  std::unique_ptr<LaunchLog> log;
  ASSERT_TRUE(LaunchLog::Create(path_, &log).ok());
  ASSERT_TRUE(log->Append({Start("a", 1)}).ok());
  ASSERT_TRUE(log->Clear().ok());
  EXPECT_TRUE(ReadBack().empty());
  ASSERT_TRUE(log->Append({Start("b", 1)}).ok());
  std::vector<AttemptRecord> back = ReadBack();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].job_key, "b");
  EXPECT_EQ(FileText(), LaunchRecord(Start("b", 1)));
}

TEST_F(LaunchLogTest, CreateEmptiesALeftoverAndRemoveDeletes) {
  WriteText(LaunchRecord(Start("old", 1)));
  std::unique_ptr<LaunchLog> log;
  ASSERT_TRUE(LaunchLog::Create(path_, &log).ok());
  EXPECT_TRUE(ReadBack().empty());
  ASSERT_TRUE(log->Remove().ok());
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_TRUE(ReadBack().empty()) << "a missing file holds no starts";
  EXPECT_FALSE(log->Append({Start("a", 1)}).ok());
}

TEST_F(LaunchLogTest, ARecordCutShortAtTheEndIsIgnored) {
  std::string whole = LaunchRecord(Start("a", 1));
  std::string next = LaunchRecord(Start("b", 1));
  for (size_t cut = 0; cut < next.size(); ++cut) {
    WriteText(whole + next.substr(0, cut));
    std::vector<AttemptRecord> back = ReadBack();
    ASSERT_EQ(back.size(), 1u) << "cut at " << cut;
    EXPECT_EQ(back[0].job_key, "a");
  }
}

TEST_F(LaunchLogTest, AMalformedRecordIsAnErrorNamingTheFileAndOffset) {
  std::string whole = LaunchRecord(Start("a", 1));
  WriteText(whole + "x 1 1 2.0 1:b 1:o 1:e\n");
  std::vector<AttemptRecord> out;
  Status status = LaunchLog::Read(path_, &out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "launch log " + path_ + ": malformed record at byte " + std::to_string(whole.size()) +
                " (expected \"<attempt> <slot> <gpu> <start> <n>:<key> <n>:<stdout> "
                "<n>:<stderr>\"); removing the file loses only the record of those starts");
  WriteText("1 1 1 2.0 1:b 1:o 1:eX");  // no newline where one must be
  EXPECT_FALSE(LaunchLog::Read(path_, &out).ok());
}

TEST_F(LaunchLogTest, CreateInAMissingDirectoryIsAnError) {
  std::unique_ptr<LaunchLog> log;
  Status status = LaunchLog::Create(dir_ + "/no/such/batch-1.launches", &log);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "launch log " + dir_ +
                                  "/no/such/batch-1.launches: cannot create it: No such file or "
                                  "directory");
}

}  // namespace
}  // namespace headroom

#include "exec/log_dir.h"
#include "util/test_temp_dir.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace headroom {
namespace {

namespace fs = std::filesystem;

class LogDirTest : public ::testing::Test {
 protected:
  void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void SetAge(const std::string& path, int64_t seconds_ago) {
    timespec times[2];
    times[0].tv_sec = time(nullptr) - seconds_ago;
    times[0].tv_nsec = 0;
    times[1] = times[0];
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
  }

  test::TempDir temp_;
  const std::string dir_ = temp_.path();
};

Job MakeJob(int64_t number, std::string name) {
  Job job;
  job.number = number;
  job.name = std::move(name);
  return job;
}

TEST_F(LogDirTest, PathsFollowTheStamp) {
  LogDir logs(dir_, "20261122_085501");
  Job job = MakeJob(3, "clip.mp4");
  EXPECT_EQ(logs.StdoutPath(job, 1), dir_ + "/jobs_20261122_085501/3_clip.mp4.out");
  EXPECT_EQ(logs.StderrPath(job, 1), dir_ + "/jobs_20261122_085501/3_clip.mp4.err");
  EXPECT_EQ(logs.StderrPath(job, 2), dir_ + "/jobs_20261122_085501/3_clip.mp4.2.err");
  EXPECT_EQ(logs.MainLogPath(), dir_ + "/processing_20261122_085501.log");
  EXPECT_EQ(logs.ErrorLogPath(), dir_ + "/errors_20261122.log");
}

TEST_F(LogDirTest, HostileNamesBecomeSafe) {
  LogDir logs("/l", "20261122_085501");
  EXPECT_EQ(logs.StdoutPath(MakeJob(1, "../../etc/passwd"), 1),
            "/l/jobs_20261122_085501/1_.._.._etc_passwd.out");
  EXPECT_EQ(logs.StdoutPath(MakeJob(2, "a b;$(rm -rf)\n\xc3\xa9"), 1),
            "/l/jobs_20261122_085501/2_a_b___rm_-rf____.out");
  EXPECT_EQ(logs.StdoutPath(MakeJob(3, ""), 1), "/l/jobs_20261122_085501/3_job.out");
}

TEST_F(LogDirTest, LongNamesAreCut) {
  LogDir logs("/l", "20261122_085501");
  std::string path = logs.StdoutPath(MakeJob(12, std::string(300, 'x')), 1);
  EXPECT_EQ(fs::path(path).filename().string(), "12_" + std::string(80, 'x') + ".out");
}

TEST_F(LogDirTest, CreateMakesNestedFolders) {
  LogDir logs(dir_ + "/a/b", "20261122_085501");
  ASSERT_TRUE(logs.Create().ok());
  EXPECT_TRUE(fs::is_directory(dir_ + "/a/b/jobs_20261122_085501"));
}

TEST_F(LogDirTest, ASecondBatchInTheSameSecondGetsItsOwnFolder) {
  LogDir first(dir_, "20261122_085501");
  LogDir second(dir_, "20261122_085501");
  ASSERT_TRUE(first.Create().ok());
  ASSERT_TRUE(second.Create().ok());
  EXPECT_TRUE(fs::is_directory(dir_ + "/jobs_20261122_085501_2"));
  EXPECT_EQ(second.MainLogPath(), dir_ + "/processing_20261122_085501_2.log");
  EXPECT_NE(first.StdoutPath(MakeJob(1, "a"), 1), second.StdoutPath(MakeJob(1, "a"), 1));
  EXPECT_EQ(second.ErrorLogPath(), first.ErrorLogPath());  // one error log a day
}

TEST_F(LogDirTest, CreateErrorNamesThePath) {
  Write(dir_ + "/file", "x");
  Status status = LogDir(dir_ + "/file", "20261122_085501").Create();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(dir_ + "/file"), std::string::npos)
      << status.message();
}

TEST_F(LogDirTest, RemoveOldLogsRemovesOnlyOldLogEntries) {
  const int64_t kOld = 15 * 86400;
  for (const char* name : {"processing_20260101_000000.log", "errors_20260101.log", "notes.txt",
                           "processing_x.txt", "errors_old.log.bak"}) {
    Write(dir_ + "/" + name, "x");
    SetAge(dir_ + "/" + name, kOld);
  }
  fs::create_directories(dir_ + "/jobs_20260101_000000/sub");
  Write(dir_ + "/jobs_20260101_000000/sub/1_a.out", "x");
  SetAge(dir_ + "/jobs_20260101_000000", kOld);
  fs::create_directory(dir_ + "/other_dir");
  SetAge(dir_ + "/other_dir", kOld);
  Write(dir_ + "/processing_20260301_000000.log", "fresh");
  fs::create_directory(dir_ + "/jobs_20260301_000000");

  EXPECT_EQ(RemoveOldLogs(dir_, 14), 3);
  EXPECT_FALSE(fs::exists(dir_ + "/processing_20260101_000000.log"));
  EXPECT_FALSE(fs::exists(dir_ + "/errors_20260101.log"));
  EXPECT_FALSE(fs::exists(dir_ + "/jobs_20260101_000000"));
  EXPECT_TRUE(fs::exists(dir_ + "/notes.txt"));
  EXPECT_TRUE(fs::exists(dir_ + "/processing_x.txt"));
  EXPECT_TRUE(fs::exists(dir_ + "/errors_old.log.bak"));
  EXPECT_TRUE(fs::exists(dir_ + "/other_dir"));
  EXPECT_TRUE(fs::exists(dir_ + "/processing_20260301_000000.log"));
  EXPECT_TRUE(fs::exists(dir_ + "/jobs_20260301_000000"));
}

TEST_F(LogDirTest, RemoveOldLogsRespectsTheDays) {
  Write(dir_ + "/errors_a.log", "x");
  SetAge(dir_ + "/errors_a.log", 3 * 86400);
  EXPECT_EQ(RemoveOldLogs(dir_, 4), 0);
  EXPECT_EQ(RemoveOldLogs(dir_, 2), 1);
  EXPECT_EQ(RemoveOldLogs(dir_ + "/missing", 1), 0);
}

TEST_F(LogDirTest, RemoveOldLogsDoesNotFollowSymlinks) {
  fs::create_directory(dir_ + "/keep");
  Write(dir_ + "/keep/precious", "x");
  fs::create_directory_symlink(dir_ + "/keep", dir_ + "/jobs_link");
  SetAge(dir_ + "/jobs_link", 30 * 86400);
  RemoveOldLogs(dir_, 14);
  EXPECT_TRUE(fs::exists(dir_ + "/keep/precious"));
}

TEST_F(LogDirTest, TrimToTailKeepsWholeLinesOfTheTail) {
  std::string path = dir_ + "/job.err";
  std::string text;
  for (int i = 0; i < 100; ++i) text += "line " + std::to_string(i) + "\n";
  Write(path, text);
  ASSERT_TRUE(TrimToTail(path, 30).ok());
  std::string kept = Read(path);
  EXPECT_LE(kept.size(), 30u);
  EXPECT_EQ(kept, "line 97\nline 98\nline 99\n");
  EXPECT_EQ(fs::directory_iterator(dir_)->path(), path);  // no temp file left
}

TEST_F(LogDirTest, TrimToTailCutsMidLineWithoutNewline) {
  std::string path = dir_ + "/job.out";
  Write(path, std::string(10000, 'a') + "0123456789");
  ASSERT_TRUE(TrimToTail(path, 10).ok());
  EXPECT_EQ(Read(path), "0123456789");
}

TEST_F(LogDirTest, TrimToTailLeavesSmallAndMissingFilesAlone) {
  std::string path = dir_ + "/small";
  Write(path, "abc\n");
  ASSERT_TRUE(TrimToTail(path, 4).ok());
  EXPECT_EQ(Read(path), "abc\n");
  EXPECT_TRUE(TrimToTail(dir_ + "/missing", 4).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/missing"));
}

TEST_F(LogDirTest, TrimToTailHandlesLargeFiles) {
  std::string path = dir_ + "/big";
  std::string text;
  for (int i = 0; i < 50000; ++i) text += std::to_string(i) + "\n";
  Write(path, text);
  ASSERT_TRUE(TrimToTail(path, 100000).ok());
  std::string kept = Read(path);
  EXPECT_LE(kept.size(), 100000u);
  EXPECT_GT(kept.size(), 99990u);
  EXPECT_EQ(text.substr(text.size() - kept.size()), kept);
  EXPECT_EQ(text[text.size() - kept.size() - 1], '\n');
}

TEST_F(LogDirTest, ReadTailLinesReturnsTheLastLines) {
  std::string path = dir_ + "/err";
  Write(path, "one\ntwo\nthree\nfour\n\n");
  EXPECT_EQ(ReadTailLines(path, 2), (std::vector<std::string>{"three", "four"}));
  EXPECT_EQ(ReadTailLines(path, 10), (std::vector<std::string>{"one", "two", "three", "four"}));
  Write(path, "no newline at end");
  EXPECT_EQ(ReadTailLines(path, 3), std::vector<std::string>{"no newline at end"});
  EXPECT_TRUE(ReadTailLines(dir_ + "/missing", 3).empty());
  EXPECT_TRUE(ReadTailLines(path, 0).empty());
}

TEST_F(LogDirTest, ReadTailLinesReadsOnlyTheEndOfBigFiles) {
  std::string path = dir_ + "/err";
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "line " + std::to_string(i) + "\n";
  Write(path, text);
  std::vector<std::string> lines = ReadTailLines(path, 100000);
  ASSERT_FALSE(lines.empty());
  EXPECT_LT(lines.size(), 100000u);
  EXPECT_EQ(lines.back(), "line 99999");
  EXPECT_EQ(lines.front().rfind("line ", 0), 0u);  // a whole line, not a cut one
}

TEST(TimeStampTest, FormatsLocalTime) {
  const char* old_tz = getenv("TZ");
  std::string saved = old_tz ? old_tz : "";
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(TimeStamp(0), "19700101_000000");
  EXPECT_EQ(TimeStamp(1795337701), "20261122_085501");
  setenv("TZ", "Asia/Tokyo", 1);  // +09:00, no daylight saving
  tzset();
  EXPECT_EQ(TimeStamp(0), "19700101_090000");
  if (old_tz) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

}  // namespace
}  // namespace headroom

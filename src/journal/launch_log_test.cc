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

  std::vector<AttemptRecord> ReadBack() { return ReadAll().starts; }
  LaunchRecords ReadAll() {
    LaunchRecords out;
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

LaunchEnd EndOf(const std::string& key, int attempt, JobState state) {
  LaunchEnd end;
  end.attempt.job_key = key;
  end.attempt.attempt = attempt;
  end.attempt.end = 1764650001.5;
  end.attempt.exit_code = state == JobState::kSucceeded ? 0 : 3;
  end.attempt.outcome = state == JobState::kSucceeded ? "succeeded" : "failed";
  end.attempt.wall_seconds = 1.25;
  end.state = state;
  return end;
}

// Ends follow starts in the same file: an attempt's end durable before its
// output is renamed into place.
TEST_F(LaunchLogTest, EndRecordsRoundTripBesideStarts) {
  std::unique_ptr<LaunchLog> log;
  ASSERT_TRUE(LaunchLog::Create(path_, &log).ok());
  ASSERT_TRUE(log->Append({Start("a", 1), Start("end b", 1)}).ok());
  LaunchEnd killed = EndOf("end b\n", 1, JobState::kQueued);
  killed.attempt.exit_code.reset();
  killed.attempt.signal = 9;
  killed.attempt.oom = true;
  ASSERT_TRUE(log->AppendEnds({EndOf("a", 1, JobState::kSucceeded), killed}).ok());
  LaunchRecords back = ReadAll();
  ASSERT_EQ(back.starts.size(), 2u);
  EXPECT_EQ(back.starts[1].job_key, "end b");
  ASSERT_EQ(back.ends.size(), 2u);
  const AttemptRecord& a = back.ends[0].attempt;
  EXPECT_EQ(a.job_key, "a");
  EXPECT_EQ(a.attempt, 1);
  EXPECT_DOUBLE_EQ(*a.end, 1764650001.5);
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.signal, std::nullopt);
  EXPECT_EQ(a.outcome, "succeeded");
  EXPECT_FALSE(a.oom);
  EXPECT_DOUBLE_EQ(a.wall_seconds, 1.25);
  EXPECT_EQ(back.ends[0].state, JobState::kSucceeded);
  const AttemptRecord& b = back.ends[1].attempt;
  EXPECT_EQ(b.job_key, "end b\n");
  EXPECT_EQ(b.exit_code, std::nullopt);
  EXPECT_EQ(b.signal, 9);
  EXPECT_TRUE(b.oom);
  EXPECT_EQ(back.ends[1].state, JobState::kQueued);
  EXPECT_EQ(LaunchEndRecord(EndOf("a", 1, JobState::kSucceeded)),
            "end 1 1764650001.500000 0 -1 0 1.250000 1:a 9:succeeded 9:succeeded\n");
}

TEST_F(LaunchLogTest, AnEndRecordCutShortAtTheEndIsIgnored) {
  std::string whole = LaunchRecord(Start("a", 1));
  std::string next = LaunchEndRecord(EndOf("a", 1, JobState::kSucceeded));
  for (size_t cut = 0; cut < next.size(); ++cut) {
    WriteText(whole + next.substr(0, cut));
    LaunchRecords back = ReadAll();
    ASSERT_EQ(back.starts.size(), 1u) << "cut at " << cut;
    EXPECT_TRUE(back.ends.empty()) << "cut at " << cut;
  }
  WriteText(whole + "end 1 2.0 0 -1 0 1.0 1:a 9:succeeded 4:done\n");  // no such state
  LaunchRecords out;
  EXPECT_FALSE(LaunchLog::Read(path_, &out).ok());
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
  LaunchRecords out;
  Status status = LaunchLog::Read(path_, &out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "launch log " + path_ + ": malformed record at byte " + std::to_string(whole.size()) +
                " (expected \"<attempt> <slot> <gpu> <start> <n>:<key> <n>:<stdout> "
                "<n>:<stderr>\" or \"end ...\"); removing the file loses only the record of "
                "those starts and ends");
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

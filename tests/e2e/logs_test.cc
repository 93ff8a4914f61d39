// Log files: per-job stdout/stderr under --log-dir, --max-job-log keeping the
// tail, the main log and the daily error log, --log-format json,
// --log-retention-days and --log-level.
#include <ctime>
#include <nlohmann/json.hpp>
#include <regex>

#include "harness.h"

namespace headroom::e2e {
namespace {

class LogsTest : public E2eTest {
 protected:
  std::string Job() {
    return Script("job.sh",
                  "echo \"OUT-$1\"\n"
                  "echo \"ERR-$1\" >&2\n"
                  "case \"$1\" in fail*) exit 1;; esac\n");
  }
  std::string MainLog() {
    std::vector<std::string> logs = LogFiles("processing_");
    EXPECT_EQ(logs.size(), 1u);
    return logs.empty() ? "" : logs[0];
  }
};

TEST_F(LogsTest, EachJobHasItsOwnStdoutAndStderrFiles) {
  std::string job = Job();
  WriteFile(Path("jobs.jsonl"),
            "{\"input\": \"a\"}\n"
            "{\"input\": \"b\"}\n"
            "{\"input\": \"c\", \"name\": \"my job/#1\"}\n");
  RunResult r = Hr({"run", "-j2", "--jobs-file", Path("jobs.jsonl"), "--", job});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string jobs = JobsLogDir();
  ASSERT_FALSE(jobs.empty());
  EXPECT_TRUE(std::regex_match(jobs.substr(jobs.rfind('/') + 1), std::regex(R"(jobs_\d{8}_\d{6}(_\d+)?)")))
      << jobs;
  EXPECT_EQ(ReadFile(jobs + "/1_a.out"), "OUT-a\n");
  EXPECT_EQ(ReadFile(jobs + "/1_a.err"), "ERR-a\n");
  EXPECT_EQ(ReadFile(jobs + "/2_b.out"), "OUT-b\n");
  EXPECT_EQ(ReadFile(jobs + "/2_b.err"), "ERR-b\n");
  // Unsafe characters of a name become '_'.
  EXPECT_EQ(ReadFile(jobs + "/3_my_job__1.out"), "OUT-c\n")
      << ::testing::PrintToString(ListDir(jobs));
}

TEST_F(LogsTest, DefaultLogDirIsUnderTheWorkingDirectory) {
  std::string job = Job();
  RunResult r = e2e::Run({"run", "--", job, ":::", "a"}, Opts());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> files = ListDir(Path(".headroom/logs"));
  int processing = 0, jobs = 0;
  for (const std::string& f : files) {
    processing += StartsWith(f, "processing_");
    jobs += StartsWith(f, "jobs_");
  }
  EXPECT_EQ(processing, 1) << ::testing::PrintToString(files);
  EXPECT_EQ(jobs, 1) << ::testing::PrintToString(files);
}

TEST_F(LogsTest, FailedLineNamesTheJobsStderrLog) {
  std::string job = Job();
  RunResult r = Hr({"run", "--", job, ":::", "fail1"});
  EXPECT_EQ(r.exit_code, 1);
  std::vector<std::string> failed = Grep(r.err, "FAILED: fail1");
  ASSERT_EQ(failed.size(), 1u) << r.out;
  std::string path = failed[0].substr(failed[0].find(" log: ") + 6);
  EXPECT_EQ(path, JobsLogDir() + "/1_fail1.err");
  EXPECT_EQ(ReadFile(path), "ERR-fail1\n");
}

TEST_F(LogsTest, TwoRunsInOneSecondKeepEachOthersJobLogs) {
  // Back-to-back runs usually start within the same second; the first run's
  // "log: PATH" must still show the first run's stderr afterwards.
  std::string job = Script("job.sh", "echo \"stderr of $RUN_TAG\" >&2\nexit 1\n");
  RunOptions first = Opts();
  first.env = {"RUN_TAG=first"};
  RunOptions second = Opts();
  second.env = {"RUN_TAG=second"};
  RunResult r1 = Hr({"run", "--", job, ":::", "a"}, first);
  RunResult r2 = Hr({"run", "--", job, ":::", "a"}, second);
  std::vector<std::string> failed = Grep(r1.err, "FAILED: a");
  ASSERT_EQ(failed.size(), 1u) << r1.out;
  std::string path = failed[0].substr(failed[0].find(" log: ") + 6);
  EXPECT_EQ(ReadFile(path), "stderr of first\n") << path << " was overwritten by a later run";
  EXPECT_EQ(r2.exit_code, 1);
}

TEST_F(LogsTest, MaxJobLogKeepsTheTail) {
  std::string job = Script("noisy.sh",
                           "seq -w 1 3000 | sed 's/^/line-/'\n"
                           "seq -w 1 3000 | sed 's/^/err-/' >&2\n");
  RunResult r = Hr({"run", "--max-job-log", "1K", "--", job, ":::", "a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string jobs = JobsLogDir();
  std::string out = ReadFile(jobs + "/1_a.out");
  std::string err = ReadFile(jobs + "/1_a.err");
  EXPECT_LE(out.size(), 1024u);
  EXPECT_GE(out.size(), 512u);
  EXPECT_TRUE(out.size() >= 10 && out.substr(out.size() - 10) == "line-3000\n") << out;
  EXPECT_FALSE(Contains(out, "line-0001"));
  EXPECT_LE(err.size(), 1024u);
  EXPECT_TRUE(Contains(err, "err-3000\n"));
  EXPECT_FALSE(Contains(err, "err-0001"));
}

TEST_F(LogsTest, MainLogMentionsEachJobsStartAndEnd) {
  std::string job = Job();
  RunResult r = Hr({"run", "-j1", "--", job, ":::", "alpha", "fail-beta"});
  EXPECT_EQ(r.exit_code, 1);
  std::string path = MainLog();
  EXPECT_TRUE(std::regex_match(path.substr(path.rfind('/') + 1),
                               std::regex(R"(processing_\d{8}_\d{6}(_\d+)?\.log)")))
      << path;
  std::string log = ReadFile(path);
  EXPECT_GE(CountOccurrences(log, "alpha"), 2) << log;
  EXPECT_GE(CountOccurrences(log, "fail-beta"), 2) << log;
  EXPECT_TRUE(Contains(log, "exit 1") || Contains(log, "FAIL") || Contains(log, "fail")) << log;
}

TEST_F(LogsTest, ErrorLogHasTheTailOfAFailedJobsStderr) {
  std::string job = Script("job.sh",
                           "echo \"OUT-$1\"\n"
                           "case \"$1\" in\n"
                           "  bad) seq -w 1 500 | sed 's/^/errline-/' >&2; exit 4;;\n"
                           "  *) echo \"fine-stderr-$1\" >&2;;\n"
                           "esac\n");
  RunResult r = Hr({"run", "-j1", "--", job, ":::", "good", "bad"});
  EXPECT_EQ(r.exit_code, 1);
  std::vector<std::string> logs = LogFiles("errors_");
  ASSERT_EQ(logs.size(), 1u) << ::testing::PrintToString(ListDir(LogDir()));
  char today[16];
  std::time_t now = std::time(nullptr);
  std::strftime(today, sizeof today, "%Y%m%d", std::localtime(&now));
  EXPECT_EQ(logs[0], LogDir() + "/errors_" + today + ".log");
  std::string log = ReadFile(logs[0]);
  EXPECT_TRUE(Contains(log, "bad")) << log;
  EXPECT_TRUE(Contains(log, "errline-500")) << log;
  EXPECT_TRUE(Contains(log, "errline-499")) << log;
  EXPECT_FALSE(Contains(log, "errline-001")) << "not only the last lines";
  EXPECT_FALSE(Contains(log, "fine-stderr-good")) << "a successful job in the error log";
}

TEST_F(LogsTest, ErrorLogIsAppendedAcrossRunsOfTheDay) {
  std::string job = Job();
  RunResult r1 = Hr({"run", "--", job, ":::", "fail-one"});
  RunResult r2 = Hr({"run", "--", job, ":::", "fail-two"});
  EXPECT_EQ(r1.exit_code, 1);
  EXPECT_EQ(r2.exit_code, 1);
  std::vector<std::string> logs = LogFiles("errors_");
  ASSERT_EQ(logs.size(), 1u);
  std::string log = ReadFile(logs[0]);
  EXPECT_TRUE(Contains(log, "fail-one")) << log;
  EXPECT_TRUE(Contains(log, "fail-two")) << log;
}

TEST_F(LogsTest, JsonLogFormatWritesOneObjectPerLine) {
  std::string job = Job();
  RunResult r = Hr({"run", "-j1", "--log-format", "json", "--", job, ":::", "a", "fail-b"});
  EXPECT_EQ(r.exit_code, 1);
  std::string log = ReadFile(MainLog());
  std::vector<std::string> lines = SplitLines(log);
  ASSERT_GE(lines.size(), 4u) << log;  // batch start, 2 job starts, 2 job ends, ...
  int mentions_a = 0;
  for (const std::string& line : lines) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(j.contains("event")) << line;
    mentions_a += Contains(line, "\"a\"");
  }
  EXPECT_GE(mentions_a, 2) << log;
  for (const std::string& path : LogFiles("errors_")) {
    for (const std::string& line : SplitLines(ReadFile(path))) {
      EXPECT_TRUE(nlohmann::json::accept(line)) << "error log line not JSON: " << line;
    }
  }
}

TEST_F(LogsTest, RetentionRemovesOldLogs) {
  MakeDirs(LogDir() + "/jobs_20000101_000000");
  WriteFile(LogDir() + "/jobs_20000101_000000/1_x.out", "old");
  WriteFile(LogDir() + "/processing_20000101_000000.log", "old");
  WriteFile(LogDir() + "/errors_20000101.log", "old");
  WriteFile(LogDir() + "/processing_20000102_000000.log", "recent");
  WriteFile(LogDir() + "/unrelated.txt", "not ours");
  double old_time = WallNow() - 3 * 86400;
  SetMtime(LogDir() + "/jobs_20000101_000000/1_x.out", old_time);
  SetMtime(LogDir() + "/jobs_20000101_000000", old_time);
  SetMtime(LogDir() + "/processing_20000101_000000.log", old_time);
  SetMtime(LogDir() + "/errors_20000101.log", old_time);
  SetMtime(LogDir() + "/unrelated.txt", old_time);
  std::string job = Job();

  RunResult keep = Hr({"run", "--", job, ":::", "a"});  // default: 14 days
  ASSERT_EQ(keep.exit_code, 0) << keep.err;
  EXPECT_TRUE(FileExists(LogDir() + "/processing_20000101_000000.log"));

  RunResult r = Hr({"run", "--log-retention-days", "2", "--", job, ":::", "a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(FileExists(LogDir() + "/processing_20000101_000000.log"));
  EXPECT_FALSE(FileExists(LogDir() + "/errors_20000101.log"));
  EXPECT_FALSE(FileExists(LogDir() + "/jobs_20000101_000000"));
  EXPECT_TRUE(FileExists(LogDir() + "/processing_20000102_000000.log"));
  EXPECT_TRUE(FileExists(LogDir() + "/unrelated.txt")) << "removed a file it did not write";
}

TEST_F(LogsTest, LogLevelErrorLogsLessThanInfo) {
  std::string job = Job();
  RunResult info = Hr({"run", "--log-dir", Path("info"), "--", job, ":::", "a", "b"});
  RunResult error =
      Hr({"run", "--log-dir", Path("error"), "--log-level", "error", "--", job, ":::", "a", "b"});
  RunResult debug =
      Hr({"run", "--log-dir", Path("debug"), "--log-level", "debug", "--", job, ":::", "a", "b"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  ASSERT_EQ(error.exit_code, 0) << error.err;
  ASSERT_EQ(debug.exit_code, 0) << debug.err;
  auto main_log_lines = [&](const std::string& dir) {
    for (const std::string& f : ListDir(dir)) {
      if (StartsWith(f, "processing_")) return SplitLines(ReadFile(dir + "/" + f)).size();
    }
    ADD_FAILURE() << "no main log in " << dir;
    return size_t{0};
  };
  EXPECT_LT(main_log_lines(Path("error")), main_log_lines(Path("info")));
  EXPECT_GE(main_log_lines(Path("debug")), main_log_lines(Path("info")));
}

}  // namespace
}  // namespace headroom::e2e

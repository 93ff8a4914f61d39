#include "report/event_log.h"
#include "util/test_temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

namespace headroom {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_dir_ = std::make_unique<LogDir>(dir_, "20261122_085501");
    ASSERT_TRUE(log_dir_->Create().ok());
    config_.command = "upscale --in {}";
    config_.source = "arguments";
  }

  std::unique_ptr<EventLog> Open() {
    auto log = std::make_unique<EventLog>(config_, *log_dir_);
    EXPECT_TRUE(log->Open().ok());
    return log;
  }

  Job MakeJob(int64_t number, const std::string& name) {
    Job job;
    job.number = number;
    job.name = name;
    job.input = "/in/" + name;
    return job;
  }

  // An ended attempt whose logs exist, the stderr one with `stderr_lines`.
  AttemptEnd MakeEnd(const Job& job, Outcome outcome, int stderr_lines = 0) {
    AttemptEnd end;
    end.outcome = outcome;
    end.slot = 1;
    end.wall_seconds = 12.3;
    end.exit.exit_code = outcome == Outcome::kSucceeded ? 0 : 1;
    end.exit.cpu_seconds = 1.5;
    end.exit.max_rss_kb = 2048;
    end.stdout_log = log_dir_->StdoutPath(job, 1);
    end.stderr_log = log_dir_->StderrPath(job, 1);
    std::ofstream(end.stdout_log) << "out\n";
    std::ofstream err(end.stderr_log);
    for (int i = 1; i <= stderr_lines; ++i) err << "err line " << i << "\n";
    return end;
  }

  std::string MainLog() { return Read(log_dir_->MainLogPath()); }
  std::string ErrorLog() { return Read(log_dir_->ErrorLogPath()); }

  test::TempDir temp_;
  const std::string dir_ = temp_.path();
  std::unique_ptr<LogDir> log_dir_;
  EventLogConfig config_;
};

TEST_F(EventLogTest, OpenErrorNamesThePath) {
  LogDir missing(dir_ + "/no/such/dir", "20261122_085501");
  EventLog log(config_, missing);
  Status status = log.Open();
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(Contains(status.message(), missing.MainLogPath())) << status.message();
}

TEST_F(EventLogTest, TextLinesForABatch) {
  auto log = Open();
  Counts counts;
  counts.total = 2;
  log->OnBatchStart(counts, kT0);
  Job job = MakeJob(3, "clip one.mp4");
  AttemptStart start;
  start.slot = 2;
  start.started.argv = {"upscale", "--in", "/in/clip one.mp4"};
  log->OnJobStart(job, start, counts);
  log->OnJobEnd(job, MakeEnd(job, Outcome::kSucceeded), counts);
  log->OnJobSkipped(MakeJob(4, "done.mp4"), counts);
  counts.succeeded = 1;
  counts.skipped = 1;
  log->OnBatchEnd(counts, kT0 + milliseconds(12500));

  std::vector<std::string> lines = Lines(MainLog());
  ASSERT_EQ(lines.size(), 5u) << MainLog();
  std::regex stamp(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO  )");
  for (const std::string& line : lines) EXPECT_TRUE(std::regex_search(line, stamp)) << line;
  EXPECT_EQ(lines[0].substr(24),
            "INFO  batch_start command=\"upscale --in {}\" source=arguments total=2");
  EXPECT_EQ(lines[1].substr(24),
            "INFO  job_start #3 name=\"clip one.mp4\" input=\"/in/clip one.mp4\" slot=2 attempt=1");
  EXPECT_EQ(lines[2].substr(24),
            "INFO  job_end #3 name=\"clip one.mp4\" attempt=1 slot=1 outcome=SUCCESS exit=0 "
            "wall=12.300s cpu=1.500s max_rss_kb=2048 stdout=" +
                log_dir_->StdoutPath(job, 1) + " stderr=" + log_dir_->StderrPath(job, 1));
  EXPECT_EQ(lines[3].substr(24), "INFO  job_skipped #4 name=done.mp4 input=/in/done.mp4");
  EXPECT_EQ(lines[4].substr(24, 15), "INFO  batch_end");
}

TEST_F(EventLogTest, TextValuesStayOnOneLine) {
  auto log = Open();
  log->OnNotice(LogLevel::kWarn, "bad \"name\"\nwith\\newline");
  std::vector<std::string> lines = Lines(MainLog());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].substr(24), R"(WARN  notice message="bad \"name\"\nwith\\newline")");
}

TEST_F(EventLogTest, BatchEndCarriesCountsAndWall) {
  auto log = Open();
  Counts counts;
  counts.total = 10;
  log->OnBatchStart(counts, kT0);
  counts.succeeded = 8;
  counts.failed = 1;
  counts.skipped = 1;
  counts.retries = 2;
  log->OnBatchEnd(counts, kT0 + milliseconds(12500));
  std::vector<std::string> lines = Lines(MainLog());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].substr(24),
            "INFO  batch_end total=10 succeeded=8 failed=1 skipped=1 interrupted=0 retries=2 "
            "not_started=0 oom_retries=0 wall=12.500s");
}

TEST_F(EventLogTest, JsonLinesParse) {
  config_.format = LogFormat::kJson;
  auto log = Open();
  Counts counts;
  counts.total = 1;
  log->OnBatchStart(counts, kT0);
  Job job = MakeJob(1, std::string("bad\xff\xfe utf8"));
  AttemptStart start;
  start.started.argv = {"true"};
  log->OnJobStart(job, start, counts);
  AttemptEnd end = MakeEnd(job, Outcome::kFailed);
  end.exit.exit_code = -1;
  end.exit.signal = SIGKILL;
  log->OnJobEnd(job, end, counts);
  log->OnBatchEnd(counts, kT0 + milliseconds(100));

  std::vector<std::string> lines = Lines(MainLog());
  ASSERT_EQ(lines.size(), 4u);
  std::vector<nlohmann::json> events;
  for (const std::string& line : lines) {
    nlohmann::json event = nlohmann::json::parse(line);  // throws on bad JSON
    EXPECT_TRUE(
        std::regex_match(event["ts"].get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d)")))
        << event["ts"];
    events.push_back(event);
  }
  EXPECT_EQ(events[0]["event"], "batch_start");
  EXPECT_EQ(events[0]["command"], "upscale --in {}");
  EXPECT_EQ(events[0]["total"], 1);
  EXPECT_EQ(events[1]["event"], "job_start");
  EXPECT_FALSE(events[1].contains("argv"));
  const nlohmann::json& job_end = events[2];
  EXPECT_EQ(job_end["event"], "job_end");
  EXPECT_EQ(job_end["level"], "error");
  EXPECT_EQ(job_end["number"], 1);
  EXPECT_EQ(job_end["outcome"], "FAILED");
  EXPECT_EQ(job_end["signal"], "SIGKILL");
  EXPECT_FALSE(job_end.contains("exit"));
  EXPECT_DOUBLE_EQ(job_end["wall_s"].get<double>(), 12.3);
  EXPECT_EQ(job_end["max_rss_kb"], 2048);
  EXPECT_EQ(job_end["stderr"], end.stderr_log);
  EXPECT_EQ(events[3]["event"], "batch_end");
}

TEST_F(EventLogTest, LevelFiltersEvents) {
  config_.level = LogLevel::kWarn;
  auto log = Open();
  Counts counts;
  Job ok = MakeJob(1, "ok");
  Job bad = MakeJob(2, "bad");
  log->OnJobStart(ok, AttemptStart{}, counts);
  log->OnJobEnd(ok, MakeEnd(ok, Outcome::kSucceeded), counts);
  log->OnJobEnd(bad, MakeEnd(bad, Outcome::kTimedOut), counts);
  log->OnBatchEnd(counts, kT0);
  std::vector<std::string> lines = Lines(MainLog());
  ASSERT_EQ(lines.size(), 1u) << MainLog();
  EXPECT_TRUE(Contains(lines[0], "ERROR job_end #2 name=bad")) << lines[0];
  EXPECT_TRUE(Contains(lines[0], "outcome=TIMEOUT")) << lines[0];
}

TEST_F(EventLogTest, DebugLevelLogsEachCommand) {
  config_.level = LogLevel::kDebug;
  auto log = Open();
  AttemptStart start;
  start.started.argv = {"upscale", "--in", "it's.mp4"};
  log->OnJobStart(MakeJob(1, "it's.mp4"), start, Counts{});
  log->OnBatchEnd(Counts{}, kT0);
  EXPECT_TRUE(Contains(MainLog(), R"( argv="upscale --in 'it'\\''s.mp4'")")) << MainLog();
}

TEST_F(EventLogTest, SuccessLinesAreBufferedAndFlushedOnTicks) {
  auto log = Open();
  Counts counts;
  log->OnBatchStart(counts, kT0);
  size_t after_start = MainLog().size();
  EXPECT_GT(after_start, 0u);
  Job job = MakeJob(1, "a");
  log->OnJobStart(job, AttemptStart{}, counts);
  log->OnJobEnd(job, MakeEnd(job, Outcome::kSucceeded), counts);
  log->OnTick(counts, kT0 + milliseconds(500), "");
  EXPECT_EQ(MainLog().size(), after_start);
  log->OnTick(counts, kT0 + milliseconds(1000), "");
  EXPECT_TRUE(Contains(MainLog(), "job_end #1"));
}

TEST_F(EventLogTest, AHeldQueueIsLoggedOnceAMinuteWhileItLasts) {
  auto log = Open();
  Counts counts;
  log->OnBatchStart(counts, kT0);
  const std::string others = "gpu0: 21.6 of 24.0 GiB used by other processes (pid 4242)";
  log->OnTick(counts, kT0, "slots");  // the slots are not a hold worth a line
  log->OnTick(counts, kT0 + std::chrono::seconds(90), "slots");
  log->OnTick(counts, kT0 + std::chrono::seconds(100), others);
  log->OnTick(counts, kT0 + std::chrono::seconds(159), others);
  EXPECT_FALSE(Contains(MainLog(), "waiting")) << MainLog();
  log->OnTick(counts, kT0 + std::chrono::seconds(160), others);
  log->OnTick(counts, kT0 + std::chrono::seconds(200), others);
  log->OnTick(counts, kT0 + std::chrono::seconds(220), others);
  std::vector<std::string> lines;
  for (const std::string& line : Lines(MainLog())) {
    if (Contains(line, " waiting ")) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 2u) << MainLog();
  EXPECT_TRUE(Contains(lines[0], "reason=\"" + others + "\" for=60.000s")) << lines[0];
  EXPECT_TRUE(Contains(lines[1], "for=120.000s")) << lines[1];
  log->OnTick(counts, kT0 + std::chrono::seconds(221), "");  // it started: a new hold starts over
  log->OnTick(counts, kT0 + std::chrono::seconds(222), "vram gpu0");
  log->OnTick(counts, kT0 + std::chrono::seconds(260), "vram gpu0");
  EXPECT_FALSE(Contains(MainLog(), "vram gpu0")) << MainLog();
}

TEST_F(EventLogTest, FailuresAreFlushedAtOnce) {
  auto log = Open();
  Job job = MakeJob(1, "a");
  log->OnJobEnd(job, MakeEnd(job, Outcome::kFailed), Counts{});
  EXPECT_TRUE(Contains(MainLog(), "job_end #1"));
}

TEST_F(EventLogTest, ErrorLogHasTheStderrTail) {
  config_.error_tail_lines = 3;
  auto log = Open();
  Job job = MakeJob(7, "clip");
  AttemptEnd end = MakeEnd(job, Outcome::kFailed, /*stderr_lines=*/10);
  end.exit.exit_code = 3;
  log->OnJobEnd(job, end, Counts{});
  Job ok = MakeJob(8, "fine");
  log->OnJobEnd(ok, MakeEnd(ok, Outcome::kSucceeded, 5), Counts{});

  std::vector<std::string> lines = Lines(ErrorLog());
  ASSERT_EQ(lines.size(), 4u) << ErrorLog();
  EXPECT_TRUE(
      std::regex_search(lines[0], std::regex(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} )")));
  EXPECT_EQ(lines[0].substr(24),
            "ERROR job_failed #7 name=clip input=/in/clip attempt=1 outcome=FAILED exit=3 "
            "wall=12.300s stdout=" +
                end.stdout_log + " stderr=" + end.stderr_log);
  EXPECT_EQ(lines[1], "    err line 8");
  EXPECT_EQ(lines[2], "    err line 9");
  EXPECT_EQ(lines[3], "    err line 10");
}

TEST_F(EventLogTest, ErrorLogMarksRetriesAndStartFailures) {
  auto log = Open();
  Job job = MakeJob(1, "clip");
  AttemptEnd retried = MakeEnd(job, Outcome::kFailed, 1);
  retried.will_retry = true;
  log->OnJobEnd(job, retried, Counts{});
  AttemptEnd not_started;
  not_started.outcome = Outcome::kStartFailed;
  not_started.error = "cannot open log";
  log->OnJobEnd(job, not_started, Counts{});
  AttemptEnd interrupted = MakeEnd(job, Outcome::kInterrupted, 1);
  log->OnJobEnd(job, interrupted, Counts{});

  std::vector<std::string> lines = Lines(ErrorLog());
  ASSERT_EQ(lines.size(), 3u) << ErrorLog();
  EXPECT_TRUE(Contains(lines[0], "WARN  job_failed #1")) << lines[0];
  EXPECT_TRUE(Contains(lines[0], " retry=true")) << lines[0];
  EXPECT_EQ(lines[1], "    err line 1");
  EXPECT_TRUE(Contains(lines[2], "outcome=\"NOT STARTED\"")) << lines[2];
  EXPECT_TRUE(Contains(lines[2], "error=\"cannot open log\"")) << lines[2];
  EXPECT_FALSE(Contains(lines[2], "exit=")) << lines[2];
}

TEST_F(EventLogTest, JsonErrorLogHasAStderrTailArray) {
  config_.format = LogFormat::kJson;
  config_.error_tail_lines = 2;
  auto log = Open();
  Job job = MakeJob(2, "clip");
  log->OnJobEnd(job, MakeEnd(job, Outcome::kTimedOut, 4), Counts{});
  std::vector<std::string> lines = Lines(ErrorLog());
  ASSERT_EQ(lines.size(), 1u);
  nlohmann::json block = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(block["event"], "job_failed");
  EXPECT_EQ(block["outcome"], "TIMEOUT");
  EXPECT_EQ(block["input"], "/in/clip");
  EXPECT_EQ(block["stderr_tail"], nlohmann::json::array({"err line 3", "err line 4"}));
}

TEST_F(EventLogTest, JobLogsAreCappedToTheirTail) {
  config_.max_job_log = 100;
  auto log = Open();
  Job job = MakeJob(1, "chatty");
  AttemptEnd end = MakeEnd(job, Outcome::kSucceeded, 1000);
  std::ofstream(end.stdout_log) << std::string(50, 'x');
  log->OnJobEnd(job, end, Counts{});
  EXPECT_LE(fs::file_size(end.stderr_log), 100u);
  EXPECT_EQ(Lines(Read(end.stderr_log)).back(), "err line 1000");
  EXPECT_EQ(fs::file_size(end.stdout_log), 50u);

  AttemptEnd missing;  // logs that were never created are fine
  missing.outcome = Outcome::kSucceeded;
  missing.stdout_log = dir_ + "/none.out";
  log->OnJobEnd(job, missing, Counts{});
  log->OnBatchEnd(Counts{}, kT0);
  EXPECT_FALSE(fs::exists(dir_ + "/none.out"));
  EXPECT_FALSE(Contains(MainLog(), "notice")) << MainLog();
}

TEST_F(EventLogTest, AWorkersLogsAreCappedOnceAtTheBatchEnd) {
  // --worker: the logs are the worker's, shared by its requests and still
  // being written. Trimming one as a request ends would rename a new file
  // over it and lose what the worker writes next.
  config_.max_job_log = 100;
  auto log = Open();
  Job job = MakeJob(1, "clip");
  AttemptEnd end = MakeEnd(job, Outcome::kSucceeded);
  std::string jobs_dir = fs::path(end.stderr_log).parent_path().string();
  end.stdout_log = jobs_dir + "/worker_1.out";
  end.stderr_log = jobs_dir + "/worker_1.err";
  std::ofstream(end.stdout_log) << "out\n";
  std::ofstream err(end.stderr_log);  // the worker's, open all along
  for (int i = 1; i <= 100; ++i) err << "request 1 line " << i << "\n";
  err.flush();
  log->OnJobEnd(job, end, Counts{});
  EXPECT_GT(fs::file_size(end.stderr_log), 100u) << "not trimmed while the worker runs";
  err << "request 2 line 1\n";
  err.close();  // the worker stopped
  log->OnJobEnd(MakeJob(2, "clip2"), end, Counts{});
  log->OnBatchEnd(Counts{}, kT0);
  EXPECT_LE(fs::file_size(end.stderr_log), 100u);
  EXPECT_EQ(Lines(Read(end.stderr_log)).back(), "request 2 line 1");
  EXPECT_EQ(Read(end.stdout_log), "out\n");
  EXPECT_FALSE(Contains(MainLog(), "notice")) << MainLog();
}

}  // namespace
}  // namespace headroom

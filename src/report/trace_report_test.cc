#include "report/trace_report.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "journal/batch_data.h"
#include "journal/journal_test_util.h"
#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using journal_test::WriteSampleBatch;
using test::TempDir;

nlohmann::json TraceOf(const std::string& state_dir) {
  BatchData data;
  Status status = LoadBatchData(state_dir, std::nullopt, &data);
  EXPECT_TRUE(status.ok()) << status.message();
  return nlohmann::json::parse(ChromeTrace(BuildReport(std::move(data), 5000)));
}

TEST(ChromeTraceTest, AnEventPerAttemptOnATrackPerGpuAndSlot) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  nlohmann::json trace = TraceOf(dir.path());
  ASSERT_TRUE(trace["traceEvents"].is_array());
  std::vector<nlohmann::json> attempts;
  std::map<std::pair<int, int>, std::string> threads;  // (pid, tid) -> name
  std::map<int, std::string> processes;
  for (const nlohmann::json& event : trace["traceEvents"]) {
    if (event["ph"] == "X" && event["cat"] != "wait") attempts.push_back(event);
    if (event["ph"] == "M" && event["name"] == "thread_name") {
      threads[{event["pid"], event["tid"]}] = event["args"]["name"];
    }
    if (event["ph"] == "M" && event["name"] == "process_name") {
      processes[event["pid"]] = event["args"]["name"];
    }
  }
  ASSERT_EQ(attempts.size(), 4u);
  // a.mp4: gpu 0, slot 1, from 10 s to 30 s after the start.
  const nlohmann::json* a = nullptr;
  for (const nlohmann::json& event : attempts) {
    if (event["name"] == "a.mp4") a = &event;
  }
  ASSERT_NE(a, nullptr);
  EXPECT_EQ((*a)["ts"], 10000000);
  EXPECT_EQ((*a)["dur"], 20000000);
  EXPECT_EQ((*a)["cat"], "succeeded");
  EXPECT_EQ((*a)["args"]["peak_vram"], "2.0 GiB");
  EXPECT_EQ(processes[(*a)["pid"]], "gpu 0");
  std::pair<int, int> track{(*a)["pid"], (*a)["tid"]};
  EXPECT_EQ(threads[track], "slot 1");
  // c.mp4 ran on gpu 1, slot 3.
  for (const nlohmann::json& event : attempts) {
    if (event["name"] != "c.mp4") continue;
    EXPECT_EQ(processes[event["pid"]], "gpu 1");
    EXPECT_EQ(event["args"]["exit_code"], 3);
    EXPECT_EQ(event["cat"], "failed");
  }
}

TEST(ChromeTraceTest, CountersForMemoryTemperatureAndLimitsAndTheQueuesWaits) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  nlohmann::json trace = TraceOf(dir.path());
  std::multiset<std::string> counters;
  std::vector<nlohmann::json> waits;
  for (const nlohmann::json& event : trace["traceEvents"]) {
    if (event["ph"] == "C") counters.insert(event["name"].get<std::string>());
    if (event["ph"] == "X" && event["cat"] == "wait") waits.push_back(event);
  }
  EXPECT_EQ(counters.count("memory"), 2u);  // gpu 0 at 1000 and 1050
  EXPECT_EQ(counters.count("temperature"), 2u);
  EXPECT_EQ(counters.count("RAM"), 2u);
  EXPECT_EQ(counters.count("concurrency limit"), 2u);
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_EQ(waits[0]["name"], "vram gpu0");
  EXPECT_EQ(waits[0]["ts"], 1000000);
  EXPECT_EQ(waits[0]["dur"], 10000000);
  EXPECT_EQ(waits[1]["name"], "slots");
  EXPECT_EQ(trace["otherData"]["batch"], 1);
}

}  // namespace
}  // namespace headroom

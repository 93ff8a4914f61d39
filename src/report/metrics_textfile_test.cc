#include "report/metrics_textfile.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using std::chrono::milliseconds;

const TimePoint kT0{};

Counts Finished(int64_t succeeded) {
  Counts c;
  c.total = 10;
  c.succeeded = succeeded;
  return c;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(MetricsTextfileTest, WrittenAtTheStartEveryFiveSecondsAndAtTheEnd) {
  test::TempDir dir;
  std::string path = dir.path() + "/headroom.prom";
  Metrics metrics;
  MetricsTextfile file(path, &metrics);
  metrics.OnBatchStart(Finished(0), kT0);
  file.OnBatchStart(Finished(0), kT0);
  EXPECT_TRUE(Has(test::ReadFile(path), "headroom_jobs_finished_total{outcome=\"succeeded\"} 0\n"));

  metrics.OnTick(Finished(3), kT0 + milliseconds(1000), "");
  file.OnTick(Finished(3), kT0 + milliseconds(1000), "");
  EXPECT_TRUE(Has(test::ReadFile(path), "{outcome=\"succeeded\"} 0\n")) << "rewritten within 5 s";
  metrics.OnTick(Finished(4), kT0 + milliseconds(5000), "");
  file.OnTick(Finished(4), kT0 + milliseconds(5000), "");
  EXPECT_TRUE(Has(test::ReadFile(path), "{outcome=\"succeeded\"} 4\n"));

  metrics.OnBatchEnd(Finished(10), kT0 + milliseconds(5100));
  file.OnBatchEnd(Finished(10), kT0 + milliseconds(5100));
  EXPECT_TRUE(Has(test::ReadFile(path), "{outcome=\"succeeded\"} 10\n"));
  // Nothing is left beside it.
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"headroom.prom"});
}

TEST(MetricsTextfileTest, AFileThatCannotBeWrittenIsAnErrorBeforeTheBatch) {
  test::TempDir dir;
  Status status = MetricsTextfile::Check(dir.path() + "/missing/headroom.prom");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("missing/headroom.prom"), std::string::npos) << status.message();
  EXPECT_TRUE(MetricsTextfile::Check(dir.path() + "/ok.prom").ok());
}

}  // namespace
}  // namespace headroom

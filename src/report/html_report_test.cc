#include "report/html_report.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <regex>
#include <set>

#include "util/test_temp_dir.h"
#include "journal/journal_test_util.h"

namespace headroom {
namespace {

using test::TempDir;
using journal_test::WriteSampleBatch;

int Count(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

std::string HtmlOf(const std::string& state_dir, double now) {
  BatchData data;
  Status status = LoadBatchData(state_dir, std::nullopt, &data);
  EXPECT_TRUE(status.ok()) << status.message();
  return RenderHtmlReport(BuildReport(std::move(data), now));
}

TEST(HtmlEscapeTest, EscapesMarkupAndReplacesBadBytes) {
  EXPECT_EQ(HtmlEscape("<b a=\"1\" c='2'>&</b>"),
            "&lt;b a=&quot;1&quot; c=&#39;2&#39;&gt;&amp;&lt;/b&gt;");
  EXPECT_EQ(HtmlEscape("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8E\xAC"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8E\xAC");  // valid UTF-8 kept
  EXPECT_EQ(HtmlEscape("a\xff"
                       "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(HtmlEscape("\xC3"), "\xEF\xBF\xBD");                                  // cut short
  EXPECT_EQ(HtmlEscape("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(HtmlEscape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(HtmlEscape("a\x01\x1b[31m\tb\n"), "a\xEF\xBF\xBD\xEF\xBF\xBD[31m\tb\n");
}

TEST(RenderHtmlReportTest, IsOneSelfContainedDocument) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  std::string html = HtmlOf(dir.path(), 5000);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n", 0), 0u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(html.find("</html>\n"), std::string::npos);
  // Nothing is fetched: no script, no linked file, no external font or image.
  for (const char* banned :
       {"<script", "src=", "href=", "url(", "@import", "<link", "@font-face"}) {
    EXPECT_EQ(html.find(banned), std::string::npos) << banned;
  }
}

TEST(RenderHtmlReportTest, TimelineHasOneRectPerAttemptInItsLane) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  std::string html = HtmlOf(dir.path(), 5000);
  EXPECT_NE(html.find("<svg id=\"timeline\""), std::string::npos);
  EXPECT_EQ(Count(html, "<rect class=\"attempt "), 4);
  EXPECT_EQ(Count(html, "<rect class=\"attempt succeeded\""), 1);        // a.mp4
  EXPECT_EQ(Count(html, "<rect class=\"attempt succeeded retry\""), 1);  // b.mp4, attempt 2
  EXPECT_EQ(Count(html, "<rect class=\"attempt oom\""), 1);
  EXPECT_EQ(Count(html, "<rect class=\"attempt failed\""), 1);
  EXPECT_EQ(Count(html, "stroke=\"#111\""), 1);  // only the retry is outlined
  EXPECT_EQ(Count(html, "class=\"queued\""), 0) << "not on Slurm: no queue wait";
  // Lanes per device, as many as ran on it at once: gpu 0's three attempts
  // (slots 1 and 2) never overlapped, so one lane each, not one per slot.
  EXPECT_NE(html.find(">gpu 0 · 1<"), std::string::npos);
  EXPECT_NE(html.find(">gpu 1 · 1<"), std::string::npos);
  EXPECT_EQ(html.find(">gpu 0 · 2<"), std::string::npos);
  EXPECT_NE(html.find(", slot 2</title>"), std::string::npos);
  // The time axis spans the batch: 70 s, so a rect 20 s long (a.mp4) is 2/7
  // of the plot's width.
  std::smatch match;
  std::regex rect(
      R"re(<rect class="attempt succeeded" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)")re");
  ASSERT_TRUE(std::regex_search(html, match, rect));
  EXPECT_NEAR(std::stod(match[1]), 120 + 10.0 / 70 * (1160 - 120 - 24), 0.01);
  // less the pixel that keeps it apart from a bar right after it.
  EXPECT_NEAR(std::stod(match[2]), 20.0 / 70 * (1160 - 120 - 24) - 1, 0.01);
  EXPECT_NE(html.find(std::string("fill=\"") + std::string(AttemptColor(AttemptClass::kOom))),
            std::string::npos);
}

// --executor slurm: an attempt's time in Slurm's queue (from its start, the
// submission, to its first RUNNING) is drawn pale over its bar, and the
// summary says how long jobs waited.
TEST(RenderHtmlReportTest, SlurmQueueWaitIsDrawnOverTheBar) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  {
    std::unique_ptr<Journal> journal;
    ASSERT_TRUE(Journal::Open(dir.path(), &journal).ok());
    EventRecord placed;
    placed.t = 1017;  // a.mp4 started (was submitted) at 1010
    placed.kind = "placed";
    placed.value = 1;
    placed.text = "a.mp4\tslurm 42 RUNNING on node7";
    ASSERT_TRUE(journal->AddEvent(1, placed).ok());
  }
  std::string html = HtmlOf(dir.path(), 5000);
  EXPECT_EQ(Count(html, "<rect class=\"queued\""), 1);
  EXPECT_NE(html.find("<title>queued in Slurm for 7.0s</title>"), std::string::npos);
  std::smatch match;
  std::regex rect(R"re(<rect class="queued" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)")re");
  ASSERT_TRUE(std::regex_search(html, match, rect));
  EXPECT_NEAR(std::stod(match[1]), 120 + 10.0 / 70 * (1160 - 120 - 24), 0.01);
  EXPECT_NEAR(std::stod(match[2]), 7.0 / 70 * (1160 - 120 - 24), 0.01);
  EXPECT_NE(html.find("queue wait 7.0s mean, 7.0s max"), std::string::npos);
}

// A failed job's last stderr lines stand under its log in the failed-jobs
// table (and in the JSON report): why it failed, without opening the log.
TEST(RenderHtmlReportTest, FailedJobsShowTheirLastStderrLines) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  BatchData data;
  ASSERT_TRUE(LoadBatchData(dir.path(), std::nullopt, &data).ok());
  std::string log = dir.path() + "/c.err";
  {
    std::ofstream out(log);
    for (int i = 1; i <= 6; ++i) out << "loading frame " << i << "\n";
    out << "Error: <codec> not found\n";
  }
  for (AttemptRecord& attempt : data.attempts) attempt.stderr_log = log;
  BatchReport report = BuildReport(std::move(data), 5000);
  AddStderrTails(&report, 200);
  std::string html = RenderHtmlReport(report);
  EXPECT_NE(html.find("<pre class=\"tail\">loading frame 3\nloading frame 4\nloading frame 5\n"
                      "loading frame 6\nError: &lt;codec&gt; not found\n</pre>"),
            std::string::npos)
      << html;
  EXPECT_NE(ReportJson(report).find("\"stderr_tail\": \"loading frame 3\\nloading frame 4"),
            std::string::npos);
  // Only failed jobs: succeeded ones keep no tail.
  for (const JobTiming& timing : report.jobs) {
    if (timing.job.state != JobState::kFailed) {
      EXPECT_EQ(timing.stderr_tail, "") << timing.job.name;
    }
  }
}

// The memory chart has a dashed line per GPU at --vram-high x its memory,
// as the batch ran with it (its journaled options); none when unknown.
TEST(RenderHtmlReportTest, TheMemoryChartMarksEachGpusHighMark) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  BatchData data;
  ASSERT_TRUE(LoadBatchData(dir.path(), std::nullopt, &data).ok());
  std::set<int> gpus;
  for (const SampleRecord& sample : data.samples) {
    if (sample.gpu >= 0) gpus.insert(sample.gpu);
  }
  ASSERT_FALSE(gpus.empty());
  data.batch.options_json = R"({"vram_high": {"value": "0.85", "source": "default"}})";
  std::string html = RenderHtmlReport(BuildReport(data, 5000));
  EXPECT_EQ(Count(html, "<line class=\"high-mark\""), static_cast<int>(gpus.size()));
  EXPECT_NE(html.find("<title>gpu 0: --vram-high 85 % of "), std::string::npos) << html;
  data.batch.options_json = "";
  EXPECT_EQ(Count(RenderHtmlReport(BuildReport(data, 5000)), "high-mark"), 0);
}

// Jobs that overlap on a device get a lane each; back-to-back ones share
// one, a pixel apart.
TEST(RenderHtmlReportTest, ADeviceHasAsManyLanesAsItRanAttemptsAtOnce) {
  BatchData data;
  data.batch.id = 1;
  data.batch.started_at = 0;
  data.batch.ended_at = 30;
  data.batch.exit_code = 0;
  auto add = [&](const std::string& key, int slot, int gpu, double start, double end) {
    data.attempts.push_back(
        journal_test::Ended(journal_test::Attempt(key, 1, slot, gpu, start), end, 0, "succeeded"));
  };
  // 8 slots over 2 GPUs: gpu 0 runs 2 at once, gpu 1 one after another.
  add("a", 1, 0, 0, 10);
  add("b", 5, 0, 5, 15);
  add("c", 2, 0, 10, 20);  // starts as a ends: a's lane
  add("d", 3, 1, 0, 10);
  add("e", 7, 1, 10, 20);
  std::string html = RenderHtmlReport(BuildReport(data, 30));
  EXPECT_EQ(Count(html, "text-anchor=\"end\">gpu "), 3) << "3 lanes";
  EXPECT_NE(html.find(">gpu 0 · 2<"), std::string::npos);
  EXPECT_EQ(html.find(">gpu 1 · 2<"), std::string::npos);
}

// At 100,000 jobs the page stays small: each device's load as a density,
// and only what did not succeed and the slowest as bars.
TEST(RenderHtmlReportTest, AHundredThousandJobsStayUnderFiveMegabytes) {
  BatchData data;
  data.batch.id = 1;
  data.batch.started_at = 0;
  data.batch.ended_at = 25000;
  data.batch.exit_code = 1;
  for (int i = 0; i < 100000; ++i) {
    bool failed = i % 1000 == 7;
    std::string key = "clip-" + std::to_string(i) + ".mp4";
    JobRecord job = journal_test::Job(key, i + 1);
    job.state = failed ? JobState::kFailed : JobState::kSucceeded;
    data.jobs.push_back(job);
    double start = i / 4;
    data.attempts.push_back(journal_test::Ended(journal_test::Attempt(key, 1, i % 8 + 1, i % 2, start),
                                                start + (i == 500 ? 900 : 1.9), failed ? 1 : 0,
                                                failed ? "failed" : "succeeded"));
  }
  std::string html = RenderHtmlReport(BuildReport(std::move(data), 25000));
  EXPECT_LT(html.size(), 5u << 20);  // 150 KB when written
  EXPECT_GT(Count(html, "<rect class=\"density\""), 100);
  EXPECT_EQ(Count(html, "<rect class=\"attempt failed\""), 100);
  EXPECT_NE(html.find("clip-500.mp4: attempt 1, succeeded"), std::string::npos) << "the slowest";
  EXPECT_NE(html.find(">gpu 0 · all<"), std::string::npos);
  EXPECT_NE(html.find(">gpu 1 · marked<"), std::string::npos);
}

// Why the queue was held: a row per gate under the timeline, a bar per
// interval, and the sentence at the top.
TEST(RenderHtmlReportTest, ABandUnderTheTimelineShowsWhatHeldTheQueue) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  std::string html = HtmlOf(dir.path(), 5000);
  EXPECT_NE(html.find("<svg id=\"waits\""), std::string::npos);
  EXPECT_EQ(Count(html, "<rect class=\"wait\""), 2);
  EXPECT_NE(html.find(">vram gpu0</text>"), std::string::npos);
  EXPECT_NE(html.find(">slots</text>"), std::string::npos);
  EXPECT_NE(html.find("<title>vram gpu0: 10.0s from 1.0s</title>"), std::string::npos);
  EXPECT_LT(html.find("<svg id=\"timeline\""), html.find("<svg id=\"waits\""));
  EXPECT_NE(html.find("<p id=\"why\">Held 10.0s by gpu0&#39;s memory; gpu0 fit 1 × 2.0 GiB.</p>"),
            std::string::npos);
}

// A gate flickering on and off faster than a pixel is one bar, with the
// count of waits in its title: a long batch does not draw one per wait.
TEST(RenderHtmlReportTest, WaitsCloserThanAPixelAreOneBar) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  BatchData data;
  ASSERT_TRUE(LoadBatchData(dir.path(), std::nullopt, &data).ok());
  data.events.clear();
  for (int i = 0; i < 1000; ++i) {
    data.events.push_back(EventRecord{1000 + i * 0.02, "waiting", -1, 0, "slots"});
    data.events.push_back(EventRecord{1000 + i * 0.02 + 0.01, "waiting", -1, 0, ""});
  }
  std::string html = RenderHtmlReport(BuildReport(data, 5000));
  EXPECT_EQ(Count(html, "<rect class=\"wait\""), 1);
  EXPECT_NE(html.find(" in 1000 waits from "), std::string::npos);
}

TEST(RenderHtmlReportTest, TheTemperatureChartMarksTheWarmAndCriticalTemperatures) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  BatchData data;
  ASSERT_TRUE(LoadBatchData(dir.path(), std::nullopt, &data).ok());
  data.batch.options_json = R"({"temp_warm": {"value": "70"}, "temp_limit": {"value": "95"}})";
  std::string html = RenderHtmlReport(BuildReport(data, 5000));
  EXPECT_EQ(Count(html, "<line class=\"temp-mark\""), 2);
  EXPECT_NE(html.find("<title>--temp-limit 95 °C</title>"), std::string::npos);
  // The scale reaches above the highest mark (100 °C by default).
  EXPECT_NE(html.find(">100 °C</text>"), std::string::npos);
  data.batch.options_json = R"({"temp_limit": {"value": "110"}})";
  html = RenderHtmlReport(BuildReport(data, 5000));
  EXPECT_NE(html.find(">115 °C</text>"), std::string::npos);
}

TEST(RenderHtmlReportTest, ChartsOfSamplesAndLimitsWithReasons) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  std::string html = HtmlOf(dir.path(), 5000);
  for (const char* id : {"vram", "temperature", "ram", "limits"}) {
    EXPECT_NE(html.find(std::string("<svg id=\"") + id + "\""), std::string::npos) << id;
  }
  // vram, temperature, ram; limit of gpu 0, running on gpus 0 and 1
  EXPECT_EQ(Count(html, "<polyline class=\"series\""), 6);
  EXPECT_EQ(Count(html, "<polyline class=\"series\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.6\" stroke-dasharray=\"3,2\""), 1);
  EXPECT_EQ(Count(html, "<circle class=\"limit\""), 2);
  EXPECT_NE(html.find("gpu0 limit 4 -&gt; 2: out of memory"), std::string::npos);
  EXPECT_NE(html.find("<table class=\"list\" id=\"slowest\">"), std::string::npos);
  EXPECT_NE(html.find("<h2>Failed jobs (1)</h2>"), std::string::npos);
  EXPECT_NE(html.find("<code>c.mp4.err</code>"), std::string::npos);
}

TEST(RenderHtmlReportTest, SlowestJobsComeFirst) {
  TempDir dir;
  WriteSampleBatch(dir.path());
  std::string html = HtmlOf(dir.path(), 5000);
  size_t table = html.find("id=\"slowest\"");
  ASSERT_NE(table, std::string::npos);
  size_t b = html.find("<td>b.mp4</td>", table);  // 23 s
  size_t a = html.find("<td>a.mp4</td>", table);  // 20 s
  size_t c = html.find("<td>c.mp4</td>", table);  // 2 s
  ASSERT_NE(c, std::string::npos);
  EXPECT_LT(b, a);
  EXPECT_LT(a, c);
}

TEST(RenderHtmlReportTest, EscapesEveryTextFromTheJournal) {
  TempDir dir;
  const std::string hostile = "<img src=x onerror=alert(1)>&\"'\xff.mp4";
  {
    std::unique_ptr<Journal> journal;
    ASSERT_TRUE(Journal::Open(dir.path(), &journal).ok());
    BatchRecord batch;
    batch.started_at = 100;
    batch.host = "<h>";
    batch.command_template = "run </code><script>x</script>";
    batch.input_source = "<i>";
    ASSERT_TRUE(journal->CreateBatch(&batch).ok());
    JobRecord job = journal_test::Job(hostile, 1);
    ASSERT_TRUE(journal->UpsertJobs(batch.id, {job}).ok());
    AttemptRecord attempt = journal_test::Attempt(job.key, 1, 1, 0, 101);
    attempt.stderr_log = "/logs/<b>.err";
    ASSERT_TRUE(journal->StartAttempt(batch.id, attempt).ok());
    ASSERT_TRUE(journal->EndAttempt(batch.id, journal_test::Ended(attempt, 102, 1, "failed")).ok());
    ASSERT_TRUE(journal->SetJobState(batch.id, job.key, JobState::kFailed).ok());
    ASSERT_TRUE(
        journal->AddEvent(batch.id, journal_test::Event(101, "limit", 0, 1, "<u>why</u>")).ok());
    ASSERT_TRUE(journal->EndBatch(batch.id, 103, 1).ok());
  }
  std::string html = HtmlOf(dir.path(), 200);
  for (const char* raw : {"<img", "<script", "<h>", "<i>", "<b>", "<u>", "\xff"}) {
    EXPECT_EQ(html.find(raw), std::string::npos) << raw;
  }
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;\xEF\xBF\xBD.mp4"),
            std::string::npos);
  EXPECT_NE(html.find("&lt;u&gt;why&lt;/u&gt;"), std::string::npos);
}

TEST(RenderHtmlReportTest, EmptyBatchSaysSoInsteadOfDrawing) {
  TempDir dir;
  {
    std::unique_ptr<Journal> journal;
    ASSERT_TRUE(Journal::Open(dir.path(), &journal).ok());
    BatchRecord batch;
    batch.started_at = 100;
    ASSERT_TRUE(journal->CreateBatch(&batch).ok());
  }
  std::string html = HtmlOf(dir.path(), 100);  // stopped, zero length
  EXPECT_NE(html.find("No attempt recorded yet."), std::string::npos);
  EXPECT_NE(html.find("No GPU sample recorded."), std::string::npos);
  EXPECT_NE(html.find("No job ran on a GPU and the concurrency limit never changed."),
            std::string::npos);
  EXPECT_EQ(html.find("nan"), std::string::npos);
  EXPECT_EQ(html.find("inf"), std::string::npos);
}

}  // namespace
}  // namespace headroom

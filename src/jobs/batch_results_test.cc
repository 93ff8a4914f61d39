#include "jobs/batch_results.h"

#include <gtest/gtest.h>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using Strings = std::vector<std::string>;
const std::vector<std::string_view> kInputs = {"clips/a.mp4", "clips/b c.mp4", "clips/d.mp4"};

BatchInputResult Result(size_t index, bool ok, bool oom = false, std::string error = "") {
  BatchInputResult result;
  result.index = index;
  result.ok = ok;
  result.oom = oom;
  result.error = std::move(error);
  return result;
}

TEST(BatchResultsTest, GoodLinesByInputAndByIndex) {
  ParsedBatchResults parsed = ParseBatchResults(
      "{\"input\": \"clips/b c.mp4\", \"ok\": false, \"error\": \"corrupt\", \"oom\": false}\n"
      "{\"input\": \"clips/a.mp4\", \"ok\": true}\n"
      "{\"index\": 2, \"ok\": false, \"error\": \"CUDA out of memory\", \"oom\": true}\n",
      kInputs);
  EXPECT_EQ(parsed.results,
            (std::vector<BatchInputResult>{Result(0, true), Result(1, false, false, "corrupt"),
                                           Result(2, false, true, "CUDA out of memory")}));
  EXPECT_EQ(parsed.warnings, Strings{});
}

TEST(BatchResultsTest, InputsNotMentionedHaveNoResult) {
  ParsedBatchResults parsed =
      ParseBatchResults("{\"input\": \"clips/d.mp4\", \"ok\": true}", kInputs);
  EXPECT_EQ(parsed.results, (std::vector<BatchInputResult>{Result(2, true)}));
  EXPECT_EQ(ParseBatchResults("", kInputs).results, std::vector<BatchInputResult>{});
}

TEST(BatchResultsTest, BadLinesAreSkippedWithAWarning) {
  ParsedBatchResults parsed = ParseBatchResults(
      "not json\n"
      "[1, 2]\n"
      "{\"input\": \"clips/a.mp4\"}\n"
      "{\"input\": \"clips/a.mp4\", \"ok\": \"yes\"}\n"
      "{\"ok\": true}\n"
      "{\"input\": \"clips/zz.mp4\", \"ok\": true}\n"
      "{\"index\": 3, \"ok\": true}\n"
      "{\"index\": -1, \"ok\": true}\n"
      "{\"index\": 0, \"input\": \"clips/d.mp4\", \"ok\": true}\n"
      "{\"input\": 7, \"ok\": true}\n"
      "{\"input\": \"clips/a.mp4\", \"ok\": false, \"oom\": 1}\n"
      "{\"input\": \"clips/a.mp4\", \"ok\": false, \"error\": {\"x\": 1}}\n"
      "{\"input\": \"clips/d.mp4\", \"ok\": tr\n",  // torn last line
      kInputs);
  EXPECT_EQ(parsed.results, std::vector<BatchInputResult>{});
  EXPECT_EQ(parsed.warnings,
            (Strings{"line 1: not valid JSON (expected one object per line) (line skipped)",
                     "line 2: expected a JSON object, got array (line skipped)",
                     "line 3: 'ok' must be true or false (line skipped)",
                     "line 4: 'ok' must be true or false (line skipped)",
                     "line 5: no 'input' or 'index' (line skipped)",
                     "line 6: input 'clips/zz.mp4' is not in this batch (line skipped)",
                     "line 7: 'index' 3 is not in this batch of 3 (0-based) (line skipped)",
                     "line 8: 'index' -1 is not in this batch of 3 (0-based) (line skipped)",
                     "line 9: 'index' 0 is input 'clips/a.mp4', not 'input' 'clips/d.mp4' "
                     "(line skipped)",
                     "line 10: 'input' must be a string (line skipped)",
                     "line 11: 'oom' must be true or false (line skipped)",
                     "line 12: 'error' must be a string (line skipped)",
                     "line 13: not valid JSON (expected one object per line) (line skipped)"}));
}

TEST(BatchResultsTest, BlankLinesUnknownKeysAndCrlfAreFine) {
  ParsedBatchResults parsed = ParseBatchResults(
      "\n  \n{\"input\": \"clips/a.mp4\", \"ok\": true, \"seconds\": 3.5, \"error\": null}\r\n\n",
      kInputs);
  EXPECT_EQ(parsed.results, (std::vector<BatchInputResult>{Result(0, true)}));
  EXPECT_EQ(parsed.warnings, Strings{});
}

TEST(BatchResultsTest, ADuplicateTakesTheLastLine) {
  ParsedBatchResults parsed = ParseBatchResults(
      "{\"input\": \"clips/a.mp4\", \"ok\": false, \"error\": \"first try\"}\n"
      "{\"index\": 0, \"ok\": true}\n",
      kInputs);
  EXPECT_EQ(parsed.results, (std::vector<BatchInputResult>{Result(0, true)}));
  EXPECT_EQ(
      parsed.warnings,
      (Strings{"line 2: input 'clips/a.mp4' was reported on line 1 too; the last line counts"}));
}

TEST(BatchResultsTest, AnInputGivenTwiceIsNamedAtEachPosition) {
  ParsedBatchResults parsed = ParseBatchResults(
      "{\"input\": \"x\", \"ok\": true}\n{\"index\": 2, \"ok\": false}\n", {"x", "y", "x"});
  EXPECT_EQ(parsed.results, (std::vector<BatchInputResult>{Result(0, true), Result(2, false)}));
  EXPECT_EQ(parsed.warnings,
            (Strings{"line 2: input 'x' was reported on line 1 too; the last line counts"}));
}

TEST(BatchResultsTest, InputsAreMatchedByteExactly) {
  const std::vector<std::string_view> inputs = {"a\nb", "\xc3\xa9", "a"};
  ParsedBatchResults parsed = ParseBatchResults(
      "{\"input\": \"a\\nb\", \"ok\": true}\n{\"input\": \"\\u00e9\", \"ok\": true}\n"
      "{\"input\": \"a \", \"ok\": true}\n",
      inputs);
  EXPECT_EQ(parsed.results, (std::vector<BatchInputResult>{Result(0, true), Result(1, true)}));
  EXPECT_EQ(parsed.warnings, (Strings{"line 3: input 'a ' is not in this batch (line skipped)"}));
}

TEST(BatchResultsTest, ReadsAFileAndTellsAMissingOne) {
  test::TempDir dir;
  std::string path = dir.Write("results.jsonl", "{\"index\": 1, \"ok\": true}\n");
  ParsedBatchResults parsed;
  bool missing = true;
  ASSERT_TRUE(ReadBatchResults(path, kInputs, &parsed, &missing).ok());
  EXPECT_FALSE(missing);
  EXPECT_EQ(parsed.results, (std::vector<BatchInputResult>{Result(1, true)}));
  Status status = ReadBatchResults(dir.File("none.jsonl"), kInputs, &parsed, &missing);
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(missing);
  EXPECT_EQ(status.message(), "cannot read batch results '" + dir.File("none.jsonl") +
                                  "': No such file or directory");
}

}  // namespace
}  // namespace headroom

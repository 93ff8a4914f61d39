#include "jobs/job_key.h"

#include <gtest/gtest.h>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using Strings = std::vector<std::string>;

const Strings kCommand = {"upscale", "--in", "{}"};

RawInput Raw(std::string input) {
  RawInput raw;
  raw.input = std::move(input);
  return raw;
}

PlanConfig CommandOptions() {
  PlanConfig options;
  options.command = kCommand;
  return options;
}

Plan MakeTestPlan(const PlanConfig& options, std::vector<RawInput> inputs) {
  Plan plan;
  Status status = MakePlan(options, std::move(inputs), 1, &plan);
  EXPECT_TRUE(status.ok()) << status.message();
  return plan;
}

TEST(JobKeyTest, KeyIsTheInputWhenNothingElseSetsTheJobApart) {
  Job job;
  job.input = "videos/a b.mp4";
  job.name = job.input;
  job.argv_template = kCommand;
  EXPECT_EQ(JobKey(job, kCommand), "videos/a b.mp4");
}

TEST(JobKeyTest, JobsFileNameAndCommandArePartOfTheKey) {
  Job job;
  job.input = "a.mp4";
  job.name = "first";
  job.argv_template = {"other", "{}"};
  EXPECT_EQ(JobKey(job, kCommand), "a.mp4\x1fname:first\x1f" "cmd:other '{}'");
  job.argv_template = kCommand;
  EXPECT_EQ(JobKey(job, kCommand), "a.mp4\x1fname:first");
}

TEST(JobKeyTest, KeysDoNotDependOnNumbersWhenNewInputsAppear) {
  PlanConfig options = CommandOptions();
  options.order = Order::kName;
  Plan before = MakeTestPlan(options, {Raw("b"), Raw("d")});
  Plan after = MakeTestPlan(options, {Raw("a"), Raw("b"), Raw("c"), Raw("d")});
  std::map<int64_t, std::string> keys_before = JobKeys(before, options.command);
  std::map<int64_t, std::string> keys_after = JobKeys(after, options.command);
  EXPECT_EQ(keys_before, (std::map<int64_t, std::string>{{1, "b"}, {2, "d"}}));
  EXPECT_EQ(keys_after, (std::map<int64_t, std::string>{{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}}));
}

TEST(JobKeyTest, RepeatedInputsGetNumberedKeys) {
  Plan plan = MakeTestPlan(CommandOptions(), {Raw("x"), Raw("y"), Raw("x"), Raw("x")});
  EXPECT_EQ(JobKeys(plan, kCommand),
            (std::map<int64_t, std::string>{{1, "x"}, {2, "y"}, {3, "x\x1f#2"}, {4, "x\x1f#3"}}));
}

TEST(JobKeyTest, SkippedJobsHaveKeysToo) {
  test::TempDir dir;
  dir.Write("out/b");
  PlanConfig options = CommandOptions();
  options.command = {"cp", "{}", "{out}"};
  options.output_dir = dir.File("out");
  options.skip_existing = true;
  Plan plan = MakeTestPlan(options, {Raw("a"), Raw("b")});
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(JobKeys(plan, options.command), (std::map<int64_t, std::string>{{1, "a"}, {2, "b"}}));
}

TEST(InputSourceTextTest, NamesTheSourceNotItsInputs) {
  InputSpec options;
  options.has_arg_inputs = true;
  options.arg_inputs = {"a", "b"};
  EXPECT_EQ(InputSourceText(options), "::: arguments");
  options = InputSpec();
  EXPECT_EQ(InputSourceText(options), "stdin");
  options.jobs_file = "my jobs.jsonl";
  EXPECT_EQ(InputSourceText(options), "--jobs-file 'my jobs.jsonl'");
  options = InputSpec();
  options.input_dir = "./videos";
  EXPECT_EQ(InputSourceText(options), "--input-dir ./videos");
  options.exts = {"mp4", "mkv"};
  options.recursive = true;
  EXPECT_EQ(InputSourceText(options), "--input-dir ./videos --ext mkv,mp4 --recursive");
}

}  // namespace
}  // namespace headroom

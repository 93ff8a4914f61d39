#include "cli/module_configs.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_test_util.h"

// Each module's config is what the options say, built in one place.

namespace headroom::cli_test {
namespace {


TEST_F(CliTest, ConfigsCarryTheOptionsEachModuleNeeds) {
  Options options = Ok({"run", "-j", "3", "--timeout", "2s", "--resume-failed", "--max-count", "5",
                        "--gpus", "1", "--input-dir", "in", "--ext", "mp4", "--output-dir", "out",
                        "--", "enc", "{}"});
  InputSpec inputs = InputSpecOf(options);
  EXPECT_EQ(inputs.input_dir, "in");
  EXPECT_EQ(inputs.exts, (std::vector<std::string>{"mp4"}));
  PlanConfig plan = PlanConfigOf(options);
  EXPECT_EQ(plan.command, (std::vector<std::string>{"enc", "{}"}));
  EXPECT_EQ(plan.output_dir, "out");
  EXPECT_EQ(plan.slots, 3);
  BatchChoice choice = BatchChoiceOf(options);
  EXPECT_TRUE(choice.resume) << "--resume-failed continues a batch";
  RerunConfig rerun = RerunConfigOf(options);
  EXPECT_TRUE(rerun.resume_failed);
  EXPECT_EQ(rerun.max_count, 5);
  SchedulerConfig scheduler;
  ASSERT_TRUE(SchedulerConfigOf(options, &scheduler).ok());
  EXPECT_EQ(scheduler.jobs, 3);
  EXPECT_EQ(scheduler.timeout, Millis(2000));
  EXPECT_EQ(scheduler.admission.allowed_gpus, (std::vector<int>{1}));
  EXPECT_TRUE(scheduler.admission.use_gpus);
}

TEST_F(CliTest, BatchIdAloneContinuesThatBatch) {
  BatchChoice choice = BatchChoiceOf(Ok({"run", "--batch", "7", "--", "enc", "{}"}));
  EXPECT_TRUE(choice.resume);
  EXPECT_EQ(choice.batch, 7);
  EXPECT_FALSE(BatchChoiceOf(Ok({"run", "--", "enc", "{}"})).resume);
}

// The journal stores the effective options of the parse itself, each as
// --print-config shows it, with its source.
TEST_F(CliTest, OptionsJsonHoldsEachEffectiveValueAndItsSource) {
  env_["HEADROOM_OUTPUT_NAME"] = "{/.} (x).mp4";
  ASSERT_TRUE(Parse({"run", "-j", "4", "--", "enc", "{}"}).ok());
  nlohmann::json json = nlohmann::json::parse(OptionsJson(cli_.effective));
  EXPECT_EQ(json["jobs"]["value"], "4");
  EXPECT_EQ(json["jobs"]["source"], "command line");
  EXPECT_EQ(json["output_name"]["value"], "'{/.} (x).mp4'");
  EXPECT_EQ(json["output_name"]["source"], "env HEADROOM_OUTPUT_NAME");
  EXPECT_EQ(json["env"]["value"], "(none)");
  EXPECT_EQ(json["env"]["source"], "default");
  EXPECT_EQ(json.size(), cli_.effective.size());
  EXPECT_EQ(OptionsJson({}), "{}");
}

}  // namespace
}  // namespace headroom::cli_test

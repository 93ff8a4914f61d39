#include "jobs/plan.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using test::TempDir;
using Strings = std::vector<std::string>;

RawInput Raw(std::string input, int64_t priority = 0) {
  RawInput raw;
  raw.input = std::move(input);
  raw.priority = priority;
  return raw;
}

std::vector<RawInput> Raws(const Strings& inputs) {
  std::vector<RawInput> raws;
  for (const std::string& input : inputs) raws.push_back(Raw(input));
  return raws;
}

Strings InputsOf(const std::vector<RawInput>& raws) {
  Strings inputs;
  for (const RawInput& raw : raws) inputs.push_back(raw.input);
  return inputs;
}

Strings InputsOf(const std::vector<Job>& jobs) {
  Strings inputs;
  for (const Job& job : jobs) inputs.push_back(job.input);
  return inputs;
}

Strings Ordered(Order order, std::vector<RawInput> raws) {
  OrderInputs(order, &raws);
  return InputsOf(raws);
}

// Writes `size` bytes to `name` and sets its mtime to `mtime_s` seconds.
std::string MakeFile(const TempDir& dir, const std::string& name, size_t size, time_t mtime_s) {
  std::string path = dir.Write(name, std::string(size, 'x'));
  struct timespec times[2] = {{mtime_s, 0}, {mtime_s, 0}};
  EXPECT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  return path;
}

TEST(OrderInputsTest, GivenKeepsTheOrder) {
  EXPECT_EQ(Ordered(Order::kGiven, Raws({"c", "a", "b"})), (Strings{"c", "a", "b"}));
}

TEST(OrderInputsTest, NameIsByteOrder) {
  EXPECT_EQ(Ordered(Order::kName, Raws({"b", "\xc3\xa9", "B", "a b", "a", "-n"})),
            (Strings{"-n", "B", "a", "a b", "b", "\xc3\xa9"}));
}

TEST(OrderInputsTest, MtimeIsOldestFirstAndUnstatableLast) {
  TempDir dir;
  std::string mid = MakeFile(dir, "mid", 1, 2000);
  std::string old = MakeFile(dir, "old", 1, 1000);
  std::string young = MakeFile(dir, "young", 1, 3000);
  std::string gone = dir.File("gone");
  EXPECT_EQ(Ordered(Order::kMtime, Raws({gone, mid, young, old})),
            (Strings{old, mid, young, gone}));
}

TEST(OrderInputsTest, SizeIsSmallestFirstAndUnstatableLast) {
  TempDir dir;
  std::string big = MakeFile(dir, "big", 300, 1000);
  std::string small = MakeFile(dir, "small", 0, 3000);
  std::string medium = MakeFile(dir, "medium", 20, 2000);
  EXPECT_EQ(Ordered(Order::kSize, Raws({big, "not a file", medium, small})),
            (Strings{small, medium, big, "not a file"}));
}

TEST(OrderInputsTest, EqualKeysKeepGivenOrder) {
  TempDir dir;
  std::string a = MakeFile(dir, "a", 5, 1000);
  std::string b = MakeFile(dir, "b", 5, 1000);
  std::string c = MakeFile(dir, "c", 5, 1000);
  EXPECT_EQ(Ordered(Order::kSize, Raws({c, a, b})), (Strings{c, a, b}));
  EXPECT_EQ(Ordered(Order::kMtime, Raws({b, c, a})), (Strings{b, c, a}));
  EXPECT_EQ(Ordered(Order::kName, Raws({"x", "x", "a"})), (Strings{"a", "x", "x"}));
}

TEST(OrderInputsTest, PriorityBeatsEveryOrder) {
  TempDir dir;
  std::string small_old = MakeFile(dir, "a_small_old", 1, 1000);
  std::string big_young = MakeFile(dir, "z_big_young", 100, 3000);
  for (Order order : {Order::kGiven, Order::kName, Order::kMtime, Order::kSize}) {
    std::vector<RawInput> raws = {Raw(small_old), Raw(big_young, 5), Raw("low", -1)};
    EXPECT_EQ(Ordered(order, raws), (Strings{big_young, small_old, "low"}))
        << static_cast<int>(order);
  }
  std::vector<RawInput> raws = {Raw("b", 1), Raw("a", 1), Raw("c", 2), Raw("d")};
  EXPECT_EQ(Ordered(Order::kGiven, raws), (Strings{"c", "b", "a", "d"}));
  EXPECT_EQ(Ordered(Order::kName, raws), (Strings{"c", "a", "b", "d"}));
}

class MakePlanTest : public ::testing::Test {
 protected:
  MakePlanTest() {
    options_.command = {"prog", "{}"};
    out_dir_ = dir_.File("out");
  }

  // Plans `raws`; expects success.
  Plan MakeOk(std::vector<RawInput> raws) {
    Plan plan;
    Status status = MakePlan(options_, std::move(raws), 42, &plan);
    EXPECT_TRUE(status.ok()) << status.message();
    return plan;
  }

  // Plans `raws`; expects failure and returns its message.
  std::string MakeError(std::vector<RawInput> raws) {
    Plan plan;
    Status status = MakePlan(options_, std::move(raws), 42, &plan);
    EXPECT_FALSE(status.ok());
    return status.message();
  }

  TempDir dir_;
  std::string out_dir_;
  PlanConfig options_;
};

TEST_F(MakePlanTest, NumbersJobsAfterOrderingAndCarriesTheirFields) {
  options_.order = Order::kName;
  std::vector<RawInput> raws = Raws({"b", "c", "a"});
  raws[1].name = "see";
  raws[1].priority = 1;
  raws[1].cmd = {"other", "{}"};
  raws[1].env = {{"K", "V"}};
  Plan plan = MakeOk(raws);
  ASSERT_EQ(plan.to_run.size(), 3u);
  EXPECT_EQ(InputsOf(plan.to_run), (Strings{"c", "a", "b"}));
  const Job& first = plan.to_run[0];
  EXPECT_EQ(first.number, 1);
  EXPECT_EQ(first.name, "see");
  EXPECT_EQ(first.priority, 1);
  EXPECT_EQ(first.argv_template, (Strings{"other", "{}"}));
  EXPECT_EQ(first.env, (std::vector<EnvVar>{{"K", "V"}}));
  EXPECT_EQ(plan.to_run[1].number, 2);
  EXPECT_EQ(plan.to_run[1].name, "a");
  EXPECT_EQ(plan.to_run[1].argv_template, options_.command);
  EXPECT_EQ(plan.to_run[2].number, 3);
  EXPECT_TRUE(plan.skipped.empty());
}

TEST_F(MakePlanTest, CarriesDeclaredFootprints) {
  std::vector<RawInput> raws = Raws({"a", "b"});
  raws[0].gpu_mem = 6ull << 30;
  raws[0].ram = 1ull << 30;
  Plan plan = MakeOk(raws);
  ASSERT_EQ(plan.to_run.size(), 2u);
  EXPECT_EQ(plan.to_run[0].gpu_mem, 6ull << 30);
  EXPECT_EQ(plan.to_run[0].ram, 1ull << 30);
  EXPECT_EQ(plan.to_run[1].gpu_mem, std::nullopt);
  EXPECT_EQ(plan.to_run[1].ram, std::nullopt);
}

TEST_F(MakePlanTest, InputBytesIsTheSizeOfARegularFileElseZero) {
  std::string file = MakeFile(dir_, "clip.mp4", 1234, 1000);
  std::string empty = MakeFile(dir_, "empty.mp4", 0, 1000);
  std::string link = dir_.File("link.mp4");
  ASSERT_EQ(symlink(file.c_str(), link.c_str()), 0);
  for (Order order : {Order::kGiven, Order::kSize, Order::kMtime}) {
    options_.order = order;
    Plan plan = MakeOk(Raws({file, "not a file", dir_.path(), link, empty}));
    ASSERT_EQ(plan.to_run.size(), 5u);
    for (const Job& job : plan.to_run) {
      int64_t expected = (job.input == file || job.input == link) ? 1234 : 0;
      EXPECT_EQ(job.input_bytes, expected) << job.input << " order " << static_cast<int>(order);
    }
  }
}

TEST(OrderInputsTest, StatsAreReorderedWithTheInputs) {
  TempDir dir;
  std::string big = MakeFile(dir, "big", 300, 1000);
  std::string small = MakeFile(dir, "small", 7, 3000);
  std::vector<RawInput> raws = Raws({big, "missing", small});
  std::vector<InputStat> stats = StatInputs(raws);
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_TRUE(stats[0].regular);
  EXPECT_FALSE(stats[1].known);
  OrderInputs(Order::kSize, &raws, &stats);
  EXPECT_EQ(InputsOf(raws), (Strings{small, big, "missing"}));
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].bytes, 7);
  EXPECT_EQ(stats[0].mtime_s, 3000);
  EXPECT_EQ(stats[1].bytes, 300);
  EXPECT_FALSE(stats[2].known);
}

TEST_F(MakePlanTest, WithoutOutputDirThereIsNoManagedOutput) {
  Plan plan = MakeOk(Raws({"a"}));
  ASSERT_EQ(plan.to_run.size(), 1u);
  EXPECT_EQ(plan.to_run[0].output, "");
  EXPECT_EQ(plan.to_run[0].temp_output, "");
}

TEST_F(MakePlanTest, OutputAndTempShareDirectoryAndExtension) {
  options_.output_dir = out_dir_ + "//";
  options_.output_name = "{/.}_1080p.mp4";
  Plan plan = MakeOk(Raws({"videos/a b.mkv", "videos/it's.avi"}));
  ASSERT_EQ(plan.to_run.size(), 2u);
  EXPECT_EQ(plan.to_run[0].output, out_dir_ + "/a b_1080p.mp4");
  EXPECT_EQ(plan.to_run[0].temp_output, out_dir_ + "/.a b_1080p.headroom-42-1.mp4");
  EXPECT_EQ(plan.to_run[1].output, out_dir_ + "/it's_1080p.mp4");
  EXPECT_EQ(plan.to_run[1].temp_output, out_dir_ + "/.it's_1080p.headroom-42-2.mp4");
}

TEST_F(MakePlanTest, DefaultOutputNameIsTheBasename) {
  options_.output_dir = out_dir_;
  Plan plan = MakeOk(Raws({"in/$(x);*.tar.gz", "in/-n", "\xc3\xa9\xff.txt"}));
  EXPECT_EQ(plan.to_run[0].output, out_dir_ + "/$(x);*.tar.gz");
  EXPECT_EQ(plan.to_run[0].temp_output, out_dir_ + "/.$(x);*.tar.headroom-42-1.gz");
  EXPECT_EQ(plan.to_run[1].output, out_dir_ + "/-n");
  EXPECT_EQ(plan.to_run[1].temp_output, out_dir_ + "/.-n.headroom-42-2");
  EXPECT_EQ(plan.to_run[2].output, out_dir_ + "/\xc3\xa9\xff.txt");
}

TEST_F(MakePlanTest, OutputNameMayUseTheJobNumber) {
  options_.output_dir = out_dir_;
  options_.output_name = "{#}.out";
  Plan plan = MakeOk(Raws({"a/x", "b/x"}));
  EXPECT_EQ(plan.to_run[1].output, out_dir_ + "/2.out");
}

TEST_F(MakePlanTest, OutputNameMustBeAPlainFileName) {
  options_.output_dir = out_dir_;
  options_.output_name = "{}";
  EXPECT_EQ(MakeError(Raws({"a/b"})),
            "--output-name '{}' gives 'a/b' for input 'a/b'; expected a file name without '/'");
  options_.output_name = "{/}";
  EXPECT_EQ(MakeError(Raws({"dir/"})),
            "--output-name '{/}' gives '' for input 'dir/'; expected a file name without '/'");
  EXPECT_EQ(MakeError(Raws({"x/.."})),
            "--output-name '{/}' gives '..' for input 'x/..'; expected a file name without '/'");
  EXPECT_EQ(MakeError(Raws({"."})),
            "--output-name '{/}' gives '.' for input '.'; expected a file name without '/'");
}

TEST_F(MakePlanTest, TwoInputsWithOneOutputAreAnError) {
  options_.output_dir = out_dir_;
  EXPECT_EQ(MakeError(Raws({"a/clip.mp4", "b/other.mp4", "b/clip.mp4"})),
            "inputs 'a/clip.mp4' and 'b/clip.mp4' both map to output '" + out_dir_ +
                "/clip.mp4'; use --output-name to tell them apart");
}

TEST_F(MakePlanTest, OutputOverItsOwnInputIsAnError) {
  std::string input = dir_.Write("in/a.mp4");
  options_.output_dir = dir_.File("in/../in");  // the same directory, spelled differently
  EXPECT_EQ(MakeError({Raw(input)}), "output '" + dir_.File("in/../in/a.mp4") +
                                         "' would overwrite its input '" + input +
                                         "'; choose another --output-dir or --output-name");
}

TEST_F(MakePlanTest, OutputOverAnotherJobsInputIsAnError) {
  std::string a = dir_.Write("in/a");
  std::string a_bak = dir_.Write("in/a.bak");
  options_.output_dir = dir_.File("in");
  options_.output_name = "{/}.bak";
  EXPECT_EQ(MakeError({Raw(a), Raw(a_bak)}),
            "output '" + a_bak + "' of input '" + a + "' would overwrite input '" + a_bak + "'");
}

TEST_F(MakePlanTest, OutOrSkipExistingNeedOutputDir) {
  options_.command = {"prog", "{}", "--out={out}"};
  EXPECT_EQ(MakeError(Raws({"a"})), "{out} is used in the command but --output-dir is not given");
  options_.command = {"prog"};
  std::vector<RawInput> raws = Raws({"a"});
  raws[0].cmd = {"x", "{out}"};
  EXPECT_EQ(MakeError(raws), "{out} is used in the command but --output-dir is not given");
  options_.skip_existing = true;
  EXPECT_EQ(MakeError(Raws({"a"})),
            "--skip-existing needs --output-dir (the outputs it looks for)");
}

TEST_F(MakePlanTest, EveryJobNeedsACommand) {
  options_.command.clear();
  std::vector<RawInput> raws = Raws({"a", "b"});
  raws[0].cmd = {"prog"};
  EXPECT_EQ(MakeError(raws),
            "no command for input 'b': give COMMAND after -- or a 'cmd' in the jobs file");
}

TEST_F(MakePlanTest, SkipExistingKeepsNumbersStable) {
  options_.output_dir = out_dir_;
  options_.skip_existing = true;
  dir_.Write("out/b");
  Plan plan = MakeOk(Raws({"in/a", "in/b", "in/c"}));
  EXPECT_EQ(InputsOf(plan.to_run), (Strings{"in/a", "in/c"}));
  EXPECT_EQ(plan.to_run[1].number, 3);
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0].input, "in/b");
  EXPECT_EQ(plan.skipped[0].number, 2);
}

TEST_F(MakePlanTest, ExistingOutputsRunAgainWithoutSkipExisting) {
  options_.output_dir = out_dir_;
  dir_.Write("out/b");
  Plan plan = MakeOk(Raws({"in/a", "in/b"}));
  EXPECT_EQ(plan.to_run.size(), 2u);
  EXPECT_TRUE(plan.skipped.empty());
}

TEST_F(MakePlanTest, MaxCountAppliesAfterSkipping) {
  options_.output_dir = out_dir_;
  options_.skip_existing = true;
  dir_.Write("out/a");
  Plan plan = MakeOk(Raws({"in/a", "in/b", "in/c", "in/d"}));
  EXPECT_EQ(plan.to_run.size(), 3u) << "MakePlan leaves --max-count to its caller";
  ApplyMaxCount(2, &plan);
  EXPECT_EQ(InputsOf(plan.to_run), (Strings{"in/b", "in/c"}));
  EXPECT_EQ(plan.skipped.size(), 1u);
}

TEST_F(MakePlanTest, MaxCountZeroRunsNothingAndLargeCountKeepsAllAndNoneKeepsAll) {
  Plan plan = MakeOk(Raws({"a", "b"}));
  ApplyMaxCount(10, &plan);
  EXPECT_EQ(plan.to_run.size(), 2u);
  ApplyMaxCount(std::nullopt, &plan);
  EXPECT_EQ(plan.to_run.size(), 2u);
  ApplyMaxCount(0, &plan);
  EXPECT_TRUE(plan.to_run.empty());
}

TEST_F(MakePlanTest, OutputListNeedsOutputDir) {
  options_.command = {"prog", "{@}", "--outs={@out}"};
  EXPECT_EQ(MakeError(Raws({"a"})), "{@out} is used in the command but --output-dir is not given");
  options_.output_dir = out_dir_;
  EXPECT_EQ(MakeOk(Raws({"a", "b"})).to_run.size(), 2u);
}

TEST_F(MakePlanTest, ResultsPlaceholderNeedsBatchResults) {
  options_.command = {"prog", "{}", "--results={results}"};
  EXPECT_EQ(MakeError(Raws({"a"})),
            "{results} is used in the command but --batch-results is not given");
  options_.command = {"prog"};
  std::vector<RawInput> raws = Raws({"a"});
  raws[0].cmd = {"x", "{results}"};
  EXPECT_EQ(MakeError(raws), "{results} is used in the command but --batch-results is not given");
  options_.batch_results = "res.jsonl";
  EXPECT_EQ(MakeOk(raws).to_run.size(), 1u);
}

TEST_F(MakePlanTest, ResultsFileMustDifferBetweenUnitsRunningAtOnce) {
  options_.batch_results = "out/res.jsonl";
  options_.slots = 1;
  EXPECT_EQ(MakeOk(Raws({"a", "b"})).to_run.size(), 2u);
  options_.slots = 4;
  EXPECT_EQ(MakeError(Raws({"a"})),
            "--batch-results 'out/res.jsonl' would be shared by batches running at once: "
            "put {#} or {%} in it");
  options_.batch_results = "res-{#}.jsonl";
  EXPECT_EQ(MakeOk(Raws({"a"})).to_run.size(), 1u);
  options_.batch_results = "res-{%}.jsonl";
  EXPECT_EQ(MakeOk(Raws({"a"})).to_run.size(), 1u);
  options_.batch_results = "res-{/}.jsonl";  // per input, not per unit
  EXPECT_FALSE(MakeError(Raws({"a"})).empty());
}

}  // namespace
}  // namespace headroom

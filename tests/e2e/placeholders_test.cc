// Placeholders ({} {/} {.} {/.} {//} {#} {%} {out}), the input appended when
// there is none, and --dry-run / list printing pasteable commands.
#include <set>

#include "harness.h"

namespace headroom::e2e {
namespace {

using Calls = std::vector<std::vector<std::string>>;

class PlaceholdersTest : public E2eTest {};

TEST_F(PlaceholdersTest, EachPlaceholderExpands) {
  std::string rec = RecorderScript();
  RunResult r =
      Hr({"run", "-j1", "--", rec, "{}", "{/}", "{.}", "{/.}", "{//}", "{#}", "{%}", "pre{}post",
          "--name={/.}.mkv", "{/}{#}", ":::", "d1/sub.dir/file.tar.gz", "plain", "a.d/b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      Recorded(),
      (Calls{
          {"d1/sub.dir/file.tar.gz", "file.tar.gz", "d1/sub.dir/file.tar", "file.tar", "d1/sub.dir",
           "1", "1", "pred1/sub.dir/file.tar.gzpost", "--name=file.tar.mkv", "file.tar.gz1"},
          {"plain", "plain", "plain", "plain", ".", "2", "1", "preplainpost", "--name=plain.mkv",
           "plain2"},
          {"a.d/b", "b", "a.d/b", "b", "a.d", "3", "1", "prea.d/bpost", "--name=b.mkv", "b3"}}));
}

TEST_F(PlaceholdersTest, InputAppendedWhenNoPlaceholder) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j1", "--", rec, "x", "-y", ":::", "in 1", "in2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"x", "-y", "in 1"}, {"x", "-y", "in2"}}));
}

TEST_F(PlaceholdersTest, NotAppendedWhenAnyArgumentHasAPlaceholder) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j1", "--", rec, "x", "--n={#}", ":::", "a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"x", "--n=1"}}));
}

TEST_F(PlaceholdersTest, UnknownBraceWordsStayLiteral) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j1", "--", rec, "{foo}", "{", ":::", "a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"{foo}", "{", "a"}}));
}

TEST_F(PlaceholdersTest, SlotNumberIsWithinJobsAndMatchesEnvironment) {
  std::string job = Script("slot.sh", "echo \"$1 $2 $HEADROOM_JOB_NUMBER $HEADROOM_SLOT\" > \"" +
                                          Path("slot_") + "$1\"\nsleep 0.1\n");
  RunResult r = Hr({"run", "-j2", "--", job, "{#}", "{%}", ":::", "a", "b", "c", "d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> slots_seen;
  for (int n = 1; n <= 4; ++n) {
    std::string line = ReadFile(Path("slot_" + std::to_string(n)));
    ASSERT_FALSE(line.empty()) << "job " << n << " did not run";
    char number[16], slot[16], env_number[16], env_slot[16];
    ASSERT_EQ(std::sscanf(line.c_str(), "%15s %15s %15s %15s", number, slot, env_number, env_slot),
              4)
        << line;
    EXPECT_EQ(std::string(number), std::to_string(n));
    EXPECT_EQ(std::string(env_number), std::string(number)) << line;
    EXPECT_EQ(std::string(env_slot), std::string(slot)) << line;
    EXPECT_TRUE(std::string(slot) == "1" || std::string(slot) == "2") << line;
    slots_seen.insert(slot);
  }
  EXPECT_EQ(slots_seen.size(), 2u);
}

// Pastes each printed line into /bin/sh, as a user would.
void RunPrinted(const std::vector<std::string>& lines, const std::string& cwd) {
  RunOptions opts;
  opts.cwd = cwd;
  for (const std::string& line : lines) {
    RunResult sh = RunProgram({"/bin/sh", "-c", line}, opts);
    EXPECT_EQ(sh.exit_code, 0) << line << "\n" << sh.err;
  }
}

TEST_F(PlaceholdersTest, DryRunPrintsPasteableCommandsAndRunsNothing) {
  std::string rec = RecorderScript();
  std::vector<std::string> names = HostileNames();
  std::vector<std::string> args = {"run", "--dry-run", "-j1", "--", rec, "--in={}", "{/.}", ":::"};
  args.insert(args.end(), names.begin(), names.end());
  RunResult r = Hr(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(FileExists(Path("record"))) << "--dry-run ran a job";
  std::vector<std::string> lines = r.OutLines();
  ASSERT_EQ(lines.size(), names.size()) << r.out;
  RunPrinted(lines, dir_.path());
  Calls expected;
  for (const std::string& name : names) {
    std::string stem = name.substr(0, name.rfind('.'));
    expected.push_back({"--in=" + name, stem});
  }
  EXPECT_EQ(Recorded(), expected);
  EXPECT_FALSE(FileExists(Path("pwned")));
  EXPECT_FALSE(FileExists(Path("pwned2")));
}

TEST_F(PlaceholdersTest, ListPrintsTheSameAsDryRun) {
  std::string rec = RecorderScript();
  MakeDirs(Path("in"));
  for (const std::string& name : HostileNames()) WriteFile(Path("in/" + name), "x");
  RunResult list = Hr({"list", "--input-dir", Path("in"), "--", rec});
  RunResult dry = Hr({"run", "--dry-run", "--input-dir", Path("in"), "--", rec});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(list.out, dry.out);
  EXPECT_FALSE(FileExists(Path("record")));
  std::vector<std::string> lines = list.OutLines();
  ASSERT_EQ(lines.size(), HostileNames().size()) << list.out;
  RunPrinted(lines, dir_.path());
  std::set<std::string> got;
  for (const auto& call : Recorded()) {
    ASSERT_EQ(call.size(), 1u);
    got.insert(call[0]);
  }
  std::set<std::string> expected;
  for (const std::string& name : HostileNames()) expected.insert(Path("in/" + name));
  EXPECT_EQ(got, expected);
}

// `list` prints what `run` starts, in the order it starts it, grouped as it
// groups: a jobs file whose priorities reorder it, a job with a command of
// its own in between, --batch-size 2. Both come from the scheduler's unit
// plan (sched/unit_plan.h).
TEST_F(PlaceholdersTest, ListPrintsWhatRunStartsWithPrioritiesAndBatches) {
  std::string rec = RecorderScript();
  WriteFile(Path("jobs.jsonl"),
            "{\"input\": \"a1\", \"priority\": 1}\n"
            "{\"input\": \"b1\", \"priority\": 1, \"cmd\": [\"" + rec + "\", \"B\", \"{}\"]}\n"
            "{\"input\": \"a2\", \"priority\": 1}\n"
            "{\"input\": \"a3\", \"priority\": 5}\n"
            "{\"input\": \"a4\", \"priority\": 1}\n"
            "{\"input\": \"a5\", \"priority\": 5}\n"
            "{\"input\": \"a6\"}\n");
  std::vector<std::string> args = {"--jobs-file", Path("jobs.jsonl"), "--batch-size", "2",
                                   "-j1", "--", rec, "{}"};
  std::vector<std::string> list_args = {"list"};
  list_args.insert(list_args.end(), args.begin(), args.end());
  RunResult list = Hr(list_args);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  RunPrinted(list.OutLines(), dir_.path());
  Calls listed = Recorded();
  RemoveAll(Path("record"));

  std::vector<std::string> run_args = {"run", "--no-journal"};
  run_args.insert(run_args.end(), args.begin(), args.end());
  RunResult run = Hr(run_args);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Recorded(), listed);
  // Priority 5 first; a unit takes the next jobs of its command and
  // priority, skipping b1; a4 and a6 differ in priority.
  EXPECT_EQ(listed, (Calls{{"a3", "a5"}, {"a1", "a2"}, {"B", "b1"}, {"a4"}, {"a6"}}));
}

TEST_F(PlaceholdersTest, DryRunUnderShellPrintsAShellCommand) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "--dry-run", "--shell", "--", rec, "{}", ":::", "it's", "$(x) y"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = r.OutLines();
  ASSERT_EQ(lines.size(), 2u) << r.out;
  RunPrinted(lines, dir_.path());
  EXPECT_EQ(Recorded(), (Calls{{"it's"}, {"$(x) y"}}));
}

TEST_F(PlaceholdersTest, DryRunHonoursMaxCountAndOrder) {
  std::string rec = RecorderScript();
  RunResult r =
      Hr({"list", "--order", "name", "--max-count", "2", "--", rec, ":::", "c", "a", "b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = r.OutLines();
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_TRUE(lines[0].size() >= 2 && lines[0].substr(lines[0].size() - 2) == " a") << lines[0];
  EXPECT_TRUE(lines[1].size() >= 2 && lines[1].substr(lines[1].size() - 2) == " b") << lines[1];
}

}  // namespace
}  // namespace headroom::e2e

// Outputs: {out} is a hidden temp path renamed into place on success and
// removed otherwise; collisions are caught before anything runs;
// --skip-existing, --max-count and --order.
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "harness.h"

namespace headroom::e2e {
namespace {

using Calls = std::vector<std::vector<std::string>>;

class OutputsTest : public E2eTest {
 protected:
  // Job: records the {out} it was given in saw_<basename>, writes
  // "data-<input>" there, and exits with <code> (its second argument).
  std::string WriterScript() {
    return Script("writer.sh", "printf '%s' \"$2\" > \"" + Path("saw_") +
                                   "$(basename \"$1\")\"\n"
                                   "echo \"data-$1\" > \"$2\"\n"
                                   "exit \"${3:-0}\"\n");
  }
};

std::string DirOf(const std::string& path) { return path.substr(0, path.rfind('/')); }
std::string BaseOf(const std::string& path) { return path.substr(path.rfind('/') + 1); }

TEST_F(OutputsTest, SuccessRenamesTempOutputIntoPlace) {
  std::string job = WriterScript();
  RunResult r = Hr({"run", "--output-dir", Path("out"), "--output-name", "{/.}.txt", "--", job,
                    "{}", "{out}", ":::", "in/a.mp4"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(ReadFile(Path("out/a.txt")), "data-in/a.mp4\n");
  EXPECT_EQ(ListDir(Path("out")), std::vector<std::string>{"a.txt"});

  std::string saw = ReadFile(Path("saw_a.mp4"));
  ASSERT_FALSE(saw.empty());
  EXPECT_NE(saw, Path("out/a.txt"));
  EXPECT_NE(BaseOf(saw), "a.txt");
  // Same directory (so the rename is atomic), hidden, same extension.
  std::string saw_dir = DirOf(saw);
  struct stat a, b;
  ASSERT_EQ(stat(saw_dir.c_str(), &a), 0) << saw;
  ASSERT_EQ(stat(Path("out").c_str(), &b), 0);
  EXPECT_TRUE(a.st_ino == b.st_ino && a.st_dev == b.st_dev) << saw;
  EXPECT_EQ(BaseOf(saw)[0], '.') << saw;
  EXPECT_TRUE(saw.size() > 4 && saw.substr(saw.size() - 4) == ".txt") << saw;
  EXPECT_FALSE(FileExists(saw));
}

// A job that exits 0 without writing {out} has not done its work: it failed,
// and the console says why.
TEST_F(OutputsTest, ExitZeroWithoutAnOutputIsAFailure) {
  RunResult r = Hr({"run", "--output-dir", Path("out"), "--", "true", "{out}", ":::", "a.txt"});
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_TRUE(Contains(r.out + r.err, "FAILED: a.txt (no output written (expected '" +
                                          Path("out") + "/a.txt'))"))
      << r.out << r.err;
}

// The longest valid output name still gets its output: the temp name fits.
TEST_F(OutputsTest, AnOutputNameOf255BytesIsProduced) {
  std::string job = WriterScript();
  std::string name(251, 'n');
  RunResult r = Hr({"run", "--output-dir", Path("out"), "--output-name", "{}.txt", "--", job, "{}",
                    "{out}", ":::", name});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(ReadFile(Path("out/" + name + ".txt")), "data-" + name + "\n");
}

TEST_F(OutputsTest, FailureLeavesNoPartialOrTempFile) {
  std::string job = WriterScript();
  RunResult r = Hr(
      {"run", "--output-dir", Path("out"), "--", job, "{}", "{out}", "3", ":::", "a.mkv", "b.mkv"});
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_FALSE(ReadFile(Path("saw_a.mkv")).empty()) << "job a did not run";
  EXPECT_FALSE(ReadFile(Path("saw_b.mkv")).empty()) << "job b did not run";
  EXPECT_EQ(ListDir(Path("out")), std::vector<std::string>{});
}

TEST_F(OutputsTest, FailureKeepsAnEarlierFinalOutput) {
  MakeDirs(Path("out"));
  WriteFile(Path("out/a.mkv"), "old");
  std::string job = WriterScript();
  RunResult r =
      Hr({"run", "--output-dir", Path("out"), "--", job, "{}", "{out}", "1", ":::", "a.mkv"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ReadFile(Path("out/a.mkv")), "old");
  EXPECT_EQ(ListDir(Path("out")), std::vector<std::string>{"a.mkv"});
}

TEST_F(OutputsTest, TimedOutJobLeavesNoTempFile) {
  std::string job = Script("slow.sh", "echo partial > \"$1\"\nexec sleep 10\n");
  RunResult r = Hr({"run", "--timeout", "0.2s", "--kill-grace", "0.2s", "--output-dir", Path("out"),
                    "--", job, "{out}", ":::", "a.bin"});
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_LT(r.seconds, 3.0);
  EXPECT_EQ(ListDir(Path("out")), std::vector<std::string>{});
}

TEST_F(OutputsTest, RetriedJobCommitsOnlyTheSuccessfulAttempt) {
  std::string job = Script(
      "flaky.sh", "c=\"" + Path("count") +
                      "\"\n"
                      "n=$(cat \"$c\" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > \"$c\"\n"
                      "echo \"attempt $n\" > \"$1\"\n"
                      "[ $n -ge 2 ]\n");
  RunResult r = Hr({"run", "--retries", "1", "--retry-delay", "0", "--output-dir", Path("out"),
                    "--", job, "{out}", ":::", "a.bin"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(ReadFile(Path("out/a.bin")), "attempt 2\n");
  EXPECT_EQ(ListDir(Path("out")), std::vector<std::string>{"a.bin"});
}

TEST_F(OutputsTest, OutputDirIsCreatedAndDefaultNameIsBasename) {
  std::string job = WriterScript();
  RunResult r = Hr({"run", "--output-dir", Path("deep/out/dir"), "--", job, "{}", "{out}",
                    ":::", "some/where/v.mkv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Path("deep/out/dir/v.mkv")), "data-some/where/v.mkv\n");
}

// Not given {out}, a job's output is its own business: writing nothing is fine.
TEST_F(OutputsTest, AJobNotGivenItsOutputMayWriteNothing) {
  RunResult r = Hr({"run", "--output-dir", Path("out"), "--", "/bin/true", "{}", ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ListDir(Path("out")), std::vector<std::string>{});
}

TEST_F(OutputsTest, CollisionIsAnInputErrorBeforeAnythingRuns) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "--output-dir", Path("out"), "--", rec, "{}", "{out}", ":::", "first",
                    "a/x.mp4", "b/x.mp4"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  ASSERT_EQ(r.ErrLines().size(), 1u) << r.err;
  EXPECT_TRUE(StartsWith(r.err, "headroom: error: ")) << r.err;
  EXPECT_TRUE(Contains(r.err, "x.mp4")) << r.err;
  EXPECT_FALSE(FileExists(Path("record"))) << "a job ran despite the collision";
}

TEST_F(OutputsTest, CollisionThroughOutputNameTemplate) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "--output-dir", Path("out"), "--output-name", "same.txt", "--", rec,
                    "{out}", ":::", "a", "b"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(StartsWith(r.err, "headroom: error: ")) << r.err;
  EXPECT_TRUE(Contains(r.err, "same.txt")) << r.err;
  EXPECT_FALSE(FileExists(Path("record")));
}

TEST_F(OutputsTest, SkipExistingSkipsAndCountsJobsWhoseOutputExists) {
  MakeDirs(Path("out"));
  WriteFile(Path("out/b.txt"), "keep me");
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j1", "--output-dir", Path("out"), "--output-name", "{/}.txt",
                    "--skip-existing", "--", rec, "{}", ":::", "a", "b", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"a"}, {"c"}}));
  EXPECT_EQ(ReadFile(Path("out/b.txt")), "keep me");
  std::vector<std::string> summary = Grep(r.err, "headroom: 3 jobs:");
  ASSERT_EQ(summary.size(), 1u) << r.out;
  EXPECT_TRUE(Contains(summary[0], "2 succeeded")) << summary[0];
  EXPECT_TRUE(Contains(summary[0], "1 skipped")) << summary[0];
}

TEST_F(OutputsTest, SkipExistingWithEverythingDoneRunsNothing) {
  MakeDirs(Path("out"));
  WriteFile(Path("out/a"), "x");
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "--output-dir", Path("out"), "--skip-existing", "--", rec, ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(FileExists(Path("record")));
  EXPECT_TRUE(Contains(r.err, "1 skipped")) << r.out;
}

TEST_F(OutputsTest, MaxCountRunsAtMostN) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j1", "--max-count", "2", "--", rec, ":::", "a", "b", "c", "d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"a"}, {"b"}}));
  // The batch holds the jobs it ran, not two more left queued forever.
  RunResult status = Hr({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  nlohmann::json counts = nlohmann::json::parse(status.out)["counts"];
  EXPECT_EQ(counts["total"], 2) << status.out;
  EXPECT_EQ(counts["succeeded"], 2) << status.out;
}

class OrderTest : public OutputsTest {
 protected:
  // given: b c a; name: a b c; mtime (oldest first): c a b; size: b a c.
  void SetUp() override {
    double now = WallNow();
    WriteFile(Path("b.dat"), std::string(100, 'x'));
    WriteFile(Path("c.dat"), std::string(300, 'x'));
    WriteFile(Path("a.dat"), std::string(200, 'x'));
    SetMtime(Path("c.dat"), now - 3000);
    SetMtime(Path("a.dat"), now - 2000);
    SetMtime(Path("b.dat"), now - 1000);
  }
  Calls RunOrder(const std::string& order) {
    RemoveAll(Path("record"));
    std::string rec = RecorderScript();
    RunResult r =
        Hr({"run", "-j1", "--order", order, "--", rec, "{/.}", ":::", "b.dat", "c.dat", "a.dat"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Recorded();
  }
};

TEST_F(OrderTest, Given) { EXPECT_EQ(RunOrder("given"), (Calls{{"b"}, {"c"}, {"a"}})); }
TEST_F(OrderTest, Name) { EXPECT_EQ(RunOrder("name"), (Calls{{"a"}, {"b"}, {"c"}})); }
TEST_F(OrderTest, MtimeOldestFirst) { EXPECT_EQ(RunOrder("mtime"), (Calls{{"c"}, {"a"}, {"b"}})); }
TEST_F(OrderTest, SizeSmallestFirst) { EXPECT_EQ(RunOrder("size"), (Calls{{"b"}, {"a"}, {"c"}})); }

TEST_F(OrderTest, PriorityBeatsOrder) {
  WriteFile(Path("jobs.jsonl"),
            "{\"input\": \"a.dat\"}\n"
            "{\"input\": \"b.dat\", \"priority\": 5}\n"
            "{\"input\": \"c.dat\", \"priority\": 1}\n"
            "{\"input\": \"d.dat\", \"priority\": -1}\n"
            "{\"input\": \"e.dat\", \"priority\": 5}\n");
  std::string rec = RecorderScript();
  RunResult r =
      Hr({"run", "-j1", "--order", "name", "--jobs-file", Path("jobs.jsonl"), "--", rec, "{/.}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"b"}, {"e"}, {"c"}, {"a"}, {"d"}}));
}

TEST_F(OrderTest, NumbersFollowTheOrder) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j1", "--order", "size", "--", rec, "{#}", "{/.}", ":::", "b.dat",
                    "c.dat", "a.dat"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"1", "b"}, {"2", "a"}, {"3", "c"}}));
}

}  // namespace
}  // namespace headroom::e2e

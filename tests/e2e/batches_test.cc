// End-to-end: --batch-size, several inputs per process (docs/batches.md).
// BatchExec: what one unit's process gets (its command, list files, results
// file, environment), the option checks, and headroom-simgpu's per-input
// model (docs/simgpu.md).
#include <string>
#include <vector>

#include "harness.h"

namespace headroom::e2e {
namespace {

using Calls = std::vector<std::vector<std::string>>;

class BatchExec : public E2eTest {
 protected:
#ifdef HEADROOM_SIMGPU_BIN
  // headroom-simgpu on a 10000 MiB device.
  RunResult SimAlloc(std::vector<std::string> args) {
    WriteFile(Path("sim.json"), R"({"devices": [{"name": "SimGPU-10G", "memory_mib": 10000}]})");
    RunOptions options = Opts();
    options.env.push_back("HEADROOM_GPU_SIM=" + Path("sim.json"));
    options.env.push_back("CUDA_VISIBLE_DEVICES=0");
    args.insert(args.begin(), {HEADROOM_SIMGPU_BIN, "alloc"});
    return RunProgram(args, options);
  }
#endif
};

TEST_F(BatchExec, ResultsPlaceholderNeedsBatchResults) {
  RunResult r = Hr({"run", "--batch-size", "2", "--", "true", "{results}", ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "headroom: error: {results} is used in the command but --batch-results is not "
            "given\n");
}

TEST_F(BatchExec, AResultsFileSharedByUnitsRunningAtOnceIsRefused) {
  RunResult r = Hr({"run", "-j", "2", "--batch-size", "2", "--batch-results", "res.jsonl", "--",
                    "true", ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "headroom: error: --batch-results 'res.jsonl' would be shared by batches running at "
            "once: put {#} or {%} in it\n");
}

TEST_F(BatchExec, OutputListNeedsOutputDir) {
  RunResult r = Hr({"run", "--batch-size", "2", "--", "true", "{@out}", ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "headroom: error: {@out} is used in the command but --output-dir is not given\n");
}

TEST_F(BatchExec, AUnitsInputsGoToOneProcess) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j1", "--batch-size", "3", "--", rec, ":::", "a", "b c", "d", "e"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"a", "b c", "d"}, {"e"}}));
}

TEST_F(BatchExec, AnArgumentWithAPerInputPlaceholderIsRepeated) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j1", "--batch-size", "2", "--", rec, "--in={}", "-n", "{#}", "{/.}",
                    ":::", "d/a.mp4", "b.mkv", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"--in=d/a.mp4", "--in=b.mkv", "-n", "1", "a", "b"},
                               {"--in=c", "-n", "3", "c"}}));
}

TEST_F(BatchExec, ShellModeQuotesEachInput) {
  RunResult r =
      Hr({"run", "-j1", "--shell", "--batch-size", "3", "--",
          "printf '<%s>' {} > " + Path("got") + "; echo $HEADROOM_BATCH_SIZE >> " + Path("got"),
          ":::", "a b", "it's", "$(x)"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Path("got")), "<a b><it's><$(x)>3\n");
}

TEST_F(BatchExec, TheProcessKnowsItsUnit) {
  std::string job = Script("env.sh", "echo \"$HEADROOM_JOB_NUMBER $HEADROOM_BATCH_SIZE $*\" >> \"" +
                                         Path("env") + "\"\n");
  RunResult r = Hr({"run", "-j1", "--batch-size", "2", "--", job, ":::", "a", "b", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Path("env")), "1 2 a b\n3 1 c\n");
}

TEST_F(BatchExec, ListFilesSitBesideTheUnitsLogs) {
  // The program reads its inputs and writes its outputs through the lists;
  // each output is then committed under its final name.
  std::string job = Script("lists.sh",
                           "paste -d '\\n' \"$1\" \"$2\" | while read -r in && read -r out; do\n"
                           "  echo \"from $in\" > \"$out\"\n"
                           "done\n");
  MakeDirs(Path("in"));
  for (const char* name : {"a.txt", "b.txt", "c.txt"})
    WriteFile(Path(std::string("in/") + name), "x");
  RunResult r = Hr({"run", "-j1", "--batch-size", "2", "--input-dir", Path("in"), "--output-dir",
                    Path("out"), "--", job, "{@}", "{@out}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ListDir(Path("out")), (std::vector<std::string>{"a.txt", "b.txt", "c.txt"}));
  EXPECT_EQ(ReadFile(Path("out/b.txt")), "from " + Path("in/b.txt") + "\n");
  std::string logs = JobsLogDir();
  std::vector<std::string> lists;
  for (const std::string& name : ListDir(logs)) {
    if (name.ends_with(".inputs") || name.ends_with(".outputs")) lists.push_back(name);
  }
  ASSERT_EQ(lists.size(), 4u) << ::testing::PrintToString(ListDir(logs));
  EXPECT_EQ(ReadFile(logs + "/" + lists[0]), Path("in/a.txt") + "\n" + Path("in/b.txt") + "\n");
  EXPECT_EQ(ReadFile(logs + "/" + lists[2]), Path("in/c.txt") + "\n");
  EXPECT_TRUE(Contains(ReadFile(logs + "/" + lists[1]), "/out/.a.headroom-")) << lists[1];
}

#ifdef HEADROOM_SIMGPU_BIN

TEST_F(BatchExec, SimGpuAllocGrowsWithItsInputs) {
  // 1000 + 3 x 3000 = 10000 MiB fits the 10000 MiB device exactly...
  RunResult r =
      SimAlloc({"--mib", "1000", "--per-input-mib", "3000", "--seconds", "0", "a", "b", "c"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // ...a fourth input does not: one allocation of 13000 MiB is tried.
  r = SimAlloc({"--mib=1000", "--per-input-mib=3000", "--seconds=0", "a", "b", "c", "d"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "CUDA out of memory. Tried to allocate 13000 MiB (GPU 0; 10000 MiB total capacity; 0 "
            "MiB already allocated)\n");
  // Option values are not inputs; without the options inputs change nothing.
  r = SimAlloc({"--mib", "10000", "--seconds", "0", "a", "b", "c", "d"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(BatchExec, SimGpuAllocRunsLongerWithMoreInputs) {
  RunResult r = SimAlloc({"--mib", "10", "--seconds", "0", "--per-input-seconds", "0.3", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(r.seconds, 0.3);
  r = SimAlloc({"--mib", "10", "--seconds", "0.1", "--per-input-seconds", "0.3", "a", "b", "c"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(r.seconds, 1.0);
}

TEST_F(BatchExec, SimGpuPerInputOptionsAreChecked) {
  RunResult r = SimAlloc({"--mib", "10", "--seconds", "0", "--per-input-mib", "-1", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "headroom-simgpu: error: --per-input-mib '-1': expected a number >= 0\n");
}

#endif  // HEADROOM_SIMGPU_BIN

}  // namespace
}  // namespace headroom::e2e

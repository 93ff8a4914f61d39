// End-to-end: how the scheduler sizes batches (--batch-size): a batch that
// runs out of memory on the simulated GPU is halved down to what fits, and
// --batch-size auto grows batches to what the learned footprint fits, with
// the summary and the report counting inputs and processes
// (docs/batches.md). The expansion itself is tested in batches_test.cc.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "harness.h"

#ifdef HEADROOM_SIMGPU_BIN

namespace headroom::e2e {
namespace {

class BatchSched : public E2eTest {
 protected:
  void SetUp() override {
    WriteFile(Path("sim.json"), R"({"devices": [{"name": "SimGPU-16G", "memory_mib": 16384}]})");
  }
  RunOptions SimOpts() const {
    RunOptions options = Opts();
    options.env.push_back("HEADROOM_GPU_SIM=" + Path("sim.json"));
    options.timeout_s = 60;
    return options;
  }
  // A program that holds 2000 MiB plus 2500 MiB per input for 0.3 s.
  std::vector<std::string> Alloc() const {
    return {HEADROOM_SIMGPU_BIN, "alloc", "--mib", "2000", "--per-input-mib", "2500",
            "--seconds", "0.3", "--ramp", "0.1"};
  }
  static std::vector<std::string> Inputs(int n) {
    std::vector<std::string> inputs = {":::"};
    for (int i = 1; i <= n; ++i) inputs.push_back(std::to_string(i));
    return inputs;
  }
  nlohmann::json Report() const { return nlohmann::json::parse(ReadFile(Path("r.json"))); }
};

TEST_F(BatchSched, ABatchThatRunsOutOfMemoryIsHalvedDownToWhatFits) {
  // 8 inputs need 22000 MiB of 16384; 4 need 12000.
  std::vector<std::string> args = {"run", "--batch-size", "8", "--monitor-interval", "100ms",
                                   "--report", Path("r.json"), "--"};
  for (const std::string& word : Alloc()) args.push_back(word);
  for (const std::string& word : Inputs(16)) args.push_back(word);
  RunResult r = Hr(args, SimOpts());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "16 succeeded, 0 failed")) << r.out;
  EXPECT_TRUE(Contains(r.err, "8 out-of-memory retries, 5 batches")) << r.out;
  nlohmann::json report = Report();
  nlohmann::json totals = report["totals"];
  EXPECT_EQ(totals["processes"], 5) << totals;  // one of 8, then four of 4
  EXPECT_EQ(totals["oom_attempts"], 8) << totals;
  EXPECT_EQ(totals["succeeded"], 16) << totals;
  // Halving does not spend the inputs' --oom-retries: no input needed a third attempt.
  for (const auto& job : report["jobs"]) EXPECT_LE(job["attempts"].size(), 2u) << job;
}

TEST_F(BatchSched, AutoGrowsBatchesToWhatTheLearnedFootprintFits) {
  std::vector<std::string> args = {"run", "-j1", "--batch-size", "auto", "--monitor-interval",
                                   "100ms", "--report", Path("r.json"), "-v", "--"};
  for (const std::string& word : Alloc()) args.push_back(word);
  for (const std::string& word : Inputs(24)) args.push_back(word);
  RunResult r = Hr(args, SimOpts());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json totals = Report()["totals"];
  EXPECT_EQ(totals["succeeded"], 24) << totals;
  EXPECT_EQ(totals["oom_attempts"], 0) << totals;
  // The first batch measures with one input; later ones hold several (four
  // fit: 12000 of the 13926 MiB under --vram-high), so far fewer processes
  // than inputs.
  EXPECT_LE(totals["processes"].get<int>(), 12) << totals;
  std::vector<std::string> starts = Grep(r.err, "START: ");
  ASSERT_FALSE(starts.empty()) << r.out;
  EXPECT_TRUE(Contains(starts.front(), "--ramp 0.1 1")) << starts.front();
  bool four = false;
  for (const std::string& line : starts) four = four || Contains(line, " 7 8 9 10");
  EXPECT_TRUE(four) << r.out;
}

// At -j2 the two slots often free together; each must not get only half
// the room and stay at one input per process: sizes grow a step at a time
// (2000 MiB + 500 MiB per input on 16 GiB: several inputs fit per slot).
TEST_F(BatchSched, AutoGrowsBatchesAtTwoSlotsToo) {
  std::vector<std::string> args = {"run", "-j2", "--batch-size", "auto", "--monitor-interval",
                                   "100ms", "--report", Path("r.json"), "--",
                                   HEADROOM_SIMGPU_BIN, "alloc", "--mib", "2000",
                                   "--per-input-mib", "500", "--seconds", "0.3"};
  for (const std::string& word : Inputs(40)) args.push_back(word);
  RunResult r = Hr(args, SimOpts());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json totals = Report()["totals"];
  EXPECT_EQ(totals["succeeded"], 40) << totals;
  EXPECT_EQ(totals["oom_attempts"], 0) << totals;
  EXPECT_LE(totals["processes"].get<int>(), 20) << totals;
}

TEST_F(BatchSched, ABatchFailsOrSucceedsAsAWholeWithoutResults) {
  std::string script = Script("fail-on-b.sh", R"(for x in "$@"; do [ "$x" = b ] && exit 3; done; exit 0)");
  RunResult r = Hr({"run", "--batch-size", "2", "--", script, ":::", "a", "b", "c", "d"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "2 succeeded, 2 failed")) << r.out;
  EXPECT_TRUE(Contains(r.err, "FAILED: a")) << r.out;  // a shared b's process
}

TEST_F(BatchSched, WithResultsOnlyTheFailedInputIsRetried) {
  // The program reports each input; it fails "b" the first time only.
  std::string script = Script("per-input.sh", R"(
for x in "$@"; do
  if [ "$x" = b ] && [ ! -e seen-b ]; then
    : > seen-b
    echo '{"input": "b", "ok": false, "error": "bad frame"}' >> "$HEADROOM_BATCH_RESULTS"
  else
    echo "{\"input\": \"$x\", \"ok\": true}" >> "$HEADROOM_BATCH_RESULTS"
    echo "$x" >> done.txt
  fi
done
exit 1)");
  RunResult r = Hr({"run", "-j1", "--batch-size", "3", "--retries", "1", "--retry-delay", "0",
                    "--batch-results", "results-{#}.jsonl", "--", script, ":::", "a", "b", "c",
                    "d"},
                   Opts());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "4 succeeded, 0 failed")) << r.out;
  // a and c ran once, b twice (its retry went with d).
  EXPECT_EQ(ReadFile(Path("done.txt")), "a\nc\nb\nd\n");
}

}  // namespace
}  // namespace headroom::e2e

#endif  // HEADROOM_SIMGPU_BIN

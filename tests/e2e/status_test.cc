// End-to-end: `headroom status` reads a batch from the journal that `headroom
// run` writes (src/journal/journal_recorder), from another process, while the
// batch runs, after it ended, and after its headroom was killed.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"

namespace headroom::e2e {
namespace {

using Json = nlohmann::json;

class StatusTest : public E2eTest {
 protected:
  void SetUp() override {
    WriteFile(Path("sim.json"),
              R"({"devices": [{"name": "SimGPU", "memory_mib": 10240, "temperature_c": 45}]})");
  }
  // Jobs left behind by a killed headroom must not outlive the test.
  void TearDown() override { WriteFile(Path("go"), ""); }

  RunOptions SimOpts() const {
    RunOptions options = Opts();
    options.env.push_back("HEADROOM_GPU_SIM=" + Path("sim.json"));
    return options;
  }

  // A job that says it started (started_<input>), then waits for the file
  // "go" (or for the test's directory to go away); input "bad" then fails.
  std::string GatedJob() const {
    return Script("job.sh", "touch \"" + Path("started_") + "$1\"\nwhile [ ! -e \"" + Path("go") +
                                "\" ] && [ -d \"" + Path("") + "\" ]; do sleep 0.02; done\n" +
                                "[ \"$1\" != bad ] || exit 3\n");
  }

  std::unique_ptr<Process> StartBatch(const std::vector<std::string>& inputs) {
    std::vector<std::string> args = {"run",  "-j2", "--gpu-mem", "1G", "--monitor-interval",
                                     "50ms", "--",  GatedJob(),  "{}", ":::"};
    args.insert(args.end(), inputs.begin(), inputs.end());
    return Start(args, SimOpts());
  }

  size_t Started() const {
    size_t count = 0;
    for (const std::string& name : ListDir(dir_.path())) count += StartsWith(name, "started_");
    return count;
  }

  // `status --json` (plus `extra`); a null value when it failed or printed
  // something else than one JSON line.
  Json StatusJson(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"status", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Hr(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.OutLines().size(), 1u) << r.out;
    Json json = Json::parse(r.out, nullptr, false);
    return json.is_discarded() ? Json() : json;
  }

  // Runs `status --json` until `ready` holds (the recorder commits at least
  // once a second) or `timeout_s` passed; returns the last answer.
  Json PollStatus(const std::function<bool(const Json&)>& ready, double timeout_s = 5) {
    double deadline = Now() + timeout_s;
    Json json = StatusJson();
    while (!ready(json) && Now() < deadline) json = StatusJson();
    return json;
  }
};

TEST_F(StatusTest, WithoutAJournalItIsOneLineAndExit2) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"status"}, {"status", "--json", "--batch", "3"}}) {
    RunResult r = Hr(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "headroom: error: journal .headroom/journal.db: no such file (no batch has run with "
              "this state dir)\n");
    EXPECT_EQ(r.out, "");
  }
  RunResult r = Hr({"status", "--state-dir", "elsewhere"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(StartsWith(r.err, "headroom: error: journal elsewhere/journal.db: no such file"))
      << r.err;
  EXPECT_EQ(ListDir(dir_.path()), std::vector<std::string>{"sim.json"})
      << "status must create nothing";
}

TEST_F(StatusTest, ShowsARunningBatchFromAnotherProcessThenItsEnd) {
  std::unique_ptr<Process> run = StartBatch({"a", "bad", "c", "d"});
  ASSERT_TRUE(run->PumpUntil([this] { return Started() == 2; }, 10)) << run->err();

  Json status = PollStatus([](const Json& s) {
    return s.is_object() && s["waiting"] == "slots" && s["samples"].size() == 2;
  });
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status["batch"], 1);
  EXPECT_EQ(status["state"], "running");
  EXPECT_EQ(status["pid"], run->pid());
  EXPECT_EQ(status["counts"]["total"], 4);
  EXPECT_EQ(status["counts"]["running"], 2);
  EXPECT_EQ(status["counts"]["queued"], 2);
  EXPECT_EQ(status["queue"], 2);
  EXPECT_EQ(status["waiting"], "slots");  // two slots, both taken
  ASSERT_EQ(status["running"].size(), 2u);
  for (const Json& job : status["running"]) {
    EXPECT_TRUE(job["name"] == "a" || job["name"] == "bad") << job;
    EXPECT_EQ(job["attempt"], 1);
    EXPECT_EQ(job["gpu"], 0);
    EXPECT_GE(job["elapsed_s"].get<double>(), 0);
  }
  ASSERT_EQ(status["samples"].size(), 2u);  // the host, then the GPU
  EXPECT_TRUE(status["samples"][0]["gpu"].is_null());
  EXPECT_EQ(status["samples"][1]["gpu"], 0);
  EXPECT_EQ(status["samples"][1]["total"], 10240ull << 20);
  EXPECT_EQ(status["samples"][1]["temperature_c"], 45);

  RunResult text = Hr({"status"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(StartsWith(text.out, "batch 1: running (pid " + std::to_string(run->pid())))
      << text.out;
  EXPECT_TRUE(Contains(text.out, "\njobs: 4 (2 running, 2 queued)\n")) << text.out;
  EXPECT_TRUE(Contains(text.out, "\nwaiting: slots\n")) << text.out;
  EXPECT_TRUE(Contains(text.out, "\nrunning (2):\n")) << text.out;
  EXPECT_TRUE(Contains(text.out, "attempt 1  gpu 0  slot ")) << text.out;
  EXPECT_TRUE(Contains(text.out, "\ngpu 0: ")) << text.out;

  WriteFile(Path("go"), "");
  RunResult ran = run->Wait(15);
  ASSERT_EQ(ran.exit_code, 1) << ran.out << ran.err;

  status = StatusJson();
  EXPECT_EQ(status["state"], "finished");
  EXPECT_EQ(status["exit_code"], 1);
  EXPECT_EQ(status["counts"]["succeeded"], 3);
  EXPECT_EQ(status["counts"]["failed"], 1);
  EXPECT_TRUE(status["running"].empty());
  EXPECT_TRUE(status["waiting"].is_null());
  EXPECT_GT(status["jobs_per_hour"].get<double>(), 0);
  ASSERT_EQ(status["last_failures"].size(), 1u);
  EXPECT_EQ(status["last_failures"][0]["name"], "bad");
  EXPECT_EQ(status["last_failures"][0]["exit_code"], 3);
  std::string log = status["last_failures"][0]["stderr_log"];
  EXPECT_TRUE(StartsWith(log, LogDir())) << log;
  EXPECT_TRUE(FileExists(log)) << log;

  text = Hr({"status", "--batch", "1"});
  EXPECT_TRUE(StartsWith(text.out, "batch 1: finished, exit 1, took ")) << text.out;
  EXPECT_TRUE(Contains(text.out, "\nlast failures:\n  bad (attempt 1): exit 3\n    log: " + log))
      << text.out;
}

// The ETA that status shows is the scheduler's (journaled as "eta"
// events): with what an earlier batch of the command took, it is known
// before any job of this batch has ended.
TEST_F(StatusTest, TheEtaComesFromWhatTheCommandsJobsTookBefore) {
  WriteFile(Path("go"), "");  // the first batch's jobs end at once
  RunResult first = Hr({"run", "-j2", "--gpu-mem", "1G", "--", GatedJob(), "{}", ":::", "x", "y"},
                       SimOpts());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(unlink(Path("go").c_str()), 0);

  std::unique_ptr<Process> run = StartBatch({"a", "b", "c", "d"});
  ASSERT_TRUE(run->PumpUntil([this] { return Started() == 2; }, 10)) << run->err();
  Json status = PollStatus([](const Json& s) {
    return s.is_object() && s["batch"] == 2 && s["eta_s"].is_number();
  });
  ASSERT_TRUE(status["eta_s"].is_number()) << status;
  EXPECT_EQ(status["counts"]["succeeded"], 0) << "no job of this batch has ended yet";
  EXPECT_GE(status["eta_s"].get<double>(), 0);
  EXPECT_LT(status["eta_s"].get<double>(), 60);
  EXPECT_TRUE(status["jobs_per_hour"].is_null());
  RunResult text = Hr({"status"});
  EXPECT_TRUE(Contains(text.out, "\nETA ")) << text.out;  // no rate yet: the ETA alone

  WriteFile(Path("go"), "");
  RunResult ran = run->Wait(15);
  EXPECT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  EXPECT_TRUE(StatusJson()["eta_s"].is_null()) << "done: no ETA";
}

TEST_F(StatusTest, AKilledBatchIsStoppedWithAHintToResume) {
  std::unique_ptr<Process> run = StartBatch({"a", "b", "c"});
  ASSERT_TRUE(run->PumpUntil([this] { return Started() == 2; }, 10)) << run->err();
  PollStatus([](const Json& s) { return s.is_object() && s["running"].size() == 2; });
  run->Signal(SIGKILL);
  RunResult killed = run->Wait(5);
  ASSERT_EQ(killed.signal, SIGKILL);

  RunResult r = Hr({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(StartsWith(r.out, "batch 1: stopped (killed?) — resume with headroom run --resume\n"))
      << r.out;
  EXPECT_FALSE(Contains(r.out, "running (")) << r.out;
  Json status = StatusJson();
  EXPECT_EQ(status["state"], "stopped");
  EXPECT_EQ(status["hint"], "resume with headroom run --resume");
  EXPECT_TRUE(status["exit_code"].is_null());
}

TEST_F(StatusTest, WatchRedrawsEverySecondUntilInterrupted) {
  RunResult ran = Hr({"run", "--", "true", ":::", "a"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  std::unique_ptr<Process> watch = Start({"status", "--watch", "--json"});
  double first = 0;
  ASSERT_TRUE(watch->PumpUntil(
      [&] {
        if (first == 0 && CountOccurrences(watch->out(), "\n") >= 1) first = Now();
        return CountOccurrences(watch->out(), "\n") >= 2;
      },
      10))
      << watch->err();
  EXPECT_GE(Now() - first, 0.9) << "redrawn too soon";
  watch->Signal(SIGINT);
  RunResult r = watch->Wait(5);
  EXPECT_EQ(r.signal, SIGINT);
  std::vector<std::string> lines = r.OutLines();
  ASSERT_GE(lines.size(), 2u);
  for (const std::string& line : lines) {
    Json json = Json::parse(line, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << line;
    EXPECT_EQ(json["state"], "finished");
  }
}

}  // namespace
}  // namespace headroom::e2e

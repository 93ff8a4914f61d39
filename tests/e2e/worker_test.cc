// --worker: persistent workers serve many jobs over JSON Lines; a worker
// that crashes costs its job an attempt, a hung one is killed by --timeout,
// and no worker outlives headroom (end of batch or SIGINT). The Python and
// C++ examples run end to end.
#include <csignal>

#include "harness.h"

namespace headroom::e2e {
namespace {

class WorkerTest : public E2eTest {
 protected:
  // A worker in sh: appends its pid to <dir>/pids, then for each request
  // (of one input) copies the input to its output and answers ok. An input
  // named *crash* makes it exit 3 the first time; *hang* makes it sleep
  // (the sleep's pid goes to <dir>/sleeps).
  std::string Worker() {
    return Script("worker.sh", "echo $$ >> '" + Path("pids") + "'\n" +
                                   R"(while IFS= read -r line; do
  id=${line#*\"id\": }; id=${id%%,*}
  input=${line#*\"inputs\": \[\"}; input=${input%%\"*}
  output=${line#*\"outputs\": \[\"}; output=${output%%\"*}
  case "$input" in
    *always*) exit 3 ;;
    *crash*) if [ ! -e "$input.crashed" ]; then : > "$input.crashed"; exit 3; fi ;;
    *hang*) sleep 30 & echo $! >> sleeps; wait ;;
  esac
  cp "$input" "$output"
  echo "not a reply"
  echo "{\"id\": $id, \"ok\": true}"
done
)");
  }

  // Input files in/<name> holding "data-<name>"; their paths.
  std::vector<std::string> Inputs(const std::vector<std::string>& names) {
    MakeDirs(Path("in"));
    std::vector<std::string> paths;
    for (const std::string& name : names) {
      WriteFile(Path("in/" + name), "data-" + name);
      paths.push_back("in/" + name);
    }
    return paths;
  }

  std::vector<std::string> RunArgs(std::vector<std::string> options,
                                   const std::vector<std::string>& command,
                                   const std::vector<std::string>& inputs) {
    std::vector<std::string> args = {"run", "--worker", "--output-dir", Path("out")};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    args.push_back(":::");
    args.insert(args.end(), inputs.begin(), inputs.end());
    return args;
  }

  std::vector<pid_t> Pids(const std::string& name) {
    std::vector<pid_t> pids;
    for (const std::string& line : SplitLines(ReadFile(Path(name)))) {
      pids.push_back(static_cast<pid_t>(std::stol(line)));
    }
    return pids;
  }

  void ExpectCopied(const std::vector<std::string>& names) {
    for (const std::string& name : names) {
      EXPECT_EQ(ReadFile(Path("out/" + name)), "data-" + name) << name;
    }
  }

  void ExpectAllGone(const std::vector<pid_t>& pids) {
    for (pid_t pid : pids)
      EXPECT_TRUE(WaitPidGone(pid, 0.5)) << "pid " << pid << " outlived headroom";
  }

  void TearDown() override {
    for (const char* name : {"pids", "sleeps"}) {
      for (pid_t pid : Pids(name)) {
        if (pid > 0 && PidAlive(pid)) kill(pid, SIGKILL);
      }
    }
  }
};

TEST_F(WorkerTest, TwoWorkersServeTwentyJobs) {
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back("f" + std::to_string(i) + ".txt");
  RunResult r = Hr(RunArgs({"-j", "2"}, {Worker()}, Inputs(names)));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  ExpectCopied(names);
  EXPECT_EQ(ListDir(Path("out")).size(), 20u) << "temp outputs left behind";
  std::vector<pid_t> pids = Pids("pids");
  EXPECT_GE(pids.size(), 1u);
  EXPECT_LE(pids.size(), 2u) << "a worker per job?";
  ExpectAllGone(pids);
  // Their other output is in their logs.
  std::string logs = JobsLogDir();
  EXPECT_TRUE(Contains(ReadFile(logs + "/worker_1.out"), "not a reply\n"));
  EXPECT_FALSE(Contains(ReadFile(logs + "/worker_1.out"), "\"ok\": true"));
}

TEST_F(WorkerTest, AJobWhoseWorkerCrashedIsRetriedOnANewWorker) {
  RunResult r = Hr(RunArgs({"--retries", "1", "--retry-delay", "0"}, {Worker()},
                           Inputs({"a.txt", "crash.txt", "c.txt"})));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  ExpectCopied({"a.txt", "crash.txt", "c.txt"});
  EXPECT_EQ(Pids("pids").size(), 2u) << "the crashed worker is replaced once";
}

TEST_F(WorkerTest, WithoutRetriesACrashedJobStillGetsOneNewWorker) {
  RunResult r = Hr(RunArgs({}, {Worker()}, Inputs({"crash.txt", "b.txt", "c.txt"})));
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(Grep(r.err, "RETRY: in/crash.txt").size(), 1u) << r.out;
  ExpectCopied({"crash.txt", "b.txt", "c.txt"});
  EXPECT_EQ(Pids("pids").size(), 2u) << "the crashed worker is replaced once";
}

TEST_F(WorkerTest, AJobThatCrashesItsWorkerTwiceFailsAndTheBatchGoesOn) {
  RunResult r = Hr(RunArgs({}, {Worker()}, Inputs({"always.txt", "b.txt", "c.txt"})));
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  ASSERT_EQ(Grep(r.err, "FAILED").size(), 1u) << r.out;
  EXPECT_TRUE(Contains(Grep(r.err, "FAILED")[0], "exit 3")) << r.out;
  ExpectCopied({"b.txt", "c.txt"});
  EXPECT_FALSE(FileExists(Path("out/always.txt")));
  ExpectAllGone(Pids("pids"));
}

TEST_F(WorkerTest, ATimeoutKillsAHungWorker) {
  RunResult r = Hr(RunArgs({"--timeout", "0.5s", "--kill-grace", "0.2s"}, {Worker()},
                           Inputs({"hang.txt", "b.txt"})));
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_EQ(Grep(r.err, "TIMEOUT").size(), 1u) << r.out;
  ExpectCopied({"b.txt"});
  EXPECT_EQ(ListDir(Path("out")), std::vector<std::string>{"b.txt"});
  // The hung request lost its worker to the timeout: it went back to the
  // queue once, for a new worker, and hung again.
  std::vector<pid_t> sleeps = Pids("sleeps");
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_EQ(Grep(r.err, "RETRY: in/hang.txt").size(), 1u) << r.out;
  ExpectAllGone(sleeps);
  ExpectAllGone(Pids("pids"));
}

TEST_F(WorkerTest, SigintLeavesNoWorkerBehind) {
  // One worker hangs in a request; the other is idle when SIGINT comes.
  auto p = Start(
      RunArgs({"-j", "2", "--kill-grace", "0.5s"}, {Worker()}, Inputs({"a.txt", "hang.txt"})));
  ASSERT_TRUE(p->PumpUntil([&] { return !ReadFile(Path("sleeps")).empty(); }, 5)) << p->err();
  ASSERT_TRUE(p->PumpUntil([&] { return FileExists(Path("out/a.txt")); }, 5)) << p->err();
  std::vector<pid_t> pids = Pids("pids");
  p->Signal(SIGINT);
  RunResult r = p->Wait(10);
  EXPECT_EQ(r.exit_code, 130) << r.err << r.out;
  ASSERT_EQ(pids.size(), 2u);
  ExpectAllGone(pids);
  ExpectAllGone(Pids("sleeps"));
  for (pid_t pid : pids) EXPECT_NE(kill(pid, 0), 0) << "worker " << pid << " left behind";
}

TEST_F(WorkerTest, APerJobPlaceholderInTheCommandIsAUsageError) {
  RunResult r = Hr(RunArgs({}, {Worker(), "{}"}, Inputs({"a.txt"})));
  EXPECT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_TRUE(Contains(r.err, "headroom: error: --worker: '{}' uses a per-job placeholder"))
      << r.err;
  EXPECT_FALSE(FileExists(Path("pids")));
}

// So is one in a jobs-file "cmd": each such command starts workers too.
TEST_F(WorkerTest, APerJobPlaceholderInAJobsFileCmdIsAUsageError) {
  std::vector<std::string> inputs = Inputs({"a.txt", "b.txt"});
  std::string worker = Worker();
  WriteFile(Path("jobs.jsonl"), "{\"input\": \"" + inputs[0] + "\"}\n{\"input\": \"" + inputs[1] +
                                    "\", \"name\": \"b\", \"cmd\": [\"" + worker +
                                    "\", \"{.}\"]}\n");
  RunResult r = Hr({"run", "--worker", "--output-dir", Path("out"), "--jobs-file",
                    Path("jobs.jsonl"), "--", worker});
  EXPECT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_EQ(r.err,
            "headroom: error: --jobs-file: the \"cmd\" of job 'b': --worker: '{.}' uses a per-job "
            "placeholder; a worker gets inputs and outputs in its requests (only {%} and {gpu} "
            "may appear in its command)\n");
  EXPECT_FALSE(FileExists(Path("pids")));
}

// The examples: copies, one input answered as out of memory, one that
// crashes its worker; the rest go on.
class ExampleWorkerTest : public WorkerTest {
 protected:
  void RunExample(const std::vector<std::string>& command) {
    std::vector<std::string> names = {"a.txt", "b.txt", "c.txt", "oom.txt", "crash.txt", "d.txt"};
    RunOptions options = Opts();
    options.env = {"HEADROOM_EXAMPLE_LOAD_MS=50", "HEADROOM_EXAMPLE_MS_PER_INPUT=5"};
    RunResult r = Hr(RunArgs({"-j", "2", "--oom-retries", "0"}, command, Inputs(names)), options);
    EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
    ExpectCopied({"a.txt", "b.txt", "c.txt", "d.txt"});
    EXPECT_EQ(ListDir(Path("out")), (std::vector<std::string>{"a.txt", "b.txt", "c.txt", "d.txt"}));
    EXPECT_EQ(Grep(r.err, "FAILED").size() + Grep(r.err, "OOM").size(), 2u) << r.out;
    std::string logs = JobsLogDir();
    EXPECT_TRUE(Contains(ReadFile(logs + "/worker_1.err"), "ready")) << ListDir(logs).size();
  }
};

TEST_F(ExampleWorkerTest, Python) {
  if (RunProgram({"/bin/sh", "-c", "command -v python3"}).exit_code != 0) {
    GTEST_SKIP() << "no python3";
  }
  RunExample({"python3", HEADROOM_EXAMPLE_WORKER_PY});
}

TEST_F(ExampleWorkerTest, Cpp) { RunExample({HEADROOM_EXAMPLE_WORKER_BIN}); }

}  // namespace
}  // namespace headroom::e2e

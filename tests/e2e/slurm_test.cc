// --executor slurm against a real Slurm cluster: a private single-node one
// on loopback that tests/slurm/cluster.sh starts for this suite and stops
// after it (slurm-wlm and munge, from scripts/setup.sh). Jobs run as Slurm
// jobs through `headroom slurm-exec`; outputs, logs, exit codes and the
// journal are the local runner's.
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <set>
#include <sstream>

#include "harness.h"

namespace headroom::e2e {
namespace {

class SlurmTest : public E2eTest {
 protected:
  static void SetUpTestSuite() { StartCluster(false); }
  // `cgroup`: with memory enforcement (cluster.sh --cgroup);
  // `max_array_size`: the cluster's MaxArraySize, when not the default;
  // `accounting`: sacct works (cluster.sh --accounting: slurmdbd, MariaDB).
  static void StartCluster(bool cgroup, const std::string& max_array_size = "",
                           bool accounting = false) {
    if (access("/usr/sbin/slurmctld", X_OK) != 0) return;  // each test skips
    cluster_ = new test::TempDir("headroom-slurm");
    RunOptions options;
    options.timeout_s = 60;
    if (!max_array_size.empty()) options.env.push_back("CLUSTER_MAX_ARRAY_SIZE=" + max_array_size);
    std::vector<std::string> argv = {"/bin/bash", HEADROOM_SLURM_CLUSTER, "start", cluster_->path()};
    if (cgroup) argv.push_back("--cgroup");
    if (accounting) argv.push_back("--accounting");
    Process start(argv, options);
    RunResult r = start.Wait(60);
    if (r.exit_code == 0) {
      conf_ = cluster_->path() + "/slurm.conf";
    } else {
      start_error_ = r.err + r.out;
    }
  }
  static void TearDownTestSuite() {
    if (cluster_ == nullptr) return;
    RunOptions options;
    Process stop({"/bin/bash", HEADROOM_SLURM_CLUSTER, "stop", cluster_->path()}, options);
    stop.Wait(30);
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (cluster_ == nullptr) GTEST_SKIP() << "Slurm is not installed (scripts/setup.sh installs it)";
    ASSERT_FALSE(conf_.empty()) << "the test cluster did not start: " << start_error_;
  }
  RunOptions SlurmOpts() const {
    RunOptions options = Opts();
    options.env.push_back("SLURM_CONF=" + conf_);
    options.timeout_s = 60;
    return options;
  }
  RunResult Slurm(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--executor", "slurm", "--slurm-poll", "200ms"});
    return Hr(std::move(args), SlurmOpts());
  }
  // The batch's jobs still in the queue (pending or running).
  std::string Queue() {
    Process squeue({"/usr/bin/squeue", "--noheader", "--format=%i %j"}, SlurmOpts());
    return squeue.Wait(30).out;
  }

  static test::TempDir* cluster_;
  static std::string conf_;
  static std::string start_error_;
};

test::TempDir* SlurmTest::cluster_ = nullptr;
std::string SlurmTest::conf_;
std::string SlurmTest::start_error_;

TEST_F(SlurmTest, EachJobRunsAsASlurmJobAndItsOutputIsCommitted) {
  std::string job = Script("job.sh", "echo \"job $1\"\necho \"$SLURM_JOB_ID\" > \"$2\"\n");
  RunResult r = Slurm({"run", "-j", "2", "--output-dir", Path("out"), "--", job, "{}", "{out}",
                       ":::", "a", "b", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> ids;
  for (const char* name : {"a", "b", "c"}) {
    std::string id = ReadFile(Path(std::string("out/") + name));
    ASSERT_FALSE(id.empty()) << name << " has no output: " << r.err;
    EXPECT_NE(id.find_first_of("0123456789"), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 3u) << "one Slurm job per input";
  std::vector<std::string> out = r.OutLines();
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<std::string>{"job a", "job b", "job c"}));
  RunResult log = Hr({"log", "b"});
  EXPECT_EQ(log.out, "job b\n");
}

// --gpus-per-job and --ram-per-job go to sbatch; the job sees the GPU
// Slurm gave it, not the CUDA_VISIBLE_DEVICES of the shell that ran
// headroom (the cluster has two fake GPUs).
TEST_F(SlurmTest, JobsGetTheGpusAndMemoryTheyAskedFor) {
  std::string job = Script("job.sh", "echo \"$CUDA_VISIBLE_DEVICES $SLURM_MEM_PER_NODE\" > \"$2\"\n");
  RunOptions options = SlurmOpts();
  options.env.push_back("CUDA_VISIBLE_DEVICES=7");
  std::vector<std::string> args = {"run", "--executor", "slurm", "--slurm-poll", "200ms",
                                   "--gpus-per-job", "1", "--ram-per-job", "128M", "-j", "2",
                                   "--output-dir", Path("out"), "--", job, "{}", "{out}",
                                   ":::", "a", "b"};
  RunResult r = Hr(args, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"a", "b"}) {
    std::string seen = ReadFile(Path(std::string("out/") + name));
    EXPECT_TRUE(seen == "0 128\n" || seen == "1 128\n") << name << ": " << seen;
  }
}

// status names each running job's Slurm job, its state and its node.
TEST_F(SlurmTest, StatusShowsEachJobsSlurmIdStateAndNode) {
  std::string job = Script("job.sh", "while [ ! -e \"" + Path("go") + "\" ]; do sleep 0.05; done\n");
  auto p = Start({"run", "--executor", "slurm", "--slurm-poll", "200ms", "--ram-per-job", "64M",
                  "--", job, ":::", "a"},
                 SlurmOpts());
  std::string status;
  bool shown = p->PumpUntil(
      [&] {
        status = Hr({"status"}).out;
        return Contains(status, "RUNNING on localhost");
      },
      30);
  EXPECT_TRUE(shown) << status << p->err();
  EXPECT_TRUE(Contains(status, "attempt 1  slurm ")) << status;
  EXPECT_TRUE(Contains(status, "RUNNING on localhost (queued ")) << status;
  RunResult json = Hr({"status", "--json"});
  EXPECT_TRUE(Contains(json.out, "\"where\":\"slurm ")) << json.out;
  EXPECT_TRUE(Contains(json.out, "\"queue_wait_s\":")) << json.out;
  WriteFile(Path("go"), "");
  EXPECT_EQ(p->Wait(30).exit_code, 0);
  // Once it ended: how long it waited, what it asked for and used.
  status = Hr({"status"}).out;
  EXPECT_TRUE(Contains(status, "slurm: queue wait ")) << status;
  EXPECT_TRUE(Contains(status, "memory asked 64.0 MiB per job, used ")) << status;
  RunResult report = Hr({"report", "--json", Path("report.json")});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_TRUE(Contains(ReadFile(Path("report.json")), "\"slurm_queue_wait_s\"")) << ReadFile(Path("report.json"));
}

TEST_F(SlurmTest, AFailedJobFailsWithItsStderrAndTheRestGoOn) {
  std::string job = Script("job.sh", "if [ \"$1\" = bad ]; then echo 'no such model' >&2; exit 3; fi\n");
  RunResult r = Slurm({"run", "-j", "2", "--", job, ":::", "good", "bad"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "FAILED: bad (exit 3)")) << r.err;
  EXPECT_TRUE(Contains(r.err, "    no such model")) << r.err;
  EXPECT_TRUE(Contains(r.err, "SUCCESS: good")) << r.err;
}

TEST_F(SlurmTest, ARejectedSubmissionFailsTheJobWithSlurmsMessage) {
  RunResult r = Slurm({"run", "--slurm-partition", "nope", "--", "true", ":::", "a"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "Invalid partition name specified")) << r.err;
}

TEST_F(SlurmTest, AnInterruptCancelsTheBatchsSlurmJobs) {
  std::string job = Script("job.sh", "echo started > \"" + Path("started_") + "$1\"\nsleep 120\n");
  std::vector<std::string> args = {"run", "--executor", "slurm", "--slurm-poll", "200ms",
                                   "-j", "2", "--", job, ":::", "a", "b"};
  auto p = Start(args, SlurmOpts());
  ASSERT_TRUE(p->PumpUntil([&] { return FileExists(Path("started_a")); }, 30)) << p->err();
  p->Signal(SIGINT);
  RunResult r = p->Wait(60);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  // scancel takes effect within the cluster's KillWait: wait for the state.
  std::string queue = Queue();
  for (double deadline = Now() + 30; queue.find("headroom-") != std::string::npos && Now() < deadline;) {
    usleep(100 * 1000);
    queue = Queue();
  }
  EXPECT_EQ(queue.find("headroom-"), std::string::npos) << "still queued after the interrupt: " << queue;
}

// Jobs started together go as job arrays, chunked below MaxArraySize (3
// here: indices 0-2); a lone one as a plain job; --slurm-array off: none.
class SlurmArrayTest : public SlurmTest {
 protected:
  static void SetUpTestSuite() { StartCluster(false, "3"); }
};

TEST_F(SlurmArrayTest, JobsStartedTogetherGoAsArraysChunkedBelowMaxArraySize) {
  std::string job = Script("job.sh", "echo \"${SLURM_ARRAY_JOB_ID:-none} ${SLURM_ARRAY_TASK_ID:-none}\" > \"$2\"\n");
  std::vector<std::string> args = {"run", "--ram-per-job", "64M", "-j", "7", "--output-dir",
                                   Path("out"), "--", job, "{}", "{out}", ":::"};
  for (int i = 1; i <= 7; ++i) args.push_back(std::to_string(i));
  RunResult r = Slurm(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, int> tasks_per_array;
  int plain = 0;
  for (int i = 1; i <= 7; ++i) {
    std::istringstream in(ReadFile(Path("out/" + std::to_string(i))));
    std::string array, task;
    in >> array >> task;
    if (array == "none") {
      ++plain;
      continue;
    }
    ++tasks_per_array[array];
    EXPECT_LE(std::stoi(task), 2) << "task index past MaxArraySize - 1";
  }
  EXPECT_EQ(tasks_per_array.size(), 2u) << "7 jobs: arrays of 3 and 3, and one plain job";
  EXPECT_EQ(plain, 1);

  args[1] = "--slurm-array";
  args[2] = "off";
  args[6] = Path("out2");
  r = Slurm(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Path("out2/1")), "none none\n");
}

// On a cluster that enforces --mem: a job over its memory ends
// OUT_OF_MEMORY and runs again asking for 1.5x as much, until it fits.
// As production clusters are: memory enforced in cgroups, and accounting.
class SlurmMemoryTest : public SlurmTest {
 protected:
  static void SetUpTestSuite() {
    if (access("/usr/sbin/slurmdbd", X_OK) != 0 || access("/usr/sbin/mariadbd", X_OK) != 0) {
      return;  // each test skips
    }
    StartCluster(true, "", true);
  }
  // A program that needs 200 MiB for half a second, then prints 200.
  std::string BigJob() const {
    return Script("big.py", "import time\n"
                            "data = b'x' * (200 * 1024 * 1024)\n"
                            "time.sleep(0.5)\n"
                            "print(len(data) >> 20)\n");
  }
};

TEST_F(SlurmMemoryTest, OutOfMemoryIsRetriedWithMoreMemory) {
  RunResult r = Slurm({"run", "--ram-per-job", "100M", "--oom-retries", "3", "--retry-delay", "0s",
                       "--", "python3", BigJob(), ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200\n");
  EXPECT_TRUE(Contains(r.err, "out of memory")) << r.err;
  // 100M, then 150M, then 225M: two retries.
  RunResult status = Hr({"status", "--json"});
  EXPECT_TRUE(Contains(status.out, "\"oom_retries\":2")) << status.out;
}

// A command run under srun inside the job: its step's cgroup kills it, the
// job's own counter sees nothing, and slurmstepd's line on stderr says it.
TEST_F(SlurmMemoryTest, AStepThatRanOutOfMemoryIsRetriedWithMoreMemory) {
  RunResult r = Slurm({"run", "--ram-per-job", "100M", "--oom-retries", "3", "--retry-delay", "0s",
                       "--", "srun", "python3", BigJob(), ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200\n");
  EXPECT_TRUE(Contains(r.err, "oom-kill event(s) in StepId=")) << r.err;
  RunResult status = Hr({"status", "--json"});
  EXPECT_TRUE(Contains(status.out, "\"oom_retries\":2")) << status.out;
}

// A job that left the queue without a result, after scontrol has forgotten
// it (past MinJobAge; here scontrol is made to say what it says then):
// sacct says how it ended.
TEST_F(SlurmMemoryTest, SacctSaysHowAJobEndedWhenScontrolHasForgottenIt) {
  std::string shims = Path("shims");
  ASSERT_EQ(mkdir(shims.c_str(), 0755), 0);
  WriteScript(shims + "/scontrol",
              "if [ \"$1 $2\" = 'show job' ]; then\n"
              "  echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1\n"
              "fi\n"
              "exec /usr/bin/scontrol \"$@\"\n");
  std::string job = Script("job.sh", "echo started > \"" + Path("started") + "\"\nsleep 120\n");
  RunOptions options = SlurmOpts();
  options.env.push_back("PATH=" + shims + ":" + std::string(getenv("PATH")));
  auto p = Start({"run", "--executor", "slurm", "--slurm-poll", "200ms", "--ram-per-job", "64M",
                  "--", job, ":::", "a"},
                 options);
  ASSERT_TRUE(p->PumpUntil([&] { return FileExists(Path("started")); }, 30)) << p->err();
  std::istringstream listed(Queue());
  std::string id, name;
  listed >> id >> name;
  ASSERT_EQ(name.rfind("headroom-", 0), 0u) << Queue();
  // The wrapper killed outright (the node is this machine; its spec is
  // under this test's state dir): no result file.
  Process kill({"/usr/bin/pkill", "-KILL", "-f", "slurm-exec " + Path("")}, SlurmOpts());
  ASSERT_EQ(kill.Wait(30).exit_code, 0);
  RunResult r = p->Wait(60);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "slurm job " + id + " ended ")) << r.err;
  EXPECT_FALSE(Contains(r.err, "scontrol does not know it")) << r.err;
}

// kill -9 of the submitting headroom leaves its Slurm jobs queued or
// running. A resume with --executor slurm takes them back: each input runs
// exactly once, a job that ended while no headroom watched counts with its
// result, and every output is committed.
TEST_F(SlurmTest, AResumeAfterKillNineTakesBackTheJobsTheKilledRunLeft) {
  std::string job = Script("job.sh", "echo \"log $1\"\necho run >> \"" + Path("runs_") + "$1\"\n"
                                     "while [ ! -e \"" + Path("go") + "\" ] && [ ! -e \"" +
                                         Path("go_") + "$1\" ]; do sleep 0.05; done\n"
                                     "echo \"done $1\" > \"$2\"\n");
  // --ram-per-job: a, b and c are submitted at once (one array); d waits
  // for a slot. The cluster runs two at a time: c stays pending.
  std::vector<std::string> args = {"run", "--executor", "slurm", "--slurm-poll", "200ms",
                                   "--ram-per-job", "64M", "-j", "3", "--output-dir", Path("out"),
                                   "--", job, "{}", "{out}", ":::", "a", "b", "c", "d"};
  auto p = Start(args, SlurmOpts());
  ASSERT_TRUE(p->PumpUntil([&] { return FileExists(Path("runs_a")) && FileExists(Path("runs_b")); }, 30))
      << p->err();
  p->Signal(SIGKILL);
  p->Wait(10);
  // a ends while no headroom watches (its result waits for the resume),
  // and c starts in its place.
  WriteFile(Path("go_a"), "");
  auto in_queue = [&] {
    std::string queue = Queue();
    size_t n = 0;
    for (size_t at = queue.find("headroom-"); at != std::string::npos; at = queue.find("headroom-", at + 1)) ++n;
    return n;
  };
  for (double deadline = Now() + 30; in_queue() != 2 && Now() < deadline;) usleep(100 * 1000);
  ASSERT_EQ(in_queue(), 2u) << Queue();

  args.insert(args.begin() + 1, "--resume");
  auto resumed = Start(args, SlurmOpts());
  ASSERT_TRUE(resumed->PumpUntil([&] { return Contains(resumed->err(), "took back"); }, 30))
      << resumed->err();
  EXPECT_TRUE(Contains(resumed->err(), "took back 3 job(s) that a killed headroom left")) << resumed->err();
  WriteFile(Path("go"), "");
  RunResult r = resumed->Wait(60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"a", "b", "c", "d"}) {
    EXPECT_EQ(ReadFile(Path(std::string("runs_") + name)), "run\n") << name << " ran more than once";
    EXPECT_EQ(ReadFile(Path(std::string("out/") + name)), std::string("done ") + name + "\n") << r.err;
  }
  EXPECT_EQ(Hr({"log", "b"}).out, "log b\n") << "a taken-back job's log is the killed run's";
  RunResult status = Hr({"status", "--json"});
  EXPECT_TRUE(Contains(status.out, "\"succeeded\":4")) << status.out;
  EXPECT_TRUE(Contains(status.out, "\"retries\":0")) << "taking back is not retrying: " << status.out;
  for (double deadline = Now() + 30; in_queue() != 0 && Now() < deadline;) usleep(100 * 1000);
  EXPECT_EQ(in_queue(), 0u) << "left in the queue: " << Queue();
}

// A resume with another executor cannot take them back: it cancels them
// before it runs those jobs again, so that no job runs twice at once.
TEST_F(SlurmTest, AResumeOnAnotherExecutorCancelsTheJobsTheKilledRunLeft) {
  std::string job = Script("job.sh", "[ -e \"" + Path("go") + "\" ] && exit 0\n"
                                     "echo started > \"" + Path("started_") + "$1\"\n"
                                     "sleep 120\n");
  std::vector<std::string> args = {"run", "--executor", "slurm", "--slurm-poll", "200ms",
                                   "--ram-per-job", "64M", "-j", "2", "--", job, ":::", "a", "b"};
  auto p = Start(args, SlurmOpts());
  ASSERT_TRUE(p->PumpUntil([&] { return FileExists(Path("started_a")) && FileExists(Path("started_b")); }, 30))
      << p->err();
  p->Signal(SIGKILL);
  p->Wait(10);
  std::vector<std::string> orphans;
  std::istringstream listed(Queue());
  for (std::string id, name; listed >> id >> name;) {
    if (name.rfind("headroom-", 0) == 0) orphans.push_back(id);
  }
  ASSERT_EQ(orphans.size(), 2u) << "the killed run's jobs are gone already";
  WriteFile(Path("go"), "");
  RunResult r = Hr({"run", "--resume", "--executor", "local", "--ram-per-job", "64M", "-j", "2",
                    "--", job, ":::", "a", "b"},
                   SlurmOpts());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.err, "stopped 2 process(es) of batch 1 that a killed headroom left running")) << r.err;
  for (const std::string& id : orphans) {
    // COMPLETING while its processes stop, then CANCELLED.
    std::string shown;
    for (double deadline = Now() + 30; !Contains(shown, "JobState=CANCELLED") && Now() < deadline;) {
      Process show({"/usr/bin/scontrol", "show", "job", "-o", id}, SlurmOpts());
      shown = show.Wait(30).out;
      if (!Contains(shown, "JobState=CANCELLED")) usleep(100 * 1000);
    }
    EXPECT_TRUE(Contains(shown, "JobState=CANCELLED")) << "job " << id << ": " << shown;
  }
  std::string queue = Queue();
  for (double deadline = Now() + 30; queue.find("headroom-") != std::string::npos && Now() < deadline;) {
    usleep(100 * 1000);
    queue = Queue();
  }
  EXPECT_EQ(queue.find("headroom-"), std::string::npos) << "left running: " << queue;
}

#ifdef HEADROOM_SIMGPU_BIN
// The wrapper samples the GPU memory of its job on the node (here the
// simulated GPU, which sbatch's exported HEADROOM_GPU_SIM names): the
// job's peak VRAM is reported and learned as the class's footprint, as a
// local run's would be.
TEST_F(SlurmTest, TheNodeMeasuresTheJobsPeakVram) {
  WriteFile(Path("sim.json"), R"({"devices": [{"name": "SimGPU", "memory_mib": 4096}]})");
  std::string bin = HEADROOM_SIMGPU_BIN;
  RunOptions options = SlurmOpts();
  options.env.push_back("HEADROOM_GPU_SIM=" + Path("sim.json"));
  options.env.push_back("PATH=" + bin.substr(0, bin.rfind('/')) + ":" + std::string(getenv("PATH")));
  RunResult r = Hr({"run", "--executor", "slurm", "--slurm-poll", "200ms", "--ram-per-job", "64M",
                    "--", "headroom-simgpu", "alloc", "--mib", "300", "--seconds", "1.5", ":::", "a"},
                   options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult report = Hr({"report", "--json", Path("report.json")});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_TRUE(Contains(ReadFile(Path("report.json")), "\"peak_vram\": 314572800"))
      << ReadFile(Path("report.json"));
  RunResult footprints = Hr({"footprints"});
  EXPECT_TRUE(Contains(footprints.out, "300.0 MiB")) << footprints.out;
}
#endif

// The largest node bounds what a job may ask for (and so the retries): past
// it the job fails saying so, without being submitted.
TEST_F(SlurmTest, AJobThatNeedsMoreThanAnyNodeFailsSayingSo) {
  RunResult r = Slurm({"run", "--ram-per-job", "64T", "--", "true", ":::", "a"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "needs more than")) << r.err;
  EXPECT_TRUE(Contains(r.err, "no node has more")) << r.err;
}

// Without Slurm's commands (or a controller that answers), nothing is
// submitted: exit 2 naming the problem. (A controller that does not answer
// takes Slurm's own timeout, ~10 s, to say so: not tested here.)
TEST_F(SlurmTest, NoSlurmCommandsIsAnErrorBeforeAnythingRuns) {
  RunOptions options = SlurmOpts();
  options.env.push_back("PATH=" + Path("empty"));
  RunResult r = Hr({"run", "--executor", "slurm", "--", "/bin/true", ":::", "a"}, options);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(Contains(r.err, "--executor slurm: scontrol is not on PATH")) << r.err;
}

}  // namespace
}  // namespace headroom::e2e

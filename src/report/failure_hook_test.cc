#include "report/failure_hook.h"
#include "util/test_temp_dir.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace headroom {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::vector<std::string> Words(const std::string& command) {
  std::vector<std::string> argv;
  Status status = HookCommand(command, false, &argv);
  EXPECT_TRUE(status.ok()) << command << ": " << status.message();
  return argv;
}

std::string WordsError(const std::string& command) {
  std::vector<std::string> argv;
  Status status = HookCommand(command, false, &argv);
  EXPECT_FALSE(status.ok()) << command;
  return status.message();
}

TEST(HookCommandTest, SplitsWordsWithoutAShell) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Words("notify"), V{"notify"});
  EXPECT_EQ(Words("  notify  --to  ops\t"), (V{"notify", "--to", "ops"}));
  EXPECT_EQ(Words("say 'job failed: $NAME' \"a \\\"b\\\" \\\\ \\n\""),
            (V{"say", "job failed: $NAME", "a \"b\" \\ \\n"}));
  EXPECT_EQ(Words("a\\ b c\\'d ''"), (V{"a b", "c'd", ""}));
  EXPECT_EQ(Words("x'y'\"z\""), V{"xyz"});
  EXPECT_EQ(Words("a | b"), (V{"a", "|", "b"}));  // no pipes without --shell
}

TEST(HookCommandTest, Errors) {
  EXPECT_EQ(WordsError(""), "'': an empty command");
  EXPECT_EQ(WordsError("  "), "'  ': an empty command");
  EXPECT_EQ(WordsError("say 'oops"), "'say 'oops': a quote is left open");
  EXPECT_EQ(WordsError("say \"oops"), "'say \"oops': a quote is left open");
  EXPECT_EQ(WordsError("say oops\\"), "'say oops\\': a backslash ends it");
}

TEST(HookCommandTest, ShellTakesTheCommandWhole) {
  std::vector<std::string> argv;
  ASSERT_TRUE(HookCommand("echo $HEADROOM_JOB_NAME | mail ops 'x", true, &argv).ok());
  EXPECT_EQ(argv,
            (std::vector<std::string>{"/bin/sh", "-c", "echo $HEADROOM_JOB_NAME | mail ops 'x"}));
  EXPECT_FALSE(HookCommand(" ", true, &argv).ok());
}

Job MakeJob() {
  Job job;
  job.number = 7;
  job.name = "clip 7.mp4";
  job.input = "in/clip 7.mp4";
  return job;
}

AttemptEnd Failed(int exit_code) {
  AttemptEnd end;
  end.outcome = Outcome::kFailed;
  end.attempt = 3;
  end.exit.exit_code = exit_code;
  end.stdout_log = "logs/jobs_x/7_clip_7.mp4.3.out";
  end.stderr_log = "logs/jobs_x/7_clip_7.mp4.3.err";
  return end;
}

TEST(HookEnvironmentTest, AddsTheJobVariables) {
  std::vector<std::string> base = {"PATH=/bin", "HEADROOM_JOB_NAME=stale", "HOME=/root"};
  std::vector<std::string> env = HookEnvironment(base, MakeJob(), Failed(4));
  EXPECT_EQ(env, (std::vector<std::string>{
                     "PATH=/bin",
                     "HOME=/root",
                     "HEADROOM_JOB_NAME=clip 7.mp4",
                     "HEADROOM_JOB_INPUT=in/clip 7.mp4",
                     "HEADROOM_JOB_NUMBER=7",
                     "HEADROOM_JOB_OUTCOME=FAILED",
                     "HEADROOM_JOB_EXIT=4",
                     "HEADROOM_JOB_ATTEMPTS=3",
                     "HEADROOM_JOB_LOG=logs/jobs_x/7_clip_7.mp4.3.err",
                     "HEADROOM_JOB_STDOUT_LOG=logs/jobs_x/7_clip_7.mp4.3.out",
                 }));
}

std::map<std::string, std::string> EnvMap(const std::vector<std::string>& env) {
  std::map<std::string, std::string> map;
  for (const std::string& entry : env) {
    size_t eq = entry.find('=');
    map[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return map;
}

TEST(HookEnvironmentTest, SignalTimeoutAndStartFailure) {
  AttemptEnd end = Failed(-1);
  end.outcome = Outcome::kTimedOut;
  end.exit.signal = SIGKILL;
  auto env = EnvMap(HookEnvironment({}, MakeJob(), end));
  EXPECT_EQ(env["HEADROOM_JOB_EXIT"], "SIGKILL");
  EXPECT_EQ(env["HEADROOM_JOB_OUTCOME"], "TIMEOUT");

  end = AttemptEnd();
  end.outcome = Outcome::kStartFailed;
  env = EnvMap(HookEnvironment({}, MakeJob(), end));
  EXPECT_EQ(env["HEADROOM_JOB_EXIT"], "");
  EXPECT_EQ(env["HEADROOM_JOB_OUTCOME"], "NOT STARTED");
  EXPECT_EQ(env["HEADROOM_JOB_LOG"], "");
  EXPECT_EQ(env.count("HEADROOM_JOB_STDOUT_LOG"), 1u);
}

TEST(HookLogPathTest, BesideTheJobLog) {
  EXPECT_EQ(HookLogPath("logs/jobs_x/4_a.mp4.err"), "logs/jobs_x/4_a.mp4.on-failure.log");
  EXPECT_EQ(HookLogPath("logs/jobs_x/4_a.mp4.2.err"), "logs/jobs_x/4_a.mp4.2.on-failure.log");
  EXPECT_EQ(HookLogPath("odd"), "odd.on-failure.log");
  EXPECT_EQ(HookLogPath(""), "/dev/null");
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FailureHookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.env = {"PATH=/usr/bin:/bin"};
  }

  // A hook that runs `script` with /bin/sh.
  std::unique_ptr<FailureHook> Hook(const std::string& script, int max_running = 4) {
    config_.path = "/bin/sh";
    config_.argv = {"sh", "-c", script, "sh"};
    config_.max_running = max_running;
    return std::make_unique<FailureHook>(config_, &processes_, [this](LogLevel level,
                                                                     const std::string& m) {
      EXPECT_EQ(level, LogLevel::kWarn);
      warnings_.push_back(m);
    });
  }

  AttemptEnd FailedIn(const std::string& name) {
    AttemptEnd end = Failed(9);
    end.stderr_log = dir_ + "/" + name + ".err";
    end.stdout_log = dir_ + "/" + name + ".out";
    return end;
  }

  ProcessSet processes_;
  test::TempDir temp_;
  const std::string dir_ = temp_.path();
  FailureHookConfig config_;
  std::vector<std::string> warnings_;
  Counts counts_;
};

TEST_F(FailureHookTest, RunsOncePerJobThatFailedForGood) {
  auto hook = Hook("echo \"$HEADROOM_JOB_NAME $HEADROOM_JOB_EXIT $HEADROOM_JOB_ATTEMPTS\" >> '" +
                   dir_ + "/calls'; echo out; echo err >&2");
  Job job = MakeJob();
  AttemptEnd end = FailedIn("a");
  end.will_retry = true;  // not yet
  hook->OnJobEnd(job, end, counts_);
  AttemptEnd ok;
  hook->OnJobEnd(job, ok, counts_);
  AttemptEnd interrupted = FailedIn("i");
  interrupted.outcome = Outcome::kInterrupted;
  hook->OnJobEnd(job, interrupted, counts_);
  EXPECT_EQ(hook->running() + hook->queued(), 0u);

  hook->OnJobEnd(job, FailedIn("a"), counts_);
  AttemptEnd timeout = FailedIn("b");
  timeout.outcome = Outcome::kTimedOut;
  hook->OnJobEnd(job, timeout, counts_);
  AttemptEnd not_started;
  not_started.outcome = Outcome::kStartFailed;
  hook->OnJobEnd(job, not_started, counts_);
  hook->Finish(milliseconds(10000));
  EXPECT_EQ(hook->running(), 0u);
  EXPECT_TRUE(warnings_.empty()) << warnings_.front();
  std::string calls = Read(dir_ + "/calls");
  EXPECT_EQ(std::count(calls.begin(), calls.end(), '\n'), 3) << calls;
  EXPECT_NE(calls.find("clip 7.mp4 9 3\n"), std::string::npos) << calls;
  EXPECT_NE(calls.find("clip 7.mp4  1\n"), std::string::npos) << calls;  // never ran
  EXPECT_EQ(Read(dir_ + "/a.on-failure.log"), "out\nerr\n");
}

TEST_F(FailureHookTest, AFailingHookIsAWarning) {
  auto hook = Hook("exit 3");
  hook->OnJobEnd(MakeJob(), FailedIn("a"), counts_);
  hook->Finish(milliseconds(10000));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0],
            "--on-failure for clip 7.mp4: exit 3 (output: " + dir_ + "/a.on-failure.log)");
}

TEST_F(FailureHookTest, AHookKilledByASignalIsAWarning) {
  auto hook = Hook("kill -TERM $$");
  hook->OnJobEnd(MakeJob(), FailedIn("a"), counts_);
  hook->Finish(milliseconds(10000));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find(": killed by SIGTERM (output: "), std::string::npos) << warnings_[0];
}

TEST_F(FailureHookTest, AProgramThatCannotRunIsAWarning) {
  std::string not_executable = dir_ + "/hook.txt";
  std::ofstream(not_executable) << "text\n";
  config_.path = not_executable;
  config_.argv = {not_executable};
  FailureHook hook(config_, &processes_,
                   [this](LogLevel, const std::string& m) { warnings_.push_back(m); });
  hook.OnJobEnd(MakeJob(), FailedIn("a"), counts_);
  EXPECT_EQ(hook.running(), 0u);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0],
            "--on-failure for clip 7.mp4: " + not_executable + ": cannot start: Permission denied");
}

// Only stdin, stdout and stderr: not headroom's other files, even those
// without O_CLOEXEC.
TEST_F(FailureHookTest, TheHookGetsOnlyStdio) {
  int inheritable = open("/dev/null", O_RDONLY);
  ASSERT_GT(inheritable, 2);
  std::string fd = std::to_string(inheritable);
  auto hook = Hook("for fd in 0 1 2 " + fd + "; do [ -e /proc/$$/fd/$fd ] && echo $fd; done > '" +
                   dir_ + "/fds'");
  hook->OnJobEnd(MakeJob(), FailedIn("a"), counts_);
  hook->Finish(milliseconds(10000));
  close(inheritable);
  EXPECT_EQ(Read(dir_ + "/fds"), "0\n1\n2\n");
}

// The batch's reaper (ProcessSet::Wait, reaping every child) hands the
// hook's exit status to the hook, not to the scheduler.
TEST_F(FailureHookTest, TheJobsReaperDoesNotTakeTheHooksStatus) {
  auto hook = Hook("sleep 0.2; exit 5");
  hook->OnJobEnd(MakeJob(), FailedIn("a"), counts_);
  ASSERT_EQ(hook->running(), 1u);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (hook->running() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::vector<ProcessExit> exits;
    int interrupt = 0;
    processes_.Wait(milliseconds(5), &exits, &interrupt);
    EXPECT_TRUE(exits.empty()) << "the hook's exit went to the jobs' owner";
    hook->OnTick(counts_, TimePoint{}, "");
  }
  EXPECT_EQ(hook->running(), 0u);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find(": exit 5 "), std::string::npos) << warnings_[0];
}

// Each hook of these waits for the go file, so the test decides when they end.
TEST_F(FailureHookTest, AtMostMaxRunningAtOnce) {
  auto hook = Hook("while [ ! -e '" + dir_ + "/go' ]; do sleep 0.01; done", 2);
  for (const char* name : {"j1", "j2", "j3", "j4", "j5"}) {
    hook->OnJobEnd(MakeJob(), FailedIn(name), counts_);
  }
  EXPECT_EQ(hook->running(), 2u);
  EXPECT_EQ(hook->queued(), 3u);
  std::ofstream(dir_ + "/go") << "";
  hook->Finish(milliseconds(10000));
  EXPECT_EQ(hook->running() + hook->queued(), 0u);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(FailureHookTest, QueuedHooksRunInOrder) {
  auto hook = Hook("echo $HEADROOM_JOB_NAME >> '" + dir_ + "/order'; while [ ! -e '" + dir_ +
                       "/go' ]; do sleep 0.01; done",
                   1);
  for (const char* name : {"j1", "j2", "j3"}) {
    Job job = MakeJob();
    job.name = name;
    hook->OnJobEnd(job, FailedIn(name), counts_);
  }
  EXPECT_EQ(hook->running(), 1u);
  std::ofstream(dir_ + "/go") << "";
  hook->Finish(milliseconds(10000));
  EXPECT_EQ(Read(dir_ + "/order"), "j1\nj2\nj3\n");
}

// True once `pid` is gone or a zombie (its parent may not have reaped it).
bool Gone(pid_t pid) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    std::string stat = Read("/proc/" + std::to_string(pid) + "/stat");
    size_t paren = stat.rfind(')');
    if (stat.empty() || (paren != std::string::npos && stat.substr(paren + 2, 1) == "Z")) {
      return true;
    }
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

pid_t WaitForPid(const std::string& path) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Read(path).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  return std::atoi(Read(path).c_str());
}

TEST_F(FailureHookTest, FinishKillsWhatOutlivesTheGrace) {
  auto hook = Hook("echo $$ > '" + dir_ + "/pid'; exec sleep 30", 1);
  hook->OnJobEnd(MakeJob(), FailedIn("a"), counts_);
  hook->OnJobEnd(MakeJob(), FailedIn("b"), counts_);
  pid_t pid = WaitForPid(dir_ + "/pid");
  ASSERT_GT(pid, 0);
  auto start = std::chrono::steady_clock::now();
  hook->Finish(milliseconds(300));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(hook->running() + hook->queued(), 0u);
  ASSERT_EQ(warnings_.size(), 2u);
  EXPECT_EQ(warnings_[0],
            "--on-failure for clip 7.mp4: still running after the batch ended: killed");
  EXPECT_EQ(warnings_[1], "--on-failure: 1 hook(s) not run: the batch ended while they waited");
  EXPECT_TRUE(Gone(pid));
}

TEST_F(FailureHookTest, DestroyingKillsRunningHooksSilently) {
  auto hook = Hook("echo $$ > '" + dir_ + "/pid'; exec sleep 30");
  hook->OnJobEnd(MakeJob(), FailedIn("a"), counts_);
  pid_t pid = WaitForPid(dir_ + "/pid");
  ASSERT_GT(pid, 0);
  hook.reset();
  EXPECT_TRUE(warnings_.empty());
  EXPECT_TRUE(Gone(pid));
}

}  // namespace
}  // namespace headroom

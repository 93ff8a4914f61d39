// SIGINT/SIGTERM to headroom: running jobs and their grandchildren are
// stopped, temp outputs removed, exit 130/143; a second SIGINT kills at once.
#include <csignal>

#include "harness.h"

namespace headroom::e2e {
namespace {

class SignalsTest : public E2eTest {
 protected:
  // Writes a partial {out}, starts a grandchild, writes both pids, waits.
  // `traps` is put first (e.g. "trap '' TERM").
  std::string Job(const std::string& traps = "") {
    return Script("job.sh", traps +
                                "\n"
                                "echo partial > \"$2\"\n"
                                "sleep 30 &\n"
                                "echo $! > \"" +
                                Path("gc_") +
                                "$1\"\n"
                                "echo $$ > \"" +
                                Path("pid_") +
                                "$1\"\n"
                                "wait\n"
                                "sleep 30\n");
  }
  // Waits for the pid files of `inputs`, and returns their pids and their
  // grandchildren's.
  std::vector<pid_t> WaitForJobs(Process* p, const std::vector<std::string>& inputs) {
    std::vector<pid_t> pids;
    for (const std::string& in : inputs) {
      bool ok = p->PumpUntil(
          [&] { return FileExists(Path("pid_" + in)) && !ReadFile(Path("pid_" + in)).empty(); }, 5);
      EXPECT_TRUE(ok) << "job " << in << " did not start; stdout: " << p->out()
                      << " stderr: " << p->err();
      pids.push_back(ReadPid(Path("pid_" + in)));
      pids.push_back(ReadPid(Path("gc_" + in)));
    }
    return pids;
  }
  void ExpectAllGone(const std::vector<pid_t>& pids) {
    for (pid_t pid : pids) {
      EXPECT_GT(pid, 0);
      EXPECT_TRUE(WaitPidGone(pid, 0.5)) << "pid " << pid << " outlived headroom";
    }
  }
  void TearDown() override {
    // Never leave a sleeper behind, whatever the test found.
    for (const std::string& name : ListDir(dir_.path())) {
      if (StartsWith(name, "pid_") || StartsWith(name, "gc_") || StartsWith(name, "esc_")) {
        pid_t pid = ReadPid(Path(name));
        if (pid > 0 && PidAlive(pid)) kill(pid, SIGKILL);
      }
    }
  }
};

TEST_F(SignalsTest, SigintStopsJobsAndGrandchildrenAndRemovesTempOutputs) {
  std::string job = Job();
  auto p = Start({"run", "-j2", "--kill-grace", "0.5s", "--output-dir", Path("out"), "--", job,
                  "{}", "{out}", ":::", "a", "b", "c", "d"});
  std::vector<pid_t> pids = WaitForJobs(p.get(), {"a", "b"});
  p->Signal(SIGINT);
  double sent = Now();
  RunResult r = p->Wait(10);
  EXPECT_EQ(r.exit_code, 130) << r.err << r.out;
  EXPECT_LT(Now() - sent, 2.0);
  ExpectAllGone(pids);
  EXPECT_EQ(ListDir(Path("out")), std::vector<std::string>{}) << "temp outputs left behind";
  EXPECT_FALSE(FileExists(Path("pid_c"))) << "a job started after SIGINT";
  EXPECT_FALSE(FileExists(Path("pid_d")));
  std::vector<std::string> summary = Grep(r.err, "headroom: 4 jobs:");
  ASSERT_EQ(summary.size(), 1u) << r.out;
  // The two running jobs were interrupted (the two never started may count too).
  EXPECT_TRUE(Contains(summary[0], " interrupted")) << summary[0];
  EXPECT_FALSE(Contains(summary[0], " 0 interrupted")) << summary[0];
}

// SIGHUP drains, as GNU parallel's does: the running jobs finish and keep
// their outputs, nothing new starts, exit 129; --resume runs the rest.
TEST_F(SignalsTest, SighupLetsRunningJobsFinishAndLeavesTheRestForResume) {
  std::string job = Script("gated.sh", "echo $$ > \"" + Path("pid_") + "$1\"\n" +
                                           "while [ ! -e \"" + Path("go") +
                                           "\" ]; do sleep 0.02; done\n"
                                           "echo done > \"$2\"\n");
  std::vector<std::string> args = {"run", "-j2", "--output-dir", Path("out"), "--", job,
                                   "{}", "{out}", ":::", "a", "b", "c", "d"};
  auto p = Start(args);
  WaitForJobs(p.get(), {"a", "b"});
  p->Signal(SIGHUP);
  ASSERT_TRUE(p->PumpUntil([&] { return Contains(p->err() + p->err(), "SIGHUP"); }, 10))
      << p->out() << p->err();
  WriteFile(Path("go"), "");
  RunResult r = p->Wait(20);
  EXPECT_EQ(r.exit_code, 129) << r.out << r.err;
  EXPECT_EQ(ListDir(Path("out")), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(FileExists(Path("pid_c"))) << "a job started after SIGHUP";

  args.insert(args.begin() + 1, "--resume");
  r = Hr(args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ListDir(Path("out")), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST_F(SignalsTest, InterruptedJobThatExitsZeroOnSigtermCommitsNothing) {
  std::string job = Script("job.sh",
                           "trap 'echo partial > \"$1\"; exit 0' TERM\n"
                           "echo $$ > \"" +
                               Path("pid_a") +
                               "\"\n"
                               "sleep 30 &\n"
                               "wait\n");
  auto p = Start({"run", "--output-dir", Path("out"), "--", job, "{out}", ":::", "a.txt"});
  ASSERT_TRUE(p->PumpUntil([&] { return WaitForFile(Path("pid_a"), 0); }, 5)) << p->err();
  p->Signal(SIGINT);
  RunResult r = p->Wait(10);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_EQ(ListDir(Path("out")), std::vector<std::string>{}) << "interrupted output committed";
  EXPECT_EQ(Grep(r.err, "SUCCESS").size(), 0u) << r.out;
}

TEST_F(SignalsTest, TimedOutJobThatExitsZeroOnSigtermIsATimeout) {
  std::string job = Script("job.sh",
                           "trap 'echo partial > \"$1\"; exit 0' TERM\n"
                           "sleep 30 &\n"
                           "echo $! > \"" +
                               Path("gc_a") +
                               "\"\n"
                               "wait\n");
  RunResult r = Hr({"run", "--timeout", "0.3s", "--kill-grace", "0.3s", "--output-dir", Path("out"),
                    "--", job, "{out}", ":::", "a.txt"});
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_EQ(Grep(r.err, "TIMEOUT: a.txt").size(), 1u) << r.out;
  EXPECT_EQ(ListDir(Path("out")), std::vector<std::string>{}) << "timed-out output committed";
  ExpectAllGone({ReadPid(Path("gc_a"))});
}

TEST_F(SignalsTest, SigtermExits143) {
  std::string job = Job();
  auto p = Start({"run", "-j2", "--kill-grace", "0.5s", "--", job, "{}", "x", ":::", "a", "b"});
  std::vector<pid_t> pids = WaitForJobs(p.get(), {"a", "b"});
  p->Signal(SIGTERM);
  RunResult r = p->Wait(10);
  EXPECT_EQ(r.exit_code, 143) << r.err << r.out;
  ExpectAllGone(pids);
}

TEST_F(SignalsTest, JobsIgnoringSigtermAreKilledAfterTheGrace) {
  std::string job = Job("trap '' TERM INT");
  auto p = Start({"run", "--kill-grace", "0.3s", "--", job, "{}", "x", ":::", "a"});
  std::vector<pid_t> pids = WaitForJobs(p.get(), {"a"});
  p->Signal(SIGINT);
  double sent = Now();
  RunResult r = p->Wait(10);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_GE(Now() - sent, 0.25) << "SIGKILL came before --kill-grace";
  EXPECT_LT(Now() - sent, 2.5);
  ExpectAllGone(pids);
}

TEST_F(SignalsTest, SecondSigintKillsAtOnce) {
  std::string job = Job("trap '' TERM INT");
  auto p = Start({"run", "-j2", "--kill-grace", "30s", "--", job, "{}", "x", ":::", "a", "b"});
  std::vector<pid_t> pids = WaitForJobs(p.get(), {"a", "b"});
  p->Signal(SIGINT);
  p->PumpFor(0.3);
  EXPECT_TRUE(p->Running()) << "headroom did not wait for the grace after one SIGINT";
  p->Signal(SIGINT);
  double sent = Now();
  RunResult r = p->Wait(10);
  EXPECT_LT(Now() - sent, 2.0) << "second SIGINT did not kill at once";
  EXPECT_EQ(r.exit_code, 130) << r.err;
  ExpectAllGone(pids);
}

TEST_F(SignalsTest, GrandchildThatLeftTheProcessGroupIsKilledToo) {
  std::string job = Script("job.sh", "setsid sh -c 'echo $$ > \"" + Path("esc_") +
                                         "'\"$1\"'\"; "
                                         "exec sleep 30' &\n"
                                         "echo $$ > \"" +
                                         Path("pid_") +
                                         "$1\"\n"
                                         "sleep 30\n");
  auto p = Start({"run", "--kill-grace", "0.3s", "--", job, ":::", "a"});
  ASSERT_TRUE(p->PumpUntil(
      [&] { return WaitForFile(Path("esc_a"), 0) && WaitForFile(Path("pid_a"), 0); }, 5))
      << p->err();
  pid_t escaped = ReadPid(Path("esc_a"));
  pid_t pid = ReadPid(Path("pid_a"));
  ASSERT_GT(escaped, 0);
  EXPECT_NE(getpgid(escaped), pid) << "setsid did not leave the group; test is moot";
  p->Signal(SIGINT);
  RunResult r = p->Wait(10);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  ExpectAllGone({pid, escaped});
}

TEST_F(SignalsTest, GrandchildLeftAfterJobExitDoesNotOutliveHeadroom) {
  // The job exits 0 at once but leaves a daemonised grandchild behind.
  std::string job = Script("job.sh", "setsid sh -c 'echo $$ > \"" + Path("esc_") +
                                         "'\"$1\"'\"; "
                                         "exec sleep 30' > /dev/null 2>&1 &\n"
                                         "i=0; while [ ! -s \"" +
                                         Path("esc_") +
                                         "$1\" ] && [ $i -lt 200 ]; do"
                                         " sleep 0.01; i=$((i+1)); done\n");
  RunResult r = Hr({"run", "--kill-grace", "0.3s", "--", job, ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.seconds, 3.0);
  pid_t escaped = ReadPid(Path("esc_a"));
  ASSERT_GT(escaped, 0);
  EXPECT_TRUE(WaitPidGone(escaped, 0.5)) << "grandchild " << escaped << " outlived headroom";
}

TEST_F(SignalsTest, SigintDuringDelayStopsQuickly) {
  std::string job = Script("quick.sh", "echo $$ > \"" + Path("pid_") + "$1\"\n");
  auto p = Start({"run", "--delay", "20s", "--", job, ":::", "a", "b"});
  ASSERT_TRUE(p->PumpUntil([&] { return WaitForFile(Path("pid_a"), 0); }, 5));
  p->PumpFor(0.1);
  p->Signal(SIGINT);
  double sent = Now();
  RunResult r = p->Wait(10);
  EXPECT_LT(Now() - sent, 2.0);
  EXPECT_EQ(r.exit_code, 130) << r.err << r.out;
  EXPECT_FALSE(FileExists(Path("pid_b")));
}

}  // namespace
}  // namespace headroom::e2e

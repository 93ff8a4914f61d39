// headroom ctl from another terminal: pause, continue, jobs N and drain of
// a running batch, through its state dir; status shows the pause.
#include "harness.h"

namespace headroom::e2e {
namespace {

class CtlTest : public E2eTest {
 protected:
  // Writes pid_<input> when it starts, then waits for go_<input>.
  std::string GatedJob() {
    return Script("gated.sh", "echo $$ > \"" + Path("pid_") + "$1\"\n" + "while [ ! -e \"" +
                                  Path("go_") + "$1\" ]; do sleep 0.02; done\n");
  }
  bool Started(Process* p, const std::string& input) {
    return p->PumpUntil([&] { return WaitForFile(Path("pid_" + input), 0); }, 10);
  }
  void Go(const std::string& input) { WriteFile(Path("go_" + input), ""); }
  // Whether `headroom status ARGS` comes to print `text` (the journal is
  // committed about once a second) while `p` runs.
  bool StatusShows(Process* p, const std::vector<std::string>& args, const std::string& text) {
    std::string last;
    bool shown = p->PumpUntil(
        [&] {
          last = Hr(args).out;
          return last.find(text) != std::string::npos;
        },
        10);
    EXPECT_TRUE(shown) << "status never showed " << text << "; last: " << last;
    return shown;
  }
};

TEST_F(CtlTest, PauseContinueJobsAndDrainSteerTheRunningBatch) {
  std::vector<std::string> args = {"run", "-j1", "--", GatedJob(), "{}", ":::",
                                   "a",   "b",   "c",  "d",        "e"};
  auto p = Start(args);
  ASSERT_TRUE(Started(p.get(), "a")) << p->err();

  RunResult r = Hr({"ctl", "pause"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("batch 1 (pid "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("paused"), std::string::npos) << r.out;
  StatusShows(p.get(), {"status"}, "waiting: paused (headroom ctl continue)");

  // a ends; nothing starts while paused. `ctl jobs 2` is acknowledged only
  // after the batch's loop ran past a's end, so b would have started by then.
  Go("a");
  ASSERT_TRUE(p->PumpUntil([&] { return p->err().find("SUCCESS: a") != std::string::npos; }, 10))
      << p->err();
  r = Hr({"ctl", "jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("slot limit -j 2"), std::string::npos) << r.out;
  EXPECT_FALSE(FileExists(Path("pid_b"))) << "a job started while paused";
  StatusShows(p.get(), {"status"}, "slots: -j 2 (set by headroom ctl jobs)");

  // continue: b and c run at once under -j 2.
  r = Hr({"ctl", "continue"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(Started(p.get(), "b")) << p->err();
  ASSERT_TRUE(Started(p.get(), "c")) << p->err();

  // drain: b and c finish, d and e are left for --resume (exit 129).
  r = Hr({"ctl", "drain"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  StatusShows(p.get(), {"status", "--json"},
              "\"waiting\":\"draining (SIGHUP or headroom ctl drain)\"");
  Go("b");
  Go("c");
  RunResult end = p->Wait(20);
  EXPECT_EQ(end.exit_code, 129) << end.err;
  EXPECT_FALSE(FileExists(Path("pid_d")));
  EXPECT_NE(end.err.find("slot limit -j 1 -> 2 (headroom ctl jobs)"), std::string::npos) << end.err;
  EXPECT_NE(end.err.find("drained"), std::string::npos) << end.err;

  // The batch has ended: ctl says so, exit 1; --resume runs the rest.
  r = Hr({"ctl", "pause"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("batch 1 is not running"), std::string::npos) << r.err;
  Go("d");
  Go("e");
  args.insert(args.begin() + 1, "--resume");
  r = Hr(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(FileExists(Path("pid_e")));
}

TEST_F(CtlTest, BadActionsAreUsageErrors) {
  for (const auto& [args, expected] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"ctl"}, "ctl: no action given"},
           {{"ctl", "stop"}, "ctl: unknown action 'stop' (expected drain, pause, continue or jobs N)"},
           {{"ctl", "jobs", "0"}, "ctl jobs: '0' is not a slot count"},
           {{"ctl", "jobs"}, "ctl jobs: no slot count given"},
           {{"ctl", "pause", "now"}, "unexpected argument 'now'"},
       }) {
    RunResult r = Hr(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace headroom::e2e

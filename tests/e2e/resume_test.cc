// The journal and --resume: a batch killed with SIGKILL at random points and
// resumed until it completes runs every job to success exactly once, with
// every output in place and nothing half-written left behind; failed jobs
// rerun only with --resume-failed; a second headroom on a running batch is
// refused; a journal headroom cannot use stops the run before anything is
// created. The journal is read with the sqlite3 shell.
#include <sys/prctl.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <random>
#include <set>

#include "harness.h"

namespace headroom::e2e {
namespace {

class ResumeTest : public E2eTest {
 protected:
  void SetUp() override {
    // Jobs of a killed headroom become our children, so that the test can
    // wait for them instead of guessing how long they still write.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  }
  void TearDown() override {
    ReapOrphans();
    prctl(PR_SET_CHILD_SUBREAPER, 0);
  }

  // Waits until every orphaned job has exited. Call only while no Process
  // of the harness is alive: it reaps any child.
  static void ReapOrphans() {
    double deadline = Now() + 10;
    for (;;) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid > 0) continue;
      if (pid < 0 && errno == ECHILD) return;
      if (Now() > deadline) {
        ADD_FAILURE() << "jobs of a killed headroom still run after 10 s";
        return;
      }
      usleep(2000);
    }
  }

  // The first column of each row of `query` on the journal in `state_dir`.
  std::vector<std::string> Sql(const std::string& state_dir, const std::string& query) {
    RunResult r = RunProgram(
        {"/usr/bin/env", "sqlite3", "-readonly", state_dir + "/journal.db", query}, Opts());
    EXPECT_EQ(r.exit_code, 0) << "sqlite3 (Debian package sqlite3) failed: " << r.err;
    return SplitLines(r.out);
  }
  std::string SqlOne(const std::string& state_dir, const std::string& query) {
    std::vector<std::string> rows = Sql(state_dir, query);
    return rows.empty() ? "" : rows[0];
  }

  std::vector<std::string> RunArgs(const std::string& state, const std::string& out,
                                   const std::string& job, const std::vector<std::string>& extra,
                                   const std::vector<std::string>& inputs) {
    std::vector<std::string> args = {"run", "-j4", "--state-dir", state, "--output-dir", out};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", job, "{}", "{out}", ":::"});
    args.insert(args.end(), inputs.begin(), inputs.end());
    return args;
  }
};

// Exactly once: kill -9 at any point, and the resume runs again only the
// jobs that were still running; no job whose output was in place at the
// kill runs again (the kill often falls between a job's rename and the
// journal's next commit: a success is durable in the launch log before its
// rename). Eight kill points, each after a different number of starts.
TEST_F(ResumeTest, AResumeRunsAgainOnlyWhatWasRunningAtTheKill) {
  std::string job = Script("job.sh",
                           "printf '%s\\n' \"$1\" >> \"$3\"\n"
                           "sleep 0.02\n"
                           "printf '%s\\n' \"$1\" > \"$2\"\n");
  std::vector<std::string> inputs;
  for (int i = 0; i < 60; ++i) inputs.push_back("in" + std::to_string(100 + i));
  std::mt19937 random(12);
  for (int seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("kill point " + std::to_string(seed));
    std::string state = Path("xstate" + std::to_string(seed));
    std::string out = Path("xout" + std::to_string(seed));
    std::string starts = Path("starts" + std::to_string(seed));
    auto args = [&](bool resume) {
      std::vector<std::string> a = {"run", "-j4", "--state-dir", state, "--output-dir", out};
      if (resume) a.push_back("--resume");
      a.insert(a.end(), {"--", job, "{}", "{out}", starts, ":::"});
      a.insert(a.end(), inputs.begin(), inputs.end());
      return a;
    };
    size_t kill_after = 4 + random() % 48;  // starts before the kill
    auto p = Start(args(false));
    double deadline = Now() + 30;
    while (SplitLines(ReadFile(starts)).size() < kill_after && p->Running() && Now() < deadline) {
      p->PumpFor(0.002);
    }
    ASSERT_TRUE(p->Running()) << "the batch ended before its kill point";
    p->Signal(SIGKILL);
    ASSERT_EQ(p->Wait(30).signal, SIGKILL);
    p.reset();
    ReapOrphans();  // the killed run's jobs are done: its starts are all written
    std::set<std::string> in_place;  // outputs in place at the kill
    for (const std::string& name : ListDir(out)) {
      if (!name.starts_with(".")) in_place.insert(name);
    }
    std::vector<std::string> first = SplitLines(ReadFile(starts));

    RunResult resumed = Hr(args(true));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err << resumed.out;
    std::vector<std::string> all = SplitLines(ReadFile(starts));
    std::set<std::string> started_before(first.begin(), first.end());
    for (size_t i = first.size(); i < all.size(); ++i) {
      EXPECT_FALSE(in_place.contains(all[i])) << all[i] << " ran again though its output was in place";
      if (started_before.contains(all[i])) {
        EXPECT_FALSE(in_place.contains(all[i]));
      }
    }
    EXPECT_FALSE(in_place.empty()) << "the kill came before any output: a weak kill point";
    for (const std::string& input : inputs) {
      EXPECT_EQ(ReadFile(out + "/" + input), input + "\n") << input;
    }
    EXPECT_EQ(Sql(state,
                  "SELECT key FROM jobs WHERE state != 'succeeded' UNION ALL "
                  "SELECT job_key FROM attempts GROUP BY job_key "
                  "HAVING sum(outcome = 'succeeded') != 1"),
              std::vector<std::string>{});
  }
}

// For each of three seeds: kills headroom (SIGKILL, 50-500 ms after a start)
// and resumes, killing again now and then, until a run exits 0.
TEST_F(ResumeTest, KilledBatchesResumeToExactlyOneSuccessPerJob) {
  std::string job = Script("job.sh",
                           "printf partial > \"$2\"\n"
                           "sleep 0.01\n"
                           "printf '%s\\n' \"$1\" > \"$2\"\n");
  std::vector<std::string> inputs;
  for (int i = 0; i < 200; ++i) inputs.push_back("in" + std::to_string(1000 + i));
  int kills = 0;
  int interrupted_attempts = 0;
  for (unsigned seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> delay_ms(50, 500);
    std::string state = Path("state" + std::to_string(seed));
    std::string out = Path("out" + std::to_string(seed));
    bool done = false;
    for (int run = 0; run < 12 && !done; ++run) {
      std::vector<std::string> extra;
      if (run > 0) extra.push_back("--resume");
      auto p = Start(RunArgs(state, out, job, extra, inputs));
      // Every run but the last few may be killed; those must finish.
      if (run < 8 && (run == 0 || random() % 2 == 0)) {
        p->PumpFor(delay_ms(random) / 1000.0);
        if (p->Running()) {
          p->Signal(SIGKILL);
          ++kills;
        }
      }
      RunResult r = p->Wait(30);
      p.reset();
      ReapOrphans();
      ASSERT_FALSE(r.timed_out);
      if (r.signal == SIGKILL) continue;
      ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
      done = true;
    }
    ASSERT_TRUE(done) << "no run completed the batch";

    EXPECT_EQ(SqlOne(state, "SELECT count(*) FROM batches"), "1");
    EXPECT_EQ(SqlOne(state, "SELECT count(*) FROM jobs WHERE state = 'succeeded'"), "200");
    EXPECT_EQ(SqlOne(state, "SELECT count(*) FROM jobs"), "200");
    // Each job succeeded exactly once; its attempts are numbered 1..n.
    EXPECT_EQ(Sql(state,
                  "SELECT job_key FROM attempts GROUP BY job_key "
                  "HAVING sum(outcome = 'succeeded') != 1 OR max(attempt) != count(*)"),
              std::vector<std::string>{});
    EXPECT_EQ(SqlOne(state, "SELECT count(DISTINCT job_key) FROM attempts"), "200");
    // Attempts of a killed run have no end; the resume marked them interrupted.
    EXPECT_EQ(SqlOne(state, "SELECT count(*) FROM attempts WHERE outcome = ''"), "0");
    EXPECT_EQ(SqlOne(state, "SELECT exit_code FROM batches"), "0");
    // Starts not yet committed when a run was killed were in its launch log
    // (replayed by the next run); the run that completed removed it.
    EXPECT_FALSE(FileExists(state + "/batch-1.launches"));
    interrupted_attempts +=
        std::stoi(SqlOne(state, "SELECT count(*) FROM attempts WHERE outcome = 'interrupted'"));
    // Every output in place, with its whole content, and no temp file left.
    std::vector<std::string> names = ListDir(out);
    EXPECT_EQ(names, inputs);
    for (const std::string& input : inputs) {
      ASSERT_EQ(ReadFile(out + "/" + input), input + "\n") << input;
    }
  }
  // The test means nothing if no kill landed while jobs ran.
  EXPECT_GT(kills, 0);
  EXPECT_GT(interrupted_attempts, 0);
}

// Jobs a killed headroom left running are stopped by the resume before it
// runs them again: they would hold the GPU memory the resume needs and could
// write their partial output again after it was removed.
TEST_F(ResumeTest, AResumeStopsTheJobsAKilledHeadroomLeftRunning) {
  std::string job = Script("job.sh",
                           "if [ ! -e \"" + Path("fast") +
                               "\" ]; then\n"
                               "  echo $$ > \"" + Path("pid") +
                               "\"\n"
                               "  printf partial > \"$2\"\n"
                               "  sleep 30\n"
                               "fi\n"
                               "printf '%s\\n' \"$1\" > \"$2\"\n");
  std::string state = Path("state");
  std::string out = Path("out");
  auto first = Start(RunArgs(state, out, job, {}, {"a"}));
  ASSERT_TRUE(first->PumpUntil([&] { return FileExists(Path("pid")); }, 10)) << first->err();
  first->Signal(SIGKILL);
  RunResult killed = first->Wait(10);
  ASSERT_EQ(killed.signal, SIGKILL);
  first.reset();
  pid_t orphan = std::stoi(ReadFile(Path("pid")));
  ASSERT_EQ(kill(orphan, 0), 0) << "the job did not outlive its headroom";

  WriteFile(Path("fast"), "");
  RunResult r = Hr(RunArgs(state, out, job, {"--resume"}, {"a"}));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(Grep(r.out + r.err,
                 "stopped 2 process(es) of batch 1 that a killed headroom left running")
                .size(),
            1u)
      << r.out << r.err;  // the job's shell and its sleep
  ReapOrphans();  // they are ours (child subreaper): gone once reaped
  EXPECT_NE(kill(orphan, 0), 0) << "the old job still runs";
  EXPECT_EQ(ListDir(out), std::vector<std::string>{"a"});
  EXPECT_EQ(ReadFile(out + "/a"), "a\n");
}

// --max-count counts the jobs left to run: a batch done in chunks with
// --resume --max-count N makes progress each time.
TEST_F(ResumeTest, MaxCountWithResumeRunsTheNextJobs) {
  std::string job = Script("job.sh", "printf '%s\\n' \"$1\" > \"$2\"\n");
  std::string state = Path("state");
  std::string out = Path("out");
  for (int run = 1; run <= 3; ++run) {
    RunResult r = Hr(RunArgs(state, out, job, {"--resume", "--max-count", "2"},
                             {"a", "b", "c", "d", "e"}));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  EXPECT_EQ(ListDir(out), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(SqlOne(state, "SELECT count(*) FROM attempts"), "5");
  EXPECT_EQ(SqlOne(state, "SELECT count(*) FROM batches"), "1");
}

TEST_F(ResumeTest, FailedJobsRunAgainOnlyWithResumeFailed) {
  std::string job = Script("job.sh", "printf '%s\\n' \"$1\" >> \"" + Path("ran") +
                                         "\"\n"
                                         "[ -e \"" +
                                         Path("fail_") +
                                         "$1\" ] && exit 3\n"
                                         "printf '%s\\n' \"$1\" > \"$2\"\n");
  WriteFile(Path("fail_b"), "");
  std::string state = Path("state");
  std::string out = Path("out");
  RunResult r = Hr(RunArgs(state, out, job, {}, {"a", "b", "c"}));
  ASSERT_EQ(r.exit_code, 1) << r.err << r.out;

  // A resume adds d, keeps a and c done and b failed: still exit 1.
  r = Hr(RunArgs(state, out, job, {"--resume"}, {"a", "b", "c", "d"}));
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_EQ(Grep(r.err,
                 "headroom: resumed batch 1: 2 already done (counted as skipped), 1 "
                 "failed before and not run again (--resume-failed runs them)")
                .size(),
            1u)
      << r.out;
  EXPECT_EQ(Grep(r.err, "headroom: 4 jobs: 1 succeeded, 0 failed, 3 skipped").size(), 1u) << r.out;
  std::vector<std::string> ran = SplitLines(ReadFile(Path("ran")));
  std::sort(ran.begin(), ran.end());
  EXPECT_EQ(ran, (std::vector<std::string>{"a", "b", "c", "d"})) << "only d may run again";

  RemoveAll(Path("fail_b"));
  r = Hr(RunArgs(state, out, job, {"--resume-failed"}, {"a", "b", "c", "d"}));
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  ran = SplitLines(ReadFile(Path("ran")));
  ASSERT_EQ(ran.size(), 5u);
  EXPECT_EQ(ran[4], "b");
  EXPECT_EQ(Sql(state,
                "SELECT attempt || ' ' || outcome FROM attempts WHERE job_key = 'b' "
                "ORDER BY attempt"),
            (std::vector<std::string>{"1 failed", "2 succeeded"}));
  EXPECT_EQ(Sql(state, "SELECT key || ' ' || state FROM jobs ORDER BY key"),
            (std::vector<std::string>{"a succeeded", "b succeeded", "c succeeded", "d succeeded"}));
  EXPECT_EQ(ReadFile(out + "/b"), "b\n");
}

TEST_F(ResumeTest, SkippedJobsAreJournaledAsSkippedAndEveryRunIsABatch) {
  std::string job = Script("job.sh", "printf '%s\\n' \"$1\" > \"$2\"\n");
  std::string state = Path("state");
  std::string out = Path("out");
  MakeDirs(out);
  WriteFile(out + "/b", "old\n");
  RunResult r = Hr(RunArgs(state, out, job, {"--skip-existing"}, {"a", "b"}));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(Sql(state, "SELECT key || ' ' || state || ' ' || attempts FROM jobs ORDER BY key"),
            (std::vector<std::string>{"a succeeded 1", "b skipped 0"}));
  r = Hr(RunArgs(state, out, job, {}, {"a", "b"}));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(Sql(state, "SELECT id || ' ' || exit_code || ' ' || input_source FROM batches"),
            (std::vector<std::string>{"1 0 ::: arguments", "2 0 ::: arguments"}));
}

TEST_F(ResumeTest, ResumeWithNothingToResumeStartsANewBatch) {
  std::string job = Script("job.sh", "printf '%s\\n' \"$1\" > \"$2\"\n");
  std::string state = Path("state");
  RunResult r = Hr(RunArgs(state, Path("out"), job, {"--resume"}, {"a"}));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(Grep(r.err, "headroom: warning: no batch of this command and input to resume in " +
                            state + "/journal.db; starting batch 1")
                .size(),
            1u)
      << r.out;
  EXPECT_EQ(ReadFile(Path("out/a")), "a\n");
}

TEST_F(ResumeTest, ASecondHeadroomOnARunningBatchIsRefused) {
  std::string job = Script("job.sh", "echo $$ > \"" + Path("started") +
                                         "\"\n"
                                         "while [ ! -e \"" +
                                         Path("go") +
                                         "\" ]; do sleep 0.01; done\n"
                                         "printf '%s\\n' \"$1\" > \"$2\"\n");
  std::string state = Path("state");
  std::string out = Path("out");
  auto first = Start(RunArgs(state, out, job, {}, {"a"}));
  ASSERT_TRUE(first->PumpUntil([&] { return FileExists(Path("started")); }, 10)) << first->err();
  RunResult second = Hr(RunArgs(state, out, job, {"--resume"}, {"a"}));
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_EQ(second.err, "headroom: error: batch 1 is being run by another headroom (pid " +
                            std::to_string(first->pid()) + ")\n");
  RunResult by_id = Hr(RunArgs(state, out, job, {"--batch", "1"}, {"a"}));
  EXPECT_EQ(by_id.exit_code, 2) << by_id.err;
  WriteFile(Path("go"), "");
  RunResult r = first->Wait(15);
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(SqlOne(state, "SELECT count(*) FROM attempts"), "1");
}

TEST_F(ResumeTest, ABatchThatCouldNotSetUpIsEndedNotLeftLookingKilled) {
  std::string job = Script("job.sh", "printf '%s\\n' \"$1\" > \"$2\"\n");
  std::string state = Path("state");
  WriteFile(Path("blocker"), "");  // a file where the output dir should go
  RunResult r = Hr(RunArgs(state, Path("blocker/out"), job, {}, {"a"}));
  EXPECT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_EQ(SqlOne(state, "SELECT exit_code FROM batches WHERE id = 1"), "2");
  EXPECT_EQ(SqlOne(state, "SELECT count(*) FROM attempts"), "0");
}

// --no-journal: the batch runs as usual and leaves no state dir behind; what
// needs a journal is refused before anything runs.
TEST_F(ResumeTest, NoJournalWritesNothingToTheStateDirAndCannotBeResumed) {
  std::string job = Script("job.sh", "printf '%s\\n' \"$1\" > \"$2\"\n");
  std::string state = Path("state");
  RunResult r = Hr(RunArgs(state, Path("out"), job, {"--no-journal"}, {"a", "b"}));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(ReadFile(Path("out/a")), "a\n");
  EXPECT_EQ(ReadFile(Path("out/b")), "b\n");
  EXPECT_FALSE(FileExists(state)) << "--no-journal created " << state;
  r = Hr(RunArgs(state, Path("out2"), job, {"--no-journal", "--resume"}, {"a"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "headroom: error: --no-journal and --resume cannot be used together (--resume needs "
            "the batch's journal)\n");
  EXPECT_FALSE(FileExists(Path("out2/a")));
  r = Hr(RunArgs(state, Path("out2"), job, {"--no-journal", "--report", Path("r.json")}, {"a"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "headroom: error: --no-journal and --report cannot be used together (--report needs "
            "the batch's journal)\n");
}

TEST_F(ResumeTest, BatchOfAnotherCommandIsAnError) {
  std::string job = Script("job.sh", "printf '%s\\n' \"$1\" > \"$2\"\n");
  std::string state = Path("state");
  ASSERT_EQ(Hr(RunArgs(state, Path("out"), job, {}, {"a"})).exit_code, 0);
  RunResult r = Hr({"run", "--state-dir", state, "--batch", "1", "--", "true", ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "headroom: error: --batch 1 is a batch of [" + job +
                       " '{}' '{out}'] on [::: arguments], not of [true] on [::: arguments]\n");
}

TEST_F(ResumeTest, AJournalHeadroomCannotUseStopsTheRunAndIsLeftAsItWas) {
  std::string state = Path("state");
  MakeDirs(state);
  std::string garbage(3000, 'x');
  WriteFile(state + "/journal.db", garbage);
  RunResult r = Hr(RunArgs(state, Path("out"), "true", {}, {"a"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "headroom: error: journal " + state +
                       "/journal.db: not a headroom journal (file is not a database)\n");
  EXPECT_EQ(ReadFile(state + "/journal.db"), garbage);
  EXPECT_EQ(ListDir(state), std::vector<std::string>{"journal.db"});
  EXPECT_FALSE(FileExists(Path("out"))) << "output dir created";
  EXPECT_FALSE(FileExists(LogDir())) << "log dir created";

  std::string newer = Path("newer");
  ASSERT_EQ(Hr(RunArgs(newer, Path("out2"), "touch", {}, {"a"})).exit_code, 0);
  Sql(newer, "SELECT 1");  // the shell can read it
  RunResult set = RunProgram(
      {"/usr/bin/env", "sqlite3", newer + "/journal.db", "PRAGMA user_version = 99"}, Opts());
  ASSERT_EQ(set.exit_code, 0) << set.err;
  std::string before = ReadFile(newer + "/journal.db");
  r = Hr(RunArgs(newer, Path("out2"), "true", {"--resume"}, {"a"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "headroom: error: journal " + newer +
                       "/journal.db: schema version 99 is newer than this headroom (knows 2); "
                       "upgrade headroom\n");
  EXPECT_EQ(ReadFile(newer + "/journal.db"), before);
}

}  // namespace
}  // namespace headroom::e2e

#include "exec/process_runner.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "exec/exec_test_util.h"

namespace headroom {
namespace {

using test::ReadFile;

// A shell script job: `sh -c SCRIPT sh ARGS...`.
Job ScriptJob(const std::string& script, std::vector<std::string> args = {}) {
  Job job;
  job.number = 1;
  job.name = "job one";
  job.input = "in.txt";
  job.argv_template = {"sh", "-c", script, "sh"};
  job.argv_template.insert(job.argv_template.end(), args.begin(), args.end());
  return job;
}

class ProcessRunnerTest : public ::testing::Test {
 protected:
  ProcessRunnerTest() : log_dir_(dir_.File("logs"), "20260101_120000") {
    EXPECT_TRUE(log_dir_.Create().ok());
    config_.base_env = {"PATH=/usr/bin:/bin"};
    config_.resolved = {{"sh", "/bin/sh"}};
    config_.path_env = "/usr/bin:/bin";
  }

  ProcessRunner& Runner() {
    if (!runner_) runner_ = std::make_unique<ProcessRunner>(config_, log_dir_, &processes_);
    return *runner_;
  }

  StartedJob Start(const Job& job, int slot = 1, int attempt = 1) {
    StartedJob started;
    Launch launch;
    launch.slot = slot;
    launch.attempt = attempt;
    Status status = Runner().Start(Unit{{&job}}, launch, &started);
    EXPECT_TRUE(status.ok()) << status.message();
    return started;
  }

  // Waits (at most 2 s) for `handle` to exit; exits of others are kept.
  ExitInfo WaitFor(RunHandle handle) {
    return exec_test::WaitForEnd(Runner(), handle, &exited_, std::chrono::seconds(2));
  }

  // Runs `job` to its end; its stdout.
  std::string Output(const Job& job, int slot = 1) {
    StartedJob started = Start(job, slot);
    EXPECT_EQ(WaitFor(started.handle).exit_code, 0);
    return ReadFile(started.stdout_log);
  }

  test::TempDir dir_;
  LogDir log_dir_;
  ProcessRunnerConfig config_;
  ProcessSet processes_;
  std::unique_ptr<ProcessRunner> runner_;
  std::vector<Exited> exited_;
};

TEST_F(ProcessRunnerTest, RunsTheJobAndReportsItsExit) {
  Job job = ScriptJob("echo out-$1; echo err >&2; exit 4");
  StartedJob started = Start(job);
  EXPECT_EQ(started.argv, (std::vector<std::string>{"sh", "-c", job.argv_template[2], "sh",
                                                    "in.txt"}));
  EXPECT_EQ(started.stdout_log, log_dir_.StdoutPath(job, 1));
  EXPECT_EQ(started.stderr_log, log_dir_.StderrPath(job, 1));
  ExitInfo info = WaitFor(started.handle);
  EXPECT_EQ(info.exit_code, 4);
  EXPECT_EQ(info.signal, 0);
  EXPECT_GT(info.max_rss_kb, 0);
  EXPECT_EQ(ReadFile(started.stdout_log), "out-in.txt\n");
  EXPECT_EQ(ReadFile(started.stderr_log), "err\n");
}

TEST_F(ProcessRunnerTest, AFailureCarriesTheTailOfItsStderr) {
  // The OOM classifier reads it: the message a framework prints last.
  Job failing = ScriptJob("head -c 20000 /dev/zero | tr '\\0' x >&2; echo; "
                          "echo 'CUDA out of memory.' >&2; exit 1");
  ExitInfo info = WaitFor(Start(failing).handle);
  EXPECT_EQ(info.stderr_tail.size(), 8192u);
  EXPECT_EQ(info.stderr_tail.substr(info.stderr_tail.size() - 20), "CUDA out of memory.\n");
  Job ok = ScriptJob("echo fine >&2");
  EXPECT_EQ(WaitFor(Start(ok).handle).stderr_tail, "");
}

TEST_F(ProcessRunnerTest, TheChosenGpuIsVisibleToTheJobAndInItsArguments) {
  Job job = ScriptJob("echo \"$CUDA_VISIBLE_DEVICES|$1\"", {"{gpu}"});
  Launch launch;
  launch.gpu = "1";
  StartedJob started;
  ASSERT_TRUE(Runner().Start(Unit{{&job}}, launch, &started).ok());
  EXPECT_EQ(WaitFor(started.handle).exit_code, 0);
  EXPECT_EQ(ReadFile(started.stdout_log), "1|1\n");
  // No placement: CUDA_VISIBLE_DEVICES stays as headroom found it (unset here).
  EXPECT_EQ(Output(job), "|\n");
}

TEST_F(ProcessRunnerTest, LaterAttemptsWriteTheirOwnLogs) {
  Job job = ScriptJob("echo second");
  StartedJob started = Start(job, 1, 2);
  EXPECT_EQ(started.stdout_log, log_dir_.StdoutPath(job, 2));
  EXPECT_NE(started.stdout_log, log_dir_.StdoutPath(job, 1));
  WaitFor(started.handle);
  EXPECT_EQ(ReadFile(started.stdout_log), "second\n");
}

const char kHostile[] = "a b'c\"d $(touch pwned) `x` ;*? -rf \\ \xff\xfe \xc3\xa9\nline2";

TEST_F(ProcessRunnerTest, HostileInputArrivesIntact) {
  Job job = ScriptJob("printf '%s\\0' \"$@\"", {"{}", "--in={}.x", "{/}"});
  job.input = std::string("dir/") + kHostile;
  std::string expected = job.input + '\0' + "--in=" + job.input + ".x" + '\0' + kHostile + '\0';
  EXPECT_EQ(Output(job), expected);
  EXPECT_FALSE(std::filesystem::exists("pwned"));
}

TEST_F(ProcessRunnerTest, ShellModeQuotesSubstitutedValues) {
  config_.shell = true;
  Job job;
  job.number = 1;
  job.name = "shell";
  job.input = kHostile;
  job.argv_template = {"printf '%s\\0'", "{}", "\"$HOME\""};
  StartedJob started = Start(job);
  EXPECT_EQ(started.argv.at(0), "/bin/sh");
  EXPECT_EQ(started.argv.at(1), "-c");
  EXPECT_EQ(WaitFor(started.handle).exit_code, 0);
  // The template itself is shell text ($HOME expands); the input is not.
  EXPECT_EQ(ReadFile(started.stdout_log), std::string(kHostile) + '\0' + '\0');
}

// NAME=VALUE lines of `env`, each name once.
std::map<std::string, std::string> ParseEnv(const std::string& text, bool* unique) {
  std::map<std::string, std::string> vars;
  std::istringstream in(text);
  std::string line;
  *unique = true;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    std::string name = line.substr(0, eq);
    *unique &= vars.count(name) == 0;
    vars[name] = line.substr(eq + 1);
  }
  return vars;
}

TEST_F(ProcessRunnerTest, EnvironmentLayers) {
  config_.base_env = {"PATH=/usr/bin:/bin", "OMP_NUM_THREADS=7", "HOME=/home/u", "KEEP=1",
                      "HEADROOM_SLOT=99", "HEADROOM_JOB_NUMBER=98"};
  config_.threads_per_job = 2;
  config_.env = {{"HOME", "/from-env-option"}, {"X", "option"}, {"Y", "option"}};
  Job job = ScriptJob("env");
  job.number = 5;
  job.env = {{"X", "job"}, {"J", "3"}};
  bool unique = false;
  std::map<std::string, std::string> vars = ParseEnv(Output(job, 3), &unique);
  EXPECT_TRUE(unique);
  EXPECT_EQ(vars["OMP_NUM_THREADS"], "7");  // the user's own setting stays
  EXPECT_EQ(vars["OPENBLAS_NUM_THREADS"], "2");
  EXPECT_EQ(vars["MKL_NUM_THREADS"], "2");
  EXPECT_EQ(vars["NUMEXPR_NUM_THREADS"], "2");
  EXPECT_EQ(vars["VECLIB_MAXIMUM_THREADS"], "2");
  EXPECT_EQ(vars["HOME"], "/from-env-option");
  EXPECT_EQ(vars["Y"], "option");
  EXPECT_EQ(vars["X"], "job");
  EXPECT_EQ(vars["J"], "3");
  EXPECT_EQ(vars["KEEP"], "1");
  EXPECT_EQ(vars["HEADROOM_JOB_NUMBER"], "5");
  EXPECT_EQ(vars["HEADROOM_SLOT"], "3");
}

TEST_F(ProcessRunnerTest, NoThreadVariablesByDefault) {
  bool unique = false;
  std::map<std::string, std::string> vars = ParseEnv(Output(ScriptJob("env")), &unique);
  EXPECT_EQ(vars.count("OMP_NUM_THREADS"), 0u);
  EXPECT_EQ(vars.count("MKL_NUM_THREADS"), 0u);
}

TEST_F(ProcessRunnerTest, EachJobGetsItsOwnNumberAndSlot) {
  Job first = ScriptJob("echo $HEADROOM_JOB_NUMBER/$HEADROOM_SLOT");
  Job second = first;
  second.number = 2;
  second.name = "job two";
  StartedJob a = Start(first, 1);
  StartedJob b = Start(second, 2);
  WaitFor(a.handle);
  WaitFor(b.handle);
  EXPECT_EQ(ReadFile(a.stdout_log), "1/1\n");
  EXPECT_EQ(ReadFile(b.stdout_log), "2/2\n");
}

TEST_F(ProcessRunnerTest, ProgramFromAPlaceholderIsResolvedAtStart) {
  Job job;
  job.number = 1;
  job.name = "p";
  job.input = "true";
  job.argv_template = {"{}"};
  StartedJob started = Start(job);
  EXPECT_EQ(started.argv, std::vector<std::string>{"true"});
  EXPECT_EQ(WaitFor(started.handle).exit_code, 0);

  job.input = "no-such-tool-xyz";
  Status status = Runner().Start(Unit{{&job}}, Launch(), &started);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "command not found: no-such-tool-xyz (not on PATH)");
  EXPECT_EQ(processes_.running(), 0u);
}

TEST_F(ProcessRunnerTest, SpawnFailureIsAnErrorOfThatJob) {
  std::string script = dir_.File("not-executable");
  std::FILE* f = std::fopen(script.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  config_.resolved["tool"] = script;
  Job job = ScriptJob("");
  job.argv_template = {"tool"};
  StartedJob started;
  Status status = Runner().Start(Unit{{&job}}, Launch(), &started);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), script + ": cannot start: Permission denied");
  EXPECT_EQ(processes_.running(), 0u);
}

TEST_F(ProcessRunnerTest, SignalReachesTheWholeJob) {
  StartedJob started = Start(ScriptJob("sleep 30 & wait"));
  Runner().Signal(started.handle, SIGTERM);
  EXPECT_EQ(WaitFor(started.handle).signal, SIGTERM);
}

TEST_F(ProcessRunnerTest, WaitReportsInterrupts) {
  raise(SIGTERM);
  WaitResult result = Runner().Wait(Millis(1000));
  EXPECT_EQ(result.interrupt, SIGTERM);
  EXPECT_TRUE(result.exited.empty());
}

TEST_F(ProcessRunnerTest, CompleteCommitsOrDiscardsTheOutput) {
  Job job = ScriptJob("echo data > \"$1\"", {"{out}"});
  job.output = dir_.File("result.txt");
  job.temp_output = dir_.File(".result.tmp.txt");
  Output(job);
  ASSERT_EQ(ReadFile(job.temp_output), "data\n");
  EXPECT_TRUE(Runner().Complete(job, true).ok());
  EXPECT_EQ(ReadFile(job.output), "data\n");
  EXPECT_FALSE(std::filesystem::exists(job.temp_output));

  job.output = dir_.File("failed.txt");
  Output(job);
  EXPECT_TRUE(Runner().Complete(job, false).ok());
  EXPECT_FALSE(std::filesystem::exists(job.temp_output));
  EXPECT_FALSE(std::filesystem::exists(job.output));
}

// --- a resume taking back a killed headroom's launches ----------------------

TEST(UnitTagTest, NamesTheJobsByNumberAndInput) {
  Job a, b;
  a.number = 17;
  a.input = "clip\n1.mp4";  // -0 inputs may hold anything
  b.number = 18;
  b.input = "b.mp4";
  std::string tag = UnitTag(Unit{{&a, &b}});
  EXPECT_EQ(tag, "17,18\nclip\n1.mp4\nb.mp4");
  EXPECT_EQ(UnitTagJobs(tag), (std::vector<int64_t>{17, 18}));
  EXPECT_EQ(UnitTagJobs(UnitTag(Unit{{&b}})), (std::vector<int64_t>{18}));
}

// What a Slurm launcher does on a resume, on this machine: the "killed
// run's" launch was made before the runner existed, and Adopt gives it back.
class LeftoverLauncher : public LocalLauncher {
 public:
  using LocalLauncher::LocalLauncher;
  std::vector<std::string> Leftovers() const override {
    return left ? std::vector<std::string>{left->tag.unit} : std::vector<std::string>{};
  }
  bool Adopt(const std::string& unit, AdoptedLaunch* out) override {
    if (!left || left->tag.unit != unit) return false;
    *out = *left;
    left.reset();
    return true;
  }
  std::optional<AdoptedLaunch> left;
};

TEST_F(ProcessRunnerTest, AStartOfALeftoverTakesItBackAndCommitsWhatItWrote) {
  Job job = ScriptJob("echo new > \"$1\"", {"{out}"});
  job.output = dir_.File("result.txt");
  job.temp_output = dir_.File(".result.new.txt");
  // The killed run's launch of the same job, writing its own temp output.
  std::string old_temp = dir_.File(".result.old.txt");
  SpawnSpec spec;
  spec.path = "/bin/sh";
  spec.argv = {"sh", "-c", "echo old > \"$1\"", "sh", old_temp};
  spec.stdout_path = dir_.File("old.out");
  spec.stderr_path = dir_.File("old.err");
  auto launcher = std::make_unique<LeftoverLauncher>(&processes_);
  AdoptedLaunch left;
  ASSERT_TRUE(launcher->Launch(spec, std::nullopt, LaunchTag{}, &left.handle).ok());
  left.tag.unit = UnitTag(Unit{{&job}});
  left.tag.temp_outputs = {old_temp};
  left.argv = spec.argv;
  left.stdout_path = spec.stdout_path;
  left.stderr_path = spec.stderr_path;
  left.memory = 64 << 20;
  launcher->left = left;
  runner_ = std::make_unique<ProcessRunner>(config_, log_dir_, std::move(launcher));
  EXPECT_EQ(Runner().Leftovers(), (std::vector<std::vector<int64_t>>{{1}}));

  StartedJob started = Start(job);
  EXPECT_TRUE(started.adopted);
  EXPECT_EQ(started.handle, left.handle);
  EXPECT_EQ(started.argv, spec.argv);
  EXPECT_EQ(started.stderr_log, spec.stderr_path);
  EXPECT_EQ(started.ram, std::optional<uint64_t>(64 << 20));
  EXPECT_EQ(WaitFor(started.handle).exit_code, 0);
  ASSERT_TRUE(Runner().Complete(job, true).ok());
  EXPECT_EQ(ReadFile(job.output), "old\n") << "the taken-back launch's output, committed";
  EXPECT_FALSE(std::filesystem::exists(old_temp));

  // Taken back once: a later start of the job (a retry) is a new launch.
  started = Start(job, 1, 2);
  EXPECT_FALSE(started.adopted);
  EXPECT_EQ(WaitFor(started.handle).exit_code, 0);
  ASSERT_TRUE(Runner().Complete(job, true).ok());
  EXPECT_EQ(ReadFile(job.output), "new\n");
}

// --- units (--batch-size) ---------------------------------------------------

// Jobs 4, 5, 6 of one command: inputs a, "b c", d, outputs o/.a ...
std::vector<Job> UnitJobs(const std::vector<std::string>& argv_template) {
  std::vector<Job> jobs;
  for (const char* input : {"a", "b c", "d"}) {
    Job job;
    job.number = 4 + static_cast<int64_t>(jobs.size());
    job.name = input;
    job.input = input;
    job.temp_output = std::string("o/.") + input;
    job.argv_template = argv_template;
    jobs.push_back(job);
  }
  return jobs;
}

Unit UnitOf(const std::vector<Job>& jobs) {
  Unit unit;
  for (const Job& job : jobs) unit.jobs.push_back(&job);
  return unit;
}

TEST_F(ProcessRunnerTest, AUnitsInputsGoToOneProcess) {
  std::vector<Job> jobs =
      UnitJobs({"sh", "-c", "printf '%s|' \"$@\"; echo $HEADROOM_JOB_NUMBER/$HEADROOM_BATCH_SIZE",
                "sh", "--in={}", "{#}"});
  StartedJob started;
  Launch launch;
  ASSERT_TRUE(Runner().Start(UnitOf(jobs), launch, &started).ok());
  EXPECT_EQ(started.argv, (std::vector<std::string>{"sh", "-c", jobs[0].argv_template[2], "sh",
                                                    "--in=a", "--in=b c", "--in=d", "4"}));
  EXPECT_EQ(started.stdout_log, log_dir_.StdoutPath(jobs[0], 1));
  EXPECT_EQ(WaitFor(started.handle).exit_code, 0);
  EXPECT_EQ(ReadFile(started.stdout_log), "--in=a|--in=b c|--in=d|4|4/3\n");
}

TEST_F(ProcessRunnerTest, ASuccessKeepsOnlyTheLogsThatHaveSomethingInThem) {
  StartedJob quiet = Start(ScriptJob("true"));
  ASSERT_EQ(WaitFor(quiet.handle).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(quiet.stdout_log));
  EXPECT_FALSE(std::filesystem::exists(quiet.stderr_log));

  StartedJob talks = Start(ScriptJob("echo out"), 1, 2);
  ASSERT_EQ(WaitFor(talks.handle).exit_code, 0);
  EXPECT_EQ(ReadFile(talks.stdout_log), "out\n");
  EXPECT_FALSE(std::filesystem::exists(talks.stderr_log));
}

TEST_F(ProcessRunnerTest, AFailureKeepsItsLogsEvenWhenEmpty) {
  StartedJob failed = Start(ScriptJob("exit 3"));
  ASSERT_EQ(WaitFor(failed.handle).exit_code, 3);
  EXPECT_TRUE(std::filesystem::exists(failed.stdout_log));
  EXPECT_TRUE(std::filesystem::exists(failed.stderr_log));
}

TEST_F(ProcessRunnerTest, ListFilesAreWrittenBesideTheUnitsLogs) {
  std::vector<Job> jobs = UnitJobs({"sh", "-c", "cat \"$1\" \"$2\"", "sh", "{@}", "{@out}"});
  StartedJob started;
  ASSERT_TRUE(Runner().Start(UnitOf(jobs), Launch(), &started).ok());
  std::string base = started.stdout_log.substr(0, started.stdout_log.size() - 4);
  ASSERT_EQ(started.stdout_log, base + ".out");
  EXPECT_EQ(started.argv.at(4), base + ".inputs");
  EXPECT_EQ(started.argv.at(5), base + ".outputs");
  EXPECT_EQ(WaitFor(started.handle).exit_code, 0);
  EXPECT_EQ(ReadFile(base + ".inputs"), "a\nb c\nd\n");
  EXPECT_EQ(ReadFile(base + ".outputs"), "o/.a\no/.b c\no/.d\n");
  EXPECT_EQ(ReadFile(started.stdout_log), "a\nb c\nd\no/.a\no/.b c\no/.d\n");
}

TEST_F(ProcessRunnerTest, AJobAloneWithoutBatchOptionsWritesNoBatchFiles) {
  Job job = ScriptJob("echo \"$HEADROOM_BATCH_SIZE|${HEADROOM_BATCH_RESULTS-unset}|$1\"");
  StartedJob started = Start(job);
  EXPECT_EQ(WaitFor(started.handle).exit_code, 0);
  EXPECT_EQ(ReadFile(started.stdout_log), "1|unset|in.txt\n");
  std::string base = started.stdout_log.substr(0, started.stdout_log.size() - 4);
  EXPECT_FALSE(std::filesystem::exists(base + ".inputs"));
  EXPECT_FALSE(std::filesystem::exists(base + ".outputs"));
  EXPECT_EQ(ReadFile(started.stderr_log), "");
}

TEST_F(ProcessRunnerTest, InheritedBatchVariablesDoNotLeakIn) {
  config_.base_env = {"PATH=/usr/bin:/bin", "HEADROOM_BATCH_SIZE=9",
                      "HEADROOM_BATCH_RESULTS=/elsewhere"};
  bool unique = false;
  std::map<std::string, std::string> vars = ParseEnv(Output(ScriptJob("env")), &unique);
  EXPECT_TRUE(unique);
  EXPECT_EQ(vars["HEADROOM_BATCH_SIZE"], "1");
  EXPECT_EQ(vars.count("HEADROOM_BATCH_RESULTS"), 0u);
}

TEST_F(ProcessRunnerTest, ResultsFileIsClearedBeforeAndReadAndRemovedAfter) {
  config_.batch_results = dir_.File("res-{#}-{%}.jsonl");
  const std::string path = dir_.File("res-4-2.jsonl");
  {
    std::ofstream stale(path);
    stale << "{\"index\": 0, \"ok\": false}\n";
  }
  std::vector<Job> jobs = UnitJobs(
      {"sh", "-c",
       "test -e \"$1\" && echo stale; test \"$1\" = \"$HEADROOM_BATCH_RESULTS\" || echo differ\n"
       "printf '%s\\n' '{\"input\": \"a\", \"ok\": true}' 'garbage'"
       " '{\"index\": 2, \"ok\": false, \"error\": \"OOM\", \"oom\": true}' > \"$1\"",
       "sh", "{results}"});
  StartedJob started;
  Launch launch;
  launch.slot = 2;
  ASSERT_TRUE(Runner().Start(UnitOf(jobs), launch, &started).ok());
  EXPECT_EQ(started.argv.at(4), path);
  ExitInfo info = WaitFor(started.handle);
  EXPECT_EQ(info.exit_code, 0);
  EXPECT_EQ(ReadFile(started.stdout_log), "");
  ASSERT_EQ(info.results.size(), 2u);
  EXPECT_EQ(info.results[0].index, 0u);
  EXPECT_TRUE(info.results[0].ok);
  EXPECT_EQ(info.results[1].index, 2u);
  EXPECT_FALSE(info.results[1].ok);
  EXPECT_TRUE(info.results[1].oom);
  EXPECT_EQ(info.results[1].error, "OOM");
  EXPECT_FALSE(std::filesystem::exists(path));
  // The skipped line is reported in the unit's stderr log.
  EXPECT_EQ(ReadFile(started.stderr_log),
            "headroom: batch results '" + path +
                "' line 2: not valid JSON (expected one object per line) (line skipped)\n");
}

TEST_F(ProcessRunnerTest, NoResultsFileMeansNoResultsAndANote) {
  config_.batch_results = dir_.File("res-{#}.jsonl");
  std::vector<Job> jobs = UnitJobs({"sh", "-c", "echo oops >&2; exit 3", "sh"});
  StartedJob started;
  ASSERT_TRUE(Runner().Start(UnitOf(jobs), Launch(), &started).ok());
  ExitInfo info = WaitFor(started.handle);
  EXPECT_EQ(info.exit_code, 3);
  EXPECT_TRUE(info.results.empty());
  // The tail is the program's own; the note comes after it in the log.
  EXPECT_EQ(info.stderr_tail, "oops\n");
  EXPECT_EQ(ReadFile(started.stderr_log), "oops\nheadroom: the program wrote no batch results '" +
                                              dir_.File("res-4.jsonl") +
                                              "'; each input takes the exit status\n");
}

}  // namespace
}  // namespace headroom

// Usage, configuration and input errors: exit 2, one stderr line
// "headroom: error: ..." naming the bad value, and no job runs.
#include <algorithm>

#include "harness.h"

namespace headroom::e2e {
namespace {

class ErrorsTest : public E2eTest {
 protected:
  void SetUp() override { marker_ = Script("marker.sh", "touch \"" + Path("ran") + "\"\n"); }
  // Runs `run <options> -- marker.sh ::: a` (without "::: a" when `options`
  // name another source) and checks the error contract.
  void ExpectInputError(const std::vector<std::string>& options, const std::string& named,
                        const std::vector<std::string>& env = {}) {
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {"--", marker_});
    bool other_source = std::find(options.begin(), options.end(), "--input-dir") != options.end() ||
                        std::find(options.begin(), options.end(), "--jobs-file") != options.end();
    if (!other_source) args.insert(args.end(), {":::", "a"});
    RunOptions opts = Opts();
    opts.env = env;
    RunResult r = Hr(args, opts);
    ExpectError(r, named);
  }
  void ExpectError(const RunResult& r, const std::string& named) {
    SCOPED_TRACE("expecting an error naming '" + named + "'");
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(r.ErrLines().size(), 1u) << r.err;
    EXPECT_TRUE(StartsWith(r.err, "headroom: error: ")) << r.err;
    EXPECT_TRUE(Contains(r.err, named)) << r.err;
    EXPECT_FALSE(FileExists(Path("ran"))) << "a job ran";
    EXPECT_EQ(Grep(r.err, "SUCCESS").size(), 0u);
  }
  std::string marker_;
};

TEST_F(ErrorsTest, BadNumbers) {
  ExpectInputError({"-j", "x"}, "x");
  ExpectInputError({"--jobs=-3"}, "-3");
  ExpectInputError({"--retries", "many"}, "many");
  ExpectInputError({"--retries=-1"}, "-1");
  ExpectInputError({"--max-count", "ten"}, "ten");
  ExpectInputError({"--threads-per-job", "lots"}, "lots");
  ExpectInputError({"--log-retention-days", "week"}, "week");
}

TEST_F(ErrorsTest, BadDurations) {
  ExpectInputError({"--timeout", "5x"}, "5x");
  ExpectInputError({"--kill-grace", "abc"}, "abc");
  ExpectInputError({"--retry-delay", "1y"}, "1y");
  ExpectInputError({"--delay", "fast"}, "fast");
  ExpectInputError({"--timeout=-5s"}, "-5s");
}

TEST_F(ErrorsTest, BadSizes) {
  ExpectInputError({"--max-job-log", "6X"}, "6X");
  ExpectInputError({"--max-job-log=-5M"}, "-5M");
  ExpectInputError({"--max-job-log", "1.5.5G"}, "1.5.5G");
}

TEST_F(ErrorsTest, BadWords) {
  ExpectInputError({"--order", "random"}, "random");
  ExpectInputError({"--halt", "maybe"}, "maybe");
  ExpectInputError({"--log-format", "xml"}, "xml");
  ExpectInputError({"--log-level", "loud"}, "loud");
  ExpectInputError({"--env", "NOEQUALS"}, "NOEQUALS");
}

TEST_F(ErrorsTest, BadValuesFromEnv) {
  ExpectInputError({}, "x", {"HEADROOM_JOBS=x"});
  ExpectInputError({}, "5x", {"HEADROOM_TIMEOUT=5x"});
  ExpectInputError({}, "12Q", {"HEADROOM_MAX_JOB_LOG=12Q"});
  ExpectInputError({}, "random", {"HEADROOM_ORDER=random"});
}

TEST_F(ErrorsTest, BadEnvNamesTheVariable) {
  ExpectInputError({}, "HEADROOM_KILL_GRACE", {"HEADROOM_KILL_GRACE=soon"});
}

TEST_F(ErrorsTest, BadValuesFromConfig) {
  WriteFile(Path("a.toml"), "jobs = \"x\"\n");
  ExpectInputError({"--config", Path("a.toml")}, "x");
  WriteFile(Path("b.toml"), "timeout = \"5x\"\n");
  ExpectInputError({"--config", Path("b.toml")}, "5x");
  WriteFile(Path("c.toml"), "max_job_log = \"12Q\"\n");
  ExpectInputError({"--config", Path("c.toml")}, "12Q");
  WriteFile(Path("d.toml"), "[profile.p]\nhalt = \"maybe\"\n");
  ExpectInputError({"--config", Path("d.toml"), "--profile", "p"}, "maybe");
}

TEST_F(ErrorsTest, ConfigFileProblems) {
  ExpectInputError({"--config", Path("missing.toml")}, "missing.toml");
  WriteFile(Path("broken.toml"), "jobs = = 3\n[unclosed\n");
  ExpectInputError({"--config", Path("broken.toml")}, "broken.toml");
  WriteFile(Path("ok.toml"), "jobs = 2\n");
  ExpectInputError({"--config", Path("ok.toml"), "--profile", "nosuch"}, "nosuch");
}

TEST_F(ErrorsTest, UsageErrors) {
  ExpectInputError({"--no-such-option"}, "--no-such-option");
  RunResult sub = Hr({"frobnicate"});
  EXPECT_EQ(sub.exit_code, 2);
  EXPECT_TRUE(StartsWith(sub.err, "headroom: error: ")) << sub.err;
  EXPECT_TRUE(Contains(sub.err, "frobnicate")) << sub.err;
  RunResult no_cmd = Hr({"run", ":::", "a"});
  EXPECT_EQ(no_cmd.exit_code, 2) << no_cmd.out;
  EXPECT_TRUE(StartsWith(no_cmd.err, "headroom: error: ")) << no_cmd.err;
  RunResult missing_value = Hr({"run", "--jobs"});
  EXPECT_EQ(missing_value.exit_code, 2);
  EXPECT_TRUE(StartsWith(missing_value.err, "headroom: error: ")) << missing_value.err;
}

TEST_F(ErrorsTest, MissingInputDir) {
  ExpectInputError({"--input-dir", Path("nodir")}, "nodir");
  WriteFile(Path("afile"), "x");
  ExpectInputError({"--input-dir", Path("afile")}, "afile");
}

TEST_F(ErrorsTest, BadJobsFile) {
  ExpectInputError({"--jobs-file", Path("nofile.jsonl")}, "nofile.jsonl");
  WriteFile(Path("bad.jsonl"), "{\"input\": \"a\"}\n{not json\n");
  RunResult r = Hr({"run", "--jobs-file", Path("bad.jsonl"), "--", marker_});
  ExpectError(r, "bad.jsonl");
  EXPECT_TRUE(Contains(r.err, "2")) << "line number missing: " << r.err;
  WriteFile(Path("noinput.jsonl"), "{\"name\": \"x\"}\n");
  RunResult r2 = Hr({"run", "--jobs-file", Path("noinput.jsonl"), "--", marker_});
  ExpectError(r2, "input");
  WriteFile(Path("badprio.jsonl"), "{\"input\": \"a\", \"priority\": \"high\"}\n");
  RunResult r3 = Hr({"run", "--jobs-file", Path("badprio.jsonl"), "--", marker_});
  ExpectError(r3, "priority");
}

// Input that used to abort headroom (1e999) or be cut at a NUL byte is one
// line and exit 2, before anything runs.
TEST_F(ErrorsTest, JobsFileNumbersBeyondRangeNulBytesAndUnknownKeys) {
  WriteFile(Path("big.jsonl"), "{\"input\": \"a\"}\n{\"input\": \"x\", \"priority\": 1e999}\n");
  RunResult big = Hr({"run", "--jobs-file", Path("big.jsonl"), "--", marker_});
  ExpectError(big, "big.jsonl:2: invalid JSON: number overflow parsing '1e999'");
  WriteFile(Path("nul.jsonl"), "{\"input\": \"a\\u0000b\"}\n");
  RunResult nul = Hr({"run", "--jobs-file", Path("nul.jsonl"), "--", marker_});
  ExpectError(nul, "nul.jsonl:1: 'input' contains a NUL byte");
  WriteFile(Path("key.jsonl"), "{\"input\": \"a\", \"gpu_memory\": \"6G\"}\n");
  RunResult key = Hr({"run", "--jobs-file", Path("key.jsonl"), "--", marker_});
  ExpectError(key, "key.jsonl:1: unknown key 'gpu_memory'");
}

TEST_F(ErrorsTest, AStdinLineWithANulByte) {
  for (const char* command : {"run", "list"}) {
    RunOptions options = Opts();
    options.stdin_text = std::string("a\nb\0c\n", 6);
    RunResult r = Hr({command, "--", marker_}, options);
    ExpectError(r, "stdin line 2 contains a NUL byte");
  }
}

// --shell -- 'cmd "{}"': the quoted value would sit inside double quotes,
// where $(...) in an input runs. Refused before anything runs.
TEST_F(ErrorsTest, APlaceholderInsideDoubleQuotesUnderShell) {
  RunResult r = Hr({"run", "--shell", "--", "echo \"{}\" > " + Path("ran"), ":::", "$(id)"});
  ExpectError(r, "--shell: {} stands inside double quotes");
  EXPECT_TRUE(Contains(r.err, "drop the quotes")) << r.err;
}

TEST_F(ErrorsTest, OutPlaceholderWithoutOutputDir) {
  RunResult r = Hr({"run", "--", marker_, "{out}", ":::", "a"});
  ExpectError(r, "{out}");
}

TEST_F(ErrorsTest, SkipExistingWithoutOutputDir) {
  ExpectInputError({"--skip-existing"}, "--skip-existing");
}

TEST_F(ErrorsTest, UnknownProgram) {
  RunResult r = Hr({"run", "--", "definitely-not-a-program", ":::", "a"});
  ExpectError(r, "definitely-not-a-program");
}

TEST_F(ErrorsTest, HelpAndVersionExitZero) {
  RunResult help = Hr({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(Contains(help.out, "run")) << help.out;
  RunResult run_help = Hr({"run", "--help"});
  EXPECT_EQ(run_help.exit_code, 0);
  for (const char* option : {"--input-dir",
                             "--ext",
                             "--recursive",
                             "--jobs-file",
                             "--shell",
                             "--output-dir",
                             "--output-name",
                             "--skip-existing",
                             "--max-count",
                             "--order",
                             "--dry-run",
                             "--jobs",
                             "--threads-per-job",
                             "--env",
                             "--timeout",
                             "--kill-grace",
                             "--retries",
                             "--retry-delay",
                             "--delay",
                             "--halt",
                             "--log-dir",
                             "--max-job-log",
                             "--log-retention-days",
                             "--log-level",
                             "--log-format",
                             "--quiet",
                             "--verbose",
                             "--config",
                             "--profile",
                             "--print-config"}) {
    EXPECT_TRUE(Contains(run_help.out, option)) << option << " not documented in run --help";
  }
}

}  // namespace
}  // namespace headroom::e2e

// Where inputs come from: ::: arguments, --input-dir (--ext, --recursive),
// --jobs-file, stdin lines; hostile names arrive as one intact argument,
// with and without --shell.
#include <algorithm>
#include <cstdio>
#include <set>

#include "harness.h"

namespace headroom::e2e {
namespace {

using Calls = std::vector<std::vector<std::string>>;

class InputsTest : public E2eTest {};

TEST_F(InputsTest, ArgumentsAfterTripleColonRunOneJobEach) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j1", "--", rec, "{}", ":::", "a", "b", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"a"}, {"b"}, {"c"}}));
  EXPECT_EQ(Grep(r.err, "SUCCESS").size(), 3u) << r.out;
}

TEST_F(InputsTest, ArgumentsWinOverStdin) {
  std::string rec = RecorderScript();
  RunOptions opts = Opts();
  opts.stdin_text = "from-stdin\n";
  RunResult r = Hr({"run", "-j1", "--", rec, ":::", "a"}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"a"}}));
}

TEST_F(InputsTest, StdinLinesAreInputsWhenNothingElseGiven) {
  std::string rec = RecorderScript();
  RunOptions opts = Opts();
  opts.stdin_text = "x\ny z\n\nw\r\nlast-no-newline";
  RunResult r = Hr({"run", "-j1", "--", rec}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"x"}, {"y z"}, {"w"}, {"last-no-newline"}}));
}

// GNU parallel's spellings of an input file: ":::: FILE" and "-a FILE",
// even with an empty stdin (which once ran nothing, exit 0); "-" = stdin.
TEST_F(InputsTest, AnInputFileAsParallelSpellsIt) {
  std::string rec = RecorderScript();
  WriteFile(Path("in.txt"), "a\nb c\n\nd\n");
  RunOptions opts = Opts();
  opts.stdin_text = "";
  RunResult r = Hr({"run", "-j1", "--", rec, "{}", "::::", Path("in.txt")}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"a"}, {"b c"}, {"d"}}));

  std::remove(Path("record").c_str());
  r = Hr({"run", "-j1", "-a", Path("in.txt"), "--", rec, "{}"}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"a"}, {"b c"}, {"d"}}));

  r = Hr({"run", "-a", Path("missing.txt"), "--", rec}, opts);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "headroom: error: input file '" + Path("missing.txt") +
                       "': No such file or directory\n");
}

// -0: NUL-separated stdin (find -print0), the only safe way to pass names
// with newlines through a pipe.
TEST_F(InputsTest, NulSeparatedStdinCarriesNamesWithNewlines) {
  std::string rec = RecorderScript();
  RunOptions opts = Opts();
  opts.stdin_text = std::string("one\nname\0two\0", 13);
  RunResult r = Hr({"run", "-j1", "-0", "--", rec, "{}"}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"one\nname"}, {"two"}}));
}

// What headroom does not do of parallel's is refused before anything runs.
TEST_F(InputsTest, ParallelsConstructsHeadroomDoesNotDoAreRefused) {
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "--", rec, "{1}", ":::", "a"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "'{1}' (GNU parallel's numbered input column) is not supported"))
      << r.err;
  r = Hr({"run", "--", rec, ":::", "a", ":::+", "b"});
  EXPECT_EQ(r.exit_code, 2);
  r = Hr({"run", "--", rec, ":::", "a", ":::", "b"});
  EXPECT_EQ(r.exit_code, 2);
  r = Hr({"run", "--", "echo {} > {.}.out", ":::", "a.txt"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "add --shell")) << r.err;
  EXPECT_FALSE(FileExists(Path("record")));
}

TEST_F(InputsTest, StdinTerminalIsNotReadForInputs) {
  std::string rec = RecorderScript();
  RunOptions opts = Opts();
  opts.stdin_tty = true;
  opts.timeout_s = 5;
  RunResult r = Hr({"run", "--", rec}, opts);
  EXPECT_FALSE(r.timed_out) << "headroom waited for input on a terminal";
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(StartsWith(r.err, "headroom: error: ")) << r.err;
  EXPECT_FALSE(FileExists(Path("record")));
}

TEST_F(InputsTest, InputDirFiltersExtensionsCaseInsensitively) {
  MakeDirs(Path("in/sub"));
  for (const char* f : {"a.mp4", "b.MKV", "c.Mp4", "d.txt", "noext", "in.mp4.bak"}) {
    WriteFile(Path(std::string("in/") + f), "x");
  }
  WriteFile(Path("in/sub/e.mp4"), "x");
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j1", "--input-dir", Path("in"), "--ext", "mp4,mkv", "--", rec});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  std::set<std::string> got;
  for (const auto& call : Recorded()) {
    ASSERT_EQ(call.size(), 1u);
    got.insert(call[0]);
  }
  EXPECT_EQ(got, (std::set<std::string>{Path("in/a.mp4"), Path("in/b.MKV"), Path("in/c.Mp4")}));
}

TEST_F(InputsTest, ExtAcceptsUpperCaseAndDots) {
  MakeDirs(Path("in"));
  WriteFile(Path("in/a.mp4"), "x");
  WriteFile(Path("in/b.avi"), "x");
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "--input-dir", Path("in"), "--ext", "MP4", "--", rec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{Path("in/a.mp4")}}));
}

TEST_F(InputsTest, InputDirRecursiveFindsNestedFiles) {
  MakeDirs(Path("in/sub/deeper"));
  WriteFile(Path("in/a.mkv"), "x");
  WriteFile(Path("in/sub/b.mkv"), "x");
  WriteFile(Path("in/sub/deeper/c.MKV"), "x");
  WriteFile(Path("in/sub/deeper/d.txt"), "x");
  std::string rec = RecorderScript();
  RunResult flat = Hr({"run", "-j1", "--input-dir", Path("in"), "--ext", "mkv", "--", rec});
  ASSERT_EQ(flat.exit_code, 0) << flat.err;
  EXPECT_EQ(Recorded(), (Calls{{Path("in/a.mkv")}}));

  RemoveAll(Path("record"));
  RunResult deep =
      Hr({"run", "-j1", "--input-dir", Path("in"), "--ext", "mkv", "--recursive", "--", rec});
  ASSERT_EQ(deep.exit_code, 0) << deep.err;
  std::set<std::string> got;
  for (const auto& call : Recorded()) got.insert(call.at(0));
  EXPECT_EQ(got, (std::set<std::string>{Path("in/a.mkv"), Path("in/sub/b.mkv"),
                                        Path("in/sub/deeper/c.MKV")}));
}

TEST_F(InputsTest, JobsFileInputCmdNameAndEnv) {
  std::string rec = RecorderScript();
  std::string rec2 = RecorderScript("rec2.sh", "record2");
  std::string envjob =
      Script("env.sh", "printf '%s' \"${JOBVAR-unset}\" > \"" + Path("env_") + "$1\"\n");
  WriteFile(Path("jobs.jsonl"),
            "{\"input\": \"a\"}\n"
            "\n"
            "# a comment\n"
            "{\"input\": \"b\", \"name\": \"bee job\"}\n"
            "{\"input\": \"c\", \"cmd\": [\"" +
                rec2 +
                "\", \"X{}Y\", \"lit\"]}\n"
                "{\"input\": \"d\", \"cmd\": [\"" +
                envjob +
                "\", \"{}\"], "
                "\"env\": {\"JOBVAR\": \"dv\"}}\n"
                "{\"input\": \"e\", \"cmd\": [\"" +
                envjob + "\", \"{}\"]}\n");
  RunResult r = Hr({"run", "-j1", "--jobs-file", Path("jobs.jsonl"), "--", rec, "{}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Recorded(), (Calls{{"a"}, {"b"}}));
  EXPECT_EQ(Recorded("record2"), (Calls{{"XcY", "lit"}}));
  EXPECT_EQ(ReadFile(Path("env_d")), "dv");
  EXPECT_EQ(ReadFile(Path("env_e")), "unset");
  EXPECT_EQ(Grep(r.err, "SUCCESS: bee job").size(), 1u) << r.out;
}

TEST_F(InputsTest, JobsFileCmdGetsPlaceholdersOrTheInputAppended) {
  std::string rec = RecorderScript();
  std::string unused = Script("unused.sh", "touch \"" + Path("template_ran") + "\"\n");
  WriteFile(Path("jobs.jsonl"), "{\"input\": \"a\", \"cmd\": [\"" + rec +
                                    "\", \"{}\", \"1\"]}\n"
                                    "{\"input\": \"b\", \"cmd\": [\"" +
                                    rec + "\", \"2\"]}\n");
  RunResult r = Hr({"run", "-j1", "--jobs-file", Path("jobs.jsonl"), "--", unused});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // No placeholder in the second cmd: the input is appended, as for templates.
  EXPECT_EQ(Recorded(), (Calls{{"a", "1"}, {"2", "b"}}));
  EXPECT_FALSE(FileExists(Path("template_ran")));
}

TEST_F(InputsTest, HostileDirectoryNamesArriveIntact) {
  MakeDirs(Path("in"));
  std::set<std::string> expected;
  for (const std::string& name : HostileNames()) {
    WriteFile(Path("in/" + name), "x");
    expected.insert(Path("in/" + name));
  }
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j2", "--input-dir", Path("in"), "--", rec, "{}"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  std::set<std::string> got;
  for (const auto& call : Recorded()) {
    ASSERT_EQ(call.size(), 1u) << "split argument: " << call.at(0);
    got.insert(call[0]);
  }
  EXPECT_EQ(got, expected);
  EXPECT_FALSE(FileExists(Path("pwned")));
  EXPECT_FALSE(FileExists(Path("pwned2")));
}

TEST_F(InputsTest, HostileArgumentsArriveIntactWhenAppended) {
  std::vector<std::string> names = HostileNames();
  names.push_back("new\nline");
  names.push_back("-");
  names.push_back("--");
  std::string rec = RecorderScript();
  std::vector<std::string> args = {"run", "-j1", "--", rec, "fixed arg", ":::"};
  args.insert(args.end(), names.begin(), names.end());
  RunResult r = Hr(args);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  Calls expected;
  for (const std::string& name : names) expected.push_back({"fixed arg", name});
  EXPECT_EQ(Recorded(), expected);
  EXPECT_FALSE(FileExists(Path("pwned")));
  EXPECT_FALSE(FileExists(Path("pwned2")));
}

TEST_F(InputsTest, HostileStdinLinesArriveIntact) {
  std::string text;
  for (const std::string& name : HostileNames()) text += name + "\n";
  RunOptions opts = Opts();
  opts.stdin_text = text;
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j1", "--", rec, "pre-{}-post"}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Calls expected;
  for (const std::string& name : HostileNames()) expected.push_back({"pre-" + name + "-post"});
  EXPECT_EQ(Recorded(), expected);
  EXPECT_FALSE(FileExists(Path("pwned")));
}

TEST_F(InputsTest, ShellModeQuotesEachSubstitutedValue) {
  std::vector<std::string> names = HostileNames();
  names.push_back("new\nline");
  std::string rec = RecorderScript();
  std::vector<std::string> args = {"run", "-j1", "--shell", "--", rec, "{}", "--at={/}", ":::"};
  args.insert(args.end(), names.begin(), names.end());
  RunResult r = Hr(args);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  Calls expected;
  for (const std::string& name : names) expected.push_back({name, "--at=" + name});
  EXPECT_EQ(Recorded(), expected);
  EXPECT_FALSE(FileExists(Path("pwned")));
  EXPECT_FALSE(FileExists(Path("pwned2")));
}

TEST_F(InputsTest, ShellModeAppendsQuotedInputWithoutPlaceholder) {
  std::string rec = RecorderScript();
  std::vector<std::string> names = HostileNames();
  std::vector<std::string> args = {"run", "-j1", "--shell", "--", rec, ":::"};
  args.insert(args.end(), names.begin(), names.end());
  RunResult r = Hr(args);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  Calls expected;
  for (const std::string& name : names) expected.push_back({name});
  EXPECT_EQ(Recorded(), expected);
  EXPECT_FALSE(FileExists(Path("pwned")));
}

TEST_F(InputsTest, ShellModeRunsShellSyntaxOfTheTemplate) {
  std::string rec = RecorderScript();
  RunResult r =
      Hr({"run", "-j1", "--shell", "--",
          rec + " {} && echo \"done $HOME\" > " + Path("marker_") + "{/}", ":::", "a b", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(Recorded(), (Calls{{"a b"}, {"c"}}));
  EXPECT_TRUE(FileExists(Path("marker_a b")));
  EXPECT_TRUE(FileExists(Path("marker_c")));
  EXPECT_TRUE(StartsWith(ReadFile(Path("marker_c")), "done /"));
}

TEST_F(InputsTest, HostileInputDirNameUnderShell) {
  MakeDirs(Path("in"));
  std::set<std::string> expected;
  for (const std::string& name : HostileNames()) {
    WriteFile(Path("in/" + name), "x");
    expected.insert(Path("in/" + name));
  }
  std::string rec = RecorderScript();
  RunResult r = Hr({"run", "-j2", "--shell", "--input-dir", Path("in"), "--", rec, "{}"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  std::set<std::string> got;
  for (const auto& call : Recorded()) {
    ASSERT_EQ(call.size(), 1u);
    got.insert(call[0]);
  }
  EXPECT_EQ(got, expected);
  EXPECT_FALSE(FileExists(Path("pwned")));
}

}  // namespace
}  // namespace headroom::e2e

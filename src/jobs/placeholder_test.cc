#include "jobs/placeholder.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace headroom {
namespace {

using Argv = std::vector<std::string>;

PlaceholderValues Values(std::string_view input, int64_t number = 7, int slot = 2,
                         std::string_view out = "out/.x.tmp.mp4") {
  PlaceholderValues values;
  values.input = input;
  values.number = number;
  values.slot = slot;
  values.out = out;
  return values;
}

std::string Expand(std::string_view arg, std::string_view input) {
  return ExpandArg(arg, Values(input), /*quote=*/false);
}

// Inputs that break naive command building: word splitting, quoting,
// command substitution, globbing, option parsing, non-UTF-8 bytes.
const Argv& HostileInputs() {
  static const Argv kInputs = {
      "a b",           "it's", "\"q\"", "$(touch pwned)", "a;b", "*",    "-n",
      "--x=1",         "`id`", "a\\b",  "\xc3\xa9\xff",   "  ",  "a\tb", "{}",
      "x'\"$HOME\"'y", "!"};
  return kInputs;
}

TEST(PlaceholderTest, EachPlaceholderOnANestedPath) {
  const std::string in = "dir/sub/clip.tar.gz";
  EXPECT_EQ(Expand("{}", in), "dir/sub/clip.tar.gz");
  EXPECT_EQ(Expand("{/}", in), "clip.tar.gz");
  EXPECT_EQ(Expand("{.}", in), "dir/sub/clip.tar");
  EXPECT_EQ(Expand("{/.}", in), "clip.tar");
  EXPECT_EQ(Expand("{//}", in), "dir/sub");
  EXPECT_EQ(Expand("{#}", in), "7");
  EXPECT_EQ(Expand("{%}", in), "2");
  EXPECT_EQ(Expand("{out}", in), "out/.x.tmp.mp4");
}

TEST(PlaceholderTest, GpuIsKnownAndEmptyUntilFilled) {
  EXPECT_TRUE(HasPlaceholder("{gpu}"));
  EXPECT_EQ(Expand("cuda:{gpu}", "x"), "cuda:");
  PlaceholderValues values = Values("x");
  values.gpu = "1,3";
  EXPECT_EQ(ExpandArg("--devices={gpu}", values, false), "--devices=1,3");
}

TEST(PlaceholderTest, ReplacesInsideAnArgumentAndSeveralTimes) {
  EXPECT_EQ(Expand("--out={.}_1080p.mp4", "v/a.mp4"), "--out=v/a_1080p.mp4");
  EXPECT_EQ(Expand("{}{}", "x"), "xx");
  EXPECT_EQ(Expand("{/.}-{#}.{%}", "p/q.r"), "q-7.2");
  EXPECT_EQ(Expand("no placeholder", "x"), "no placeholder");
  EXPECT_EQ(Expand("", "x"), "");
}

TEST(PlaceholderTest, UnknownBraceWordsStayLiteral) {
  EXPECT_EQ(Expand("{foo}", "x"), "{foo}");
  EXPECT_EQ(Expand("{", "x"), "{");
  EXPECT_EQ(Expand("}", "x"), "}");
  EXPECT_EQ(Expand("{/", "x"), "{/");
  EXPECT_EQ(Expand("{output}", "x"), "{output}");
  EXPECT_EQ(Expand("{{}}", "x"), "{x}");
  EXPECT_EQ(Expand("a{b{}c", "x"), "a{bxc");
  EXPECT_EQ(Expand("{ }", "x"), "{ }");
  EXPECT_FALSE(HasPlaceholder("{foo} { } {output} {"));
}

TEST(PlaceholderTest, SubstitutedValuesAreNotExpandedAgain) {
  EXPECT_EQ(Expand("{} {/} {.}", "{#}"), "{#} {#} {#}");
}

TEST(PlaceholderTest, PathHelpersKeepParallelsMeaning) {
  EXPECT_EQ(Basename("a/b.tar.gz"), "b.tar.gz");
  EXPECT_EQ(Basename("b"), "b");
  EXPECT_EQ(Basename("a/b/"), "");
  EXPECT_EQ(Dirname("a/b"), "a");
  EXPECT_EQ(Dirname("b"), ".");
  EXPECT_EQ(Dirname("/b"), "/");
  EXPECT_EQ(Dirname("a//b"), "a/");
  EXPECT_EQ(StripExtension("a/b.tar.gz"), "a/b.tar");
  EXPECT_EQ(StripExtension("a.d/b"), "a.d/b");
  EXPECT_EQ(StripExtension("b"), "b");
  EXPECT_EQ(StripExtension(".bashrc"), ".bashrc");
  EXPECT_EQ(StripExtension("a/.bashrc"), "a/.bashrc");
  EXPECT_EQ(StripExtension("a/.x.mp4"), "a/.x");
  EXPECT_EQ(Extension("x/y.mp4"), ".mp4");
  EXPECT_EQ(Extension("x.d/y"), "");
  EXPECT_EQ(Extension(".hidden"), "");
  EXPECT_EQ(Extension("a b/c d.M P4"), ".M P4");
}

TEST(PlaceholderTest, DetectsKnownPlaceholders) {
  for (const char* arg :
       {"{}", "{/}", "{.}", "{/.}", "{//}", "{#}", "{%}", "{out}", "{gpu}", "pre{}post"}) {
    EXPECT_TRUE(HasPlaceholder(arg)) << arg;
  }
  EXPECT_FALSE(HasPlaceholder("plain"));
  EXPECT_TRUE(HasAnyPlaceholder({"prog", "-i", "x{}"}));
  EXPECT_FALSE(HasAnyPlaceholder({"prog", "-i", "{x}"}));
  EXPECT_FALSE(HasAnyPlaceholder({}));
}

TEST(PlaceholderTest, UsesOutputOnlyForOutPlaceholder) {
  EXPECT_TRUE(UsesOutput({"prog", "--out={out}"}));
  EXPECT_FALSE(UsesOutput({"prog", "{}", "{output}", "{ou}", "out"}));
}

TEST(PlaceholderTest, CommandWithPlaceholderIsExpandedPerArgument) {
  EXPECT_EQ(ExpandCommand({"upscale", "--in", "{}", "--out", "{out}"}, Values("v/a b.mp4"), false),
            (Argv{"upscale", "--in", "v/a b.mp4", "--out", "out/.x.tmp.mp4"}));
}

TEST(PlaceholderTest, CommandWithoutPlaceholderGetsInputAppended) {
  EXPECT_EQ(ExpandCommand({"echo", "{x}"}, Values("a b"), false), (Argv{"echo", "{x}", "a b"}));
  EXPECT_EQ(ExpandCommand({"echo"}, Values("-n"), false), (Argv{"echo", "-n"}));
}

TEST(PlaceholderTest, HostileInputsArriveAsOneIntactArgument) {
  for (const std::string& input : HostileInputs()) {
    EXPECT_EQ(ExpandCommand({"prog", "{}"}, Values(input), false), (Argv{"prog", input}));
    EXPECT_EQ(ExpandCommand({"prog"}, Values(input), false), (Argv{"prog", input}));
  }
}

TEST(PlaceholderTest, QuoteModeQuotesOnlySubstitutedValues) {
  EXPECT_EQ(ExpandArg("cat {} > x", Values("a b"), /*quote=*/true), "cat 'a b' > x");
  EXPECT_EQ(ExpandArg("{}", Values("it's"), /*quote=*/true), "'it'\\''s'");
  EXPECT_EQ(ExpandArg("n={#}", Values("x"), /*quote=*/true), "n=7");
}

TEST(PlaceholderTest, ShellModeJoinsTemplateUnquoted) {
  Argv argv = ExpandCommand({"echo", "{}", "|", "tr", "a-z", "A-Z"}, Values("a b"), true);
  EXPECT_EQ(argv, (Argv{"/bin/sh", "-c", "echo 'a b' | tr a-z A-Z"}));
}

TEST(PlaceholderTest, ShellModeAppendsQuotedInputWithoutPlaceholder) {
  EXPECT_EQ(ExpandCommand({"wc", "-c"}, Values("a;b"), true),
            (Argv{"/bin/sh", "-c", "wc -c 'a;b'"}));
  EXPECT_EQ(ExpandCommand({"echo", ""}, Values("x"), true), (Argv{"/bin/sh", "-c", "echo  x"}));
}

// Runs argv and returns what it wrote to stdout.
std::string Capture(const Argv& argv) {
  int fds[2];
  if (pipe(fds) != 0) return "<pipe failed>";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) {
    out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return out;
}

TEST(PlaceholderTest, ShellModeDeliversHostileInputsIntactThroughRealShell) {
  for (const std::string& input : HostileInputs()) {
    // printf gets the value as one argument; '|' marks its exact ends.
    Argv argv = ExpandCommand({"printf", "'|%s|'", "{}"}, Values(input), true);
    EXPECT_EQ(Capture(argv), "|" + input + "|") << argv[2];
    Argv appended = ExpandCommand({"printf", "'|%s|'"}, Values(input), true);
    EXPECT_EQ(Capture(appended), "|" + input + "|") << appended[2];
  }
}

TEST(PlaceholderTest, ShellModeQuotesEveryKindOfValue) {
  PlaceholderValues values = Values("d i r/it's.x y", 3, 1, "o u t/.f.mp4");
  Argv argv = ExpandCommand({"printf", "'%s\\n'", "{/}", "{.}", "{/.}", "{//}", "{out}", "{#}"},
                            values, true);
  EXPECT_EQ(Capture(argv), "it's.x y\nd i r/it's\nit's\nd i r\no u t/.f.mp4\n3\n");
}

// --- units (--batch-size) ---------------------------------------------------

UnitValues Unit(std::vector<std::string_view> inputs, std::vector<std::string_view> outs = {}) {
  UnitValues values;
  values.inputs = std::move(inputs);
  values.outs = std::move(outs);
  values.number = 4;
  values.slot = 3;
  values.gpu = "1";
  values.inputs_file = "logs/4_a.inputs";
  values.outputs_file = "logs/4_a.outputs";
  values.results_file = "res-4.jsonl";
  return values;
}

TEST(PlaceholderTest, KnowsTheUnitPlaceholders) {
  for (const char* arg : {"{@}", "{@out}", "{results}", "--list={@}"}) {
    EXPECT_TRUE(HasPlaceholder(arg)) << arg;
  }
  EXPECT_FALSE(HasPlaceholder("{@x} {@ } {result}"));
  EXPECT_TRUE(UsesOutput({"prog", "--outs={@out}"}));
  EXPECT_FALSE(UsesOutput({"prog", "{@}", "{results}"}));
  EXPECT_TRUE(UsesPlaceholder({"prog", "--r={results}"}, "{results}"));
  EXPECT_TRUE(UsesPlaceholder({"prog", "{@}"}, "{@}"));
  EXPECT_FALSE(UsesPlaceholder({"prog", "{@out}"}, "{@}"));
  EXPECT_FALSE(UsesPlaceholder({"prog", "{results"}, "{results}"));
  EXPECT_FALSE(UsesPlaceholder({"prog", "{x}"}, "{x}"));  // not a placeholder
  EXPECT_TRUE(UsesPlaceholder({"{#}"}, "{#}"));
}

TEST(PlaceholderTest, UnitRepeatsEachArgumentWithAPerInputPlaceholder) {
  EXPECT_EQ(ExpandUnitCommand({"prog", "--in={}", "-v", "{}"}, Unit({"a", "b"}), false),
            (Argv{"prog", "--in=a", "--in=b", "-v", "a", "b"}));
  EXPECT_EQ(
      ExpandUnitCommand({"prog", "{/.}:{//}", "{.}", "{/}"}, Unit({"d/x.mp4", "y.mkv"}), false),
      (Argv{"prog", "x:d", "y:.", "d/x", "y", "x.mp4", "y.mkv"}));
  EXPECT_EQ(ExpandUnitCommand({"enc", "-i", "{}", "-o", "{out}"},
                              Unit({"a", "b", "c"}, {"o/.a", "o/.b", "o/.c"}), false),
            (Argv{"enc", "-i", "a", "b", "c", "-o", "o/.a", "o/.b", "o/.c"}));
  // {out} of an input whose output is not given is empty.
  EXPECT_EQ(ExpandUnitCommand({"p", "{}={out}"}, Unit({"a", "b"}, {"o/a"}), false),
            (Argv{"p", "a=o/a", "b="}));
}

TEST(PlaceholderTest, UnitExpandsTheOtherPlaceholdersOnce) {
  EXPECT_EQ(ExpandUnitCommand({"prog", "--job={#}", "--slot={%}", "--gpu={gpu}"}, Unit({"a", "b"}),
                              false),
            (Argv{"prog", "--job=4", "--slot=3", "--gpu=1"}));
  // In a repeated argument they are the same in every copy.
  EXPECT_EQ(ExpandUnitCommand({"prog", "{#}-{}"}, Unit({"a", "b"}), false),
            (Argv{"prog", "4-a", "4-b"}));
}

TEST(PlaceholderTest, UnitListFilesAndResults) {
  EXPECT_EQ(ExpandUnitCommand({"prog", "--list", "{@}", "--outs={@out}", "--res", "{results}"},
                              Unit({"a", "b"}), false),
            (Argv{"prog", "--list", "logs/4_a.inputs", "--outs=logs/4_a.outputs", "--res",
                  "res-4.jsonl"}));
  // {@} alone is a placeholder: no input is appended.
  EXPECT_EQ(ExpandUnitCommand({"prog", "{@}"}, Unit({"a", "b"}), false),
            (Argv{"prog", "logs/4_a.inputs"}));
  UnitValues none = Unit({"a"});
  none.results_file = "";
  EXPECT_EQ(ExpandUnitCommand({"prog", "--res={results}"}, none, false), (Argv{"prog", "--res="}));
}

TEST(PlaceholderTest, UnitWithoutPlaceholderGetsEveryInputAppended) {
  EXPECT_EQ(ExpandUnitCommand({"gzip", "-9"}, Unit({"a b", "-n", "c"}), false),
            (Argv{"gzip", "-9", "a b", "-n", "c"}));
  EXPECT_EQ(ExpandUnitCommand({"echo", "{x}"}, Unit({"a", "b"}), false),
            (Argv{"echo", "{x}", "a", "b"}));
}

TEST(PlaceholderTest, UnitShellModeQuotesAndJoinsTheCopies) {
  EXPECT_EQ(
      ExpandUnitCommand({"cat", "--in={}", "{#}", ">", "{results}"}, Unit({"a b", "it's"}), true),
      (Argv{"/bin/sh", "-c", "cat --in='a b' --in='it'\\''s' 4 > res-4.jsonl"}));
  // A script given as one argument: each word is its own context.
  EXPECT_EQ(
      ExpandUnitCommand({"convert {} -resize 50%  {.}_small.png"}, Unit({"x.png", "y z.png"}),
                        true),
      (Argv{"/bin/sh", "-c", "convert x.png 'y z.png' -resize 50%  x_small.png 'y z'_small.png"}));
  EXPECT_EQ(ExpandUnitCommand({"wc", "-c"}, Unit({"a;b", "c"}), true),
            (Argv{"/bin/sh", "-c", "wc -c 'a;b' c"}));
  EXPECT_EQ(ExpandUnitCommand({"cat", "{@}"}, Unit({"a", "b"}), true),
            (Argv{"/bin/sh", "-c", "cat logs/4_a.inputs"}));
}

TEST(PlaceholderTest, UnitShellModeDeliversHostileInputsIntactThroughRealShell) {
  const Argv& hostile = HostileInputs();
  UnitValues values = Unit({});
  std::string expected;
  for (const std::string& input : hostile) {
    values.inputs.push_back(input);
    expected += "|" + input + "|";
  }
  EXPECT_EQ(Capture(ExpandUnitCommand({"printf", "'|%s|'", "{}"}, values, true)), expected);
  EXPECT_EQ(Capture(ExpandUnitCommand({"printf '|%s|'"}, values, true)), expected);
}

// A unit of one input expands exactly as ExpandCommand does.
// A value single-quoted inside "..." keeps its quotes as text: $(...) runs.
TEST(PlaceholderTest, PlaceholdersInsideDoubleQuotesAreFound) {
  EXPECT_EQ(PlaceholderInDoubleQuotes({"cmd \"{}\""}), "{}");
  EXPECT_EQ(PlaceholderInDoubleQuotes({"cmd", "\"--in={/.}.mp4\""}), "{/.}");
  EXPECT_EQ(PlaceholderInDoubleQuotes({"echo \"a", "{out}\""}), "{out}") << "across arguments";
  EXPECT_EQ(PlaceholderInDoubleQuotes({"cmd {} > {.}.out"}), "");
  EXPECT_EQ(PlaceholderInDoubleQuotes({"cmd '\"{}\"'"}), "") << "inside single quotes";
  EXPECT_EQ(PlaceholderInDoubleQuotes({"cmd \\\"{}\\\""}), "") << "escaped quotes";
  EXPECT_EQ(PlaceholderInDoubleQuotes({"echo \"{foo}\" {}"}), "") << "no placeholder";
}

TEST(PlaceholderTest, ParallelsNumberedColumnsAndPerlExpressionsAreNamed) {
  EXPECT_EQ(UnsupportedParallelPlaceholder({"echo", "{}", "{.}", "{#}", "awk", "{print $1}"}), "");
  EXPECT_EQ(UnsupportedParallelPlaceholder({"cp", "{1}", "{2}"}),
            "'{1}' (GNU parallel's numbered input column) is not supported: there is one input "
            "per job, use {} (or {.}, {/}, ...), or a --jobs-file with a 'cmd' per job");
  for (const char* arg : {"{2.}", "x{1/}y", "{10//}", "{3/.}"}) {
    EXPECT_NE(UnsupportedParallelPlaceholder({"echo", arg}).find("numbered input column"),
              std::string::npos)
        << arg;
  }
  EXPECT_TRUE(UnsupportedParallelPlaceholder({"echo", "{= s/a/b/ =}"})
                  .starts_with("'{= s/a/b/ =}' (GNU parallel's Perl expression)"));
  EXPECT_EQ(UnsupportedParallelPlaceholder({"echo", "{1x}", "{=x"}), "");  // not placeholders
}

TEST(PlaceholderTest, UnitOfOneIsExpandCommand) {
  const std::vector<Argv> templates = {{"prog", "{}"},
                                       {"prog"},
                                       {},
                                       {"echo", ""},
                                       {"enc", "-i", "{}", "-o", "{out}", "--n={#}.{%}"},
                                       {"{}"},
                                       {"p", "{x}", "{"},
                                       {"cat {} | tr a b > {/.}.txt", "{gpu}"},
                                       {"a\tb {}\n{//}"},
                                       {"x", "{@}", "{results}"}};
  for (const Argv& argv_template : templates) {
    for (const std::string& input : HostileInputs()) {
      PlaceholderValues one = Values(input, 4, 3, "o/.t");
      one.gpu = "1";
      one.inputs_file = "logs/4_a.inputs";
      one.outputs_file = "logs/4_a.outputs";
      one.results_file = "res-4.jsonl";
      UnitValues unit = Unit({input}, {"o/.t"});
      for (bool shell : {false, true}) {
        EXPECT_EQ(ExpandUnitCommand(argv_template, unit, shell),
                  ExpandCommand(argv_template, one, shell))
            << input << " shell=" << shell;
      }
    }
  }
}

}  // namespace
}  // namespace headroom

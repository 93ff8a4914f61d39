#include "util/shell_quote.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace headroom {
namespace {

TEST(ShellQuoteTest, SafeWordsStayAsTheyAre) {
  EXPECT_EQ(ShellQuote("video_01.mp4"), "video_01.mp4");
  EXPECT_EQ(ShellQuote("/a/b-c/d+e=f,g:h@i%j^k"), "/a/b-c/d+e=f,g:h@i%j^k");
  EXPECT_EQ(ShellQuote("-rf"), "-rf");
}

TEST(ShellQuoteTest, EverythingElseIsSingleQuoted) {
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("my file.mp4"), "'my file.mp4'");
  EXPECT_EQ(ShellQuote("$(rm -rf ~)"), "'$(rm -rf ~)'");
  EXPECT_EQ(ShellQuote("a;b"), "'a;b'");
  EXPECT_EQ(ShellQuote("*.mp4"), "'*.mp4'");
  EXPECT_EQ(ShellQuote("caf\xc3\xa9"), "'caf\xc3\xa9'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("\"x\""), "'\"x\"'");
  EXPECT_EQ(ShellQuote("a\nb"), "'a\nb'");
}

TEST(ShellJoinTest, JoinsQuotedWordsWithSpaces) {
  EXPECT_EQ(ShellJoin({}), "");
  EXPECT_EQ(ShellJoin({"echo", "a b", ""}), "echo 'a b' ''");
}

// The real contract: /bin/sh reads each quoted word back byte for byte.
TEST(ShellJoinTest, ShellReadsEveryWordBackIntact) {
  std::vector<std::string> words = {"plain",
                                    "with space",
                                    "it's",
                                    "\"dq\"",
                                    "$(echo pwned)",
                                    "`id`",
                                    "a;b",
                                    "x|y",
                                    "*",
                                    "-n",
                                    "caf\xc3\xa9 \xff\xfe",
                                    "",
                                    "back\\slash",
                                    "new\nline",
                                    "$HOME",
                                    "~",
                                    "a&b",
                                    "#c",
                                    "'",
                                    "''",
                                    "{a,b}",
                                    "!x"};
  std::string command = "printf '%s\\0' " + ShellJoin(words);
  std::string script = "/bin/sh -c " + ShellQuote(command);
  FILE* pipe = popen(script.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[256];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  ASSERT_EQ(pclose(pipe), 0);
  std::vector<std::string> read_back;
  size_t start = 0;
  for (size_t end; (end = output.find('\0', start)) != std::string::npos; start = end + 1) {
    read_back.push_back(output.substr(start, end - start));
  }
  EXPECT_EQ(read_back, words);
}

TEST(SplitShellWordsTest, SplitsAsAShellWouldWithoutRunningOne) {
  std::vector<std::string> words;
  std::string error;
  ASSERT_TRUE(SplitShellWords("ffmpeg -i {} -c:v libx264  {out}", &words, &error)) << error;
  EXPECT_EQ(words, (std::vector<std::string>{"ffmpeg", "-i", "{}", "-c:v", "libx264", "{out}"}));
  ASSERT_TRUE(SplitShellWords(R"(a 'b c' "d \"e\" \$f" g\ h '' "")", &words, &error)) << error;
  EXPECT_EQ(words, (std::vector<std::string>{"a", "b c", "d \"e\" $f", "g h", "", ""}));
  ASSERT_TRUE(SplitShellWords("  ", &words, &error));
  EXPECT_TRUE(words.empty());
}

TEST(SplitShellWordsTest, WhatWouldNeedAShellIsAnError) {
  std::vector<std::string> words;
  std::string error;
  EXPECT_FALSE(SplitShellWords("x264 {} | tee log", &words, &error));
  EXPECT_EQ(error, "'|' in 'x264 {} | tee log' would need a shell (quote it, or use a script)");
  EXPECT_FALSE(SplitShellWords("echo \"$HOME\"", &words, &error));
  EXPECT_FALSE(SplitShellWords("echo 'a", &words, &error));
  EXPECT_EQ(error, "unterminated ' in 'echo 'a'");
  EXPECT_FALSE(SplitShellWords("echo \"a", &words, &error));
}

}  // namespace
}  // namespace headroom

#include "jobs/sources.h"

#include <gtest/gtest.h>

#include <memory>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using test::TempDir;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// A FILE* reading exactly the bytes of `text` (which must outlive it).
File MemoryFile(const std::string& text) {
  return File(fmemopen(const_cast<char*>(text.data()), text.size(), "r"));
}

std::vector<std::string> InputsOf(const std::vector<RawInput>& raw) {
  std::vector<std::string> inputs;
  for (const RawInput& r : raw) inputs.push_back(r.input);
  return inputs;
}

TEST(ReadLinesTest, KeepsEveryByteOfEachLine) {
  const std::string text = "a b\n it's \n\"q\"\n$(touch pwned);*\n-n\n\xc3\xa9\xff\x01\ttab\nlast";
  File file = MemoryFile(text);
  std::vector<RawInput> out;
  ASSERT_TRUE(ReadLines(file.get(), &out).ok());
  EXPECT_EQ(InputsOf(out), (std::vector<std::string>{"a b", " it's ", "\"q\"", "$(touch pwned);*",
                                                     "-n", "\xc3\xa9\xff\x01\ttab", "last"}));
}

TEST(ReadLinesTest, DropsCarriageReturnAndEmptyLines) {
  const std::string text = "one\r\n\n\r\ntwo\r\r\n  \n";
  File file = MemoryFile(text);
  std::vector<RawInput> out;
  ASSERT_TRUE(ReadLines(file.get(), &out).ok());
  // Only one "\r" is a line ending; a space-only line is an input.
  EXPECT_EQ(InputsOf(out), (std::vector<std::string>{"one", "two\r", "  "}));
}

// A NUL cuts a program's argument: the job would get another input.
TEST(ReadLinesTest, ALineWithANulByteIsAnErrorNamingIt) {
  const char bytes[] = "ok\n\nbad\0name\nok\n";
  const std::string text(bytes, sizeof(bytes) - 1);
  File file = MemoryFile(text);
  std::vector<RawInput> out;
  Status status = ReadLines(file.get(), &out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "stdin line 3 contains a NUL byte, which no program can be given (-0 reads "
            "NUL-separated input)");
}

TEST(ReadLinesTest, NulSeparatedInputMayHoldNewlines) {
  const char bytes[] = "a b\0line\nbreak\0\0last";
  const std::string text(bytes, sizeof(bytes) - 1);
  File file = MemoryFile(text);
  std::vector<RawInput> out;
  ASSERT_TRUE(ReadLines(file.get(), &out, /*null_separated=*/true).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].input, "a b");
  EXPECT_EQ(out[1].input, "line\nbreak");
  EXPECT_EQ(out[2].input, "last");
}

TEST(ReadLinesTest, EmptyInputGivesNoInputs) {
  File file(std::fopen("/dev/null", "r"));
  std::vector<RawInput> out;
  ASSERT_TRUE(ReadLines(file.get(), &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(ReadLinesTest, ReadErrorIsReported) {
  TempDir dir;
  File file(std::fopen(dir.path().c_str(), "r"));  // reading a directory fails with EISDIR
  ASSERT_NE(file, nullptr);
  std::vector<RawInput> out;
  Status status = ReadLines(file.get(), &out);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("stdin"), std::string::npos) << status.message();
}

class LoadInputsTest : public ::testing::Test {
 protected:
  Status Load(bool stdin_is_tty = true) {
    File file = MemoryFile(stdin_text_);
    return LoadInputs(options_, file.get(), stdin_is_tty, &out_, &source_);
  }

  TempDir dir_;
  InputSpec options_;
  std::string stdin_text_ = "from stdin\n";
  std::vector<RawInput> out_;
  std::string source_;
};

TEST_F(LoadInputsTest, ArgumentsAfterColonsAreUsedAsGiven) {
  options_.has_arg_inputs = true;
  options_.arg_inputs = {"b", "a b", "-n"};
  ASSERT_TRUE(Load(false).ok());
  EXPECT_EQ(InputsOf(out_), (std::vector<std::string>{"b", "a b", "-n"}));
  EXPECT_EQ(source_, "3 arguments");
}

TEST_F(LoadInputsTest, OneArgumentIsSingular) {
  options_.has_arg_inputs = true;
  options_.arg_inputs = {"x"};
  ASSERT_TRUE(Load().ok());
  EXPECT_EQ(source_, "1 argument");
}

TEST_F(LoadInputsTest, InputDirIsScanned) {
  dir_.Write("in/b.mp4");
  dir_.Write("in/a.MKV");
  dir_.Write("in/c.txt");
  options_.input_dir = dir_.File("in");
  options_.exts = {"mp4", "mkv"};
  ASSERT_TRUE(Load(false).ok());
  EXPECT_EQ(InputsOf(out_),
            (std::vector<std::string>{dir_.File("in/a.MKV"), dir_.File("in/b.mp4")}));
  EXPECT_EQ(source_, "directory " + dir_.File("in"));
}

TEST_F(LoadInputsTest, ExtWithoutInputDirIsAnError) {
  // Given --ext with stdin inputs, it would filter nothing: say so.
  options_.exts = {"mp4"};
  Status status = Load(false);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "--ext selects files under --input-dir, which is not given");
  options_.exts.clear();
  options_.recursive = true;
  EXPECT_FALSE(Load(false).ok());
}

TEST_F(LoadInputsTest, JobsFileIsRead) {
  options_.jobs_file = dir_.Write("jobs.jsonl", "{\"input\": \"x\"}\n");
  ASSERT_TRUE(Load(false).ok());
  EXPECT_EQ(InputsOf(out_), (std::vector<std::string>{"x"}));
  EXPECT_EQ(source_, "jobs file " + options_.jobs_file);
}

TEST_F(LoadInputsTest, StdinIsReadWhenNotATerminal) {
  ASSERT_TRUE(Load(false).ok());
  EXPECT_EQ(InputsOf(out_), (std::vector<std::string>{"from stdin"}));
  EXPECT_EQ(source_, "stdin");
}

TEST_F(LoadInputsTest, OtherSourcesWinOverStdin) {
  options_.has_arg_inputs = true;
  options_.arg_inputs = {"arg"};
  ASSERT_TRUE(Load(false).ok());
  EXPECT_EQ(InputsOf(out_), (std::vector<std::string>{"arg"}));
}

TEST_F(LoadInputsTest, NoSourceOnATerminalIsAnError) {
  Status status = Load(true);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(
      status.message(),
      "no inputs: give arguments after :::, --input-dir, --jobs-file, or pipe lines to stdin");
}

TEST_F(LoadInputsTest, TwoSourcesAreAConflictNamingBoth) {
  options_.input_dir = dir_.path();
  options_.jobs_file = dir_.Write("jobs.jsonl");
  Status status = Load(false);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "--input-dir and --jobs-file both given; pick one");

  options_.jobs_file.clear();
  options_.has_arg_inputs = true;
  status = Load(false);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "arguments after ::: and --input-dir both given; pick one");
}

TEST_F(LoadInputsTest, SourceErrorsPassThrough) {
  options_.input_dir = dir_.File("missing");
  Status status = Load(false);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(dir_.File("missing")), std::string::npos) << status.message();
}

}  // namespace
}  // namespace headroom

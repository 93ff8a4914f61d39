#include <gtest/gtest.h>

#include <algorithm>

#include "util/test_temp_dir.h"
#include "jobs/sources.h"

namespace headroom {
namespace {

using test::TempDir;

class ReadJobsFileTest : public ::testing::Test {
 protected:
  Status Read(const std::string& content) {
    path_ = dir_.Write("jobs.jsonl", content);
    out_.clear();
    return ReadJobsFile(path_, &out_);
  }

  // The message for `content`, which must fail, without the "FILE:" prefix
  // (checked here).
  std::string ErrorOf(const std::string& content) {
    Status status = Read(content);
    EXPECT_FALSE(status.ok()) << content;
    const std::string& message = status.message();
    EXPECT_EQ(message.rfind(path_ + ":", 0), 0u) << message;
    return message.substr(std::min(message.size(), path_.size() + 1));
  }

  TempDir dir_;
  std::string path_;
  std::vector<RawInput> out_;
};

TEST_F(ReadJobsFileTest, ReadsEveryField) {
  Status status =
      Read(R"({"input": "a b.mp4", "cmd": ["prog", "--in", "{}"], "name": "first", "priority": -3,)"
           R"( "env": {"CUDA_VISIBLE_DEVICES": "1", "_X9": ""}})"
           "\n");
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].input, "a b.mp4");
  EXPECT_EQ(out_[0].cmd, (std::vector<std::string>{"prog", "--in", "{}"}));
  EXPECT_EQ(out_[0].name, "first");
  EXPECT_EQ(out_[0].priority, -3);
  EXPECT_EQ(out_[0].env, (std::vector<EnvVar>{{"CUDA_VISIBLE_DEVICES", "1"}, {"_X9", ""}}));
}

TEST_F(ReadJobsFileTest, OptionalFieldsDefault) {
  ASSERT_TRUE(Read(R"({"input": "x"})").ok());  // no final newline
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].input, "x");
  EXPECT_TRUE(out_[0].cmd.empty());
  EXPECT_TRUE(out_[0].name.empty());
  EXPECT_EQ(out_[0].priority, 0);
  EXPECT_TRUE(out_[0].env.empty());
  EXPECT_EQ(out_[0].gpu_mem, std::nullopt);
  EXPECT_EQ(out_[0].ram, std::nullopt);
}

TEST_F(ReadJobsFileTest, FootprintsAreSizesOrBytes) {
  Status status = Read(R"({"input": "a", "gpu_mem": "6G", "ram": 1048576})"
                       "\n"
                       R"({"input": "b", "gpu_mem": "1.5 GiB", "ram": "512m"})"
                       "\n"
                       R"({"input": "c", "gpu_mem": null, "ram": 1})"
                       "\n");
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(out_.size(), 3u);
  EXPECT_EQ(out_[0].gpu_mem, 6ull << 30);
  EXPECT_EQ(out_[0].ram, 1048576u);
  EXPECT_EQ(out_[1].gpu_mem, 3ull << 29);
  EXPECT_EQ(out_[1].ram, 512ull << 20);
  EXPECT_EQ(out_[2].gpu_mem, std::nullopt);
  EXPECT_EQ(out_[2].ram, 1u);
}

TEST_F(ReadJobsFileTest, BadFootprintsNameFileLineAndKey) {
  const std::string good = "{\"input\": \"ok\"}\n";
  EXPECT_EQ(ErrorOf(good + R"({"input": "x", "gpu_mem": "6X"})"),
            "2: 'gpu_mem': '6X' is not a size (expected e.g. 512M, 6G, 1.5GiB)");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "ram": "-1G"})"),
            "1: 'ram': '-1G' is not a size (expected e.g. 512M, 6G, 1.5GiB)");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "gpu_mem": 0})"), "1: 'gpu_mem' must be more than 0 bytes");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "ram": "0M"})"), "1: 'ram' must be more than 0 bytes");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "ram": -5})"),
            "1: 'ram' must be a size such as \"6G\" or a whole number of bytes, got -5");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "gpu_mem": 6.5})"),
            "1: 'gpu_mem' must be a size such as \"6G\" or a whole number of bytes, got 6.5");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "gpu_mem": ["6G"]})"),
            "1: 'gpu_mem' must be a size such as \"6G\" or a whole number of bytes, got [\"6G\"]");
}

TEST_F(ReadJobsFileTest, SkipsBlankAndCommentLinesAndKeepsOrder) {
  Status status =
      Read("# a comment\n\n{\"input\": \"b\"}\r\n   \n  # indented\n{\"input\": \"a\"}\n");
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_[0].input, "b");
  EXPECT_EQ(out_[1].input, "a");
}

TEST_F(ReadJobsFileTest, HostileAndEscapedStringsSurvive) {
  Status status = Read(R"({"input": "$(touch pwned); rm -rf * \"q\" it's -n \u00e9\n"})");
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(out_[0].input, "$(touch pwned); rm -rf * \"q\" it's -n \xc3\xa9\n");
}

// As the config file: a misspelt key would run the job without what it says.
TEST_F(ReadJobsFileTest, UnknownKeysAreErrorsNamingTheKey) {
  EXPECT_EQ(ErrorOf(R"({"input": "x", "gpu_memory": "6G"})"),
            "1: unknown key 'gpu_memory' (expected input, cmd, cpu_cmd, name, priority, env, gpu_mem or "
            "ram)");
}

// A number no double holds must be an error naming the line, not an abort.
TEST_F(ReadJobsFileTest, NumbersOutOfRangeNameTheLine) {
  EXPECT_EQ(ErrorOf(R"({"input": "x", "priority": 1e999})"),
            "1: invalid JSON: number overflow parsing '1e999'");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "ram": -1e999})"),
            "1: invalid JSON: number overflow parsing '-1e999'");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "priority": 1e300})"), "1: 'priority' must be an integer");
}

// "a\u0000b" would reach the program as "a": another file than the line says.
TEST_F(ReadJobsFileTest, ANulInAStringIsAnError) {
  const char* why = " contains a NUL byte (\\u0000), which no program can be given";
  EXPECT_EQ(ErrorOf(R"({"input": "a\u0000b"})"), std::string("1: 'input'") + why);
  EXPECT_EQ(ErrorOf(R"({"input": "a", "cmd": ["p", "x\u0000"]})"), std::string("1: 'cmd'") + why);
  EXPECT_EQ(ErrorOf(R"({"input": "a", "name": "\u0000"})"), std::string("1: 'name'") + why);
  EXPECT_EQ(ErrorOf(R"({"input": "a", "env": {"K": "v\u0000w"}})"),
            std::string("1: 'env': value of 'K'") + why);
}

TEST_F(ReadJobsFileTest, WrongTypesNameFileLineAndKey) {
  const std::string good = "{\"input\": \"ok\"}\n";
  EXPECT_EQ(ErrorOf(good + good + R"({"input": "x", "priority": "high"})"),
            "3: 'priority' must be an integer");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "priority": 1.5})"), "1: 'priority' must be an integer");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "priority": 18446744073709551615})"),
            "1: 'priority' 18446744073709551615 is out of range");
  EXPECT_EQ(ErrorOf(R"({"input": 3})"), "1: 'input' must be a string");
  EXPECT_EQ(ErrorOf(R"({"input": ""})"), "1: 'input' must not be empty");
  EXPECT_EQ(ErrorOf(R"({"name": "x"})"), "1: 'input' is missing");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "name": 1})"), "1: 'name' must be a string");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "cmd": "prog {}"})"),
            "1: 'cmd' must be a non-empty array of strings");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "cmd": []})"),
            "1: 'cmd' must be a non-empty array of strings");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "cmd": ["prog", 1]})"),
            "1: 'cmd' must be a non-empty array of strings");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "env": ["A=1"]})"), "1: 'env' must be an object of strings");
  EXPECT_EQ(ErrorOf(R"({"input": "x", "env": {"A": 1}})"),
            "1: 'env': value of 'A' must be a string");
  EXPECT_EQ(ErrorOf(R"(["x"])"), "1: expected a JSON object, got array");
}

TEST_F(ReadJobsFileTest, InvalidEnvNamesAreRejected) {
  for (const char* name : {"A-B", "1A", "", "A B", "A=B", "\xc3\xa9"}) {
    std::string line = std::string(R"({"input": "x", "env": {")") + name + R"(": "v"}})";
    EXPECT_EQ(ErrorOf(line), std::string("1: 'env': '") + name + "' is not a valid variable name");
  }
}

TEST_F(ReadJobsFileTest, UnparsableLineNamesFileAndLine) {
  std::string message = ErrorOf("{\"input\": \"a\"}\n\n{\"input\": \"b\",}\n");
  EXPECT_EQ(message.rfind("3: invalid JSON at column ", 0), 0u) << message;
  message = ErrorOf("{\"input\": \"a\"} {\"input\": \"b\"}\n");
  EXPECT_EQ(message.rfind("1: invalid JSON", 0), 0u) << message;
}

TEST_F(ReadJobsFileTest, MissingFileIsAnErrorNamingIt) {
  std::vector<RawInput> out;
  Status status = ReadJobsFile(dir_.File("absent.jsonl"), &out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "cannot open jobs file '" + dir_.File("absent.jsonl") + "': No such file or directory");
}

TEST_F(ReadJobsFileTest, DirectoryIsAnErrorNamingIt) {
  std::vector<RawInput> out;
  Status status = ReadJobsFile(dir_.path(), &out);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(dir_.path()), std::string::npos) << status.message();
}

}  // namespace
}  // namespace headroom

#include "report/report_writer.h"
#include "util/whole_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/test_temp_dir.h"
#include "journal/journal_test_util.h"

namespace headroom {
namespace {

using test::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(WriteFileAtomicallyTest, WritesAndReplacesLeavingNoTempFile) {
  TempDir dir;
  std::string path = dir.File("r.json");
  ASSERT_TRUE(WriteFileAtomically(path, "one").ok());
  EXPECT_EQ(Slurp(path), "one");
  ASSERT_TRUE(WriteFileAtomically(path, "two").ok());
  EXPECT_EQ(Slurp(path), "two");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(WriteFileAtomicallyTest, ErrorNamesThePathAndKeepsTheOldFile) {
  TempDir dir;
  Status status = WriteFileAtomically(dir.File("no/such/r.json"), "x");
  EXPECT_EQ(status.message(),
            dir.File("no/such/r.json") + ": cannot write: No such file or directory");
  // Renaming onto a directory fails after the temp file was written: it goes.
  std::filesystem::create_directories(dir.File("taken"));
  std::filesystem::create_directories(dir.File("taken/x"));
  status = WriteFileAtomically(dir.File("taken"), "x");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message().rfind(dir.File("taken") + ": cannot write: ", 0), 0u)
      << status.message();
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(WriteReportsTest, WritesTheJsonAndHtmlOfABatch) {
  TempDir dir;
  journal_test::WriteSampleBatch(dir.path());
  ReportFiles files;
  files.json = dir.File("r.json");
  files.html = dir.File("r.html");
  ASSERT_TRUE(WriteReports(dir.path(), std::nullopt, files, 5000).ok());
  nlohmann::json json = nlohmann::json::parse(Slurp(files.json));
  EXPECT_EQ(json["batch"]["id"], 1);
  EXPECT_EQ(json["totals"]["jobs"], 5);
  EXPECT_EQ(Slurp(files.html).rfind("<!DOCTYPE html>", 0), 0u);
}

TEST(WriteReportsTest, ErrorsNameTheOption) {
  TempDir dir;
  journal_test::WriteSampleBatch(dir.path());
  ReportFiles files;
  files.json = dir.File("missing/r.json");
  files.json_option = "--report";
  Status status = WriteReports(dir.path(), std::nullopt, files, 5000);
  EXPECT_EQ(status.message(),
            "--report " + files.json + ": cannot write: No such file or directory");
  files = ReportFiles();
  files.html = dir.File("missing/r.html");
  status = WriteReports(dir.path(), std::nullopt, files, 5000);
  EXPECT_EQ(status.message(), "--html " + files.html + ": cannot write: No such file or directory");
  status = WriteReports(dir.File("nowhere"), std::nullopt, files, 5000);
  EXPECT_NE(status.message().find("no such file"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace headroom

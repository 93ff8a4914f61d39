#include "jobs/output.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using test::TempDir;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(PrepareOutputDirTest, CreatesMissingParents) {
  TempDir dir;
  std::string target = dir.File("a b/it's/\xc3\xa9/new\nline");
  ASSERT_TRUE(PrepareOutputDir(target).ok());
  EXPECT_TRUE(IsDir(target));
}

TEST(PrepareOutputDirTest, ExistingDirectoryAndTrailingSlashesAreFine) {
  TempDir dir;
  EXPECT_TRUE(PrepareOutputDir(dir.path()).ok());
  EXPECT_TRUE(PrepareOutputDir(dir.File("x//y/")).ok());
  EXPECT_TRUE(IsDir(dir.File("x/y")));
}

TEST(PrepareOutputDirTest, RelativePathsWork) {
  TempDir dir;
  std::filesystem::path before = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  Status status = PrepareOutputDir("rel/out");
  std::filesystem::current_path(before);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_TRUE(IsDir(dir.File("rel/out")));
}

TEST(PrepareOutputDirTest, FileInTheWayIsAnErrorNamingIt) {
  TempDir dir;
  std::string file = dir.Write("file");
  Status status = PrepareOutputDir(file);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "cannot create output directory '" + file + "': Not a directory");
  status = PrepareOutputDir(file + "/sub");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "cannot create output directory '" + file + "/sub': '" + file + "': Not a directory");
}

class CommitOutputTest : public ::testing::Test {
 protected:
  CommitOutputTest() {
    job_.output = dir_.File("clip.mp4");
    job_.temp_output = dir_.File(".clip.headroom-1-1.mp4");
  }
  TempDir dir_;
  Job job_;
};

TEST_F(CommitOutputTest, RenamesTempIntoPlaceReplacingAnOldOutput) {
  dir_.Write("clip.mp4", "old");
  dir_.Write(".clip.headroom-1-1.mp4", "new");
  ASSERT_TRUE(CommitOutput(job_).ok());
  EXPECT_EQ(Read(job_.output), "new");
  EXPECT_FALSE(Exists(job_.temp_output));
}

TEST_F(CommitOutputTest, NothingWrittenIsFine) {
  EXPECT_TRUE(CommitOutput(job_).ok());
  EXPECT_FALSE(Exists(job_.output));
}

TEST_F(CommitOutputTest, NoManagedOutputIsANoOp) { EXPECT_TRUE(CommitOutput(Job{}).ok()); }

TEST_F(CommitOutputTest, TempSymlinkIsMovedNotFollowed) {
  ASSERT_EQ(symlink("nowhere", job_.temp_output.c_str()), 0);
  ASSERT_TRUE(CommitOutput(job_).ok());
  EXPECT_TRUE(Exists(job_.output));
}

TEST_F(CommitOutputTest, RenameFailureNamesBothPaths) {
  dir_.Write(".clip.headroom-1-1.mp4", "new");
  job_.output = dir_.File("missing-dir/clip.mp4");
  Status status = CommitOutput(job_);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "cannot rename '" + job_.temp_output + "' to '" + job_.output +
                                  "': No such file or directory");
}

TEST_F(CommitOutputTest, DiscardRemovesOnlyTheTemp) {
  dir_.Write("clip.mp4", "old");
  dir_.Write(".clip.headroom-1-1.mp4", "partial");
  DiscardOutput(job_);
  EXPECT_FALSE(Exists(job_.temp_output));
  EXPECT_EQ(Read(job_.output), "old");
  DiscardOutput(job_);  // again, with nothing there
  DiscardOutput(Job{});
  EXPECT_EQ(Read(job_.output), "old");
}

}  // namespace
}  // namespace headroom

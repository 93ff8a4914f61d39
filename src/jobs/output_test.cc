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

// Even root cannot create files in /sys: a directory every job would fail in.
TEST(PrepareOutputDirTest, AnUnwritableDirectoryIsAnError) {
  Status status = PrepareOutputDir("/sys");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message().rfind("output directory '/sys' is not writable: ", 0), 0u)
      << status.message();
}

TEST(PrepareOutputDirTest, TheProbeLeavesNothingBehind) {
  TempDir dir;
  ASSERT_TRUE(PrepareOutputDir(dir.File("out")).ok());
  EXPECT_TRUE(std::filesystem::is_empty(dir.File("out")));
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
  ASSERT_TRUE(CommitOutput(job_, true).ok());
  EXPECT_EQ(Read(job_.output), "new");
  EXPECT_FALSE(Exists(job_.temp_output));
}

// A job that exits 0 and writes nothing has not done its work.
TEST_F(CommitOutputTest, NothingWrittenIsAnError) {
  Status status = CommitOutput(job_, true);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "no output written (expected '" + job_.output + "')");
  EXPECT_FALSE(Exists(job_.output));
}

TEST_F(CommitOutputTest, NothingWrittenIsFineForAJobNotGivenAnOutput) {
  EXPECT_TRUE(CommitOutput(job_, false).ok());
}

TEST_F(CommitOutputTest, AFinalOutputTheJobWroteItselfIsFine) {
  dir_.Write("clip.mp4", "written without {out}");
  EXPECT_TRUE(CommitOutput(job_, true).ok());
  EXPECT_EQ(Read(job_.output), "written without {out}");
}

TEST(TempOutputPathTest, AHiddenNameBesideTheOutputWithPidNumberAndExtension) {
  EXPECT_EQ(TempOutputPath("out/clip.mp4", 42, 7), "out/.clip.headroom-42-7.mp4");
  EXPECT_EQ(TempOutputPath("noext", 1, 2), "./.noext.headroom-1-2");
  EXPECT_EQ(TempOutputPath("d/.hidden", 1, 2), "d/..hidden.headroom-1-2");
}

// A valid output name of 255 bytes must still have a temp name that fits.
TEST(TempOutputPathTest, ALongNameIsCutToFitAtACharactersStart) {
  std::string stem;
  while (stem.size() < 240) stem += "\xc3\xa9";  // é: two bytes each
  std::string temp = TempOutputPath("out/" + stem + ".mkv", 123456, 99999);
  std::string name = temp.substr(4);
  EXPECT_LE(name.size(), 255u);
  EXPECT_EQ(name.substr(name.size() - 4), ".mkv");
  EXPECT_NE(name.find(".headroom-123456-99999.mkv"), std::string::npos);
  size_t tag = name.find(".headroom-");
  EXPECT_EQ((tag - 1) % 2, 0u) << "cut inside a character";
  std::string long_ext = "a." + std::string(200, 'x');
  EXPECT_LE(TempOutputPath("o/" + long_ext, 1, 1).size() - 2, 255u);
}

TEST_F(CommitOutputTest, NoManagedOutputIsANoOp) { EXPECT_TRUE(CommitOutput(Job{}, true).ok()); }

TEST_F(CommitOutputTest, TempSymlinkIsMovedNotFollowed) {
  ASSERT_EQ(symlink("nowhere", job_.temp_output.c_str()), 0);
  ASSERT_TRUE(CommitOutput(job_, true).ok());
  EXPECT_TRUE(Exists(job_.output));
}

TEST_F(CommitOutputTest, RenameFailureNamesBothPaths) {
  dir_.Write(".clip.headroom-1-1.mp4", "new");
  job_.output = dir_.File("missing-dir/clip.mp4");
  Status status = CommitOutput(job_, true);
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

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "util/test_temp_dir.h"
#include "jobs/sources.h"

namespace headroom {
namespace {

using test::TempDir;
using Names = std::vector<std::string>;

class ScanDirectoryTest : public ::testing::Test {
 protected:
  // Scans dir_ (or `sub` inside it) and returns the relative names, checking
  // that each input is the scanned path joined with its name.
  Names Scan(const std::vector<std::string>& exts, bool recursive, const std::string& sub = "") {
    std::string root = sub.empty() ? dir_.path() : dir_.File(sub);
    std::vector<RawInput> out;
    Status status = ScanDirectory(root, exts, recursive, &out);
    EXPECT_TRUE(status.ok()) << status.message();
    Names names;
    for (const RawInput& input : out) {
      EXPECT_EQ(input.input, (std::filesystem::path(root) / input.name).native());
      names.push_back(input.name);
    }
    return names;
  }

  TempDir dir_;
};

TEST_F(ScanDirectoryTest, ListsRegularFilesSortedAndSkipsHiddenOnes) {
  dir_.Write("b.mp4");
  dir_.Write("a.mp4");
  dir_.Write(".hidden.mp4");
  dir_.Write("sub/c.mp4");
  dir_.Write("C.mp4");
  EXPECT_EQ(Scan({}, false), (Names{"C.mp4", "a.mp4", "b.mp4"}));
}

TEST_F(ScanDirectoryTest, RecursiveScanNamesFilesRelativeToTheDirectory) {
  dir_.Write("top.mp4");
  dir_.Write("sub/deeper/x.mp4");
  dir_.Write("sub/y.mp4");
  dir_.Write(".cache/z.mp4");
  dir_.Write("sub/.git/w.mp4");
  EXPECT_EQ(Scan({}, true), (Names{"sub/deeper/x.mp4", "sub/y.mp4", "top.mp4"}));
}

TEST_F(ScanDirectoryTest, ExtensionsMatchCaseInsensitively) {
  for (const char* name :
       {"a.mp4", "b.MP4", "c.Mkv", "d.avi", "e.txt", "mp4", "f.mp4.txt", "g.tar.gz", "h"}) {
    dir_.Write(name);
  }
  EXPECT_EQ(Scan({"mp4", "mkv"}, false), (Names{"a.mp4", "b.MP4", "c.Mkv"}));
  EXPECT_EQ(Scan({"tar.gz"}, false), (Names{"g.tar.gz"}));
  EXPECT_EQ(Scan({}, false).size(), 9u);
}

TEST_F(ScanDirectoryTest, HostileNamesAreKeptByteForByte) {
  const Names hostile = {"-n.mp4",  "a b.mp4", "it's.mp4",        "\"q\".mp4", "$(touch pwned).mp4",
                         "a;b.mp4", "*.mp4",   "\xc3\xa9\xff.mp4"};
  for (const std::string& name : hostile) dir_.Write(name);
  dir_.Write("new\nline dir/x.mp4");
  Names expected = hostile;
  expected.push_back("new\nline dir/x.mp4");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Scan({"mp4"}, true), expected);
}

TEST_F(ScanDirectoryTest, FollowsFileSymlinksButNotDirectoryLinksOrSpecialFiles) {
  std::string target = dir_.Write("real/clip.mp4");
  dir_.Write("in/plain.mp4");
  ASSERT_EQ(symlink(target.c_str(), dir_.File("in/link.mp4").c_str()), 0);
  ASSERT_EQ(symlink("nowhere.mp4", dir_.File("in/dangling.mp4").c_str()), 0);
  ASSERT_EQ(symlink(dir_.path().c_str(), dir_.File("in/loop").c_str()), 0);
  ASSERT_EQ(mkfifo(dir_.File("in/fifo.mp4").c_str(), 0600), 0);
  EXPECT_EQ(Scan({}, true, "in"), (Names{"link.mp4", "plain.mp4"}));
}

TEST_F(ScanDirectoryTest, TrailingSlashDoesNotChangeNames) {
  dir_.Write("in/a.mp4");
  EXPECT_EQ(Scan({}, false, "in/"), (Names{"a.mp4"}));
}

TEST_F(ScanDirectoryTest, EmptyDirectoryGivesNothing) { EXPECT_TRUE(Scan({}, true).empty()); }

TEST_F(ScanDirectoryTest, MissingDirectoryIsAnErrorNamingIt) {
  std::vector<RawInput> out;
  Status status = ScanDirectory(dir_.File("nope"), {}, false, &out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "input directory '" + dir_.File("nope") + "' does not exist");
}

TEST_F(ScanDirectoryTest, FileInsteadOfDirectoryIsAnError) {
  std::string file = dir_.Write("f.mp4");
  std::vector<RawInput> out;
  Status status = ScanDirectory(file, {}, false, &out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "input directory '" + file + "' is not a directory");
}

TEST_F(ScanDirectoryTest, UnreadableSubdirectoryIsAnErrorNamingIt) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every directory";
  dir_.Write("locked/x.mp4");
  ASSERT_EQ(chmod(dir_.File("locked").c_str(), 0), 0);
  std::vector<RawInput> out;
  Status status = ScanDirectory(dir_.path(), {}, true, &out);
  chmod(dir_.File("locked").c_str(), 0700);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(dir_.File("locked")), std::string::npos) << status.message();
}

}  // namespace
}  // namespace headroom

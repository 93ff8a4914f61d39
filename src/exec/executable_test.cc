#include "exec/executable.h"

#include <sys/stat.h>

#include <cstdio>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "exec/exec_test_util.h"

namespace headroom {
namespace {

class ResolveExecutableTest : public ::testing::Test {
 protected:
  std::string MakeFile(const std::string& name, mode_t mode) {
    std::string path = dir_.File(name);
    std::FILE* f = std::fopen(path.c_str(), "w");
    EXPECT_NE(f, nullptr);
    if (f != nullptr) {
      std::fputs("#!/bin/sh\n", f);
      std::fclose(f);
    }
    chmod(path.c_str(), mode);
    return path;
  }
  std::string MakeDir(const std::string& name) {
    std::string path = dir_.File(name);
    mkdir(path.c_str(), 0755);
    return path;
  }

  test::TempDir dir_;
};

TEST_F(ResolveExecutableTest, FindsNameOnPath) {
  std::string bin = MakeDir("bin");
  MakeFile("bin/tool", 0755);
  std::string resolved;
  Status status = ResolveExecutable("tool", "/nonexistent:" + bin, &resolved);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(resolved, bin + "/tool");
}

TEST_F(ResolveExecutableTest, FirstRunnableMatchWins) {
  std::string a = MakeDir("a");
  std::string b = MakeDir("b");
  std::string c = MakeDir("c");
  MakeFile("a/tool", 0644);  // skipped, as execvp skips it
  MakeFile("b/tool", 0755);
  MakeFile("c/tool", 0755);
  std::string resolved;
  ASSERT_TRUE(ResolveExecutable("tool", a + ":" + b + "/:" + c, &resolved).ok());
  EXPECT_EQ(resolved, b + "/tool");
}

TEST_F(ResolveExecutableTest, NameWithSlashIsAPath) {
  std::string path = MakeFile("tool", 0755);
  std::string resolved;
  ASSERT_TRUE(ResolveExecutable(path, "", &resolved).ok());
  EXPECT_EQ(resolved, path);
  EXPECT_TRUE(ResolveExecutable("/bin/sh", "/nonexistent", &resolved).ok());
  EXPECT_EQ(resolved, "/bin/sh");
}

TEST_F(ResolveExecutableTest, EmptyPathEntryIsCurrentDirectory) {
  std::string resolved;
  ASSERT_TRUE(ResolveExecutable("sh", "/nonexistent::/bin", &resolved).ok());
  EXPECT_EQ(resolved, "/bin/sh");  // "." has no sh
}

TEST_F(ResolveExecutableTest, MissingCommandIsNotFound) {
  std::string resolved = "unchanged";
  Status status = ResolveExecutable("no-such-tool-xyz", dir_.path(), &resolved);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "command not found: no-such-tool-xyz (not on PATH)");
  EXPECT_EQ(resolved, "unchanged");
  status = ResolveExecutable(dir_.File("missing"), "/bin", &resolved);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "command not found: " + dir_.File("missing") + " (no such file)");
}

TEST_F(ResolveExecutableTest, FileWithoutExecuteBitIsNotExecutable) {
  std::string path = MakeFile("data.txt", 0644);
  std::string resolved;
  Status status = ResolveExecutable(path, "", &resolved);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), path + ": not executable");
  status = ResolveExecutable("data.txt", dir_.path(), &resolved);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "data.txt: not executable");
}

TEST_F(ResolveExecutableTest, DirectoryIsNotExecutable) {
  std::string path = MakeDir("tool");
  std::string resolved;
  Status status = ResolveExecutable(path, "", &resolved);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), path + ": not executable");
  status = ResolveExecutable("tool", dir_.path(), &resolved);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "tool: not executable");
}

// A shell command line given as the program without --shell: refused up
// front with the hint, also when it holds placeholders (every job would
// fail at start otherwise). A real program whose path has a blank runs.
TEST_F(ResolveExecutableTest, AShellLineAsTheProgramIsRefusedWithAHint) {
  Plan plan;
  Job job;
  job.argv_template = {"echo {} > {.}.out"};
  plan.to_run.push_back(job);
  std::map<std::string, std::string> resolved;
  Status status = ResolvePrograms(plan, "/usr/bin:/bin", &resolved);
  EXPECT_EQ(status.message(),
            "command not found: 'echo {} > {.}.out' is a shell command line, not a program: add "
            "--shell to run it with sh -c");
  plan.to_run[0].argv_template = {"gzip -k"};
  EXPECT_FALSE(ResolvePrograms(plan, "/usr/bin:/bin", &resolved).ok());
  plan.to_run[0].argv_template = {"{}"};  // a placeholder alone: resolved per job
  EXPECT_TRUE(ResolvePrograms(plan, "/usr/bin:/bin", &resolved).ok());
}

TEST_F(ResolveExecutableTest, EmptyNameIsAnError) {
  std::string resolved;
  EXPECT_FALSE(ResolveExecutable("", "/bin", &resolved).ok());
}

}  // namespace
}  // namespace headroom

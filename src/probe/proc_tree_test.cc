#include "probe/proc_tree.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <string>
#include <vector>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using test::TempDir;
using Pids = std::vector<pid_t>;

void AddProcess(const TempDir& proc, pid_t pid, const std::string& comm, pid_t parent,
                const std::string& rss_line) {
  std::string dir = std::to_string(pid);
  // Every process leads group 100, as if all were one job's.
  proc.Write(dir + "/stat", dir + " (" + comm + ") S " + std::to_string(parent) +
                                " 100 100 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0\n");
  proc.Write(dir + "/status",
             "Name:\t" + comm + "\nState:\tS (sleeping)\n" + rss_line + "Threads:\t1\n");
}

StatLinks Links(pid_t parent, pid_t group) { return {parent, group}; }

TEST(LinksFromStatTest, CommMayHoldSpacesAndParentheses) {
  EXPECT_EQ(LinksFromStat("42 (bash) S 7 42 42 0"), Links(7, 42));
  EXPECT_EQ(LinksFromStat("42 (my job) R 8 40 40"), Links(8, 40));
  EXPECT_EQ(LinksFromStat("42 (a) S 1 (x)) S 9 42 1"), Links(9, 42));
  EXPECT_EQ(LinksFromStat("1 (init) S 0 1 1"), Links(0, 1));
}

TEST(LinksFromStatTest, MalformedIsMinusOne) {
  EXPECT_EQ(LinksFromStat(""), Links(-1, -1));
  EXPECT_EQ(LinksFromStat("42 bash S 7 42"), Links(-1, -1));
  EXPECT_EQ(LinksFromStat("42 (bash)"), Links(-1, -1));
  EXPECT_EQ(LinksFromStat("42 (bash) S x 42"), Links(-1, -1));
  EXPECT_EQ(LinksFromStat("42 (bash) S 7"), Links(-1, -1));
}

class ProcTreeTest : public ::testing::Test {
 protected:
  ProcTreeTest() {
    AddProcess(proc_, 1, "init", 0, "VmRSS:\t    1000 kB\n");
    AddProcess(proc_, 10, "headroom", 1, "VmRSS:\t    2000 kB\n");
    AddProcess(proc_, 20, "sh -c job", 10, "VmRSS:\t     100 kB\n");
    AddProcess(proc_, 21, "python) S 1 (x", 20, "VmRSS:\t  204800 kB\n");
    AddProcess(proc_, 22, "worker", 21, "VmRSS:\t  102400 kB\n");
    AddProcess(proc_, 30, "kworker/0:1", 2, "");  // kernel thread: no VmRSS
    AddProcess(proc_, 40, "other", 1, "VmRSS:\t     500 kB\n");
    proc_.Write("self/stat", "not a pid dir");
    proc_.Write("meminfo", "MemTotal: 1 kB\n");
  }
  TempDir proc_;
};

TEST_F(ProcTreeTest, TreeHoldsTheRootAndAllDescendants) {
  EXPECT_EQ(ProcessTree(20, proc_.path()), Pids({20, 21, 22}));
  EXPECT_EQ(ProcessTree(10, proc_.path()), Pids({10, 20, 21, 22}));
  EXPECT_EQ(ProcessTree(40, proc_.path()), Pids({40}));
}

TEST_F(ProcTreeTest, GoneRootIsStillListed) {
  EXPECT_EQ(ProcessTree(99, proc_.path()), Pids({99}));
}

TEST_F(ProcTreeTest, ReadParentLinksSkipsNonPidEntries) {
  ParentLinks links = ReadParentLinks(proc_.path());
  EXPECT_EQ(links.size(), 7u);
  EXPECT_EQ(links.at(21), 20);
  EXPECT_EQ(links.count(0), 0u);
}

TEST_F(ProcTreeTest, CycleFromPidReuseEnds) {
  ParentLinks links{{5, 6}, {6, 5}, {7, 6}};
  Pids tree = ProcessTree(5, links);
  std::sort(tree.begin(), tree.end());
  EXPECT_EQ(tree, Pids({5, 6, 7}));
}

TEST_F(ProcTreeTest, RssSumsTheTreeAndSkipsGoneAndKernelProcesses) {
  EXPECT_EQ(TreeRssBytes({20, 21, 22}, proc_.path()), (100 + 204800 + 102400) * 1024ull);
  EXPECT_EQ(TreeRssBytes({30, 99}, proc_.path()), 0u);
}

TEST_F(ProcTreeTest, ProcessGroupIsReadOrZeroWhenGone) {
  EXPECT_EQ(ProcessGroup(22, proc_.path()), 100);
  EXPECT_EQ(ProcessGroup(99, proc_.path()), 0);
}

TEST(ProcTreeLiveTest, FindsAChildOfThisProcess) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  std::vector<pid_t> tree = ProcessTree(getpid());
  EXPECT_NE(std::find(tree.begin(), tree.end(), child), tree.end());
  EXPECT_GT(TreeRssBytes({getpid()}), 0u);
  EXPECT_EQ(ProcessGroup(getpid()), getpgrp());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

}  // namespace
}  // namespace headroom

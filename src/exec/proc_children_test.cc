#include "exec/proc_children.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <gtest/gtest.h>

namespace headroom {
namespace {

pid_t Parse(const char* stat) { return ParentFromStat(stat, std::strlen(stat)); }

TEST(ProcChildrenTest, ParsesParentAfterTheCommandName) {
  EXPECT_EQ(Parse("123 (sleep) S 45 123 123 0 -1"), 45);
  EXPECT_EQ(Parse("123 (a) b) (c) Z 7 0"), 7);
  EXPECT_EQ(Parse("123 (x y) R 1\n"), 1);
}

TEST(ProcChildrenTest, MalformedStatIsMinusOne) {
  EXPECT_EQ(Parse(""), -1);
  EXPECT_EQ(Parse("123 (sleep"), -1);
  EXPECT_EQ(Parse("123 (sleep) S"), -1);
  EXPECT_EQ(Parse("123 (sleep) S x"), -1);
}

TEST(ProcChildrenTest, FindsTheChildrenOfAProcess) {
  EXPECT_TRUE(ListChildren(getpid()).empty());
  std::vector<pid_t> of_parent = ListChildren(getppid());
  EXPECT_NE(std::find(of_parent.begin(), of_parent.end(), getpid()), of_parent.end());
}

TEST(ProcChildrenTest, ListsEveryProcessIncludingThisOne) {
  std::vector<pid_t> all = ListProcesses();
  EXPECT_NE(std::find(all.begin(), all.end(), getpid()), all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), getppid()), all.end());
  EXPECT_TRUE(ListProcesses("/no/such/proc").empty());
}

}  // namespace
}  // namespace headroom

#include "exec/environment.h"

#include <gtest/gtest.h>

namespace headroom {
namespace {

using Env = std::vector<std::string>;

TEST(JobEnvironmentTest, SetReplacesOrAppendsByExactName) {
  Env env = {"A=1", "AB=2", "B="};
  SetVariable("A", "x=y", &env);
  SetVariable("C", "3", &env);
  SetVariable("B", "", &env);
  EXPECT_EQ(env, (Env{"A=x=y", "AB=2", "B=", "C=3"}));
  EXPECT_TRUE(HasVariable(env, "AB"));
  EXPECT_FALSE(HasVariable(env, "X"));
}

TEST(JobEnvironmentTest, RemoveDropsEveryEntryOfTheName) {
  Env env = {"A=1", "AA=2", "A=3"};
  RemoveVariable("A", &env);
  EXPECT_EQ(env, (Env{"AA=2"}));
}

TEST(JobEnvironmentTest, ThreadVariablesOnlyWhenAskedAndNotSetByTheUser) {
  EXPECT_EQ(BaseJobEnvironment({"PATH=/bin"}, 0, {}), (Env{"PATH=/bin"}));
  EXPECT_EQ(BaseJobEnvironment({"PATH=/bin", "MKL_NUM_THREADS=8"}, 2, {}),
            (Env{"PATH=/bin", "MKL_NUM_THREADS=8", "OMP_NUM_THREADS=2",
                 "OPENBLAS_NUM_THREADS=2", "NUMEXPR_NUM_THREADS=2",
                 "VECLIB_MAXIMUM_THREADS=2"}));
}

TEST(JobEnvironmentTest, EnvOptionOverridesInheritedAndThreadVariables) {
  Env env = BaseJobEnvironment({"PATH=/bin", "HOME=/root"}, 4,
                               {{"HOME", "/tmp"}, {"OMP_NUM_THREADS", "1"}, {"NEW", "v"}});
  EXPECT_EQ(env, (Env{"PATH=/bin", "HOME=/tmp", "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=4",
                      "MKL_NUM_THREADS=4", "NUMEXPR_NUM_THREADS=4",
                      "VECLIB_MAXIMUM_THREADS=4", "NEW=v"}));
}

}  // namespace
}  // namespace headroom

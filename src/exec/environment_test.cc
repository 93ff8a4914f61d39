#include "exec/environment.h"

#include <gtest/gtest.h>

#include <algorithm>

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

TEST(ApplyGpuTest, NamesThePlacedDeviceAsTheVisibilitySays) {
  GpuVisibility cuda;
  cuda.values["1"] = "GPU-abcd";
  cuda.set = {{"CUDA_DEVICE_ORDER", "PCI_BUS_ID"}};
  std::vector<std::string> env = {"CUDA_VISIBLE_DEVICES=2,3", "HOME=/h"};
  ApplyGpu(cuda, std::nullopt, &env);  // no gating: as inherited
  EXPECT_EQ(env, (std::vector<std::string>{"CUDA_VISIBLE_DEVICES=2,3", "HOME=/h"}));
  ApplyGpu(cuda, "1", &env);
  EXPECT_EQ(env, (std::vector<std::string>{"CUDA_VISIBLE_DEVICES=GPU-abcd", "HOME=/h",
                                           "CUDA_DEVICE_ORDER=PCI_BUS_ID"}));
  ApplyGpu(cuda, "0", &env);  // no UUID known: the index
  EXPECT_TRUE(HasVariable(env, "CUDA_VISIBLE_DEVICES"));
  EXPECT_NE(std::find(env.begin(), env.end(), "CUDA_VISIBLE_DEVICES=0"), env.end());
  ApplyGpu(cuda, "", &env);  // CPU fallback: every device hidden
  EXPECT_NE(std::find(env.begin(), env.end(), "CUDA_VISIBLE_DEVICES="), env.end());

  GpuVisibility amd;
  amd.variable = "ROCR_VISIBLE_DEVICES";
  amd.removed = {"HIP_VISIBLE_DEVICES"};
  amd.hidden = "-1";
  env = {"HIP_VISIBLE_DEVICES=1", "ROCR_VISIBLE_DEVICES=2,3"};
  ApplyGpu(amd, "3", &env);
  EXPECT_EQ(env, (std::vector<std::string>{"ROCR_VISIBLE_DEVICES=3"}));
  ApplyGpu(amd, "", &env);
  EXPECT_EQ(env, (std::vector<std::string>{"ROCR_VISIBLE_DEVICES=-1"}));
}

}  // namespace
}  // namespace headroom

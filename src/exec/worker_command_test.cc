#include "exec/worker_command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace headroom {
namespace {

using Args = std::vector<std::string>;

TEST(WorkerCommandTest, OnlySlotAndGpuPlaceholdersAreAllowed) {
  EXPECT_TRUE(CheckWorkerCommand({"python3", "serve.py"}).ok());
  EXPECT_TRUE(CheckWorkerCommand({"serve", "--slot={%}", "--device", "cuda:{gpu}"}).ok());
  EXPECT_TRUE(CheckWorkerCommand({"serve", "{/{%}}", "{{gpu}}", "{foo}"}).ok());
  for (const char* arg : {"{}", "--in={}", "{/}", "{.}", "{/.}", "{//}", "{#}", "{out}", "{@}",
                          "{@out}", "{results}", "{%}{}"}) {
    Status status = CheckWorkerCommand({"serve", arg});
    ASSERT_FALSE(status.ok()) << arg;
    EXPECT_EQ(status.message(), "--worker: '" + std::string(arg) +
                                    "' uses a per-job placeholder; a worker gets inputs and "
                                    "outputs in its requests (only {%} and {gpu} may appear in "
                                    "its command)");
  }
}

TEST(WorkerCommandTest, ExpandsSlotAndGpuAndAppendsNothing) {
  EXPECT_EQ(ExpandWorkerCommand({"serve", "--slot={%}", "--gpu", "{gpu}"}, 2, "1", false),
            (Args{"serve", "--slot=2", "--gpu", "1"}));
  EXPECT_EQ(ExpandWorkerCommand({"serve"}, 1, "", false), (Args{"serve"}));
}

TEST(WorkerCommandTest, ShellJoinsTheArgumentsAndQuotesValues) {
  EXPECT_EQ(ExpandWorkerCommand({"python3 serve.py", "--gpu={gpu}", "{%}"}, 3, "0 1", true),
            (Args{"/bin/sh", "-c", "python3 serve.py --gpu='0 1' 3"}));
}

}  // namespace
}  // namespace headroom

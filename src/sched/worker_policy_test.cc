#include "sched/worker_policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace headroom {
namespace {

KeptProcess Worker(pid_t pid, const char* gpu, bool busy, uint64_t last_used) {
  return KeptProcess{pid, std::string(gpu), busy, false, last_used};
}

TEST(WorkerPolicyTest, ANewWorkerBeyondTheSlotsEvictsTheOneIdleTheLongest) {
  std::vector<KeptProcess> kept = {Worker(1, "0", false, 5), Worker(2, "1", false, 3),
                                   Worker(3, "0", true, 1)};
  EXPECT_EQ(WorkerToEvict(kept, 3), 2) << "busy 3 was used before, but it is busy";
  EXPECT_EQ(WorkerToEvict(kept, 4), std::nullopt) << "room for one more";
  kept[0].busy = kept[1].busy = true;
  EXPECT_EQ(WorkerToEvict(kept, 3), std::nullopt) << "nothing idle to stop";
}

TEST(WorkerPolicyTest, ALowerCapStopsIdleWorkersFirstThenTheBusyOnes) {
  std::vector<KeptProcess> kept = {Worker(1, "0", true, 1), Worker(2, "0", false, 7),
                                   Worker(3, "0", false, 4), Worker(4, "1", false, 0)};
  EXPECT_TRUE(WorkersBeyondCap(kept, "0", 3).empty());
  EXPECT_EQ(WorkersBeyondCap(kept, "0", 2), (std::vector<pid_t>{3}));
  EXPECT_EQ(WorkersBeyondCap(kept, "0", 0), (std::vector<pid_t>{3, 2, 1}));
  EXPECT_TRUE(WorkersBeyondCap(kept, "1", 1).empty()) << "another device";
  kept[2].retiring = true;  // stops anyway: does not count
  EXPECT_EQ(WorkersBeyondCap(kept, "0", 1), (std::vector<pid_t>{2}));
}

TEST(WorkerPolicyTest, AWorkerThatRanOutOfMemoryRetires) {
  ExitInfo exit;
  exit.exit_code = 1;
  EXPECT_FALSE(RetireAfter(exit));
  exit.reported_oom = true;
  EXPECT_TRUE(RetireAfter(exit));
  exit.reported_oom = false;
  exit.results = {InputResult{0, true, false, ""}, InputResult{1, false, true, "oom"}};
  EXPECT_TRUE(RetireAfter(exit)) << "one input ran out of memory";
  exit.results[1].oom = false;
  EXPECT_FALSE(RetireAfter(exit));
}

}  // namespace
}  // namespace headroom

#include "report/finish_hook.h"

#include <gtest/gtest.h>

namespace headroom {
namespace {

TEST(FinishHookEnvironmentTest, SetsTheBatchVariablesOverInheritedOnes) {
  BatchEnd end;
  end.batch = "7";
  end.exit_code = 1;
  end.counts.total = 10;
  end.counts.succeeded = 8;
  end.counts.failed = 1;
  end.counts.skipped = 1;
  end.wall_seconds = 12.34;
  end.report = "out/report.json";
  end.log_dir = ".headroom/logs";
  std::vector<std::string> env =
      FinishHookEnvironment({"PATH=/bin", "HEADROOM_BATCH_ID=stale"}, end);
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "HEADROOM_BATCH_ID=7",
                                           "HEADROOM_BATCH_EXIT_CODE=1",
                                           "HEADROOM_BATCH_TOTAL=10",
                                           "HEADROOM_BATCH_SUCCEEDED=8",
                                           "HEADROOM_BATCH_FAILED=1",
                                           "HEADROOM_BATCH_SKIPPED=1",
                                           "HEADROOM_BATCH_INTERRUPTED=0",
                                           "HEADROOM_BATCH_WALL_SECONDS=12.3",
                                           "HEADROOM_BATCH_REPORT=out/report.json",
                                           "HEADROOM_BATCH_LOG_DIR=.headroom/logs"}));
}

}  // namespace
}  // namespace headroom

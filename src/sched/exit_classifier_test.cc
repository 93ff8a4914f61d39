#include "sched/exit_classifier.h"

#include <gtest/gtest.h>

#include <csignal>

namespace headroom {
namespace {

TEST(ExitClassifierTest, WhatHeadroomDidExplainsTheEnd) {
  ExitInfo ok;
  ok.exit_code = 0;
  ExitInfo bad;
  bad.exit_code = 2;
  ExitInfo killed;
  killed.signal = SIGKILL;
  EXPECT_EQ(ClassifyExit(ok, false, false), Outcome::kSucceeded);
  EXPECT_EQ(ClassifyExit(bad, false, false), Outcome::kFailed);
  EXPECT_EQ(ClassifyExit(killed, false, false), Outcome::kFailed);
  EXPECT_EQ(ClassifyExit(ok, true, false), Outcome::kTimedOut);
  EXPECT_EQ(ClassifyExit(killed, false, true), Outcome::kInterrupted);
}

}  // namespace
}  // namespace headroom

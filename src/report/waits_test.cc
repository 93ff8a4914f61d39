#include "report/waits.h"

#include <gtest/gtest.h>

namespace headroom {
namespace {

TEST(WaitingGatesTest, NamesEachGateOnce) {
  EXPECT_EQ(WaitingGates(""), std::vector<std::string>{});
  EXPECT_EQ(WaitingGates("slots"), std::vector<std::string>{"slots"});
  EXPECT_EQ(WaitingGates("retry-delay"), std::vector<std::string>{"retry-delay"});
  EXPECT_EQ(WaitingGates("vram gpu0,1; temperature gpu2"),
            (std::vector<std::string>{"vram", "temperature"}));
  EXPECT_EQ(WaitingGates("vram gpu0; limit gpu1; vram gpu3"),
            (std::vector<std::string>{"vram", "limit"}));
  EXPECT_EQ(WaitingGates("gpu0: 8.8 of 10.0 GiB used by other processes (pids 1, 2); gpu1: 9.0 "
                         "of 10.0 GiB used by other processes; cooldown gpu2"),
            (std::vector<std::string>{"foreign", "cooldown"}));
}

TEST(ParseWaitingTest, EachGateOncePerDeviceItHolds) {
  EXPECT_EQ(ParseWaiting(""), std::vector<WaitGate>{});
  EXPECT_EQ(ParseWaiting("slots"), (std::vector<WaitGate>{{"slots", -1}}));
  EXPECT_EQ(ParseWaiting("vram gpu0,12; temperature gpu2"),
            (std::vector<WaitGate>{{"vram", 0}, {"vram", 12}, {"temperature", 2}}));
  EXPECT_EQ(ParseWaiting("learning memory use on gpu0,1 (first job)"),
            (std::vector<WaitGate>{{"learning", 0}, {"learning", 1}}));
  EXPECT_EQ(ParseWaiting("gpu3: 21.6 of 24.0 GiB used by other processes (pids 4242, 4243)"),
            (std::vector<WaitGate>{{"foreign", 3}}));
  EXPECT_EQ(ParseWaiting("paused (headroom ctl continue)"),
            (std::vector<WaitGate>{{"paused", -1}}));
  EXPECT_EQ(WaitLabel({"vram", 1}), "vram gpu1");
  EXPECT_EQ(WaitLabel({"ram", -1}), "ram");
}

EventRecord Waiting(double t, const std::string& text) {
  EventRecord event;
  event.t = t;
  event.kind = "waiting";
  event.text = text;
  return event;
}

TEST(WaitIntervalsTest, AGateHoldsFromTheEventThatNamesItToTheOneThatDoesNot) {
  EventRecord limit;
  limit.t = 12;
  limit.kind = "limit";  // not a waiting event: ignored
  std::vector<EventRecord> events = {Waiting(10, "learning memory use on gpu0 (first job)"),
                                     limit,
                                     Waiting(14, ""),
                                     Waiting(15, "vram gpu0"),
                                     // vram stays through the change: one interval
                                     Waiting(16, "vram gpu0; temperature gpu1"),
                                     Waiting(18, "temperature gpu1")};
  std::vector<WaitInterval> waits = WaitIntervals(events, 20);
  ASSERT_EQ(waits.size(), 3u);
  EXPECT_EQ(waits[0].gate, (WaitGate{"learning", 0}));
  EXPECT_DOUBLE_EQ(waits[0].start, 10);
  EXPECT_DOUBLE_EQ(waits[0].end, 14);
  EXPECT_EQ(waits[1].gate, (WaitGate{"vram", 0}));
  EXPECT_DOUBLE_EQ(waits[1].start, 15);
  EXPECT_DOUBLE_EQ(waits[1].end, 18);
  // Still holding at the horizon: ends there.
  EXPECT_EQ(waits[2].gate, (WaitGate{"temperature", 1}));
  EXPECT_DOUBLE_EQ(waits[2].start, 16);
  EXPECT_DOUBLE_EQ(waits[2].end, 20);
}

}  // namespace
}  // namespace headroom

// Clock: the scheduler's only source of time, so that tests drive it by hand
// instead of sleeping.
#pragma once

#include <chrono>

namespace headroom {

using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() = 0;
};

class SteadyClock : public Clock {
 public:
  TimePoint Now() override { return std::chrono::steady_clock::now(); }
};

}  // namespace headroom

#include "sched/concurrency_limit.h"

#include <algorithm>
#include <utility>

namespace headroom {

ConcurrencyLimit::ConcurrencyLimit(std::string device, int cap)
    : device_(std::move(device)), cap_(std::max(1, cap)), limit_(cap_) {}

std::optional<std::string> ConcurrencyLimit::OnOom(TimePoint job_start, int running,
                                                   TimePoint now) {
  if (last_decrease_ && job_start < *last_decrease_) return std::nullopt;
  last_decrease_ = now;
  return Set(std::max(1, std::min(limit_, running) / 2), "out of memory");
}

std::optional<std::string> ConcurrencyLimit::OnSuccess(bool measured) {
  if (measured) return Set(cap_, "a job's memory was measured; memory admission decides");
  return Set(std::min(cap_, limit_ + 1), "job succeeded");
}

std::optional<std::string> ConcurrencyLimit::SetCap(int cap) {
  cap = std::max(1, cap);
  bool at_cap = limit_ == cap_;
  cap_ = cap;
  return Set(at_cap ? cap_ : std::min(limit_, cap_), "slot limit changed (headroom ctl jobs)");
}

std::optional<std::string> ConcurrencyLimit::Set(int limit, const char* why) {
  if (limit == limit_) return std::nullopt;
  std::string reason =
      device_ + " limit " + std::to_string(limit_) + " -> " + std::to_string(limit) + ": " + why;
  limit_ = limit;
  return reason;
}

}  // namespace headroom

#include "sched/job_count.h"

#include <algorithm>

namespace headroom {
namespace {

// More cores than this count as this many (-j takes at most 10^6).
constexpr unsigned kMaxCores = 1'000'000;

int Usable(unsigned cores) { return static_cast<int>(std::min(cores, kMaxCores)); }

}  // namespace

int AutoJobCount(unsigned cores) { return std::max(1, Usable(cores) - 2); }

int AutoThreadsPerJob(unsigned cores, int jobs) {
  return std::max(1, Usable(cores) / std::max(1, jobs));
}

}  // namespace headroom

#include "sched/eta.h"

#include <algorithm>

namespace headroom {

void DurationModel::Observe(const std::string& job_class, double seconds) {
  std::deque<double>& window = seconds_[job_class];
  window.push_back(std::max(0.0, seconds));
  while (window.size() > window_) window.pop_front();
}

std::optional<double> DurationModel::Expected(const std::string& job_class) const {
  auto it = seconds_.find(job_class);
  if (it == seconds_.end() || it->second.empty()) return std::nullopt;
  std::vector<double> sorted(it->second.begin(), it->second.end());
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

double EstimateEta(const std::vector<RunningWork>& running, double queued_work) {
  double total = std::max(0.0, queued_work);
  double longest = 0;
  for (const RunningWork& work : running) {
    // Past its expected time a unit is not about to end at once: it has
    // shown it is a long one.
    double left = std::max(work.expected - work.elapsed, work.expected / 10);
    total += left;
    longest = std::max(longest, left);
  }
  double parallel = static_cast<double>(std::max<size_t>(1, running.size()));
  return std::max(longest, total / parallel);
}

}  // namespace headroom

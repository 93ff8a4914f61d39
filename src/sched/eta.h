// The ETA: how long the rest of a batch will take, from what each job of a
// class took (this batch's and, as priors, earlier batches') rather than
// from jobs finished per second so far, which climbs while long jobs run
// and swings as they end together.
//
// The work left is each running unit's expected duration less the time it
// has run, plus each queued job's expected duration; it is shared by the
// units that run at once, and the batch lasts at least as long as its
// longest running unit still has to go.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

// What one job of each class took, over its last `window` jobs.
class DurationModel {
 public:
  static constexpr size_t kDefaultWindow = 32;
  explicit DurationModel(size_t window = kDefaultWindow) : window_(window) {}

  // A job of `job_class` took `seconds` (with --batch-size, its unit's
  // time over the unit's jobs).
  void Observe(const std::string& job_class, double seconds);
  // The median of the class's window; nullopt before any job of it ended.
  std::optional<double> Expected(const std::string& job_class) const;

 private:
  size_t window_;
  std::map<std::string, std::deque<double>> seconds_;
};

// A unit that runs: how long it has run, and how long units like it take.
struct RunningWork {
  double elapsed = 0;
  double expected = 0;
};

// Seconds until the batch ends: the running units' remaining time (a unit
// past its expected duration is given a tenth of it more) plus
// `queued_work`, over the number of running units (at least one), and at
// least the largest remaining time of one unit. 0 when nothing is left.
double EstimateEta(const std::vector<RunningWork>& running, double queued_work);

}  // namespace headroom

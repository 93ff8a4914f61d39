// BatchSizer: how many inputs the next process of a job class may get
// (--batch-size). A fixed N, or auto (the scheduler fits as many as the
// learned footprint says fit, up to Limit()). Either way a batch that runs
// out of memory halves the class's limit, and the limit grows back by one
// step after a run of full-size successes - but never again to a size that
// ran out of memory in this run, so a batch size that cannot fit is tried
// once, not once per cycle.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace headroom {

struct BatchSizerConfig {
  int size = 1;            // --batch-size N; 0 = auto
  int max_auto = 1024;     // auto's largest batch
  int grow_after = 3;      // full-size successes in a row before a step up
};

class BatchSizer {
 public:
  explicit BatchSizer(BatchSizerConfig config = {});

  bool is_auto() const { return config_.size == 0; }
  // True when units may hold more than one input.
  bool batching() const { return config_.size != 1; }

  // The most inputs the next unit of `job_class` may hold.
  int Limit(const std::string& job_class) const;

  // A unit of `size` inputs ran out of memory: the limit becomes size / 2
  // (at least 1), and sizes >= `size` are not tried again. Returns the new
  // limit.
  int OnOom(const std::string& job_class, int size);

  // A unit of `size` inputs succeeded. After grow_after full-size ones in a
  // row (size >= the limit), the limit grows by a step: a quarter of it, at
  // least 1, up to the configured size and below any size that ran out of
  // memory. Returns the new limit when it grew.
  std::optional<int> OnSuccess(const std::string& job_class, int size);

 private:
  struct ClassState {
    int limit = 0;
    std::optional<int> failed;  // the smallest size that ran out of memory
    int streak = 0;             // full-size successes since the last change
  };
  int Max() const { return is_auto() ? config_.max_auto : config_.size; }
  ClassState& State(const std::string& job_class);

  BatchSizerConfig config_;
  std::map<std::string, ClassState> classes_;
};

}  // namespace headroom

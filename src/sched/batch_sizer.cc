#include "sched/batch_sizer.h"

#include <algorithm>

namespace headroom {

BatchSizer::BatchSizer(BatchSizerConfig config) : config_(config) {
  config_.size = std::max(0, config_.size);
  config_.max_auto = std::max(1, config_.max_auto);
  config_.grow_after = std::max(1, config_.grow_after);
}

BatchSizer::ClassState& BatchSizer::State(const std::string& job_class) {
  auto [it, inserted] = classes_.try_emplace(job_class);
  if (inserted) it->second.limit = Max();
  return it->second;
}

int BatchSizer::Limit(const std::string& job_class) const {
  auto it = classes_.find(job_class);
  return it == classes_.end() ? Max() : it->second.limit;
}

int BatchSizer::OnOom(const std::string& job_class, int size) {
  ClassState& state = State(job_class);
  size = std::max(1, size);
  state.failed = std::min(size, state.failed.value_or(size));
  state.limit = std::max(1, std::min(state.limit, size / 2));
  state.streak = 0;
  return state.limit;
}

std::optional<int> BatchSizer::OnSuccess(const std::string& job_class, int size) {
  ClassState& state = State(job_class);
  if (size < state.limit) return std::nullopt;  // a short batch proves nothing about the limit
  if (++state.streak < config_.grow_after) return std::nullopt;
  state.streak = 0;
  int ceiling = state.failed ? std::min(Max(), *state.failed - 1) : Max();
  int grown = std::min(ceiling, state.limit + std::max(1, state.limit / 4));
  if (grown <= state.limit) return std::nullopt;
  state.limit = grown;
  return grown;
}

}  // namespace headroom

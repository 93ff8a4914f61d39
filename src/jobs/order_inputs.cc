// StatInputs and OrderInputs (declared in jobs/plan.h).
#include <sys/stat.h>

#include <algorithm>
#include <numeric>
#include <tuple>

#include "jobs/plan.h"

namespace headroom {
namespace {

// What --order mtime/size compares; inputs that cannot be stat'ed sort last.
struct StatKey {
  bool unknown = true;
  int64_t major = 0;  // seconds, or bytes
  int64_t minor = 0;  // nanoseconds
  bool operator<(const StatKey& o) const {
    return std::tie(unknown, major, minor) < std::tie(o.unknown, o.major, o.minor);
  }
};

StatKey KeyOf(Order order, const InputStat& stat) {
  if (!stat.known) return {};
  if (order == Order::kSize) return {false, stat.bytes, 0};
  return {false, stat.mtime_s, stat.mtime_ns};
}

InputStat StatOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return {};
  return {true, S_ISREG(st.st_mode), static_cast<int64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec), static_cast<int64_t>(st.st_mtim.tv_nsec)};
}

template <typename T>
void Permute(const std::vector<size_t>& index, std::vector<T>* items) {
  std::vector<T> sorted;
  sorted.reserve(items->size());
  for (size_t i : index) sorted.push_back(std::move((*items)[i]));
  *items = std::move(sorted);
}

}  // namespace

std::vector<InputStat> StatInputs(const std::vector<RawInput>& inputs) {
  std::vector<InputStat> stats;
  stats.reserve(inputs.size());
  for (const RawInput& input : inputs) stats.push_back(StatOf(input.input));
  return stats;
}

void OrderInputs(Order order, std::vector<RawInput>* inputs) {
  bool by_file = order == Order::kMtime || order == Order::kSize;
  std::vector<InputStat> stats =
      by_file ? StatInputs(*inputs) : std::vector<InputStat>(inputs->size());
  OrderInputs(order, inputs, &stats);
}

void OrderInputs(Order order, std::vector<RawInput>* inputs, std::vector<InputStat>* stats) {
  const std::vector<RawInput>& in = *inputs;
  // Keys are computed once up front: a sort compares each element many times.
  std::vector<StatKey> keys;
  if (order == Order::kMtime || order == Order::kSize) {
    keys.reserve(in.size());
    for (const InputStat& stat : *stats) keys.push_back(KeyOf(order, stat));
  }
  std::vector<size_t> index(in.size());
  std::iota(index.begin(), index.end(), 0);
  std::stable_sort(index.begin(), index.end(), [&](size_t a, size_t b) {
    if (in[a].priority != in[b].priority) return in[a].priority > in[b].priority;
    switch (order) {
      case Order::kGiven:
        return false;
      case Order::kName:
        return in[a].input < in[b].input;
      case Order::kMtime:
      case Order::kSize:
        return keys[a] < keys[b];
    }
    return false;
  });
  // Already in order (the usual case: --order given, one priority): nothing
  // to move, and no second copy of every input at the peak.
  if (std::is_sorted(index.begin(), index.end())) return;
  Permute(index, inputs);
  Permute(index, stats);
}

}  // namespace headroom

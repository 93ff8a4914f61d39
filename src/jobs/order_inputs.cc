// OrderInputs (declared in jobs/plan.h).
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

StatKey KeyOf(Order order, const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return {};
  if (order == Order::kSize) return {false, static_cast<int64_t>(st.st_size), 0};
  return {false, static_cast<int64_t>(st.st_mtim.tv_sec), static_cast<int64_t>(st.st_mtim.tv_nsec)};
}

}  // namespace

void OrderInputs(Order order, std::vector<RawInput>* inputs) {
  const std::vector<RawInput>& in = *inputs;
  // Keys are computed once up front: a sort compares each element many times
  // and a stat per comparison would dominate for large batches.
  std::vector<StatKey> keys;
  if (order == Order::kMtime || order == Order::kSize) {
    keys.reserve(in.size());
    for (const RawInput& input : in) keys.push_back(KeyOf(order, input.input));
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
  std::vector<RawInput> sorted;
  sorted.reserve(in.size());
  for (size_t i : index) sorted.push_back(std::move((*inputs)[i]));
  *inputs = std::move(sorted);
}

}  // namespace headroom

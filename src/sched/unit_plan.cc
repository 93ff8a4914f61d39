#include "sched/unit_plan.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

namespace headroom {
namespace {

// The jobs of one class (template, priority, env) in queue order, and how
// many of them units have taken.
struct Group {
  std::vector<size_t> jobs;
  size_t next = 0;
};

using GroupKey = std::tuple<const std::vector<std::string>*, int64_t, const std::vector<EnvVar>*>;

// Orders jobs by what MayShareProcess compares, looking through pointers.
struct KeyLess {
  bool operator()(const GroupKey& a, const GroupKey& b) const {
    if (*std::get<0>(a) != *std::get<0>(b)) return *std::get<0>(a) < *std::get<0>(b);
    if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) < std::get<1>(b);
    const auto& ea = *std::get<2>(a);
    const auto& eb = *std::get<2>(b);
    return std::lexicographical_compare(
        ea.begin(), ea.end(), eb.begin(), eb.end(), [](const EnvVar& x, const EnvVar& y) {
          return std::tie(x.name, x.value) < std::tie(y.name, y.value);
        });
  }
};

}  // namespace

bool MayShareProcess(const Job& lead, const Job& job) {
  return job.argv_template == lead.argv_template && job.priority == lead.priority &&
         job.env == lead.env;
}

std::vector<PlannedUnit> PlanUnits(const Plan& plan, int batch_size, int slots) {
  const std::vector<Job>& jobs = plan.to_run;
  size_t limit = batch_size > 1 ? static_cast<size_t>(batch_size) : 1;
  slots = std::max(slots, 1);
  // Grouped once, so that finding a lead's companions does not rescan the
  // queue: a unit's members are the next untaken jobs of its lead's group.
  std::map<GroupKey, Group, KeyLess> groups;
  std::vector<Group*> group_of(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    Group& group = groups[GroupKey(&jobs[i].argv_template, jobs[i].priority, &jobs[i].env)];
    group.jobs.push_back(i);
    group_of[i] = &group;
  }
  std::vector<bool> taken(jobs.size(), false);
  std::vector<PlannedUnit> units;
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (taken[i]) continue;
    Group& group = *group_of[i];
    PlannedUnit unit;
    unit.slot = static_cast<int>(units.size() % static_cast<size_t>(slots)) + 1;
    while (group.next < group.jobs.size() && unit.jobs.size() < limit) {
      size_t member = group.jobs[group.next++];
      taken[member] = true;
      unit.jobs.push_back(member);
    }
    units.push_back(std::move(unit));
  }
  return units;
}

}  // namespace headroom

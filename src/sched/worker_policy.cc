#include "sched/worker_policy.h"

#include <algorithm>

namespace headroom {

std::optional<pid_t> WorkerToEvict(const std::vector<KeptProcess>& kept, int slots) {
  if (kept.size() < static_cast<size_t>(std::max(slots, 1))) return std::nullopt;
  const KeptProcess* idlest = nullptr;
  for (const KeptProcess& worker : kept) {
    if (worker.busy) continue;
    if (idlest == nullptr || worker.last_used < idlest->last_used) idlest = &worker;
  }
  if (idlest == nullptr) return std::nullopt;
  return idlest->pid;
}

std::vector<pid_t> WorkersBeyondCap(const std::vector<KeptProcess>& kept, const std::string& gpu,
                                    int cap) {
  std::vector<const KeptProcess*> on_device;
  for (const KeptProcess& worker : kept) {
    if (!worker.retiring && worker.gpu == gpu) on_device.push_back(&worker);
  }
  size_t keep = static_cast<size_t>(std::max(cap, 0));
  if (on_device.size() <= keep) return {};
  std::sort(on_device.begin(), on_device.end(), [](const KeptProcess* a, const KeptProcess* b) {
    if (a->busy != b->busy) return !a->busy;
    return a->last_used < b->last_used;
  });
  std::vector<pid_t> stop;
  for (size_t i = 0; i < on_device.size() - keep; ++i) stop.push_back(on_device[i]->pid);
  return stop;
}

bool RetireAfter(const ExitInfo& exit) {
  if (exit.reported_oom) return true;
  return std::any_of(exit.results.begin(), exit.results.end(),
                     [](const InputResult& r) { return !r.ok && r.oom; });
}

}  // namespace headroom

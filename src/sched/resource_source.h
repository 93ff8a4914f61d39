// ResourceSource: the scheduler's view of the machine: the newest snapshot
// the monitor took. Tests script it; the real one wraps probe::Monitor.
#pragma once

#include <cstdint>

#include "probe/snapshot.h"

namespace headroom {

class ResourceSource {
 public:
  virtual ~ResourceSource() = default;
  // The newest snapshot, and its generation: a number that grows with every
  // fresh sample, so the scheduler recomputes only when something changed.
  virtual const Snapshot& Latest(uint64_t* generation) = 0;
};

}  // namespace headroom

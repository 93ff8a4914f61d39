// Units: which jobs share one process (--batch-size), and the units a batch
// starts in order. The scheduler groups its queue with MayShareProcess; `list`
// and --dry-run print PlanUnits, the same grouping and order with every gate
// open and nothing learned yet, so what they print is what `run` starts.
#pragma once

#include <cstddef>
#include <vector>

#include "jobs/job.h"
#include "jobs/plan.h"

namespace headroom {

// True when `job` may run in the same process as `lead`: the same command
// template, priority and environment.
bool MayShareProcess(const Job& lead, const Job& job);

struct PlannedUnit {
  std::vector<size_t> jobs;  // indices into plan.to_run, the lead first
  int slot = 1;              // {%}, as if units ran in turn on `slots` slots
};

// The units of `plan.to_run` in the order a first pass starts them: each
// unit is the first job not taken yet and the jobs after it that may share
// its process, up to `batch_size` (1, or 0 for auto: auto sizes units from
// what it learns while it runs, so its units are single jobs here).
std::vector<PlannedUnit> PlanUnits(const Plan& plan, int batch_size, int slots);

}  // namespace headroom

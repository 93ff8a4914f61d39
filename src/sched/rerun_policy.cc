#include "sched/rerun_policy.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

namespace headroom {

RerunCounts DecideReruns(const RerunConfig& config, std::map<int64_t, JournaledJob>* jobs,
                         Plan* plan) {
  RerunCounts counts;
  std::vector<Job>& to_run = plan->to_run;
  // Decided first, then moved in place: a resume of 10^5 jobs must not hold
  // the plan twice (a second to_run, a skipped list growing by doubling).
  std::vector<bool> keep_state(to_run.size(), false);
  for (size_t i = 0; i < to_run.size(); ++i) {
    auto journaled = jobs->find(to_run[i].number);
    if (journaled == jobs->end()) continue;  // new to the batch: it runs
    JobState state = journaled->second.state;
    bool done = state == JobState::kSucceeded;
    bool failed = state == JobState::kFailed && !config.resume_failed;
    if (!done && !failed) continue;
    journaled->second.keep_state = keep_state[i] = true;
    ++(done ? counts.already_done : counts.failed_before);
  }
  plan->skipped.reserve(plan->skipped.size() + static_cast<size_t>(counts.already_done) +
                        static_cast<size_t>(counts.failed_before));
  size_t kept = 0;
  for (size_t i = 0; i < to_run.size(); ++i) {
    if (keep_state[i]) {
      plan->skipped.push_back(std::move(to_run[i]));
    } else {
      if (kept != i) to_run[kept] = std::move(to_run[i]);
      ++kept;
    }
  }
  to_run.resize(kept);
  if (kept < to_run.capacity() / 2) to_run.shrink_to_fit();
  ApplyMaxCount(config.max_count, plan);
  return counts;
}

void LimitNewBatch(const RerunConfig& config, bool resume, Plan* plan) {
  if (!resume) ApplyMaxCount(config.max_count, plan);
}

std::string ResumeNotice(int64_t batch, const RerunCounts& counts, int64_t were_running) {
  std::string notice =
      fmt::format("resuming batch {}: {} job(s) already done", batch, counts.already_done);
  if (were_running > 0) {
    notice += fmt::format(", {} left running or interrupted run again", were_running);
  }
  if (counts.failed_before > 0) {
    notice += fmt::format(", {} failed before and not rerun (--resume-failed reruns them)",
                          counts.failed_before);
  }
  return notice;
}

}  // namespace headroom

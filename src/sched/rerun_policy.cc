#include "sched/rerun_policy.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

namespace headroom {

RerunCounts DecideReruns(const RerunConfig& config, std::map<int64_t, JournaledJob>* jobs,
                         Plan* plan) {
  RerunCounts counts;
  std::vector<Job> to_run;
  to_run.reserve(plan->to_run.size());
  for (Job& job : plan->to_run) {
    auto journaled = jobs->find(job.number);
    JobState state = journaled != jobs->end() ? journaled->second.state : JobState::kQueued;
    bool done = state == JobState::kSucceeded;
    bool failed = state == JobState::kFailed && !config.resume_failed;
    if (!done && !failed) {
      to_run.push_back(std::move(job));
      continue;
    }
    journaled->second.keep_state = true;
    ++(done ? counts.already_done : counts.failed_before);
    plan->skipped.push_back(std::move(job));
  }
  plan->to_run = std::move(to_run);
  ApplyMaxCount(config.max_count, plan);
  return counts;
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

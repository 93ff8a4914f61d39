// ResourceLedger: the scheduler's books on the machine's resources (DESIGN.md,
// "Admission, in one picture"). From the newest snapshot and the running
// jobs it computes what each device has committed to our jobs, what others
// hold (foreign), each device's high-mark latch and concurrency limit, and
// what the host has left, as the plain views that Admit() takes. It decides
// nothing itself.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "jobs/snapshot.h"
#include "probe/resource_source.h"
#include "sched/admission.h"
#include "sched/concurrency_limit.h"
#include "util/clock.h"

namespace headroom {

// One running job, as the ledger sees it.
struct JobUse {
  pid_t pgid = 0;   // its process group: GPU processes in it are its own
  int device = -1;  // -1: runs without a GPU
  std::string job_class;
  uint64_t reserved_vram = 0;  // predicted peak when it started
  uint64_t reserved_ram = 0;
  TimePoint start{};
  uint64_t vram_now = 0;       // its processes' memory in the newest snapshot
  uint64_t vram_peak = 0;      // the most seen while it ran
  bool vram_measured = false;  // a snapshot with per-process memory saw it run
  uint64_t rss_peak = 0;       // the most its process tree held in RAM at a sample
  int vram_steady = 0;         // fresh samples in a row whose use equalled the one before
  // Its memory stopped growing: two fresh samples in a row showed the same
  // use as the one before. Slow start may end on this (DESIGN.md).
  bool VramPlateaued() const { return vram_measured && vram_now > 0 && vram_steady >= 2; }
};

class ResourceLedger {
 public:
  // `source` may be null: then there is no device and the host is unknown,
  // so only the slot gate holds jobs.
  ResourceLedger(const AdmissionConfig& config, ResourceSource* source);

  // Takes the newest snapshot when there is a fresh one: updates each job's
  // use and peak, and each device's latch. Returns true when it was fresh.
  bool Refresh(const std::vector<JobUse*>& jobs);

  const Snapshot& snapshot() const { return snapshot_; }
  bool has_devices() const { return !snapshot_.gpus.empty(); }

  // The views for admitting a job of `job_class`.
  std::vector<DeviceView> Devices(const std::vector<const JobUse*>& jobs,
                                  const std::string& job_class);
  HostView Host(const std::vector<const JobUse*>& jobs) const;

  // What other processes hold on `device`, for a job that waits for them:
  // "gpu0: 21.6 of 24.0 GiB used by other processes (pids 4242, 4243)";
  // the pids where the provider names them (at most four, then "+N").
  std::string DescribeOthers(int device, const std::vector<const JobUse*>& jobs);

  // A job of ours ended: until the next sample, its processes' memory in
  // the snapshot is already free, not someone else's.
  void OnJobExit(pid_t pgid) { exited_.push_back(pgid); }

  // `headroom ctl jobs N`: the slot count from now on; device limits that
  // follow it (no --jobs-per-gpu) move with it. Returns (device, limit,
  // reason) for each limit that changed.
  std::vector<std::tuple<int, int, std::string>> SetSlots(int slots);

  // The device's concurrency limit (made on first use).
  ConcurrencyLimit& Limit(int device);
  bool Latched(int device) const;

 private:
  uint64_t Committed(int device, const std::vector<const JobUse*>& jobs) const;
  uint64_t Foreign(const GpuDevice& device, const std::vector<const JobUse*>& jobs) const;
  uint64_t Exited(const GpuDevice& device) const;  // memory of jobs that ended since

  AdmissionConfig config_;
  ResourceSource* source_;
  Snapshot snapshot_;
  uint64_t generation_ = 0;
  bool have_snapshot_ = false;
  std::vector<pid_t> exited_;  // pgids of jobs that ended since the snapshot
  std::map<int, bool> latched_;
  std::map<int, ConcurrencyLimit> limits_;
};

}  // namespace headroom

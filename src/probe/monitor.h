// Monitor: samples the system and a GPU provider on its own thread every
// `interval`, so that a slow probe (one nvidia-smi run takes ~100 ms) never
// delays the scheduler, which reads the latest snapshot when it decides.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "jobs/snapshot.h"
#include "probe/gpu_provider.h"
#include "probe/system_probe.h"
#include "util/clock.h"
#include "util/units.h"

namespace headroom {

class Monitor {
 public:
  // `gpu` may be null (no GPU). `clock` stamps Snapshot::taken; null means
  // the steady clock; it must outlive the Monitor.
  Monitor(std::unique_ptr<SystemProbe> system, std::unique_ptr<GpuProvider> gpu,
          Millis interval = Millis(1000), Clock* clock = nullptr);
  ~Monitor();  // Stop()
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Called after every sample, on the thread that took it: keep it short and
  // thread-safe (e.g. write to a pipe that wakes the scheduler's wait). Set it
  // before Start().
  void SetOnSample(std::function<void()> on_sample);

  // Takes one sample now on the calling thread, e.g. before the batch starts
  // so that the first decision has data. Safe while the thread runs.
  void SampleNow();

  // Starts sampling every `interval` on a background thread; the first
  // background sample comes one interval after Start. No-op when running.
  void Start();
  // Stops and joins the thread promptly, even mid-interval. Idempotent.
  void Stop();

  // A copy of the latest snapshot. A part whose sample failed keeps its
  // previous value (see LastError). Thread-safe.
  Snapshot Latest() const;
  // Samples taken so far; changes when a fresh snapshot arrived.
  uint64_t Generation() const;
  // The last sample's error, "" when it fully worked.
  std::string LastError() const;

 private:
  void Run();

  std::unique_ptr<SystemProbe> system_;
  std::unique_ptr<GpuProvider> gpu_;
  const Millis interval_;
  SteadyClock steady_clock_;
  Clock* clock_;

  std::mutex sample_mutex_;  // one sample at a time: probes are not thread-safe

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  bool stop_ = false;
  Snapshot latest_;
  uint64_t generation_ = 0;
  std::string last_error_;
  std::function<void()> on_sample_;

  std::thread thread_;  // touched only by Start/Stop, from the owning thread
};

}  // namespace headroom

#include "probe/monitor.h"

#include <chrono>
#include <utility>
#include <vector>

namespace headroom {

Monitor::Monitor(std::unique_ptr<SystemProbe> system, std::unique_ptr<GpuProvider> gpu,
                 Millis interval, Clock* clock)
    : system_(std::move(system)),
      gpu_(std::move(gpu)),
      interval_(interval),
      clock_(clock != nullptr ? clock : &steady_clock_) {
  latest_.gpu_provider = gpu_ ? gpu_->Name() : "none";
}

Monitor::~Monitor() { Stop(); }

void Monitor::SetOnSample(std::function<void()> on_sample) {
  std::lock_guard<std::mutex> lock(mutex_);
  on_sample_ = std::move(on_sample);
}

void Monitor::SampleNow() {
  std::lock_guard<std::mutex> sampling(sample_mutex_);
  // The probes run outside `mutex_` so that Latest() never waits for them.
  SystemSnapshot system;
  Status system_status = system_->Sample(&system);
  std::vector<GpuDevice> gpus;
  auto gpu_start = std::chrono::steady_clock::now();
  Status gpu_status = gpu_ ? gpu_->Sample(&gpus) : Status::Ok();
  std::chrono::duration<double> gpu_took = std::chrono::steady_clock::now() - gpu_start;
  TimePoint now = clock_->Now();

  std::function<void()> on_sample;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (system_status.ok()) latest_.system = system;
    if (gpu_status.ok()) latest_.gpus = std::move(gpus);
    latest_.gpu_sample_seconds = gpu_took.count();
    latest_.taken = now;
    last_error_ = !system_status.ok() ? system_status.message()
                  : !gpu_status.ok()  ? gpu_status.WithContext(latest_.gpu_provider).message()
                                      : "";
    ++generation_;
    on_sample = on_sample_;
  }
  if (on_sample) on_sample();
}

void Monitor::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = false;
  }
  thread_ = std::thread(&Monitor::Run, this);
}

void Monitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Monitor::Run() {
  // Samples keep to a fixed rhythm; after a sample that overran the
  // interval, the next waits a full interval rather than running at once.
  auto next = std::chrono::steady_clock::now() + interval_;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (wake_.wait_until(lock, next, [this] { return stop_; })) return;
    lock.unlock();
    SampleNow();
    next += interval_;
    auto now = std::chrono::steady_clock::now();
    if (next <= now) next = now + interval_;
    lock.lock();
  }
}

Snapshot Monitor::Latest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return latest_;
}

uint64_t Monitor::Generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation_;
}

std::string Monitor::LastError() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_error_;
}

}  // namespace headroom

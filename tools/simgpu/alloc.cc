// `headroom-simgpu alloc`: a simulated GPU job. It behaves as a PyTorch
// program does on a real device: memory grows while it runs, and an
// allocation that does not fit next to the others fails with CUDA's message.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "commands.h"

namespace headroom::simgpu {
namespace {

using Clock = std::chrono::steady_clock;

// The allocation grows in steps this far apart at least, and at most ~50
// steps per ramp, so that many jobs ramping at once keep lock traffic low.
constexpr double kMinStepSeconds = 0.02;
constexpr double kStepsPerRamp = 50;

// Blocks the stop signals so that they wait for sigtimedwait(): the job then
// sleeps and watches for them in one call, without a handler or a race.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Sleeps `seconds`; returns the stop signal that came meanwhile, or 0.
int SleepUnlessSignalled(const sigset_t& set, double seconds) {
  auto until = Clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    double left = std::chrono::duration<double>(until - Clock::now()).count();
    if (left <= 0) return 0;
    timespec timeout;
    timeout.tv_sec = static_cast<time_t>(left);
    timeout.tv_nsec = static_cast<long>((left - static_cast<double>(timeout.tv_sec)) * 1e9);
    int sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig > 0) return sig;
    if (errno != EAGAIN && errno != EINTR) return 0;
  }
}

void PrintOom(int device, uint64_t tried, const SimAllocResult& result) {
  uint64_t already = result.others_mib + result.mine_mib;
  std::fprintf(stderr,
               "CUDA out of memory. Tried to allocate %llu MiB (GPU %d; %llu MiB total capacity; "
               "%llu MiB already allocated)\n",
               static_cast<unsigned long long>(tried), device,
               static_cast<unsigned long long>(result.total_mib),
               static_cast<unsigned long long>(already));
}

struct AllocPlan {
  uint64_t mib = 0;
  double seconds = 0;
  double ramp = 0;
};

// --per-input-mib and --per-input-seconds model a program that gets a
// batch of inputs (headroom --batch-size): each INPUT word adds that much
// memory and run time.
Status ParseAlloc(const std::vector<std::string>& args, AllocPlan* plan) {
  std::map<std::string, std::string> values{
      {"ramp", "0"}, {"per-input-mib", "0"}, {"per-input-seconds", "0"}};
  std::vector<std::string> inputs;
  Status status = ParseFlags(args, {"mib", "seconds", "ramp", "per-input-mib", "per-input-seconds"},
                             &values, &inputs);
  double mib = 0;
  double per_input_mib = 0;
  double per_input_seconds = 0;
  if (status.ok()) status = ParseNonNegative("mib", values["mib"], &mib);
  if (status.ok()) status = ParseNonNegative("seconds", values["seconds"], &plan->seconds);
  if (status.ok()) status = ParseNonNegative("ramp", values["ramp"], &plan->ramp);
  if (status.ok()) {
    status = ParseNonNegative("per-input-mib", values["per-input-mib"], &per_input_mib);
  }
  if (status.ok()) {
    status = ParseNonNegative("per-input-seconds", values["per-input-seconds"], &per_input_seconds);
  }
  const auto count = static_cast<double>(inputs.size());
  plan->mib = static_cast<uint64_t>(mib + per_input_mib * count);
  plan->seconds += per_input_seconds * count;
  return status;
}

// What the allocation should be `t` seconds after the start.
uint64_t SizeAt(const AllocPlan& plan, double t) {
  if (plan.ramp <= 0 || t >= plan.ramp) return plan.mib;
  return static_cast<uint64_t>(static_cast<double>(plan.mib) * t / plan.ramp);
}

int Run(SimGpu& sim, int device, const AllocPlan& plan, const sigset_t& stop) {
  const pid_t pid = getpid();
  const auto start = Clock::now();
  const double step = std::max(kMinStepSeconds, plan.ramp / kStepsPerRamp);
  uint64_t held = 0;
  for (;;) {
    double t = std::chrono::duration<double>(Clock::now() - start).count();
    uint64_t want = SizeAt(plan, t);
    if (want > held) {
      SimAllocResult result;
      Status status = sim.Allocate(device, pid, want, &result);
      if (!status.ok()) return Fail(status.message(), kExitFailed);
      if (!result.fits) {
        PrintOom(device, want - result.mine_mib, result);
        return kExitFailed;
      }
      held = want;
    }
    if (t >= plan.seconds) return 0;
    double wait = plan.seconds - t;
    if (held < plan.mib) wait = std::min(wait, step);
    int sig = SleepUnlessSignalled(stop, wait);
    if (sig != 0) return 128 + sig;
  }
}

}  // namespace

int Alloc(SimGpu& sim, const std::vector<std::string>& args) {
  AllocPlan plan;
  Status status = ParseAlloc(args, &plan);
  if (!status.ok()) return Fail(status.message(), kExitUsage);
  int device = 0;
  status = CudaVisibleDevice(std::getenv("CUDA_VISIBLE_DEVICES"), sim.devices().size(), &device);
  if (!status.ok()) {
    // CUDA's own words, without our prefix, as a real job would print them.
    std::fprintf(stderr, "%s\n", status.message().c_str());
    return kExitFailed;
  }
  sigset_t stop = BlockStopSignals();
  int code = Run(sim, device, plan, stop);
  Status released = sim.Release(getpid());
  if (!released.ok() && code == 0) return Fail(released.message(), kExitFailed);
  return code;
}

}  // namespace headroom::simgpu

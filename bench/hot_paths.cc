// Micro-benchmarks of the dispatch hot paths, with Google Benchmark: what
// the scheduler pays per start on a busy machine. bench/dispatch.sh
// measures the whole tool against xargs and GNU parallel; this says which
// part of a start costs what (bench/BENCHMARKS.md).
//   build/headroom-hot-paths [--benchmark_filter=Admit]
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "jobs/placeholder.h"
#include "sched/admission.h"
#include "sched/footprint_model.h"

namespace headroom {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

// Admission of one job on a machine of `state.range(0)` GPUs of 80 GiB, each
// running 3 jobs of 12 GiB: every gate, then placement.
void BM_Admit(benchmark::State& state) {
  AdmissionConfig config;
  config.slots = 64;
  std::vector<DeviceView> devices;
  for (int i = 0; i < state.range(0); ++i) {
    DeviceView device;
    device.index = i;
    device.total = 80 * kGiB;
    device.used = 36 * kGiB;
    device.committed = 36 * kGiB;
    device.running = 3;
    device.class_running = 3;
    device.temperature_c = 60;
    devices.push_back(device);
  }
  HostView host;
  host.running = static_cast<int>(3 * state.range(0));
  host.memory_total = 256 * kGiB;
  host.memory_available = 200 * kGiB;
  host.free_disk = 500 * kGiB;
  JobNeed need;
  need.vram = 12 * kGiB;
  need.ram = 2 * kGiB;
  for (auto _ : state) benchmark::DoNotOptimize(Admit(need, host, devices, config));
}
BENCHMARK(BM_Admit)->Arg(1)->Arg(8);

// The footprint prediction of a class with a full window, with and without
// a size signal (inputs of growing size, or all the same).
void BM_Predict(benchmark::State& state) {
  FootprintModel model;
  bool sized = state.range(0) != 0;
  for (uint64_t i = 0; i < FootprintModel::kDefaultWindow; ++i) {
    uint64_t size = sized ? (i + 1) << 20 : 0;
    model.Observe("upscale {}", size, (4 + i % 5) * kGiB, kGiB);
  }
  for (auto _ : state) benchmark::DoNotOptimize(model.Predict("upscale {}", 17 << 20));
}
BENCHMARK(BM_Predict)->Arg(0)->Arg(1);

// A command template of 12 words with {} {.} {/} {out} {#}, expanded for
// one input, as each start does.
void BM_ExpandCommand(benchmark::State& state) {
  std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-y", "-i", "{}", "-vf",
                                   "scale=3840:-2", "-c:v", "libx264", "-metadata",
                                   "title={/.} #{#}", "{out}"};
  UnitValues values;
  values.inputs = {"/data/clips/2026/holiday/clip_000123.mp4"};
  values.outs = {"/data/out/.clip_000123.mp4.headroom-4242-123"};
  values.number = 123;
  values.slot = 3;
  for (auto _ : state) benchmark::DoNotOptimize(ExpandUnitCommand(argv, values, false));
}
BENCHMARK(BM_ExpandCommand);

}  // namespace
}  // namespace headroom

BENCHMARK_MAIN();

// headroom-simgpu: what a job on the simulated GPU runs (alloc), and the
// knobs and view of that GPU (set, status). docs/simgpu.md is the contract
// that tests, the demo and bench/packing.sh rely on.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"

namespace headroom::simgpu {
namespace {

const char kUsage[] =
    "Usage: headroom-simgpu [--gpu-sim FILE] COMMAND [OPTIONS]\n"
    "The simulated GPU of headroom. FILE (default: $HEADROOM_GPU_SIM) is its JSON spec,\n"
    "{\"devices\": [{\"name\": \"SimGPU-80G\", \"memory_mib\": 81920, \"temperature_c\": 45}]};\n"
    "its state lives in FILE.state. See docs/simgpu.md.\n"
    "\n"
    "Commands:\n"
    "  alloc --mib N --seconds S [--ramp R] [--per-input-mib P] [--per-input-seconds T]\n"
    "        [INPUT...]\n"
    "      Be a GPU job on the first device of CUDA_VISIBLE_DEVICES (unset: 0): grow an\n"
    "      allocation to N MiB over R seconds (default 0), hold it until S seconds after\n"
    "      the start, release it and exit 0. When it does not fit next to the other live\n"
    "      allocations, print PyTorch's 'CUDA out of memory. Tried to allocate ...' and\n"
    "      exit 1; with no visible device, print 'no CUDA-capable device ...' and exit 1.\n"
    "      Words without a leading '-' are INPUTs (headroom appends them): each adds P MiB\n"
    "      to N and T seconds to S (both default 0), as a batch of inputs would.\n"
    "  set --device D --temperature C\n"
    "      Set device D's temperature to C degrees Celsius.\n"
    "  status\n"
    "      Print each device's memory used/total, temperature and live allocations.\n"
    "\n"
    "Exit codes: 0 done, 1 failed, 2 bad usage, 128+N stopped by signal N.\n";

int Set(SimGpu& sim, const std::vector<std::string>& args) {
  std::map<std::string, std::string> values;
  Status status = ParseFlags(args, {"device", "temperature"}, &values);
  long device = 0;
  long temperature = 0;
  if (status.ok()) status = ParseWhole("device", values["device"], false, &device);
  if (status.ok()) status = ParseWhole("temperature", values["temperature"], true, &temperature);
  if (status.ok() && static_cast<size_t>(device) >= sim.devices().size()) {
    status = Status::Error("--device " + values["device"] + ": the simulated GPU has " +
                           std::to_string(sim.devices().size()) + " device(s)");
  }
  if (!status.ok()) return Fail(status.message(), kExitUsage);
  status = sim.SetTemperature(static_cast<int>(device), static_cast<int>(temperature));
  return status.ok() ? 0 : Fail(status.message(), kExitFailed);
}

int ShowState(const SimGpu& sim, const std::vector<std::string>& args) {
  std::map<std::string, std::string> values;
  Status status = ParseFlags(args, {}, &values);
  if (!status.ok()) return Fail(status.message(), kExitUsage);
  std::vector<GpuDevice> devices;
  status = sim.Read(&devices);
  if (!status.ok()) return Fail(status.message(), kExitFailed);
  for (const GpuDevice& d : devices) {
    std::printf("gpu%d %s: %llu / %llu MiB used, %d C, %zu allocation(s)\n", d.index,
                d.name.c_str(), static_cast<unsigned long long>(d.memory_used >> 20),
                static_cast<unsigned long long>(d.memory_total >> 20), d.temperature_c.value_or(0),
                d.processes.size());
    for (const GpuProcess& p : d.processes) {
      std::printf("  pid %d: %llu MiB\n", static_cast<int>(p.pid),
                  static_cast<unsigned long long>(p.used_bytes >> 20));
    }
  }
  return 0;
}

// Takes "--gpu-sim FILE" / "--gpu-sim=FILE" out of `args`, wherever it is.
Status TakeSpecOption(std::vector<std::string>* args, std::string* spec) {
  for (size_t i = 0; i < args->size(); ++i) {
    const std::string& arg = (*args)[i];
    if (arg.rfind("--gpu-sim=", 0) == 0) {
      *spec = arg.substr(10);
      args->erase(args->begin() + static_cast<std::ptrdiff_t>(i));
      return Status::Ok();
    }
    if (arg == "--gpu-sim") {
      if (i + 1 >= args->size()) return Status::Error("--gpu-sim needs a FILE");
      *spec = (*args)[i + 1];
      args->erase(args->begin() + static_cast<std::ptrdiff_t>(i),
                  args->begin() + static_cast<std::ptrdiff_t>(i + 2));
      return Status::Ok();
    }
  }
  return Status::Ok();
}

bool WantsHelp(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (WantsHelp(args)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const char* env = std::getenv("HEADROOM_GPU_SIM");
  std::string spec = env != nullptr ? env : "";
  Status status = TakeSpecOption(&args, &spec);
  if (!status.ok()) return Fail(status.message(), kExitUsage);
  if (args.empty()) {
    return Fail("no command: expected alloc, set or status (see --help)", kExitUsage);
  }
  std::string command = args[0];
  args.erase(args.begin());
  if (command != "alloc" && command != "set" && command != "status") {
    return Fail("unknown command '" + command + "': expected alloc, set or status", kExitUsage);
  }
  if (spec.empty()) return Fail("no spec: set HEADROOM_GPU_SIM or give --gpu-sim FILE", kExitUsage);
  std::unique_ptr<SimGpu> sim;
  status = SimGpu::Open(spec, &sim);
  if (!status.ok()) return Fail(status.message(), kExitUsage);
  if (command == "alloc") return Alloc(*sim, args);
  if (command == "set") return Set(*sim, args);
  return ShowState(*sim, args);
}

}  // namespace
}  // namespace headroom::simgpu

int main(int argc, char** argv) { return headroom::simgpu::Main(argc, argv); }

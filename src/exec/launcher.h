// Launcher: where the ProcessRunner's prepared processes run. The local one
// spawns them as children through the ProcessSet; the Slurm one
// (exec/slurm_launcher.h) submits each as a Slurm job that runs it on a
// compute node. Everything else a unit needs (placeholders, temp outputs,
// list files, environment, logs, results, commit) is the ProcessRunner's,
// the same code for both.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exec/process_set.h"
#include "util/status.h"
#include "util/units.h"

namespace headroom {

// What names a launched unit across runs of headroom, so that a resumed
// batch can take back what a killed headroom launched and that still runs
// elsewhere (the Slurm launcher keeps it with the job). The ProcessRunner
// makes it; launchers store it and give it back.
struct LaunchTag {
  std::string unit;                       // its jobs, lead first (ProcessRunner's UnitTag)
  std::vector<std::string> temp_outputs;  // where its jobs write their outputs
  std::string results;                    // its --batch-results file, or ""
};

// A launch that a killed headroom left and a resume took back
// (Launcher::Adopt): queued, running, or ended meanwhile with its result.
struct AdoptedLaunch {
  pid_t handle = 0;
  LaunchTag tag;
  std::vector<std::string> argv;
  std::string stdout_path, stderr_path;
  std::optional<uint64_t> memory;  // what it asked for
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts `spec`, asking for `memory` bytes where the launcher can (Slurm's
  // --mem; nullopt: its default); `*handle` names it in Signal and in the
  // exits Wait reports. `tag` goes with it where it outlives headroom.
  virtual Status Launch(const SpawnSpec& spec, std::optional<uint64_t> memory,
                        const LaunchTag& tag, pid_t* handle) = 0;
  // A resume after a kill: the units (LaunchTag::unit) of the launches a
  // killed headroom left that can be taken back.
  virtual std::vector<std::string> Leftovers() const { return {}; }
  // Takes back the leftover launch of `unit` instead of launching it again;
  // false when there is none.
  virtual bool Adopt(const std::string& /*unit*/, AdoptedLaunch* /*out*/) { return false; }
  // Cancels the leftovers that were not taken back; returns their tags
  // (what they had written is the caller's to remove).
  virtual std::vector<LaunchTag> DropLeftovers() { return {}; }
  // Sends `signal` to what runs it (the local process group; Slurm: scancel).
  virtual void Signal(pid_t handle, int signal) = 0;
  // As ProcessSet::Wait: exits of launched processes, or an interrupt
  // (SIGINT/SIGTERM/SIGHUP to headroom), or `timeout`.
  virtual void Wait(Millis timeout, std::vector<ProcessExit>* exits, int* interrupt) = 0;
  // Whether Where says anything (the local launcher does not: its runner
  // then never asks).
  virtual bool Places() const { return false; }
  // Where a launched, not yet ended process runs now, and how it stands
  // ("slurm 42_3 PENDING (Priority)"); "" when there is nothing to say.
  virtual std::string Where(pid_t /*handle*/) const { return ""; }
};

// Children of this machine, through `processes` (which must outlive it).
class LocalLauncher : public Launcher {
 public:
  explicit LocalLauncher(ProcessSet* processes) : processes_(processes) {}
  Status Launch(const SpawnSpec& spec, std::optional<uint64_t> /*memory*/,
                const LaunchTag& /*tag*/, pid_t* handle) override {
    return processes_->Spawn(spec, handle);
  }
  void Signal(pid_t handle, int signal) override { processes_->SignalGroup(handle, signal); }
  void Wait(Millis timeout, std::vector<ProcessExit>* exits, int* interrupt) override {
    processes_->Wait(timeout, exits, interrupt);
  }

 private:
  ProcessSet* processes_;
};

}  // namespace headroom

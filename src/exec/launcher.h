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

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts `spec`, asking for `memory` bytes where the launcher can (Slurm's
  // --mem; nullopt: its default); `*handle` names it in Signal and in the
  // exits Wait reports.
  virtual Status Launch(const SpawnSpec& spec, std::optional<uint64_t> memory,
                        pid_t* handle) = 0;
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
                pid_t* handle) override {
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

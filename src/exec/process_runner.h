// ProcessRunner: the real JobRunner. Expands a unit's command (one job, or
// with --batch-size several jobs' inputs for one process: the lead job's
// template, jobs/placeholder.h), writes the unit's input/output list files
// ({@} {@out}) beside its logs, builds its environment (--env, the lead job's
// own env, thread-limit variables, HEADROOM_* variables, the template's
// resolved program), names its log files and spawns it through a ProcessSet.
// With --batch-results it clears the unit's results file before the spawn
// and reads it (then deletes it) after the exit. It decides nothing. Where
// the process runs is its Launcher's business: a child here, or a Slurm job.

#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "exec/environment.h"
#include "exec/job_runner.h"
#include "exec/launcher.h"
#include "exec/log_dir.h"
#include "exec/process_set.h"

namespace headroom {

struct ProcessRunnerConfig {
  bool shell = false;                  // --shell
  int threads_per_job = 0;             // 0 = leave thread variables alone
  std::vector<EnvVar> env;             // --env
  std::vector<std::string> base_env;   // headroom's environment, "K=V"
  // argv[0] of a template -> resolved executable path (filled by main after
  // ResolveExecutable); a program missing here is resolved at start time.
  std::map<std::string, std::string> resolved;
  std::string path_env;                // $PATH, for programs not pre-resolved
  // --batch-results: the per-unit results file template ({#} {%} {gpu}
  // expand; relative to the current directory); empty = none.
  std::string batch_results;
  // How a job is told its GPU (CUDA_VISIBLE_DEVICES by index by default).
  GpuVisibility gpu;
};

// What `list` and --dry-run print for one unit: the command Start runs for
// it on `slot`, shell-quoted and pasteable, with {out} as each job's final
// output (the temp name is an implementation detail) and {@} {@out}
// {results} as they are (their files exist only while the batch runs).
std::string ListedCommand(const Unit& unit, int slot, const ProcessRunnerConfig& config);

// What names a unit across runs (LaunchTag::unit): its jobs' numbers, lead
// first, then each one's input on a line of its own ("17,18\na.mp4\nb.mp4").
std::string UnitTag(const Unit& unit);
// The job numbers a UnitTag names, lead first.
std::vector<int64_t> UnitTagJobs(const std::string& tag);

class ProcessRunner : public JobRunner {
 public:
  // `log_dir` and `processes` must outlive the runner; its processes are
  // children of this machine.
  ProcessRunner(const ProcessRunnerConfig& config, const LogDir& log_dir,
                ProcessSet* processes);
  // The same, launched by `launcher` (which must outlive the runner).
  ProcessRunner(const ProcessRunnerConfig& config, const LogDir& log_dir,
                std::unique_ptr<Launcher> launcher);
  ~ProcessRunner() override;
  ProcessRunner(const ProcessRunner&) = delete;
  ProcessRunner& operator=(const ProcessRunner&) = delete;

  Status Start(const Unit& unit, const Launch& launch, StartedJob* started) override;
  void Signal(RunHandle handle, int signal) override;
  WaitResult Wait(Millis timeout) override;
  Status Complete(const Job& job, bool succeeded) override;
  std::vector<std::vector<int64_t>> Leftovers() const override;
  void DropLeftovers() override;

  // The list files of one attempt of a unit; empty paths when not used.
  struct ListFiles {
    std::string inputs;   // {@}: <stdout log without .out>.inputs
    std::string outputs;  // {@out}: <stdout log without .out>.outputs
    std::string results;  // {results}, HEADROOM_BATCH_RESULTS
  };

 private:
  // see process_runner.cc
  // What Wait needs of each running unit: its logs (the tail of a failure,
  // warnings about its results, empty logs of a success removed) and, with
  // --batch-results, its results file and inputs.
  struct Running {
    std::string stdout_log;
    std::string stderr_log;
    std::string results_path;         // empty = no --batch-results
    std::vector<std::string> inputs;  // the unit's inputs, when results_path is set
  };

  Status ProgramPath(const Job& job, const Launch& launch, const std::string& arg0,
                     std::string* path) const;
  Status PrepareFiles(const Unit& unit, const Launch& launch, const std::string& stdout_log,
                      ListFiles* files) const;
  std::vector<std::string> UnitEnvironment(const Unit& unit, const Launch& launch,
                                           const ListFiles& files) const;
  static void ReadResults(const Running& running, ExitInfo* info);
  void RemoveIfEmpty(const std::string& path);

  ProcessRunnerConfig config_;
  const LogDir& log_dir_;
  std::unique_ptr<Launcher> launcher_;
  std::string log_dir_path_;  // the directory RemoveIfEmpty has open
  int log_dir_fd_ = -1;
  // Built once: base_env, the thread-limit variables the user did not set,
  // then --env. Each unit adds its number, slot, size and own env to a copy.
  std::vector<std::string> env_;
  std::unordered_map<pid_t, Running> running_;
  std::unordered_map<pid_t, std::string> where_;  // as last reported (Launcher::Places)
  // Jobs of units taken back from a killed headroom: the temp output their
  // process writes (named by that headroom), by Job::number.
  std::unordered_map<int64_t, std::string> adopted_outputs_;
};

}  // namespace headroom

// ProcessRunner: the real JobRunner. Expands a job's command, builds its
// environment (--env, the job's own env, thread-limit variables, the
// template's resolved program), names its log files and spawns it through a
// ProcessSet. It decides nothing.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/options.h"
#include "exec/process_set.h"
#include "report/log_dir.h"
#include "sched/job_runner.h"

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
};

class ProcessRunner : public JobRunner {
 public:
  // `log_dir` and `processes` must outlive the runner.
  ProcessRunner(const ProcessRunnerConfig& config, const LogDir& log_dir,
                ProcessSet* processes);

  Status Start(const Job& job, const Launch& launch, StartedJob* started) override;
  void Signal(RunHandle handle, int signal) override;
  WaitResult Wait(Millis timeout) override;
  Status Complete(const Job& job, bool succeeded) override;

 private:
  // see process_runner.cc
  ProcessRunnerConfig config_;
  const LogDir& log_dir_;
  ProcessSet* processes_;
  Status ProgramPath(const Job& job, const std::string& arg0, std::string* path) const;
  std::vector<std::string> JobEnvironment(const Job& job, const Launch& launch) const;

  // Built once: base_env, the thread-limit variables the user did not set,
  // then --env. Each job adds its number, slot and own env to a copy.
  std::vector<std::string> env_;
  // Each running job's stderr log, to read its tail when it fails.
  std::unordered_map<pid_t, std::string> stderr_logs_;
};

}  // namespace headroom

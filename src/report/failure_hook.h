// FailureHook: --on-failure CMD. Runs CMD once for each job that failed for
// good (no retry left; failed, timed out or could not start; an interrupted
// job is not a failure), with the HEADROOM_JOB_* variables below added to
// headroom's environment. A notifier must not hold up the batch: each hook
// runs detached, in its own process group, at most `max_running` at once
// (the rest wait in order), stdin from /dev/null, stdout and stderr appended
// to <job log>.on-failure.log beside the job's .err log. A hook that fails
// is a warning (through `notify`), never the batch's failure.
//
// Hooks are children of the batch's ProcessSet under an owner of their own,
// so their exits come back here, never to the scheduler.
//
// Thread rules: one thread (the scheduler's) calls every method.
#pragma once

#include <sys/types.h>

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "exec/process_set.h"
#include "jobs/observer.h"
#include "util/status.h"
#include "util/units.h"

namespace headroom {

struct FailureHookConfig {
  std::vector<std::string> argv;  // argv[0] included (see HookCommand)
  std::string path;               // the executable argv[0] resolved to
  std::vector<std::string> env;   // headroom's environment, "K=V"
  int max_running = 4;            // > 0
};

// --on-failure's CMD as an argv: with `shell`, {"/bin/sh", "-c", CMD};
// otherwise CMD split into words at blanks, where '...' keeps its text as
// it is, "..." too except \" and \\, and a backslash outside quotes keeps
// the next character (the quoting ShellQuote writes). No expansion, pipes or
// redirections: those need --shell. Error names CMD: an empty command or a
// quote left open.
Status HookCommand(const std::string& command, bool shell, std::vector<std::string>* argv);

// A hook's config for `option` CMD (--on-failure, --on-finish): its argv
// (HookCommand), its program found on `path_env` before anything runs (a
// typo costs nothing), `env` as its environment. Errors name `option`.
Status MakeHookConfig(const std::string& option, const std::string& command, bool shell,
                      std::vector<std::string> env, const std::string& path_env,
                      FailureHookConfig* config);

// The hook's config for --on-failure CMD: its argv (HookCommand), its
// program found on `path_env` before anything runs (a typo costs nothing),
// `env` as its environment. Errors name --on-failure.
Status MakeFailureHookConfig(const std::string& command, bool shell, std::vector<std::string> env,
                             const std::string& path_env, FailureHookConfig* config);

// `base` with these set (replacing entries of the same name):
//   HEADROOM_JOB_NAME, HEADROOM_JOB_INPUT, HEADROOM_JOB_NUMBER
//   HEADROOM_JOB_OUTCOME    FAILED, TIMEOUT or "NOT STARTED" (OutcomeLabel)
//   HEADROOM_JOB_EXIT       the exit code; the signal name (SIGKILL) when a
//                           signal ended it; empty when it never ran
//   HEADROOM_JOB_ATTEMPTS   attempts made, the last included
//   HEADROOM_JOB_LOG        its last attempt's stderr log (may be empty)
//   HEADROOM_JOB_STDOUT_LOG its last attempt's stdout log (may be empty)
std::vector<std::string> HookEnvironment(const std::vector<std::string>& base, const Job& job,
                                         const AttemptEnd& end);

// `base` without the names `variables` set ("NAME=value"), then `variables`.
std::vector<std::string> WithVariables(const std::vector<std::string>& base,
                                       const std::vector<std::string>& variables);

// A hook's exit as a job's, for DescribeExit.
ExitInfo ExitOf(const ProcessExit& process);

// Where a hook's output goes for a job whose stderr log is `stderr_log`:
// "jobs_X/4_a.mp4.err" -> "jobs_X/4_a.mp4.on-failure.log"; "" (no log) ->
// "/dev/null".
std::string HookLogPath(const std::string& stderr_log);

class FailureHook : public Observer {
 public:
  using Notify = std::function<void(LogLevel, const std::string&)>;

  // `processes` must outlive the hook.
  FailureHook(FailureHookConfig config, ProcessSet* processes, Notify notify);
  ~FailureHook() override;  // kills and reaps the hooks still running
  FailureHook(const FailureHook&) = delete;
  FailureHook& operator=(const FailureHook&) = delete;

  // Queues the hook of a job that failed for good, and starts what may start.
  void OnJobEnd(const Job& job, const AttemptEnd& end, const Counts& counts) override;
  // Reaps finished hooks (warning about failed ones) and starts queued ones.
  void OnTick(const Counts& counts, TimePoint now, const std::string& waiting) override;

  // After the batch: waits up to `timeout` for the queued and running hooks,
  // then kills what still runs and drops what never started, with a
  // warning. Call it before ProcessSet::KillAll, which would kill hooks
  // without a word.
  void Finish(Millis timeout);

  size_t running() const { return running_.size(); }
  size_t queued() const { return queue_.size(); }

 private:
  struct Pending {
    std::string name;                    // the job's, for warnings
    std::vector<std::string> variables;  // HEADROOM_JOB_*, "NAME=value"
    std::string log;
  };
  struct Running {
    pid_t pid = 0;
    std::string name;
    std::string log;
  };

  void StartQueued();
  void Reap();
  void Kill(bool warn);  // SIGKILLs and reaps every running hook
  void Warn(const std::string& name, const std::string& what);

  FailureHookConfig config_;
  ProcessSet* processes_;
  ProcessOwner owner_;
  Notify notify_;
  std::deque<Pending> queue_;
  std::vector<Running> running_;
};

}  // namespace headroom

#include "report/failure_hook.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <thread>
#include <utility>

#include "exec/executable.h"
#include "report/exit_text.h"

namespace headroom {
namespace {

constexpr std::string_view kErrSuffix = ".err";
constexpr std::chrono::milliseconds kFinishPoll{10};
// How long a killed hook may take to be reaped.
constexpr std::chrono::milliseconds kKillBound{2000};

bool FailedForGood(const AttemptEnd& end) {
  return !end.will_retry && (end.outcome == Outcome::kFailed || end.outcome == Outcome::kTimedOut ||
                             end.outcome == Outcome::kStartFailed);
}

// The HEADROOM_JOB_* entries, "NAME=value" (see HookEnvironment).
std::vector<std::string> JobVariables(const Job& job, const AttemptEnd& end) {
  std::string exit;
  if (end.exit.signal != 0) {
    exit = SignalName(end.exit.signal);
  } else if (end.outcome != Outcome::kStartFailed) {
    exit = std::to_string(end.exit.exit_code);
  }
  return {"HEADROOM_JOB_NAME=" + job.name,
          "HEADROOM_JOB_INPUT=" + job.input,
          "HEADROOM_JOB_NUMBER=" + std::to_string(job.number),
          "HEADROOM_JOB_OUTCOME=" + std::string(OutcomeLabel(end.outcome)),
          "HEADROOM_JOB_EXIT=" + exit,
          "HEADROOM_JOB_ATTEMPTS=" + std::to_string(end.attempt),
          "HEADROOM_JOB_LOG=" + end.stderr_log,
          "HEADROOM_JOB_STDOUT_LOG=" + end.stdout_log};
}


}  // namespace

std::vector<std::string> WithVariables(const std::vector<std::string>& base,
                                       const std::vector<std::string>& variables) {
  auto name = [](const std::string& entry) {
    return std::string_view(entry).substr(0, entry.find('=') + 1);
  };
  std::vector<std::string> env;
  for (const std::string& entry : base) {
    bool replaced = std::any_of(variables.begin(), variables.end(),
                                [&](const std::string& v) { return name(v) == name(entry); });
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), variables.begin(), variables.end());
  return env;
}

ExitInfo ExitOf(const ProcessExit& process) {
  ExitInfo exit;
  exit.exit_code = process.exit_code;
  exit.signal = process.signal;
  return exit;
}

Status HookCommand(const std::string& command, bool shell, std::vector<std::string>* argv) {
  auto error = [&](const char* why) {
    return Status::Error(fmt::format("'{}': {}", command, why));
  };
  if (command.find_first_not_of(" \t\n") == std::string::npos) return error("an empty command");
  if (shell) {
    *argv = {"/bin/sh", "-c", command};
    return Status::Ok();
  }
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;  // the open quote, or 0
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        word += c;
      }
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < command.size() &&
                 (command[i + 1] == '"' || command[i + 1] == '\\')) {
        word += command[++i];
      } else {
        word += c;
      }
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      in_word = true;
      if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '\\') {
        if (i + 1 == command.size()) return error("a backslash ends it");
        word += command[++i];
      } else {
        word += c;
      }
    }
  }
  if (quote != 0) return error("a quote is left open");
  if (in_word) words.push_back(std::move(word));
  *argv = std::move(words);
  return Status::Ok();
}

Status MakeHookConfig(const std::string& option, const std::string& command, bool shell,
                      std::vector<std::string> env, const std::string& path_env,
                      FailureHookConfig* config) {
  Status status = HookCommand(command, shell, &config->argv);
  if (status.ok()) status = ResolveExecutable(config->argv.front(), path_env, &config->path);
  config->env = std::move(env);
  return status.WithContext(option);
}

Status MakeFailureHookConfig(const std::string& command, bool shell, std::vector<std::string> env,
                             const std::string& path_env, FailureHookConfig* config) {
  return MakeHookConfig("--on-failure", command, shell, std::move(env), path_env, config);
}

std::vector<std::string> HookEnvironment(const std::vector<std::string>& base, const Job& job,
                                         const AttemptEnd& end) {
  return WithVariables(base, JobVariables(job, end));
}

std::string HookLogPath(const std::string& stderr_log) {
  if (stderr_log.empty()) return "/dev/null";
  std::string_view base = stderr_log;
  if (base.ends_with(kErrSuffix)) base.remove_suffix(kErrSuffix.size());
  return std::string(base) + ".on-failure.log";
}

FailureHook::FailureHook(FailureHookConfig config, ProcessSet* processes, Notify notify)
    : config_(std::move(config)),
      processes_(processes),
      owner_(processes->NewOwner()),
      notify_(std::move(notify)) {}

// Silent: whoever would hear a warning may be gone already.
FailureHook::~FailureHook() {
  Kill(false);
  queue_.clear();
}

void FailureHook::OnJobEnd(const Job& job, const AttemptEnd& end, const Counts&) {
  if (!FailedForGood(end)) return;
  queue_.push_back({job.name, JobVariables(job, end), HookLogPath(end.stderr_log)});
  StartQueued();
}

void FailureHook::OnTick(const Counts&, TimePoint, const std::string&) {
  Reap();
  StartQueued();
}

void FailureHook::StartQueued() {
  while (!queue_.empty() && running_.size() < static_cast<size_t>(config_.max_running)) {
    Pending next = std::move(queue_.front());
    queue_.pop_front();
    SpawnSpec spec;
    spec.path = config_.path;
    spec.argv = config_.argv;
    spec.env = WithVariables(config_.env, next.variables);
    spec.stdout_path = next.log;
    spec.stderr_path = next.log;
    spec.append = true;
    spec.close_other_fds = true;
    pid_t pid = 0;
    Status status = processes_->Spawn(spec, &pid, owner_);
    if (!status.ok()) {
      Warn(next.name, status.message());
      continue;
    }
    running_.push_back({pid, std::move(next.name), std::move(next.log)});
  }
}

void FailureHook::Reap() {
  std::vector<ProcessExit> exits;
  processes_->TakeExits(owner_, &exits);
  for (const ProcessExit& process : exits) {
    auto it = std::find_if(running_.begin(), running_.end(),
                           [&](const Running& hook) { return hook.pid == process.pid; });
    if (it == running_.end()) continue;
    ExitInfo exit = ExitOf(process);
    if (exit.signal != 0 || exit.exit_code != 0) {
      Warn(it->name, fmt::format("{} (output: {})", DescribeExit(exit), it->log));
    }
    running_.erase(it);
  }
}

void FailureHook::Finish(Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    Reap();
    StartQueued();
    if (running_.empty() && queue_.empty()) return;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kFinishPoll);
  }
  Kill(true);
  if (!queue_.empty() && notify_) {
    notify_(LogLevel::kWarn, fmt::format("--on-failure: {} hook(s) not run: the batch ended "
                                         "while they waited",
                                         queue_.size()));
  }
  queue_.clear();
}

void FailureHook::Kill(bool warn) {
  for (const Running& hook : running_) {
    processes_->SignalGroup(hook.pid, SIGKILL);
    ProcessExit ignored;
    processes_->WaitFor(owner_, hook.pid, std::chrono::steady_clock::now() + kKillBound, &ignored);
    if (warn) Warn(hook.name, "still running after the batch ended: killed");
  }
  running_.clear();
}

void FailureHook::Warn(const std::string& name, const std::string& what) {
  if (notify_) notify_(LogLevel::kWarn, fmt::format("--on-failure for {}: {}", name, what));
}

}  // namespace headroom

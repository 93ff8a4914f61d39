// Harness for end-to-end tests: runs the real headroom binary (HEADROOM_BIN)
// with chosen arguments, stdin, environment and working directory, and
// captures what it printed and how it ended; plus temp directories and small
// file helpers. Single-threaded: a Process pumps its pipes only while one of
// its methods runs.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/test_temp_dir.h"

namespace headroom::e2e {

struct RunOptions {
  // Text fed on stdin (then EOF); nullopt = stdin from /dev/null.
  std::optional<std::string> stdin_text;
  // "K=V" added to (or replacing in) the environment. The base environment is
  // the test's own minus every HEADROOM_* variable and the thread-limit
  // variables (OMP_NUM_THREADS, ...), so that the caller's shell cannot leak in.
  std::vector<std::string> env;
  std::string cwd;         // empty = the test's cwd
  double timeout_s = 15;   // then SIGKILL and timed_out = true
  bool pty = false;        // stdout and stderr on one pseudo-terminal, read into `out`
  bool stdin_tty = false;  // stdin on a pseudo-terminal nobody types into
};

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  double seconds = 0;  // wall time from spawn to exit
  std::string out;     // stdout (from the pty when RunOptions::pty)
  std::string err;     // stderr

  std::vector<std::string> OutLines() const;
  std::vector<std::string> ErrLines() const;
};

// A started headroom process. Destroying a Process that is still running
// SIGKILLs its process group and reaps it.
class Process {
 public:
  // `argv[0]` is the program's path.
  Process(std::vector<std::string> argv, const RunOptions& options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  // Reads pending output and checks `condition` every ~10 ms until it holds
  // (true) or `timeout_s` passed or the process exited (false).
  bool PumpUntil(const std::function<bool()>& condition, double timeout_s);
  // Reads output for `seconds`.
  void PumpFor(double seconds);

  void Signal(int sig);
  // True while the process has not exited (pumps output meanwhile).
  bool Running();

  // Waits for the exit (SIGKILL after `timeout_s`) and drains the output.
  RunResult Wait(double timeout_s);

  // Output read so far.
  const std::string& out() const { return result_.out; }
  const std::string& err() const { return result_.err; }

 private:
  void Pump(int timeout_ms);
  bool Reap(bool block);
  void CloseFds();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int in_fd_ = -1;
  int pty_slave_ = -1;
  int stdin_pty_ = -1;  // master of the stdin terminal, held open until exit
  std::string stdin_text_;
  size_t stdin_written_ = 0;
  bool exited_ = false;
  double start_ = 0;
  RunResult result_;
};

// Runs headroom with `args` (without the program name) to the end.
RunResult Run(const std::vector<std::string>& args, const RunOptions& options = {});
// Runs any program; `argv[0]` is its path.
RunResult RunProgram(const std::vector<std::string>& argv, const RunOptions& options = {});
// HEADROOM_BIN followed by `args`.
std::vector<std::string> HeadroomArgv(const std::vector<std::string>& args);

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
// destruction: the unit tests' one (util/test_temp_dir.h).
using TempDir = test::TempDir;

// Seconds on a monotonic clock.
double Now();
// Seconds since the epoch, as `date +%s.%N` prints them.
double WallNow();

void WriteFile(const std::string& path, const std::string& content);
// Writes "#!/bin/sh\n" + body and makes it executable.
void WriteScript(const std::string& path, const std::string& body);
// Whole file; "" when it cannot be read (see FileExists).
std::string ReadFile(const std::string& path);
bool FileExists(const std::string& path);
void MakeDirs(const std::string& path);
void RemoveAll(const std::string& path);
// Entry names directly in `dir` (not . and ..), sorted; empty when missing.
std::vector<std::string> ListDir(const std::string& dir);
// Every file below `dir`, as paths relative to it, sorted.
std::vector<std::string> ListTree(const std::string& dir);
// Sets a file's atime and mtime to `unix_seconds`.
void SetMtime(const std::string& path, double unix_seconds);

// Splits on '\n' (a trailing empty piece dropped) or on '\0'.
std::vector<std::string> SplitLines(const std::string& text);
std::vector<std::string> SplitNul(const std::string& text);
// Lines of `text` that contain `needle`.
std::vector<std::string> Grep(const std::string& text, const std::string& needle);
int CountOccurrences(const std::string& text, const std::string& needle);
bool StartsWith(const std::string& text, const std::string& prefix);
bool Contains(const std::string& text, const std::string& needle);

// True when `pid` exists and is not a zombie.
bool PidAlive(pid_t pid);
// Waits up to `timeout_s` for `pid` to be gone (or a zombie).
bool WaitPidGone(pid_t pid, double timeout_s);
// Reads a pid written by a job ("123\n"); 0 when missing or empty.
pid_t ReadPid(const std::string& path);
// Waits until `path` exists (and is non-empty), polling every 5 ms.
bool WaitForFile(const std::string& path, double timeout_s);

// File names that break naive quoting: spaces, quotes, $( ), backticks, ;, *,
// a leading '-', a tab, non-ASCII and invalid UTF-8 bytes. None contains '/'
// or '\n', and none starts with '.'.
std::vector<std::string> HostileNames();

// Base fixture: a temp dir used as cwd, logs in <dir>/logs, and helpers to
// run headroom there. Run() puts "--log-dir <dir>/logs" right after the
// subcommand (run/list) unless the args already name a log dir.
class E2eTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& relative) const { return dir_ / relative; }
  std::string LogDir() const { return dir_ / "logs"; }

  RunOptions Opts() const;
  RunResult Hr(std::vector<std::string> args, RunOptions options);
  RunResult Hr(std::vector<std::string> args) { return Hr(std::move(args), Opts()); }
  std::unique_ptr<Process> Start(std::vector<std::string> args, RunOptions options);
  std::unique_ptr<Process> Start(std::vector<std::string> args) {
    return Start(std::move(args), Opts());
  }
  std::vector<std::string> WithLogDir(std::vector<std::string> args) const;

  // Writes a script at <dir>/<name> and returns its path.
  std::string Script(const std::string& name, const std::string& body) const;
  // A script that appends its arguments to <dir>/<record>, each followed by
  // '\0', then "\x1e\0" to end the invocation (any bytes but that one
  // separator survive, newlines included).
  std::string RecorderScript(const std::string& name = "rec.sh",
                             const std::string& record = "record") const;
  // Invocations recorded by RecorderScript: one vector of arguments each.
  std::vector<std::vector<std::string>> Recorded(const std::string& record = "record") const;

  // The single jobs_* directory under LogDir(); "" (and a test failure) if
  // there is not exactly one.
  std::string JobsLogDir() const;
  // Files under LogDir() whose name starts with `prefix`.
  std::vector<std::string> LogFiles(const std::string& prefix) const;

  TempDir dir_;
};

}  // namespace headroom::e2e

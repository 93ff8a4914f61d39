#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace headroom::e2e {
namespace {

bool IsScrubbed(const std::string& entry) {
  static const char* const kThreadVars[] = {
      "OMP_NUM_THREADS=", "OPENBLAS_NUM_THREADS=", "MKL_NUM_THREADS=", "NUMEXPR_NUM_THREADS=",
      "VECLIB_MAXIMUM_THREADS="};
  if (StartsWith(entry, "HEADROOM_")) return true;
  for (const char* var : kThreadVars) {
    if (StartsWith(entry, var)) return true;
  }
  return false;
}

std::vector<std::string> MakeEnv(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    if (!IsScrubbed(entry)) env.push_back(entry);
  }
  for (const std::string& add : extra) {
    std::string key = add.substr(0, add.find('=') + 1);
    std::erase_if(env, [&](const std::string& e) { return StartsWith(e, key); });
    env.push_back(add);
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Opens a pseudo-terminal pair; the slave is left without output processing
// so that "\n" stays "\n". Returns false (test failure added) on error.
bool OpenPty(int* master, int* slave, std::string* slave_name) {
  *master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*master < 0 || grantpt(*master) != 0 || unlockpt(*master) != 0) {
    ADD_FAILURE() << "posix_openpt: " << std::strerror(errno);
    return false;
  }
  const char* name = ptsname(*master);
  if (name == nullptr) {
    ADD_FAILURE() << "ptsname: " << std::strerror(errno);
    return false;
  }
  *slave_name = name;
  *slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*slave < 0) {
    ADD_FAILURE() << "open " << name << ": " << std::strerror(errno);
    return false;
  }
  termios tio{};
  if (tcgetattr(*slave, &tio) == 0) {
    tio.c_oflag &= ~static_cast<tcflag_t>(OPOST);
    tcsetattr(*slave, TCSANOW, &tio);
  }
  winsize ws{};
  ws.ws_row = 40;
  ws.ws_col = 120;
  ioctl(*slave, TIOCSWINSZ, &ws);
  return true;
}

}  // namespace

std::vector<std::string> RunResult::OutLines() const { return SplitLines(out); }
std::vector<std::string> RunResult::ErrLines() const { return SplitLines(err); }

Process::Process(std::vector<std::string> argv, const RunOptions& options) {
  std::signal(SIGPIPE, SIG_IGN);  // a child closing its stdin must not kill the test
  std::vector<std::string> env = MakeEnv(options.env);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);

  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int in_pipe[2] = {-1, -1};
  int pty_slave = -1;
  std::string slave_name;
  bool ok = pipe2(err_pipe, O_CLOEXEC) == 0;
  if (options.pty) {
    // As a terminal: stdout and stderr on the same one.
    ok = ok && OpenPty(&out_pipe[0], &pty_slave, &slave_name);
    if (ok) posix_spawn_file_actions_adddup2(&actions, pty_slave, 1);
    if (ok) posix_spawn_file_actions_adddup2(&actions, pty_slave, 2);
  } else {
    ok = ok && pipe2(out_pipe, O_CLOEXEC) == 0;
    if (ok) posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    if (ok) posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  }
  int stdin_slave = -1;
  if (options.stdin_tty) {
    std::string name;
    ok = ok && OpenPty(&stdin_pty_, &stdin_slave, &name);
    if (ok) posix_spawn_file_actions_adddup2(&actions, stdin_slave, 0);
  } else if (options.stdin_text) {
    ok = ok && pipe2(in_pipe, O_CLOEXEC) == 0;
    if (ok) posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    stdin_text_ = *options.stdin_text;
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
  }
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&attr, &mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);
  // Its own group, so that the test can kill everything it leaves behind.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  start_ = Now();
  if (ok) {
    std::vector<char*> c_argv = CStrings(argv);
    std::vector<char*> c_env = CStrings(env);
    int rc = posix_spawn(&pid_, c_argv[0], &actions, &attr, c_argv.data(), c_env.data());
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
      pid_ = -1;
    }
  } else {
    ADD_FAILURE() << "cannot set up pipes: " << std::strerror(errno);
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);

  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  in_fd_ = in_pipe[1];
  if (out_pipe[1] >= 0) close(out_pipe[1]);
  if (err_pipe[1] >= 0) close(err_pipe[1]);
  if (in_pipe[0] >= 0) close(in_pipe[0]);
  if (stdin_slave >= 0) close(stdin_slave);
  // The pty slave stays open here until the child exits: a master whose slave
  // was never opened reads as hung up, and the child may not have opened it yet.
  pty_slave_ = pty_slave;
  if (in_fd_ >= 0) fcntl(in_fd_, F_SETFL, O_NONBLOCK);
  if (in_fd_ >= 0 && stdin_text_.empty()) {
    close(in_fd_);
    in_fd_ = -1;
  }
  if (pid_ <= 0) {
    exited_ = true;
    CloseFds();
  }
}

Process::~Process() {
  if (!exited_ && pid_ > 0) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    Reap(true);
  }
  CloseFds();
}

void Process::CloseFds() {
  for (int* fd : {&out_fd_, &err_fd_, &in_fd_, &pty_slave_, &stdin_pty_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

void Process::Pump(int timeout_ms) {
  pollfd fds[3];
  int n = 0;
  if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
  if (in_fd_ >= 0) fds[n++] = {in_fd_, POLLOUT, 0};
  if (n == 0) {
    if (timeout_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return;
  }
  if (poll(fds, static_cast<nfds_t>(n), timeout_ms) <= 0) return;
  for (int i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    int fd = fds[i].fd;
    if (fd == in_fd_) {
      ssize_t w =
          write(fd, stdin_text_.data() + stdin_written_, stdin_text_.size() - stdin_written_);
      if (w > 0) stdin_written_ += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || stdin_written_ == stdin_text_.size()) {
        close(in_fd_);
        in_fd_ = -1;
      }
      continue;
    }
    char buf[65536];
    ssize_t r = read(fd, buf, sizeof buf);
    if (r > 0) {
      (fd == out_fd_ ? result_.out : result_.err).append(buf, static_cast<size_t>(r));
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
      // 0 = EOF on a pipe; EIO = every slave of the pty is closed.
      close(fd);
      (fd == out_fd_ ? out_fd_ : err_fd_) = -1;
    }
  }
}

bool Process::Reap(bool block) {
  if (exited_) return true;
  int status = 0;
  pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r != pid_) return false;
  exited_ = true;
  result_.seconds = Now() - start_;
  if (WIFEXITED(status)) {
    result_.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result_.signal = WTERMSIG(status);
  }
  if (pty_slave_ >= 0) {
    close(pty_slave_);
    pty_slave_ = -1;
  }
  return true;
}

bool Process::PumpUntil(const std::function<bool()>& condition, double timeout_s) {
  double deadline = Now() + timeout_s;
  while (true) {
    if (condition()) return true;
    if (Now() >= deadline) return false;
    if (Reap(false)) return condition();
    Pump(10);
  }
}

void Process::PumpFor(double seconds) {
  double deadline = Now() + seconds;
  while (Now() < deadline) {
    Reap(false);
    Pump(10);
  }
}

void Process::Signal(int sig) {
  if (!exited_ && pid_ > 0) kill(pid_, sig);
}

bool Process::Running() {
  Pump(0);
  return !Reap(false);
}

RunResult Process::Wait(double timeout_s) {
  double deadline = Now() + timeout_s;
  double exited_at = 0;
  while (true) {
    if (!exited_) {
      if (Reap(false)) exited_at = Now();
    } else if (exited_at == 0) {
      exited_at = Now();
    }
    if (exited_ && out_fd_ < 0 && err_fd_ < 0) break;
    // Something that outlived headroom still holds its stdout/stderr.
    if (exited_ && Now() - exited_at > 1.0) break;
    if (!exited_ && Now() >= deadline) {
      result_.timed_out = true;
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      Reap(true);
      exited_at = Now();
    }
    Pump(10);
  }
  CloseFds();
  return result_;
}

std::vector<std::string> HeadroomArgv(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {HEADROOM_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

RunResult RunProgram(const std::vector<std::string>& argv, const RunOptions& options) {
  Process process(argv, options);
  return process.Wait(options.timeout_s);
}

RunResult Run(const std::vector<std::string>& args, const RunOptions& options) {
  return RunProgram(HeadroomArgv(args), options);
}

// --- files -------------------------------------------------------------

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
  if (!f) ADD_FAILURE() << "cannot write " << path;
}

void WriteScript(const std::string& path, const std::string& body) {
  WriteFile(path, "#!/bin/sh\n" + body);
  if (chmod(path.c_str(), 0755) != 0) ADD_FAILURE() << "chmod " << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool FileExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

void MakeDirs(const std::string& path) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (!partial.empty()) mkdir(partial.c_str(), 0755);
  }
}

void RemoveAll(const std::string& path) { test::RemoveTree(path); }

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> ListTree(const std::string& dir) {
  std::vector<std::string> out;
  for (const std::string& name : ListDir(dir)) {
    struct stat st;
    std::string full = dir + "/" + name;
    if (lstat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      for (const std::string& sub : ListTree(full)) out.push_back(name + "/" + sub);
    } else {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void SetMtime(const std::string& path, double unix_seconds) {
  timespec times[2];
  times[0].tv_sec = static_cast<time_t>(unix_seconds);
  times[0].tv_nsec = 0;
  times[1] = times[0];
  if (utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    ADD_FAILURE() << "utimensat " << path << ": " << std::strerror(errno);
  }
}

// --- text --------------------------------------------------------------

namespace {
std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find(sep, begin);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}
}  // namespace

std::vector<std::string> SplitLines(const std::string& text) { return Split(text, '\n'); }
std::vector<std::string> SplitNul(const std::string& text) { return Split(text, '\0'); }

std::vector<std::string> Grep(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  for (const std::string& line : SplitLines(text)) {
    if (Contains(line, needle)) out.push_back(line);
  }
  return out;
}

int CountOccurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// --- processes ---------------------------------------------------------

bool PidAlive(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  return stat[paren + 2] != 'Z' && stat[paren + 2] != 'X';
}

bool WaitPidGone(pid_t pid, double timeout_s) {
  double deadline = Now() + timeout_s;
  while (PidAlive(pid)) {
    if (Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

pid_t ReadPid(const std::string& path) {
  std::string text = ReadFile(path);
  return static_cast<pid_t>(std::atol(text.c_str()));
}

bool WaitForFile(const std::string& path, double timeout_s) {
  double deadline = Now() + timeout_s;
  while (true) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && st.st_size > 0) return true;
    if (Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::vector<std::string> HostileNames() {
  return {"with space.mp4",      "quote'single.mp4",   "dq\"uote.mp4",
          "$(touch pwned).mp4",  "`touch pwned2`.mp4", "semi;colon.mp4",
          "star*.mp4",           "-leading-dash.mp4",  "non-ascii-\xc3\xa9\xff.mp4",
          "back\\slash.mp4",     "tab\there.mp4",      "a|b&c>d<e.mp4",
          "  two  spaces  .mp4", "--help.mp4"};
}

// --- fixture -----------------------------------------------------------

RunOptions E2eTest::Opts() const {
  RunOptions options;
  options.cwd = dir_.path();
  return options;
}

std::vector<std::string> E2eTest::WithLogDir(std::vector<std::string> args) const {
  if (args.empty() || (args[0] != "run" && args[0] != "list")) return args;
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (arg == "--log-dir" || StartsWith(arg, "--log-dir=")) return args;
  }
  args.insert(args.begin() + 1, {"--log-dir", LogDir()});
  return args;
}

RunResult E2eTest::Hr(std::vector<std::string> args, RunOptions options) {
  return e2e::Run(WithLogDir(std::move(args)), options);
}

std::unique_ptr<Process> E2eTest::Start(std::vector<std::string> args, RunOptions options) {
  return std::make_unique<Process>(HeadroomArgv(WithLogDir(std::move(args))), options);
}

std::string E2eTest::Script(const std::string& name, const std::string& body) const {
  std::string path = Path(name);
  WriteScript(path, body);
  return path;
}

std::string E2eTest::RecorderScript(const std::string& name, const std::string& record) const {
  // One printf builtin (one write, O_APPEND) per invocation, so that parallel
  // jobs do not interleave and a job costs no extra process. The record
  // separator byte is written raw into the script.
  return Script(name, "printf '%s\\000' \"$@\" '\036' >> \"" + Path(record) + "\"\n");
}

std::vector<std::vector<std::string>> E2eTest::Recorded(const std::string& record) const {
  std::vector<std::vector<std::string>> calls;
  std::vector<std::string> current;
  for (const std::string& token : SplitNul(ReadFile(Path(record)))) {
    if (token == "\036") {
      calls.push_back(current);
      current.clear();
    } else {
      current.push_back(token);
    }
  }
  return calls;
}

std::string E2eTest::JobsLogDir() const {
  std::vector<std::string> dirs;
  for (const std::string& name : ListDir(LogDir())) {
    if (StartsWith(name, "jobs_")) dirs.push_back(name);
  }
  if (dirs.size() != 1) {
    ADD_FAILURE() << "expected one jobs_* dir in " << LogDir() << ", found " << dirs.size();
    return "";
  }
  return LogDir() + "/" + dirs[0];
}

std::vector<std::string> E2eTest::LogFiles(const std::string& prefix) const {
  std::vector<std::string> out;
  for (const std::string& name : ListDir(LogDir())) {
    if (StartsWith(name, prefix)) out.push_back(LogDir() + "/" + name);
  }
  return out;
}

}  // namespace headroom::e2e

#include "exec/proc_children.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

namespace headroom {

namespace {

bool IsPidName(const char* name) {
  if (*name == '\0') return false;
  for (const char* c = name; *c != '\0'; ++c) {
    if (*c < '0' || *c > '9') return false;
  }
  return true;
}

// -1 when the process is gone or its stat cannot be read.
pid_t ReadParent(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return -1;
  return ParentFromStat(buf, static_cast<size_t>(n));
}

}  // namespace

pid_t ParentFromStat(const char* stat, size_t size) {
  // "pid (comm) state ppid ..."; comm ends at the last ')'.
  const char* end = stat + size;
  const char* close_paren = nullptr;
  for (const char* c = stat; c < end; ++c) {
    if (*c == ')') close_paren = c;
  }
  if (close_paren == nullptr || end - close_paren < 5) return -1;
  const char* state = close_paren + 2;
  const char* ppid = state + 2;
  if (ppid >= end || state[-1] != ' ' || ppid[-1] != ' ') return -1;
  std::string field(ppid, static_cast<size_t>(end - ppid));
  char* after = nullptr;
  long value = std::strtol(field.c_str(), &after, 10);
  bool field_ends = *after == '\0' || std::isspace(static_cast<unsigned char>(*after));
  if (after == field.c_str() || !field_ends) return -1;
  return static_cast<pid_t>(value);
}

std::vector<pid_t> ListChildren(pid_t parent) {
  std::vector<pid_t> children;
  for (pid_t pid : ListProcesses()) {
    if (ReadParent(pid) == parent) children.push_back(pid);
  }
  return children;
}

std::vector<pid_t> ListProcesses(const std::string& proc) {
  std::vector<pid_t> pids;
  DIR* dir = opendir(proc.c_str());
  if (dir == nullptr) return pids;
  while (dirent* entry = readdir(dir)) {
    if (IsPidName(entry->d_name)) pids.push_back(static_cast<pid_t>(std::atoi(entry->d_name)));
  }
  closedir(dir);
  return pids;
}

}  // namespace headroom

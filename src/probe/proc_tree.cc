#include "probe/proc_tree.h"

#include <dirent.h>

#include <charconv>
#include <sstream>
#include <unordered_set>

#include "probe/text_file.h"

namespace headroom {
namespace {

std::optional<pid_t> PidFromName(const char* name) {
  std::string_view text(name);
  pid_t pid = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || pid <= 0) {
    return std::nullopt;
  }
  return pid;
}

}  // namespace

StatLinks LinksFromStat(std::string_view stat) {
  // comm is at most 16 bytes but may itself hold ")": it ends at the last one.
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string_view::npos) return {};
  std::istringstream fields(std::string(stat.substr(close_paren + 1)));
  std::string state;
  long parent = -1;
  long group = -1;
  if (!(fields >> state >> parent >> group) || state.size() != 1 || parent < 0 || group < 0) {
    return {};
  }
  return {static_cast<pid_t>(parent), static_cast<pid_t>(group)};
}

pid_t ProcessGroup(pid_t pid, const std::string& proc_root) {
  std::optional<std::string> stat = ReadTextFile(proc_root + "/" + std::to_string(pid) + "/stat");
  pid_t group = stat ? LinksFromStat(*stat).group : -1;
  return group > 0 ? group : 0;
}

ParentLinks ReadParentLinks(const std::string& proc_root) {
  ParentLinks links;
  DIR* dir = opendir(proc_root.c_str());
  if (dir == nullptr) return links;
  while (dirent* entry = readdir(dir)) {
    std::optional<pid_t> pid = PidFromName(entry->d_name);
    if (!pid) continue;
    std::optional<std::string> stat = ReadTextFile(proc_root + "/" + entry->d_name + "/stat");
    if (!stat) continue;
    pid_t parent = LinksFromStat(*stat).parent;
    if (parent >= 0) links[*pid] = parent;
  }
  closedir(dir);
  return links;
}

std::vector<pid_t> ProcessTree(pid_t root, const ParentLinks& links) {
  std::unordered_multimap<pid_t, pid_t> children;
  for (const auto& [pid, parent] : links) children.emplace(parent, pid);
  std::vector<pid_t> tree{root};
  // A scan taken while pids were reused may hold a cycle; `seen` ends it.
  std::unordered_set<pid_t> seen{root};
  for (size_t i = 0; i < tree.size(); ++i) {
    auto [begin, end] = children.equal_range(tree[i]);
    for (auto it = begin; it != end; ++it) {
      if (seen.insert(it->second).second) tree.push_back(it->second);
    }
  }
  return tree;
}

std::vector<pid_t> ProcessTree(pid_t root, const std::string& proc_root) {
  return ProcessTree(root, ReadParentLinks(proc_root));
}

uint64_t TreeRssBytes(const std::vector<pid_t>& pids, const std::string& proc_root) {
  uint64_t total = 0;
  for (pid_t pid : pids) {
    std::optional<std::string> status =
        ReadTextFile(proc_root + "/" + std::to_string(pid) + "/status");
    if (!status) continue;
    size_t at = status->find("\nVmRSS:");
    if (at == std::string::npos) continue;
    std::istringstream fields(status->substr(at + 7, 32));
    uint64_t kib = 0;
    if (fields >> kib) total += kib * 1024;
  }
  return total;
}

}  // namespace headroom

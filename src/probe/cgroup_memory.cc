#include "probe/cgroup_memory.h"

#include <algorithm>
#include <sstream>
#include <string_view>

#include "probe/text_file.h"

namespace headroom {
namespace {

// v1 writes "no limit" as the largest page-aligned int64; anything this big
// is no real limit on any machine.
constexpr uint64_t kUnlimited = uint64_t{1} << 62;

// File names differ between the two hierarchies; the meaning does not.
struct Layout {
  std::string base;      // where the hierarchy's root is
  const char* limit;     // the limit in bytes
  const char* usage;     // the current usage in bytes, page cache included
  const char* inactive;  // memory.stat key of reclaimable page cache
};

// The cgroup path of this process and the layout it lives in; false when
// <proc_root>/self/cgroup names no memory cgroup.
bool FindCgroup(const std::string& proc_root, const std::string& cgroup_root, Layout* layout,
                std::string* path) {
  std::optional<std::string> text = ReadTextFile(proc_root + "/self/cgroup");
  if (!text) return false;
  std::istringstream lines(*text);
  std::string line;
  std::optional<std::string> v2_path;
  while (std::getline(lines, line)) {
    // "hierarchy-id:controller,list:/path"; the path may itself hold ':'.
    size_t first = line.find(':');
    size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
    std::string cgroup_path = line.substr(second + 1);
    if (controllers.find(",memory,") != std::string::npos) {
      // A mounted v1 memory controller wins: in hybrid mode v2 has no memory.
      *layout = {cgroup_root + "/memory", "memory.limit_in_bytes", "memory.usage_in_bytes",
                 "total_inactive_file"};
      *path = cgroup_path;
      return true;
    }
    if (line.compare(0, 3, "0::") == 0) v2_path = cgroup_path;
  }
  if (!v2_path) return false;
  *layout = {cgroup_root, "memory.max", "memory.current", "inactive_file"};
  *path = *v2_path;
  return true;
}

uint64_t StatValue(const std::string& dir, const char* key) {
  std::optional<std::string> text = ReadTextFile(dir + "/memory.stat");
  if (!text) return 0;
  std::istringstream lines(*text);
  std::string name;
  uint64_t value = 0;
  while (lines >> name >> value) {
    if (name == key) return value;
  }
  return 0;
}

std::string ParentPath(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace

std::optional<CgroupMemory> ReadCgroupMemory(const std::string& proc_root,
                                             const std::string& cgroup_root) {
  Layout layout;
  std::string path;
  if (!FindCgroup(proc_root, cgroup_root, &layout, &path)) return std::nullopt;
  std::optional<CgroupMemory> tightest;
  // Limits of enclosing cgroups apply too, and a container may see its own
  // cgroup as the root (cgroup namespaces), so every level is looked at and
  // levels that do not exist here are skipped.
  for (;;) {
    std::string dir = layout.base + (path == "/" ? "" : path);
    std::optional<std::string> limit_text = ReadTextFile(dir + "/" + layout.limit);
    std::optional<uint64_t> limit = limit_text ? ParseUnsigned(*limit_text) : std::nullopt;
    if (limit && *limit < kUnlimited) {
      std::optional<std::string> usage_text = ReadTextFile(dir + "/" + layout.usage);
      uint64_t usage = usage_text ? ParseUnsigned(*usage_text).value_or(0) : 0;
      // Page cache counts in usage but is given back under pressure.
      usage -= std::min(usage, StatValue(dir, layout.inactive));
      uint64_t room = *limit - std::min(*limit, usage);
      if (!tightest) tightest = CgroupMemory{*limit, room};
      tightest->limit = std::min(tightest->limit, *limit);
      tightest->available = std::min(tightest->available, room);
    }
    if (path == "/" || path.empty()) break;
    path = ParentPath(path);
  }
  return tightest;
}

}  // namespace headroom

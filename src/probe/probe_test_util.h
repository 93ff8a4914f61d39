// Helpers shared by the probe tests: a temp directory standing in for /proc,
// /sys/fs/cgroup or /sys/class/drm, filled with recorded text files.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace headroom::probe_test {

class FakeTree {
 public:
  FakeTree() {
    char pattern[] = "/tmp/headroom_probe_XXXXXX";
    const char* made = mkdtemp(pattern);
    root_ = made != nullptr ? made : "";
  }
  ~FakeTree() {
    std::error_code ignored;
    if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
  }
  FakeTree(const FakeTree&) = delete;
  FakeTree& operator=(const FakeTree&) = delete;

  const std::string& root() const { return root_; }
  std::string Path(const std::string& relative) const { return root_ + "/" + relative; }

  // Writes `text` to root/relative, creating the directories on the way.
  void Write(const std::string& relative, const std::string& text) const {
    std::filesystem::path path(Path(relative));
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }

  void Remove(const std::string& relative) const {
    std::error_code ignored;
    std::filesystem::remove_all(Path(relative), ignored);
  }

 private:
  std::string root_;
};

}  // namespace headroom::probe_test

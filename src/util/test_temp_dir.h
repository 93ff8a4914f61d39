// For tests only: a temporary directory that removes itself, with what is
// in it, and reading and writing files there. Every unit test and the
// end-to-end harness use this one.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include <gtest/gtest.h>

namespace headroom::test {

// Removes `path` with everything under it, also directories a test made
// unreadable or unwritable (they are made accessible first).
inline void RemoveTree(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status status = fs::symlink_status(path, ec);
  if (ec || !fs::exists(status)) return;
  if (fs::is_directory(status)) {
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      RemoveTree(it->path().string());
    }
  }
  fs::remove(path, ec);
}

class TempDir {
 public:
  // $TMPDIR/<prefix>-XXXXXX (/tmp without $TMPDIR).
  explicit TempDir(std::string_view prefix = "headroom") {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" +
                          std::string(prefix) + "-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
      return;
    }
    path_ = pattern;
  }
  ~TempDir() { RemoveTree(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& relative) const { return path_ + "/" + relative; }
  std::string operator/(const std::string& relative) const { return File(relative); }

  // Writes `content` to `relative` (parent directories created); returns its path.
  std::string Write(const std::string& relative, const std::string& content = "") const {
    std::string path = File(relative);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    return path;
  }

  void Remove(const std::string& relative) const { RemoveTree(File(relative)); }

 private:
  std::string path_;
};

// The file's bytes; empty when it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace headroom::test

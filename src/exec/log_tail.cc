#include "exec/log_tail.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

namespace headroom {

std::string ReadLogTail(const std::string& path, size_t max, uint64_t from) {
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) return "";
  std::string text;
  if (std::fseek(file, 0, SEEK_END) == 0) {
    long size = std::ftell(file);
    long start = std::max<long>(static_cast<long>(from), size - static_cast<long>(max));
    if (size >= 0 && start < size && std::fseek(file, start, SEEK_SET) == 0) {
      text.resize(static_cast<size_t>(size - start));
      text.resize(std::fread(text.data(), 1, text.size(), file));
    }
  }
  std::fclose(file);
  return text;
}

uint64_t LogSize(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace headroom

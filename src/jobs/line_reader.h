// Byte-exact line reading from a FILE*, shared by the stdin and jobs-file
// sources. Lines may hold any byte but '\n'; nothing is decoded.
#pragma once

#include <cstdio>
#include <string_view>

namespace headroom {

class LineReader {
 public:
  // `in` must stay open while this reader is in use; it is not closed here.
  // `delimiter` ends a line: '\n' (a "\r" before it is dropped too), or
  // '\0' for NUL-separated input (taken as it is).
  explicit LineReader(std::FILE* in, char delimiter = '\n') : in_(in), delimiter_(delimiter) {}
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its "\n" and without one "\r" before it; valid
  // until the next call. False at end of input or on a read error.
  bool Next(std::string_view* line);

  // True when reading stopped on an error rather than at end of input.
  bool failed() const { return std::ferror(in_) != 0; }

 private:
  std::FILE* in_;
  char delimiter_;
  char* buffer_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace headroom

#include "jobs/line_reader.h"

#include <stdio.h>  // getline (POSIX)

#include <cstdlib>

namespace headroom {

LineReader::~LineReader() { std::free(buffer_); }

bool LineReader::Next(std::string_view* line) {
  // getline rather than fgets: it returns the length, so bytes after an
  // embedded NUL are not lost, and it has no line-length limit.
  ssize_t length = getdelim(&buffer_, &capacity_, delimiter_, in_);
  if (length < 0) return false;
  std::string_view text(buffer_, static_cast<size_t>(length));
  if (!text.empty() && text.back() == delimiter_) text.remove_suffix(1);
  if (delimiter_ == '\n' && text.ends_with('\r')) text.remove_suffix(1);
  *line = text;
  return true;
}

}  // namespace headroom

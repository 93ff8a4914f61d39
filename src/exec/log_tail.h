// The end of a job's stderr log, for the out-of-memory classifier. A
// persistent worker writes one log across many requests, so a tail can start
// at an offset: what was written since a request began.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace headroom {

// The last `max` bytes of the file at `path` that lie at or after byte
// `from`; empty when unreadable.
std::string ReadLogTail(const std::string& path, size_t max, uint64_t from = 0);

// The file's size in bytes; 0 when it cannot be read.
uint64_t LogSize(const std::string& path);

}  // namespace headroom

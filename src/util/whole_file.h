// Whole files: read one into a string, or replace one atomically, so that a
// reader (another headroom, a Slurm node, node_exporter) sees the old
// content or the new, never half of it. Shared by the journal's control
// file, the Slurm launcher's specs and results, and the report's files.
#pragma once

#include <optional>
#include <string>

#include "util/status.h"

namespace headroom {

// The whole file; nullopt when it cannot be opened or read (a missing file
// included).
std::optional<std::string> ReadWholeFile(const std::string& path);

// Writes `content` to `path` atomically (temp file + fsync + rename). The
// error names the path and the reason, without an option name:
// "out/r.html: cannot write: No such file or directory".
Status WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace headroom

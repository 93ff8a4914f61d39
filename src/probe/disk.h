// Free disk space, for the --min-free-disk gate on the output and log dirs.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace headroom {

// Bytes an unprivileged process may still write on the file system holding
// `path` (statvfs f_bavail × f_frsize). A path that does not exist yet (an
// output dir made later) is measured at its nearest existing parent. The
// error names the path and why.
Status FreeDiskBytes(const std::string& path, uint64_t* bytes);

}  // namespace headroom

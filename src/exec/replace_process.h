// ReplaceProcess: `headroom resume` becomes the `headroom run --resume`
// that continues a batch: same process (so the shell's job control, a
// terminal's Ctrl-C and the exit code are the run's), started in the
// batch's directory, with the batch's stdin inputs fed back when it had
// them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace headroom {

// Execs `program` with `argv` (argv[0] included) in `cwd`; when `stdin_data`
// is set, stdin becomes an anonymous file holding it. Returns only on
// failure, naming what failed.
Status ReplaceProcess(const std::string& program, const std::vector<std::string>& argv,
                      const std::string& cwd, const std::optional<std::string>& stdin_data);

}  // namespace headroom

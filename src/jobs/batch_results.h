// The batch results file (--batch-results, docs/batches.md): what a program
// that got several inputs in one process says about each of them, as JSON
// Lines, one object per input:
//   {"input": "clips/a.mp4", "ok": true}
//   {"input": "clips/b.mp4", "ok": false, "error": "corrupt header"}
//   {"index": 2, "ok": false, "error": "CUDA out of memory", "oom": true}
// "input" is the input exactly as given; "index" (0-based position in the
// unit) may name it instead. A line that cannot be used (not a JSON object,
// no "ok" boolean, an input or index that is not in the unit) is skipped with
// a warning; blank lines and unknown keys are ignored. Inputs the file does
// not mention have no result here (they take the process's exit status).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace headroom {

// One input's reported result.
struct BatchInputResult {
  size_t index = 0;  // position of the input in the unit
  bool ok = false;
  bool oom = false;   // "oom": true - it ran out of memory on this input
  std::string error;  // "error", as the program wrote it; may be empty
  bool operator==(const BatchInputResult&) const = default;
};

struct ParsedBatchResults {
  // At most one per input, ordered by index. An input reported on several
  // lines takes its last line (a program may append a retry's result).
  std::vector<BatchInputResult> results;
  // One line per skipped or overridden line: "line 3: ...". For people: the
  // runner appends them to the unit's stderr log.
  std::vector<std::string> warnings;
};

// Parses the text of a results file against the unit's `inputs` (in unit
// order). An "input" that appears several times in the unit names each of
// those positions.
ParsedBatchResults ParseBatchResults(std::string_view text,
                                     const std::vector<std::string_view>& inputs);

// Reads and parses the file at `path`. Error (naming the path and errno
// text) when it cannot be read; `*missing` tells a file that does not exist.
Status ReadBatchResults(const std::string& path, const std::vector<std::string_view>& inputs,
                        ParsedBatchResults* results, bool* missing);

}  // namespace headroom

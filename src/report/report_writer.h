// ReportWriter: writes the JSON and/or HTML report of one batch of the
// journal to files, for `headroom report --json FILE --html FILE` and for
// `headroom run --report FILE` at the end of a batch. Each file is written to
// a temporary name beside it and renamed into place, so that a reader never
// sees half a report and a failed write leaves the old file intact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "util/status.h"

namespace headroom {

struct ReportFiles {
  std::string json;  // "" = none
  std::string html;  // "" = none
  std::string trace;  // "" = none (Chrome trace-event JSON)
  // The options that named them, for errors ("--report" for `run --report`).
  std::string json_option = "--json";
  std::string html_option = "--html";
};

// Loads batch `batch` (the latest when unset) from the journal in
// `state_dir`, computes its report at `now` (unix seconds) and writes the
// files named in `files`. Errors are one line: the journal's, or
// "--html out/r.html: cannot write: No such file or directory".
Status WriteReports(const std::string& state_dir, std::optional<int64_t> batch,
                    const ReportFiles& files, double now);

}  // namespace headroom

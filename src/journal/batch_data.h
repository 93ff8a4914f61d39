// BatchData: everything the journal holds about one batch, read in one go
// from <state-dir>/journal.db (read-only, so it works from any terminal while
// the batch runs), plus whether a headroom process holds the batch's lock.
// `headroom status` and `headroom report` build their views from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "journal/journal.h"
#include "util/status.h"

namespace headroom {

struct BatchData {
  BatchRecord batch;
  std::vector<JobRecord> jobs;          // in number order
  std::vector<AttemptRecord> attempts;  // by start
  std::vector<SampleRecord> samples;    // as recorded (time order)
  std::vector<EventRecord> events;      // as recorded (time order)
  bool lock_held = false;               // some headroom holds the batch's lock now

  BatchRunState state() const;
};

// Reads batch `id` (the latest when unset) of the journal in `state_dir`;
// of a stopped (killed) batch, also the starts its launch log holds that
// the journal lacks, as running attempts.
// Errors are one line: the journal's own ("journal <path>: no such file (no
// batch has run with this state dir)"), "journal <path>: no batch recorded
// yet", "--batch 9: journal <path> has no batch 9 (the latest is 3)".
Status LoadBatchData(const std::string& state_dir, std::optional<int64_t> id, BatchData* out);

}  // namespace headroom

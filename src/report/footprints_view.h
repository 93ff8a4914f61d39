// `headroom footprints`: what batches in a state dir learned of each class
// (command template) - the GPU memory and RAM its jobs peaked at, how long
// they took and how many jobs taught it - as a table or JSON, from the
// journal's learned footprints (journal/journal.h, FootprintRecord).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "util/status.h"

namespace headroom {

struct FootprintClassView {
  std::string id;         // FootprintClassId: what --forget takes
  std::string job_class;  // the class key
  std::string command;    // the template, shell-quoted; "(worker base) ..." for a worker's own
  int64_t jobs = 0;       // jobs that taught it, ever
  double last_t = 0;      // unix time of the newest lesson; 0 = unknown
  size_t samples = 0;     // lessons kept (the newest few hundred)
  std::optional<uint64_t> vram_median, vram_max;  // bytes
  std::optional<uint64_t> rss_max;                // bytes
  std::optional<double> seconds_median;
};

// A class's short id: 8 hex digits of a hash of its key, stable across runs.
std::string FootprintClassId(const std::string& job_class);

// The views, newest lesson first, from the journal's class counts and its
// recent footprints.
std::vector<FootprintClassView> BuildFootprintsView(
    const std::vector<FootprintClassRecord>& classes, const std::vector<FootprintRecord>& recent);

std::string FormatFootprintsText(const std::vector<FootprintClassView>& view, double now);
std::string FormatFootprintsJson(const std::vector<FootprintClassView>& view);

// The class `what` names among `view`: its id, or its command as listed.
// Error: "--forget X: no class has that id or command (...)".
Status FindFootprintClass(const std::vector<FootprintClassView>& view, const std::string& what,
                          std::vector<std::string>* job_classes);

// Reads the journal of `state_dir` (read-only) into the view; no journal
// yet: an empty view.
Status LoadFootprintsView(const std::string& state_dir, std::vector<FootprintClassView>* view);

}  // namespace headroom

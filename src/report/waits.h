// Waits: what held a batch's queue and when, read back from the scheduler's
// `waiting` texts (Observer::OnTick; journaled as "waiting" events on each
// change). A text names one gate or several, "; "-separated, each with the
// devices it holds: "slots", "retry-delay", "vram gpu0,1; temperature gpu2",
// "learning memory use on gpu0 (first job)", "paused (headroom ctl
// continue)", and others' memory as "gpu0: 21.6 of 24.0 GiB used by other
// processes (pids 4242)" (the "foreign" gate). The metrics count seconds
// per gate; the reports draw and list the intervals.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "journal/journal.h"

namespace headroom {

struct WaitGate {
  std::string gate;  // "slots", "vram", "learning", "foreign", "paused", ...
  int device = -1;   // -1: not about one device (slots, ram, delay, ...)
  bool operator==(const WaitGate&) const = default;
};

// Each gate of a `waiting` text, once per device it holds: "vram gpu0,1"
// is {vram, 0} and {vram, 1}; "" is none.
std::vector<WaitGate> ParseWaiting(const std::string& waiting);

// The gates a text names, each once: "vram gpu0,1; temperature gpu2" ->
// {"vram", "temperature"}.
std::vector<std::string> WaitingGates(const std::string& waiting);

struct WaitInterval {
  double start = 0;  // unix seconds
  double end = 0;
  WaitGate gate;
};

// The intervals in which each gate held the queue, from a batch's "waiting"
// events (time order); one still holding at `horizon` ends there. A gate
// that stays through a change of the text (another gate joins it) is one
// interval. Ordered by start.
std::vector<WaitInterval> WaitIntervals(const std::vector<EventRecord>& events, double horizon);

// How a gate reads in the reports: "vram gpu0", "learning gpu0", "slots".
std::string WaitLabel(const WaitGate& gate);

struct WaitTotal {
  WaitGate gate;
  double seconds = 0;  // summed over its intervals
};

// Each gate's time in all, by its label (WaitLabel).
std::map<std::string, WaitTotal> WaitTotals(const std::vector<WaitInterval>& waits);

}  // namespace headroom

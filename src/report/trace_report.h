// The Chrome trace of a batch (`headroom report --trace FILE`): the
// trace-event JSON that Perfetto (ui.perfetto.dev) and chrome://tracing
// open, for zooming into a batch too long or too busy for the HTML
// timeline. A process per GPU (and one for the host's attempts) with a
// thread per slot, one complete event per attempt; counters for each GPU's
// memory, temperature and concurrency limit and the host's RAM; and a
// "queue" process with a thread per gate holding a complete event per
// interval in which it held the queue. Times are microseconds from the
// batch's start.
#pragma once

#include <string>

#include "report/batch_report.h"

namespace headroom {

std::string ChromeTrace(const BatchReport& report);

}  // namespace headroom

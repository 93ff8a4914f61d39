// MetricsTextfile (--metrics-textfile FILE): the metrics written to a file
// in node_exporter's textfile-collector format, so that a scrape every 15 s
// still sees a batch's final state after headroom has exited (the endpoint
// goes with the process). Written atomically (a temporary file beside it,
// then rename) every few seconds while the batch runs and once at its end.
// It must come after the Metrics it renders in the ObserverList, so that
// it writes what Metrics has just taken in.
#pragma once

#include <optional>
#include <string>

#include "jobs/observer.h"
#include "report/metrics.h"
#include "util/clock.h"
#include "util/status.h"
#include "util/units.h"

namespace headroom {

class MetricsTextfile : public Observer {
 public:
  static constexpr Millis kEvery{5000};

  // `metrics` must outlive it.
  MetricsTextfile(std::string path, const Metrics* metrics);

  // Whether FILE can be written: its directory exists and takes a new file.
  static Status Check(const std::string& path);

  void OnBatchStart(const Counts&, TimePoint now) override;
  void OnTick(const Counts&, TimePoint now, const std::string&) override;
  void OnBatchEnd(const Counts&, TimePoint now) override;

 private:
  void Write();  // best effort: a failure is reported once, on stderr

  std::string path_;
  const Metrics* metrics_;
  std::optional<TimePoint> last_;
  bool warned_ = false;
};

}  // namespace headroom

// ConcurrencyLimit: how many of our jobs one device may run, learned from
// out-of-memory failures the way TCP learns its window: multiplicative
// decrease on an OOM, additive increase (+1) on each success, between 1 and
// a cap. A success whose GPU memory was measured restores the cap at once:
// the footprint model now knows the class's real peak, and memory
// admission, not a blind limit, keeps jobs from overcommitting. Every change
// comes back as a reason for the log.
#pragma once

#include <optional>
#include <string>

#include "util/clock.h"

namespace headroom {

class ConcurrencyLimit {
 public:
  // `device` names it in reasons ("gpu0"); `cap` (>= 1) is the most it ever
  // allows and where it starts: jobs-per-gpu, or the slot count without one.
  ConcurrencyLimit(std::string device, int cap);

  int limit() const { return limit_; }

  // A job that started at `job_start` ran out of memory while `running` of
  // our jobs (it included) ran on the device. The limit drops to half of
  // min(limit, running), at least 1: halving a limit the device never
  // reached would change nothing. Jobs that started before the last drop
  // ran under the old limit, so their failures cut nothing more: one burst
  // of OOMs is one decrease. Returns the reason when the limit changed.
  std::optional<std::string> OnOom(TimePoint job_start, int running, TimePoint now);

  // A job on the device succeeded (`measured`: its GPU memory was read per
  // process). Callers report only successes during which the device stayed
  // below its high mark.
  std::optional<std::string> OnSuccess(bool measured = false);

  // `headroom ctl jobs N` changed the slot count this cap follows: a limit
  // at its cap moves with it; a limit an OOM lowered stays, at most `cap`.
  std::optional<std::string> SetCap(int cap);

 private:
  std::optional<std::string> Set(int limit, const char* why);

  std::string device_;
  int cap_;
  int limit_;
  std::optional<TimePoint> last_decrease_;
};

}  // namespace headroom

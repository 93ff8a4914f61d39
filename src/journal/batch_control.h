// BatchControl: how `headroom ctl` steers a running batch from any terminal.
// The request is a small JSON file beside the batch's lock,
// <state-dir>/batch-<id>.control, replaced atomically (rename) by each
// `ctl` call; the running headroom polls it a few times a second and,
// having applied a request, writes its sequence number to
// <state-dir>/batch-<id>.control-ack, which `ctl` waits for. Requests
// accumulate: a file holds the whole wished-for state (paused or not,
// draining, the slot limit), so a lost poll loses nothing.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "util/units.h"
#include "util/status.h"

namespace headroom {

struct ControlRequest {
  int64_t seq = 0;          // raised by every `ctl` call
  bool paused = false;      // start nothing new until `continue`
  bool draining = false;    // start nothing new, ever (as SIGHUP); final
  std::optional<int> jobs;  // the slot limit (-j) the batch should use
};

// What `headroom ctl` asks.
enum class ControlAction { kDrain, kPause, kContinue, kJobs };

// `headroom ctl`: finds batch `batch` (the latest when unset) in the
// journal of `state_dir`, checks that a headroom runs it (its lock), adds
// `action` (with `jobs` for kJobs) to the batch's request, and waits up to
// `wait` for the running headroom to apply it. On success `message` says
// what took effect ("batch 3 (pid 1234): paused"). Errors are one line:
// the journal's own, "batch 3 is not running (it ended ...)", or "batch 3
// (pid 1234) has not applied the request within 10s".
Status SendControl(const std::string& state_dir, std::optional<int64_t> batch,
                   ControlAction action, int jobs, Millis wait, std::string* message);

class BatchControl {
 public:
  // <state_dir>/batch-<batch>.control and .control-ack
  static std::string PathIn(const std::string& state_dir, int64_t batch);
  static std::string AckPathIn(const std::string& state_dir, int64_t batch);

  // The request now in the file; a default one (seq 0) when there is none.
  // Fails only on a file that cannot be read or parsed, naming it.
  static Status Read(const std::string& state_dir, int64_t batch, ControlRequest* out);
  // Replaces the file atomically with `request`.
  static Status Write(const std::string& state_dir, int64_t batch, const ControlRequest& request);
  // The last sequence number the running headroom applied; 0 for none.
  static int64_t ReadAck(const std::string& state_dir, int64_t batch);

  // The running side: polls `state_dir`'s file for `batch`. Removes any
  // file a previous run of the batch left (its requests were for that run).
  BatchControl(std::string state_dir, int64_t batch);
  ~BatchControl();  // removes both files
  BatchControl(const BatchControl&) = delete;
  BatchControl& operator=(const BatchControl&) = delete;

  // A request not seen before, if the file changed since the last poll and
  // holds a newer sequence number. A damaged file is ignored (a `ctl` call
  // never leaves one; the next replaces it).
  std::optional<ControlRequest> Poll();
  // Tells `ctl` that `request` took effect.
  void Acknowledge(const ControlRequest& request);

 private:
  std::string state_dir_;
  int64_t batch_;
  int64_t seen_seq_ = 0;
  struct timespec last_mtime_ {};
  ino_t last_ino_ = 0;
};

}  // namespace headroom

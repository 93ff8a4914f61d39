// BatchLock: makes sure two headroom processes never run the same batch.
// It holds an exclusive lock on <state-dir>/batch-<id>.lock (an open file
// description lock, fcntl F_OFD_SETLK) for the object's life, and writes the
// holder's pid into the file so that the loser can name it. The lock goes
// with the process: a killed headroom frees it, so "end unset and lock free"
// means the batch was killed. The descriptor is close-on-exec, so jobs the
// holder spawns do not keep the lock alive.
//
// OFD locks rather than flock(2): IsHeld() can then test the lock without
// taking it, so `headroom status` polling never makes a starting run fail.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "util/status.h"

namespace headroom {

class BatchLock {
 public:
  // <state_dir>/batch-<batch>.lock
  static std::string PathIn(const std::string& state_dir, int64_t batch);

  // Takes the lock (creating the file; `state_dir` must exist) or fails
  // without waiting: "batch 3 is being run by another headroom (pid 1234)".
  static Status Acquire(const std::string& state_dir, int64_t batch,
                        std::unique_ptr<BatchLock>* out);

  // Whether some process (this one included) holds the lock now. Creates
  // nothing; a missing file is "not held".
  static bool IsHeld(const std::string& state_dir, int64_t batch);

  ~BatchLock();  // removes the file and releases the lock
  BatchLock(const BatchLock&) = delete;
  BatchLock& operator=(const BatchLock&) = delete;

  int64_t batch() const { return batch_; }

 private:
  BatchLock(int fd, std::string path, int64_t batch);
  int fd_;
  std::string path_;
  int64_t batch_;
};

}  // namespace headroom

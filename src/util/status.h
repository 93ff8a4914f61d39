// Status: the one error idiom of headroom's core. A function that can fail
// returns a Status; ok() or a one-line message that names the bad value and
// what was expected ("--jobs: 'x' is not a number or 'auto'"). main() prints
// it as "headroom: error: <message>" and picks the exit code.
#pragma once

#include <string>
#include <utility>

namespace headroom {

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(const std::string& context) const {
    return ok() ? *this : Status(context + ": " + message_);
  }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

}  // namespace headroom

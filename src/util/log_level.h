// LogLevel: how much a message matters, from the scheduler's notices to the
// event log's filter (--log-level).
#pragma once

namespace headroom {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

}  // namespace headroom

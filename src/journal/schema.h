// The journal's schema as a list of migration steps: step i (0-based) takes
// a database from user_version i to i + 1; version 1 is the first schema.
// Steps are only ever appended: a released step never changes, so every
// journal written by any headroom reaches the current schema by applying the
// steps above its version in order.
#pragma once

#include <cstdint>
#include <vector>

namespace headroom {

// PRAGMA application_id of a headroom journal: "hrjn".
inline constexpr int32_t kJournalApplicationId = 0x68726a6e;

// The SQL of each step, in order; size() is the schema version this build knows.
const std::vector<const char*>& JournalMigrations();

}  // namespace headroom

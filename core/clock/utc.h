// UTC times as the core stores and shows them: ISO 8601 to the second, "2026-11-23T14:00:00Z". Strings of this
// one shape sort in time order, so they compare correctly in SQL on both backends.
#pragma once

#include <ctime>
#include <string>

namespace annex::clock {

std::string utc_iso(std::time_t t);
// Now, plus `offset_seconds`.
std::string utc_now(long long offset_seconds = 0);
// Parses utc_iso()'s format; 0 when `text` is not in it.
std::time_t parse_utc_iso(const std::string& text);

}  // namespace annex::clock

// UTC times as the core stores and shows them: ISO 8601 to the second, "2026-11-23T14:00:00Z". Strings of this
// one shape sort in time order, so they compare correctly in SQL on both backends.
//
// Every date or instant that comes from outside — a request body, a query parameter, a plugin — is parsed by
// annex/calendar.hpp (strict RFC 3339, real calendar dates, four-digit years) and stored in this canonical
// form, never as it was given.
#pragma once

#include <annex/calendar.hpp>

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace annex::clock {

std::string utc_iso(std::time_t t);
// Now, plus `offset_seconds`.
std::string utc_now(long long offset_seconds = 0);
// The seconds since the epoch of an RFC 3339 instant (any offset, see annex/calendar.hpp); nothing when
// `text` is not one.
std::optional<std::time_t> parse_instant(std::string_view text);
// Like parse_instant, 0 when `text` is not an instant. For values the core wrote itself.
std::time_t parse_utc_iso(const std::string& text);

}  // namespace annex::clock

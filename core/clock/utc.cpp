#include "clock/utc.h"

namespace annex::clock {

std::string utc_iso(std::time_t t) {
  return calendar::format_instant(std::chrono::sys_seconds{std::chrono::seconds{t}});
}

std::string utc_now(long long offset_seconds) { return utc_iso(std::time(nullptr) + static_cast<std::time_t>(offset_seconds)); }

std::optional<std::time_t> parse_instant(std::string_view text) {
  auto t = calendar::parse_instant(text);
  if (!t) return std::nullopt;
  return static_cast<std::time_t>(t->time_since_epoch().count());
}

std::time_t parse_utc_iso(const std::string& text) { return parse_instant(text).value_or(0); }

}  // namespace annex::clock

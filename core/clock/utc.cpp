#include "clock/utc.h"

namespace annex::clock {

std::string utc_iso(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string utc_now(long long offset_seconds) { return utc_iso(std::time(nullptr) + static_cast<std::time_t>(offset_seconds)); }

std::time_t parse_utc_iso(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return 0;
  return timegm(&tm);
}

}  // namespace annex::clock

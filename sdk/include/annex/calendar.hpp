// annex/calendar.hpp — dates and instants as Annex accepts them from outside: one strict parser, shared by the
// host and every plugin. Header-only C++20, the standard library only.
//
//   date     "YYYY-MM-DD"                              a four-digit year 0001–9999 and a real day of that
//                                                      month: "2028-02-29" yes, "2027-02-29" and "2027-1-5" no
//   instant  "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)"  RFC 3339 / ISO 8601: the date as above, hours 00–23,
//                                                      minutes and seconds 00–59, 1 to 9 fraction digits, an
//                                                      offset up to ±23:59
//
// Everything else is refused: "999-06-01…" and five-digit years, "2027-02-30", a space or a lower-case "t"
// for the "T", a missing offset, a leap second ("…:60Z"), an instant whose UTC time falls outside years
// 0001–9999. Instants count whole seconds; a fraction is dropped (rounding towards the past).
//
// The canonical forms, "2026-11-23" and "2026-11-23T14:00:00Z" (UTC), have a fixed width, so that their text
// sorts in time order: store and compare those, never the text as it was given.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace annex::calendar {

namespace detail {

// The number `text[at, at + n)` when those are n ASCII digits; -1 otherwise.
constexpr int digits(std::string_view text, size_t at, size_t n) {
  if (at + n > text.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

inline constexpr std::chrono::sys_seconds kEarliest = std::chrono::sys_days{std::chrono::year{1} / 1 / 1};
inline constexpr std::chrono::sys_seconds kLatest =
    std::chrono::sys_days{std::chrono::year{9999} / 12 / 31} + std::chrono::hours{23} + std::chrono::minutes{59} +
    std::chrono::seconds{59};

}  // namespace detail

// The day `text` names when it is exactly "YYYY-MM-DD" with a real calendar date; nothing otherwise.
inline std::optional<std::chrono::sys_days> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = detail::digits(text, 0, 4), m = detail::digits(text, 5, 2), d = detail::digits(text, 8, 2);
  if (y < 1 || m < 1 || d < 1) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                  std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

// The instant `text` names when it is an RFC 3339 date-time as described above; nothing otherwise.
inline std::optional<std::chrono::sys_seconds> parse_instant(std::string_view text) {
  if (text.size() < 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':') return std::nullopt;
  std::optional<std::chrono::sys_days> day = parse_date(text.substr(0, 10));
  int h = detail::digits(text, 11, 2), min = detail::digits(text, 14, 2), s = detail::digits(text, 17, 2);
  if (!day || h < 0 || h > 23 || min < 0 || min > 59 || s < 0 || s > 59) return std::nullopt;
  size_t at = 19;
  if (text[at] == '.') {
    size_t first = ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
    if (at == first || at - first > 9) return std::nullopt;
  }
  std::chrono::seconds offset{0};
  std::string_view zone = text.substr(at);
  if (zone == "Z") {
    // UTC
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh = detail::digits(zone, 1, 2), om = detail::digits(zone, 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset = std::chrono::hours{oh} + std::chrono::minutes{om};
    if (zone[0] == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  std::chrono::sys_seconds local =
      *day + std::chrono::hours{h} + std::chrono::minutes{min} + std::chrono::seconds{s};
  std::chrono::sys_seconds utc = local - offset;  // 14:00+08:00 is 06:00Z
  if (utc < detail::kEarliest || utc > detail::kLatest) return std::nullopt;
  return utc;
}

// "YYYY-MM-DD" for a day in years 0001–9999.
inline std::string format_date(std::chrono::sys_days day) {
  std::chrono::year_month_day ymd{day};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return text;
}

// "YYYY-MM-DDTHH:MM:SSZ" for an instant in years 0001–9999.
inline std::string format_instant(std::chrono::sys_seconds t) {
  std::chrono::sys_days day = std::chrono::floor<std::chrono::days>(t);
  int s = static_cast<int>((t - day).count());  // 0 to 86399
  char text[48];  // room for any int, so that no compiler warns of truncation
  std::snprintf(text, sizeof text, "T%02d:%02d:%02dZ", s / 3600, s / 60 % 60, s % 60);
  return format_date(day) + text;
}

// The canonical form of a date or an instant given as text; nothing when the text is not one.
inline std::optional<std::string> canonical_date(std::string_view text) {
  auto day = parse_date(text);
  return day ? std::optional<std::string>(format_date(*day)) : std::nullopt;
}
inline std::optional<std::string> canonical_instant(std::string_view text) {
  auto t = parse_instant(text);
  return t ? std::optional<std::string>(format_instant(*t)) : std::nullopt;
}

}  // namespace annex::calendar

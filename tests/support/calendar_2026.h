// The 2026 public holidays of mainland China and their make-up working days (调休), as the State Council published
// them on 2025-11-04, in the "calendar" section the README shows: the calendar tests' common example.
#pragma once

namespace annex::test {

inline constexpr const char* kChina2026Calendar = R"({
  "time_zone": "Asia/Shanghai",
  "weekend": ["saturday", "sunday"],
  "years": {
    "2026": {
      "holidays": [
        {"date": "2026-01-01", "name": "New Year's Day"}, "2026-01-02", "2026-01-03",
        {"date": "2026-02-15", "name": "Spring Festival"}, "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
        "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
        {"date": "2026-04-04", "name": "Qingming Festival"}, "2026-04-05", "2026-04-06",
        {"date": "2026-05-01", "name": "Labour Day"}, "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05",
        {"date": "2026-06-19", "name": "Dragon Boat Festival"}, "2026-06-20", "2026-06-21",
        {"date": "2026-09-25", "name": "Mid-Autumn Festival"}, "2026-09-26", "2026-09-27",
        {"date": "2026-10-01", "name": "National Day"}, "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05",
        "2026-10-06", "2026-10-07"
      ],
      "working_days": ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    }
  }
})";

}  // namespace annex::test

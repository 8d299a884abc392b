// The company calendar: which days are working days (weekends, public holidays and make-up working days — 调休,
// a weekend day declared a working day — from configuration), in the company's time zone, and the host clock
// that says what "now" and "today" are. Every plugin reaches it through annex.calendar; the host's calendar
// job schedules and GET /api/v1/calendar use the same object.
//
// Dates are local dates of the company's time zone (std::chrono::sys_days used as a plain calendar date);
// instants are UTC (std::chrono::sys_seconds). A month ends, and a deadline falls, at the company's midnight.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace date {
class time_zone;
}

namespace annex::calendar {

using Day = std::chrono::sys_days;
using Instant = std::chrono::sys_seconds;

// The "calendar" section of the configuration, as read and checked by config::load_settings.
struct CalendarConfig {
  std::string time_zone = "UTC";                       // an IANA name, "Asia/Shanghai"
  std::set<unsigned> weekend = {6, 0};                 // weekday::c_encoding(): 0 Sunday … 6 Saturday
  std::map<Day, std::string> holidays;                 // day → name ("" when none was given)
  std::set<Day> working_days;                          // make-up working days
  std::map<Day, std::string> sources;                  // day → the configuration key it came from, for errors
  std::string test_clock_file;                         // for tests only: see HostClock
};

// True when the system's time zone database knows `name`.
bool known_time_zone(const std::string& name);
// "monday" … "sunday" → weekday::c_encoding(); nothing otherwise.
std::optional<unsigned> weekday_from_name(const std::string& name);
std::string weekday_name(unsigned c_encoding);
// The checks that need the whole section: a make-up day that is not a weekend day, a day that is both a holiday
// and a make-up working day. Each problem as (configuration key, message).
std::vector<std::pair<std::string, std::string>> check(const CalendarConfig& config);

// "Now" for the host and its plugins. The system clock, unless `test_clock_file` is set (for tests only, never
// in production): then now is the RFC 3339 instant that file holds, standing still until the file changes (it is
// read again on every call). While the file is missing or unreadable the last instant read from it holds (the
// system clock before any), so a test that rewrites the file never sees time jump to the real date.
class HostClock {
 public:
  explicit HostClock(std::string test_clock_file = {});
  Instant now() const;
  bool is_test_clock() const { return !file_.empty(); }

 private:
  std::string file_;
  mutable std::mutex mutex_;
  mutable std::optional<Instant> last_;
};

// A calendar job schedule, in the company's time zone (annex_job.calendar_rule).
struct Schedule {
  enum class Kind { kMonthlyDay = 1, kMonthlyWorkingDay = 2, kDaily = 3, kEveryWorkingDay = 4 };
  Kind kind = Kind::kDaily;
  int day = 1;                   // kMonthlyDay: 1–31 (a shorter month: its last day); kMonthlyWorkingDay: the Nth
  std::chrono::minutes at{0};   // local time of day, 0–1439 minutes after midnight
  // "" when valid, else why not.
  std::string problem() const;
};

class CompanyCalendar {
 public:
  // Throws std::invalid_argument for an unknown time zone (load_settings has checked it before).
  explicit CompanyCalendar(CalendarConfig config = {});

  const std::string& time_zone() const { return config_.time_zone; }
  const CalendarConfig& config() const { return config_; }
  HostClock& clock() { return clock_; }

  // A make-up day is a working day; otherwise a holiday or a weekend day is not; every other day is.
  bool is_working_day(Day day) const;
  // The n-th (1-based) working day of the month; nothing when the month has fewer than n.
  std::optional<Day> nth_working_day(std::chrono::year_month month, int n) const;
  // The working days d with from <= d < to; negated when to < from (so between(a, b) == -between(b, a)).
  int working_days_between(Day from, Day to) const;

  // The host clock, and instants read in the company's time zone.
  Instant now() const { return clock_.now(); }
  Day today() const { return local_day(now()); }
  Day local_day(Instant at) const;
  std::chrono::seconds utc_offset(Instant at) const;
  // The UTC instant of `day` at `time` after local midnight (the earliest, should a change of offset repeat it;
  // the moment the gap ends, should one skip it).
  Instant at_local(Day day, std::chrono::minutes time = std::chrono::minutes{0}) const;
  Instant midnight(Day day) const { return at_local(day); }

  // The first instant strictly after `after` that `schedule` names (Instant::max() when none in four years).
  Instant next_due(const Schedule& schedule, Instant after) const;
  // The last instant at or before `at` that `schedule` named, looking a year and a month back; nothing if none.
  std::optional<Instant> previous_due(const Schedule& schedule, Instant at) const;

  // GET /api/v1/calendar's body for `year`: the time zone, the weekend, the year's holidays and make-up days,
  // and per month the number of working days with the first and last.
  std::string year_json(int year) const;

 private:
  CalendarConfig config_;
  const date::time_zone* zone_;
  HostClock clock_;
};

}  // namespace annex::calendar

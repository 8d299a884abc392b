#include "calendar/company_calendar.h"

#include <annex/calendar.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <date/tz.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace annex::calendar {
namespace {

using namespace std::chrono;

constexpr const char* kWeekdays[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

Day last_of(year_month ym) { return sys_days{ym / last}; }

}  // namespace

bool known_time_zone(const std::string& name) {
  try {
    return !name.empty() && date::locate_zone(name) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

std::optional<unsigned> weekday_from_name(const std::string& name) {
  for (unsigned i = 0; i < 7; ++i) {
    if (name == kWeekdays[i]) return i;
  }
  return std::nullopt;
}

std::string weekday_name(unsigned c_encoding) { return kWeekdays[c_encoding % 7]; }

std::vector<std::pair<std::string, std::string>> check(const CalendarConfig& config) {
  std::vector<std::pair<std::string, std::string>> problems;
  for (Day day : config.working_days) {
    std::string key = config.sources.count(day) ? config.sources.at(day) : "calendar.years";
    unsigned wd = weekday{day}.c_encoding();
    if (!config.weekend.count(wd)) {
      problems.emplace_back(key, format_date(day) + " is a " + weekday_name(wd) +
                                     ", not a weekend day: a make-up working day is a weekend day declared a working day");
    }
    if (config.holidays.count(day)) {
      problems.emplace_back(key, format_date(day) + " is both a holiday and a make-up working day");
    }
  }
  return problems;
}

// ---- the host clock ---------------------------------------------------------------------------------------

HostClock::HostClock(std::string test_clock_file) : file_(std::move(test_clock_file)) {}

Instant HostClock::now() const {
  Instant real = floor<seconds>(system_clock::now());
  if (file_.empty()) return real;
  std::lock_guard lock(mutex_);
  std::ifstream in(file_);
  std::string text;
  if (in && std::getline(in, text)) {
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
    if (auto at = parse_instant(text)) {
      last_ = *at;
    } else if (!text.empty()) {
      spdlog::warn("calendar.test_clock_file {}: \"{}\" is not an RFC 3339 instant; the clock stays where it was",
                   file_, text);
    }
  }
  return last_.value_or(real);
}

// ---- schedules ----------------------------------------------------------------------------------------------

std::string Schedule::problem() const {
  if (at < minutes{0} || at >= hours{24}) return "the time of day must be 00:00 to 23:59";
  if (kind == Kind::kMonthlyDay && (day < 1 || day > 31)) return "the day of the month must be 1 to 31";
  if (kind == Kind::kMonthlyWorkingDay && (day < 1 || day > 23)) return "the working day of the month must be 1 to 23";
  if (kind != Kind::kMonthlyDay && kind != Kind::kMonthlyWorkingDay && kind != Kind::kDaily &&
      kind != Kind::kEveryWorkingDay) {
    return "unknown calendar rule";
  }
  return {};
}

// ---- the calendar -------------------------------------------------------------------------------------------

CompanyCalendar::CompanyCalendar(CalendarConfig config)
    : config_(std::move(config)), zone_(nullptr), clock_(config_.test_clock_file) {
  if (!known_time_zone(config_.time_zone)) {
    throw std::invalid_argument("calendar.time_zone: unknown time zone \"" + config_.time_zone + "\"");
  }
  zone_ = date::locate_zone(config_.time_zone);
}

bool CompanyCalendar::is_working_day(Day day) const {
  if (config_.working_days.count(day)) return true;
  if (config_.holidays.count(day)) return false;
  return !config_.weekend.count(weekday{day}.c_encoding());
}

std::optional<Day> CompanyCalendar::nth_working_day(year_month month, int n) const {
  if (n < 1 || !month.ok()) return std::nullopt;
  for (Day d = sys_days{month / 1}, end = last_of(month); d <= end; d += days{1}) {
    if (is_working_day(d) && --n == 0) return d;
  }
  return std::nullopt;
}

int CompanyCalendar::working_days_between(Day from, Day to) const {
  if (to < from) return -working_days_between(to, from);
  int count = 0;
  for (Day d = from; d < to; d += days{1}) count += is_working_day(d);
  return count;
}

Day CompanyCalendar::local_day(Instant at) const { return floor<days>(at + utc_offset(at)); }

seconds CompanyCalendar::utc_offset(Instant at) const { return zone_->get_info(at).offset; }

Instant CompanyCalendar::at_local(Day day, minutes time) const {
  date::local_seconds local{seconds{day.time_since_epoch()} + time};
  return zone_->to_sys(local, date::choose::earliest);
}

Instant CompanyCalendar::next_due(const Schedule& schedule, Instant after) const {
  // Looks from the day before `after` (a time zone's date may lag UTC's) for a day of the schedule's kind whose
  // time lies after it: usually within two months; never, should no month of the next four years have the N-th
  // working day asked for.
  Day start = local_day(after) - days{1};
  for (Day d = start; d < start + days{4 * 366}; d += days{1}) {
    year_month_day ymd{d};
    bool matches = false;
    switch (schedule.kind) {
      case Schedule::Kind::kDaily: matches = true; break;
      case Schedule::Kind::kEveryWorkingDay: matches = is_working_day(d); break;
      case Schedule::Kind::kMonthlyDay: {
        unsigned last_day = static_cast<unsigned>(year_month_day{last_of(ymd.year() / ymd.month())}.day());
        matches = static_cast<unsigned>(ymd.day()) == std::min(static_cast<unsigned>(schedule.day), last_day);
        break;
      }
      case Schedule::Kind::kMonthlyWorkingDay:
        matches = nth_working_day(ymd.year() / ymd.month(), schedule.day) == d;
        break;
    }
    if (!matches) continue;
    Instant due = at_local(d, schedule.at);
    if (due > after) return due;
  }
  return Instant::max();
}

std::optional<Instant> CompanyCalendar::previous_due(const Schedule& schedule, Instant at) const {
  std::optional<Instant> last;
  for (Instant due = next_due(schedule, at - days{400}); due <= at; due = next_due(schedule, due)) last = due;
  return last;
}

std::string CompanyCalendar::year_json(int year) const {
  auto obj = [] { return Poco::JSON::Object::Ptr(new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER)); };
  Day first = sys_days{std::chrono::year{year} / January / 1}, last = sys_days{std::chrono::year{year} / December / 31};
  Poco::JSON::Object::Ptr body = obj();
  body->set("year", year);
  body->set("time_zone", config_.time_zone);
  Poco::JSON::Array::Ptr weekend = new Poco::JSON::Array;
  for (unsigned wd : {1u, 2u, 3u, 4u, 5u, 6u, 0u}) {
    if (config_.weekend.count(wd)) weekend->add(weekday_name(wd));
  }
  body->set("weekend", weekend);
  Poco::JSON::Array::Ptr holidays = new Poco::JSON::Array, working_days = new Poco::JSON::Array;
  for (auto it = config_.holidays.lower_bound(first); it != config_.holidays.end() && it->first <= last; ++it) {
    Poco::JSON::Object::Ptr h = obj();
    h->set("date", format_date(it->first));
    h->set("name", it->second);
    holidays->add(h);
  }
  for (auto it = config_.working_days.lower_bound(first); it != config_.working_days.end() && *it <= last; ++it) {
    Poco::JSON::Object::Ptr w = obj();
    w->set("date", format_date(*it));
    w->set("weekday", weekday_name(weekday{*it}.c_encoding()));
    working_days->add(w);
  }
  body->set("holidays", holidays);
  body->set("working_days", working_days);
  Poco::JSON::Array::Ptr months = new Poco::JSON::Array;
  int total = 0;
  for (unsigned m = 1; m <= 12; ++m) {
    year_month ym = std::chrono::year{year} / month{m};
    Day begin = sys_days{ym / 1};
    int count = working_days_between(begin, last_of(ym) + days{1});
    total += count;
    Poco::JSON::Object::Ptr entry = obj();
    entry->set("month", static_cast<int>(m));
    entry->set("working_days", count);
    auto first_working = nth_working_day(ym, 1), last_working = nth_working_day(ym, count);
    entry->set("first_working_day", first_working ? Poco::Dynamic::Var(format_date(*first_working)) : Poco::Dynamic::Var());
    entry->set("last_working_day", last_working ? Poco::Dynamic::Var(format_date(*last_working)) : Poco::Dynamic::Var());
    months->add(entry);
  }
  body->set("months", months);
  body->set("working_days_in_year", total);
  body->set("today", format_date(today()));
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(body, out);
  return out.str();
}

}  // namespace annex::calendar

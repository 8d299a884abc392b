// The company calendar: working days with holidays and make-up days, month boundaries in the company's time zone,
// calendar schedules, and the clock a test can move.
#include "calendar/company_calendar.h"
#include "config/settings.h"
#include "support/calendar_2026.h"
#include "support/test_support.h"

#include <annex/calendar.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <fstream>

namespace annex::calendar {
namespace {

using namespace std::chrono;

Day on(int y, unsigned m, unsigned d) { return sys_days{year{y} / month{m} / std::chrono::day{d}}; }
Instant at(const char* text) { return *parse_instant(text); }

// The configuration `section` (the "calendar" object) as load_settings reads it.
CalendarConfig configured(const std::string& section) {
  test::TempDir dir;
  std::string path = dir.str() + "/annex.json";
  std::ofstream(path) << R"({"calendar":)" << section << "}";
  config::Settings settings;
  config::SettingsSources sources;
  sources.config_file = path;
  auto errors = config::load_settings(sources, settings);
  EXPECT_TRUE(errors.empty()) << errors.front().key << ": " << errors.front().message;
  return settings.calendar;
}

CompanyCalendar& china() {
  static CompanyCalendar calendar(configured(test::kChina2026Calendar));
  return calendar;
}

TEST(CompanyCalendar, AFreshInstallHasWeekendsOnlyInUtc) {
  CompanyCalendar plain;
  EXPECT_EQ(plain.time_zone(), "UTC");
  EXPECT_FALSE(plain.is_working_day(on(2026, 1, 3)));   // Saturday
  EXPECT_FALSE(plain.is_working_day(on(2026, 1, 4)));   // Sunday
  EXPECT_TRUE(plain.is_working_day(on(2026, 1, 1)));    // a Thursday, no holiday configured
  EXPECT_EQ(plain.nth_working_day(year{2026} / October, 3), on(2026, 10, 5));
}

TEST(CompanyCalendar, AMakeUpSundayIsTheFirstWorkingDayOfJanuary2026) {
  EXPECT_FALSE(china().is_working_day(on(2026, 1, 1)));
  EXPECT_FALSE(china().is_working_day(on(2026, 1, 2)));
  EXPECT_TRUE(china().is_working_day(on(2026, 1, 4)));
  EXPECT_EQ(china().nth_working_day(year{2026} / January, 1), on(2026, 1, 4));
  EXPECT_EQ(china().nth_working_day(year{2026} / January, 2), on(2026, 1, 5));
}

TEST(CompanyCalendar, TheThirdWorkingDayAfterNationalDayIsTheMakeUpSaturday) {
  EXPECT_EQ(china().nth_working_day(year{2026} / October, 1), on(2026, 10, 8));
  EXPECT_EQ(china().nth_working_day(year{2026} / October, 3), on(2026, 10, 10));
  EXPECT_EQ(china().nth_working_day(year{2026} / October, 4), on(2026, 10, 12));
}

TEST(CompanyCalendar, CountsWorkingDaysBetweenTwoDatesHalfOpen) {
  // February 2026: 20 weekdays, 6 of them Spring Festival holidays, 2 make-up Saturdays.
  EXPECT_EQ(china().working_days_between(on(2026, 2, 1), on(2026, 3, 1)), 16);
  EXPECT_EQ(china().working_days_between(on(2026, 3, 1), on(2026, 2, 1)), -16);
  EXPECT_EQ(china().working_days_between(on(2026, 2, 13), on(2026, 2, 13)), 0);
  // Friday 13th and the make-up Saturday 14th; the 24th itself is not counted.
  EXPECT_EQ(china().working_days_between(on(2026, 2, 13), on(2026, 2, 24)), 2);
  EXPECT_EQ(china().working_days_between(on(2026, 2, 13), on(2026, 2, 25)), 3);
  EXPECT_EQ(china().nth_working_day(year{2026} / February, 16), on(2026, 2, 28));
  EXPECT_EQ(china().nth_working_day(year{2026} / February, 17), std::nullopt);
  // Across a month boundary, Friday 30 January up to Tuesday 3 February: the 30th and Monday 2 February.
  EXPECT_EQ(china().working_days_between(on(2026, 1, 30), on(2026, 2, 3)), 2);
}

TEST(CompanyCalendar, TheDayFollowsTheCompanysTimeZoneNotUtcs) {
  CompanyCalendar utc;
  Instant late_on_31_january_utc = at("2026-01-31T16:30:00Z");
  EXPECT_EQ(china().local_day(late_on_31_january_utc), on(2026, 2, 1)) << "already 00:30 on 1 February in Shanghai";
  EXPECT_EQ(utc.local_day(late_on_31_january_utc), on(2026, 1, 31));
  EXPECT_EQ(china().midnight(on(2026, 2, 1)), at("2026-01-31T16:00:00Z"));
  EXPECT_EQ(utc.midnight(on(2026, 2, 1)), at("2026-02-01T00:00:00Z"));
  EXPECT_EQ(china().utc_offset(late_on_31_january_utc), hours{8});
  EXPECT_EQ(china().local_day(at("2026-01-31T15:59:59Z")), on(2026, 1, 31));
}

TEST(CompanyCalendar, ADaylightSavingZoneKeepsLocalMidnight) {
  CalendarConfig config;
  config.time_zone = "Europe/Berlin";
  CompanyCalendar berlin(config);
  EXPECT_EQ(berlin.midnight(on(2026, 1, 15)), at("2026-01-14T23:00:00Z"));
  EXPECT_EQ(berlin.midnight(on(2026, 7, 15)), at("2026-07-14T22:00:00Z"));
}

TEST(CompanyCalendar, CalendarSchedulesFallAtLocalTimes) {
  using Kind = Schedule::Kind;
  // The 1st of every month at 01:00 Shanghai: 17:00 UTC the day before.
  Schedule first{Kind::kMonthlyDay, 1, hours{1}};
  EXPECT_EQ(china().next_due(first, at("2026-01-31T16:30:00Z")), at("2026-01-31T17:00:00Z"));
  EXPECT_EQ(china().next_due(first, at("2026-01-31T17:00:00Z")), at("2026-02-28T17:00:00Z"));
  // The 3rd working day at 09:00: 4 February; in October the make-up Saturday.
  Schedule third{Kind::kMonthlyWorkingDay, 3, hours{9}};
  EXPECT_EQ(china().next_due(third, at("2026-02-01T00:00:00Z")), at("2026-02-04T01:00:00Z"));
  EXPECT_EQ(china().next_due(third, at("2026-10-01T00:00:00Z")), at("2026-10-10T01:00:00Z"));
  // The 31st falls on a shorter month's last day.
  Schedule last{Kind::kMonthlyDay, 31, minutes{0}};
  EXPECT_EQ(china().next_due(last, at("2026-02-01T00:00:00Z")), at("2026-02-27T16:00:00Z"));
  // Every working day skips the Spring Festival and works the make-up Saturday.
  Schedule daily{Kind::kEveryWorkingDay, 0, hours{18}};
  EXPECT_EQ(china().next_due(daily, at("2026-02-13T11:00:00Z")), at("2026-02-14T10:00:00Z"));
  EXPECT_EQ(china().next_due(daily, at("2026-02-14T10:00:00Z")), at("2026-02-24T10:00:00Z"));
  EXPECT_NE(Schedule({Kind::kMonthlyWorkingDay, 24, hours{1}}).problem(), "");
  EXPECT_NE(Schedule({Kind::kDaily, 0, hours{24}}).problem(), "");
}

TEST(CompanyCalendar, TheTestClockStandsAtTheInstantItsFileHolds) {
  test::TempDir dir;
  std::string file = dir.str() + "/now";
  HostClock clock(file);
  Instant before = floor<seconds>(system_clock::now());
  EXPECT_GE(clock.now(), before) << "no file yet: the real time";
  std::ofstream(file) << "2026-02-04T09:00:00+08:00\n";
  EXPECT_EQ(clock.now(), at("2026-02-04T01:00:00Z"));
  std::ofstream(file) << "2026-03-01T00:00:00Z";
  EXPECT_EQ(clock.now(), at("2026-03-01T00:00:00Z"));
  std::ofstream(file) << "next tuesday";
  EXPECT_EQ(clock.now(), at("2026-03-01T00:00:00Z")) << "an unreadable instant leaves the clock where it was";
  std::filesystem::remove(file);
  EXPECT_EQ(clock.now(), at("2026-03-01T00:00:00Z"));
  EXPECT_FALSE(HostClock().is_test_clock());
}

TEST(CompanyCalendar, TheYearShowsHolidaysMakeUpDaysAndWorkingDaysPerMonth) {
  auto body = Poco::JSON::Parser().parse(china().year_json(2026)).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(body->getValue<std::string>("time_zone"), "Asia/Shanghai");
  EXPECT_EQ(body->getArray("weekend")->size(), 2u);
  EXPECT_EQ(body->getArray("holidays")->size(), 33u);
  EXPECT_EQ(body->getArray("holidays")->getObject(0)->getValue<std::string>("name"), "New Year's Day");
  EXPECT_EQ(body->getArray("working_days")->size(), 6u);
  EXPECT_EQ(body->getArray("working_days")->getObject(0)->getValue<std::string>("weekday"), "sunday");
  auto february = body->getArray("months")->getObject(1);
  EXPECT_EQ(february->getValue<int>("working_days"), 16);
  EXPECT_EQ(february->getValue<std::string>("last_working_day"), "2026-02-28");
  // 261 weekdays, 19 of them holidays, 6 make-up days.
  EXPECT_EQ(body->getValue<int>("working_days_in_year"), 248);
  auto other = Poco::JSON::Parser().parse(china().year_json(2027)).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(other->getArray("holidays")->size(), 0u) << "a year not configured has weekends only";
}

}  // namespace
}  // namespace annex::calendar

// The one strict parser for dates and instants (annex/calendar.hpp), which the host and every plugin use for
// what comes from outside: four-digit years, real calendar dates, RFC 3339 offsets and fractions, and the
// canonical fixed-width forms that sort in time order.
#include <annex/calendar.hpp>

#include "clock/utc.h"

#include <gtest/gtest.h>

namespace annex::test {
namespace {

using calendar::canonical_date;
using calendar::canonical_instant;

TEST(CalendarDates, AcceptsRealDatesWithFourDigitYears) {
  EXPECT_EQ(canonical_date("2026-11-23"), "2026-11-23");
  EXPECT_EQ(canonical_date("0999-01-01"), "0999-01-01");
  EXPECT_EQ(canonical_date("9999-12-31"), "9999-12-31");
}

TEST(CalendarDates, RefusesThreeAndFiveDigitYearsAndYearZero) {
  EXPECT_FALSE(canonical_date("999-06-01"));
  EXPECT_FALSE(canonical_date("12026-06-01"));
  EXPECT_FALSE(canonical_date("0000-01-01"));
  EXPECT_FALSE(canonical_date("-999-06-01"));
}

TEST(CalendarDates, RefusesDaysThatNoCalendarHas) {
  EXPECT_FALSE(canonical_date("2027-02-30"));
  EXPECT_FALSE(canonical_date("2027-04-31"));
  EXPECT_FALSE(canonical_date("2027-13-01"));
  EXPECT_FALSE(canonical_date("2027-00-10"));
  EXPECT_FALSE(canonical_date("2027-01-00"));
}

TEST(CalendarDates, FollowsTheGregorianLeapYears) {
  EXPECT_TRUE(canonical_date("2028-02-29"));
  EXPECT_TRUE(canonical_date("2000-02-29"));
  EXPECT_FALSE(canonical_date("2027-02-29"));
  EXPECT_FALSE(canonical_date("1900-02-29"));
  EXPECT_FALSE(canonical_date("2100-02-29"));
}

TEST(CalendarDates, RefusesUnpaddedOrDecoratedText) {
  for (const char* text : {"2027-1-5", "2027-01-5", "2027-1-05", "20270105", "2027/01/05", " 2027-01-05",
                           "2027-01-05 ", "2027-01-05T00:00:00Z", "", "2027-+1-05", "２０２７-01-05"}) {
    EXPECT_FALSE(canonical_date(text)) << text;
  }
}

TEST(CalendarInstants, AcceptsUtcAndKeepsItsCanonicalForm) {
  EXPECT_EQ(canonical_instant("2026-11-23T14:00:00Z"), "2026-11-23T14:00:00Z");
  EXPECT_EQ(canonical_instant("2028-02-29T23:59:59Z"), "2028-02-29T23:59:59Z");
}

TEST(CalendarInstants, TurnsOffsetsIntoUtc) {
  EXPECT_EQ(canonical_instant("2026-11-23T22:00:00+08:00"), "2026-11-23T14:00:00Z");
  EXPECT_EQ(canonical_instant("2026-12-31T23:30:00-01:00"), "2027-01-01T00:30:00Z");
  EXPECT_EQ(canonical_instant("2024-03-01T01:00:00+02:00"), "2024-02-29T23:00:00Z");
  EXPECT_EQ(canonical_instant("2026-11-23T14:00:00+00:00"), "2026-11-23T14:00:00Z");
  EXPECT_EQ(canonical_instant("2026-11-23T14:00:00-00:00"), "2026-11-23T14:00:00Z");
}

TEST(CalendarInstants, DropsFractionalSecondsTowardsThePast) {
  EXPECT_EQ(canonical_instant("2026-11-23T14:00:00.999Z"), "2026-11-23T14:00:00Z");
  EXPECT_EQ(canonical_instant("2026-11-23T14:00:59.123456789+01:00"), "2026-11-23T13:00:59Z");
  EXPECT_FALSE(canonical_instant("2026-11-23T14:00:00.Z"));
  EXPECT_FALSE(canonical_instant("2026-11-23T14:00:00.1234567890Z"));
  EXPECT_FALSE(canonical_instant("2026-11-23T14:00:00,5Z"));
}

TEST(CalendarInstants, RefusesTheIssuesExamples) {
  EXPECT_FALSE(canonical_instant("999-06-01T00:00:00Z"));
  EXPECT_FALSE(canonical_instant("2027-02-30T00:00:00Z"));
  EXPECT_FALSE(canonical_instant("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(canonical_instant("2027-1-5T00:00:00Z"));
  // A four-digit year long past is a real instant; it is simply not now.
  EXPECT_EQ(canonical_instant("0999-01-01T00:00:00Z"), "0999-01-01T00:00:00Z");
}

TEST(CalendarInstants, RefusesMissingOrMalformedPartsAndOffsets) {
  for (const char* text :
       {"2026-11-23T14:00:00", "2026-11-23 14:00:00Z", "2026-11-23t14:00:00Z", "2026-11-23T14:00:00z",
        "2026-11-23T14:00Z", "2026-11-23T24:00:00Z", "2026-11-23T14:60:00Z", "2026-11-23T14:00:60Z",
        "2026-11-23T14:00:00+0800", "2026-11-23T14:00:00+08", "2026-11-23T14:00:00+24:00",
        "2026-11-23T14:00:00+08:60", "2026-11-23T14:00:00UTC", "2026-11-23T14:00:00Z ", "2026-11-23T4:00:00Z",
        "2026-11-23T14:00:00ZZ", ""}) {
    EXPECT_FALSE(canonical_instant(text)) << text;
  }
}

TEST(CalendarInstants, RefusesInstantsWhoseUtcTimeLeavesYearsOneTo9999) {
  EXPECT_FALSE(canonical_instant("0001-01-01T00:00:00+00:01"));
  EXPECT_EQ(canonical_instant("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
  EXPECT_FALSE(canonical_instant("9999-12-31T23:59:59-00:01"));
  EXPECT_EQ(canonical_instant("9999-12-31T23:59:59Z"), "9999-12-31T23:59:59Z");
}

TEST(CalendarInstants, CanonicalTextSortsInTimeOrder) {
  std::string early = *canonical_instant("0999-06-01T00:00:00Z"), late = *canonical_instant("2026-01-01T00:00:00Z");
  EXPECT_LT(early, late);
  EXPECT_LT(calendar::parse_instant(early), calendar::parse_instant(late));
}

TEST(UtcClock, ParsesInstantsToEpochSecondsAndRefusesTheRest) {
  EXPECT_EQ(clock::parse_instant("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(clock::parse_instant("1970-01-01T08:00:01+08:00"), 1);
  EXPECT_FALSE(clock::parse_instant("1970-1-1T00:00:00Z"));
  EXPECT_EQ(clock::utc_iso(86400 * 365), "1971-01-01T00:00:00Z");
  EXPECT_EQ(clock::utc_iso(-86400), "1969-12-31T00:00:00Z");
}

}  // namespace
}  // namespace annex::test

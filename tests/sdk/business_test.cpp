// annex/business.hpp: exact money with each currency's minor units, half-even conversion, overflow refused with
// the field named, periods, cursors and ETags.
#include <annex/business.hpp>

#include <gtest/gtest.h>

namespace annex::biz {
namespace {

const Currency kCny{"CNY", 2}, kJpy{"JPY", 0}, kKwd{"KWD", 3}, kUsd{"USD", 2};

// The field an Error names, or "" when `fn` throws nothing.
template <typename Fn>
std::string field_of(Fn&& fn, annex_status expected = ANNEX_ERR_UNPROCESSABLE) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), expected) << e.what();
    return e.field();
  }
  return "";
}

TEST(BusinessMoney, ParsesDecimalTextInEachCurrencysMinorUnits) {
  EXPECT_EQ(Money::parse("12.3", kCny, "amount").minor(), 1230);
  EXPECT_EQ(Money::parse("1500", kJpy, "amount").minor(), 1500);
  EXPECT_EQ(Money::parse("-0.005", kKwd, "amount").minor(), -5);
  EXPECT_EQ(Money::parse("92233720368547758.07", kCny, "amount").minor(), INT64_MAX);
}

TEST(BusinessMoney, RefusesMoreDecimalsThanTheCurrencyHasRatherThanRounding) {
  EXPECT_EQ(field_of([] { Money::parse("1500.5", kJpy, "lines[0].amount"); }), "lines[0].amount");
  EXPECT_EQ(field_of([] { Money::parse("1.234", kCny, "amount"); }), "amount");
  EXPECT_EQ(field_of([] { Money::parse("1e3", kCny, "amount"); }), "amount");
  EXPECT_EQ(field_of([] { Money::parse("12.", kCny, "amount"); }), "amount");
  EXPECT_EQ(field_of([] { Money::parse("+1", kCny, "amount"); }), "amount");
  EXPECT_EQ(field_of([] { Money::parse("92233720368547758.08", kCny, "amount"); }), "amount");
}

TEST(BusinessMoney, FormatsWithTheCurrencysMinorUnits) {
  EXPECT_EQ(Money(1230, kCny).decimal(), "12.30");
  EXPECT_EQ(Money(5, kCny).decimal(), "0.05");
  EXPECT_EQ(Money(1500, kJpy).decimal(), "1500");
  EXPECT_EQ(Money(-5, kKwd).decimal(), "-0.005");
  EXPECT_EQ(Money(INT64_MIN, kCny).decimal(), "-92233720368547758.08");
}

TEST(BusinessMoney, ArithmeticIsExactAndRefusesOverflowAndMixedCurrencies) {
  EXPECT_EQ(Money(100, kCny).plus(Money(250, kCny), "a").minor(), 350);
  EXPECT_EQ(Money(100, kCny).minus(Money(250, kCny), "a").minor(), -150);
  EXPECT_EQ(Money(100, kCny).times(3, "a").minor(), 300);
  EXPECT_EQ(field_of([] { Money(INT64_MAX, kCny).plus(Money(1, kCny), "total"); }), "total");
  EXPECT_EQ(field_of([] { Money(INT64_MIN, kCny).minus(Money(1, kCny), "total"); }), "total");
  EXPECT_EQ(field_of([] { Money(INT64_MAX / 2 + 1, kCny).times(2, "total"); }), "total");
  EXPECT_EQ(field_of([] { Money(INT64_MIN, kCny).negated("total"); }), "total");
  EXPECT_EQ(field_of([] { Money(1, kCny).plus(Money(1, kJpy), "lines"); }), "lines");
  EXPECT_EQ(field_of([] { (void)Money(1, kCny).compare(Money(1, kUsd), "cap"); }), "cap");
  EXPECT_TRUE(Money(1, kCny).compare(Money(2, kCny), "cap") < 0);
}

TEST(BusinessMoney, SharesRoundHalfToEven) {
  EXPECT_EQ(Money(5, kCny).share(1, 2, "a").minor(), 2);    // 2.5 → 2
  EXPECT_EQ(Money(15, kCny).share(1, 10, "a").minor(), 2);  // 1.5 → 2
  EXPECT_EQ(Money(-5, kCny).share(1, 2, "a").minor(), -2);  // -2.5 → -2
  EXPECT_EQ(Money(7, kCny).share(1, 2, "a").minor(), 4);    // 3.5 → 4
  EXPECT_EQ(Money(10000, kCny).share(125, 10000, "a").minor(), 125);  // 1.25 % in basis points
  EXPECT_EQ(field_of([] { Money(INT64_MAX, kCny).share(3, 2, "fee"); }), "fee");
}

TEST(BusinessMoney, ConvertsAtAnExactRateHalfEvenToTheTargetsMinorUnits) {
  ExchangeRate to_jpy = ExchangeRate::parse("20.5", "rate");
  EXPECT_EQ(to_jpy.convert(Money(1300, kCny), kJpy, "amount").minor(), 266);  // 13.00 × 20.5 = 266.5 → 266
  EXPECT_EQ(to_jpy.convert(Money(1500, kCny), kJpy, "amount").minor(), 308);  // 307.5 → 308
  ExchangeRate to_cny = ExchangeRate::parse("0.048780", "rate");
  EXPECT_EQ(to_cny.convert(Money(1500, kJpy), kCny, "amount").minor(), 7317);  // ¥1500 → 73.17
  ExchangeRate kwd = ExchangeRate::parse("0.0429", "rate");
  EXPECT_EQ(kwd.convert(Money(100000, kCny), kKwd, "amount").minor(), 42900);  // 1000.00 CNY → 42.900 KWD
  EXPECT_EQ(to_jpy.text(), "20.5");
}

TEST(BusinessMoney, RefusesMalformedRatesAndConversionsPastSixtyFourBits) {
  EXPECT_EQ(field_of([] { ExchangeRate::parse("0", "rate"); }), "rate");
  EXPECT_EQ(field_of([] { ExchangeRate::parse("-1.5", "rate"); }), "rate");
  EXPECT_EQ(field_of([] { ExchangeRate::parse("1.0000000000001", "rate"); }), "rate");
  EXPECT_EQ(field_of([] { ExchangeRate::parse("1234567890123456", "rate"); }), "rate");
  ExchangeRate big = ExchangeRate::parse("1000", "rate");
  EXPECT_EQ(field_of([&] { big.convert(Money(INT64_MAX, kCny), kKwd, "amount"); }), "amount");
}

TEST(BusinessArithmetic, DividesWithEitherRounding) {
  EXPECT_EQ(static_cast<int64_t>(divide(5, 2, Rounding::kHalfEven)), 2);
  EXPECT_EQ(static_cast<int64_t>(divide(5, 2, Rounding::kHalfAwayFromZero)), 3);
  EXPECT_EQ(static_cast<int64_t>(divide(-5, 2, Rounding::kHalfAwayFromZero)), -3);
  EXPECT_EQ(static_cast<int64_t>(divide(5, -2, Rounding::kHalfEven)), -2);
  EXPECT_EQ(static_cast<int64_t>(divide(7, 3, Rounding::kHalfEven)), 2);
  EXPECT_EQ(mul_div(INT64_MAX, 2, 4, Rounding::kHalfEven, "a"), INT64_MAX / 2 + 1);  // ...903.5 → ...904, even
  EXPECT_EQ(field_of([] { mul_div(1, 1, 0, Rounding::kHalfEven, "a"); }), "a");
}

TEST(BusinessPeriods, MonthsQuartersAndYearsWithTheirFirstAndLastDays) {
  auto p = Period::parse("2024-02");
  ASSERT_TRUE(p);
  EXPECT_EQ(format_date(p->first), "2024-02-01");
  EXPECT_EQ(format_date(p->last), "2024-02-29");
  EXPECT_EQ(format_date(Period::parse("2026-Q4")->first), "2026-10-01");
  EXPECT_EQ(format_date(Period::parse("2026-Q4")->last), "2026-12-31");
  EXPECT_EQ(format_date(Period::parse("2026")->last), "2026-12-31");
  EXPECT_TRUE(Period::parse("2026-11")->contains(*parse_date("2026-11-30")));
  EXPECT_FALSE(Period::parse("2026-11")->contains(*parse_date("2026-12-01")));
  for (const char* bad : {"2026-13", "2026-Q5", "2026-1", "26-11", "2026-11-01", "", "0000"}) {
    EXPECT_FALSE(Period::parse(bad)) << bad;
  }
  EXPECT_EQ(Period::month_of(*parse_date("2026-11-23")).text, "2026-11");
  EXPECT_EQ(format_date(add_months(*parse_date("2026-01-31"), 1)), "2026-02-28");
  EXPECT_EQ(days_between(*parse_date("2026-11-01"), *parse_date("2026-12-01")), 30);
  EXPECT_EQ(field_of([] { date_field("2026-02-30", "date"); }, ANNEX_ERR_INVALID_ARGUMENT), "date");
}

TEST(BusinessCursors, RoundTripAndRefuseAnythingElse) {
  std::vector<std::string> values{"2026-11-23", "cl_01", "with:colon and \xe4\xb8\xad"};
  EXPECT_EQ(decode_cursor(encode_cursor(values), 3), values);
  EXPECT_EQ(field_of([&] { decode_cursor(encode_cursor(values), 2); }, ANNEX_ERR_INVALID_ARGUMENT), "cursor");
  EXPECT_EQ(field_of([] { decode_cursor("zz", 1); }, ANNEX_ERR_INVALID_ARGUMENT), "cursor");
  EXPECT_EQ(field_of([] { decode_cursor("3a", 1, "after"); }, ANNEX_ERR_INVALID_ARGUMENT), "after");
  EXPECT_EQ(field_of([] { decode_cursor("39393a78", 1); }, ANNEX_ERR_INVALID_ARGUMENT), "cursor");  // "99:x"
}

TEST(BusinessEtags, IfMatchMustNameTheCurrentVersion) {
  EXPECT_EQ(etag(3), "\"v3\"");
  EXPECT_NO_THROW(check_if_match("", 3));
  EXPECT_NO_THROW(check_if_match("*", 3));
  EXPECT_NO_THROW(check_if_match("\"v3\"", 3));
  EXPECT_EQ(field_of([] { check_if_match("\"v2\"", 3); }, ANNEX_ERR_PRECONDITION_FAILED), "If-Match");
}

}  // namespace
}  // namespace annex::biz

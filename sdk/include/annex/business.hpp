// annex/business.hpp — optional helpers for business plugins, on top of annex/sdk.hpp: exact money in a
// currency's minor units, exchange-rate conversion, calendar dates and periods, keyset cursors and ETags.
// Header-only, standard library only; what the first-party plugins use, offered to every plugin author.
//
//     annex::biz::Currency cny{"CNY", 2}, jpy{"JPY", 0};          // minor units from annex.masterdata currency()
//     annex::biz::Money a = annex::biz::Money::parse("12.30", cny, "amount");   // 1230 minor units
//     annex::biz::Money b = a.plus(annex::biz::Money(70, cny), "amount");      // 1300; overflow → Error naming "amount"
//     auto rate = annex::biz::ExchangeRate::parse("20.5", "rate");              // 1 CNY = 20.5 JPY
//     annex::biz::Money y = rate.convert(b, jpy, "amount");                     // ¥266.5 → 266 (half-even)
//
// Every refusal is an annex::Error (UNPROCESSABLE, or INVALID_ARGUMENT for malformed text) naming the field given,
// so a route handler can let it propagate and the caller sees the field at fault.
#ifndef ANNEX_BUSINESS_HPP
#define ANNEX_BUSINESS_HPP

#include <annex/calendar.hpp>
#include <annex/sdk.hpp>

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace annex::biz {

// ---------------------------------------------------------------------------------------------------------
// Exact integer arithmetic
// ---------------------------------------------------------------------------------------------------------

__extension__ typedef __int128 wide;  // products of two amounts, which may pass 2^63

[[noreturn]] inline void too_large(std::string_view field, std::string_view what) {
  throw Error(ANNEX_ERR_UNPROCESSABLE, std::string(what) + " passes what an amount can hold (2^63 minor units)",
              std::string(field));
}

inline int64_t checked_add(int64_t a, int64_t b, std::string_view field) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) too_large(field, "the sum");
  return r;
}
inline int64_t checked_sub(int64_t a, int64_t b, std::string_view field) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) too_large(field, "the difference");
  return r;
}
inline int64_t checked_mul(int64_t a, int64_t b, std::string_view field) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) too_large(field, "the product");
  return r;
}
// `v` as 64 bits, or an Error naming `field`.
inline int64_t narrow(wide v, std::string_view field) {
  if (v > INT64_MAX || v < INT64_MIN) too_large(field, "the result");
  return static_cast<int64_t>(v);
}

enum class Rounding {
  kHalfEven,          // banker's rounding: ties to the even neighbour (money conversion, shares)
  kHalfAwayFromZero,  // commercial rounding: ties away from zero (percentages shown)
};

// p / q rounded as asked. q must not be 0.
inline wide divide(wide p, wide q, Rounding rounding) {
  if (q < 0) {
    p = -p;
    q = -q;
  }
  wide quotient = p / q, remainder = p % q;  // truncated toward zero; remainder has p's sign
  wide twice = 2 * (remainder < 0 ? -remainder : remainder);
  bool up = twice > q || (twice == q && (rounding == Rounding::kHalfAwayFromZero || quotient % 2 != 0));
  if (up && remainder != 0) quotient += p < 0 ? -1 : 1;
  return quotient;
}

// a × b / c, rounded as asked, without overflow in between; an Error naming `field` when the result passes 64 bits.
inline int64_t mul_div(int64_t a, int64_t b, int64_t c, Rounding rounding, std::string_view field) {
  if (c == 0) throw Error(ANNEX_ERR_UNPROCESSABLE, "division by zero", std::string(field));
  return narrow(divide(static_cast<wide>(a) * b, c, rounding), field);
}

inline wide pow10(int n) {
  wide v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// Money
// ---------------------------------------------------------------------------------------------------------

// A currency as master data records it: the ISO 4217 code and its minor units (JPY 0, CNY 2, KWD 3). Take the
// minor units from annex.masterdata's currency() — never assume two.
struct Currency {
  std::string code;
  int minor_units = 2;
};

inline bool is_currency_code(std::string_view c) {
  if (c.size() != 3) return false;
  for (char ch : c) {
    if (ch < 'A' || ch > 'Z') return false;
  }
  return true;
}

// An amount in whole minor units of a currency. Arithmetic is exact: sums, differences and products that pass
// 64 bits, and sums of two currencies, are refused with an Error naming the field given.
class Money {
 public:
  Money() = default;
  Money(int64_t minor, Currency currency) : minor_(minor), currency_(std::move(currency)) {}

  int64_t minor() const noexcept { return minor_; }
  const std::string& currency() const noexcept { return currency_.code; }
  int minor_units() const noexcept { return currency_.minor_units; }
  const Currency& currency_info() const noexcept { return currency_; }

  Money plus(const Money& other, std::string_view field) const {
    same_currency(other, field);
    return Money(checked_add(minor_, other.minor_, field), currency_);
  }
  Money minus(const Money& other, std::string_view field) const {
    same_currency(other, field);
    return Money(checked_sub(minor_, other.minor_, field), currency_);
  }
  Money times(int64_t factor, std::string_view field) const { return Money(checked_mul(minor_, factor, field), currency_); }
  Money negated(std::string_view field) const { return Money(checked_sub(0, minor_, field), currency_); }
  // numerator / denominator of this amount (a share, a rate in basis points: share(bp, 10000)), rounded half-even.
  Money share(int64_t numerator, int64_t denominator, std::string_view field) const {
    return Money(mul_div(minor_, numerator, denominator, Rounding::kHalfEven, field), currency_);
  }

  // Compares amounts of one currency; an Error naming `field` for two currencies.
  std::strong_ordering compare(const Money& other, std::string_view field) const {
    same_currency(other, field);
    return minor_ <=> other.minor_;
  }
  bool operator==(const Money& other) const noexcept { return minor_ == other.minor_ && currency_.code == other.currency_.code; }

  // The amount as decimal text with the currency's minor units: 1230 CNY → "12.30", 1500 JPY → "1500",
  // -5 KWD → "-0.005".
  std::string decimal() const {
    wide v = minor_;
    bool negative = v < 0;
    if (negative) v = -v;
    std::string digits;
    do {
      digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
      v /= 10;
    } while (v > 0);
    int places = currency_.minor_units;
    if (places > 0) {
      if (static_cast<int>(digits.size()) <= places) digits.insert(0, static_cast<size_t>(places + 1 - static_cast<int>(digits.size())), '0');
      digits.insert(digits.size() - static_cast<size_t>(places), ".");
    }
    return negative ? "-" + digits : digits;
  }

  // Reads decimal text ("12.3", "-0.005", "1500") in `currency`. More decimals than the currency has are refused,
  // never rounded; so are exponents, signs other than a leading '-', and amounts past 64 bits.
  static Money parse(std::string_view text, const Currency& currency, std::string_view field) {
    auto bad = [&](const std::string& why) -> Money {
      throw Error(ANNEX_ERR_UNPROCESSABLE, std::string(field) + " " + why, std::string(field));
    };
    bool negative = !text.empty() && text[0] == '-';
    std::string_view rest = negative ? text.substr(1) : text;
    size_t dot = rest.find('.');
    std::string_view whole = rest.substr(0, dot), fraction = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    auto digits = [](std::string_view s) {
      for (char c : s) {
        if (c < '0' || c > '9') return false;
      }
      return true;
    };
    if (whole.empty() || !digits(whole) || !digits(fraction) || (dot != std::string_view::npos && fraction.empty())) {
      return bad("must be a decimal number such as 12.30, not \"" + std::string(text.substr(0, 40)) + "\"");
    }
    if (static_cast<int>(fraction.size()) > currency.minor_units) {
      return bad("has " + std::to_string(fraction.size()) + " decimals; " + currency.code + " has " +
                 std::to_string(currency.minor_units));
    }
    if (whole.size() + fraction.size() > 19) return bad("is too large");
    wide v = 0;
    for (char c : whole) v = v * 10 + (c - '0');
    for (char c : fraction) v = v * 10 + (c - '0');
    v *= pow10(currency.minor_units - static_cast<int>(fraction.size()));
    if (negative) v = -v;
    return Money(narrow(v, field), currency);
  }

 private:
  void same_currency(const Money& other, std::string_view field) const {
    if (currency_.code != other.currency_.code) {
      throw Error(ANNEX_ERR_UNPROCESSABLE, "cannot combine " + currency_.code + " with " + other.currency_.code +
                                               " without an exchange rate", std::string(field));
    }
  }

  int64_t minor_ = 0;
  Currency currency_;
};

// An exchange rate as exact decimal text: how many units of the target currency one unit of the source buys.
class ExchangeRate {
 public:
  // "7.123456" → 7123456 × 10^-6. At most 15 significant digits and 12 decimals; positive.
  static ExchangeRate parse(std::string_view text, std::string_view field) {
    auto bad = [&]() -> ExchangeRate {
      throw Error(ANNEX_ERR_UNPROCESSABLE,
                  std::string(field) + " must be a positive decimal rate with at most 15 digits and 12 decimals, not \"" +
                      std::string(text.substr(0, 40)) + "\"",
                  std::string(field));
    };
    size_t dot = text.find('.');
    std::string_view whole = text.substr(0, dot), fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (whole.empty() || fraction.size() > 12 || (dot != std::string_view::npos && fraction.empty())) return bad();
    ExchangeRate r;
    int significant = 0;
    for (std::string_view part : {whole, fraction}) {
      for (char c : part) {
        if (c < '0' || c > '9') return bad();
        r.units_ = r.units_ * 10 + (c - '0');
        if (r.units_ > 0) ++significant;
      }
    }
    if (significant > 15 || r.units_ == 0) return bad();
    r.scale_ = static_cast<int>(fraction.size());
    return r;
  }

  // `amount` in `to`, rounded half-even to `to`'s minor units: minor × rate × 10^to_units / 10^from_units.
  Money convert(const Money& amount, const Currency& to, std::string_view field) const {
    wide numerator = static_cast<wide>(amount.minor()) * units_ * pow10(to.minor_units);
    wide denominator = pow10(scale_ + amount.minor_units());
    return Money(narrow(divide(numerator, denominator, Rounding::kHalfEven), field), to);
  }

  // The rate as decimal text ("7.123456").
  std::string text() const {
    return Money(static_cast<int64_t>(units_), Currency{"XXX", scale_}).decimal();
  }

 private:
  wide units_ = 0;  // the rate × 10^scale_
  int scale_ = 0;
};

// ---------------------------------------------------------------------------------------------------------
// Calendar dates and periods
// ---------------------------------------------------------------------------------------------------------

using Date = std::chrono::sys_days;

// A date as YYYY-MM-DD, parsed by the host's one strict parser; nothing when the text is not one.
inline std::optional<Date> parse_date(std::string_view text) { return calendar::parse_date(text); }
inline std::string format_date(Date d) { return calendar::format_date(d); }
// The date in `field`, or an Error naming it.
inline Date date_field(std::string_view text, std::string_view field) {
  std::optional<Date> d = parse_date(text);
  if (!d) throw Error(ANNEX_ERR_INVALID_ARGUMENT, std::string(field) + " must be a date, YYYY-MM-DD", std::string(field));
  return *d;
}

inline Date today_utc() { return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()); }

// d plus `months` calendar months; the 31st of a shorter month becomes its last day.
inline Date add_months(Date d, int months) {
  std::chrono::year_month_day ymd{d};
  auto ym = std::chrono::year_month{ymd.year(), ymd.month()} + std::chrono::months{months};
  auto last = std::chrono::year_month_day_last{ym.year(), std::chrono::month_day_last{ym.month()}}.day();
  return std::chrono::sys_days{std::chrono::year_month_day{ym.year(), ym.month(), std::min(ymd.day(), last)}};
}

// Whole days from `from` to `to` (negative when `to` is earlier).
inline int64_t days_between(Date from, Date to) { return (to - from).count(); }

// A reporting period: a month ("2026-11"), a quarter ("2026-Q4") or a year ("2026"), with its first and last day.
struct Period {
  std::string text;
  Date first;
  Date last;

  bool contains(Date d) const noexcept { return d >= first && d <= last; }

  static std::optional<Period> parse(std::string_view text) {
    auto number = [](std::string_view s, int* out) {
      if (s.empty()) return false;
      int v = 0;
      for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
      }
      *out = v;
      return true;
    };
    int year = 0, n = 0;
    if (text.size() < 4 || !number(text.substr(0, 4), &year) || year < 1) return std::nullopt;
    auto span = [&](unsigned first_month, int months) {
      Date first = std::chrono::sys_days{std::chrono::year{year} / std::chrono::month{first_month} / 1};
      return Period{std::string(text), first, add_months(first, months) - std::chrono::days{1}};
    };
    if (text.size() == 4) return span(1, 12);
    if (text.size() == 7 && text[4] == '-' && text[5] == 'Q' && number(text.substr(6), &n) && n >= 1 && n <= 4) {
      return span(static_cast<unsigned>(3 * n - 2), 3);
    }
    if (text.size() == 7 && text[4] == '-' && number(text.substr(5), &n) && n >= 1 && n <= 12) {
      return span(static_cast<unsigned>(n), 1);
    }
    return std::nullopt;
  }

  // The month holding `d` ("2026-11").
  static Period month_of(Date d) {
    std::chrono::year_month_day ymd{d};
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()));
    return *parse(text);
  }
};

// ---------------------------------------------------------------------------------------------------------
// Keyset cursors and ETags
// ---------------------------------------------------------------------------------------------------------

// An opaque cursor holding the sort values of the last row of a page (for keyset paging: "after this row").
inline std::string encode_cursor(const std::vector<std::string>& values) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (const std::string& v : values) {
    std::string raw = std::to_string(v.size()) + ":" + v;
    for (unsigned char c : raw) {
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The values of a cursor encode_cursor() made, exactly `count` of them; an Error naming `field` for anything else.
inline std::vector<std::string> decode_cursor(std::string_view text, size_t count, std::string_view field = "cursor") {
  auto bad = [&]() -> std::vector<std::string> {
    throw Error(ANNEX_ERR_INVALID_ARGUMENT, std::string(field) + " is not one this API returned", std::string(field));
  };
  if (text.size() % 2 != 0 || text.size() > 4096) return bad();
  std::string raw;
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = 0, lo = 0;
    for (auto [c, out] : {std::pair{text[i], &hi}, std::pair{text[i + 1], &lo}}) {
      if (c >= '0' && c <= '9') *out = c - '0';
      else if (c >= 'a' && c <= 'f') *out = c - 'a' + 10;
      else return bad();
    }
    raw += static_cast<char>(hi * 16 + lo);
  }
  std::vector<std::string> values;
  size_t at = 0;
  while (at < raw.size()) {
    size_t colon = raw.find(':', at);
    if (colon == std::string::npos || colon == at || colon - at > 4) return bad();
    size_t len = 0;
    for (size_t i = at; i < colon; ++i) {
      if (raw[i] < '0' || raw[i] > '9') return bad();
      len = len * 10 + static_cast<size_t>(raw[i] - '0');
    }
    if (colon + 1 + len > raw.size()) return bad();
    values.push_back(raw.substr(colon + 1, len));
    at = colon + 1 + len;
  }
  if (values.size() != count) return bad();
  return values;
}

// The ETag of a record at `version`: "\"v3\"".
inline std::string etag(int64_t version) { return "\"v" + std::to_string(version) + "\""; }

// A change sent with If-Match must name the version it read: a stale one is refused with PRECONDITION_FAILED
// (412), naming the current version. No If-Match, or "*", asks for no check.
inline void check_if_match(std::string_view if_match, int64_t version) {
  if (if_match.empty() || if_match == "*") return;
  if (if_match != etag(version)) {
    throw Error(ANNEX_ERR_PRECONDITION_FAILED,
                "the record changed since you read it (it is now " + etag(version) + "); read it again", "If-Match");
  }
}

}  // namespace annex::biz

#endif  // ANNEX_BUSINESS_HPP

// What the first-party business plugins share for their HTTP APIs, on top of the SDK and nlohmann::json:
// reading a JSON body field by field with errors that name the field, money as integer minor units with a
// currency, dates, ETags, keyset cursors and time-ordered ids. Header-only; it includes nothing of the core.
#pragma once

#include <annex/business.hpp>
#include <annex/sdk.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace annex::rest {

using nlohmann::json;

[[noreturn]] inline void invalid(const std::string& field, const std::string& message) {
  throw Error(ANNEX_ERR_INVALID_ARGUMENT, message, field);
}
[[noreturn]] inline void unprocessable(const std::string& field, const std::string& message) {
  throw Error(ANNEX_ERR_UNPROCESSABLE, message, field);
}

inline json parse_body(const Request& req) {
  json body = json::parse(req.body(), nullptr, false);
  if (!body.is_object()) invalid("body", "the body must be a JSON object");
  return body;
}

// ---- fields ----------------------------------------------------------------------------------------------

inline std::optional<std::string> opt_string(const json& body, const char* field, size_t max_len = 200) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) invalid(field, std::string(field) + " must be a string");
  std::string v = it->get<std::string>();
  if (v.size() > max_len) unprocessable(field, std::string(field) + " must be at most " + std::to_string(max_len) + " bytes");
  return v;
}

inline std::string req_string(const json& body, const char* field, size_t max_len = 200) {
  std::optional<std::string> v = opt_string(body, field, max_len);
  if (!v || v->empty()) invalid(field, std::string(field) + " is required");
  return *v;
}

inline std::optional<int64_t> opt_integer(const json& body, const char* field, int64_t min, int64_t max) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) invalid(field, std::string(field) + " must be a whole number");
  int64_t v = it->get<int64_t>();
  if (v < min || v > max) {
    unprocessable(field, std::string(field) + " must be from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

// An optional true/false field; absent or null is false.
inline bool opt_flag(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return false;
  if (!it->is_boolean()) invalid(field, std::string(field) + " must be true or false");
  return it->get<bool>();
}

inline std::string one_of(const std::string& value, const char* field, const std::vector<std::string>& allowed) {
  for (const auto& a : allowed) {
    if (a == value) return value;
  }
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  unprocessable(field, std::string(field) + " must be one of: " + list);
}

// ---- dates and times -------------------------------------------------------------------------------------

// A calendar date as YYYY-MM-DD; nothing when the text is not one (annex/calendar.hpp decides, as for the host).
inline std::optional<std::chrono::year_month_day> parse_date(std::string_view text) {
  std::optional<std::chrono::sys_days> day = annex::calendar::parse_date(text);
  if (!day) return std::nullopt;
  return std::chrono::year_month_day{*day};
}

inline std::string format_date(std::chrono::year_month_day d) { return annex::calendar::format_date(std::chrono::sys_days{d}); }

inline std::chrono::year_month_day today() {
  return std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
}

inline std::chrono::year_month_day add_days(std::chrono::year_month_day d, int64_t days) {
  return std::chrono::year_month_day{std::chrono::sys_days{d} + std::chrono::days{days}};
}

// d plus `months` calendar months; the 31st of a shorter month becomes its last day.
inline std::chrono::year_month_day add_months(std::chrono::year_month_day d, int months) {
  return std::chrono::year_month_day{biz::add_months(std::chrono::sys_days{d}, months)};
}

inline std::string date_field(const json& body, const char* field, bool required) {
  std::optional<std::string> text = opt_string(body, field, 10);
  if (!text) {
    if (required) invalid(field, std::string(field) + " is required (YYYY-MM-DD)");
    return "";
  }
  if (!parse_date(*text)) invalid(field, std::string(field) + " must be a date, YYYY-MM-DD");
  return *text;
}

// Now (or `offset_seconds` from now), UTC, with milliseconds: "2026-11-23T10:15:30.123Z".
inline std::string utc_at(int64_t offset_seconds) {
  auto now = std::chrono::system_clock::now() + std::chrono::seconds(offset_seconds);
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", text, static_cast<int>(ms));
  return out;
}
inline std::string utc_now() { return utc_at(0); }

// ---- money -----------------------------------------------------------------------------------------------

struct Money {
  int64_t amount = 0;  // minor units
  std::string currency;
};

inline constexpr int64_t kMaxAmount = 1'000'000'000'000'000;  // minor units

inline bool currency_code(std::string_view c) {
  return c.size() == 3 && std::all_of(c.begin(), c.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; });
}

// {"amount": <integer minor units>, "currency": "CNY"}; never a fraction.
inline std::optional<Money> opt_money(const json& body, const char* field, bool allow_negative = false) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  const std::string shape = std::string(field) + " is {\"amount\": whole minor units, \"currency\": \"CNY\"}";
  if (!it->is_object() || !it->contains("amount") || !it->contains("currency")) invalid(field, shape);
  const json& a = (*it)["amount"];
  if (!a.is_number_integer()) invalid(field, shape + "; amounts are never fractions");
  if (!(*it)["currency"].is_string() || !currency_code((*it)["currency"].get<std::string>())) {
    invalid(field, std::string(field) + ".currency must be an ISO 4217 code such as CNY");
  }
  if (!a.is_number_integer() || (a.is_number_unsigned() && a.get<uint64_t>() > static_cast<uint64_t>(kMaxAmount))) invalid(field, shape);
  Money m{a.get<int64_t>(), (*it)["currency"].get<std::string>()};
  if (!allow_negative && m.amount < 0) unprocessable(field, std::string(field) + " must not be negative");
  // A bound that keeps sums and amount × percentage within 64 bits.
  if (m.amount > kMaxAmount || m.amount < -kMaxAmount) unprocessable(field, std::string(field) + " is beyond 10^15 minor units");
  return m;
}

// Refuses money in a currency the host's master data does not hold (ISO 4217's, seeded at install), naming `field`.
inline void known_currency(const MasterData& masterdata, const std::string& code, const std::string& field) {
  if (!masterdata.currency(code)) unprocessable(field, code + " is not a currency in master data; use an ISO 4217 code such as CNY");
}

inline json money_json(int64_t amount, const std::string& currency) { return {{"amount", amount}, {"currency", currency}}; }

// Master data's exchange rate from `from` to `to` of `date` (YYYY-MM-DD); UNPROCESSABLE naming `field` when master
// data holds none or holds one that is not a rate.
inline biz::ExchangeRate exchange_rate(const MasterData& masterdata, const std::string& from, const std::string& to,
                                       const std::string& date, const std::string& field) {
  json key = {{"base", from}, {"quote", to}, {"rate_date", date}};
  std::optional<std::string> found = masterdata.find("exchange_rates", key.dump());
  if (!found) unprocessable(field, "no exchange rate from " + from + " to " + to + " for " + date + " in master data");
  json r = json::parse(*found, nullptr, false);
  std::string rate = r.is_object() && r.contains("rate") ? (r["rate"].is_string() ? r["rate"].get<std::string>() : r["rate"].dump()) : "";
  return biz::ExchangeRate::parse(rate, field);
}

using wide_int = biz::wide;  // for products of two amounts, which may pass 2^63

// p / c, rounded half away from zero. c must not be 0.
inline wide_int div_round(wide_int p, wide_int c) { return biz::divide(p, c, biz::Rounding::kHalfAwayFromZero); }

// a × b / c, rounded half away from zero, without overflow in between. c must not be 0.
inline int64_t mul_div(int64_t a, int64_t b, int64_t c) { return static_cast<int64_t>(div_round(static_cast<wide_int>(a) * b, c)); }

// Sums of many amounts. SQL adds integers in 64 bits (SQLite fails with "integer overflow", PostgreSQL when the
// sum is cast back to BIGINT), so a report sums `expr` in two parts, SUM(expr / 2^20) and SUM(expr % 2^20),
// neither of which can overflow for fewer than 2^33 rows of values within ±2^50 (kMaxAmount is below 2^50),
// and puts them together in 128 bits with wide_sum().
inline std::string split_sum_sql(const std::string& expr) {
  return "CAST(COALESCE(SUM((" + expr + ") / 1048576), 0) AS BIGINT), CAST(COALESCE(SUM((" + expr + ") % 1048576), 0) AS BIGINT)";
}
inline wide_int wide_sum(int64_t high, int64_t low) { return static_cast<wide_int>(high) * 1048576 + low; }

// `v` as the 64-bit amount a response carries; a figure beyond it cannot be shown, and is refused naming `field`.
inline int64_t narrow(wide_int v, const std::string& field, const std::string& what) {
  if (v > INT64_MAX || v < INT64_MIN) {
    unprocessable(field, what + " passes 2^63 minor units, more than an amount can show; narrow the request");
  }
  return static_cast<int64_t>(v);
}

// `amount` × `percent` / 100, rounded half away from zero, in integers.
inline int64_t percent_of(int64_t amount, int64_t percent) { return mul_div(amount, percent, 100); }

// `part` of `whole` in percent with `decimals` decimals ("45.50"); null when `whole` is 0. A ratio shown, never
// stored or added.
inline json percent_text(int64_t part, int64_t whole, int decimals) {
  if (whole == 0) return nullptr;
  int64_t scale = decimals == 1 ? 10 : 100;
  // In 128 bits: a part many times its whole gives a percentage beyond 64 bits.
  wide_int scaled = div_round(static_cast<wide_int>(part) * (100 * scale), whole);
  wide_int magnitude = scaled < 0 ? -scaled : scaled;
  std::string digits;
  for (wide_int units = magnitude / scale; digits.empty() || units > 0; units /= 10) digits.insert(digits.begin(), static_cast<char>('0' + units % 10));
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%0*lld", decimals, static_cast<long long>(magnitude % scale));
  return (scaled < 0 ? "-" : "") + digits + fraction;
}

// ---- JSON text --------------------------------------------------------------------------------------------

// Writes one JSON object as text, field by field, straight from a row: lists of thousands of records are the hot
// path, and building a json object per record there costs more than the query.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ~ObjectWriter() { out_ += '}'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  ObjectWriter& text(std::string_view key, std::string_view value) {
    name(key);
    if (plain(value)) {
      out_ += '"';
      out_ += value;
      out_ += '"';
    } else {
      out_ += json_quote(value);
    }
    return *this;
  }
  // A text column, without copying it out of the row.
  ObjectWriter& column(std::string_view key, const Row& row, size_t column) { return text(key, row.view(column)); }
  // The column's text, or null.
  ObjectWriter& text_or_null(std::string_view key, const Row& row, size_t column) {
    if (row.is_null(column)) return raw(key, "null");
    return text(key, row.view(column));
  }
  ObjectWriter& integer(std::string_view key, int64_t value) { return raw(key, std::to_string(value)); }
  ObjectWriter& boolean(std::string_view key, bool value) { return raw(key, value ? "true" : "false"); }
  ObjectWriter& money(std::string_view key, int64_t amount, std::string_view currency) {
    name(key);
    out_ += "{\"amount\":" + std::to_string(amount) + ",\"currency\":" + json_quote(currency) + "}";
    return *this;
  }
  ObjectWriter& raw(std::string_view key, std::string_view json_text) {
    name(key);
    out_ += json_text;
    return *this;
  }

 private:
  // Printable ASCII without quotes or backslashes needs no escaping: most ids, codes, dates and names.
  static bool plain(std::string_view v) {
    for (unsigned char c : v) {
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
    }
    return true;
  }
  void name(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }
  std::string& out_;
  bool first_ = true;
};

// ---- host services and records ---------------------------------------------------------------------------

// The host services a business plugin works with.
struct Services {
  annex::Db db;
  annex::Authz authz;
  annex::MasterData masterdata;
  annex::Audit audit;
  annex::Events events;
  annex::Directory directory;
};

// A record (as json, with id, sector_id and owner_id) as the authorisation service sees it. Views `record`.
inline ObjectRef object_ref(const char* type, const json& record) {
  return {type, record["id"].get_ref<const std::string&>(), record["sector_id"].get_ref<const std::string&>(),
          record["owner_id"].get_ref<const std::string&>()};
}

// Whether the user belongs to the sector (a member, not merely reaching it).
inline bool member_of(const Directory& directory, const std::string& user, const std::string& sector) {
  std::optional<std::string> u = directory.user(user);
  if (!u) return false;
  json sectors = json::parse(*u).value("sectors", json::array());
  return std::find(sectors.begin(), sectors.end(), sector) != sectors.end();
}

// ---- ETags -----------------------------------------------------------------------------------------------

using biz::etag;

// Answers with a record and its ETag.
inline void respond(Response& resp, const json& record, int status = 200) {
  resp.status(status).header("ETag", etag(record["version"].get<int64_t>())).body(record.dump());
}

// Answers with a record already written as JSON text, and the ETag of its version.
inline void respond(Response& resp, std::string record_json, int64_t version, int status = 200) {
  resp.status(status).header("ETag", etag(version)).body(record_json);
}

// A change sent with If-Match must name the version it read; a stale one answers 412.
inline void check_if_match(const Request& req, int64_t version) { biz::check_if_match(req.header("If-Match"), version); }

// ---- ids and cursors -------------------------------------------------------------------------------------

// "<prefix>_<ms, 12 hex><sequence, 4 hex><random, 8 hex>": unique, and in creation order when sorted, so that
// inserts append to the primary-key index and lists can page by id.
inline std::string new_id(std::string_view prefix) {
  static std::atomic<uint32_t> sequence{0};
  thread_local std::mt19937 rng{std::random_device{}()};
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  char text[48];
  std::snprintf(text, sizeof text, "%.*s_%012llx%04x%08x", static_cast<int>(prefix.size()), prefix.data(),
                static_cast<unsigned long long>(ms), static_cast<unsigned>(sequence++ & 0xffffu), static_cast<unsigned>(rng()));
  return text;
}

// A page's limit from ?limit= (1..max, default `def`).
inline int64_t page_limit(const Request& req, int64_t def = 50, int64_t max = 500) {
  std::optional<std::string> text = req.query_param("limit");
  if (!text) return def;
  if (text->empty() || text->size() > 4 || !std::all_of(text->begin(), text->end(), ::isdigit)) {
    invalid("limit", "limit must be a whole number from 1 to " + std::to_string(max));
  }
  int64_t v = std::stoll(*text);
  if (v < 1 || v > max) invalid("limit", "limit must be from 1 to " + std::to_string(max));
  return v;
}

// A keyset cursor: the sort value and the id of the last row of a page, as opaque text.
inline std::string encode_cursor(const std::string& value, const std::string& id) { return biz::encode_cursor({value, id}); }

inline std::pair<std::string, std::string> decode_cursor(std::string_view text) {
  std::vector<std::string> values = biz::decode_cursor(text, 2);
  return {values[0], values[1]};
}

}  // namespace annex::rest

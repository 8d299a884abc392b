// The one mapping language of every connection: how a remote record's fields become an Annex record's fields,
// and back. Configured per stream under "fields", one rule per Annex field:
//
//   "name": "CUST_NAME"                                      rename
//   "tier": {"from": "TIER", "values": {"1": "A", "2": "B"}, "default": "C"}    value map
//   "kind": {"const": "customer"}                            constant (pull only)
//   "region": {"concat": [{"field": "CITY"}, ", ", {"field": "COUNTRY"}]}       concatenation (pull only)
//   "opened": {"from": "OPENED", "date": "%Y%m%d"}           a date in the remote's format ↔ YYYY-MM-DD
//   "list_price": {"from": "PRICE", "money": {"currency": "CNY"}}     "12.50" ↔ {"amount": 1250, "currency": "CNY"}
//                  (or "currency_from": "CUR" for the currency in another remote field)
//   "status": {"from": "Blocked", "as": "boolean", "values": {"true": "blocked", "false": "active"}}
//
// "as" gives the remote field's type, so that a push sends what the remote takes and a pull accepts only that:
// "string", "boolean" (true/false), "integer", "decimal" (exact text, never through floating point), "date"
// (YYYY-MM-DD), "instant" (RFC 3339, normalised to UTC). It applies to renames and value maps; a value map's
// keys are the remote values as text ("true", "42", and "null" for a remote null), its values any JSON scalar.
//
// Values are coerced to the Annex field's type (a remote "30" fills an integer field). Money is parsed from
// decimal text exactly, at the minor units master data records for the record's currency (JPY 0, CNY 2, KWD 3),
// both ways; a value with more decimals than its currency has is refused rather than rounded.
#pragma once

#include "masterdata/entities.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace annex::sync {

// A value the mapping cannot convert; names the Annex field.
class MappingError : public std::runtime_error {
 public:
  MappingError(std::string field, const std::string& message) : std::runtime_error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// The minor units master data records for an ISO 4217 code (-1 when it records none), nothing for a code it does
// not hold.
using MinorUnits = std::function<std::optional<int>(const std::string& code)>;

class Mapping {
 public:
  // Parses the "fields" object for `entity`. Throws std::invalid_argument naming the rule at fault.
  Mapping(const masterdata::Entity& entity, const nlohmann::json& fields);

  // The Annex record for a remote one. Throws MappingError.
  nlohmann::json to_annex(const nlohmann::json& remote, const MinorUnits& minor_units) const;
  // The remote record for an Annex one (constants and concatenations do not travel back); `only` limits it to
  // those Annex fields when not empty. Throws MappingError.
  nlohmann::json to_remote(const nlohmann::json& annex, const MinorUnits& minor_units,
                           const std::vector<std::string>& only = {}) const;
  // The remote field an Annex field comes from, "" when it is not a plain one.
  std::string remote_field(const std::string& annex_field) const;
  std::vector<std::string> annex_fields() const;

 private:
  enum class Kind { kRename, kValues, kConst, kConcat, kDate, kMoney };
  enum class Type { kAny, kString, kBoolean, kInteger, kDecimal, kDate, kInstant };
  struct Part {
    bool is_field;
    std::string text;
  };
  struct Rule {
    std::string field;  // Annex field
    Kind kind = Kind::kRename;
    std::string from;
    Type type = Type::kAny;  // the remote field's ("as")
    std::map<std::string, nlohmann::json> values;
    std::optional<nlohmann::json> fallback;
    nlohmann::json constant;
    std::vector<Part> parts;
    std::string date_format;
    std::string currency;
    std::string currency_from;
  };
  nlohmann::json coerce(const Rule& rule, const nlohmann::json& value) const;
  // A remote value as the text a value map's keys are written in, checked against the rule's type.
  std::string remote_text(const Rule& rule, const nlohmann::json& value) const;
  // An Annex value as the remote field's type.
  nlohmann::json typed_remote(const Rule& rule, const nlohmann::json& value) const;
  // The minor units of `currency` for money rule `rule`; throws MappingError.
  static int scale_of(const Rule& rule, const std::string& currency, const MinorUnits& minor_units);

  const masterdata::Entity& entity_;
  std::vector<Rule> rules_;
};

// Exact decimal text ↔ integer minor units at `scale` decimals. Throws std::invalid_argument.
int64_t parse_minor_units(const std::string& decimal, int scale);
std::string format_minor_units(int64_t amount, int scale);

}  // namespace annex::sync

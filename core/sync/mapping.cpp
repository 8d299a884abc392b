#include "sync/mapping.h"

#include <annex/calendar.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace annex::sync {

using nlohmann::json;

int64_t parse_minor_units(const std::string& text, int scale) {
  size_t i = 0;
  bool negative = false;
  std::string s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  int64_t whole = 0, fraction = 0;
  int whole_digits = 0, fraction_digits = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++whole_digits) {
    if (whole_digits >= 15) throw std::invalid_argument("amount too large: " + text);
    whole = whole * 10 + (s[i] - '0');
  }
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      if (fraction_digits < scale) {
        fraction = fraction * 10 + (s[i] - '0');
        ++fraction_digits;
      } else if (s[i] != '0') {
        throw std::invalid_argument(text + " has more than " + std::to_string(scale) + " decimals");
      }
    }
  }
  if (i != s.size() || whole_digits + fraction_digits == 0) throw std::invalid_argument("not a decimal amount: " + text);
  for (; fraction_digits < scale; ++fraction_digits) fraction *= 10;
  int64_t factor = 1;
  for (int k = 0; k < scale; ++k) factor *= 10;
  int64_t amount = whole * factor + fraction;
  return negative ? -amount : amount;
}

std::string format_minor_units(int64_t amount, int scale) {
  bool negative = amount < 0;
  uint64_t v = negative ? static_cast<uint64_t>(-(amount + 1)) + 1 : static_cast<uint64_t>(amount);
  std::string digits = std::to_string(v);
  if (scale == 0) return (negative ? "-" : "") + digits;
  while (digits.size() <= static_cast<size_t>(scale)) digits.insert(digits.begin(), '0');
  return (negative ? "-" : "") + digits.substr(0, digits.size() - scale) + "." + digits.substr(digits.size() - scale);
}

Mapping::Mapping(const masterdata::Entity& entity, const json& fields) : entity_(entity) {
  if (!fields.is_object()) throw std::invalid_argument("fields must be an object of Annex field → rule");
  for (const auto& [name, spec] : fields.items()) {
    const masterdata::Field* target = entity.field(name);
    if (target == nullptr && name != "sector_id" && name != "owner_id") {
      throw std::invalid_argument("fields." + name + ": " + entity.name + " has no field " + name);
    }
    Rule r;
    r.field = name;
    if (spec.is_string()) {
      r.from = spec.get<std::string>();
    } else if (!spec.is_object()) {
      throw std::invalid_argument("fields." + name + ": a rule is a remote field name or an object");
    } else if (spec.contains("const")) {
      r.kind = Kind::kConst;
      r.constant = spec["const"];
    } else if (spec.contains("concat")) {
      r.kind = Kind::kConcat;
      if (!spec["concat"].is_array()) throw std::invalid_argument("fields." + name + ".concat must be an array");
      for (const auto& p : spec["concat"]) {
        if (p.is_string()) r.parts.push_back({false, p.get<std::string>()});
        else if (p.is_object() && p.contains("field") && p["field"].is_string()) r.parts.push_back({true, p["field"].get<std::string>()});
        else throw std::invalid_argument("fields." + name + ".concat: parts are strings or {\"field\": NAME}");
      }
    } else {
      if (!spec.contains("from") || !spec["from"].is_string()) {
        throw std::invalid_argument("fields." + name + ": needs \"from\" (the remote field), \"const\" or \"concat\"");
      }
      r.from = spec["from"].get<std::string>();
      if (spec.contains("as")) {
        static const std::map<std::string, Type> kTypes = {{"string", Type::kString},   {"boolean", Type::kBoolean},
                                                           {"integer", Type::kInteger}, {"decimal", Type::kDecimal},
                                                           {"date", Type::kDate},       {"instant", Type::kInstant}};
        auto t = spec["as"].is_string() ? kTypes.find(spec["as"].get<std::string>()) : kTypes.end();
        if (t == kTypes.end()) {
          throw std::invalid_argument("fields." + name + ".as: one of string, boolean, integer, decimal, date, instant");
        }
        if (spec.contains("date") || spec.contains("money")) {
          throw std::invalid_argument("fields." + name + ".as: a date or money rule has its own format");
        }
        r.type = t->second;
      }
      if (spec.contains("values")) {
        r.kind = Kind::kValues;
        if (!spec["values"].is_object()) throw std::invalid_argument("fields." + name + ".values must be an object");
        for (const auto& [k, v] : spec["values"].items()) {
          if (!v.is_primitive()) throw std::invalid_argument("fields." + name + ".values." + k + ": a string, number, boolean or null");
          try {
            if (k != "null") typed_remote(r, json(k));  // a key the remote's type cannot hold is refused now, not on a push
          } catch (const MappingError& e) {
            throw std::invalid_argument("fields." + name + ".values." + k + ": not a value of the remote's type (" + e.what() + ")");
          }
          r.values[k] = v;
        }
        if (spec.contains("default")) {
          if (!spec["default"].is_primitive()) throw std::invalid_argument("fields." + name + ".default: a string, number, boolean or null");
          r.fallback = spec["default"];
        }
      } else if (spec.contains("date")) {
        r.kind = Kind::kDate;
        r.date_format = spec["date"].get<std::string>();
      } else if (spec.contains("money")) {
        r.kind = Kind::kMoney;
        const json& m = spec["money"];
        if (!m.is_object()) throw std::invalid_argument("fields." + name + ".money must be an object");
        if (m.contains("scale")) {
          throw std::invalid_argument("fields." + name + ".money.scale: the decimals come from the currency's minor units in master data "
                                      "(JPY 0, CNY 2, KWD 3); remove \"scale\"");
        }
        r.currency = m.value("currency", std::string{});
        r.currency_from = m.value("currency_from", std::string{});
        if (r.currency.empty() == r.currency_from.empty()) {
          throw std::invalid_argument("fields." + name + ".money needs \"currency\" or \"currency_from\"");
        }
      }
    }
    rules_.push_back(std::move(r));
  }
}

std::vector<std::string> Mapping::annex_fields() const {
  std::vector<std::string> out;
  for (const auto& r : rules_) out.push_back(r.field);
  return out;
}

std::string Mapping::remote_field(const std::string& annex_field) const {
  for (const auto& r : rules_) {
    if (r.field == annex_field && (r.kind == Kind::kRename)) return r.from;
  }
  return {};
}

json Mapping::coerce(const Rule& rule, const json& value) const {
  if (value.is_null()) return value;
  const masterdata::Field* f = entity_.field(rule.field);
  if (f == nullptr) return value.is_string() ? value : json(value.dump());
  switch (f->type) {
    case masterdata::FieldType::kInt:
      if (value.is_number_integer()) return value;
      if (value.is_string()) {
        const std::string& s = value.get_ref<const std::string&>();
        try {
          size_t used = 0;
          long long v = std::stoll(s, &used);
          if (used == s.size()) return v;
        } catch (const std::exception&) {
        }
      }
      throw MappingError(rule.field, rule.field + ": \"" + (value.is_string() ? value.get<std::string>() : value.dump()) +
                                         "\" from " + rule.from + " is not a whole number");
    case masterdata::FieldType::kJson:
      if (value.is_string()) {
        json parsed = json::parse(value.get<std::string>(), nullptr, false);
        if (parsed.is_discarded()) throw MappingError(rule.field, rule.field + ": " + rule.from + " holds no JSON");
        return parsed;
      }
      return value;
    case masterdata::FieldType::kMoney: return value;
    default: return value.is_string() ? value : json(value.is_number_integer() ? std::to_string(value.get<int64_t>()) : value.dump());
  }
}

namespace {

std::string shown(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Decimal text: an optional sign, digits, and an optional fraction; exactly what it says, never through a double.
bool is_decimal_text(const std::string& t) {
  size_t i = t.size() > 0 && (t[0] == '-' || t[0] == '+') ? 1 : 0;
  size_t digits = 0, dots = 0;
  for (; i < t.size(); ++i) {
    if (t[i] == '.' && dots == 0) ++dots;
    else if (std::isdigit(static_cast<unsigned char>(t[i]))) ++digits;
    else return false;
  }
  return digits > 0 && t.back() != '.';
}

bool is_integer_text(const std::string& t) {
  size_t i = t.size() > 0 && t[0] == '-' ? 1 : 0;
  if (i == t.size() || t.size() - i > 18) return false;
  for (; i < t.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(t[i]))) return false;
  }
  return true;
}

}  // namespace

std::string Mapping::remote_text(const Rule& r, const json& v) const {
  auto refuse = [&](const char* what) {
    return MappingError(r.field, r.field + ": " + shown(v) + " from " + r.from + " is not " + what);
  };
  std::string text = shown(v);
  switch (r.type) {
    case Type::kAny: return text;
    case Type::kString:
      if (!v.is_primitive() || v.is_null()) throw refuse("a string");
      return text;
    case Type::kBoolean:
      if (v.is_boolean()) return text;
      if (v.is_string() && (text == "true" || text == "false")) return text;
      throw refuse("a boolean (true or false)");
    case Type::kInteger:
      if (v.is_number_integer() || (v.is_string() && is_integer_text(text))) return std::to_string(std::stoll(text));
      throw refuse("a whole number");
    case Type::kDecimal:
      if ((v.is_number() || v.is_string()) && is_decimal_text(text)) return text;
      throw refuse("a decimal number");
    case Type::kDate: {
      auto day = v.is_string() ? calendar::canonical_date(text) : std::nullopt;
      if (!day) throw refuse("a date (YYYY-MM-DD)");
      return *day;
    }
    case Type::kInstant: {
      auto t = v.is_string() ? calendar::canonical_instant(text) : std::nullopt;
      if (!t) throw refuse("an instant (RFC 3339, such as 2026-11-23T08:30:00Z)");
      return *t;
    }
  }
  return text;
}

json Mapping::typed_remote(const Rule& r, const json& v) const {
  auto refuse = [&](const char* what) {
    return MappingError(r.field, r.field + ": " + shown(v) + " cannot be sent to " + r.from + ", which takes " + what);
  };
  std::string text = shown(v);
  switch (r.type) {
    case Type::kAny: return v;
    case Type::kString: return text;
    case Type::kBoolean:
      if (v.is_boolean()) return v;
      if (text == "true" || text == "false") return text == "true";
      throw refuse("a boolean");
    case Type::kInteger:
      if (v.is_number_integer()) return v;
      if (is_integer_text(text)) return std::stoll(text);
      throw refuse("a whole number");
    case Type::kDecimal:
      // Decimals travel as exact text (as OData's IEEE754Compatible form and Tryton's Decimal do).
      if ((v.is_number_integer() || v.is_string()) && is_decimal_text(text)) return text;
      throw refuse("a decimal number");
    case Type::kDate: {
      auto day = calendar::canonical_date(text);
      if (!day) throw refuse("a date (YYYY-MM-DD)");
      return *day;
    }
    case Type::kInstant: {
      auto t = calendar::canonical_instant(text);
      if (!t) throw refuse("an instant (RFC 3339)");
      return *t;
    }
  }
  return v;
}

int Mapping::scale_of(const Rule& r, const std::string& currency, const MinorUnits& minor_units) {
  std::optional<int> units = minor_units ? minor_units(currency) : std::nullopt;
  if (!units) {
    throw MappingError(r.field, r.field + ".currency: \"" + currency + "\" is not a currency in master data (ISO 4217 codes such as CNY, JPY, KWD)");
  }
  if (*units < 0) throw MappingError(r.field, r.field + ".currency: master data records no minor units for " + currency);
  return *units;
}

json Mapping::to_annex(const json& remote, const MinorUnits& minor_units) const {
  json out = json::object();
  for (const auto& r : rules_) {
    switch (r.kind) {
      case Kind::kConst: out[r.field] = r.constant; break;
      case Kind::kConcat: {
        std::string text;
        for (const auto& p : r.parts) {
          if (!p.is_field) {
            text += p.text;
          } else if (remote.contains(p.text) && !remote[p.text].is_null()) {
            text += shown(remote[p.text]);
          }
        }
        out[r.field] = text;
        break;
      }
      default: {
        if (!remote.contains(r.from)) break;  // not in this record: leave the Annex field as it is
        const json& v = remote[r.from];
        if (r.kind == Kind::kValues) {
          std::string text = v.is_null() ? "null" : remote_text(r, v);
          auto it = r.values.find(text);
          if (it != r.values.end()) out[r.field] = coerce(r, it->second);
          else if (r.fallback) out[r.field] = coerce(r, *r.fallback);
          else if (v.is_null()) out[r.field] = nullptr;
          else throw MappingError(r.field, r.field + ": no value is mapped for \"" + text + "\" from " + r.from);
          break;
        }
        if (v.is_null()) {
          out[r.field] = nullptr;
          break;
        }
        std::string text = shown(v);
        if (r.kind == Kind::kDate) {
          std::tm tm{};
          const char* end = strptime(text.c_str(), r.date_format.c_str(), &tm);
          if (end == nullptr || *end != '\0') {
            throw MappingError(r.field, r.field + ": \"" + text + "\" from " + r.from + " is not a date like " + r.date_format);
          }
          char iso[16];
          std::strftime(iso, sizeof iso, "%Y-%m-%d", &tm);
          // strptime takes a 31st of any month and years of any width: keep only real dates.
          if (!calendar::parse_date(iso)) {
            throw MappingError(r.field, r.field + ": \"" + text + "\" from " + r.from + " is not a real calendar date");
          }
          out[r.field] = iso;
        } else if (r.kind == Kind::kMoney) {
          std::string currency = r.currency;
          if (!r.currency_from.empty()) {
            const json& c = remote.contains(r.currency_from) ? remote[r.currency_from] : json();
            if (!c.is_string() || c.get_ref<const std::string&>().empty()) {
              throw MappingError(r.field, r.field + ".currency: " + r.currency_from + " holds no currency code");
            }
            currency = c.get<std::string>();
          }
          int scale = scale_of(r, currency, minor_units);
          try {
            out[r.field] = {{"amount", parse_minor_units(text, scale)}, {"currency", currency}};
          } catch (const std::invalid_argument& e) {
            throw MappingError(r.field, r.field + ": " + e.what() + " (from " + r.from + ", in " + currency + ", which has " +
                                            std::to_string(scale) + ")");
          }
        } else {
          out[r.field] = coerce(r, r.type == Type::kAny ? v : json(remote_text(r, v)));
        }
      }
    }
  }
  return out;
}

json Mapping::to_remote(const json& annex, const MinorUnits& minor_units, const std::vector<std::string>& only) const {
  json out = json::object();
  for (const auto& r : rules_) {
    if (r.kind == Kind::kConst || r.kind == Kind::kConcat) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), r.field) == only.end()) continue;
    if (!annex.contains(r.field)) continue;
    const json& v = annex[r.field];
    if (r.kind == Kind::kValues) {
      std::optional<std::string> back;
      for (const auto& [remote, local] : r.values) {
        if (coerce(r, local) == coerce(r, v)) back = remote;
      }
      if (!back && v.is_null()) {
        out[r.from] = nullptr;
      } else if (!back && r.fallback && coerce(r, *r.fallback) == coerce(r, v)) {
        // The default stands for every remote value not listed: which one it was is not known, so none is sent.
      } else if (!back) {
        throw MappingError(r.field, r.field + ": no remote value of " + r.from + " is mapped to \"" + shown(v) + "\"");
      } else {
        out[r.from] = *back == "null" ? json(nullptr) : typed_remote(r, json(*back));
      }
      continue;
    }
    if (v.is_null()) {
      out[r.from] = nullptr;
      continue;
    }
    switch (r.kind) {
      case Kind::kDate: {
        std::tm tm{};
        if (strptime(v.get<std::string>().c_str(), "%Y-%m-%d", &tm) != nullptr) {
          char text[64];
          std::strftime(text, sizeof text, r.date_format.c_str(), &tm);
          out[r.from] = text;
        }
        break;
      }
      case Kind::kMoney: {
        const std::string currency = v.value("currency", std::string{});
        if (!r.currency.empty() && currency != r.currency) {
          throw MappingError(r.field, r.field + ": an amount in " + currency + " cannot be sent to " + r.from + ", which holds " + r.currency);
        }
        out[r.from] = format_minor_units(v.at("amount").get<int64_t>(), scale_of(r, currency, minor_units));
        if (!r.currency_from.empty()) out[r.currency_from] = currency;
        break;
      }
      default: out[r.from] = typed_remote(r, v);
    }
  }
  return out;
}

}  // namespace annex::sync

#include "sync/mapping.h"

#include <annex/calendar.hpp>

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
      if (spec.contains("values")) {
        r.kind = Kind::kValues;
        if (!spec["values"].is_object()) throw std::invalid_argument("fields." + name + ".values must be an object");
        for (const auto& [k, v] : spec["values"].items()) {
          if (!v.is_string()) throw std::invalid_argument("fields." + name + ".values: values are strings");
          r.values[k] = v.get<std::string>();
        }
        if (spec.contains("default") && spec["default"].is_string()) r.fallback = spec["default"].get<std::string>();
      } else if (spec.contains("date")) {
        r.kind = Kind::kDate;
        r.date_format = spec["date"].get<std::string>();
      } else if (spec.contains("money")) {
        r.kind = Kind::kMoney;
        const json& m = spec["money"];
        if (!m.is_object()) throw std::invalid_argument("fields." + name + ".money must be an object");
        r.scale = m.value("scale", 2);
        if (r.scale < 0 || r.scale > 6) throw std::invalid_argument("fields." + name + ".money.scale must be 0 to 6");
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

json Mapping::to_annex(const json& remote) const {
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
            const json& v = remote[p.text];
            text += v.is_string() ? v.get<std::string>() : v.dump();
          }
        }
        out[r.field] = text;
        break;
      }
      default: {
        if (!remote.contains(r.from)) break;  // not in this record: leave the Annex field as it is
        const json& v = remote[r.from];
        if (v.is_null()) {
          out[r.field] = nullptr;
          break;
        }
        std::string text = v.is_string() ? v.get<std::string>() : v.dump();
        if (r.kind == Kind::kValues) {
          auto it = r.values.find(text);
          if (it != r.values.end()) out[r.field] = it->second;
          else if (r.fallback) out[r.field] = *r.fallback;
          else throw MappingError(r.field, r.field + ": no value is mapped for \"" + text + "\" from " + r.from);
        } else if (r.kind == Kind::kDate) {
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
            currency = remote.contains(r.currency_from) && remote[r.currency_from].is_string() ? remote[r.currency_from].get<std::string>() : "";
          }
          try {
            out[r.field] = {{"amount", parse_minor_units(text, r.scale)}, {"currency", currency}};
          } catch (const std::invalid_argument& e) {
            throw MappingError(r.field, r.field + ": " + e.what() + " (from " + r.from + ")");
          }
        } else {
          out[r.field] = coerce(r, v);
        }
      }
    }
  }
  return out;
}

json Mapping::to_remote(const json& annex, const std::vector<std::string>& only) const {
  json out = json::object();
  for (const auto& r : rules_) {
    if (r.kind == Kind::kConst || r.kind == Kind::kConcat) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), r.field) == only.end()) continue;
    if (!annex.contains(r.field)) continue;
    const json& v = annex[r.field];
    if (v.is_null()) {
      out[r.from] = nullptr;
      continue;
    }
    switch (r.kind) {
      case Kind::kValues: {
        std::string text = v.is_string() ? v.get<std::string>() : v.dump();
        std::optional<std::string> back;
        for (const auto& [remote, local] : r.values) {
          if (local == text) back = remote;
        }
        if (back) out[r.from] = *back;
        break;
      }
      case Kind::kDate: {
        std::tm tm{};
        if (strptime(v.get<std::string>().c_str(), "%Y-%m-%d", &tm) != nullptr) {
          char text[64];
          std::strftime(text, sizeof text, r.date_format.c_str(), &tm);
          out[r.from] = text;
        }
        break;
      }
      case Kind::kMoney:
        out[r.from] = format_minor_units(v.at("amount").get<int64_t>(), r.scale);
        if (!r.currency_from.empty()) out[r.currency_from] = v.at("currency");
        break;
      default: out[r.from] = v;
    }
  }
  return out;
}

}  // namespace annex::sync

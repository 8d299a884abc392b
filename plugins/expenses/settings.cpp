#include "settings.h"

#include <algorithm>
#include <stdexcept>

namespace expenses {

using nlohmann::json;

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kOk: return "ok";
    case Outcome::kWarn: return "warn";
    default: return "block";
  }
}

nlohmann::json money_json(int64_t minor, const std::string& currency) { return {{"amount", minor}, {"currency", currency}}; }

namespace {

[[noreturn]] void bad(const std::string& key, const std::string& why) { throw std::invalid_argument(key + ": " + why); }

std::optional<int64_t> amount(const json& object, const char* name, const std::string& key) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<int64_t>() < 0) bad(key + "." + name, "must be a whole, non-negative number of minor units");
  return it->get<int64_t>();
}

Outcome outcome(const json& object, const char* name, Outcome fallback, const std::string& key) {
  auto it = object.find(name);
  if (it == object.end()) return fallback;
  std::string v = it->is_string() ? it->get<std::string>() : "";
  if (v == "ok") return Outcome::kOk;
  if (v == "warn") return Outcome::kWarn;
  if (v == "block") return Outcome::kBlock;
  bad(key + "." + name, "must be \"ok\", \"warn\" or \"block\"");
}

Limits limits(const json& object, const std::string& key) {
  if (!object.is_object()) bad(key, "must be an object of line, day, month, year, per_attendee");
  for (const auto& [k, v] : object.items()) {
    if (k != "line" && k != "day" && k != "month" && k != "year" && k != "per_attendee") bad(key + "." + k, "unknown limit (known: line, day, month, year, per_attendee)");
  }
  return {amount(object, "line", key), amount(object, "day", key), amount(object, "month", key), amount(object, "year", key),
          amount(object, "per_attendee", key)};
}

// A fresh install's categories: enough to claim with, limits left to each company.
json default_categories() {
  return json::parse(R"({
    "travel": {"gl_account": "6602", "receipt_above": 0},
    "lodging": {"gl_account": "6603", "receipt_above": 0},
    "meals": {"gl_account": "6604", "receipt_above": 20000},
    "entertainment": {"gl_account": "6605", "receipt_above": 0, "entertainment": true},
    "transport": {"gl_account": "6606", "receipt_above": 10000},
    "other": {"gl_account": "6699", "receipt_above": 0}
  })");
}

}  // namespace

Limits Category::limits_for(const std::vector<std::string>& roles, const std::optional<std::string>& grade) const {
  Limits out = limits;
  auto widen = [](std::optional<int64_t>& into, const std::optional<int64_t>& role_value, bool& first) {
    if (!role_value) return;
    into = first || !into ? role_value : std::optional<int64_t>(std::max(*into, *role_value));
  };
  bool first = true;
  auto grant = [&](const Limits& own) {
    widen(out.line, own.line, first);
    widen(out.day, own.day, first);
    widen(out.month, own.month, first);
    widen(out.year, own.year, first);
    widen(out.per_attendee, own.per_attendee, first);
    first = false;
  };
  for (const std::string& role : roles) {
    if (auto it = by_role.find(role); it != by_role.end()) grant(it->second);
  }
  if (grade) {
    if (auto it = by_grade.find(*grade); it != by_grade.end()) grant(it->second);
  }
  return out;
}

Settings Settings::parse(const json& config) {
  Settings s;
  if (!config.is_object()) return s;
  const std::string root = "plugins.org.annex.expenses";
  if (config.contains("company_currency")) s.company_currency = config["company_currency"].get<std::string>();
  if (config.contains("claim_chain")) s.claim_chain = config["claim_chain"].get<std::string>();
  if (config.contains("advance_chain")) s.advance_chain = config["advance_chain"].get<std::string>();
  if (config.contains("carry_forward")) s.carry_forward = config["carry_forward"].get<bool>();
  if (config.contains("split_window_days")) s.split_window_days = config["split_window_days"].get<int>();
  if (config.contains("advance_cap")) {
    const json& cap = config["advance_cap"];
    if (auto d = amount(cap, "default", root + ".advance_cap")) s.advance_cap = *d;
    if (cap.contains("by_role")) {
      if (!cap["by_role"].is_object()) bad(root + ".advance_cap.by_role", "must be an object of role → minor units");
      for (const auto& [role, v] : cap["by_role"].items()) {
        s.advance_cap_by_role[role] = *amount(cap["by_role"], role.c_str(), root + ".advance_cap.by_role");
      }
    }
  }
  const json categories = config.contains("categories") ? config["categories"] : default_categories();
  if (!categories.is_object() || categories.empty()) bad(root + ".categories", "must name at least one category");
  for (const auto& [code, c] : categories.items()) {
    const std::string key = root + ".categories." + code;
    if (!c.is_object()) bad(key, "must be an object");
    for (const auto& [k, v] : c.items()) {
      static const char* const known[] = {"gl_account", "entertainment", "receipt_above", "limits", "by_role", "by_grade",
                                          "over_limit", "weekend", "holiday"};
      if (std::find(std::begin(known), std::end(known), k) == std::end(known)) {
        bad(key + "." + k, "unknown key (known: gl_account, entertainment, receipt_above, limits, by_role, by_grade, over_limit, weekend, holiday)");
      }
    }
    Category cat;
    cat.code = code;
    if (!c.contains("gl_account") || !c["gl_account"].is_string() || c["gl_account"].get<std::string>().empty()) {
      bad(key + ".gl_account", "is required: the expense account the category posts to");
    }
    cat.gl_account = c["gl_account"].get<std::string>();
    if (c.contains("entertainment")) {
      if (!c["entertainment"].is_boolean()) bad(key + ".entertainment", "must be true or false");
      cat.entertainment = c["entertainment"].get<bool>();
    }
    cat.receipt_above = amount(c, "receipt_above", key);
    if (c.contains("limits")) cat.limits = limits(c["limits"], key + ".limits");
    if (c.contains("by_role")) {
      if (!c["by_role"].is_object()) bad(key + ".by_role", "must be an object of role → limits");
      for (const auto& [role, l] : c["by_role"].items()) cat.by_role[role] = limits(l, key + ".by_role." + role);
    }
    if (c.contains("by_grade")) {
      if (!c["by_grade"].is_object()) bad(key + ".by_grade", "must be an object of job grade → limits");
      for (const auto& [grade, l] : c["by_grade"].items()) cat.by_grade[grade] = limits(l, key + ".by_grade." + grade);
    }
    cat.over_limit = outcome(c, "over_limit", Outcome::kBlock, key);
    cat.weekend = outcome(c, "weekend", Outcome::kWarn, key);
    cat.holiday = outcome(c, "holiday", Outcome::kWarn, key);
    s.categories[code] = std::move(cat);
  }
  return s;
}

int64_t Settings::cap_for(const std::vector<std::string>& roles) const {
  std::optional<int64_t> best;
  for (const std::string& role : roles) {
    auto it = advance_cap_by_role.find(role);
    if (it != advance_cap_by_role.end() && (!best || it->second > *best)) best = it->second;
  }
  return best.value_or(advance_cap);
}

const Category* Settings::category(const std::string& code) const {
  auto it = categories.find(code);
  return it == categories.end() ? nullptr : &it->second;
}

}  // namespace expenses

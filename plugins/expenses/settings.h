// The expenses plugin's configuration (plugins.org.annex.expenses): the company currency, the categories with
// their GL accounts and policies, the advance cap, and the approval chains. Checked at start-up; a bad value
// stops the plugin naming its key.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace expenses {

// What breaking a rule does to a line: it may be submitted as it is, with a justification, or not at all.
enum class Outcome { kOk = 0, kWarn = 1, kBlock = 2 };
const char* outcome_name(Outcome o);

// An amount as JSON: {"amount": minor units, "currency": "CNY"}.
nlohmann::json money_json(int64_t minor, const std::string& currency);

// Limits on what one person claims in a category, in minor units of the company currency; absent: no limit.
// "day" is the line's date, "month" the 30 days and "year" the 365 days ending on it (rolling, across claims).
struct Limits {
  std::optional<int64_t> line, day, month, year;
  // Per attendee of an entertainment line (the line's amount divided by its attendees).
  std::optional<int64_t> per_attendee;
};

struct Category {
  std::string code;
  std::string gl_account;          // the expense account lines of this category post to
  bool entertainment = false;      // lines name their attendees
  std::optional<int64_t> receipt_above;  // a receipt is required above this amount (company currency)
  Limits limits;
  std::map<std::string, Limits> by_role;   // a role's own limits (each absent one falls back to the category's)
  std::map<std::string, Limits> by_grade;  // a job grade's own limits, likewise
  Outcome over_limit = Outcome::kBlock;   // what passing a limit does
  Outcome weekend = Outcome::kWarn;       // a line dated on a weekend day that is no make-up working day
  Outcome holiday = Outcome::kWarn;       // a line dated on a public holiday (the company calendar's)

  // The limits for someone holding `roles` at job `grade`: for each limit the most generous their roles and
  // grade grant, else the category's.
  Limits limits_for(const std::vector<std::string>& roles, const std::optional<std::string>& grade = std::nullopt) const;
};

struct Settings {
  std::string company_currency = "CNY";
  int company_minor_units = 2;  // from master data at start-up
  std::map<std::string, Category> categories;
  std::string claim_chain = "expense-claim";    // approvals.chains id for claims
  std::string advance_chain = "cash-advance";   // … and for advances
  int64_t advance_cap = 300000;                 // R8: 3,000.00 in the company currency
  std::map<std::string, int64_t> advance_cap_by_role;
  bool carry_forward = false;                   // an advance larger than its claims stays open, else is returned
  int split_window_days = 30;                   // the cumulative window that chooses a claim's approval chain

  // Reads the plugin configuration; throws std::invalid_argument whose text starts with the key at fault.
  static Settings parse(const nlohmann::json& config);
  // The cap for someone holding `roles`: the highest their roles grant, else the default.
  int64_t cap_for(const std::vector<std::string>& roles) const;
  const Category* category(const std::string& code) const;
};

}  // namespace expenses

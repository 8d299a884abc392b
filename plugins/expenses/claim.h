// An expense claim and its lines, as the business sees them. Money is in minor units: a line's amount in its own
// currency, and converted to the company currency at the exchange rate of its date (kept on the line).
#pragma once

#include "settings.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace expenses {

using nlohmann::json;

inline constexpr const char* kClaim = "expenses.claim";

// One rule's verdict on a line, with the figures that decided it.
struct RuleResult {
  std::string rule;     // "limit.line", "limit.month", "weekend", "receipt", "duplicate", "attendees" …
  Outcome outcome = Outcome::kOk;
  std::string message;  // for the claimant and the approver
  json figures = json::object();  // {"limit": …, "claimed": …, "other_claim": …}
};

struct PolicyVerdict {
  Outcome outcome = Outcome::kOk;  // the worst of the results
  std::vector<RuleResult> results;
  json to_json() const;
  static PolicyVerdict from_json(const json& j);
};

struct Attendee {
  std::string kind;  // contact | employee
  std::string name;
};

struct ClaimLine {
  int line_no = 0;
  std::string spent_on;  // YYYY-MM-DD
  std::string category;
  std::string merchant;
  std::string description;
  int64_t amount = 0;  // in `currency`
  std::string currency;
  std::optional<std::string> rate;  // to the company currency, when `currency` is another
  int64_t company_amount = 0;
  int64_t sanctioned = 0;
  std::optional<std::string> sanction_reason;
  std::optional<std::string> cost_centre;
  std::string gl_account;
  std::vector<Attendee> attendees;
  std::optional<int64_t> attendee_count;
  std::optional<std::string> receipt_sha256;
  std::optional<std::string> justification;
  PolicyVerdict policy;
};

struct Claim {
  std::string id;
  std::string claimant_id;
  std::string sector_id;
  std::string purpose;
  std::optional<std::string> period;
  std::optional<std::string> party_id, opportunity_id, contract_id;
  std::string status = "draft";  // draft | submitted | approved | rejected | returned | posted | paid
  std::string currency;          // the company currency
  int64_t total = 0;             // sum of the lines' company amounts
  int64_t sanctioned = 0;        // sum of the lines' sanctioned amounts
  std::optional<std::string> approval_id;
  std::optional<int64_t> chain_amount;
  json chain_basis = nullptr;
  int64_t settled_advances = 0;
  int64_t reimbursable = 0;
  std::optional<std::string> submitted_at, decided_at, paid_on;
  std::optional<std::string> posted_ref;  // the finance system's id of its journal entry
  std::string created_at, updated_at;
  int64_t version = 1;
  std::vector<ClaimLine> lines;

  // A claim can be changed by its claimant only while a draft or returned for changes.
  bool editable() const { return status == "draft" || status == "returned"; }
  // The claim as JSON text, canonical (keys sorted, as json::dump writes them), with `approval` (JSON text) as its
  // member "approval" when given; to_json() is the same, parsed.
  std::string to_text(std::string_view approval = {}) const;
  json to_json() const;
};

}  // namespace expenses

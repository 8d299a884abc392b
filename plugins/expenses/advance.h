// A cash advance: requested → approved (or rejected) → paid by finance → settled by claims or returned; a claim
// that comes to less than it leaves it return_due (its rest handed back) unless the policy carries it forward. What is
// open on it (amount − settled − returned) counts toward its requester's outstanding balance, which may never pass
// the cap (R8). An advance with charges (another plugin's expense, such as relationship fees) posts as that
// expense and is settled the moment it is paid.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace expenses {

inline constexpr const char* kAdvance = "expenses.advance";

// What an advance paying out an expense approved elsewhere is charged to: a GL account and its share.
struct Charge {
  std::string account;
  int64_t amount = 0;
  std::string description;
};

struct Advance {
  std::string id;
  std::string requester_id;
  std::string sector_id;
  std::string purpose;
  std::optional<std::string> party_id;
  std::optional<std::string> reference;  // what another plugin drew it for
  std::string currency;
  int64_t amount = 0;
  int64_t settled = 0;
  int64_t returned = 0;
  std::string status = "requested";  // requested | approved | rejected | paid | return_due | settled
  std::optional<std::string> approval_id;
  std::optional<std::string> paid_on;
  std::optional<std::string> posted_ref;  // the finance system's id of its journal entry
  // Set for an advance that pays out an expense approved elsewhere: posted to these accounts (on the requester's
  // cost centre) when paid, and settled then.
  std::vector<Charge> charges;
  std::optional<std::string> cost_centre;
  std::string created_at, updated_at;
  int64_t version = 1;

  // Still owed: counts toward the outstanding balance until settled or returned (never once rejected).
  int64_t open() const { return status == "rejected" ? 0 : amount - settled - returned; }
  nlohmann::json to_json() const;
};

}  // namespace expenses

// A special expense to win a new customer (R6): an application — customer, opportunity, amount, purpose and
// justification — filed by a rep before the customer's first contract is signed, and approved through the host's
// approval chain. It becomes payable only after collection of that contract, which the statements decide.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace relationship_spending {

inline constexpr const char* kSpecialExpense = "relationship.special_expense";

struct SpecialExpense {
  std::string id;
  std::string party_id;                       // the customer, a party of master data
  std::optional<std::string> opportunity_id;  // the pipeline's opportunity for that customer
  int64_t amount = 0;                         // minor units of `currency`, more than zero
  std::string currency;
  std::string purpose;                        // a purpose's code (purpose.h)
  std::string justification;                  // why, for the approver
  std::string rep_id;                         // who applied
  std::string sector_id;
  std::string status = "filed";               // filed | approved | rejected | returned (then filed again)
  std::optional<std::string> approval_id;
  int64_t approval_round = 1;                 // the round of the approval it waits on or was decided in
  std::optional<std::string> decided_by, decision_comment, decided_at;
  std::string filed_on;                       // YYYY-MM-DD, company time zone
  std::string filed_at, created_at, updated_at;
  int64_t version = 1;

  nlohmann::json to_json() const;
};

// A customer's first signed contract (the earliest signing date), as the contracts plugin tells it.
struct FirstSigned {
  std::string contract_id, number;
  std::string signed_on;  // YYYY-MM-DD

  nlohmann::json to_json() const { return {{"contract_id", contract_id}, {"number", number}, {"signed_on", signed_on}}; }
};

// An approved application and its customer's first signed contract, when there is one: payable only after that
// contract is collected, which the statement decides.
struct ApprovedSpecialExpense {
  SpecialExpense application;
  std::optional<FirstSigned> first_signed;

  // R6 as the statement applies it: the application was filed no later than the day of the first signing (or the
  // customer has signed nothing yet). Filing is refused once a signing is known, but a contract may be recorded
  // later with an earlier signing date; such an application was filed after the signing and is never payable.
  bool filed_before_signing() const { return !first_signed || application.filed_on <= first_signed->signed_on; }
};

}  // namespace relationship_spending

// Exceptions for auditors (issue point 11): what the rules refused or flagged — a special expense applied for after
// the customer's first signing, a late statement, an over-cap draw … — each kept with the rep, the sector, the
// customer, the record it is about and the figures behind it. Recorded in a transaction of its own, so that the
// record stays when the request that met the rule is refused and rolled back; every one is audited.
#pragma once

#include "services.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace relationship_spending {

inline constexpr const char* kException = "relationship.exception";
// Reading exceptions, within the reader's reach (finance and auditors: all).
inline constexpr const char* kExceptionsRead = "relationship.exception.read";

// The kinds auditors list, stored by their names ("pre_approval_after_signing").
enum class ExceptionKind {
  kPreApprovalAfterSigning,  // R6: a special expense applied for after the customer's first signing
  kLateFiling,               // R4: a statement submitted after the 3rd working day
  kLateSignature,            // R5: a signature after the 8th working day
  kMissingSignature,         // R5: a statement lacking one of its three approvals
  kOverCapAttempt,           // R8: a draw that would take the outstanding advance over the cap
  kOverRatio,                // spending ÷ collected revenue above the warning threshold
  kDisputedSpotCheck,        // R9: a sampled customer the sector head disputes
  kRecovery,                 // R2: a payout over what was collected, recovered on a later statement
  kOverLimit,                // a customer's spending over the rolling window above the limit (anti-splitting)
};

const char* exception_kind_name(ExceptionKind kind);
// The kind named `name`; nothing for any other text.
std::optional<ExceptionKind> exception_kind(std::string_view name);

struct ControlException {
  std::string id;
  ExceptionKind kind = ExceptionKind::kPreApprovalAfterSigning;
  std::string rep_id;     // whose attempt or breach it is
  std::string sector_id;  // the rep's (or the record's) sector: who reaches the exception
  std::optional<std::string> party_id;
  std::string subject_type, subject_id;  // the record it is about: "contracts.contract" / its id
  nlohmann::json detail = nlohmann::json::object();
  std::string at;  // UTC, the host clock

  nlohmann::json to_json() const;
};

class Exceptions {
 public:
  explicit Exceptions(Services& s) : s_(s) {}

  // Records `exception` (its id and time filled in here) with its audit entry by `principal_id`, in a transaction
  // of its own, and returns it as stored. Call it with no write transaction open on this thread: on SQLite the
  // writer would wait for itself.
  ControlException record(ControlException exception, std::string_view principal_id) const;

  // GET /api/v1/relationship-spending/exceptions (filters: kind, rep_id, from, to — dates of `at`; cursor, limit),
  // within the caller's reach: finance and auditors see all, a sector head the sector's, a rep their own.
  void list(const annex::Request& req, annex::Response& resp) const;

 private:
  Services& s_;
};

}  // namespace relationship_spending

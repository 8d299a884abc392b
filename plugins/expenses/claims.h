// The claims API under /api/v1/expenses/claims: thin handlers over the claim repository, the policy engine, the
// host's approval chains and the advance ledger (for settlement once a claim is approved).
#pragma once

#include "advance_ledger.h"
#include "claim_repository.h"
#include "policy.h"
#include "posting.h"
#include "services.h"

namespace expenses {

struct LineLookups;  // claims.cpp

inline constexpr int64_t kReceiptMaxBytes = 10 << 20;

class Claims {
 public:
  Claims(Services& s, const Settings& settings, ClaimRepository& claims, AdvanceLedger& advances, const Posting* posting)
      : s_(s), settings_(settings), claims_(claims), advances_(advances), posting_(posting), policy_(settings, claims, s.calendar) {}

  // A draft; with "submit": true the claim is submitted at once, in the same transaction.
  void create(const annex::Request& req, annex::Response& resp);
  void list(const annex::Request& req, annex::Response& resp);
  void get(const annex::Request& req, annex::Response& resp);
  // The claim with what an approver needs beside it: policy results, duplicates, reused receipts, the
  // claimant's outstanding advances and the cumulative spend that chose the chain.
  void review(const annex::Request& req, annex::Response& resp);
  void replace(const annex::Request& req, annex::Response& resp);
  void submit(const annex::Request& req, annex::Response& resp);
  void sanction(const annex::Request& req, annex::Response& resp);
  void mark_paid(const annex::Request& req, annex::Response& resp);
  void attach_receipt(const annex::Request& req, annex::Response& resp);
  void receipt(const annex::Request& req, annex::Response& resp);

  // An approval of a claim reached an outcome (annex.approval.* events; at least once, so idempotent by `key`).
  void on_approval(const nlohmann::json& payload, const std::string& key);
  // The finance system took the claim's journal entry (`status`: {"state": "delivered", "remote_id"}) or refused it
  // for good ({"state": "dead", "reason"}). At least once: idempotent.
  void on_posted(const std::string& claim_id, const nlohmann::json& status);
  // A payment confirmation from the finance system for the claim (at least once: idempotent).
  void paid_by_finance(const std::string& claim_id, const std::string& paid_on, const std::string& payment_id);

 private:
  Claim reachable(const annex::Request& req, std::string_view permission) const;
  // Reads the claim's fields and lines from a request body into `claim` (checked, converted, costed).
  void read_body(const nlohmann::json& body, Claim& claim, const std::string& caller) const;
  ClaimLine read_line(const nlohmann::json& line, size_t index, LineLookups& seen) const;
  // Takes the claimant's submission lock in `txn`: one submission per person at a time.
  // Evaluates the policies again, refuses a blocked line or a warned one without its justification, chooses the
  // chain by the cumulative amount and submits it for approval; `claim` turns submitted. Returns the approval as JSON text.
  std::string submit_in(annex::Transaction& txn, Claim& claim, const std::string& caller, const Claimant& who);

  Services& s_;
  const Settings& settings_;
  ClaimRepository& claims_;
  AdvanceLedger& advances_;
  const Posting* posting_;  // null when no posting is configured
  PolicyEngine policy_;
};

}  // namespace expenses

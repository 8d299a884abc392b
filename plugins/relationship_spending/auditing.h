// What auditors start from, under /api/v1/relationship-spending/: a period's statements with their state,
// signatures and lateness, and the patterns worth a look — amounts just under a threshold, round amounts, reps whose
// spend-to-collected ratio stands far above their sector's, spending on customers who have not paid — each with the
// records behind it. Everything within the caller's reach (auditors and finance: all; a sector head: the sector; a
// rep: their own).
#pragma once

#include "services.h"
#include "settings.h"
#include "spot_checks.h"
#include "statements.h"

#include <annex/sdk.hpp>

namespace relationship_spending {

inline constexpr const char* kAuditRead = "relationship.audit.read";

class Audits {
 public:
  Audits(Services& s, const Settings& settings, const Statements& statements, const SpotCheckRepository& checks,
         const ContractsClient& contracts)
      : s_(s), settings_(settings), statements_(statements), checks_(checks), contracts_(contracts) {}

  // GET …/periods/{period}: every statement of the month within reach, with its state, signatures (who, when, for
  // whom), lateness, payable and drawn amounts, spot-check outcomes and exceptions.
  void period(const annex::Request& req, annex::Response& resp) const;
  // GET …/patterns?from=&to= (YYYY-MM-DD; default: the last 90 days).
  void patterns(const annex::Request& req, annex::Response& resp) const;
  // GET …/statements/{id}/evidence and …/periods/{period}/evidence: one ZIP archive, verifiable offline with
  // `annexctl audit verify --file`, holding each statement (its frozen content and hash), its approval and
  // decisions, the contracts and collections behind it, its payouts, the spot-check draw, its exceptions — and the
  // host's proof of their audit entries up to a signed checkpoint.
  void statement_evidence(const annex::Request& req, annex::Response& resp) const;
  void period_evidence(const annex::Request& req, annex::Response& resp) const;

 private:
  Services& s_;
  const Settings& settings_;
  const Statements& statements_;
  const SpotCheckRepository& checks_;
  const ContractsClient& contracts_;

  // Adds a statement's documents and audited objects to a pack under construction (document names prefixed by
  // `prefix`).
  void add_statement(const Statement& st, const std::string& prefix, std::vector<annex::Audit::Document>& documents,
                     std::vector<annex::Audit::Object>& objects) const;
  void send_pack(annex::Response& resp, const std::string& principal, const std::string& title, const std::string& filename,
                 const std::vector<annex::Audit::Object>& objects, const std::vector<annex::Audit::Document>& documents) const;
};

// The median of `values` (not empty), the lower middle for an even count.
int64_t median(std::vector<int64_t> values);

}  // namespace relationship_spending

// The statements API under /api/v1/relationship-spending/statements: thin handlers over the statement
// repository — reading within reach, drafting a month on demand, the rep's submission (late after the 3rd working
// day), the three signatures through the host's approval chain (late after the 8th), the frozen content, the
// printable rendering, and the payout of a valid statement's fees as a cash advance from the 9th working day.
#pragma once

#include "drafting.h"
#include "exception.h"
#include "partners.h"
#include "services.h"
#include "settings.h"
#include "statement_repository.h"

#include <nlohmann/json.hpp>

#include <functional>

namespace relationship_spending {

inline constexpr const char* kStatementRead = "relationship.statement.read";
inline constexpr const char* kStatementSubmit = "relationship.statement.submit";
inline constexpr const char* kStatementDraft = "finance.relationship.statements";
inline constexpr const char* kPayoutSubmit = "relationship.payout.submit";

class Statements {
 public:
  Statements(Services& s, const Settings& settings, StatementRepository& statements, FeeRepository& fees, SpendRepository& spend,
             Drafter& drafter, const AdvancesClient& advances, const Exceptions& exceptions)
      : s_(s), settings_(settings), statements_(statements), fees_(fees), spend_(spend), drafter_(drafter), advances_(advances),
        exceptions_(exceptions) {}

  void list(const annex::Request& req, annex::Response& resp);
  void get(const annex::Request& req, annex::Response& resp);
  // POST …/statements/draft {"period": "YYYY-MM"}: what the job on the 1st does, for finance, for a month that
  // has ended (again: nothing twice).
  void draft(const annex::Request& req, annex::Response& resp);
  // POST …/statements/{id}/submit (If-Match): the rep files it; after the 3rd working day it is flagged late
  // and still accepted.
  void submit(const annex::Request& req, annex::Response& resp);
  // GET …/statements/{id}/print: HTML for print, with the three signers and their times.
  void print(const annex::Request& req, annex::Response& resp);
  // POST …/statements/{id}/payouts {"amount"?}: draws payable fees of a valid statement as a cash advance.
  void payout(const annex::Request& req, annex::Response& resp);
  void payouts(const annex::Request& req, annex::Response& resp);

  // An approval of a statement decided (annex.approval.* event): signed, returned or rejected.
  void on_approval(const nlohmann::json& payload, const std::string& idempotency_key);
  // The monthly job: drafts the month before today's.
  void draft_previous_month();
  // The daily job: every statement still unsigned after its 8th working day is an exception (once).
  void flag_missing_signatures();
  // The minutely job: a payout reserved on its statement whose draw was never recorded (annexd stopped between
  // the two) is finished — the draw asked again under the same reference, which the ledger answers with the
  // advance drawn then, or draws now — or, refused, its reservation given back. Payouts reserved in the last
  // `grace_seconds` are left alone: their draw may be under way at another daemon. Returns a line per payout.
  std::vector<std::string> resume_payouts(int grace_seconds = 60);

  // The signatures a statement's approval holds ({"signed": [{"step", "by", "on_behalf_of", "at"}]}), and the
  // steps still missing ({"missing": [...]}).
  nlohmann::json signatures(const Statement& s) const;
  const StatementRepository& repository() const { return statements_; }

  // Hears each payout once it is drawn (the spot check follows the first).
  std::function<void(const Statement&)> after_payout;

 private:
  // The statement of the path's {id}, if the caller may read it (else NOT_FOUND, like a missing one).
  Statement reachable(const annex::Request& req) const;
  annex::ObjectRef ref(const Statement& s) const { return {kStatement, s.id, s.sector_id, s.rep_id}; }
  // R3: what a draw of `amount` pays, by fee account, after the `position` already drawn on the statement.
  nlohmann::json charges_of(const Statement& st, int64_t position, int64_t amount) const;
  // R7, R8: draws payout `p` through the expenses ledger, under both caps; refused, the reservation is given back
  // (and an attempt over a cap recorded); drawn, the advance is kept on the payout and the payout audited.
  nlohmann::json draw(const Statement& st, Payout& p, const nlohmann::json& charges, const std::string& caller);
  void release(const Statement& st, const Payout& p);
  // Whether now is past the end of `due` (YYYY-MM-DD) in the company's time zone.
  bool after_day(const std::string& due) const;

  Services& s_;
  const Settings& settings_;
  StatementRepository& statements_;
  FeeRepository& fees_;
  SpendRepository& spend_;
  Drafter& drafter_;
  const AdvancesClient& advances_;
  const Exceptions& exceptions_;
};

}  // namespace relationship_spending

// The cash-advance API under /api/v1/expenses/advances, and the ledger operations the advances service
// (org.annex.expenses.advances@1) offers other plugins: balance, draw under the cap, settle.
#pragma once

#include "advance_ledger.h"
#include "posting.h"
#include "services.h"

namespace expenses {

class Advances {
 public:
  Advances(Services& s, const Settings& settings, AdvanceLedger& ledger, const Posting* posting)
      : s_(s), settings_(settings), ledger_(ledger), posting_(posting) {}

  void request(const annex::Request& req, annex::Response& resp);
  void list(const annex::Request& req, annex::Response& resp);
  void get(const annex::Request& req, annex::Response& resp);
  void mark_paid(const annex::Request& req, annex::Response& resp);
  void record_return(const annex::Request& req, annex::Response& resp);
  void balance(const annex::Request& req, annex::Response& resp);
  void ageing(const annex::Request& req, annex::Response& resp);

  // An advance's approval reached an outcome (idempotent by `key`).
  void on_approval(const nlohmann::json& payload, const std::string& key);
  // The finance system took (or refused for good) the journal entry of a paid advance; idempotent.
  void on_posted(const std::string& advance_id, const nlohmann::json& status);
  // A payment confirmation from the finance system: the advance was paid out there (and is booked there).
  void paid_by_finance(const std::string& advance_id, const std::string& paid_on, const std::string& payment_id);

  // For the service: {"user_id", "outstanding", "cap", "available", "currency"}.
  nlohmann::json balance_of(const std::string& user_id) const;
  // Requests an advance for `user_id` under the cap, into the advance chain; the new advance as JSON.
  // With `charges` (adding up to `amount`) it pays out an expense approved elsewhere: see settle_charged().
  nlohmann::json draw(const std::string& user_id, int64_t amount, const std::string& purpose,
                      const std::optional<std::string>& party_id, const std::optional<std::string>& reference,
                      const std::string& actor, std::vector<Charge> charges = {});
  // Settles `amount` against the person's paid advances, oldest first; {"settled", "unsettled", "advances": [...]}.
  nlohmann::json settle(const std::string& user_id, int64_t amount, const std::string& reference, const std::string& actor);

 private:
  Advance reachable(const annex::Request& req, std::string_view permission) const;
  Advance finance_change(const annex::Request& req, const char* what) const;
  // An advance with charges, being paid: the expense it pays out is accounted for by what it was drawn for, so it
  // is settled at once (its share of the person's balance given back) and posted to its charges' accounts —
  // against the bank, or against advance clearing when the finance system booked the payment itself.
  void settle_charged(annex::Transaction& txn, Advance& a, bool booked_by_finance);

  Services& s_;
  const Settings& settings_;
  AdvanceLedger& ledger_;
  const Posting* posting_;  // null when no posting is configured
};

}  // namespace expenses

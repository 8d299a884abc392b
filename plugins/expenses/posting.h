// Posting to finance: an approved claim becomes one balanced journal entry (each line's expense account and cost
// centre debited with its sanctioned amount; advance clearing credited with what the claim settled, the employee
// payable with the rest); a paid advance debits advance clearing and credits the bank, its return the reverse.
// Entries are handed to the sync engine's document stream inside the transaction that makes the change (the
// outbox), keyed "claim-<id>", "advance-<id>", "advance-return-<id>-<n>", so each reaches the finance system once.
// Payment confirmations pulled back from it mark claims and advances paid.
#pragma once

#include "advance.h"
#include "claim.h"
#include "settings.h"

#include <annex/sdk.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace expenses {

struct PostingSettings {
  std::string connection;        // sync.connections.<c>
  std::string journal_stream;    // a push document stream owned by this plugin
  std::string payments_stream;   // a pull document stream of payment confirmations ("" for none)
  std::string advance_clearing_account;
  std::string employee_payable_account;
  std::string bank_account;
};

class Posting {
 public:
  Posting(annex::Documents documents, PostingSettings settings, const Settings& company)
      : documents_(std::move(documents)), settings_(std::move(settings)), company_(company) {}

  // The entry of an approved claim, queued in `txn`.
  void claim_approved(annex::Transaction& txn, const Claim& claim) const;
  void advance_paid(annex::Transaction& txn, const Advance& advance) const;
  void advance_returned(annex::Transaction& txn, const Advance& advance, int64_t amount) const;
  // An advance with charges, paid: its charges' accounts debited on its cost centre, the bank credited — or,
  // `booked_by_finance`, advance clearing (the finance system booked the payment against it itself).
  void charged_advance_paid(annex::Transaction& txn, const Advance& advance, bool booked_by_finance) const;

  const PostingSettings& settings() const { return settings_; }

  // The entry for a claim (exposed for tests of its balance).
  static nlohmann::json claim_entry(const Claim& claim, const PostingSettings& s);

 private:
  void queue(annex::Transaction& txn, const std::string& key, const nlohmann::json& entry) const;

  annex::Documents documents_;
  PostingSettings settings_;
  const Settings& company_;
};

// Reads "posting" from the plugin configuration; nothing when absent. Throws std::invalid_argument naming the key.
std::optional<PostingSettings> parse_posting(const nlohmann::json& config);

}  // namespace expenses

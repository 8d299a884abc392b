// AdvanceLedger — advances in the plugin's tables and each person's outstanding balance. The cap is enforced in
// the database by one conditional UPDATE of the person's balance row, so any number of concurrent requests, on
// one daemon or several, can never together take it past the cap.
#pragma once

#include "advance.h"

#include <annex/sdk.hpp>

#include <optional>
#include <string>
#include <vector>

namespace expenses {

// One advance a claim settled, and by how much.
struct Settlement {
  std::string advance_id;
  int64_t amount = 0;
  int64_t left_open = 0;  // what stays open on the advance afterwards
};

class AdvanceLedger {
 public:
  explicit AdvanceLedger(annex::Db db) : db_(std::move(db)) {}

  // Adds `amount` to `user`'s outstanding balance when it stays within `cap`; otherwise UNPROCESSABLE naming
  // "amount", with the balance, the request and the cap in the message (`shown` formats an amount).
  void reserve(annex::Transaction& txn, const std::string& user, int64_t amount, int64_t cap,
               const std::function<std::string(int64_t)>& shown);
  // Takes `amount` off the balance: rejected, settled or returned.
  void release(annex::Transaction& txn, const std::string& user, int64_t amount);
  int64_t outstanding(const std::string& user, annex::Transaction* txn = nullptr) const;

  std::optional<Advance> find(const std::string& id, annex::Transaction* txn = nullptr) const;
  std::optional<Advance> find_by_approval(const std::string& approval_id, annex::Transaction* txn = nullptr) const;
  // The advance drawn for `requester` under `reference` (one at most: see migration 006).
  std::optional<Advance> find_by_reference(const std::string& requester, const std::string& reference,
                                           annex::Transaction* txn = nullptr) const;
  void insert(annex::Transaction& txn, const Advance& a);
  // CONFLICT when the stored version is not `a.version`; bumps it.
  void update(annex::Transaction& txn, Advance& a);
  // The person's paid advances with something open, oldest first: those claims may still settle ("paid"), and
  // with `return_due` also those whose rest is to be handed back.
  std::vector<Advance> open_paid(const std::string& user, annex::Transaction* txn = nullptr, bool return_due = false) const;
  // Settles `amount` against the person's paid advances, oldest first, for claim `claim_id`; returns what each
  // took. What is left of `amount` is the claim's to reimburse. An advance the amount does not use up is, unless
  // the policy carries it forward, "return_due": its rest is handed back (and no later claim settles it).
  std::vector<Settlement> settle(annex::Transaction& txn, const std::string& user, const std::string& claim_id, int64_t amount,
                                 const std::string& now, bool carry_forward);

 private:
  annex::Db db_;
};

}  // namespace expenses

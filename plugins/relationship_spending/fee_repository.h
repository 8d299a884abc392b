// FeeRepository — the fee ledger in the plugin's tables: fees recorded as contracts are signed, the open ones
// (not yet wholly payable), a contract's fees, and what statements made payable.
#pragma once

#include "fee.h"

#include <annex/sdk.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace relationship_spending {

class FeeRepository {
 public:
  explicit FeeRepository(annex::Db db) : db_(std::move(db)) {}

  // Records a fee unless it is recorded already (drafting again records nothing twice). True when new.
  bool insert(annex::Transaction& txn, const Fee& fee);
  // The contracts with a fee not yet wholly payable.
  std::set<std::string> open_contracts() const;
  // Every fee on the contracts `contract_ids`.
  std::vector<Fee> of_contracts(const std::vector<std::string>& contract_ids) const;
  // Of every fee on the contracts `contract_ids`, who earned how much on which contract signed when: what drafting
  // needs to know before it reads a rep's fees whole (as of_contracts has them, in the same order).
  struct Credit {
    std::string contract_id, rep_id, signed_on;
    int64_t earned = 0;
  };
  std::vector<Credit> credits_on(const std::vector<std::string>& contract_ids) const;
  // Sets what statements have made payable of one fee.
  void set_payable(annex::Transaction& txn, const Fee& fee, int64_t payable);
  // The same for many fees (each with what is payable of it now), a few hundred to a statement.
  void set_payable(annex::Transaction& txn, const std::vector<std::pair<const Fee*, int64_t>>& changes);

  // Approved special expenses (R6) as fees: what statements made payable of each so far.
  struct SpecialPayable {
    std::string application_id, rep_id;
    std::optional<std::string> contract_id;
    int64_t amount = 0, payable = 0;
  };
  std::map<std::string, SpecialPayable> special_payables() const;  // by application
  void set_special_payable(annex::Transaction& txn, const SpecialPayable& p);
  // The reps with an approved special expense whose application no statement has carried yet.
  std::vector<std::string> reps_with_new_special_expenses() const;

 private:
  annex::Db db_;
};

}  // namespace relationship_spending

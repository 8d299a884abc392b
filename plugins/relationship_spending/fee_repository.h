// FeeRepository — the fee ledger in the plugin's tables: fees recorded as contracts are signed, the open ones
// (not yet wholly payable), a contract's fees, and what statements made payable.
#pragma once

#include "fee.h"

#include <annex/sdk.hpp>

#include <set>
#include <string>
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
  // Sets what statements have made payable of one fee.
  void set_payable(annex::Transaction& txn, const Fee& fee, int64_t payable);

 private:
  annex::Db db_;
};

}  // namespace relationship_spending

// The service org.annex.contracts@1 (annex/services/contracts.h): what other plugins — the relationship-spending
// rules above all — may know of signed contracts, their lines, split credit and collections, without reading the
// contracts plugin's tables.
#pragma once

#include "contracts.h"

#include <annex/services/contracts.h>

namespace contracts {

// The queries behind the service, on the plugin's own tables.
class ContractQueries {
 public:
  explicit ContractQueries(Services services) : s_(std::move(services)) {}

  // The contract with its lines and splits, or NOT_FOUND (also when out of `user_id`'s reach, if given).
  json contract(const std::string& id, const std::string& user_id) const;
  // {"items", "next"}: signed or completed contracts signed within the query's dates (see the header).
  json signed_contracts(const json& query) const;
  // {"items", "next"}: collections of a contract and/or received within the query's dates.
  json collections(const json& query) const;
  // {"contract_id", "number", "signed_on"} of the party's first signed contract, or NOT_FOUND.
  json first_signed(const std::string& party_id) const;
  // {"items"}: the contracts of the query's "contract_ids" (at most kMaxStates), without lines and splits, in id
  // order; ids of no contract are left out.
  json states(const json& query) const;
  static constexpr size_t kMaxStates = 1000;

 private:
  Services s_;
};

annex_contracts_v1 contract_service(const ContractQueries& queries);

}  // namespace contracts

// The services of the plugins the relationship-spending plugin requires, through their public headers: it never
// reads their tables (the host refuses that SQL), it asks them.
#pragma once

#include "special_expense.h"

#include <annex/sdk.hpp>
#include <annex/services/contracts.h>
#include <annex/services/opportunities.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace relationship_spending {

// The contracts plugin's service (org.annex.contracts@1).
class ContractsService {
 public:
  explicit ContractsService(const annex_contracts_v1& table) : t_(&table) {}

  // The first contract signed with party `party_id`; nothing while none is signed. Throws annex::Error when the
  // service fails.
  std::optional<FirstSigned> first_signed(const std::string& party_id) const {
    std::string out, message;
    annex::StringSink out_sink(out), err_sink(message);
    annex_status s = t_->first_signed(t_->provider_plugin_ptr, annex::to_str(party_id), out_sink.get(), err_sink.get());
    if (s == ANNEX_ERR_NOT_FOUND) return std::nullopt;
    if (s != ANNEX_OK) throw annex::Error(s, "the contracts plugin: " + message);
    nlohmann::json j = nlohmann::json::parse(out);
    return FirstSigned{j.value("contract_id", ""), j.value("number", ""), j.value("signed_on", "")};
  }

 private:
  const annex_contracts_v1* t_;
};

// The pipeline plugin's service (org.annex.pipeline.opportunities@1).
class OpportunitiesService {
 public:
  explicit OpportunitiesService(const annex_opportunities_v1& table) : t_(&table) {}

  // {"id", "party_id", "sector_id", "owner_id", "status", …} of the opportunity, or nothing when it is missing or
  // out of `user_id`'s reach.
  std::optional<nlohmann::json> get(const std::string& id, const std::string& user_id) const {
    std::string out, message;
    annex::StringSink out_sink(out), err_sink(message);
    annex_status s = t_->get(t_->provider_plugin_ptr, annex::to_str(id), annex::to_str(user_id), out_sink.get(), err_sink.get());
    if (s == ANNEX_ERR_NOT_FOUND) return std::nullopt;
    if (s != ANNEX_OK) throw annex::Error(s, "the pipeline: " + message);
    return nlohmann::json::parse(out);
  }

 private:
  const annex_opportunities_v1* t_;
};

}  // namespace relationship_spending

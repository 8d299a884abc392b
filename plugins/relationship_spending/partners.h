// The services of the plugins this one requires, in C++: the contracts plugin's contracts and collections
// (org.annex.contracts@1), the expenses plugin's advance ledger (org.annex.expenses.advances@1) and the
// pipeline's opportunities (org.annex.pipeline.opportunities@1). It never reads their tables (the host refuses
// that SQL), it asks them. Every call returns the service's JSON or throws annex::Error with its status, message
// and field.
#pragma once

#include <annex/sdk.hpp>
#include <annex/services/contracts.h>
#include <annex/services/cash_advances.h>
#include <annex/services/opportunities.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace relationship_spending {

class ContractsClient {
 public:
  explicit ContractsClient(const annex_contracts_v1* api) : api_(api) {}

  nlohmann::json get(const std::string& id, const std::string& user_id = {}) const {
    return call([&](annex_buffer* out, annex_buffer* err) {
      return api_->get(api_->provider_plugin_ptr, annex::to_str(id), annex::to_str(user_id), out, err);
    });
  }
  nlohmann::json signed_contracts(const nlohmann::json& query) const {
    std::string q = query.dump();
    return call([&](annex_buffer* out, annex_buffer* err) { return api_->signed_contracts(api_->provider_plugin_ptr, annex::to_str(q), out, err); });
  }
  nlohmann::json collections(const nlohmann::json& query) const {
    std::string q = query.dump();
    return call([&](annex_buffer* out, annex_buffer* err) { return api_->collections(api_->provider_plugin_ptr, annex::to_str(q), out, err); });
  }
  // The contracts `ids` by id, without lines and splits: in calls of up to 1000 ids where the contracts plugin
  // answers many at once (its service's minor 1), else one get() each. A missing contract is NOT_FOUND, as get() has it.
  std::map<std::string, nlohmann::json> states(const std::vector<std::string>& ids) const {
    std::map<std::string, nlohmann::json> out;
    if (!ANNEX_HAS_FIELD(api_, annex_contracts_v1, states) || api_->minor < 1 || api_->states == nullptr) {
      for (const std::string& id : ids) out.emplace(id, get(id));
      return out;
    }
    for (size_t at = 0; at < ids.size(); at += 1000) {
      std::string q = nlohmann::json{{"contract_ids", std::vector<std::string>(ids.begin() + at, ids.begin() + std::min(ids.size(), at + 1000))}}.dump();
      nlohmann::json page =
          call([&](annex_buffer* out_json, annex_buffer* err) { return api_->states(api_->provider_plugin_ptr, annex::to_str(q), out_json, err); });
      for (nlohmann::json& c : page["items"]) {
        std::string id = c["id"];
        out.emplace(std::move(id), std::move(c));
      }
    }
    for (const std::string& id : ids) {
      if (!out.count(id)) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no contract " + id, "contract_id");
    }
    return out;
  }
  // {"contract_id", "number", "signed_on"}, or nothing when no contract is signed with the party yet.
  std::optional<nlohmann::json> first_signed(const std::string& party_id) const {
    try {
      return call([&](annex_buffer* out, annex_buffer* err) {
        return api_->first_signed(api_->provider_plugin_ptr, annex::to_str(party_id), out, err);
      });
    } catch (const annex::Error& e) {
      if (e.code() == ANNEX_ERR_NOT_FOUND) return std::nullopt;
      throw;
    }
  }

 private:
  template <typename Fn>
  static nlohmann::json call(Fn&& fn) { return nlohmann::json::parse(annex::detail::call_json(std::forward<Fn>(fn))); }
  const annex_contracts_v1* api_;
};

class OpportunitiesClient {
 public:
  explicit OpportunitiesClient(const annex_opportunities_v1* api) : api_(api) {}

  // {"id", "party_id", "sector_id", "owner_id", "status", …} of the opportunity, or nothing when it is missing or
  // out of `user_id`'s reach.
  std::optional<nlohmann::json> get(const std::string& id, const std::string& user_id) const {
    try {
      return nlohmann::json::parse(annex::detail::call_json([&](annex_buffer* out, annex_buffer* err) {
        return api_->get(api_->provider_plugin_ptr, annex::to_str(id), annex::to_str(user_id), out, err);
      }));
    } catch (const annex::Error& e) {
      if (e.code() == ANNEX_ERR_NOT_FOUND) return std::nullopt;
      throw;
    }
  }

 private:
  const annex_opportunities_v1* api_;
};

class AdvancesClient {
 public:
  explicit AdvancesClient(const annex_expenses_advances_v1* api) : api_(api) {}

  // {"user_id", "outstanding", "cap", "available"} (money objects).
  nlohmann::json balance(const std::string& user_id) const {
    return call([&](annex_buffer* out, annex_buffer* err) { return api_->balance(api_->provider_plugin_ptr, annex::to_str(user_id), out, err); });
  }
  // Requests an advance for `user_id` under the cap (UNPROCESSABLE over it, naming the balance).
  nlohmann::json draw(const std::string& user_id, int64_t amount, const std::string& purpose, const std::string& reference,
                      const std::string& actor_id) const {
    return call([&](annex_buffer* out, annex_buffer* err) {
      return api_->draw(api_->provider_plugin_ptr, annex::to_str(user_id), amount, annex::to_str(purpose), annex::to_str(reference),
                        annex::to_str(actor_id), out, err);
    });
  }
  // Whether the ledger takes draws charged to accounts (the service's minor 1).
  bool charges_draws() const {
    return ANNEX_HAS_FIELD(api_, annex_expenses_advances_v1, draw_charged) && api_->minor >= 1 && api_->draw_charged != nullptr;
  }
  // As draw(), for fees approved here: `charges` ([{"account", "amount", "description"}], adding up to `amount`) post
  // to finance when the advance is paid, which settles it. Only where charges_draws().
  nlohmann::json draw_charged(const std::string& user_id, int64_t amount, const std::string& purpose, const std::string& reference,
                              const std::string& actor_id, const nlohmann::json& charges) const {
    std::string list = charges.dump();
    return call([&](annex_buffer* out, annex_buffer* err) {
      return api_->draw_charged(api_->provider_plugin_ptr, annex::to_str(user_id), amount, annex::to_str(purpose), annex::to_str(reference),
                                annex::to_str(actor_id), annex::to_str(list), out, err);
    });
  }

 private:
  template <typename Fn>
  static nlohmann::json call(Fn&& fn) { return nlohmann::json::parse(annex::detail::call_json(std::forward<Fn>(fn))); }
  const annex_expenses_advances_v1* api_;
};

}  // namespace relationship_spending

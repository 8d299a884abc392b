// The relationship-spending plugin (客情费, DOMAIN §1): the fixed purposes of spending and its configuration so
// far — under /api/v1/relationship-spending/, on the SDK alone. It requires the contracts
// plugin (contracts, lines, collections) and the expenses plugin (its advance ledger), which its statements and
// payout will work from.
#include "purpose.h"
#include "settings.h"

#include <annex/sdk.hpp>

namespace relationship_spending {

class RelationshipSpendingPlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.relationship-spending";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kManifest = R"({
    "name": "Relationship spending",
    "description": "Customer-relationship spending (客情费): the purposes spending may serve.",
    "requires": {"org.annex.contracts": "^1.0", "org.annex.expenses": "^1.0"},
    "uses": ["annex.log@1", "annex.db@1", "annex.http@1", "annex.authz@1", "annex.audit@1", "annex.masterdata@1",
             "annex.directory@1", "annex.calendar@1"],
    "config_schema": {
      "type": "object",
      "properties": {
        "payout_policy": {"type": "string", "enum": ["full", "rate"], "default": "rate"},
        "cap": {"type": "integer", "minimum": 0, "default": 300000},
        "sample_size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3},
        "ratio_warning_bp": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 500}
      }
    }
  })";

  RelationshipSpendingPlugin(const annex_host_api* api, std::string config_json)
      : annex::Plugin(api, std::move(config_json)) {
    try {
      settings_ = Settings::parse(nlohmann::json::parse(this->config_json(), nullptr, false));
    } catch (const std::invalid_argument& e) {
      std::string text = e.what();
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, text, text.substr(0, text.find(':')));
    }
  }

  void on_register() override {
    annex::Http http = host().http();
    http.route("GET", "/api/v1/relationship-spending/purposes", "relationship.purpose.read",
               "The purposes relationship spending may serve, with their English and Chinese names", &list_purposes);
  }

  const Settings& settings() const { return settings_; }

 private:
  Settings settings_;
};

}  // namespace relationship_spending

ANNEX_PLUGIN(relationship_spending::RelationshipSpendingPlugin)

// The relationship-spending plugin (客情费, DOMAIN §1): fee standards per product or product group and the fixed
// purposes of spending so far — under /api/v1/relationship-spending/, on the SDK alone. It requires the contracts
// plugin (contracts, lines, collections) and the expenses plugin (its advance ledger), which its statements and
// payout will work from.
#include "purpose.h"
#include "settings.h"
#include "standards.h"

#include <annex/sdk.hpp>

#include "annex_migrations.h"

namespace relationship_spending {

class RelationshipSpendingPlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.relationship-spending";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kManifest = R"({
    "name": "Relationship spending",
    "description": "Customer-relationship spending (客情费): fee standards per product or product group, and the purposes spending may serve.",
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
  static std::span<const annex_migration> migrations() noexcept { return annex_generated::kMigrations; }

  RelationshipSpendingPlugin(const annex_host_api* api, std::string config_json)
      : annex::Plugin(api, std::move(config_json)),
        services_{host().db(), host().audit(), host().masterdata(), host().calendar()},
        standard_repository_(host().db()),
        standards_(services_, standard_repository_) {
    try {
      settings_ = Settings::parse(nlohmann::json::parse(this->config_json(), nullptr, false));
    } catch (const std::invalid_argument& e) {
      std::string text = e.what();
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, text, text.substr(0, text.find(':')));
    }
  }

  void on_register() override {
    annex::Http http = host().http();
    Standards* standards = &standards_;
    auto route = [&](const char* method, const char* path, const char* permission, const char* summary,
                     void (Standards::*handler)(const annex::Request&, annex::Response&)) {
      http.route(method, path, permission, summary,
                 [standards, handler](const annex::Request& req, annex::Response& resp) { (standards->*handler)(req, resp); });
    };
    route("GET", "/api/v1/relationship-spending/standards", kStandardsRead,
          "Fee standards (filters: product_id, product_group, basis, on=YYYY-MM-DD; sort, cursor, limit)", &Standards::list);
    route("POST", "/api/v1/relationship-spending/standards", kStandardsWrite,
          "A fee standard for a product or product group: an amount per unit or a rate in basis points, from a date", &Standards::create);
    route("GET", "/api/v1/relationship-spending/standards/in-force", kStandardsRead,
          "The standard in force for a product on a date (?product_id=&date=): the product's own, else its group's", &Standards::lookup);
    route("GET", "/api/v1/relationship-spending/standards/{id}", kStandardsRead, "A fee standard", &Standards::get);
    route("PATCH", "/api/v1/relationship-spending/standards/{id}", kStandardsWrite,
          "Change a standard's amount or rate, GL account, period or note (If-Match)", &Standards::change);
    route("POST", "/api/v1/relationship-spending/standards/{id}/end", kStandardsWrite,
          "End a standard on a date (effective_to; If-Match); standards are never deleted", &Standards::end);
    http.route("GET", "/api/v1/relationship-spending/purposes", "relationship.purpose.read",
               "The purposes relationship spending may serve, with their English and Chinese names", &list_purposes);
  }

  const Settings& settings() const { return settings_; }

 private:
  Services services_;
  Settings settings_;
  StandardRepository standard_repository_;
  Standards standards_;
};

}  // namespace relationship_spending

ANNEX_PLUGIN(relationship_spending::RelationshipSpendingPlugin)

// The contracts plugin: contracts, collections and quotas under /api/v1/contracts/ and /api/v1/quotas/, on the
// SDK alone. It requires the pipeline plugin, whose opportunities a contract may come from and whose open
// pipeline attainment reports. Collections may also arrive from the ERP through a document stream of the sync
// engine ("collections": {"connection", "stream"} in its configuration).
#include "contract_service.h"
#include "contracts.h"

#include <annex/sdk.hpp>

#include "annex_migrations.h"

namespace contracts {

class ContractsPlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.contracts";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kManifest = R"({
    "name": "Contracts and quotas",
    "description": "Contracts with amendments, collections (回款) with collection rates, split credit, quota plans and attainment.",
    "requires": {"org.annex.pipeline": "^1.0"},
    "provides": ["org.annex.contracts@1"],
    "uses": ["annex.log@1", "annex.db@1", "annex.http@1", "annex.events@1", "annex.authz@1", "annex.audit@1",
             "annex.masterdata@1", "annex.directory@1", "annex.documents@1", "annex.calendar@1",
             "org.annex.pipeline.opportunities@1"],
    "config_schema": {
      "type": "object",
      "properties": {
        "fiscal_year_start": {"type": "integer", "minimum": 1, "maximum": 12, "default": 1},
        "collections": {
          "type": "object",
          "required": ["connection", "stream"],
          "properties": {
            "connection": {"type": "string", "minLength": 1},
            "stream": {"type": "string", "minLength": 1}
          }
        }
      }
    }
  })";
  static std::span<const annex_migration> migrations() noexcept { return annex_generated::kMigrations; }

  ContractsPlugin(const annex_host_api* api, std::string config_json) : annex::Plugin(api, std::move(config_json)) {
    nlohmann::json config = nlohmann::json::parse(this->config_json(), nullptr, false);
    int start = config.is_object() ? config.value("fiscal_year_start", 1) : 1;
    if (config.is_object() && config.contains("collections")) {
      collections_connection_ = config["collections"].value("connection", "");
      collections_stream_ = config["collections"].value("stream", "");
    }
    contracts_ = std::make_unique<Contracts>(
        Services{host().db(), host().authz(), host().masterdata(), host().audit(), host().events(), host().directory()},
        Opportunities(host().require<annex_opportunities_v1>(ANNEX_SERVICE_OPPORTUNITIES, 1)), start, host().calendar());
  }

  void on_register() override {
    annex::Http http = host().http();
    Contracts& c = *contracts_;
    auto route = [&](const char* method, const char* path, const char* permission, const char* summary,
                     void (Contracts::*handler)(const annex::Request&, annex::Response&)) {
      http.route(method, path, permission, summary,
                 [&c, handler](const annex::Request& req, annex::Response& resp) { (c.*handler)(req, resp); });
    };
    route("POST", "/api/v1/contracts", "contracts.contract.write", "Draft a contract with its lines", &Contracts::create);
    route("GET", "/api/v1/contracts", "contracts.contract.read",
          "List contracts within reach (filters: status, owner_id, sector_id, party_id, opportunity_id, currency)", &Contracts::list);
    route("GET", "/api/v1/contracts/{id}", "contracts.contract.read", "Read a contract with its lines and split", &Contracts::get);
    route("PATCH", "/api/v1/contracts/{id}", "contracts.contract.write",
          "Change a contract's status, or its lines and dates before signature (If-Match)", &Contracts::update);
    route("POST", "/api/v1/contracts/{id}/amendments", "contracts.contract.write", "Amend a signed contract's lines or end date",
          &Contracts::amend);
    route("GET", "/api/v1/contracts/{id}/amendments", "contracts.contract.read", "A contract's amendment history", &Contracts::amendments);
    route("PUT", "/api/v1/contracts/{id}/splits", "contracts.contract.write", "Split a contract's credit between reps (percent, summing to 100)",
          &Contracts::set_splits);
    route("POST", "/api/v1/contracts/{id}/collections", "finance.collections.record", "Record a payment received (回款)",
          &Contracts::record_collection);
    route("GET", "/api/v1/contracts/{id}/collections", "contracts.contract.read", "A contract's collections and collection rate",
          &Contracts::collections);
    route("POST", "/api/v1/contracts/{id}/collections/{collection_id}/reversal", "finance.collections.record",
          "Reverse a collection: it no longer counts in what was collected", &Contracts::reverse_collection);
    route("POST", "/api/v1/quotas/plans", "quotas.plan.manage", "Create a quota plan (period type, measure, currency)", &Contracts::create_plan);
    route("GET", "/api/v1/quotas/plans", "quotas.target.read", "Quota plans", &Contracts::list_plans);
    route("POST", "/api/v1/quotas/targets", "quotas.target.manage", "Set a rep's or a sector's quota for a period", &Contracts::set_target);
    route("POST", "/api/v1/quotas/targets/spread", "quotas.target.manage", "Spread an annual quota over the months by percentages",
          &Contracts::spread);
    route("GET", "/api/v1/quotas/targets", "quotas.target.read", "Quotas within reach (filters: plan_id, period, assignee_type, assignee_id, sector_id)",
          &Contracts::list_targets);
    route("GET", "/api/v1/quotas/targets/{id}", "quotas.target.read", "A quota; a sector's with the roll-up of its reps", &Contracts::get_target);
    route("PATCH", "/api/v1/quotas/targets/{id}", "quotas.target.manage", "Change a quota (never one's own; If-Match)", &Contracts::update_target);
    route("GET", "/api/v1/quotas/attainment", "quotas.target.read",
          "Quota, achieved (with split credit), percentage, gap and open weighted pipeline (?plan_id=&period=&group_by=rep|sector)",
          &Contracts::attainment);

    // What other plugins may know of contracts and collections (org.annex.contracts@1).
    queries_ = std::make_unique<ContractQueries>(
        Services{host().db(), host().authz(), host().masterdata(), host().audit(), host().events(), host().directory()});
    service_ = contract_service(*queries_);
    host().provide(ANNEX_SERVICE_CONTRACTS, 1, &service_);

    // Collections from the ERP: each document of the stream, at least once, in the ERP's order.
    if (!collections_stream_.empty()) {
      std::string origin = "sync:" + collections_connection_ + "/" + collections_stream_;
      try {
        host().documents().subscribe(collections_connection_, collections_stream_, [&c, origin](const annex::Document& d) {
          c.from_erp(std::string(d.key), std::string(d.json), origin);
        });
      } catch (const annex::Error& e) {
        throw annex::Error(e.code(), "plugins.org.annex.contracts.collections: " + e.message(), "plugins.org.annex.contracts.collections");
      }
    }
  }

 private:
  std::unique_ptr<Contracts> contracts_;
  std::string collections_connection_, collections_stream_;
  std::unique_ptr<ContractQueries> queries_;
  annex_contracts_v1 service_{};  // offered to other plugins; lives as long as the instance
};

}  // namespace contracts

ANNEX_PLUGIN(contracts::ContractsPlugin)

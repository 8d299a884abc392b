// The pipeline plugin: leads, opportunities and activities under /api/v1/pipeline/, on the SDK alone.
#include "opportunity_service.h"
#include "pipeline.h"

#include <annex/sdk.hpp>

#include "annex_migrations.h"

namespace pipeline {

class PipelinePlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.pipeline";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kManifest = R"({
    "name": "Sales pipeline",
    "description": "Leads, opportunities with configurable stages, activities, the monthly activity rule, follow-ups, forecast and leavers' records.",
    "requires": {},
    "uses": ["annex.log@1", "annex.db@1", "annex.http@1", "annex.events@1", "annex.jobs@1", "annex.authz@1",
             "annex.audit@1", "annex.masterdata@1", "annex.directory@1"],
    "provides": ["org.annex.pipeline.opportunities@1"],
    "config_schema": {
      "type": "object",
      "properties": {
        "lead_sources": {"type": "array", "items": {"type": "string"}},
        "stages": {"type": "object"},
        "activity_window": {"type": "object"},
        "follow_up_days": {"type": "integer", "minimum": 0, "maximum": 365, "default": 5},
        "after_sale": {"type": "array"},
        "stale_scan_seconds": {"type": "integer", "minimum": 1, "default": 86400}
      }
    }
  })";
  static std::span<const annex_migration> migrations() noexcept { return annex_generated::kMigrations; }

  PipelinePlugin(const annex_host_api* api, std::string config_json) : annex::Plugin(api, std::move(config_json)) {
    nlohmann::json config = nlohmann::json::parse(this->config_json(), nullptr, false);
    if (!config.is_object()) config = nlohmann::json::object();
    try {
      pipeline_ = std::make_unique<Pipeline>(
          Services{host().db(), host().authz(), host().masterdata(), host().audit(), host().events(), host().directory()},
          StageBook::parse(config.value("stages", nlohmann::json())), Settings::parse(config));
    } catch (const std::invalid_argument& e) {
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, std::string("configuration: ") + e.what());
    }
  }

  void on_register() override {
    annex::Http http = host().http();
    Pipeline& p = *pipeline_;
    service_ = opportunity_service(p);
    host().provide(ANNEX_SERVICE_OPPORTUNITIES, 1, &service_);
    auto route = [&](const char* method, const char* path, const char* permission, const char* summary,
                     void (Pipeline::*handler)(const annex::Request&, annex::Response&)) {
      http.route(method, path, permission, summary,
                 [&p, handler](const annex::Request& req, annex::Response& resp) { (p.*handler)(req, resp); });
    };
    route("POST", "/api/v1/pipeline/leads", "pipeline.lead.write", "Record a lead", &Pipeline::create_lead);
    route("GET", "/api/v1/pipeline/leads", "pipeline.lead.read",
          "List leads within reach (filters: status, owner_id, sector_id, source; sort, cursor, limit)", &Pipeline::list_leads);
    route("GET", "/api/v1/pipeline/leads/{id}", "pipeline.lead.read", "Read a lead", &Pipeline::get_lead);
    route("PATCH", "/api/v1/pipeline/leads/{id}", "pipeline.lead.write", "Change a lead or its status (If-Match)", &Pipeline::update_lead);
    route("POST", "/api/v1/pipeline/leads/{id}/convert", "pipeline.lead.write",
          "Convert a qualified lead into a customer and an opportunity, in one transaction", &Pipeline::convert_lead);
    route("POST", "/api/v1/pipeline/opportunities", "pipeline.opportunity.write", "Open an opportunity", &Pipeline::create_opportunity);
    route("GET", "/api/v1/pipeline/opportunities", "pipeline.opportunity.read",
          "List opportunities within reach (filters: status, stage, owner_id, sector_id, party_id, forecast_category, currency, "
          "close_from, close_to; sort, cursor, limit)",
          &Pipeline::list_opportunities);
    route("GET", "/api/v1/pipeline/opportunities/{id}", "pipeline.opportunity.read", "Read an opportunity with its products",
          &Pipeline::get_opportunity);
    route("PATCH", "/api/v1/pipeline/opportunities/{id}", "pipeline.opportunity.write",
          "Change an opportunity or move it to another stage (If-Match)", &Pipeline::update_opportunity);
    route("GET", "/api/v1/pipeline/opportunities/{id}/history", "pipeline.opportunity.read", "An opportunity's stage history",
          &Pipeline::stage_history);
    route("GET", "/api/v1/pipeline/stages", "pipeline.opportunity.read", "The stages of a sector (?sector_id=)", &Pipeline::list_stages);
    route("POST", "/api/v1/pipeline/activities", "pipeline.activity.write", "Log or plan an activity", &Pipeline::create_activity);
    route("GET", "/api/v1/pipeline/activities", "pipeline.activity.read",
          "List activities within reach (filters: kind, status, purpose, owner_id, sector_id, lead_id, opportunity_id, party_id)",
          &Pipeline::list_activities);
    route("GET", "/api/v1/pipeline/activities/{id}", "pipeline.activity.read", "Read an activity", &Pipeline::get_activity);
    route("PATCH", "/api/v1/pipeline/activities/{id}", "pipeline.activity.write", "Change, complete or reassign an activity (If-Match)",
          &Pipeline::update_activity);
    route("GET", "/api/v1/pipeline/stale", "pipeline.opportunity.read",
          "Open leads and opportunities without a logged activity in the activity window", &Pipeline::stale);
    route("GET", "/api/v1/pipeline/due", "pipeline.activity.read", "Planned activities due before a date (?before=)", &Pipeline::due);
    route("GET", "/api/v1/pipeline/forecast", "pipeline.opportunity.read",
          "Count, total and weighted amount per group and currency (?from=&to=&group_by=owner|sector|stage|category)",
          &Pipeline::forecast);
    route("POST", "/api/v1/pipeline/reassign", "pipeline.records.reassign",
          "Move a leaver's leads, opportunities and activities to another user of the sector", &Pipeline::reassign);
    route("GET", "/api/v1/pipeline/orphans", "pipeline.opportunity.read", "Records of disabled users not yet reassigned",
          &Pipeline::orphans);

    host().jobs().schedule("stale-scan", p.stale_scan_seconds(), [this] {
      int n = pipeline_->scan_stale();
      if (n > 0) host().info(std::to_string(n) + " leads and opportunities newly without an activity in the window");
    }, std::min<uint32_t>(p.stale_scan_seconds(), 300));  // soon after start, but not in the middle of it
  }

 private:
  std::unique_ptr<Pipeline> pipeline_;
  annex_opportunities_v1 service_{};  // offered to other plugins; lives as long as the instance
};

}  // namespace pipeline

ANNEX_PLUGIN(pipeline::PipelinePlugin)

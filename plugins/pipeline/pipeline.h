// The sales pipeline: leads, opportunities, activities, the activity rule (C3), follow-ups, the forecast and
// leavers' records (C8). Every handler checks the caller against the record's sector and owner through the
// host's authorisation service; customers and products are master-data ids.
#pragma once

#include "stages.h"

#include "../common/rest.h"

#include <annex/sdk.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pipeline {

using nlohmann::json;

inline constexpr const char* kLead = "pipeline.lead";
inline constexpr const char* kOpportunity = "pipeline.opportunity";
inline constexpr const char* kActivity = "pipeline.activity";

// An interval of the calendar: so many months and days.
struct Span {
  int months = 0;
  int days = 0;
};

struct Settings {
  std::vector<std::string> lead_sources;
  Span activity_window{1, 0};         // C3: one logged activity per calendar month
  int follow_up_days = 5;             // a follow-up visit this many days after a won opportunity
  std::vector<Span> after_sale;       // the after-sale schedule
  uint32_t stale_scan_seconds = 86400;

  // Reads the plugin configuration; throws std::invalid_argument naming the setting at fault.
  static Settings parse(const json& config);
};

using Services = annex::rest::Services;

class Pipeline {
 public:
  Pipeline(Services services, StageBook stages, Settings settings)
      : s_(std::move(services)), stages_(std::move(stages)), settings_(std::move(settings)) {}

  // Leads
  void create_lead(const annex::Request& req, annex::Response& resp);
  void get_lead(const annex::Request& req, annex::Response& resp);
  void list_leads(const annex::Request& req, annex::Response& resp);
  void update_lead(const annex::Request& req, annex::Response& resp);
  void convert_lead(const annex::Request& req, annex::Response& resp);
  // Opportunities
  void create_opportunity(const annex::Request& req, annex::Response& resp);
  void get_opportunity(const annex::Request& req, annex::Response& resp);
  void list_opportunities(const annex::Request& req, annex::Response& resp);
  void update_opportunity(const annex::Request& req, annex::Response& resp);
  void stage_history(const annex::Request& req, annex::Response& resp);
  void list_stages(const annex::Request& req, annex::Response& resp);
  // Activities
  void create_activity(const annex::Request& req, annex::Response& resp);
  void get_activity(const annex::Request& req, annex::Response& resp);
  void list_activities(const annex::Request& req, annex::Response& resp);
  void update_activity(const annex::Request& req, annex::Response& resp);
  // Rules and reports
  void stale(const annex::Request& req, annex::Response& resp);
  void due(const annex::Request& req, annex::Response& resp);
  void forecast(const annex::Request& req, annex::Response& resp);
  void reassign(const annex::Request& req, annex::Response& resp);
  void orphans(const annex::Request& req, annex::Response& resp);

  // For org.annex.pipeline.opportunities@1 (opportunity_service.cpp): one opportunity as other plugins see it
  // (NOT_FOUND when missing, or out of the reach of a non-empty `user_id`), and the weighted open pipeline.
  json opportunity_for(const std::string& id, const std::string& user_id) const;
  json open_weighted(const json& query) const;

  // The daily job: publishes an event for each lead or opportunity that has newly become stale. Returns how many.
  int scan_stale();

  uint32_t stale_scan_seconds() const { return settings_.stale_scan_seconds; }

 private:
  json lead_or_404(const annex::Request& req, std::string_view permission, const std::string& id) const;
  json opportunity_or_404(const annex::Request& req, std::string_view permission, const std::string& id) const;
  json activity_or_404(const annex::Request& req, std::string_view permission, const std::string& id) const;
  void require_write(const annex::Request& req, const char* type, const json& record, const char* what) const;
  std::string owner_for(const annex::Request& req, const json& body, const char* type, const std::string& sector) const;
  // `party`, when given, is the customer already read (or created in `txn`, where the host's look-up cannot see it).
  json insert_opportunity(annex::Transaction& txn, const annex::Request& req, const json& body, const std::string& lead_id,
                          const json* party = nullptr);
  void plan_follow_ups(annex::Transaction& txn, const json& opportunity, const std::string& actor);
  void mark_alive(annex::Transaction& txn, const std::optional<std::string>& lead_id, const std::optional<std::string>& opportunity_id,
                  const std::string& date);
  std::string cutoff() const;

  Services s_;
  StageBook stages_;
  Settings settings_;
};

}  // namespace pipeline

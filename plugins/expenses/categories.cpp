#include "categories.h"

namespace expenses {

using nlohmann::json;

void Categories::list(const annex::Request& req, annex::Response& resp) {
  const std::string caller(req.principal_id());
  const Claimant who = claimant(s_, caller);
  auto amount = [&](const std::optional<int64_t>& minor) {
    return minor ? money_json(*minor, settings_.company_currency) : json(nullptr);
  };
  json items = json::array();
  for (const auto& [code, category] : settings_.categories) {
    const Limits limits = category.limits_for(who.roles, who.grade);
    items.push_back({{"code", code},
                     {"gl_account", category.gl_account},
                     {"entertainment", category.entertainment},
                     {"receipt_above", amount(category.receipt_above)},
                     {"limits", {{"line", amount(limits.line)}, {"day", amount(limits.day)}, {"month", amount(limits.month)},
                                 {"year", amount(limits.year)}, {"per_attendee", amount(limits.per_attendee)}}},
                     {"over_limit", outcome_name(category.over_limit)},
                     {"weekend", outcome_name(category.weekend)},
                     {"holiday", outcome_name(category.holiday)}});
  }
  json out = {{"currency", settings_.company_currency}, {"grade", who.grade ? json(*who.grade) : json(nullptr)}, {"items", items}};
  resp.body(out.dump());
}

}  // namespace expenses

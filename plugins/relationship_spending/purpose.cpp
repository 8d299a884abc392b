#include "purpose.h"

#include <nlohmann/json.hpp>

namespace relationship_spending {

namespace {

constexpr Purpose kPurposes[] = {
    {"buyer", "Buyer relationship", "客户采购员关系维护"},
    {"purchasing_support", "Purchasing-department support and collections", "客户采购部支持、配合及回款"},
    {"executive", "Executive relationship", "客户主管采购的公司领导关系维护"},
    {"new_customer_special", "New-customer special expense", "争取新客户特殊费用"},
    {"customer_event", "Customer events", "客户活动、推广会及联谊"},
};

}  // namespace

std::span<const Purpose> purposes() { return kPurposes; }

const Purpose& purpose_field(const std::string& code, const std::string& field) {
  std::string known;
  for (const Purpose& p : kPurposes) {
    if (code == p.code) return p;
    known += (known.empty() ? "" : ", ") + std::string(p.code);
  }
  throw annex::Error(ANNEX_ERR_UNPROCESSABLE, field + " must be one of the purposes: " + known, field);
}

void list_purposes(const annex::Request&, annex::Response& resp) {
  nlohmann::json items = nlohmann::json::array();
  for (const Purpose& p : kPurposes) items.push_back({{"code", p.code}, {"names", {{"en", p.name_en}, {"zh", p.name_zh}}}});
  resp.body(nlohmann::json{{"items", items}}.dump());
}

}  // namespace relationship_spending

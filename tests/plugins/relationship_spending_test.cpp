// The relationship-spending plugin end to end on SQLite and PostgreSQL: the purposes of spending, and the
// configuration checked at start-up.
#include "plugin_test.h"

#include "../../plugins/relationship_spending/purpose.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <set>

namespace annex::test {
namespace {

using nlohmann::json;

constexpr const char* kStandards = "/api/v1/relationship-spending/standards";

class RelationshipSpending : public PluginTest {
 protected:
  void SetUp() override {
    start(R"({"plugins": {"org.annex.relationship-spending": {"payout_policy": "full"}}})");
    if (IsSkipped()) return;
    finance_ = d_->user_with_role("fin", "finance");
    rep_ = d_->user_with_role("rep", "sales-rep", "north");
    head_ = d_->user_with_role("head", "sector-head", "north");
    auditor_ = d_->user_with_role("aud", "auditor");
    p1_ = product("P1", "modules");
    p2_ = product("P2", "modules");
    p3_ = product("P3", "");
  }

  std::string product(const std::string& code, const std::string& group) {
    json p = {{"code", code}, {"name", "Product " + code}};
    if (!group.empty()) p["product_group"] = group;
    return json::parse(must(d_->call("POST", "/api/v1/masterdata/products", p.dump()), 201))["id"];
  }
  static json money(int64_t amount, const std::string& currency = "CNY") { return {{"amount", amount}, {"currency", currency}}; }
  // A standard for the product `product_id` of 12.50 per unit from `from`.
  json per_unit(const std::string& product_id, const std::string& from, int64_t amount = 1250) {
    return {{"product_id", product_id}, {"amount_per_unit", money(amount)}, {"gl_account", "660101"}, {"effective_from", from}};
  }
  json group_rate(const std::string& group, int64_t bp, const std::string& from) {
    return {{"product_group", group}, {"rate_bp", bp}, {"gl_account", "660100"}, {"effective_from", from}};
  }
  json create(const json& body) { return json::parse(must(as(finance_, "POST", kStandards, body), 201)); }
  json get(const std::string& token, const std::string& path) { return json::parse(must(as(token, "GET", path), 200)); }
  static std::string path(const json& standard) { return std::string(kStandards) + "/" + standard["id"].get<std::string>(); }
  static std::string field(const HttpResult& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") && j["error"]["field"].is_string() ? j["error"]["field"].get<std::string>() : "";
  }
  HttpResult in_force(const std::string& product_id, const std::string& date) {
    return as(rep_, "GET", std::string(kStandards) + "/in-force?product_id=" + product_id + "&date=" + date);
  }

  std::string finance_, rep_, head_, auditor_, p1_, p2_, p3_;
};

TEST_P(RelationshipSpending, ThePurposesAreListedWithTheirNames) {
  json items = get(rep_, "/api/v1/relationship-spending/purposes")["items"];
  std::vector<std::string> codes;
  for (const auto& p : items) {
    codes.push_back(p["code"]);
    EXPECT_FALSE(p["names"]["en"].get<std::string>().empty());
    EXPECT_FALSE(p["names"]["zh"].get<std::string>().empty());
  }
  EXPECT_EQ(codes, (std::vector<std::string>{"buyer", "purchasing_support", "executive", "new_customer_special", "customer_event"}));
  EXPECT_EQ(items[0]["names"]["zh"], "客户采购员关系维护");
}

INSTANTIATE_TEST_SUITE_P(Backends, RelationshipSpending, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);

// The purpose a spend names is one of the five, or it is refused naming the field.
TEST(RelationshipSpendingPurposes, AnUnknownPurposeIsRefusedNamingTheField) {
  EXPECT_STREQ(relationship_spending::purpose_field("executive", "purpose").code, "executive");
  try {
    relationship_spending::purpose_field("gifts", "lines[2].purpose");
    FAIL() << "gifts is no purpose";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_UNPROCESSABLE);
    EXPECT_EQ(e.field(), "lines[2].purpose");
    EXPECT_NE(e.message().find("customer_event"), std::string::npos) << e.message();
  }
}

class RelationshipSpendingSettings : public PluginTest {};

TEST_P(RelationshipSpendingSettings, ABadSettingStopsThePluginNamingTheKey) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"payout_policy": "half"})", "payout_policy"},
      {R"({"cap": -1})", "cap"},
      {R"({"sample_size": 0})", "sample_size"},
      {R"({"ratio_warning_bp": "5%"})", "ratio_warning_bp"},
      {R"({"sample": 3})", "sample"},
  };
  for (const auto& [config, key] : cases) {
    start(R"({"plugins": {"org.annex.relationship-spending": )" + config + "}}");
    json plugin = json::parse(d_->call("GET", "/api/v1/plugins/org.annex.relationship-spending").body);
    EXPECT_EQ(plugin["state"], "failed") << config;
    EXPECT_NE(plugin.value("error", "").find("relationship-spending." + key), std::string::npos) << key << ": " << plugin.dump();
    EXPECT_EQ(d_->call("GET", "/api/v1/relationship-spending/purposes").status, 404) << config;
  }
  start(R"({"plugins": {"org.annex.relationship-spending": {"payout_policy": "full", "cap": 500000, "sample_size": 5, "ratio_warning_bp": 800}}})");
  json plugin = json::parse(d_->call("GET", "/api/v1/plugins/org.annex.relationship-spending").body);
  EXPECT_EQ(plugin["state"], "started") << plugin.dump();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, RelationshipSpendingSettings, testing::Values(Backend::kSqlite), backend_param_name);

}  // namespace
}  // namespace annex::test

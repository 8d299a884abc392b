// The relationship-spending plugin end to end on SQLite and PostgreSQL, as finance, a rep, a sector head and an
// auditor: fee standards per product and per product group (only finance changes them; everyone reads them;
// periods never overlap, also under concurrent changes; the standard in force on a date; every change audited), the purposes of spending, and
// the configuration checked at start-up.
#include "plugin_test.h"

#include "../../plugins/relationship_spending/purpose.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

namespace annex::test {
namespace {

using nlohmann::json;

constexpr const char* kStandards = "/api/v1/relationship-spending/standards";

// A date `days` from today (UTC), YYYY-MM-DD.
std::string day(int days) {
  auto d = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) + std::chrono::days{days};
  std::chrono::year_month_day ymd{d};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return text;
}

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

TEST_P(RelationshipSpending, FinanceCreatesProductAndGroupStandardsThatEveryoneReads) {
  json own = create(per_unit(p1_, "2026-01-01"));
  EXPECT_EQ(own["product_id"], p1_);
  EXPECT_EQ(own["product_code"], "P1");
  EXPECT_EQ(own["basis"], "per_unit");
  EXPECT_EQ(own["amount_per_unit"], money(1250));
  EXPECT_EQ(own["gl_account"], "660101");
  EXPECT_TRUE(own["effective_to"].is_null());
  json group = create(group_rate("modules", 350, "2026-01-01"));
  EXPECT_EQ(group["basis"], "rate");
  EXPECT_EQ(group["rate_bp"], 350);
  EXPECT_TRUE(group["product_id"].is_null());
  for (const std::string& reader : {rep_, head_, auditor_, finance_}) {
    HttpResult one = as(reader, "GET", path(own));
    EXPECT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(json::parse(one.body)["amount_per_unit"], money(1250));
    EXPECT_EQ(get(reader, kStandards)["items"].size(), 2u);
  }
  json of_group = get(rep_, std::string(kStandards) + "?product_group=modules");
  ASSERT_EQ(of_group["items"].size(), 1u);
  EXPECT_EQ(of_group["items"][0]["id"], group["id"]);
  json paged = get(rep_, std::string(kStandards) + "?limit=1");
  EXPECT_EQ(paged["items"].size(), 1u);
  EXPECT_FALSE(paged["next_cursor"].is_null());
}

TEST_P(RelationshipSpending, OnlyFinanceChangesStandards) {
  json own = create(per_unit(p1_, "2026-01-01"));
  for (const std::string& other : {rep_, head_, auditor_}) {
    EXPECT_EQ(as(other, "POST", kStandards, per_unit(p2_, "2026-01-01")).status, 403);
    EXPECT_EQ(as(other, "PATCH", path(own), {{"rate_bp", 100}}).status, 403);
    EXPECT_EQ(as(other, "POST", path(own) + "/end", {{"effective_to", "2026-06-30"}}).status, 403);
  }
  json seen = get(rep_, path(own));
  EXPECT_EQ(seen["version"], 1) << "nothing changed it";
  EXPECT_EQ(get(rep_, kStandards)["items"].size(), 1u);
}

TEST_P(RelationshipSpending, AnOverlappingPeriodIsRefusedNamingEffectiveFrom) {
  json first = create(per_unit(p1_, "2026-01-01"));
  HttpResult overlap = as(finance_, "POST", kStandards, per_unit(p1_, "2026-06-01", 1500));
  EXPECT_EQ(overlap.status, 422) << overlap.body;
  EXPECT_EQ(field(overlap), "effective_from");
  EXPECT_NE(overlap.body.find(first["id"].get<std::string>()), std::string::npos) << "names the standard it meets";
  json before = per_unit(p1_, "2025-01-01");
  before["effective_to"] = "2026-01-01";
  EXPECT_EQ(field(as(finance_, "POST", kStandards, before)), "effective_from") << "periods are inclusive";
  // Ended the day before, the next period begins.
  must(as(finance_, "POST", path(first) + "/end", {{"effective_to", "2026-05-31"}}), 200);
  json next = create(per_unit(p1_, "2026-06-01", 1500));
  EXPECT_EQ(next["amount_per_unit"], money(1500));
  // A change that would stretch the first over the second is refused too.
  HttpResult stretch = as(finance_, "PATCH", path(first), {{"effective_to", "2026-06-15"}});
  EXPECT_EQ(stretch.status, 422) << stretch.body;
  EXPECT_EQ(field(stretch), "effective_from");
  // Groups likewise; another product's or group's periods are their own.
  create(group_rate("modules", 300, "2026-01-01"));
  EXPECT_EQ(field(as(finance_, "POST", kStandards, group_rate("modules", 400, "2026-03-01"))), "effective_from");
  create(group_rate("sensors", 400, "2026-03-01"));
  create(per_unit(p2_, "2026-03-01"));
  EXPECT_EQ(get(rep_, kStandards)["items"].size(), 5u);
}

TEST_P(RelationshipSpending, BadStandardsAreRefusedNamingTheFieldAndNothingIsStored) {
  auto refused = [&](json body, int status, const std::string& at) {
    HttpResult r = as(finance_, "POST", kStandards, body);
    EXPECT_EQ(r.status, status) << body.dump() << " → " << r.body;
    EXPECT_EQ(field(r), at) << body.dump() << " → " << r.body;
  };
  json bad = per_unit(p1_, "2026-01-01");
  bad["amount_per_unit"] = money(1250, "XYZ");
  refused(bad, 422, "amount_per_unit.currency");
  refused(per_unit(p1_, "2026-01-01", -1), 422, "amount_per_unit");
  bad = per_unit(p1_, "2026-01-01");
  bad["amount_per_unit"] = {{"amount", 12.5}, {"currency", "CNY"}};
  refused(bad, 400, "amount_per_unit");
  refused(group_rate("modules", 10001, "2026-01-01"), 422, "rate_bp");
  refused(group_rate("modules", -1, "2026-01-01"), 422, "rate_bp");
  bad = per_unit(p1_, "2026-01-01");
  bad["rate_bp"] = 300;
  refused(bad, 422, "rate_bp");
  bad = per_unit(p1_, "2026-01-01");
  bad.erase("amount_per_unit");
  refused(bad, 400, "amount_per_unit");
  bad = per_unit(p1_, "2026-01-01");
  bad["product_group"] = "modules";
  refused(bad, 422, "product_group");
  bad = per_unit(p1_, "2026-01-01");
  bad.erase("product_id");
  refused(bad, 400, "product_id");
  refused(per_unit("no-such-product", "2026-01-01"), 422, "product_id");
  bad = per_unit(p1_, "2026-01-01");
  bad.erase("product_id");
  bad["product_code"] = "P9";
  refused(bad, 422, "product_code");
  bad = per_unit(p1_, "2026-01-01");
  bad.erase("gl_account");
  refused(bad, 400, "gl_account");
  refused(per_unit(p1_, "2026-02-30"), 400, "effective_from");
  bad = per_unit(p1_, "2026-03-01");
  bad["effective_to"] = "2026-02-28";
  refused(bad, 422, "effective_to");
  EXPECT_TRUE(get(finance_, kStandards)["items"].empty());
  // By code, the same product.
  bad = per_unit(p1_, "2026-01-01");
  bad.erase("product_id");
  bad["product_code"] = "P1";
  EXPECT_EQ(create(bad)["product_id"], p1_);
}

TEST_P(RelationshipSpending, TheStandardInForcePrefersTheProductsOwnAndRespectsItsDates) {
  const std::string today = day(0), yesterday = day(-1), earlier = day(-40);
  json group = create(group_rate("modules", 300, earlier));
  json own = create(per_unit(p1_, earlier));
  json found = json::parse(must(in_force(p1_, today), 200));
  EXPECT_EQ(found["source"], "product");
  EXPECT_EQ(found["standard"]["id"], own["id"]);
  EXPECT_EQ(found["date"], today);
  found = json::parse(must(in_force(p2_, today), 200));
  EXPECT_EQ(found["source"], "product_group") << "P2 has no standard of its own";
  EXPECT_EQ(found["standard"]["id"], group["id"]);
  // Ended yesterday, the product's own standard is no longer in force today: its group's is.
  must(as(finance_, "POST", path(own) + "/end", {{"effective_to", yesterday}}), 200);
  found = json::parse(must(in_force(p1_, today), 200));
  EXPECT_EQ(found["source"], "product_group");
  EXPECT_EQ(found["standard"]["id"], group["id"]);
  // Without a date, today in the company's time zone (UTC here).
  const std::string asked_on = day(0);
  json now = get(rep_, std::string(kStandards) + "/in-force?product_id=" + p1_);
  EXPECT_TRUE(now["date"] == asked_on || now["date"] == day(0)) << now.dump();
  EXPECT_EQ(now["source"], "product_group");
  found = json::parse(must(in_force(p1_, yesterday), 200));
  EXPECT_EQ(found["standard"]["id"], own["id"]) << "history stays: yesterday it was in force";
  // Before either began, and for a product of no group, nothing is in force.
  HttpResult none = in_force(p1_, day(-41));
  EXPECT_EQ(none.status, 404) << none.body;
  EXPECT_EQ(in_force(p3_, today).status, 404);
  EXPECT_EQ(field(in_force("no-such-product", today)), "product_id");
  EXPECT_EQ(field(in_force(p1_, "2026-13-01")), "date");
  // Listed as in force on a date, likewise.
  json on_today = get(rep_, std::string(kStandards) + "?on=" + today);
  ASSERT_EQ(on_today["items"].size(), 1u);
  EXPECT_EQ(on_today["items"][0]["id"], group["id"]);
}

// Changes to one product's standards take turns, so concurrent overlapping periods never both get in.
TEST_P(RelationshipSpending, OfManyConcurrentOverlappingStandardsOneIsCreated) {
  for (const char* code : {"C1", "C2", "C3", "C4", "C5"}) {
    const std::string product_id = product(code, "");
    std::atomic<int> created{0}, refused{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 30; ++i) {
      threads.emplace_back([&, i] {
        HttpResult r = as(finance_, "POST", kStandards, per_unit(product_id, "2026-0" + std::to_string(1 + i % 9) + "-01", 1000 + i));
        (r.status == 201 ? created : r.status == 422 && field(r) == "effective_from" ? refused : other)++;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(other.load(), 0) << code;
    EXPECT_EQ(created.load(), 1) << code;
    EXPECT_EQ(refused.load(), 29) << code;
    EXPECT_EQ(get(rep_, std::string(kStandards) + "?product_id=" + product_id)["items"].size(), 1u) << code;
  }
}

TEST_P(RelationshipSpending, AChangeWithAStaleIfMatchIsRefused) {
  json own = create(per_unit(p1_, "2026-01-01"));
  HttpResult first = as(finance_, "PATCH", path(own), {{"rate_bp", 250}}, {{"If-Match", "\"v1\""}});
  ASSERT_EQ(first.status, 200) << first.body;
  json changed = json::parse(first.body);
  EXPECT_EQ(changed["basis"], "rate");
  EXPECT_EQ(changed["rate_bp"], 250);
  EXPECT_TRUE(changed["amount_per_unit"].is_null());
  EXPECT_EQ(changed["version"], 2);
  EXPECT_EQ(first.header("etag"), "\"v2\"");
  EXPECT_EQ(as(finance_, "PATCH", path(own), {{"rate_bp", 500}}, {{"If-Match", "\"v1\""}}).status, 412);
  EXPECT_EQ(as(finance_, "POST", path(own) + "/end", {{"effective_to", "2026-06-30"}}, {{"If-Match", "\"v1\""}}).status, 412);
  EXPECT_EQ(get(rep_, path(own))["rate_bp"], 250) << "the stale changes left it as it was";
  HttpResult product = as(finance_, "PATCH", path(own), {{"product_id", p2_}});
  EXPECT_EQ(product.status, 422);
  EXPECT_EQ(field(product), "product_id");
}

TEST_P(RelationshipSpending, EveryChangeToAStandardIsAudited) {
  json own = create(per_unit(p1_, "2026-01-01"));
  must(as(finance_, "PATCH", path(own), {{"gl_account", "660102"}}), 200);
  must(as(finance_, "POST", path(own) + "/end", {{"effective_to", "2026-12-31"}}), 200);
  json audit = json::parse(must(d_->call("GET", "/api/v1/audit?object=relationship.standard/" + own["id"].get<std::string>()), 200))["items"];
  std::set<std::string> actions;
  for (const auto& e : audit) actions.insert(e["action"]);
  for (const char* a : {"relationship.standard.create", "relationship.standard.update", "relationship.standard.end"}) {
    EXPECT_TRUE(actions.count(a)) << a << " in " << audit.dump();
  }
  // A refused change leaves no entry.
  as(finance_, "PATCH", path(own), {{"rate_bp", 20000}});
  json again = json::parse(must(d_->call("GET", "/api/v1/audit?object=relationship.standard/" + own["id"].get<std::string>()), 200))["items"];
  EXPECT_EQ(again.size(), audit.size());
}

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
      {R"({"special_expense_chain": ""})", "special_expense_chain"},
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

// The contracts plugin end to end on SQLite and PostgreSQL, as several roles: contracts and their statuses,
// amendments, collections (回款) and their limits, split credit, quotas (never one's own), spreading an annual
// quota, a sector's roll-up, and attainment with split credit and the open pipeline.
#include "plugin_test.h"

#include "store/sql.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace annex::test {
namespace {

using nlohmann::json;

class Contracts : public PluginTest {
 protected:
  void SetUp() override {
    // A fiscal year from April: fiscal 2027's first quarter is April to June 2027.
    start(R"({"plugins": {"org.annex.contracts": {"fiscal_year_start": 4}}})", {ANNEX_CONSUMER_PLUGIN_DIR});
    if (IsSkipped()) return;
    rep_ = d_->user_with_role("rep", "sales-rep", "north");
    rep2_ = d_->user_with_role("rep2", "sales-rep", "north");
    south_ = d_->user_with_role("southrep", "sales-rep", "south");
    head_ = d_->user_with_role("head", "sector-head", "north");
    exec_ = d_->user_with_role("exec", "group-executive");
    finance_ = d_->user_with_role("fin", "finance");
    rep_id_ = me(rep_);
    rep2_id_ = me(rep2_);
    head_id_ = me(head_);
    customer_ = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties",
                                          R"({"code": "C100", "name": "Northwind", "sector_id": "north", "owner_id": ")" + rep_id_ + R"("})"),
                                 201))["id"];
    toner_ = json::parse(must(d_->call("POST", "/api/v1/masterdata/products", R"({"code": "P1", "name": "Toner", "product_group": "supplies"})"), 201))["id"];
    printer_ = json::parse(must(d_->call("POST", "/api/v1/masterdata/products", R"({"code": "P2", "name": "Printer", "product_group": "devices"})"), 201))["id"];
  }
  static json price(int64_t amount, const std::string& currency = "CNY") { return {{"amount", amount}, {"currency", currency}}; }

  // A contract of `rep_`: 10 toner at 1,000.00 and one printer at 5,000.00 — 15,000.00 in all.
  json draft(const std::string& number) {
    return json::parse(must(as(rep_, "POST", "/api/v1/contracts",
                               {{"number", number}, {"party_id", customer_}, {"currency", "CNY"},
                                {"lines", {{{"product_id", toner_}, {"quantity", 10}, {"unit_price", price(100000)}},
                                           {{"product_id", printer_}, {"quantity", 1}, {"unit_price", price(500000)}}}}}),
                            201));
  }
  json signed_contract(const std::string& number, const std::string& on) {
    json c = draft(number);
    std::string path = "/api/v1/contracts/" + c["id"].get<std::string>();
    must(as(rep_, "PATCH", path, {{"status", "awaiting_signature"}}), 200);
    return json::parse(must(as(rep_, "PATCH", path, {{"status", "signed"}, {"signed_on", on}}), 200));
  }
  int64_t events(const std::string& topic) {
    auto db = d_->open_store();
    store::Lease lease(*db);
    return store::run(lease.session(), "SELECT COUNT(*) FROM annex_events WHERE topic = '" + topic + "'", {}).rows.at(0).at(0).i;
  }

  std::string rep_, rep2_, south_, head_, exec_, finance_, rep_id_, rep2_id_, head_id_, customer_, toner_, printer_;
};

TEST_P(Contracts, AContractMovesThroughItsStatusesAndChangesAfterSignatureOnlyByAmendment) {
  json c = draft("K-2027-001");
  EXPECT_EQ(c["total"]["amount"], 1500000);
  EXPECT_EQ(c["status"], "draft");
  std::string path = "/api/v1/contracts/" + c["id"].get<std::string>();
  HttpResult dollars = as(rep_, "POST", "/api/v1/contracts",
                          {{"number", "K-X"}, {"party_id", customer_}, {"currency", "CNY"},
                           {"lines", {{{"product_id", toner_}, {"quantity", 1}, {"unit_price", price(5, "USD")}}}}});
  EXPECT_EQ(dollars.status, 422);
  EXPECT_EQ(json::parse(dollars.body)["error"]["field"], "lines[0].unit_price");
  EXPECT_EQ(as(rep_, "POST", "/api/v1/contracts", {{"number", "K-2027-001"}, {"party_id", customer_}, {"currency", "CNY"},
                                                   {"lines", {{{"product_id", toner_}, {"quantity", 1}, {"unit_price", price(1)}}}}})
                .status,
            409)
      << "numbers are unique";
  HttpResult leap = as(rep_, "PATCH", path, {{"status", "signed"}});
  EXPECT_EQ(leap.status, 422);
  EXPECT_NE(leap.body.find("from draft to signed"), std::string::npos) << leap.body;
  // Before signature the lines may change.
  json changed = json::parse(must(as(rep_, "PATCH", path, {{"lines", {{{"product_id", toner_}, {"quantity", 5}, {"unit_price", price(100000)}}}}}), 200));
  EXPECT_EQ(changed["total"]["amount"], 500000);
  must(as(rep_, "PATCH", path, {{"status", "awaiting_signature"}}), 200);
  json done = json::parse(must(as(rep_, "PATCH", path, {{"status", "signed"}, {"signed_on", "2027-04-10"}}), 200));
  EXPECT_EQ(done["signed_on"], "2027-04-10");
  HttpResult edit = as(rep_, "PATCH", path, {{"lines", {{{"product_id", toner_}, {"quantity", 1}, {"unit_price", price(1)}}}}});
  EXPECT_EQ(edit.status, 422) << "a signed contract's lines change only by amendment";
  EXPECT_EQ(as(rep_, "POST", path + "/amendments", {{"lines", {{{"product_id", toner_}, {"quantity", 8}, {"unit_price", price(100000)}}}}}).status, 400)
      << "an amendment needs its reason";
  json amended = json::parse(must(as(rep_, "POST", path + "/amendments",
                                     {{"reason", "Customer added three cartridges"},
                                      {"lines", {{{"product_id", toner_}, {"quantity", 8}, {"unit_price", price(100000)}}}}}),
                                  201));
  EXPECT_EQ(amended["total"]["amount"], 800000);
  EXPECT_EQ(amended["amendment"], 1);
  json history = json::parse(must(as(rep_, "GET", path + "/amendments"), 200))["items"];
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["before"]["total"]["amount"], 500000);
  EXPECT_EQ(history[0]["after"]["total"]["amount"], 800000);
  json audit = json::parse(must(d_->call("GET", "/api/v1/audit?object=contracts.contract/" + c["id"].get<std::string>()), 200))["items"];
  std::set<std::string> actions;
  for (const auto& e : audit) actions.insert(e["action"]);
  EXPECT_TRUE(actions.count("contracts.contract.create") && actions.count("contracts.contract.signed") && actions.count("contracts.contract.amend"))
      << audit.dump();
  EXPECT_EQ(as(south_, "GET", path).status, 404) << "another sector's contract does not exist for the caller";
}

TEST_P(Contracts, CollectionsAreRecordedByFinanceNeverBeyondTheTotalAndAnnounced) {
  json c = signed_contract("K-2027-002", "2027-04-02");
  std::string path = "/api/v1/contracts/" + c["id"].get<std::string>() + "/collections";
  json payment = {{"received_on", "2026-11-01"}, {"amount", price(600000)}, {"reference", "BANK-1"}};
  EXPECT_EQ(as(rep_, "POST", path, payment).status, 403) << "a rep does not record the money that pays their fees";
  json first = json::parse(must(as(finance_, "POST", path, payment), 201));
  EXPECT_EQ(first["contract"]["collected"]["amount"], 600000);
  EXPECT_EQ(first["contract"]["collection_rate"], "40.00");
  EXPECT_EQ(as(finance_, "POST", path, payment).status, 409) << "the same bank reference twice";
  json too_much = {{"received_on", "2026-11-02"}, {"amount", price(900001)}, {"reference", "BANK-2"}};
  HttpResult over = as(finance_, "POST", path, too_much);
  EXPECT_EQ(over.status, 422) << over.body;
  EXPECT_EQ(json::parse(over.body)["error"]["field"], "amount");
  EXPECT_EQ(as(finance_, "POST", path, {{"received_on", "2026-11-02"}, {"amount", price(1, "USD")}, {"reference", "B3"}}).status, 422);
  EXPECT_EQ(as(finance_, "POST", path, {{"received_on", "2999-01-01"}, {"amount", price(1)}, {"reference", "B4"}}).status, 422);
  EXPECT_EQ(as(finance_, "POST", path, {{"received_on", "2026-11-02"}, {"amount", price(0)}, {"reference", "B5"}}).status, 422);
  json rest = json::parse(must(as(finance_, "POST", path, {{"received_on", "2026-11-03"}, {"amount", price(900000)}, {"reference", "BANK-2"}}), 201));
  EXPECT_EQ(rest["contract"]["collection_rate"], "100.00");
  json listed = json::parse(must(as(rep_, "GET", path), 200));
  EXPECT_EQ(listed["items"].size(), 2u);
  EXPECT_EQ(listed["collected"]["amount"], 1500000);
  EXPECT_EQ(events("contracts.collection.recorded"), 2);
  json unsigned_contract = draft("K-2027-003");
  EXPECT_EQ(as(finance_, "POST", "/api/v1/contracts/" + unsigned_contract["id"].get<std::string>() + "/collections",
               {{"received_on", "2026-11-01"}, {"amount", price(1)}, {"reference", "X"}})
                .status,
            422)
      << "no collection on a draft";
}

TEST_P(Contracts, QuotasAreNeverSetByThePersonTheyMeasureAndSpreadExactly) {
  json plan = json::parse(must(as(exec_, "POST", "/api/v1/quotas/plans", {{"name", "Monthly signed"}, {"period_type", "month"}, {"measure", "signed"}, {"currency", "CNY"}}), 201));
  std::string plan_id = plan["id"];
  // The sector head sets reps' quotas in the sector — not their own, which group management sets.
  json own = {{"plan_id", plan_id}, {"period", "2027-04"}, {"assignee_type", "rep"}, {"assignee_id", head_id_}, {"amount", price(100)}};
  EXPECT_EQ(as(head_, "POST", "/api/v1/quotas/targets", own).status, 403);
  json mine = json::parse(must(as(exec_, "POST", "/api/v1/quotas/targets", own), 201));
  EXPECT_EQ(as(head_, "PATCH", "/api/v1/quotas/targets/" + mine["id"].get<std::string>(), {{"amount", price(1)}}).status, 403);
  EXPECT_EQ(as(rep_, "POST", "/api/v1/quotas/targets", {{"plan_id", plan_id}, {"period", "2027-04"}, {"assignee_type", "rep"}, {"assignee_id", rep2_id_}, {"amount", price(1)}}).status,
            403)
      << "reps set no quotas";
  EXPECT_EQ(as(head_, "POST", "/api/v1/quotas/targets", {{"plan_id", plan_id}, {"period", "2027-Q1"}, {"assignee_type", "rep"}, {"assignee_id", rep_id_}, {"amount", price(1)}}).status,
            400)
      << "a monthly plan's periods are months";

  json bad = {{"plan_id", plan_id}, {"year", 2027}, {"assignee_type", "rep"}, {"assignee_id", rep_id_}, {"amount", price(1200000)},
              {"percentages", {10, 10, 10, 10, 10, 10, 10, 10, 5, 5, 5, 4}}};
  HttpResult not_100 = as(head_, "POST", "/api/v1/quotas/targets/spread", bad);
  EXPECT_EQ(not_100.status, 422);
  EXPECT_NE(not_100.body.find("sum to 99"), std::string::npos) << not_100.body;
  bad["percentages"] = {9, 9, 9, 9, 9, 9, 9, 9, 7, 7, 7, 7};
  bad["amount"] = price(1000001);
  json spread = json::parse(must(as(head_, "POST", "/api/v1/quotas/targets/spread", bad), 201));
  ASSERT_EQ(spread["items"].size(), 12u);
  EXPECT_EQ(spread["items"][0]["period"], "2027-04") << "the fiscal year starts in April";
  EXPECT_EQ(spread["items"][11]["period"], "2028-03");
  int64_t sum = 0;
  for (const auto& t : spread["items"]) sum += t["amount"].get<int64_t>();
  EXPECT_EQ(sum, 1000001) << "the months add up to the year exactly";
  EXPECT_EQ(as(head_, "POST", "/api/v1/quotas/targets/spread", bad).status, 409) << "spread once";
  // Rounded on the running total: a small quota spread thinly has no negative month.
  json thin = {{"plan_id", plan_id}, {"year", 2028}, {"assignee_type", "rep"}, {"assignee_id", rep2_id_}, {"amount", price(5)},
               {"percentages", {10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 0, 0}}};
  json months = json::parse(must(as(head_, "POST", "/api/v1/quotas/targets/spread", thin), 201))["items"];
  int64_t thin_sum = 0;
  for (const auto& t : months) {
    EXPECT_GE(t["amount"].get<int64_t>(), 0);
    thin_sum += t["amount"].get<int64_t>();
  }
  EXPECT_EQ(thin_sum, 5);

  // A sector's own quota and the roll-up of its reps'.
  json sector = json::parse(must(as(exec_, "POST", "/api/v1/quotas/targets",
                                    {{"plan_id", plan_id}, {"period", "2027-04"}, {"assignee_type", "sector"}, {"assignee_id", "north"}, {"amount", price(500000)}}),
                                 201));
  json shown = json::parse(must(as(head_, "GET", "/api/v1/quotas/targets/" + sector["id"].get<std::string>()), 200));
  EXPECT_EQ(shown["amount"], 500000);
  EXPECT_EQ(shown["reps"]["count"], 2);
  EXPECT_EQ(shown["reps"]["total"]["amount"], 100 + spread["items"][0]["amount"].get<int64_t>());
  EXPECT_EQ(as(south_, "GET", "/api/v1/quotas/targets/" + sector["id"].get<std::string>()).status, 404);
}

// A split given when the contract is created is checked as PUT …/splits checks it and kept with the contract; a
// bad one refuses the whole contract, naming the field, and stores nothing.
TEST_P(Contracts, ASplitGivenAtCreationIsCheckedAndKeptAndABadOneStoresNothing) {
  json body = {{"number", "K-SPLIT-1"}, {"party_id", customer_}, {"currency", "CNY"},
               {"lines", {{{"product_id", toner_}, {"quantity", 1}, {"unit_price", price(100000)}}}},
               {"splits", {{{"user_id", rep_id_}, {"percent", 60}}, {{"user_id", rep2_id_}, {"percent", 30}}}}};
  HttpResult bad = as(rep_, "POST", "/api/v1/contracts", body);
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "splits") << bad.body;
  body["splits"] = {{{"user_id", rep_id_}, {"percent", 60}}, {{"user_id", "u_nobody"}, {"percent", 40}}};
  bad = as(rep_, "POST", "/api/v1/contracts", body);
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "splits[1].user_id") << bad.body;
  json none = json::parse(must(as(rep_, "GET", "/api/v1/contracts?number=K-SPLIT-1"), 200));
  for (const auto& c : none["items"]) EXPECT_NE(c["number"], "K-SPLIT-1") << "a refused contract is not stored";

  body["splits"] = {{{"user_id", rep_id_}, {"percent", 60}}, {{"user_id", rep2_id_}, {"percent", 40}}};
  json c = json::parse(must(as(rep_, "POST", "/api/v1/contracts", body), 201));
  std::map<std::string, int64_t> shares;
  for (const auto& s : c["splits"]) shares[s["user_id"]] = s["percent"];
  EXPECT_EQ(shares, (std::map<std::string, int64_t>{{rep_id_, 60}, {rep2_id_, 40}})) << c.dump();
  json read = json::parse(must(as(rep_, "GET", "/api/v1/contracts/" + c["id"].get<std::string>()), 200));
  EXPECT_EQ(read["splits"], c["splits"]);
}

TEST_P(Contracts, AttainmentCountsSplitCreditAndTheOpenPipeline) {
  json plan = json::parse(must(as(exec_, "POST", "/api/v1/quotas/plans", {{"name", "Quarterly"}, {"period_type", "quarter"}, {"measure", "signed"}, {"currency", "CNY"}}), 201));
  std::string plan_id = plan["id"];
  for (const auto& [who, amount] : std::vector<std::pair<std::string, int64_t>>{{rep_id_, 1000000}, {rep2_id_, 1000000}}) {
    must(as(head_, "POST", "/api/v1/quotas/targets",
            {{"plan_id", plan_id}, {"period", "2027-Q1"}, {"assignee_type", "rep"}, {"assignee_id", who}, {"amount", price(amount)}}),
         201);
  }
  must(as(exec_, "POST", "/api/v1/quotas/targets",
          {{"plan_id", plan_id}, {"period", "2027-Q1"}, {"assignee_type", "sector"}, {"assignee_id", "north"}, {"amount", price(3000000)}}),
       201);
  json c = signed_contract("K-2027-010", "2027-05-20");  // 1,500,000, inside fiscal Q1 (April–June)
  signed_contract("K-2027-011", "2027-07-01");           // fiscal Q2: not counted
  std::string splits = "/api/v1/contracts/" + c["id"].get<std::string>() + "/splits";
  HttpResult bad = as(rep_, "PUT", splits, {{"splits", {{{"user_id", rep_id_}, {"percent", 60}}, {{"user_id", rep2_id_}, {"percent", 30}}}}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("sum to 90"), std::string::npos) << bad.body;
  must(as(rep_, "PUT", splits, {{"splits", {{{"user_id", rep_id_}, {"percent", 60}}, {{"user_id", rep2_id_}, {"percent", 40}}}}}), 200);
  // An open opportunity of rep in the quarter: 200,000 at 50%.
  must(as(rep_, "POST", "/api/v1/pipeline/opportunities",
          {{"name", "More toner"}, {"party_id", customer_}, {"amount", price(200000)}, {"expected_close", "2027-06-30"}, {"stage", "proposal"}}),
       201);

  json reps = json::parse(must(as(head_, "GET", "/api/v1/quotas/attainment?plan_id=" + plan_id + "&period=2027-Q1&group_by=rep"), 200));
  EXPECT_EQ(reps["from"], "2027-04-01");
  EXPECT_EQ(reps["to"], "2027-06-30");
  ASSERT_EQ(reps["items"].size(), 2u) << reps.dump();
  std::map<std::string, json> by;
  for (const auto& i : reps["items"]) by[i["assignee_id"]] = i;
  EXPECT_EQ(by[rep_id_]["achieved"]["amount"], 900000);
  EXPECT_EQ(by[rep_id_]["percent"], "90.0");
  EXPECT_EQ(by[rep_id_]["gap"]["amount"], 100000);
  EXPECT_EQ(by[rep_id_]["open_pipeline_weighted"]["amount"], 100000);
  EXPECT_EQ(by[rep2_id_]["achieved"]["amount"], 600000);
  json sectors = json::parse(must(as(head_, "GET", "/api/v1/quotas/attainment?plan_id=" + plan_id + "&period=2027-Q1&group_by=sector"), 200));
  ASSERT_EQ(sectors["items"].size(), 1u);
  EXPECT_EQ(sectors["items"][0]["achieved"]["amount"], 1500000);
  EXPECT_EQ(sectors["items"][0]["percent"], "50.0");
  // A rep sees their own line only.
  json own = json::parse(must(as(rep2_, "GET", "/api/v1/quotas/attainment?plan_id=" + plan_id + "&period=2027-Q1"), 200));
  ASSERT_EQ(own["items"].size(), 1u);
  EXPECT_EQ(own["items"][0]["assignee_id"], rep2_id_);
  EXPECT_EQ(as(head_, "GET", "/api/v1/quotas/attainment?plan_id=" + plan_id + "&period=2027-13").status, 400);
}

// A sector's roll-up of 9,223 reps' quotas of 10^15 each is exact; one more passes 2^63 and is refused.
TEST_P(Contracts, ASectorsRollUpOfRepQuotasIsExactAtTheLimit) {
  const int64_t max = 1'000'000'000'000'000;
  json plan = json::parse(must(as(exec_, "POST", "/api/v1/quotas/plans", {{"name", "Many"}, {"period_type", "quarter"}, {"measure", "signed"}, {"currency", "CNY"}}), 201));
  json rep = json::parse(must(as(head_, "POST", "/api/v1/quotas/targets",
                                 {{"plan_id", plan["id"]}, {"period", "2027-Q1"}, {"assignee_type", "rep"}, {"assignee_id", rep2_id_}, {"amount", price(max)}}),
                              201));
  json sector = json::parse(must(as(exec_, "POST", "/api/v1/quotas/targets",
                                    {{"plan_id", plan["id"]}, {"period", "2027-Q1"}, {"assignee_type", "sector"}, {"assignee_id", "north"}, {"amount", price(1)}}),
                                 201));
  auto copies = [&](int n, const std::string& suffix) {
    d_->sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(n) + ") INSERT INTO quotas_targets"
            " (id, plan_id, period, assignee_type, assignee_id, product_group, sector_id, owner_id, amount, created_at, updated_at, version)"
            " SELECT t.id || '" + suffix + "' || CAST(n.i AS TEXT), t.plan_id, t.period, t.assignee_type, t.assignee_id || '" + suffix +
            "' || CAST(n.i AS TEXT), t.product_group, t.sector_id, t.owner_id, t.amount, t.created_at, t.updated_at, t.version"
            " FROM quotas_targets t CROSS JOIN n WHERE t.id = '" + rep["id"].get<std::string>() + "'");
  };
  copies(9222, "-a");
  const std::string url = "/api/v1/quotas/targets/" + sector["id"].get<std::string>();
  json shown = json::parse(must(as(head_, "GET", url), 200));
  EXPECT_EQ(shown["reps"]["count"], 9223);
  EXPECT_EQ(shown["reps"]["total"]["amount"], 9223 * max);
  copies(1, "-b");
  HttpResult beyond = as(head_, "GET", url);
  EXPECT_EQ(beyond.status, 422) << beyond.body;
}

// Amounts at the limits of what the API takes: a contract of 9 × 10^18 minor units against a quota of 100, and
// 95 opportunities of 10^15 at 100% — each figure exact; a sum past 2^63 is refused, naming the field.
TEST_P(Contracts, AttainmentAnswersExactlyAtTheLimitsAndRefusesASumBeyond64Bits) {
  const int64_t max = 1'000'000'000'000'000;
  json plan = json::parse(must(as(exec_, "POST", "/api/v1/quotas/plans", {{"name", "Huge"}, {"period_type", "quarter"}, {"measure", "signed"}, {"currency", "CNY"}}), 201));
  std::string plan_id = plan["id"];
  must(as(head_, "POST", "/api/v1/quotas/targets",
          {{"plan_id", plan_id}, {"period", "2027-Q1"}, {"assignee_type", "rep"}, {"assignee_id", rep_id_}, {"amount", price(100)}}),
       201);
  auto sign_huge = [&](const std::string& number) {
    json c = json::parse(must(as(rep_, "POST", "/api/v1/contracts",
                                 {{"number", number}, {"party_id", customer_}, {"currency", "CNY"},
                                  {"lines", {{{"product_id", toner_}, {"quantity", 9000}, {"unit_price", price(max)}}}}}),
                              201));
    std::string path = "/api/v1/contracts/" + c["id"].get<std::string>();
    must(as(rep_, "PATCH", path, {{"status", "awaiting_signature"}}), 200);
    must(as(rep_, "PATCH", path, {{"status", "signed"}, {"signed_on", "2027-05-20"}}), 200);
  };
  sign_huge("K-HUGE-1");
  json top = json::parse(must(as(rep_, "POST", "/api/v1/pipeline/opportunities",
                                 {{"name", "Everything"}, {"party_id", customer_}, {"amount", price(max)}, {"expected_close", "2027-06-30"}, {"probability", 100}}),
                              201));
  copy_opportunity(top["id"], 94);

  const std::string url = "/api/v1/quotas/attainment?plan_id=" + plan_id + "&period=2027-Q1&group_by=rep";
  json reps = json::parse(must(as(head_, "GET", url), 200));
  ASSERT_EQ(reps["items"].size(), 1u) << reps.dump();
  json mine = reps["items"][0];
  EXPECT_EQ(mine["achieved"]["amount"], 9000 * max);
  EXPECT_EQ(mine["percent"], "9000000000000000000.0");
  EXPECT_EQ(mine["gap"]["amount"], 100 - 9000 * max);
  EXPECT_EQ(mine["open_pipeline_weighted"]["amount"], 95 * max);

  sign_huge("K-HUGE-2");
  HttpResult beyond = as(head_, "GET", url);
  EXPECT_EQ(beyond.status, 422) << beyond.body;
  EXPECT_EQ(json::parse(beyond.body)["error"]["field"], "period");
}

TEST_P(Contracts, RefusesContractsAndQuotaPlansInACurrencyMasterDataDoesNotHold) {
  HttpResult contract = as(rep_, "POST", "/api/v1/contracts",
                           {{"number", "K-QQQ"}, {"party_id", customer_}, {"currency", "QQQ"},
                            {"lines", {{{"product_id", toner_}, {"quantity", 1}, {"unit_price", price(100, "QQQ")}}}}});
  EXPECT_EQ(contract.status, 422) << contract.body;
  EXPECT_EQ(json::parse(contract.body)["error"]["field"], "currency");
  HttpResult plan = as(exec_, "POST", "/api/v1/quotas/plans", {{"name", "Odd"}, {"period_type", "quarter"}, {"measure", "signed"}, {"currency", "QQQ"}});
  EXPECT_EQ(plan.status, 422) << plan.body;
  EXPECT_EQ(json::parse(plan.body)["error"]["field"], "currency");
  must(as(rep_, "POST", "/api/v1/contracts",
          {{"number", "K-KWD"}, {"party_id", customer_}, {"currency", "KWD"},
           {"lines", {{{"product_id", toner_}, {"quantity", 1}, {"unit_price", price(1000, "KWD")}}}}}),
       201);
}

// Another plugin knows contracts only through the service org.annex.contracts@1 (here a consumer fixture): a
// contract with its lines and split credit, and NOT_FOUND out of a user's reach; the contracts signed in a period,
// credited to a rep (also through a split share), page by page; collections by contract or date, a reversed one
// with its date; a party's first signed contract; malformed queries refused naming the field.
TEST_P(Contracts, OtherPluginsReadSignedContractsAndCollectionsThroughTheService) {
  auto ask = [&](const std::string& call, const json& body) { return d_->call("POST", "/api/v1/contracts-reader/" + call, body.dump()); };
  EXPECT_EQ(ask("first-signed", {{"party_id", customer_}}).status, 404) << "nothing signed yet";
  json a = signed_contract("K-S-1", "2027-04-02");
  json b = signed_contract("K-S-2", "2027-04-20");
  signed_contract("K-S-3", "2027-05-03");  // another month
  draft("K-S-4");                          // never signed
  must(as(rep_, "PUT", "/api/v1/contracts/" + b["id"].get<std::string>() + "/splits",
          {{"splits", {{{"user_id", rep_id_}, {"percent", 70}}, {{"user_id", rep2_id_}, {"percent", 30}}}}}),
       200);

  json one = json::parse(must(ask("get", {{"id", a["id"]}, {"user_id", rep_id_}}), 200));
  EXPECT_EQ(one["number"], "K-S-1");
  EXPECT_EQ(one["total"], 1500000);
  ASSERT_EQ(one["lines"].size(), 2u);
  EXPECT_EQ(one["lines"][0]["product_id"], toner_);
  EXPECT_EQ(one["lines"][0]["amount"], 1000000);
  EXPECT_EQ(one["splits"], json::array({{{"user_id", rep_id_}, {"percent", 100}}}));
  const std::string south_id = me(south_);
  EXPECT_EQ(ask("get", {{"id", a["id"]}, {"user_id", south_id}}).status, 404) << "out of the other sector's reach";

  json april = json::parse(must(ask("signed", {{"signed_from", "2027-04-01"}, {"signed_to", "2027-04-30"}}), 200));
  ASSERT_EQ(april["items"].size(), 2u) << april.dump();
  EXPECT_TRUE(april["next"].is_null());
  json paged = json::parse(must(ask("signed", {{"signed_from", "2027-04-01"}, {"signed_to", "2027-04-30"}, {"limit", 1}}), 200));
  ASSERT_EQ(paged["items"].size(), 1u);
  ASSERT_FALSE(paged["next"].is_null());
  json rest = json::parse(must(ask("signed", {{"signed_from", "2027-04-01"}, {"signed_to", "2027-04-30"}, {"limit", 1}, {"after", paged["next"]}}), 200));
  ASSERT_EQ(rest["items"].size(), 1u);
  EXPECT_NE(rest["items"][0]["id"], paged["items"][0]["id"]);
  json rep2s = json::parse(must(ask("signed", {{"signed_from", "2027-01-01"}, {"signed_to", "2027-12-31"}, {"credited_to", rep2_id_}}), 200));
  ASSERT_EQ(rep2s["items"].size(), 1u) << "rep2 holds a share of K-S-2 only";
  EXPECT_EQ(rep2s["items"][0]["number"], "K-S-2");
  EXPECT_EQ(rep2s["items"][0]["splits"].size(), 2u);
  json reps = json::parse(must(ask("signed", {{"signed_from", "2027-01-01"}, {"signed_to", "2027-12-31"}, {"credited_to", rep_id_}}), 200));
  EXPECT_EQ(reps["items"].size(), 3u);
  HttpResult bad = ask("signed", {{"signed_from", "April"}, {"signed_to", "2027-04-30"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "signed_from");
  EXPECT_EQ(json::parse(ask("signed", {{"signed_from", "2027-04-01"}, {"signed_to", "2027-04-30"}, {"limit", 0}}).body)["error"]["field"], "limit");

  std::string path = "/api/v1/contracts/" + a["id"].get<std::string>() + "/collections";
  json first = json::parse(must(as(finance_, "POST", path, {{"received_on", "2026-11-01"}, {"amount", price(600000)}, {"reference", "BANK-S1"}}), 201));
  must(as(finance_, "POST", path, {{"received_on", "2026-11-20"}, {"amount", price(100000)}, {"reference", "BANK-S2"}}), 201);
  must(as(finance_, "POST", path + "/" + first["collection"]["id"].get<std::string>() + "/reversal",
          {{"reference", "REV-S1"}, {"reversed_on", "2026-11-25"}, {"reason", "bounced"}}),
       200);
  json of_a = json::parse(must(ask("collections", {{"contract_id", a["id"]}}), 200));
  ASSERT_EQ(of_a["items"].size(), 2u) << of_a.dump();
  int reversed = 0;
  for (const json& c : of_a["items"]) reversed += c["reversed_on"].is_null() ? 0 : 1;
  EXPECT_EQ(reversed, 1);
  json late_november = json::parse(must(ask("collections", {{"received_from", "2026-11-15"}, {"received_to", "2026-11-30"}}), 200));
  ASSERT_EQ(late_november["items"].size(), 1u);
  EXPECT_EQ(late_november["items"][0]["amount"], 100000);
  EXPECT_EQ(json::parse(ask("get", {{"id", a["id"]}}).body)["collected"], 100000) << "the reversed collection no longer counts";
  EXPECT_EQ(json::parse(ask("collections", json::object()).body)["error"]["field"], "contract_id");

  json earliest = json::parse(must(ask("first-signed", {{"party_id", customer_}}), 200));
  EXPECT_EQ(earliest["number"], "K-S-1");
  EXPECT_EQ(earliest["signed_on"], "2027-04-02");
}

// Many contracts at once through the service (its minor 1), as drafting a month's statements asks for them: in id
// order, their totals and what was collected, without lines and splits; an id of no contract left out; a query
// without ids, with too many or with a non-string id refused naming contract_ids.
TEST_P(Contracts, ManyContractsStatesComeThroughTheServiceInOneCallAndMissingOnesAreLeftOut) {
  auto ask = [&](const json& body) { return d_->call("POST", "/api/v1/contracts-reader/states", body.dump()); };
  json a = signed_contract("K-M-1", "2026-10-02");
  json b = signed_contract("K-M-2", "2026-10-20");
  json c = draft("K-M-3");
  must(as(finance_, "POST", "/api/v1/contracts/" + b["id"].get<std::string>() + "/collections",
          {{"received_on", "2026-11-01"}, {"amount", price(600000)}, {"reference", "BANK-M1"}}),
       201);
  std::vector<std::string> ids = {b["id"], "ct_missing", a["id"], c["id"]};
  json got = json::parse(must(ask({{"contract_ids", ids}}), 200));
  ASSERT_EQ(got["items"].size(), 3u) << got.dump();
  std::vector<std::string> expected = {a["id"], b["id"], c["id"]};
  std::sort(expected.begin(), expected.end());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(got["items"][i]["id"], expected[i]);
  for (const json& k : got["items"]) {
    EXPECT_FALSE(k.contains("lines")) << k.dump();
    EXPECT_FALSE(k.contains("splits")) << k.dump();
    if (k["id"] == b["id"]) {
      EXPECT_EQ(k["number"], "K-M-2");
      EXPECT_EQ(k["total"], 1500000);
      EXPECT_EQ(k["collected"], 600000);
      EXPECT_EQ(k["signed_on"], "2026-10-20");
      EXPECT_EQ(k["party_id"], customer_);
    }
    if (k["id"] == c["id"]) {
      EXPECT_TRUE(k["signed_on"].is_null()) << "never signed";
    }
  }
  for (const json& bad : {json::object(), json{{"contract_ids", json::array()}}, json{{"contract_ids", "K-M-1"}},
                          json{{"contract_ids", {a["id"], 7}}}, json{{"contract_ids", std::vector<std::string>(1001, a["id"])}}}) {
    HttpResult r = ask(bad);
    EXPECT_EQ(r.status, 422) << bad.dump().substr(0, 80) << " " << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["field"], "contract_ids");
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Contracts, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);

}  // namespace
}  // namespace annex::test

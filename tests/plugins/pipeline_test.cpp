// The pipeline plugin end to end, through a real annexd on SQLite and on PostgreSQL, as several roles: leads and
// their conversion, stages and their transitions, activities and the monthly activity rule (C3), follow-ups of a
// won opportunity, the forecast per currency, leavers' records (C8), paging, ETags — each with its failure cases.
#include "plugin_test.h"

#include "store/sql.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <thread>

namespace annex::test {
namespace {

using nlohmann::json;

class Pipeline : public PluginTest {
 protected:
  void SetUp() override {
    start(R"({"plugins": {"org.annex.pipeline": {"stale_scan_seconds": 1}}})");
    if (IsSkipped()) return;
    rep_ = d_->user_with_role("rep", "sales-rep", "north");
    peer_ = d_->user_with_role("peer", "sales-rep", "north");
    south_ = d_->user_with_role("southrep", "sales-rep", "south");
    head_ = d_->user_with_role("head", "sector-head", "north");
    exec_ = d_->user_with_role("exec", "group-executive");
    rep_id_ = me(rep_);
    peer_id_ = me(peer_);
    south_id_ = me(south_);
    customer_ = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties",
                                          R"({"code": "C100", "name": "Northwind", "sector_id": "north", "owner_id": ")" + rep_id_ + R"("})"),
                                 201))["id"];
    product_ = json::parse(must(d_->call("POST", "/api/v1/masterdata/products", R"({"code": "P1", "name": "Toner", "repurchase_days": 30})"), 201))["id"];
  }


  json opportunity(const std::string& token, const json& extra = json::object()) {
    json body = {{"name", "Toner deal"}, {"party_id", customer_}, {"amount", {{"amount", 1000000}, {"currency", "CNY"}}},
                 {"expected_close", "2027-03-15"}};
    body.update(extra);
    return json::parse(must(as(token, "POST", "/api/v1/pipeline/opportunities", body), 201));
  }

  std::string rep_, peer_, south_, head_, exec_, rep_id_, peer_id_, south_id_, customer_, product_;
};

TEST_P(Pipeline, ALeadMovesThroughItsStatusesAndConvertsIntoACustomerAndAnOpportunityInOneTransaction) {
  json lead = json::parse(must(as(rep_, "POST", "/api/v1/pipeline/leads",
                                  {{"source", "referral"}, {"company", "Contoso"}, {"contact_name", "Li Wei"}}), 201));
  EXPECT_EQ(lead["status"], "new");
  EXPECT_EQ(lead["sector_id"], "north");
  std::string path = "/api/v1/pipeline/leads/" + lead["id"].get<std::string>();

  HttpResult bad_source = as(rep_, "POST", "/api/v1/pipeline/leads", {{"source", "cold-call"}, {"company", "X"}});
  EXPECT_EQ(bad_source.status, 422);
  EXPECT_EQ(json::parse(bad_source.body)["error"]["field"], "source");
  HttpResult skip = as(rep_, "PATCH", path, {{"status", "qualified"}});
  EXPECT_EQ(skip.status, 422) << skip.body;
  EXPECT_NE(skip.body.find("from new to qualified"), std::string::npos);
  EXPECT_EQ(as(rep_, "PATCH", path, {{"status", "disqualified"}}).status, 400) << "a reason is required";
  must(as(rep_, "PATCH", path, {{"status", "working"}}), 200);
  HttpResult early = as(rep_, "POST", path + "/convert", {{"party", {{"code", "C200"}}}});
  EXPECT_EQ(early.status, 422) << "only a qualified lead converts: " << early.body;
  must(as(rep_, "PATCH", path, {{"status", "qualified"}}), 200);

  // A conversion whose opportunity is refused creates no customer either.
  HttpResult refused = as(rep_, "POST", path + "/convert", {{"party", {{"code", "C200"}}}, {"opportunity", {{"expected_close", "2027-01-31"}}}});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["error"]["field"], "opportunity.amount");
  EXPECT_EQ(d_->call("GET", "/api/v1/masterdata/parties?code=C200").body.find("C200"), std::string::npos);

  json done = json::parse(must(as(rep_, "POST", path + "/convert",
                                  {{"party", {{"code", "C200"}}},
                                   {"opportunity", {{"amount", {{"amount", 500000}, {"currency", "CNY"}}}, {"expected_close", "2027-01-31"}}}}),
                               201));
  EXPECT_EQ(done["lead"]["status"], "converted");
  EXPECT_EQ(done["opportunity"]["party_id"], done["party_id"]);
  EXPECT_EQ(done["opportunity"]["lead_id"], lead["id"]);
  EXPECT_EQ(done["opportunity"]["owner_id"], rep_id_);
  json party = json::parse(must(d_->call("GET", "/api/v1/masterdata/parties/" + done["party_id"].get<std::string>()), 200));
  EXPECT_EQ(party["name"], "Contoso");
  EXPECT_EQ(party["sector_id"], "north");
  EXPECT_EQ(as(rep_, "POST", path + "/convert", {{"party_id", done["party_id"]}}).status, 422) << "converted once";

  // A rep works in their own sector; a conversion never takes over an existing customer by its code.
  EXPECT_EQ(as(rep_, "POST", "/api/v1/pipeline/leads", {{"source", "referral"}, {"company", "Elsewhere"}, {"sector_id", "south"}}).status, 403);
  json other = json::parse(must(as(rep_, "POST", "/api/v1/pipeline/leads", {{"source", "referral"}, {"company", "Takeover"}}), 201));
  std::string other_path = "/api/v1/pipeline/leads/" + other["id"].get<std::string>();
  must(as(rep_, "PATCH", other_path, {{"status", "working"}}), 200);
  must(as(rep_, "PATCH", other_path, {{"status", "qualified"}}), 200);
  HttpResult taken = as(rep_, "POST", other_path + "/convert",
                        {{"party", {{"code", "C100"}, {"name", "Renamed by a conversion"}}},
                         {"opportunity", {{"amount", {{"amount", 1}, {"currency", "CNY"}}}, {"expected_close", "2027-01-31"}}}});
  EXPECT_EQ(taken.status, 409) << taken.body;
  EXPECT_EQ(json::parse(taken.body)["error"]["field"], "party.code");
  EXPECT_EQ(json::parse(must(d_->call("GET", "/api/v1/masterdata/parties/" + customer_), 200))["name"], "Northwind");
}

TEST_P(Pipeline, StagesFollowTheAllowedTransitionsAndKeepTheirHistory) {
  json opp = opportunity(rep_);
  std::string path = "/api/v1/pipeline/opportunities/" + opp["id"].get<std::string>();
  EXPECT_EQ(opp["stage"], "prospecting");
  EXPECT_EQ(opp["probability"], 10);
  EXPECT_EQ(opp["weighted_amount"]["amount"], 100000);
  HttpResult leap = as(rep_, "PATCH", path, {{"stage", "won"}});
  EXPECT_EQ(leap.status, 422);
  EXPECT_NE(leap.body.find("from prospecting to won"), std::string::npos) << leap.body;
  EXPECT_EQ(as(rep_, "PATCH", path, {{"stage", "nowhere"}}).status, 422);
  EXPECT_EQ(as(rep_, "PATCH", path, {{"amount", {{"amount", 10.5}, {"currency", "CNY"}}}}).status, 400) << "no fractions of minor units";

  HttpResult moved = as(rep_, "PATCH", path, {{"stage", "qualification"}}, {{"If-Match", "\"v1\""}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(moved.headers["etag"], "\"v2\"");
  EXPECT_EQ(json::parse(moved.body)["probability"], 25);
  HttpResult stale = as(rep_, "PATCH", path, {{"name", "Renamed"}}, {{"If-Match", "\"v1\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  json overridden = json::parse(must(as(rep_, "PATCH", path, {{"probability", 40}, {"stage", "proposal"}}), 200));
  EXPECT_EQ(overridden["probability"], 40);
  EXPECT_TRUE(overridden["probability_overridden"]);
  EXPECT_EQ(overridden["forecast_category"], "best_case");
  EXPECT_EQ(as(rep_, "PATCH", path, {{"stage", "lost"}}).status, 400) << "lost needs a reason";
  json lost = json::parse(must(as(rep_, "PATCH", path, {{"stage", "lost"}, {"lost_reason", "price"}}), 200));
  EXPECT_EQ(lost["status"], "lost");
  EXPECT_EQ(lost["forecast_category"], "omitted");

  json history = json::parse(must(as(rep_, "GET", path + "/history"), 200))["items"];
  ASSERT_EQ(history.size(), 4u);
  EXPECT_TRUE(history[0]["from"].is_null());
  EXPECT_EQ(history[3]["from"], "proposal");
  EXPECT_EQ(history[3]["to"], "lost");
  EXPECT_EQ(history[3]["by"], rep_id_);
}

TEST_P(Pipeline, AWonOpportunityPlansItsFollowUpsAndRepurchaseDates) {
  json opp = opportunity(rep_, {{"stage", "negotiation"}, {"products", {{{"product_id", product_}, {"quantity", 3}}}}});
  std::string path = "/api/v1/pipeline/opportunities/" + opp["id"].get<std::string>();
  json won = json::parse(must(as(rep_, "PATCH", path, {{"stage", "won"}}), 200));
  EXPECT_EQ(won["status"], "won");
  EXPECT_EQ(won["probability"], 100);
  json due = json::parse(must(as(rep_, "GET", "/api/v1/pipeline/due?before=2100-01-01&limit=50"), 200))["items"];
  std::map<std::string, int> purposes;
  for (const auto& a : due) {
    EXPECT_EQ(a["opportunity_id"], opp["id"]);
    purposes[a["purpose"]]++;
  }
  EXPECT_EQ(purposes["follow-up"], 1);
  EXPECT_EQ(purposes["after-sale"], 4);
  EXPECT_EQ(purposes["repurchase"], 1);
  EXPECT_EQ(due.at(0)["purpose"], "follow-up") << "due lists the earliest first";
  // Only what falls before the date, and only within reach.
  EXPECT_EQ(json::parse(must(as(rep_, "GET", "/api/v1/pipeline/due?before=2000-01-01"), 200))["items"].size(), 0u);
  EXPECT_EQ(json::parse(must(as(south_, "GET", "/api/v1/pipeline/due?before=2100-01-01"), 200))["items"].size(), 0u);
  EXPECT_EQ(as(rep_, "GET", "/api/v1/pipeline/due?before=soon").status, 400);
}

TEST_P(Pipeline, RecordsOutOfReachDoNotExistForTheCaller) {
  json opp = opportunity(rep_);
  std::string path = "/api/v1/pipeline/opportunities/" + opp["id"].get<std::string>();
  HttpResult other = as(south_, "GET", path);
  EXPECT_EQ(other.status, 404) << "another sector's opportunity: " << other.body;
  EXPECT_EQ(as(south_, "PATCH", path, {{"name", "mine now"}}).status, 404);
  EXPECT_EQ(json::parse(must(as(south_, "GET", "/api/v1/pipeline/opportunities"), 200))["items"].size(), 0u);
  EXPECT_EQ(as(peer_, "GET", path).status, 404) << "a rep sees their own records only";
  EXPECT_EQ(as(head_, "GET", path).status, 200) << "the sector head sees the sector";
  EXPECT_EQ(as(south_, "POST", "/api/v1/pipeline/opportunities",
               {{"name", "x"}, {"party_id", customer_}, {"amount", {{"amount", 1}, {"currency", "CNY"}}}, {"expected_close", "2027-01-01"}})
                .status,
            422)
      << "a customer out of reach cannot be used";

  // Activities: a rep logs their own; only those with reach over another's records (the sector head in the sector,
  // group management anywhere) plan activities for someone else, and the assignee must be an active member.
  json mine = {{"kind", "call"}, {"subject", "Intro"}, {"opportunity_id", opp["id"]}};
  must(as(rep_, "POST", "/api/v1/pipeline/activities", mine), 201);
  json for_peer = mine;
  for_peer["owner_id"] = peer_id_;
  EXPECT_EQ(as(rep_, "POST", "/api/v1/pipeline/activities", for_peer).status, 403);
  EXPECT_EQ(json::parse(must(as(head_, "POST", "/api/v1/pipeline/activities", for_peer), 201))["owner_id"], peer_id_);
  json for_south = mine;
  for_south["owner_id"] = south_id_;
  EXPECT_EQ(as(head_, "POST", "/api/v1/pipeline/activities", for_south).status, 422) << "not a member of the sector";
  EXPECT_EQ(as(exec_, "POST", "/api/v1/pipeline/activities", for_peer).status, 201);
  EXPECT_EQ(as(rep_, "POST", "/api/v1/pipeline/activities", {{"kind", "fax"}, {"subject", "x"}, {"opportunity_id", opp["id"]}}).status, 422);
  HttpResult future = as(rep_, "POST", "/api/v1/pipeline/activities",
                         {{"kind", "call"}, {"subject", "x"}, {"opportunity_id", opp["id"]}, {"date", "2099-01-01"}, {"status", "done"}});
  EXPECT_EQ(future.status, 422) << "an activity done in the future would keep the record from ever being stale";
}

TEST_P(Pipeline, OpenRecordsWithoutAnActivityInAMonthAreStaleAndAnnouncedOnce) {
  json quiet = opportunity(rep_);
  json alive = opportunity(rep_);
  json lead = json::parse(must(as(rep_, "POST", "/api/v1/pipeline/leads", {{"source", "advertising"}, {"company", "Quiet Ltd"}}), 201));
  // Created six weeks ago.
  d_->sql("UPDATE pipeline_opportunities SET created_at = '2000-01-01T00:00:00.000Z'");
  d_->sql("UPDATE pipeline_leads SET created_at = '2000-01-01T00:00:00.000Z'");
  must(as(rep_, "POST", "/api/v1/pipeline/activities", {{"kind", "visit"}, {"subject", "Checked in"}, {"opportunity_id", alive["id"]}}), 201);
  // A planned activity does not count.
  must(as(rep_, "POST", "/api/v1/pipeline/activities",
          {{"kind", "call"}, {"subject", "Later"}, {"opportunity_id", quiet["id"]}, {"date", "2099-01-01"}}),
       201);
  json stale = json::parse(must(as(rep_, "GET", "/api/v1/pipeline/stale"), 200))["items"];
  std::set<std::string> ids;
  for (const auto& s : stale) ids.insert(s["id"]);
  EXPECT_EQ(ids, (std::set<std::string>{quiet["id"], lead["id"]}));
  EXPECT_EQ(json::parse(must(as(south_, "GET", "/api/v1/pipeline/stale"), 200))["items"].size(), 0u);

  // The scan (every second here) announces each once.
  auto announced = [&](const std::string& id) -> int64_t {
    auto db = d_->open_store();
    store::Lease lease(*db);
    return store::run(lease.session(), "SELECT COUNT(*) FROM annex_events WHERE topic LIKE '%.stale' AND payload LIKE '%" + id + "%'", {})
        .rows.at(0).at(0).i;
  };
  EXPECT_TRUE(eventually([&] { return announced(quiet["id"]) == 1 && announced(lead["id"]) == 1; }, std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(announced(quiet["id"]), 1);
  EXPECT_EQ(announced(alive["id"]), 0);
  // Logging an activity revives it.
  must(as(rep_, "POST", "/api/v1/pipeline/activities", {{"kind", "note"}, {"subject", "Still keen"}, {"opportunity_id", quiet["id"]}}), 201);
  stale = json::parse(must(as(rep_, "GET", "/api/v1/pipeline/stale"), 200))["items"];
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0]["id"], lead["id"]);
}

TEST_P(Pipeline, TheForecastWeighsThePipelinePerGroupAndNeverAddsCurrenciesTogether) {
  opportunity(rep_, {{"amount", {{"amount", 1000000}, {"currency", "CNY"}}}, {"stage", "proposal"}});       // 50%
  opportunity(rep_, {{"amount", {{"amount", 333333}, {"currency", "CNY"}}}, {"probability", 33}});          // 33%
  opportunity(rep_, {{"amount", {{"amount", 20000}, {"currency", "USD"}}}, {"stage", "negotiation"}});       // 75%
  opportunity(rep_, {{"amount", {{"amount", 999}, {"currency", "CNY"}}}, {"expected_close", "2028-01-01"}});  // outside
  json lost = opportunity(rep_, {{"amount", {{"amount", 777}, {"currency", "CNY"}}}});
  must(as(rep_, "PATCH", "/api/v1/pipeline/opportunities/" + lost["id"].get<std::string>(), {{"stage", "lost"}, {"lost_reason", "x"}}), 200);
  json f = json::parse(must(as(head_, "GET", "/api/v1/pipeline/forecast?from=2027-01-01&to=2027-12-31&group_by=owner"), 200));
  ASSERT_EQ(f["groups"].size(), 2u) << f.dump();
  json cny = f["groups"][0], usd = f["groups"][1];
  EXPECT_EQ(cny["group"], rep_id_);
  EXPECT_EQ(cny["currency"], "CNY");
  EXPECT_EQ(cny["count"], 2);
  EXPECT_EQ(cny["total"]["amount"], 1333333);
  EXPECT_EQ(cny["weighted"]["amount"], 500000 + 110000);  // 333333 × 33% = 109999.89
  EXPECT_EQ(usd["currency"], "USD");
  EXPECT_EQ(usd["weighted"]["amount"], 15000);
  json by_stage = json::parse(must(as(head_, "GET", "/api/v1/pipeline/forecast?from=2027-01-01&to=2027-12-31&group_by=stage"), 200));
  EXPECT_EQ(by_stage["groups"].size(), 3u);
  EXPECT_EQ(json::parse(must(as(south_, "GET", "/api/v1/pipeline/forecast?from=2027-01-01&to=2027-12-31"), 200))["groups"].size(), 0u);
  EXPECT_EQ(as(head_, "GET", "/api/v1/pipeline/forecast?from=2027-01-01&to=2027-12-31&group_by=colour").status, 400);
  EXPECT_EQ(as(head_, "GET", "/api/v1/pipeline/forecast?from=2027-12-31&to=2027-01-01").status, 400);
}

// The largest amount the API takes (10^15 minor units) at 100%, 9,223 times, sums to just under 2^63: the
// forecast answers it to the minor unit; one more cannot be shown as an amount and is refused, naming the field.
TEST_P(Pipeline, TheForecastSumsAmountsAtTheLimitExactlyAndRefusesATotalBeyond64Bits) {
  const int64_t max = 1'000'000'000'000'000;
  json top = opportunity(rep_, {{"amount", {{"amount", max}, {"currency", "CNY"}}}, {"probability", 100}});
  copy_opportunity(top["id"], 94);
  const std::string url = "/api/v1/pipeline/forecast?from=2027-01-01&to=2027-12-31&group_by=sector";
  json f = json::parse(must(as(head_, "GET", url), 200));
  ASSERT_EQ(f["groups"].size(), 1u) << f.dump();
  EXPECT_EQ(f["groups"][0]["count"], 95);
  EXPECT_EQ(f["groups"][0]["total"]["amount"], 95 * max);
  EXPECT_EQ(f["groups"][0]["weighted"]["amount"], 95 * max);

  copy_opportunity(top["id"].get<std::string>() + "-1", 9223 - 95);
  opportunity(rep_, {{"amount", {{"amount", 1}, {"currency", "CNY"}}}, {"probability", 50}});  // 0.5 rounds up
  f = json::parse(must(as(head_, "GET", url), 200));
  ASSERT_EQ(f["groups"].size(), 1u) << f.dump();
  EXPECT_EQ(f["groups"][0]["count"], 9224);
  EXPECT_EQ(f["groups"][0]["total"]["amount"], 9223 * max + 1);
  EXPECT_EQ(f["groups"][0]["weighted"]["amount"], 9223 * max + 1);

  opportunity(rep_, {{"amount", {{"amount", max}, {"currency", "CNY"}}}});
  HttpResult beyond = as(head_, "GET", url);
  EXPECT_EQ(beyond.status, 422) << beyond.body;
  EXPECT_EQ(json::parse(beyond.body)["error"]["field"], "to");
  // Other currencies and narrower requests still answer.
  EXPECT_EQ(as(head_, "GET", "/api/v1/pipeline/forecast?from=2027-01-01&to=2027-01-31").status, 200);
}

TEST_P(Pipeline, RefusesAnOpportunityInACurrencyMasterDataDoesNotHold) {
  json body = {{"name", "Odd money"}, {"party_id", customer_}, {"amount", {{"amount", 100}, {"currency", "QQQ"}}}, {"expected_close", "2027-03-15"}};
  HttpResult odd = as(rep_, "POST", "/api/v1/pipeline/opportunities", body);
  EXPECT_EQ(odd.status, 422) << odd.body;
  EXPECT_EQ(json::parse(odd.body)["error"]["field"], "amount.currency");
  json yen = opportunity(rep_, {{"amount", {{"amount", 5000}, {"currency", "JPY"}}}});
  HttpResult changed = as(rep_, "PATCH", "/api/v1/pipeline/opportunities/" + yen["id"].get<std::string>(),
                          {{"amount", {{"amount", 5000}, {"currency", "QQQ"}}}});
  EXPECT_EQ(changed.status, 422) << changed.body;
  EXPECT_EQ(json::parse(changed.body)["error"]["field"], "amount.currency");
  // A currency added to master data is then accepted.
  must(d_->call("POST", "/api/v1/masterdata/currencies", R"({"code": "QQQ", "name": "Test units", "minor_units": 0})"), 201);
  must(as(rep_, "POST", "/api/v1/pipeline/opportunities", body), 201);
}

// The host refuses a parameter no plugin could read faithfully before the plugin sees it: a filter is never
// silently dropped, and bytes that are not UTF-8 never reach storage.
TEST_P(Pipeline, AQueryParameterThatIsNotUtf8OrMalformedIsRefusedNamingIt) {
  for (const std::string query : {"sector_id=%FF", "sector_id=%4", "sector_id=%ZZ", "sector_id=no%00rth"}) {
    HttpResult r = as(head_, "GET", "/api/v1/pipeline/stages?" + query);
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["field"], "sector_id") << query;
  }
  HttpResult path = as(head_, "GET", "/api/v1/pipeline/opportunities/%FF");
  EXPECT_EQ(path.status, 400) << path.body;
  EXPECT_EQ(json::parse(path.body)["error"]["field"], "path");
  EXPECT_EQ(as(head_, "GET", "/api/v1/pipeline/stages?sector_id=north").status, 200);
}

TEST_P(Pipeline, ALeaversRecordsAreListedAsOrphansUntilReassignedWithinTheSector) {
  json opp = opportunity(rep_);
  json lead = json::parse(must(as(rep_, "POST", "/api/v1/pipeline/leads", {{"source", "referral"}, {"company", "Orphan Co"}}), 201));
  must(as(rep_, "POST", "/api/v1/pipeline/activities", {{"kind", "call"}, {"subject", "x"}, {"lead_id", lead["id"]}}), 201);
  must(d_->call("PATCH", "/api/v1/users/" + rep_id_, R"({"status": "disabled"})"), 200);
  json orphans = json::parse(must(as(head_, "GET", "/api/v1/pipeline/orphans"), 200));
  EXPECT_EQ(orphans["leads"].size(), 1u);
  EXPECT_EQ(orphans["opportunities"].size(), 1u);
  EXPECT_EQ(orphans["activities"].size(), 1u);
  EXPECT_EQ(json::parse(must(as(south_, "GET", "/api/v1/pipeline/orphans"), 200))["opportunities"].size(), 0u);

  EXPECT_EQ(as(peer_, "POST", "/api/v1/pipeline/reassign", {{"from_user", rep_id_}, {"to_user", peer_id_}}).status, 403);
  EXPECT_EQ(as(head_, "POST", "/api/v1/pipeline/reassign", {{"from_user", rep_id_}, {"to_user", rep_id_}}).status, 422);
  json south_move = json::parse(must(as(exec_, "POST", "/api/v1/pipeline/reassign", {{"from_user", rep_id_}, {"to_user", south_id_}}), 200));
  EXPECT_EQ(south_move["moved"]["opportunities"], 0) << "the records stay in their sector";
  EXPECT_EQ(south_move["skipped"]["opportunities"], 1);
  json moved = json::parse(must(as(head_, "POST", "/api/v1/pipeline/reassign", {{"from_user", rep_id_}, {"to_user", peer_id_}}), 200));
  EXPECT_EQ(moved["moved"]["leads"], 1);
  EXPECT_EQ(moved["moved"]["opportunities"], 1);
  EXPECT_EQ(moved["moved"]["activities"], 1);
  EXPECT_EQ(json::parse(must(as(peer_, "GET", "/api/v1/pipeline/opportunities/" + opp["id"].get<std::string>()), 200))["owner_id"], peer_id_);
  orphans = json::parse(must(as(head_, "GET", "/api/v1/pipeline/orphans"), 200));
  EXPECT_EQ(orphans["leads"].size() + orphans["opportunities"].size() + orphans["activities"].size(), 0u);
  json audit = json::parse(must(d_->call("GET", "/api/v1/audit?object=pipeline.opportunity/" + opp["id"].get<std::string>()), 200));
  ASSERT_FALSE(audit["items"].empty()) << audit.dump();
  EXPECT_EQ(audit["items"][0]["action"], "pipeline.opportunity.reassign");
}

TEST_P(Pipeline, ListsPageByCursorWithFiltersAndSorting) {
  for (int i = 0; i < 7; ++i) {
    must(as(rep_, "POST", "/api/v1/pipeline/leads", {{"source", i % 2 ? "referral" : "advertising"}, {"company", "Co " + std::to_string(7 - i)}}), 201);
  }
  std::vector<std::string> seen;
  std::string cursor;
  for (int pages = 0; pages < 5; ++pages) {
    json page = json::parse(must(as(rep_, "GET", "/api/v1/pipeline/leads?sort=company&limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor)), 200));
    for (const auto& l : page["items"]) seen.push_back(l["company"]);
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"];
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"Co 1", "Co 2", "Co 3", "Co 4", "Co 5", "Co 6", "Co 7"}));
  EXPECT_EQ(json::parse(must(as(rep_, "GET", "/api/v1/pipeline/leads?source=referral"), 200))["items"].size(), 3u);
  EXPECT_EQ(as(rep_, "GET", "/api/v1/pipeline/leads?sort=password").status, 400);
  EXPECT_EQ(as(rep_, "GET", "/api/v1/pipeline/leads?cursor=zz").status, 400);
  EXPECT_EQ(as(rep_, "GET", "/api/v1/pipeline/leads?limit=0").status, 400);
  // A retried create with the same Idempotency-Key answers the first opportunity again.
  json body = {{"name", "Once"}, {"party_id", customer_}, {"amount", {{"amount", 5}, {"currency", "CNY"}}}, {"expected_close", "2027-02-01"}};
  HttpResult first = as(rep_, "POST", "/api/v1/pipeline/opportunities", body, {{"Idempotency-Key", "opp-once"}});
  HttpResult again = as(rep_, "POST", "/api/v1/pipeline/opportunities", body, {{"Idempotency-Key", "opp-once"}});
  EXPECT_EQ(first.body, again.body);
  body["name"] = "Twice";
  EXPECT_EQ(as(rep_, "POST", "/api/v1/pipeline/opportunities", body, {{"Idempotency-Key", "opp-once"}}).status, 422);
}

INSTANTIATE_TEST_SUITE_P(Backends, Pipeline, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);

}  // namespace
}  // namespace annex::test

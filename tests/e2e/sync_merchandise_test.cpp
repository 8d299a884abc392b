// The OData connector pointed, by configuration alone, at a service shaped unlike S/4HANA (tests/peers/merchandise,
// a stock SAP CAP service started by the merchandise fixture): its own entity and field names, an integer key,
// its own change fields, booleans, prices in CNY, JPY and KWD, an entity set with neither a change time nor an
// ETag, and stock CAP's answer to a duplicate key (a 500). Each test asserts, exact on both sides, the data an
// earlier connector lost or corrupted there.
#include "e2e/peer_clients.h"
#include "support/test_support.h"

#include "store/sql.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

namespace annex::test {
namespace {

using nlohmann::json;

// The fixture starts this peer beside the first OData peer: its state is the sibling folder "merchandise".
std::filesystem::path merchandise_state() {
  return odata_state().empty() ? std::filesystem::path() : odata_state().parent_path() / "merchandise";
}

// The connector's side of each stream, and Annex's: names, types and systems of record as an IT team would map
// them. The articles' status and price are Annex's (it sets the sales price); the rest is the service's.
const char* kSettings = R"x("articles": {"service": "merchandise", "entity_set": "Articles", "key": ["ArticleNo"],
                                        "changed_field": "LastChange"},
    "customers": {"service": "merchandise", "entity_set": "Customers", "key": ["CustomerNo"], "changed_field": "ChangedOn"},
    "departments": {"service": "merchandise", "entity_set": "Departments", "key": ["DeptCode"], "changed_field": "",
                    "if_match": false},
    "bulk": {"service": "merchandise", "entity_set": "Articles", "key": ["ArticleNo"], "changed_field": "LastChange",
             "filter": "startswith(ArticleNo,'B')"},
    "offsets": {"service": "merchandise", "entity_set": "ArticlePages", "key": ["ArticleNo"], "changed_field": "LastChange",
                "filter": "startswith(ArticleNo,'S')", "paging": "server"})x";
const char* kStreams = R"("articles": {"entity": "products", "direction": "both", "remote_id": "_id", "version_field": "_etag",
      "page_size": 20,
      "fields": {"code": "ArticleNo", "name": "Title", "product_group": "ArticleGrp", "unit": "SalesUnit",
                 "status": {"from": "Blocked", "as": "boolean", "values": {"true": "inactive", "false": "active"}},
                 "list_price": {"from": "Price", "money": {"currency_from": "Currency"}}},
      "system_of_record": {"default": "remote", "status": "annex", "list_price": "annex"}},
    "customers": {"entity": "parties", "direction": "both", "remote_id": "_id", "version_field": "_etag",
      "sector_id": "hq", "owner_login": "admin",
      "fields": {"code": {"from": "CustomerNo", "as": "integer"}, "name": "Name", "region": "City",
                 "status": {"from": "Blocked", "as": "boolean", "values": {"true": "inactive", "false": "active"}}},
      "system_of_record": {"default": "remote", "status": "annex"}},
    "departments": {"entity": "cost_centres", "direction": "both", "remote_id": "_id",
      "fields": {"code": "DeptCode", "name": "DeptName",
                 "status": {"from": "Closed", "as": "boolean", "values": {"true": "inactive", "false": "active"}}},
      "system_of_record": {"default": "remote", "name": "annex"}},
    "bulk": {"entity": "products", "remote_id": "_id", "version_field": "_etag", "page_size": 20,
      "fields": {"code": "ArticleNo", "name": "Title", "list_price": {"from": "Price", "money": {"currency_from": "Currency"}}}},
    "offsets": {"entity": "products", "remote_id": "_id", "version_field": "_etag", "page_size": 20,
      "fields": {"code": "ArticleNo", "name": "Title", "list_price": {"from": "Price", "money": {"currency_from": "Currency"}}}})";

class SyncMerchandise : public testing::Test {
 protected:
  void SetUp() override {
    std::string url;
    if (!merchandise_state().empty()) std::ifstream(merchandise_state() / "url") >> url;
    if (url.empty()) {
      if (const char* ci = std::getenv("CI"); ci != nullptr && std::string(ci) == "true") FAIL() << "CI runs these tests: no peer URL";
      GTEST_SKIP() << "no merchandise OData service for this run";
    }
    service_ = std::make_unique<Service>(url);
    url_ = url;
    start("sync", "sync-secret");
  }

  // (Re)starts annexd with connection "shop" signed in as `user`. Pushes go by the daemon's own schedule.
  void start(const std::string& user, const std::string& password, const std::string& settings = kSettings,
             const std::string& streams = kStreams) {
    std::ofstream(dir_.path() / "annex.json") << R"({"sync": {"connections": {"shop": {"connector": "odata",
      "settings": {"url": ")" + url_ + R"(", "user": ")" + user + R"(", "password": "{password}", "timeout_s": 10, "batch_size": 20,
        "streams": {)" + settings + R"(}},
      "secrets": {"password": "env:ANNEX_TEST_ODATA_SECRET"},
      "retry": {"attempts": 3, "base_ms": 10, "max_ms": 50}, "breaker": {"failures": 3, "open_s": 600},
      "streams": {)" + streams + R"(}}}}})";
    Annexd::Options o;
    o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}, {"ANNEX_TEST_ODATA_SECRET", password}};
    o.data_dir = data_.str();
    o.bootstrap_admin = !d_;
    d_.reset();
    d_ = std::make_unique<Annexd>(o);
  }

  std::string sync(const std::string& stream, int expect_exit = 0) {
    std::string out;
    EXPECT_EQ(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "run", "shop", "--stream", stream}, &out), expect_exit)
        << out;
    return out;
  }
  std::string dead_letters() {
    std::string out;
    d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "dead-letters", "list"}, &out);
    return out;
  }
  // The Annex record of `entity` with this code, as the API answers it; null when there is none.
  json record(const std::string& entity, const std::string& code) {
    std::string id;
    {
      auto db = d_->open_store();
      store::Lease lease(*db);
      store::Param p = store::Param::text(code);
      auto rs = store::run(lease.session(), "SELECT id FROM annex_md_" + entity + " WHERE code = ?", std::span<const store::Param>(&p, 1));
      if (rs.rows.empty()) return nullptr;
      id = rs.rows[0][0].s;
    }
    return json::parse(d_->call("GET", "/api/v1/masterdata/" + entity + "/" + id).body, nullptr, false);
  }
  void change(const std::string& entity, const std::string& code, const json& changes) {
    json r = record(entity, code);
    ASSERT_TRUE(r.is_object()) << code;
    HttpResult res = d_->call("PATCH", "/api/v1/masterdata/" + entity + "/" + r["id"].get<std::string>(), changes.dump(), {{"If-Match", "*"}});
    ASSERT_EQ(res.status, 200) << res.body;
  }
  json remote(const std::string& path) { return service_->get("merchandise/" + path); }
  void pull_interrupted(const std::string& stream, const std::string& letter);
  std::string prefix_;  // the numbers of the articles pull_interrupted made
  int64_t pending() { return count_in(*d_, "SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'pending'"); }
  // Waits until the daemon's scheduled pushes have settled every change.
  void pushed() {
    EXPECT_TRUE(eventually([&] { return pending() == 0; }, std::chrono::seconds(60))) << d_->log();
  }

  TempDir dir_, data_;
  std::string url_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<Annexd> d_;
};

// ¥12,800 is 12800 minor units and 125.125 KWD is 125125 — the currency's decimals from master data, never a
// fixed two — both ways; a price with more decimals than its currency has is a dead letter naming the field.
TEST_F(SyncMerchandise, MoneyTakesTheDecimalsOfItsCurrencyBothWaysAndIsNeverRounded) {
  ASSERT_EQ(service_->call("POST", "merchandise/Articles", {{"ArticleNo", "A-400"}, {"Title", "Half a yen"}, {"Price", "1500.5"},
                                                             {"Currency", "JPY"}}).status, 201);
  std::string out = sync("articles");
  EXPECT_NE(out.find("1 rejected"), std::string::npos) << out;
  EXPECT_EQ(record("products", "A-100")["list_price"], json::parse(R"({"amount": 45000, "currency": "CNY"})"));
  EXPECT_EQ(record("products", "A-200")["list_price"], json::parse(R"({"amount": 12800, "currency": "JPY"})"));
  EXPECT_EQ(record("products", "A-300")["list_price"], json::parse(R"({"amount": 125125, "currency": "KWD"})"));
  EXPECT_EQ(record("products", "A-300")["status"], "inactive") << "Blocked: true";
  EXPECT_TRUE(record("products", "A-400").is_null()) << "1500.5 yen is not rounded into a price";
  std::string letters = dead_letters();
  EXPECT_NE(letters.find("list_price"), std::string::npos) << letters;
  EXPECT_NE(letters.find("JPY"), std::string::npos) << letters;
  EXPECT_EQ(letters.find("list_price: list_price"), std::string::npos) << "the field is named once: " << letters;

  // Annex sets prices and blocks articles: the service receives its own types, the amount at its decimals.
  change("products", "A-200", {{"list_price", {{"amount", 13500}, {"currency", "JPY"}}}, {"status", "inactive"}});
  HttpResult made = d_->call("POST", "/api/v1/masterdata/products",
                             json({{"code", "A-500"}, {"name", "Toner for Kuwait"}, {"list_price", {{"amount", 1250}, {"currency", "KWD"}}}}).dump());
  ASSERT_EQ(made.status, 201) << made.body;
  pushed();
  json yen = remote("Articles('A-200')");
  ASSERT_TRUE(yen.is_object());
  EXPECT_EQ(yen["Price"], 13500);
  EXPECT_EQ(yen["Blocked"], true) << "a boolean, not \"true\"";
  json dinar = remote("Articles('A-500')");
  ASSERT_TRUE(dinar.is_object()) << dead_letters();
  EXPECT_EQ(dinar["Price"], 1.25);
  EXPECT_EQ(dinar["Currency"], "KWD");
  EXPECT_EQ(dinar["Blocked"], false);
  EXPECT_EQ(dinar["Title"], "Toner for Kuwait");
  // A price in a currency master data does not hold is refused in Annex already, naming the field.
  HttpResult bad = d_->call("POST", "/api/v1/masterdata/products",
                            json({{"code", "A-600"}, {"name", "Gold"}, {"list_price", {{"amount", 1}, {"currency", "XYZ"}}}}).dump());
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("list_price.currency"), std::string::npos) << bad.body;
}

// An integer key and booleans, both ways; a value the remote's type cannot hold is refused naming the field, and
// the record alone: the rest of its batch goes.
TEST_F(SyncMerchandise, TypedFieldsTravelAsTheServiceTypesThem) {
  std::string out = sync("customers");
  EXPECT_EQ(out.find("FAILED"), std::string::npos) << out;
  EXPECT_EQ(record("parties", "4711")["status"], "active");
  EXPECT_EQ(record("parties", "4712")["status"], "inactive");
  EXPECT_EQ(record("parties", "4712")["region"], "Shanghai");
  // The name is the service's: changed in Annex, the next pull would overwrite it without a word — refused.
  HttpResult owned = d_->call("PATCH", "/api/v1/masterdata/parties/" + record("parties", "4711")["id"].get<std::string>(),
                              json({{"name", "Renamed in Annex"}}).dump(), {{"If-Match", "*"}});
  EXPECT_EQ(owned.status, 409) << owned.body;
  EXPECT_NE(owned.body.find("\"field\":\"name\""), std::string::npos) << owned.body;
  EXPECT_NE(owned.body.find("kept in shop"), std::string::npos) << owned.body;

  change("parties", "4712", {{"status", "active"}});
  for (const json& p : {json{{"code", "4713"}, {"name", "Yuehai Foods"}, {"region", "Guangzhou"}, {"sector_id", "hq"}},
                        json{{"code", "C-9"}, {"name", "Not a number"}, {"sector_id", "hq"}}}) {
    ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/parties", p.dump()).status, 201);
  }
  pushed();
  json unblocked = remote("Customers(4712)");
  ASSERT_TRUE(unblocked.is_object());
  EXPECT_EQ(unblocked["Blocked"], false);
  json created = remote("Customers(4713)");
  ASSERT_TRUE(created.is_object()) << dead_letters();
  EXPECT_EQ(created["Name"], "Yuehai Foods");
  EXPECT_EQ(created["City"], "Guangzhou");
  EXPECT_EQ(created["Blocked"], false);
  std::string letters = dead_letters();
  EXPECT_NE(letters.find("C-9 cannot be sent to CustomerNo, which takes a whole number"), std::string::npos) << letters;

  // The check says which streams may be written, with credentials that may, and refuses those that may not.
  EXPECT_EQ(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "check", "shop"}, &out), 0) << out;
  EXPECT_NE(out.find("may write articles, bulk, customers"), std::string::npos) << out;
  EXPECT_NE(out.find("only reading was checked for departments"), std::string::npos) << out;
  start("auditor", "auditor-secret");
  EXPECT_NE(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "check", "shop"}, &out), 0) << out;
  EXPECT_NE(out.find("auditor may read Articles but not write it"), std::string::npos) << out;
}

// Departments have neither a change time nor an ETag: every run reads them whole and applies only what changed;
// updates go without If-Match, as configured. A department created in Annex that the service holds already
// (stock CAP answers the duplicate with a 500) is found and written, not taken for an outage: the circuit stays
// closed, and the update beside it in the batch is recorded, not left pending.
TEST_F(SyncMerchandise, AnEntitySetWithoutChangeTimeOrETagIsComparedWholeAndADuplicateIsNoOutage) {
  std::string out = sync("departments");
  EXPECT_NE(out.find("2 read, 2 created"), std::string::npos) << out;
  out = sync("departments");
  EXPECT_NE(out.find("2 read, 0 created, 0 updated, 2 unchanged"), std::string::npos) << out;
  ASSERT_EQ(service_->call("PATCH", "merchandise/Departments('D-20')", {{"Manager", "Zhou Min"}, {"Closed", true}}).status, 200);
  out = sync("departments");
  EXPECT_NE(out.find("2 read, 0 created, 1 updated, 1 unchanged"), std::string::npos) << out;
  EXPECT_EQ(record("cost_centres", "D-20")["status"], "inactive");

  // The service gains D-30 behind Annex's back; Annex renames D-10 (its own field) and makes D-30 too.
  ASSERT_EQ(service_->call("POST", "merchandise/Departments", {{"DeptCode", "D-30"}, {"DeptName", "Sales South"}}).status, 201);
  HttpResult twin = service_->call("POST", "merchandise/Departments", {{"DeptCode", "D-30"}, {"DeptName", "again"}});
  EXPECT_EQ(twin.status, 500) << "stock CAP, errors not rewritten: " << twin.body;
  change("cost_centres", "D-10", {{"name", "Sales North China"}});
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/cost_centres", json({{"code", "D-30"}, {"name", "Sales South China"}}).dump()).status, 201);
  pushed();
  EXPECT_EQ(remote("Departments('D-30')")["DeptName"], "Sales South China") << "found and written, once";
  EXPECT_EQ(remote("Departments('D-10')")["DeptName"], "Sales North China") << "written without If-Match";
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_sync_dead_letters"), 0) << dead_letters();
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_md_bindings WHERE connection = 'shop' AND entity = 'cost_centres'"), 3);
  // The connection's other streams still go: no circuit was opened for one record.
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/parties", json({{"code", "4720"}, {"name", "Shennan Technology"}, {"sector_id", "hq"}}).dump()).status, 201);
  pushed();
  EXPECT_TRUE(remote("Customers(4720)").is_object()) << dead_letters();
}

// The service stops in the middle of a pull of `stream` and starts again; meanwhile an article already read (the
// first of those numbered with `letter`…) is deleted and another changed. Every article the service held must be in
// Annex afterwards, the changed one with its change.
void SyncMerchandise::pull_interrupted(const std::string& stream, const std::string& letter) {
  // Numbered apart from an earlier run's against the same service, whose rows it still holds.
  prefix_ = letter + std::to_string(::getpid() % 100000) + "-";
  const std::string& prefix = prefix_;
  const int total = 3000;
  for (int at = 0; at < total; at += 100) {
    json requests = json::array();
    for (int i = at; i < at + 100; ++i) {
      char no[16];
      std::snprintf(no, sizeof no, "%s%05d", prefix.c_str(), i);
      requests.push_back({{"id", std::to_string(i)}, {"method", "POST"}, {"url", "Articles"}, {"headers", {{"content-type", "application/json"}}},
                          {"body", {{"ArticleNo", no}, {"Title", std::string("Bulk ") + no}, {"Price", "9.90"}, {"Currency", "CNY"}}}});
    }
    HttpResult r = service_->call("POST", "merchandise/$batch", json({{"requests", requests}}));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  HttpResult started = d_->call("POST", "/api/v1/sync/connections/shop/runs", json({{"stream", stream}}).dump());
  ASSERT_EQ(started.status, 202) << started.body;
  const std::string read_some = "SELECT COUNT(*) FROM annex_md_products WHERE code LIKE '" + prefix + "%'";
  ASSERT_TRUE(eventually([&] { return count_in(*d_, read_some) >= 100; }, std::chrono::seconds(60)));
  std::string down = "'" + (merchandise_state() / "peer" / "down.sh").string() + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(down.c_str()), 0);
  ASSERT_TRUE(eventually([&] {
    json runs = json::parse(d_->call("GET", "/api/v1/sync/runs?connection=shop").body, nullptr, false);
    return runs.is_object() && !runs["items"].empty() && runs["items"][0]["status"] != "running";
  }, std::chrono::seconds(60)));
  int64_t taken = count_in(*d_, read_some);
  ASSERT_LT(taken, total) << "the stop was to interrupt the run";
  // The run asked for was the stream's alone (no other stream read these rows), and it stopped partway.
  json interrupted = json::parse(d_->call("GET", "/api/v1/sync/runs?connection=shop").body, nullptr, false);
  ASSERT_TRUE(interrupted.is_object() && !interrupted["items"].empty()) << interrupted;
  for (const auto& run : interrupted["items"]) EXPECT_EQ(run["stream"], stream) << interrupted;
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_sync_cursors WHERE stream = '" + stream + "' AND cursor <> '{}'"), 1);
  std::string up = "'" + (std::filesystem::path(__FILE__).parent_path().parent_path() / "support" / "odata_up.sh").string() + "' '" +
                   merchandise_state().string() + "' --restart";
  ASSERT_EQ(std::system(up.c_str()), 0);
  // Behind the stopped run's back: the first article, read already, is deleted; one is renamed.
  ASSERT_EQ(service_->call("DELETE", "merchandise/Articles('" + prefix + "00000')", nullptr, "*").status, 204);
  ASSERT_EQ(service_->call("PATCH", "merchandise/Articles('" + prefix + "00001')", {{"Title", "Renamed while stopped"}}, "*").status, 200);
  std::string out = sync(stream);
  EXPECT_EQ(out.find("FAILED"), std::string::npos) << out;
  EXPECT_EQ(count_in(*d_, read_some), total) << "every article the service held is in Annex";
  EXPECT_EQ(record("products", prefix + "02999")["list_price"], json::parse(R"({"amount": 990, "currency": "CNY"})"));
  // The renamed article changed after the run began: if that run passed it, the next run reads it.
  out = sync(stream);
  EXPECT_EQ(out.find("FAILED"), std::string::npos) << out;
  EXPECT_EQ(record("products", prefix + "00001")["name"], "Renamed while stopped");
}

// Pages follow the key, never an offset: the resumed run skips nothing, and the changed row, passed before it
// changed, comes with the next run.
TEST_F(SyncMerchandise, APullResumedAfterTheServiceStoppedLosesNoRow) { pull_interrupted("bulk", "B"); }

// A service that pages only by offsets (twenty rows a page, $skiptoken): the resumed run's offsets skip the row
// that moved up when the first was deleted, and its completeness check ($count before and after each pass) reads
// the rows again, so that nothing is lost.
TEST_F(SyncMerchandise, APullByTheServicesOffsetsEndsWithACompletenessCheck) {
  pull_interrupted("offsets", "S");
  json runs = json::parse(d_->call("GET", "/api/v1/sync/runs?connection=shop").body, nullptr, false);
  ASSERT_TRUE(runs.is_object()) << runs;
  json pulls = json::array();  // newest first
  for (const auto& run : runs["items"]) {
    if (run["stream"] == "offsets") pulls.push_back(run);
  }
  ASSERT_EQ(pulls.size(), 3u) << "stopped, resumed, next: " << runs;
  // The resumed run is the one that read most (runs started in the same second list in no fixed order).
  json resumed = pulls[0];
  for (const auto& run : pulls) {
    if (run.value("read", 0) > resumed.value("read", 0)) resumed = run;
  }
  EXPECT_GT(resumed.value("unchanged", 0), 0) << "the check read the rows again, finding most unchanged: " << resumed;
  EXPECT_GT(resumed.value("read", 0), 3000) << resumed;
}

}  // namespace
}  // namespace annex::test

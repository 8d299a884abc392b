// Collections (回款) from the ERP, end to end on SQLite and PostgreSQL: a finance database's receipts table (the
// SQLite ODBC driver) is pulled by the contracts plugin's document stream; each receipt becomes one collection
// on the contract of its number, under the rules finance's own recording follows; receipts that cannot apply
// are dead-lettered naming the field at fault while the others go on; a reversal takes a collection back; a
// receipt read again — the same row touched, or everything after a crash and a restart — never counts twice.
#include "plugin_test.h"

#include "store/sql.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <fstream>

namespace annex::test {
namespace {

using nlohmann::json;

class ContractsCollections : public PluginTest {
 protected:
  void SetUp() override {
    file_ = (dir_.path() / "finance.db").string();
    finance_ = std::make_unique<soci::session>(*soci::factory_sqlite3(), file_);
    *finance_ << "CREATE TABLE customer_receipts (receipt_no VARCHAR(64) PRIMARY KEY, contract_no VARCHAR(64), amount DECIMAL(18,2) NOT NULL,"
                 " currency CHAR(3) NOT NULL, received_on DATE NOT NULL, reverses VARCHAR(64), reason VARCHAR(400),"
                 " recorded_at VARCHAR(32) NOT NULL)";
    start(R"({
      "sync": {"connections": {"finance": {"connector": "odbc",
        "settings": {"connection_string": "DRIVER=SQLite3;Database=)" + file_ + R"(", "streams": {
          "collections": {"select": "SELECT receipt_no, contract_no AS contract_number, amount, currency, received_on, reverses, reason, recorded_at FROM customer_receipts WHERE recorded_at >= ? ORDER BY recorded_at, receipt_no",
                          "cursor_field": "recorded_at", "key_field": "receipt_no"}}},
        "streams": {"collections": {"documents": "org.annex.contracts", "direction": "pull", "remote_id": "receipt_no", "schedule_s": 86400}}}}},
      "plugins": {"org.annex.contracts": {"collections": {"connection": "finance", "stream": "collections"}}}
    })");
    if (IsSkipped()) return;
    rep_ = d_->user_with_role("rep", "sales-rep", "north");
    finance_user_ = d_->user_with_role("fin", "finance");
    std::string rep_id = me(rep_);
    customer_ = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties",
                                          R"({"code": "C100", "name": "Northwind", "sector_id": "north", "owner_id": ")" + rep_id + R"("})"),
                                 201))["id"];
    product_ = json::parse(must(d_->call("POST", "/api/v1/masterdata/products", R"({"code": "P1", "name": "Toner"})"), 201))["id"];
  }

  // A contract of 15,000.00 CNY, signed unless `sign` is false.
  json contract(const std::string& number, bool sign = true) {
    json c = json::parse(must(as(rep_, "POST", "/api/v1/contracts",
                                 {{"number", number}, {"party_id", customer_}, {"currency", "CNY"},
                                  {"lines", {{{"product_id", product_}, {"quantity", 15}, {"unit_price", {{"amount", 100000}, {"currency", "CNY"}}}}}}}),
                              201));
    if (!sign) return c;
    std::string path = "/api/v1/contracts/" + c["id"].get<std::string>();
    must(as(rep_, "PATCH", path, {{"status", "awaiting_signature"}}), 200);
    return json::parse(must(as(rep_, "PATCH", path, {{"status", "signed"}, {"signed_on", "2026-10-01"}}), 200));
  }
  void receipt(const std::string& no, const std::string& contract_no, const std::string& amount, const std::string& at,
               const std::string& currency = "CNY", const std::string& reverses = "", const std::string& on = "2026-11-20") {
    *finance_ << "INSERT INTO customer_receipts (receipt_no, contract_no, amount, currency, received_on, reverses, reason, recorded_at) VALUES ('" + no +
                     "', '" + contract_no + "', " + amount + ", '" + currency + "', '" + on + "', " + (reverses.empty() ? "NULL" : "'" + reverses + "'") +
                     ", " + (reverses.empty() ? "NULL" : "'returned by the bank'") + ", '" + at + "')";
  }
  // Runs the collections stream once and waits for the run to end; returns it.
  json pull() {
    auto finished = [&] {
      std::map<std::string, json> done;
      json runs = json::parse(d_->call("GET", "/api/v1/sync/runs?connection=finance").body)["items"];
      for (const auto& r : runs) {
        if (r["stream"] == "collections" && !r["finished_at"].is_null()) done[r["id"]] = r;
      }
      return done;
    };
    std::map<std::string, json> before = finished();
    EXPECT_TRUE(eventually([&] { return d_->call("POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "collections"})").status == 202; },
                           std::chrono::seconds(20)));
    json run;
    EXPECT_TRUE(eventually([&] {
      for (const auto& [id, r] : finished()) {
        if (!before.count(id)) run = r;
      }
      return !run.is_null();
    }, std::chrono::seconds(30)));
    return run;
  }
  json collections(const json& c) {
    return json::parse(must(as(finance_user_, "GET", "/api/v1/contracts/" + c["id"].get<std::string>() + "/collections"), 200));
  }
  std::vector<std::string> dead_letters() {
    std::vector<std::string> out;
    HttpResult r = d_->call("GET", "/api/v1/sync/dead-letters?connection=finance");
    json items = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(items.is_object() && items.contains("items")) << r.status << " " << r.body;
    if (items.is_object()) for (const auto& d : items["items"]) out.push_back(d["reason"]);
    return out;
  }
  int64_t events(const std::string& topic) {
    auto db = d_->open_store();
    store::Lease lease(*db);
    return store::run(lease.session(), "SELECT COUNT(*) FROM annex_events WHERE topic = '" + topic + "'", {}).rows.at(0).at(0).i;
  }
  static bool names(const std::vector<std::string>& letters, const std::string& a, const std::string& b) {
    for (const auto& l : letters) {
      if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) return true;
    }
    return false;
  }

  std::string file_, rep_, finance_user_, customer_, product_;
  std::unique_ptr<soci::session> finance_;
};

TEST_P(ContractsCollections, ReceiptsBecomeCollectionsOnceByTheirReferenceAndThoseThatCannotApplyAreDeadLetteredNamingTheField) {
  json k1 = contract("K-1"), k2 = contract("K-2"), draft = contract("K-3", false);
  receipt("R-1", "K-1", "6000.00", "2026-11-20 09:00:00");
  receipt("R-2", "K-2", "2500.50", "2026-11-20 09:01:00");
  receipt("R-3", "K-404", "100.00", "2026-11-20 09:02:00");                  // no such contract
  receipt("R-4", "K-1", "100.00", "2026-11-20 09:03:00", "USD");             // the contract is in CNY
  receipt("R-5", "K-1", "9000.01", "2026-11-20 09:04:00");                   // past the total with R-1
  receipt("R-6", "K-3", "100.00", "2026-11-20 09:05:00");                    // not signed
  receipt("R-7", "K-2", "10.005", "2026-11-20 09:06:00");                    // CNY has two decimals
  receipt("R-8", "K-2", "1000", "2026-11-20 09:07:00");
  json run = pull();
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["read"], 8) << run.dump();
  EXPECT_EQ(run["created"], 3) << run.dump();
  EXPECT_EQ(run["rejected"], 5) << run.dump();

  json one = collections(k1);
  ASSERT_EQ(one["items"].size(), 1u) << one.dump();
  EXPECT_EQ(one["items"][0]["reference"], "R-1");
  EXPECT_EQ(one["items"][0]["source"], "erp");
  EXPECT_EQ(one["items"][0]["amount"], json({{"amount", 600000}, {"currency", "CNY"}}));
  EXPECT_EQ(one["items"][0]["received_on"], "2026-11-20");
  EXPECT_EQ(one["collected"]["amount"], 600000);
  EXPECT_EQ(one["collection_rate"], "40.00");
  EXPECT_EQ(collections(k2)["collected"]["amount"], 350050) << "2,500.50 and 1,000 in minor units";
  EXPECT_EQ(collections(draft)["items"].size(), 0u);
  EXPECT_EQ(events("contracts.collection.recorded"), 3);

  std::vector<std::string> letters = dead_letters();
  EXPECT_EQ(letters.size(), 5u);
  EXPECT_TRUE(names(letters, "K-404", "contract_number")) << json(letters).dump();
  EXPECT_TRUE(names(letters, "USD", "currency")) << json(letters).dump();
  EXPECT_TRUE(names(letters, "exceed the contract total", "amount")) << json(letters).dump();
  EXPECT_TRUE(names(letters, "K-3 is draft", "status")) << json(letters).dump();
  EXPECT_TRUE(names(letters, "decimals", "amount")) << json(letters).dump();

  // Once the contract is signed, its receipt's dead letter is replayed into a collection.
  std::string draft_path = "/api/v1/contracts/" + draft["id"].get<std::string>();
  must(as(rep_, "PATCH", draft_path, {{"status", "awaiting_signature"}}), 200);
  must(as(rep_, "PATCH", draft_path, {{"status", "signed"}, {"signed_on", "2026-11-01"}}), 200);
  json all = json::parse(d_->call("GET", "/api/v1/sync/dead-letters?connection=finance").body)["items"];
  for (const auto& letter : all) {
    if (letter["record"]["receipt_no"] == "R-6") {
      must(d_->call("POST", "/api/v1/sync/dead-letters/" + std::to_string(letter["seq"].get<int64_t>()) + "/replay"), 200);
    }
  }
  EXPECT_EQ(collections(draft)["collected"]["amount"], 10000);

  // The same receipt again — the ERP touched the row, and the cursor's own row comes again on every run — and
  // the page again from the start: one collection each, still.
  *finance_ << "UPDATE customer_receipts SET recorded_at = '2026-11-20 10:00:00' WHERE receipt_no = 'R-1'";
  pull();
  d_->sql("DELETE FROM annex_sync_cursors WHERE stream = 'collections'");
  pull();
  EXPECT_EQ(collections(k1)["items"].size(), 1u);
  EXPECT_EQ(collections(k1)["collected"]["amount"], 600000);
  EXPECT_EQ(collections(k2)["collected"]["amount"], 350050);
  EXPECT_EQ(collections(draft)["collected"]["amount"], 10000);
  EXPECT_EQ(events("contracts.collection.recorded"), 4);

  // The same reference for another amount is no redelivery: refused, naming it.
  *finance_ << "UPDATE customer_receipts SET amount = 7000, recorded_at = '2026-11-20 11:00:00' WHERE receipt_no = 'R-1'";
  pull();
  EXPECT_TRUE(names(dead_letters(), "R-1 is recorded already", "reference")) << json(dead_letters()).dump();
  EXPECT_EQ(collections(k1)["collected"]["amount"], 600000);
}

TEST_P(ContractsCollections, AReversalFromTheErpTakesTheCollectionBackOnceAndIsAuditedAndAnnounced) {
  json k1 = contract("K-1");
  receipt("R-1", "K-1", "6000.00", "2026-11-20 09:00:00");
  receipt("R-2", "K-1", "3000.00", "2026-11-20 09:01:00");
  pull();
  ASSERT_EQ(collections(k1)["collected"]["amount"], 900000);

  receipt("RV-1", "K-1", "-6000.00", "2026-11-21 09:00:00", "CNY", "R-1");
  receipt("RV-2", "K-1", "-100.00", "2026-11-21 09:01:00", "CNY", "R-2");  // partial: not how a reversal works
  receipt("RV-3", "K-1", "-100.00", "2026-11-21 09:02:00", "CNY", "R-99");  // reverses nothing known
  receipt("R-3", "K-1", "-50.00", "2026-11-21 09:03:00");                   // negative, reversing nothing
  receipt("RV-4", "K-1", "-3000.00", "2026-11-21 09:04:00", "CNY", "R-2", "2026-11-01");  // before R-2 was received
  json run = pull();
  EXPECT_EQ(run["created"], 1) << run.dump();
  json list = collections(k1);
  EXPECT_EQ(list["collected"]["amount"], 300000);
  EXPECT_EQ(list["collection_rate"], "20.00");
  ASSERT_EQ(list["items"].size(), 2u);
  json reversed = list["items"][0]["reference"] == "R-1" ? list["items"][0] : list["items"][1];
  EXPECT_EQ(reversed["reversal"]["reference"], "RV-1") << reversed.dump();
  EXPECT_EQ(reversed["reversal"]["reversed_on"], "2026-11-20");
  EXPECT_EQ(reversed["reversal"]["reason"], "returned by the bank");
  EXPECT_EQ(reversed["reversal"]["reversed_by"], "sync:finance/collections");
  EXPECT_EQ(events("contracts.collection.reversed"), 1);
  json audit = json::parse(must(d_->call("GET", "/api/v1/audit?object=contracts.collection/" + reversed["id"].get<std::string>()), 200))["items"];
  std::set<std::string> actions;
  for (const auto& e : audit) actions.insert(e["action"]);
  EXPECT_TRUE(actions.count("contracts.collection.record") && actions.count("contracts.collection.reverse")) << audit.dump();
  std::vector<std::string> letters = dead_letters();
  EXPECT_TRUE(names(letters, "whole collection R-2", "amount")) << json(letters).dump();
  EXPECT_TRUE(names(letters, "R-99", "reverses")) << json(letters).dump();
  EXPECT_TRUE(names(letters, "positive amount", "amount")) << json(letters).dump();
  EXPECT_TRUE(names(letters, "after 2026-11-01", "received_on")) << json(letters).dump();

  // annexd killed, and everything read again when it comes back: the reversal is not taken twice.
  d_->kill_hard();
  restart();
  d_->sql("DELETE FROM annex_sync_cursors WHERE stream = 'collections'");
  pull();
  EXPECT_EQ(collections(k1)["collected"]["amount"], 300000);
  EXPECT_EQ(events("contracts.collection.reversed"), 1);
  EXPECT_EQ(events("contracts.collection.recorded"), 2);

  // Money reversed may be collected again.
  receipt("R-4", "K-1", "12000.00", "2026-11-22 09:00:00");
  pull();
  EXPECT_EQ(collections(k1)["collected"]["amount"], 1500000);
}

TEST_P(ContractsCollections, FinanceReversesACollectionOverHttpOnceAndARepMayNot) {
  json k1 = contract("K-1");
  std::string path = "/api/v1/contracts/" + k1["id"].get<std::string>() + "/collections";
  json recorded = json::parse(must(as(finance_user_, "POST", path,
                                      {{"received_on", "2026-11-01"}, {"amount", {{"amount", 600000}, {"currency", "CNY"}}}, {"reference", "BANK-1"}}),
                                   201));
  std::string reversal = path + "/" + recorded["collection"]["id"].get<std::string>() + "/reversal";
  json body = {{"reversed_on", "2026-11-03"}, {"reference", "BANK-1-RET"}, {"reason", "the cheque bounced"}};
  EXPECT_EQ(as(rep_, "POST", reversal, body).status, 403);
  HttpResult no_reason = as(finance_user_, "POST", reversal, {{"reversed_on", "2026-11-03"}, {"reference", "X"}});
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_EQ(json::parse(no_reason.body)["error"]["field"], "reason");
  HttpResult before = as(finance_user_, "POST", reversal, {{"reversed_on", "2026-10-30"}, {"reference", "X"}, {"reason", "r"}});
  EXPECT_EQ(before.status, 422);
  EXPECT_EQ(json::parse(before.body)["error"]["field"], "reversed_on");
  json done = json::parse(must(as(finance_user_, "POST", reversal, body), 200));
  EXPECT_EQ(done["contract"]["collected"]["amount"], 0);
  EXPECT_EQ(done["collection"]["reversal"]["reason"], "the cheque bounced");
  EXPECT_EQ(as(finance_user_, "POST", reversal, body).status, 409) << "reversed once";
  EXPECT_EQ(as(finance_user_, "POST", path + "/co-none/reversal", body).status, 404);
  EXPECT_EQ(events("contracts.collection.reversed"), 1);
}

TEST(ContractsCollectionsConfiguration, AStreamThatIsNotConfiguredIsNamedWhenThePluginStarts) {
  TempDir dir;
  std::ofstream(dir.path() / "annex.json") << R"({"plugins": {"org.annex.contracts": {"collections": {"connection": "finance", "stream": "receipts"}}}})";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir.path() / "annex.json").string()}};
  Annexd d(o);
  EXPECT_NE(d.log().find("plugins.org.annex.contracts.collections: no connection finance is configured"), std::string::npos) << d.log();
  EXPECT_EQ(d.call("GET", "/api/v1/contracts").status, 404) << "the plugin is not running";
}

INSTANTIATE_TEST_SUITE_P(Backends, ContractsCollections, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);

}  // namespace
}  // namespace annex::test

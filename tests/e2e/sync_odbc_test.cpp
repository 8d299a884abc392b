// The sync engine with the ODBC connector against real finance databases: SQLite through the SQLite ODBC driver
// and PostgreSQL through psqlODBC. A finance schema (customers, cost centres, GL accounts) is pulled into Annex —
// with cursor values tied across page boundaries — incrementally, and customer changes made in Annex are pushed
// back, each field going the way its system of record says; a row the database refuses is rejected with the
// database's own message while the rest go through.
#include "support/test_support.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <fstream>
#include <random>

namespace annex::test {
namespace {

Poco::JSON::Object::Ptr json(const std::string& body) {
  return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}

enum class Remote { kSqlite, kPostgresql };

std::string remote_name(const testing::TestParamInfo<Remote>& info) {
  return info.param == Remote::kSqlite ? "SQLiteOdbc" : "PostgreSQLOdbc";
}

class SyncOdbc : public testing::TestWithParam<Remote> {
 protected:
  void SetUp() override {
    if (GetParam() == Remote::kSqlite) {
      std::string file = (dir_.path() / "finance.db").string();
      remote_ = std::make_unique<soci::session>(*soci::factory_sqlite3(), file);
      odbc_ = "DRIVER=SQLite3;Database=" + file;
      now_ = "strftime('%Y-%m-%d %H:%M:%f', 'now')";
    } else {
      std::string url = postgres_url();
      if (url.empty()) GTEST_SKIP() << "no PostgreSQL for this run";
      // postgresql://USER@HOST:PORT/DB
      std::string rest = url.substr(url.find("://") + 3);
      std::string user = rest.substr(0, rest.find('@'));
      std::string host = rest.substr(rest.find('@') + 1, rest.find(':', rest.find('@')) - rest.find('@') - 1);
      std::string port = rest.substr(rest.find(':', rest.find('@')) + 1, rest.find('/') - rest.find(':', rest.find('@')) - 1);
      std::string db = rest.substr(rest.find('/') + 1);
      // The process id keeps the schemas of tests running at once apart, whatever the random device gives.
      std::string schema = "fin_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}() % 1000);
      remote_ = std::make_unique<soci::session>(*soci::factory_postgresql(),
                                                "host=" + host + " port=" + port + " dbname=" + db + " user=" + user);
      *remote_ << "CREATE SCHEMA " + schema;
      *remote_ << "SET search_path TO " + schema;
      odbc_ = "DRIVER={PostgreSQL Unicode};SERVER=" + host + ";PORT=" + port + ";DATABASE=" + db + ";UID=" + user +
              ";ConnSettings=SET search_path TO " + schema + ";UseDeclareFetch=1;Fetch=1000";
      now_ = "to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS.MS')";
    }
    *remote_ << "CREATE TABLE customers (cust_no VARCHAR(20) PRIMARY KEY, name VARCHAR(200) NOT NULL CHECK (length(name) <= 40),"
                " tier VARCHAR(2), region VARCHAR(60), updated_at VARCHAR(30) NOT NULL)";
    *remote_ << "CREATE TABLE cost_centres (cc VARCHAR(20) PRIMARY KEY, title VARCHAR(80) NOT NULL, changed VARCHAR(30) NOT NULL)";
    *remote_ << "CREATE TABLE gl_accounts (chart VARCHAR(10) NOT NULL, code VARCHAR(20) NOT NULL, name VARCHAR(80) NOT NULL,"
                " kind VARCHAR(20), changed VARCHAR(30) NOT NULL, PRIMARY KEY (chart, code))";
    // Ten customers share one change time: the page size of 3 cuts through the tie.
    for (int i = 1; i <= 10; ++i) customer(code(i), "Customer " + std::to_string(i), i % 2 ? "1" : "2", "North", "2026-01-01 00:00:00");
    customer("C011", "Customer 11", "3", "South", "2026-01-02 00:00:00");
    customer("C012", "Customer 12", "1", "South", "2026-01-03 00:00:00");
    for (int i = 1; i <= 3; ++i) {
      *remote_ << "INSERT INTO cost_centres (cc, title, changed) VALUES ('CC" + std::to_string(i) + "', 'Centre " +
                      std::to_string(i) + "', '2026-01-01')";
    }
    *remote_ << "INSERT INTO gl_accounts (chart, code, name, kind, changed) VALUES ('CN', '1001', 'Cash', 'asset', '2026-01-01'),"
                " ('CN', '6001', 'Travel', 'expense', '2026-01-01')";

    std::ofstream(dir_.path() / "annex.json") << config();
    Annexd::Options o;
    o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}};
    d_ = std::make_unique<Annexd>(o);
  }

  static std::string code(int i) {
    char text[8];
    std::snprintf(text, sizeof text, "C%03d", i);
    return text;
  }

  void customer(const std::string& no, const std::string& name, const std::string& tier, const std::string& region,
                const std::string& at) {
    *remote_ << "INSERT INTO customers (cust_no, name, tier, region, updated_at) VALUES ('" + no + "', '" + name + "', '" +
                    tier + "', '" + region + "', '" + at + "')";
  }

  std::string remote_text(const std::string& sql) {
    std::string out;
    soci::indicator ind = soci::i_ok;
    *remote_ << sql, soci::into(out, ind);
    return ind == soci::i_null ? "" : out;
  }

  std::string config() {
    std::string customers_stream =
        R"("customers": {"select": "SELECT cust_no, name, tier, region, updated_at FROM customers WHERE updated_at >= ? ORDER BY updated_at, cust_no",
           "cursor_field": "updated_at", "key_field": "cust_no",
           "upsert": "INSERT INTO customers (cust_no, name, tier, region, updated_at) VALUES (:cust_no, :name, :tier, :region, )" + now_ +
        R"() ON CONFLICT (cust_no) DO UPDATE SET name = excluded.name, tier = excluded.tier, region = excluded.region, updated_at = excluded.updated_at",
           "update": "UPDATE customers SET name = COALESCE(:name, name), tier = COALESCE(:tier, tier), region = COALESCE(:region, region), updated_at = )" +
        now_ + R"( WHERE cust_no = :cust_no"})";
    return R"({"sync": {"connections": {"finance": {"connector": "odbc",
      "settings": {"connection_string": ")" + odbc_ + R"(", "streams": {)" + customers_stream + R"(,
        "centres": {"select": "SELECT cc, title, changed FROM cost_centres WHERE changed >= ? ORDER BY changed, cc", "cursor_field": "changed", "key_field": "cc"},
        "accounts": {"select": "SELECT chart, code, name, kind, changed, chart || '-' || code AS gl_id FROM gl_accounts WHERE changed >= ? ORDER BY changed, chart, code",
                     "cursor_field": "changed", "key_field": "gl_id"}}},
      "retry": {"attempts": 2, "base_ms": 10, "max_ms": 50},
      "streams": {
        "customers": {"entity": "parties", "direction": "both", "remote_id": "cust_no", "version_field": "updated_at",
                      "page_size": 3, "sector_id": "hq", "owner_login": "admin",
                      "fields": {"code": "cust_no", "name": "name", "region": "region",
                                 "tier": {"from": "tier", "values": {"1": "A", "2": "B", "3": "C"}}},
                      "system_of_record": {"default": "remote", "tier": "annex"}},
        "centres": {"entity": "cost_centres", "direction": "pull", "remote_id": "cc", "fields": {"code": "cc", "name": "title"}},
        "accounts": {"entity": "gl_accounts", "direction": "pull", "remote_id": "gl_id",
                     "fields": {"chart": "chart", "code": "code", "name": "name", "type": "kind"}}}}}}})";
  }

  // Runs the connection's streams through annexctl; returns its output.
  std::string sync_run(const std::string& stream = "") {
    std::string out;
    std::vector<std::string> args = {"--plugin-dir", build_path("lib/annex/plugins"), "sync", "run", "finance"};
    if (!stream.empty()) args.insert(args.end(), {"--stream", stream});
    EXPECT_EQ(d_->annexctl(args, &out), 0) << out;
    return out;
  }

  std::map<std::string, Poco::JSON::Object::Ptr> annex_records(const std::string& entity) {
    std::map<std::string, Poco::JSON::Object::Ptr> out;
    auto items = json(d_->call("GET", "/api/v1/masterdata/" + entity + "?limit=500").body)->getArray("items");
    for (size_t i = 0; i < items->size(); ++i) out[items->getObject(i)->getValue<std::string>("code")] = items->getObject(i);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<soci::session> remote_;
  std::string odbc_, now_;
  std::unique_ptr<Annexd> d_;
};

TEST_P(SyncOdbc, PullsTheFinanceSchemaIncrementallyWithoutMissingOrRepeatingTiedRows) {
  std::string out = sync_run();
  EXPECT_NE(out.find("finance/customers pull: 12 read, 12 created"), std::string::npos) << out;
  EXPECT_NE(out.find("finance/centres pull: 3 read, 3 created"), std::string::npos) << out;
  EXPECT_NE(out.find("finance/accounts pull: 2 read, 2 created"), std::string::npos) << out;
  auto parties = annex_records("parties");
  ASSERT_EQ(parties.size(), 12u);
  EXPECT_EQ(parties["C003"]->getValue<std::string>("name"), "Customer 3");
  EXPECT_EQ(parties["C003"]->getValue<std::string>("tier"), "A");
  EXPECT_EQ(parties["C003"]->getValue<std::string>("sector_id"), "hq");
  EXPECT_EQ(annex_records("cost_centres").size(), 3u);
  auto accounts = json(d_->call("GET", "/api/v1/masterdata/gl_accounts").body)->getArray("items");
  ASSERT_EQ(accounts->size(), 2u);
  EXPECT_EQ(accounts->getObject(0)->getValue<std::string>("chart"), "CN");

  out = sync_run("customers");
  EXPECT_NE(out.find("finance/customers pull: 0 read"), std::string::npos) << "nothing new: " << out;

  // A change, and a new row whose change time ties with the last one already pulled.
  *remote_ << "UPDATE customers SET region = 'East', updated_at = '2026-01-04 00:00:00' WHERE cust_no = 'C005'";
  customer("C013", "Customer 13", "2", "West", "2026-01-04 00:00:00");
  out = sync_run("customers");
  EXPECT_NE(out.find("finance/customers pull: 2 read, 1 created, 1 updated"), std::string::npos) << out;
  parties = annex_records("parties");
  EXPECT_EQ(parties.size(), 13u);
  EXPECT_EQ(parties["C005"]->getValue<std::string>("region"), "East");

  HttpResult one = d_->call("GET", "/api/v1/masterdata/parties/" + parties["C005"]->getValue<std::string>("id"));
  auto bindings = json(one.body)->getArray("bindings");
  ASSERT_EQ(bindings->size(), 1u);
  EXPECT_EQ(bindings->getObject(0)->getValue<std::string>("remote_id"), "C005");
  EXPECT_EQ(bindings->getObject(0)->getValue<std::string>("remote_version"), "2026-01-04 00:00:00");
}

TEST_P(SyncOdbc, PushesAnnexChangesBackFieldByFieldAsTheSystemOfRecordSays) {
  sync_run();
  auto parties = annex_records("parties");
  // Tier is Annex's; region is the ERP's. A change to the region in Annex is refused — the next pull would
  // overwrite it without a word — and changes nothing; the tier alone is taken, and travels.
  const std::string c001 = "/api/v1/masterdata/parties/" + parties["C001"]->getValue<std::string>("id");
  HttpResult refused = d_->call("PATCH", c001, R"({"tier": "C", "region": "Changed in Annex"})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("\"field\":\"region\""), std::string::npos) << refused.body;
  EXPECT_EQ(annex_records("parties")["C001"]->getValue<std::string>("tier"), parties["C001"]->getValue<std::string>("tier"));
  HttpResult patched = d_->call("PATCH", c001, R"({"tier": "C"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/parties", R"({"code": "N100", "name": "New in Annex", "tier": "B"})").status, 201);
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/parties",
                     R"({"code": "N101", "name": "A name far too long for the finance database's customers table"})").status, 201);
  std::string out = sync_run("customers");
  EXPECT_NE(out.find("finance/customers push: 3 read, 1 created, 1 updated, 0 unchanged, 1 rejected"), std::string::npos) << out;
  EXPECT_EQ(remote_text("SELECT tier FROM customers WHERE cust_no = 'C001'"), "3");
  EXPECT_EQ(remote_text("SELECT region FROM customers WHERE cust_no = 'C001'"), "North") << "the ERP owns the region";
  EXPECT_EQ(remote_text("SELECT name FROM customers WHERE cust_no = 'N100'"), "New in Annex");
  EXPECT_EQ(remote_text("SELECT tier FROM customers WHERE cust_no = 'N100'"), "2");
  EXPECT_EQ(remote_text("SELECT COUNT(*) FROM customers WHERE cust_no = 'N101'"), "0");

  std::string letters;
  ASSERT_EQ(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "dead-letters", "list"}, &letters), 0);
  EXPECT_NE(letters.find("N101"), std::string::npos) << letters;
  EXPECT_NE(letters.find("onstraint"), std::string::npos) << "the database's own message: " << letters;

  // The ERP changes the region; the next pull brings it, and Annex's own tier stays.
  *remote_ << "UPDATE customers SET region = 'Changed in the ERP', tier = '1', updated_at = '2027-01-01 00:00:00' WHERE cust_no = 'C001'";
  sync_run("customers");
  parties = annex_records("parties");
  EXPECT_EQ(parties["C001"]->getValue<std::string>("region"), "Changed in the ERP");
  EXPECT_EQ(parties["C001"]->getValue<std::string>("tier"), "C");
  // A second push of the same change sends nothing twice.
  out = sync_run("customers");
  EXPECT_NE(out.find("finance/customers push: 0 read"), std::string::npos) << out;
  EXPECT_EQ(remote_text("SELECT COUNT(*) FROM customers"), "13");
}

TEST_P(SyncOdbc, ARecordThatCannotBeMappedIsParkedAndTheRestProceed) {
  customer("C099", "Odd tier", "9", "North", "2026-01-05 00:00:00");
  std::string out = sync_run("customers");
  EXPECT_NE(out.find("finance/customers pull: 13 read, 12 created, 0 updated, 0 unchanged, 1 rejected"), std::string::npos) << out;
  std::string letters;
  ASSERT_EQ(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "dead-letters", "list"}, &letters), 0);
  EXPECT_NE(letters.find("no value is mapped for \"9\""), std::string::npos) << letters;
  // Fixed at the source, the record comes with the next pull; the dead letter stays for the record.
  *remote_ << "UPDATE customers SET tier = '3', updated_at = '2026-01-06 00:00:00' WHERE cust_no = 'C099'";
  out = sync_run("customers");
  EXPECT_NE(out.find("1 read, 1 created"), std::string::npos) << out;
  EXPECT_EQ(annex_records("parties").size(), 13u);
}

TEST_P(SyncOdbc, ADryRunReportsTheDiffAndChangesNothing) {
  std::string out;
  ASSERT_EQ(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "run", "finance", "--stream", "centres", "--dry-run"}, &out), 0);
  EXPECT_NE(out.find("finance/centres pull (dry run): 3 read, 3 created"), std::string::npos) << out;
  EXPECT_NE(out.find("\"Centre 2\""), std::string::npos) << out;
  EXPECT_TRUE(annex_records("cost_centres").empty());
  EXPECT_NE(sync_run("centres").find("3 read, 3 created"), std::string::npos) << "the dry run left the cursor alone";
}

TEST_P(SyncOdbc, ReconciliationNamesEveryRecordThatDiffersFieldByField) {
  sync_run("customers");
  // Behind the cursor's back: a changed name without a new change time, a deleted row, a row never pulled.
  *remote_ << "UPDATE customers SET name = 'Quietly renamed' WHERE cust_no = 'C004'";
  *remote_ << "DELETE FROM customers WHERE cust_no = 'C007'";
  *remote_ << "INSERT INTO customers (cust_no, name, tier, region, updated_at) VALUES ('C050', 'Backdated', '1', 'North', '2020-01-01')";
  std::string out;
  EXPECT_EQ(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "reconcile", "finance", "--stream", "customers"}, &out), 3)
      << "differences exit 3: " << out;
  EXPECT_NE(out.find("finance/customers: 12 compared, 10 matching, 1 different, 1 only in the remote, 1 only in Annex"), std::string::npos) << out;
  EXPECT_NE(out.find("C004  name: annex \"Customer 4\", remote \"Quietly renamed\""), std::string::npos) << out;
  EXPECT_NE(out.find("only in the remote: C050"), std::string::npos) << out;
  EXPECT_NE(out.find("only in Annex: C007"), std::string::npos) << out;
  HttpResult api = d_->call("GET", "/api/v1/sync/connections/finance/reconcile?stream=customers");
  ASSERT_EQ(api.status, 200) << api.body;
  EXPECT_EQ(json(api.body)->getArray("streams")->getObject(0)->getValue<int>("different_count"), 1);
}

INSTANTIATE_TEST_SUITE_P(Drivers, SyncOdbc, testing::Values(Remote::kSqlite, Remote::kPostgresql), remote_name);

}  // namespace
}  // namespace annex::test

// Faults in the middle of sync runs, against a real PostgreSQL through psqlODBC: the finance database going away
// mid-pull and coming back, and annexd killed with SIGKILL mid-push and restarted. Afterwards both sides hold
// exactly the same records: none missing, none twice.
#include "support/test_support.h"

#include "store/sql.h"

#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <fstream>
#include <random>
#include <thread>

namespace annex::test {
namespace {

std::string config(const std::string& odbc, int page_size, int write_sessions = 1) {
  return R"({"sync": {"connections": {"finance": {"connector": "odbc",
    "settings": {"connection_string": ")" + odbc + R"(", "write_sessions": )" + std::to_string(write_sessions) + R"(, "streams": {"customers": {
      "select": "SELECT cust_no, name, updated_at FROM customers WHERE updated_at >= ? ORDER BY updated_at, cust_no",
      "cursor_field": "updated_at", "key_field": "cust_no",
      "upsert": "INSERT INTO customers (cust_no, name, updated_at) VALUES (:cust_no, :name, to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS.US')) ON CONFLICT (cust_no) DO UPDATE SET name = excluded.name"}}},
    "retry": {"attempts": 2, "base_ms": 10, "max_ms": 50}, "breaker": {"failures": 100, "open_s": 1},
    "streams": {"customers": {"entity": "parties", "direction": "both", "remote_id": "cust_no", "page_size": )" +
         std::to_string(page_size) + R"(, "sector_id": "hq", "owner_login": "admin",
      "fields": {"code": "cust_no", "name": "name"}, "system_of_record": {"default": "annex"}}}}}}})";
}

int64_t count(soci::session& s, const std::string& sql) {
  long long n = 0;
  s << sql, soci::into(n);
  return n;
}

int64_t annex_count(const Annexd& d, const std::string& sql) {
  auto db = d.open_store();
  store::Lease lease(*db);
  return store::run(lease.session(), sql, {}).rows.at(0).at(0).i;
}

std::string annex_cursor(const Annexd& d) {
  auto db = d.open_store();
  store::Lease lease(*db);
  auto rs = store::run(lease.session(), "SELECT cursor FROM annex_sync_cursors", {});
  return rs.rows.empty() ? "(none)" : rs.rows[0][0].s;
}

TEST(SyncFaults, TheDatabaseGoingAwayMidPullFailsTheRunAndTheNextResumesWithNothingLostOrTwice) {
  TempDir pg_state;
  std::string out;
  ASSERT_EQ(run_program(std::string(ANNEX_SOURCE_DIR) + "/tests/support/pg_up.sh", {pg_state.str()}, &out), 0) << out;
  struct Down {
    std::string state;
    ~Down() {
      std::string ignored;
      run_program(std::string(ANNEX_SOURCE_DIR) + "/tests/support/pg_down.sh", {state}, &ignored);
    }
  } down{pg_state.str()};
  std::string url;
  std::getline(std::ifstream(pg_state.path() / "url"), url);
  PgAddress pg = PgAddress::parse(url);
  {
    soci::session remote(*soci::factory_postgresql(), pg.libpq());
    remote << "CREATE SCHEMA fin";
    // 30,000 customers whose change times tie in groups of seven.
    remote << "CREATE TABLE fin.customers (cust_no TEXT PRIMARY KEY, name TEXT NOT NULL, updated_at TEXT NOT NULL)";
    remote << "INSERT INTO fin.customers SELECT 'C' || lpad(g::text, 6, '0'), 'Customer ' || g,"
              " to_char(timestamp '2026-01-01' + (g / 7) * interval '1 second', 'YYYY-MM-DD HH24:MI:SS')"
              " FROM generate_series(1, 30000) g";
  }
  TempDir dir;
  std::ofstream(dir.path() / "annex.json") << config(pg.odbc("fin"), 200);
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir.path() / "annex.json").string()}};
  Annexd d(o);
  const std::vector<std::string> run = {"--plugin-dir", build_path("lib/annex/plugins"), "sync", "run", "finance"};

  int first_rc = -1;
  std::string first_out;
  std::thread pull([&] { first_rc = d.annexctl(run, &first_out); });
  ASSERT_TRUE(eventually([&] { return annex_count(d, "SELECT COUNT(*) FROM annex_md_parties") > 0; },
                         std::chrono::seconds(60)));
  ASSERT_EQ(run_program(std::string(ANNEX_SOURCE_DIR) + "/tests/support/pg_pause.sh", {pg_state.str(), "stop"}, &out), 0) << out;
  pull.join();
  EXPECT_EQ(first_rc, 1) << first_out;
  EXPECT_NE(first_out.find("FAILED"), std::string::npos) << first_out;
  int64_t before = annex_count(d, "SELECT COUNT(*) FROM annex_md_parties");
  EXPECT_GT(before, 0);
  EXPECT_LT(before, 30000) << "the run was to be interrupted: " << first_out;
  EXPECT_EQ(before % 200, 0) << "whole pages only: records and cursor commit together";

  ASSERT_EQ(run_program(std::string(ANNEX_SOURCE_DIR) + "/tests/support/pg_pause.sh", {pg_state.str(), "start"}, &out), 0) << out;
  std::string second_out;
  EXPECT_EQ(d.annexctl(run, &second_out), 0) << second_out;
  auto commas = [](int64_t n) {
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) out += (i > 0 && (digits.size() - i) % 3 == 0 ? "," : "") + std::string(1, digits[i]);
    return out;
  };
  EXPECT_NE(second_out.find("finance/customers pull: " + commas(30000 - before) + " read, " + commas(30000 - before) + " created"),
            std::string::npos)
      << "the second run reads exactly what the first did not: " << second_out << "\nthe first run: " << first_out
      << "\ncursor: " << annex_cursor(d);
  EXPECT_EQ(annex_count(d, "SELECT COUNT(*) FROM annex_md_parties"), 30000);
  EXPECT_EQ(annex_count(d, "SELECT COUNT(DISTINCT code) FROM annex_md_parties"), 30000);
  EXPECT_EQ(annex_count(d, "SELECT COUNT(*) FROM annex_md_bindings WHERE connection = 'finance'"), 30000);
}

TEST(SyncFaults, AnnexdKilledMidPushAndRestartedLeavesBothSidesIdentical) {
  std::string url = postgres_url();
  if (url.empty()) GTEST_SKIP() << "no PostgreSQL for this run";
  PgAddress pg = PgAddress::parse(url);
  std::string schema = "push_" + std::to_string(std::random_device{}() % 1000000);
  soci::session remote(*soci::factory_postgresql(), pg.libpq());
  remote << "CREATE SCHEMA " + schema;
  remote << "CREATE TABLE " + schema + ".customers (cust_no TEXT PRIMARY KEY, name TEXT NOT NULL, updated_at TEXT NOT NULL)";
  // Each row takes a few milliseconds to write, so that the push is still under way when the daemon dies.
  remote << "CREATE FUNCTION " + schema + ".slow() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.004); RETURN NEW; END $$ LANGUAGE plpgsql";
  remote << "CREATE TRIGGER slow BEFORE INSERT OR UPDATE ON " + schema + ".customers FOR EACH ROW EXECUTE FUNCTION " + schema + ".slow()";

  TempDir dir, data;
  std::ofstream(dir.path() / "annex.json") << config(pg.odbc(schema), 25);
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir.path() / "annex.json").string()}};
  o.data_dir = data.str();
  auto d = std::make_unique<Annexd>(o);
  std::string admin = d->admin_token();
  const int total = 600;
  for (int i = 1; i <= total; ++i) {
    HttpResult r = d->call("POST", "/api/v1/masterdata/parties",
                           R"({"code": "N)" + std::to_string(i) + R"(", "name": "New )" + std::to_string(i) + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  ASSERT_TRUE(eventually([&] { return count(remote, "SELECT COUNT(*) FROM " + schema + ".customers") >= 50; },
                         std::chrono::seconds(60)));
  d->kill_hard();
  int64_t at_kill = count(remote, "SELECT COUNT(*) FROM " + schema + ".customers");
  EXPECT_LT(at_kill, total) << "the push was to be interrupted";

  o.bootstrap_admin = false;
  d = std::make_unique<Annexd>(o);
  EXPECT_TRUE(eventually([&] { return count(remote, "SELECT COUNT(*) FROM " + schema + ".customers") == total; },
                         std::chrono::seconds(90)));
  EXPECT_TRUE(eventually([&] { return annex_count(*d, "SELECT COUNT(*) FROM annex_sync_outbox WHERE state <> 'sent'") == 0; },
                         std::chrono::seconds(30)));
  EXPECT_EQ(count(remote, "SELECT COUNT(DISTINCT cust_no) FROM " + schema + ".customers"), total);
  EXPECT_EQ(count(remote, "SELECT COUNT(*) FROM " + schema + ".customers WHERE name <> 'New ' || substr(cust_no, 2)"), 0);
  EXPECT_EQ(annex_count(*d, "SELECT COUNT(*) FROM annex_md_parties"), total);
  EXPECT_EQ(annex_count(*d, "SELECT COUNT(*) FROM annex_md_bindings WHERE connection = 'finance'"), total);
  (void)admin;
}

// A batch large enough to be split over two write sessions, with one row the database refuses in the second
// slice: that row alone is rejected, with the database's message, and every other row of both slices is written.
TEST(SyncFaults, ABatchSplitOverTwoSessionsRejectsOnlyTheRowTheDatabaseRefuses) {
  std::string url = postgres_url();
  if (url.empty()) GTEST_SKIP() << "no PostgreSQL for this run";
  PgAddress pg = PgAddress::parse(url);
  std::string schema = "split_" + std::to_string(std::random_device{}() % 1000000);
  soci::session remote(*soci::factory_postgresql(), pg.libpq());
  remote << "CREATE SCHEMA " + schema;
  remote << "CREATE TABLE " + schema + ".customers (cust_no TEXT PRIMARY KEY, name TEXT NOT NULL CHECK (length(name) <= 40),"
            " updated_at TEXT NOT NULL)";

  // The records are made while the database is out of reach, so that they wait in the outbox and leave in one batch.
  TempDir dir, data;
  PgAddress away = pg;
  away.port = "1";
  std::ofstream(dir.path() / "annex.json") << config(away.odbc(schema), 2000, 2);
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir.path() / "annex.json").string()}};
  o.data_dir = data.str();
  auto d = std::make_unique<Annexd>(o);
  const int total = 1200;
  for (int i = 1; i <= total; ++i) {
    std::string name = i == total ? "A name far too long for the finance database's customers table" : "New " + std::to_string(i);
    HttpResult r = d->call("POST", "/api/v1/masterdata/parties",
                           R"({"code": "N)" + std::to_string(i) + R"(", "name": ")" + name + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  d.reset();
  // Each connection names itself after the schema, so that this test can count its own.
  std::ofstream(dir.path() / "annex.json") << config(pg.odbc(schema) + ";pqopt={application_name=" + schema + "}", 2000, 2);
  o.bootstrap_admin = false;
  d = std::make_unique<Annexd>(o);
  EXPECT_TRUE(eventually([&] { return annex_count(*d, "SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'pending'") == 0; },
                         std::chrono::seconds(60)))
      << d->log();
  EXPECT_EQ(count(remote, "SELECT COUNT(*) FROM " + schema + ".customers"), total - 1);
  EXPECT_EQ(count(remote, "SELECT COUNT(*) FROM " + schema + ".customers WHERE name <> 'New ' || substr(cust_no, 2)"), 0);
  EXPECT_EQ(annex_count(*d, "SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'dead'"), 1);
  EXPECT_EQ(annex_count(*d, "SELECT COUNT(*) FROM annex_sync_dead_letters WHERE record LIKE '%N1200%' AND reason LIKE '%check%'"), 1);
  EXPECT_EQ(annex_count(*d, "SELECT COUNT(*) FROM annex_md_bindings WHERE connection = 'finance'"), total - 1);
  // Both write sessions were used: the daemon holds two connections to the database.
  EXPECT_EQ(count(remote, "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '" + schema + "'"), 2);
}

}  // namespace
}  // namespace annex::test

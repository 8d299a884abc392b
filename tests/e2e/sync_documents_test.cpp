// Document streams in annexd, end to end: a business plugin (the poster fixture) queues journal entries over
// HTTP in its own transaction, the daemon's push job writes them into a finance database over ODBC (SQLite's
// driver) and the plugin hears the outcome; payment confirmations reach it on a run started over the API; the
// sync API and annexctl list the document streams and their runs.
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <fstream>

namespace annex::test {
namespace {

using nlohmann::json;

int64_t count(soci::session& s, const std::string& sql) {
  long long n = 0;
  s << sql, soci::into(n);
  return n;
}

TEST(SyncDocuments, APluginPostsJournalEntriesAndTakesPaymentsThroughTheDaemonAndBothShowInTheSyncApiAndAnnexctl) {
  TempDir dir;
  std::string file = (dir.path() / "finance.db").string();
  soci::session finance(*soci::factory_sqlite3(), file);
  finance << "CREATE TABLE journal_entries (entry_key VARCHAR(200) PRIMARY KEY, entry_date DATE NOT NULL, reference VARCHAR(100),"
             " description VARCHAR(400), currency CHAR(3) NOT NULL)";
  finance << "CREATE TABLE journal_lines (entry_key VARCHAR(200) NOT NULL REFERENCES journal_entries (entry_key),"
             " line_no INTEGER NOT NULL, account VARCHAR(20) NOT NULL, cost_centre VARCHAR(20), debit BIGINT NOT NULL,"
             " credit BIGINT NOT NULL, description VARCHAR(400), PRIMARY KEY (entry_key, line_no))";
  finance << "CREATE TABLE payment_confirmations (payment_id VARCHAR(100) PRIMARY KEY, entry_key VARCHAR(200) NOT NULL,"
             " amount BIGINT NOT NULL, currency CHAR(3) NOT NULL, paid_on DATE NOT NULL, recorded_at VARCHAR(32) NOT NULL)";
  std::ofstream(dir.path() / "annex.json") << R"({"sync": {"connections": {"finance": {"connector": "odbc",
    "settings": {"connection_string": "DRIVER=SQLite3;Database=)" + file + R"(", "streams": {
      "journal": {"journal": {}},
      "payments": {"select": "SELECT payment_id, entry_key, amount, currency, paid_on, recorded_at FROM payment_confirmations WHERE recorded_at >= ? ORDER BY recorded_at, payment_id",
                   "cursor_field": "recorded_at", "key_field": "payment_id"}}},
    "streams": {
      "journal": {"documents": "org.annex.test.poster", "direction": "push"},
      "payments": {"documents": "org.annex.test.poster", "direction": "pull", "remote_id": "payment_id"}}}}}})";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir.path() / "annex.json").string()}};
  o.plugin_dirs = {build_path("lib/annex/plugins"), build_path("tests/fixtures/plugins/documents")};
  Annexd d(o);

  json entry = {{"date", "2026-11-30"}, {"reference", "CL-1"}, {"currency", "EUR"},
                {"lines", {{{"account", "6400"}, {"cost_centre", "CC10"}, {"debit", 12000}, {"credit", 0}},
                           {{"account", "2100"}, {"debit", 0}, {"credit", 12000}}}}};
  HttpResult r = d.call("POST", "/api/v1/poster/entries", json({{"key", "claim-1"}, {"entry", entry}, {"rollback", true}}).dump());
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(d.call("GET", "/api/v1/poster/entries/claim-1").status, 404) << "rolled back with the plugin's transaction";
  r = d.call("POST", "/api/v1/poster/entries", json({{"key", "claim-1"}, {"entry", entry}}).dump());
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(d.call("POST", "/api/v1/poster/entries", json({{"key", "claim-1"}, {"entry", entry}}).dump()).status, 202)
      << "the same key again is a no-op";

  // The push job takes it to the finance database, and the plugin hears the outcome.
  EXPECT_TRUE(eventually([&] {
    json got = json::parse(d.call("GET", "/api/v1/poster/entries/claim-1").body, nullptr, false);
    return got.is_object() && got["heard"] == "delivered";
  }, std::chrono::seconds(20))) << d.call("GET", "/api/v1/poster/entries/claim-1").body;
  EXPECT_EQ(count(finance, "SELECT COUNT(*) FROM journal_entries"), 1);
  EXPECT_EQ(count(finance, "SELECT COUNT(*) FROM journal_lines WHERE entry_key = 'claim-1'"), 2);

  finance << "INSERT INTO payment_confirmations VALUES ('PAY-1', 'claim-1', 12000, 'EUR', '2026-12-01', '2026-12-01 09:00:00')";
  r = d.call("POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "payments"})");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(eventually([&] { return json::parse(d.call("GET", "/api/v1/poster/payments").body)["count"] == 1; },
                         std::chrono::seconds(20)));

  r = d.call("POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "journal", "dry_run": true})");
  ASSERT_EQ(r.status, 200) << r.body;
  json dry = json::parse(r.body)["items"];
  ASSERT_EQ(dry.size(), 1u);
  EXPECT_EQ(dry[0]["direction"], "push");
  EXPECT_EQ(dry[0]["read"], 0) << "nothing is waiting";

  json connections = json::parse(d.call("GET", "/api/v1/sync/connections").body)["items"];
  ASSERT_EQ(connections.size(), 1u);
  json streams = connections[0]["streams"];
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0]["name"], "journal");
  EXPECT_EQ(streams[0]["documents"], "org.annex.test.poster");
  EXPECT_EQ(streams[0]["direction"], "push");
  EXPECT_EQ(streams[0]["pending_pushes"], 0);
  EXPECT_FALSE(streams[0].contains("entity"));
  EXPECT_EQ(streams[1]["direction"], "pull");

  json runs = json::parse(d.call("GET", "/api/v1/sync/runs?connection=finance").body)["items"];
  bool pushed = false, pulled = false;
  for (const auto& run : runs) {
    pushed = pushed || (run["stream"] == "journal" && run["direction"] == "push" && run["created"] == 1);
    pulled = pulled || (run["stream"] == "payments" && run["direction"] == "pull" && run["created"] == 1);
  }
  EXPECT_TRUE(pushed && pulled) << runs.dump();

  std::string out;
  EXPECT_EQ(d.annexctl({"sync", "connections"}, &out), 0) << out;
  EXPECT_NE(out.find("journal  documents of org.annex.test.poster  push"), std::string::npos) << out;
  EXPECT_NE(out.find("payments  documents of org.annex.test.poster  pull"), std::string::npos) << out;
  EXPECT_EQ(d.annexctl({"sync", "history", "finance"}, &out), 0) << out;
  EXPECT_NE(out.find("finance/journal push: 1 read, 1 created"), std::string::npos) << out;
  EXPECT_NE(out.find("finance/payments pull: 1 read, 1 created"), std::string::npos) << out;
  // annexctl starts connectors only: inbound documents wait for annexd, and the cursor stays.
  EXPECT_EQ(d.annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "run", "finance", "--stream", "payments"}, &out), 1) << out;
  EXPECT_NE(out.find("is not running here"), std::string::npos) << out;
}

TEST(SyncDocuments, AStreamWhosePluginIsNotRunningIsNamedAtStartUpAndItsPullRunFailsSayingSo) {
  TempDir dir;
  std::ofstream(dir.path() / "annex.json") << R"({"sync": {"connections": {"finance": {"connector": "odbc",
    "settings": {"connection_string": "DRIVER=SQLite3;Database=)" + (dir.path() / "finance.db").string() + R"(", "streams": {
      "payments": {"select": "SELECT payment_id FROM payment_confirmations WHERE payment_id >= ? ORDER BY payment_id",
                   "cursor_field": "payment_id", "key_field": "payment_id"}}},
    "streams": {"payments": {"documents": "org.example.absent", "direction": "pull", "remote_id": "payment_id"}}}}}})";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir.path() / "annex.json").string()}};
  Annexd d(o);
  EXPECT_NE(d.log().find("sync.connections.finance.streams.payments: the plugin org.example.absent that owns its documents is not running"),
            std::string::npos) << d.log();
  HttpResult r = d.call("POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "payments", "dry_run": false})");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(eventually([&] {
    json runs = json::parse(d.call("GET", "/api/v1/sync/runs?connection=finance").body)["items"];
    return !runs.empty() && runs[0]["status"] == "failed" &&
           runs[0]["error"].get<std::string>().find("org.example.absent is not running here") != std::string::npos;
  }, std::chrono::seconds(20))) << d.call("GET", "/api/v1/sync/runs?connection=finance").body;
}

}  // namespace
}  // namespace annex::test

// Business documents through the sync engine (annex.documents@1), as a plugin uses them through the SDK, on both
// backends: a poster plugin linked into this test queues journal entries in its own transactions and takes payment
// confirmations; a fake finance system (a connector's C table) keeps entries by key and pays in pages.
#include "plugin_host/plugin_host.h"
#include "store/sql.h"
#include "support/test_support.h"
#include "sync/engine.h"

#include <annex/sdk.hpp>
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace {

using nlohmann::json;

// The finance system: entries by key, refusals by key, an outage, and payments read in pages by index.
struct Finance {
  std::map<std::string, json> entries;
  std::set<std::string> refuse;  // keys whose entry it refuses
  int down = 0;                  // this many write calls find it unreachable
  int writes = 0;
  std::vector<json> payments;
} finance;

void put(annex_buffer* b, const std::string& s) { b->append(b->owner_ptr, s.data(), s.size()); }
annex_status fin_open(void*, annex_str, annex_connection** out, annex_buffer*) {
  *out = reinterpret_cast<annex_connection*>(&finance);
  return ANNEX_OK;
}
void fin_close(annex_connection*) {}
annex_status fin_check(annex_connection*, annex_buffer* out, annex_buffer*) {
  put(out, R"({"detail":"fine"})");
  return ANNEX_OK;
}
annex_status fin_discover(annex_connection*, annex_buffer* out, annex_buffer*) {
  put(out, R"({"streams":[]})");
  return ANNEX_OK;
}
annex_status fin_read(annex_connection*, annex_str, annex_str cursor, uint32_t page_size, annex_buffer* out, annex_buffer*) {
  size_t from = cursor.len == 0 ? 0 : std::stoul(std::string(cursor.data, cursor.len));
  size_t to = std::min(finance.payments.size(), from + page_size);
  json records = json::array();
  for (size_t i = from; i < to; ++i) records.push_back(finance.payments[i]);
  put(out, json({{"records", records}, {"cursor", to}, {"done", to >= finance.payments.size()}}).dump());
  return ANNEX_OK;
}
annex_status fin_write(annex_connection*, annex_str, annex_str records, annex_buffer* out, annex_buffer* err) {
  ++finance.writes;
  if (finance.down > 0) {
    --finance.down;
    put(err, "connection refused");
    return ANNEX_ERR_UNAVAILABLE;
  }
  json results = json::array();
  for (const auto& r : json::parse(std::string(records.data, records.len))) {
    std::string key = r["idempotency_key"];
    if (finance.refuse.count(key)) {
      results.push_back({{"status", "rejected"}, {"reason", "account 9999 does not exist"}});
    } else if (finance.entries.count(key)) {
      results.push_back({{"status", "unchanged"}, {"remote_id", finance.entries[key]["id"]}});
    } else {
      std::string id = "JE-" + std::to_string(finance.entries.size() + 1);
      finance.entries[key] = {{"id", id}, {"entry", r["record"]}};
      results.push_back({{"status", "created"}, {"remote_id", id}});
    }
  }
  put(out, json({{"results", results}}).dump());
  return ANNEX_OK;
}

const annex_migration kPosterMigrations[] = {
    {sizeof(annex_migration), 1, "payments", "CREATE TABLE poster_payments (payment_id TEXT PRIMARY KEY, amount BIGINT NOT NULL)",
     nullptr},
};

class PosterPlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.test.poster";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kManifest = R"({"uses":["annex.db@1","annex.documents@1"],"config_schema":{"type":"object"}})";
  static std::span<const annex_migration> migrations() noexcept { return kPosterMigrations; }
  static inline PosterPlugin* instance = nullptr;
  static inline std::vector<std::string> taken;     // payment ids in the order the handler got them
  static inline std::vector<std::string> outcomes;  // "key state remote_id|reason"
  static inline std::string fail_once;               // a payment whose first delivery fails
  static inline bool fail_outcomes = false;

  PosterPlugin(const annex_host_api* api, std::string config) : annex::Plugin(api, std::move(config)) { instance = this; }
  ~PosterPlugin() override { instance = nullptr; }
  void on_register() override {
    host().documents().subscribe("finance", "payments", [this](const annex::Document& d) {
      taken.emplace_back(d.key);
      if (d.key == fail_once) {
        fail_once.clear();
        throw annex::Error(ANNEX_ERR_UNAVAILABLE, "the claims table is busy");
      }
      json payment = json::parse(d.json);
      if (!payment.contains("amount")) throw annex::Error(ANNEX_ERR_UNPROCESSABLE, "a payment without an amount", "amount");
      // Idempotent by the payment's id: a page delivered again changes nothing.
      std::string id(d.key);
      host().db().query("INSERT INTO poster_payments (payment_id, amount) VALUES (?, ?) ON CONFLICT (payment_id) DO NOTHING",
                        {id, payment["amount"].get<int64_t>()});
    });
    host().documents().on_outcome("finance", "journal", [](const annex::Document& d) {
      if (fail_outcomes) throw annex::Error(ANNEX_ERR_UNAVAILABLE, "busy");
      json s = json::parse(d.json);
      outcomes.push_back(std::string(d.key) + " " + s["state"].get<std::string>() + " " +
                         (s["state"] == "delivered" ? s["remote_id"].get<std::string>() : s["reason"].get<std::string>()));
    });
  }
};

}  // namespace

namespace annex::sync {
namespace {

using test::PgAddress;

using test::Backend;

class DocumentsTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    finance = Finance{};
    PosterPlugin::taken.clear();
    PosterPlugin::outcomes.clear();
    PosterPlugin::fail_once.clear();
    PosterPlugin::fail_outcomes = false;
    db_ = test::migrated_database(GetParam(), dir_);
    if (!db_) GTEST_SKIP() << "no PostgreSQL for this run";
    md_ = std::make_unique<masterdata::MasterData>(*db_);
    annex_connector c{};
    c.struct_size = sizeof c;
    c.type = annex_str{"finance", 7};
    c.open = &fin_open;
    c.close = &fin_close;
    c.check = &fin_check;
    c.discover = &fin_discover;
    c.read = &fin_read;
    c.write = &fin_write;
    ASSERT_EQ(registry_.add("test", c), "");
    engine_ = std::make_unique<SyncEngine>(*md_, registry_, parse_sync_config(R"({"connections": {"finance": {
      "connector": "finance", "retry": {"attempts": 2, "base_ms": 1, "max_ms": 2}, "breaker": {"failures": 100, "open_s": 1},
      "streams": {
        "journal": {"documents": "org.annex.test.poster", "direction": "push", "page_size": 10},
        "payments": {"documents": "org.annex.test.poster", "direction": "pull", "remote_id": "payment_id", "page_size": 3},
        "other": {"documents": "org.annex.test.someone", "direction": "push"}}}}})"));
    plugin_host::HostParts parts;
    parts.db = db_.get();
    parts.connectors = &registry_;
    parts.sync = engine_.get();
    host_ = std::make_unique<plugin_host::PluginHost>(parts);
    host_->add_descriptor(annex::detail::Export<PosterPlugin>::descriptor(), "linked");
    host_->resolve();
    host_->start_all();
    ASSERT_NE(PosterPlugin::instance, nullptr) << host_->plugins()[0].error;
  }
  void TearDown() override {
    if (host_) host_->stop_all();
  }
  annex::Documents documents() { return PosterPlugin::instance->host().documents(); }
  annex::Db plugin_db() { return PosterPlugin::instance->host().db(); }
  RunReport run(const std::string& stream, bool dry_run = false) { return engine_->run("finance", stream, dry_run).at(0); }
  std::string state(const std::string& key) {
    auto s = documents().status("finance", "journal", key);
    return s ? json::parse(*s)["state"].get<std::string>() : "none";
  }
  int64_t count(const std::string& sql) {
    store::Lease lease(*db_);
    return store::run(lease.session(), sql, {}).rows.at(0).at(0).i;
  }
  static std::string entry(const std::string& claim) {
    return json({{"date", "2026-11-30"}, {"reference", claim}, {"currency", "EUR"},
                 {"lines", {{{"account", "6400"}, {"debit", 12000}, {"credit", 0}}, {{"account", "2100"}, {"debit", 0}, {"credit", 12000}}}}})
        .dump();
  }

  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<masterdata::MasterData> md_;
  ConnectorRegistry registry_;
  std::unique_ptr<SyncEngine> engine_;
  std::unique_ptr<plugin_host::PluginHost> host_;
};

TEST_P(DocumentsTest, ADocumentEnqueuedInATransactionThatRollsBackIsNeverSent) {
  {
    annex::Transaction txn = plugin_db().begin();
    documents().enqueue("finance", "journal", "claim-1", entry("CL-1"), &txn);
  }  // rolled back
  EXPECT_EQ(state("claim-1"), "none");
  RunReport r = run("journal");
  EXPECT_EQ(r.status, "succeeded") << r.error;
  EXPECT_EQ(r.read, 0);
  EXPECT_TRUE(finance.entries.empty());

  annex::Transaction txn = plugin_db().begin();
  documents().enqueue("finance", "journal", "claim-1", entry("CL-1"), &txn);
  txn.commit();
  EXPECT_EQ(state("claim-1"), "pending");
  r = run("journal");
  EXPECT_EQ(r.created, 1) << r.error << " read " << r.read;
  EXPECT_EQ(finance.entries.size(), 1u);
  EXPECT_EQ(finance.entries["claim-1"]["entry"]["reference"], "CL-1");
}

TEST_P(DocumentsTest, EachDocumentIsDeliveredOnceByItsKeyEvenWhenSentAgainAfterACrash) {
  documents().enqueue("finance", "journal", "claim-1", entry("CL-1"));
  documents().enqueue("finance", "journal", "claim-1", entry("CL-1 again"));  // the same key: a no-op
  documents().enqueue("finance", "journal", "claim-2", entry("CL-2"));
  // The finance system took claim-2 before a crash, which came before Annex recorded the delivery.
  finance.entries["claim-2"] = {{"id", "JE-9"}, {"entry", json::parse(entry("CL-2"))}};

  RunReport r = run("journal");
  EXPECT_EQ(r.read, 2);
  EXPECT_EQ(r.created, 1);
  EXPECT_EQ(r.unchanged, 1);
  EXPECT_EQ(finance.entries.size(), 2u) << "no entry twice";
  EXPECT_EQ(finance.entries["claim-1"]["entry"]["reference"], "CL-1");
  json s = json::parse(*documents().status("finance", "journal", "claim-2"));
  EXPECT_EQ(s["state"], "delivered");
  EXPECT_EQ(s["remote_id"], "JE-9");
  EXPECT_EQ(s["outcome"], "unchanged");
  EXPECT_EQ(PosterPlugin::outcomes, (std::vector<std::string>{"claim-1 delivered JE-2", "claim-2 delivered JE-9"}));

  EXPECT_EQ(run("journal").read, 0) << "a delivered document does not travel again";
  EXPECT_EQ(PosterPlugin::outcomes.size(), 2u) << "an outcome heard is not told again";
}

TEST_P(DocumentsTest, OutcomesThePluginDidNotTakeAreToldAgain) {
  PosterPlugin::fail_outcomes = true;
  documents().enqueue("finance", "journal", "claim-1", entry("CL-1"));
  EXPECT_EQ(run("journal").created, 1);
  EXPECT_TRUE(PosterPlugin::outcomes.empty());
  PosterPlugin::fail_outcomes = false;
  run("journal");
  EXPECT_EQ(PosterPlugin::outcomes, (std::vector<std::string>{"claim-1 delivered JE-1"}));
}

TEST_P(DocumentsTest, AnUnreachableFinanceSystemIsRetriedLaterWithoutADoubleEntry) {
  documents().enqueue("finance", "journal", "claim-1", entry("CL-1"));
  finance.down = 2;  // both attempts of the first run
  RunReport r = run("journal");
  EXPECT_EQ(r.status, "failed");
  EXPECT_NE(r.error.find("unreachable"), std::string::npos) << r.error;
  json s = json::parse(*documents().status("finance", "journal", "claim-1"));
  EXPECT_EQ(s["state"], "pending");
  EXPECT_EQ(s["attempts"], 1);
  EXPECT_NE(s["last_error"].get<std::string>().find("connection refused"), std::string::npos);
  // It waits its backoff (about a second here), then goes.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (state("claim-1") == "pending" && std::chrono::steady_clock::now() < until) {
    run("journal");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(state("claim-1"), "delivered");
  EXPECT_EQ(finance.entries.size(), 1u);
}

TEST_P(DocumentsTest, ADocumentTheFinanceSystemRefusesIsDeadLetteredWithTheReasonAndReplayed) {
  finance.refuse = {"claim-1"};
  documents().enqueue("finance", "journal", "claim-1", entry("CL-1"));
  documents().enqueue("finance", "journal", "claim-2", entry("CL-2"));
  RunReport r = run("journal");
  EXPECT_EQ(r.rejected, 1);
  EXPECT_EQ(r.created, 1);
  json s = json::parse(*documents().status("finance", "journal", "claim-1"));
  EXPECT_EQ(s["state"], "dead");
  EXPECT_EQ(s["reason"], "account 9999 does not exist");
  auto letters = engine_->dead_letters("finance", false);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].stream, "journal");
  EXPECT_EQ(letters[0].reason, "account 9999 does not exist");
  EXPECT_EQ(json::parse(letters[0].record)["key"], "claim-1");

  finance.refuse.clear();  // the finance department opens the account
  EXPECT_EQ(engine_->replay(letters[0].seq), "");
  EXPECT_EQ(state("claim-1"), "pending");
  EXPECT_NE(engine_->replay(letters[0].seq), "") << "a dead letter is replayed once";
  EXPECT_EQ(run("journal").created, 1);
  EXPECT_EQ(state("claim-1"), "delivered");
  EXPECT_EQ(finance.entries.size(), 2u);
  EXPECT_EQ(PosterPlugin::outcomes, (std::vector<std::string>{"claim-1 dead account 9999 does not exist",
                                                              "claim-2 delivered JE-1", "claim-1 delivered JE-2"}));
}

TEST_P(DocumentsTest, ADryRunReportsWhatWouldTravelAndChangesNothing) {
  documents().enqueue("finance", "journal", "claim-1", entry("CL-1"));
  finance.payments = {{{"payment_id", "P1"}, {"amount", 100}}};
  RunReport push = run("journal", true);
  EXPECT_EQ(push.read, 1);
  ASSERT_EQ(push.diff.size(), 1u);
  EXPECT_EQ(push.diff[0]["key"], "claim-1");
  EXPECT_EQ(push.diff[0]["outcome"], "would send");
  RunReport pull = run("payments", true);
  EXPECT_EQ(pull.read, 1);
  ASSERT_EQ(pull.diff.size(), 1u);
  EXPECT_EQ(pull.diff[0]["outcome"], "would deliver");
  EXPECT_EQ(finance.writes, 0);
  EXPECT_TRUE(PosterPlugin::taken.empty());
  EXPECT_EQ(state("claim-1"), "pending");
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_sync_cursors"), 0);
  EXPECT_EQ(run("payments").created, 1) << "the real run after the dry run delivers it";
}

TEST_P(DocumentsTest, InboundDocumentsReachThePluginInOrderByCursorAndAFailedPageComesAgain) {
  for (int i = 1; i <= 7; ++i) finance.payments.push_back({{"payment_id", "P" + std::to_string(i)}, {"amount", i * 100}});
  finance.payments[5].erase("amount");  // P6: the plugin refuses it
  PosterPlugin::fail_once = "P5";
  RunReport first = run("payments");
  EXPECT_EQ(first.status, "failed");
  EXPECT_NE(first.error.find("the claims table is busy"), std::string::npos) << first.error;
  RunReport second = run("payments");
  EXPECT_EQ(second.status, "succeeded") << second.error;
  // Pages of three: P1-P3 were taken and the cursor moved past them; P4-P6 failed at P5 and came again whole.
  EXPECT_EQ(PosterPlugin::taken, (std::vector<std::string>{"P1", "P2", "P3", "P4", "P5", "P4", "P5", "P6", "P7"}));
  EXPECT_EQ(second.created, 3);
  EXPECT_EQ(second.rejected, 1);
  annex::Rows rows = plugin_db().query("SELECT COUNT(*), SUM(amount) FROM poster_payments");
  ASSERT_TRUE(rows.next());
  EXPECT_EQ(rows.row().integer(0), 6) << "each payment once, none skipped";
  EXPECT_EQ(rows.row().integer(1), 100 + 200 + 300 + 400 + 500 + 700);
  auto letters = engine_->dead_letters("finance", false);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(json::parse(letters[0].record)["payment_id"], "P6");
  EXPECT_NE(letters[0].reason.find("a payment without an amount"), std::string::npos) << letters[0].reason;

  finance.payments.push_back({{"payment_id", "P8"}, {"amount", 800}});
  RunReport third = run("payments");
  EXPECT_EQ(third.read, 1) << "the next run starts after the last page taken";
  EXPECT_EQ(PosterPlugin::taken.back(), "P8");
}

TEST_P(DocumentsTest, AStreamIsUsedOnlyByThePluginThatOwnsItAndOnlyInItsDirection) {
  auto code_of = [&](auto&& fn) {
    try {
      fn();
    } catch (const annex::Error& e) {
      return std::make_pair(e.code(), e.field());
    }
    return std::make_pair(ANNEX_OK, std::string{});
  };
  EXPECT_EQ(code_of([&] { documents().enqueue("finance", "other", "k", "{}"); }).first, ANNEX_ERR_PERMISSION_DENIED);
  EXPECT_EQ(code_of([&] { documents().enqueue("finance", "payments", "k", "{}"); }).first, ANNEX_ERR_UNPROCESSABLE);
  EXPECT_EQ(code_of([&] { documents().enqueue("finance", "nowhere", "k", "{}"); }).first, ANNEX_ERR_NOT_FOUND);
  EXPECT_EQ(code_of([&] { documents().enqueue("finance", "journal", "", "{}"); }),
            std::make_pair(ANNEX_ERR_UNPROCESSABLE, std::string("key")));
  EXPECT_EQ(code_of([&] { documents().enqueue("finance", "journal", "k", "[1]"); }),
            std::make_pair(ANNEX_ERR_UNPROCESSABLE, std::string("document")));
  EXPECT_EQ(code_of([&] { documents().status("finance", "other", "k"); }).first, ANNEX_ERR_PERMISSION_DENIED);
  EXPECT_FALSE(documents().status("finance", "journal", "never").has_value());
  EXPECT_EQ(code_of([&] { documents().status("finance", "nowhere", "k"); }),
            std::make_pair(ANNEX_ERR_NOT_FOUND, std::string("stream")));
  EXPECT_EQ(code_of([&] { documents().subscribe("finance", "payments", [](const annex::Document&) {}); }).first,
            ANNEX_ERR_CONFLICT);
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_sync_documents"), 0);
}

TEST_P(DocumentsTest, DocumentStreamsAreConfiguredWithTheirOwnerAndOneDirection) {
  auto error_of = [](const std::string& stream) {
    try {
      parse_sync_config(R"({"connections": {"f": {"connector": "x", "streams": {"s": )" + stream + "}}}}");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(error_of(R"({"documents": "org.x", "direction": "push"})"), "accepted");
  EXPECT_NE(error_of(R"({"documents": "", "direction": "push"})").find("sync.connections.f.streams.s.documents"), std::string::npos);
  EXPECT_NE(error_of(R"({"documents": "org.x", "direction": "both"})").find("sync.connections.f.streams.s.direction"), std::string::npos);
  EXPECT_NE(error_of(R"({"documents": "org.x", "direction": "pull"})").find("sync.connections.f.streams.s.remote_id"), std::string::npos);
  EXPECT_NE(error_of(R"({"documents": "org.x", "entity": "parties", "direction": "push"})").find("streams.s.entity"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, DocumentsTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         test::backend_param_name);

// ---- journal entries and payment confirmations through the ODBC connector, into a real PostgreSQL ----------

// The finance database's journal tables as the README gives them, an accounts table the lines must name, and
// the payment confirmations finance records.
void create_finance_schema(soci::session& remote, const std::string& schema) {
  remote << "CREATE SCHEMA " + schema;
  remote << "SET search_path TO " + schema;
  remote << "CREATE TABLE accounts (code VARCHAR(20) PRIMARY KEY)";
  remote << "INSERT INTO accounts VALUES ('6400'), ('2100')";
  remote << "CREATE TABLE journal_entries (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " entry_key VARCHAR(200) NOT NULL UNIQUE, entry_date DATE NOT NULL, reference VARCHAR(100),"
            " description VARCHAR(400), currency CHAR(3) NOT NULL, posted_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)";
  remote << "CREATE TABLE journal_lines (entry_key VARCHAR(200) NOT NULL REFERENCES journal_entries (entry_key),"
            " line_no INTEGER NOT NULL, account VARCHAR(20) NOT NULL REFERENCES accounts (code), cost_centre VARCHAR(20),"
            " debit BIGINT NOT NULL DEFAULT 0, credit BIGINT NOT NULL DEFAULT 0, description VARCHAR(400),"
            " PRIMARY KEY (entry_key, line_no))";
  remote << "CREATE TABLE payment_confirmations (payment_id VARCHAR(100) PRIMARY KEY, entry_key VARCHAR(200) NOT NULL,"
            " amount BIGINT NOT NULL, currency CHAR(3) NOT NULL, paid_on DATE NOT NULL, recorded_at VARCHAR(32) NOT NULL)";
  remote << "SET search_path TO public";
}

class JournalOdbcTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    PosterPlugin::taken.clear();
    PosterPlugin::outcomes.clear();
    PosterPlugin::fail_once.clear();
    PosterPlugin::fail_outcomes = false;
    db_ = test::migrated_database(GetParam(), dir_);
    if (!db_ || test::postgres_url().empty()) GTEST_SKIP() << "no PostgreSQL for this run";
    std::filesystem::create_symlink(test::build_path("lib/annex/plugins/odbc.so"), plugins_.path() / "odbc.so");
  }
  // Starts the engine and the plugins against the finance database at `pg`.
  // `settings` adds connection settings ("\"key\": value, "); `page` is the journal stream's page size.
  void start(const PgAddress& pg, const std::string& journal = R"({"id_column": "id"})", const std::string& settings = "",
             int page = 100) {
    md_ = std::make_unique<masterdata::MasterData>(*db_);
    engine_ = std::make_unique<SyncEngine>(*md_, registry_, parse_sync_config(R"({"connections": {"finance": {
      "connector": "odbc", "retry": {"attempts": 2, "base_ms": 1, "max_ms": 2}, "breaker": {"failures": 100, "open_s": 1},
      "settings": {)" + settings + R"("connection_string": ")" + pg.odbc(schema_) + R"(", "streams": {
        "journal": {"journal": )" + journal + R"(},
        "payments": {"select": "SELECT payment_id, entry_key, amount, currency, paid_on, recorded_at FROM payment_confirmations WHERE recorded_at >= ? ORDER BY recorded_at, payment_id",
                     "cursor_field": "recorded_at", "key_field": "payment_id"}}},
      "streams": {
        "journal": {"documents": "org.annex.test.poster", "direction": "push", "page_size": )" + std::to_string(page) + R"(},
        "payments": {"documents": "org.annex.test.poster", "direction": "pull", "remote_id": "payment_id", "page_size": 2}}}}})"));
    plugin_host::HostParts parts;
    parts.db = db_.get();
    parts.connectors = &registry_;
    parts.sync = engine_.get();
    host_ = std::make_unique<plugin_host::PluginHost>(parts);
    host_->add_descriptor(annex::detail::Export<PosterPlugin>::descriptor(), "linked");
    host_->load({plugins_.str()}, {}, {});
    host_->start_all();
    ASSERT_NE(PosterPlugin::instance, nullptr);
    ASSERT_EQ(registry_.types(), std::vector<std::string>{"odbc"});
  }
  void TearDown() override {
    engine_.reset();
    if (host_) host_->stop_all();
  }
  annex::Documents documents() { return PosterPlugin::instance->host().documents(); }
  RunReport run(const std::string& stream) { return engine_->run("finance", stream, false).at(0); }
  std::string state(const std::string& key) {
    auto s = documents().status("finance", "journal", key);
    return s ? json::parse(*s)["state"].get<std::string>() : "none";
  }
  static std::string entry(const std::string& claim, const std::string& account = "6400") {
    return json({{"date", "2026-11-30"}, {"reference", claim}, {"description", "Expense claim " + claim}, {"currency", "EUR"},
                 {"lines", {{{"account", account}, {"cost_centre", "CC10"}, {"debit", 12000}, {"credit", 0}, {"description", "Hotel"}},
                            {{"account", "2100"}, {"debit", 0}, {"credit", 12000}, {"description", "Employee payable"}}}}})
        .dump();
  }

  test::TempDir dir_, plugins_;
  std::string schema_ = "fin_" + std::to_string(std::random_device{}() % 1000000);
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<masterdata::MasterData> md_;
  ConnectorRegistry registry_;
  std::unique_ptr<SyncEngine> engine_;
  std::unique_ptr<plugin_host::PluginHost> host_;
};

int64_t remote_count(soci::session& s, const std::string& sql) {
  long long n = 0;
  s << sql, soci::into(n);
  return n;
}

TEST_P(JournalOdbcTest, AJournalEntryIsWrittenHeaderAndLinesOnceByItsKeyAndARefusedOneIsReplayed) {
  PgAddress pg = PgAddress::parse(test::postgres_url());
  soci::session remote(*soci::factory_postgresql(), pg.libpq());
  create_finance_schema(remote, schema_);
  start(pg);
  documents().enqueue("finance", "journal", "claim-1", entry("CL-1"));
  documents().enqueue("finance", "journal", "claim-2", entry("CL-2", "9999"));  // an account finance does not have
  RunReport r = run("journal");
  EXPECT_EQ(r.status, "succeeded") << r.error;
  EXPECT_EQ(r.created, 1);
  EXPECT_EQ(r.rejected, 1);
  EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_entries"), 1);
  EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_lines WHERE entry_key = 'claim-1'"), 2);
  EXPECT_EQ(remote_count(remote, "SELECT SUM(debit) - SUM(credit) FROM " + schema_ + ".journal_lines"), 0);
  EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_lines WHERE entry_key = 'claim-2'"), 0)
      << "a refused entry leaves no line behind: header and lines are one transaction";
  json one = json::parse(*documents().status("finance", "journal", "claim-1"));
  EXPECT_EQ(one["remote_id"], std::to_string(remote_count(remote, "SELECT id FROM " + schema_ + ".journal_entries WHERE entry_key = 'claim-1'")));
  json two = json::parse(*documents().status("finance", "journal", "claim-2"));
  EXPECT_EQ(two["state"], "dead");
  EXPECT_NE(two["reason"].get<std::string>().find("accounts"), std::string::npos) << two["reason"];

  // Annex crashed after the finance database took claim-1, before it recorded the delivery: it goes again.
  {
    store::Lease lease(*db_);
    store::run(lease.session(), "UPDATE annex_sync_documents SET state = 'pending' WHERE doc_key = 'claim-1'", {});
  }
  r = run("journal");
  EXPECT_EQ(r.unchanged, 1) << r.error;
  EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_entries WHERE entry_key = 'claim-1'"), 1);
  EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_lines WHERE entry_key = 'claim-1'"), 2);

  remote << "INSERT INTO " + schema_ + ".accounts VALUES ('9999')";
  auto letters = engine_->dead_letters("finance", false);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(engine_->replay(letters[0].seq), "");
  r = run("journal");
  EXPECT_EQ(r.created, 1) << r.error;
  EXPECT_EQ(state("claim-2"), "delivered");
  EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_entries"), 2);
  EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_lines"), 4);
}

// A page of entries goes several rows to an INSERT (a few statements, each run for several sets of rows) and
// over two sessions at once; every line lands under its entry in order with its amounts, and an entry the
// database refuses inside a multi-row statement is found and refused alone. With one row to an INSERT (for a
// database without multi-row VALUES) the same holds.
TEST_P(JournalOdbcTest, EntriesGoManyRowsToAStatementOverTwoSessionsEachLineInPlaceAndARefusedOneAlone) {
  PgAddress pg = PgAddress::parse(test::postgres_url());
  soci::session remote(*soci::factory_postgresql(), pg.libpq());
  create_finance_schema(remote, schema_);
  for (const char* per : {"7", "1"}) {
    SCOPED_TRACE(std::string("rows_per_insert ") + per);
    remote << "DELETE FROM " + schema_ + ".journal_lines";
    remote << "DELETE FROM " + schema_ + ".journal_entries";
    engine_.reset();
    if (host_) host_->stop_all();
    host_.reset();
    { store::Lease lease(*db_); store::run(lease.session(), "DELETE FROM annex_sync_documents", {}); }
    start(pg, "{}", std::string(R"("rows_per_insert": )") + per + R"(, "write_sessions": 2, )", 250);
    // Entry i has 1 + i % 4 expense lines of 100·i + line minor units and one credit balancing them; entry 137
    // names an account finance does not have.
    int64_t lines = 0, debits = 0;
    for (int i = 1; i <= 260; ++i) {
      json e = {{"date", "2026-11-30"}, {"reference", "CL-" + std::to_string(i)}, {"currency", "EUR"}, {"lines", json::array()}};
      int64_t total = 0;
      for (int l = 1; l <= 1 + i % 4; ++l) {
        e["lines"].push_back({{"account", i == 137 && l == 1 ? "9999" : "6400"}, {"cost_centre", "CC" + std::to_string(l)},
                              {"debit", 100 * i + l}, {"credit", 0}, {"description", "line " + std::to_string(l)}});
        total += 100 * i + l;
      }
      e["lines"].push_back({{"account", "2100"}, {"debit", 0}, {"credit", total}});
      documents().enqueue("finance", "journal", "claim-" + std::to_string(i), e.dump());
      if (i != 137) {
        lines += 2 + i % 4;
        debits += total;
      }
    }
    RunReport r = run("journal");
    EXPECT_EQ(r.status, "succeeded") << r.error;
    EXPECT_EQ(r.created, 259);
    EXPECT_EQ(r.rejected, 1);
    EXPECT_EQ(state("claim-137"), "dead");
    EXPECT_EQ(state("claim-138"), "delivered");
    EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_entries"), 259);
    EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_lines"), lines);
    EXPECT_EQ(remote_count(remote, "SELECT SUM(debit) FROM " + schema_ + ".journal_lines"), debits);
    EXPECT_EQ(remote_count(remote, "SELECT SUM(credit) FROM " + schema_ + ".journal_lines"), debits);
    // Every line under its own entry, numbered in order, with its own amount, cost centre and description.
    EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_lines l JOIN " + schema_ +
                                       ".journal_entries e USING (entry_key) WHERE l.debit > 0 AND (l.debit <> 100 *"
                                       " CAST(SUBSTR(e.reference, 4) AS INTEGER) + l.line_no OR l.cost_centre <> 'CC' || l.line_no"
                                       " OR l.description <> 'line ' || l.line_no)"),
              0);
    EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_lines WHERE credit > 0 AND"
                                       " (cost_centre IS NOT NULL OR description IS NOT NULL OR line_no <> 2 + CAST(SUBSTR(entry_key, 7) AS INTEGER) % 4)"),
              0);
  }
}

TEST_P(JournalOdbcTest, PaymentConfirmationsReachThePluginInOrderByCursorNoneSkippedNoneTwice) {
  PgAddress pg = PgAddress::parse(test::postgres_url());
  soci::session remote(*soci::factory_postgresql(), pg.libpq());
  create_finance_schema(remote, schema_);
  // Five payments, two of them recorded at the same instant.
  remote << "INSERT INTO " + schema_ + ".payment_confirmations VALUES"
            " ('PAY-1', 'claim-1', 12000, 'EUR', '2026-12-01', '2026-12-01 09:00:00'),"
            " ('PAY-2', 'claim-2', 5000, 'EUR', '2026-12-01', '2026-12-01 09:00:01'),"
            " ('PAY-3', 'claim-3', 7000, 'EUR', '2026-12-01', '2026-12-01 09:00:01'),"
            " ('PAY-4', 'claim-4', 100, 'EUR', '2026-12-01', '2026-12-01 09:00:02'),"
            " ('PAY-5', 'claim-5', 200, 'EUR', '2026-12-01', '2026-12-01 09:00:03')";
  start(pg);
  PosterPlugin::fail_once = "PAY-3";
  EXPECT_EQ(run("payments").status, "failed");
  RunReport r = run("payments");
  EXPECT_EQ(r.status, "succeeded") << r.error;
  EXPECT_EQ(PosterPlugin::taken, (std::vector<std::string>{"PAY-1", "PAY-2", "PAY-3", "PAY-3", "PAY-4", "PAY-5"}));
  remote << "INSERT INTO " + schema_ + ".payment_confirmations VALUES ('PAY-6', 'claim-6', 300, 'EUR', '2026-12-02', '2026-12-02 08:00:00')";
  r = run("payments");
  EXPECT_EQ(r.read, 1);
  EXPECT_EQ(PosterPlugin::taken.back(), "PAY-6");
  annex::Rows rows = PosterPlugin::instance->host().db().query("SELECT COUNT(*), SUM(amount) FROM poster_payments");
  ASSERT_TRUE(rows.next());
  EXPECT_EQ(rows.row().integer(0), 6);
  EXPECT_EQ(rows.row().integer(1), 12000 + 5000 + 7000 + 100 + 200 + 300);
}

// The finance database stops while entries wait and comes back: the run fails, the entries stay queued, and the
// next run writes each once.
TEST_P(JournalOdbcTest, PostingIsRetriedAfterTheFinanceDatabaseRestartsWithNoDoubleEntry) {
  test::TempDir pg_state;
  std::string out;
  ASSERT_EQ(test::run_program(std::string(ANNEX_SOURCE_DIR) + "/tests/support/pg_up.sh", {pg_state.str()}, &out), 0) << out;
  struct Down {
    std::string state;
    ~Down() {
      std::string ignored;
      test::run_program(std::string(ANNEX_SOURCE_DIR) + "/tests/support/pg_down.sh", {state}, &ignored);
    }
  } down{pg_state.str()};
  std::string url;
  std::getline(std::ifstream(pg_state.path() / "url"), url);
  PgAddress pg = PgAddress::parse(url);
  {
    soci::session remote(*soci::factory_postgresql(), pg.libpq());
    create_finance_schema(remote, schema_);
  }
  start(pg);
  documents().enqueue("finance", "journal", "claim-1", entry("CL-1"));
  EXPECT_EQ(run("journal").created, 1);
  ASSERT_EQ(test::run_program(std::string(ANNEX_SOURCE_DIR) + "/tests/support/pg_pause.sh", {pg_state.str(), "stop"}, &out), 0) << out;
  for (int i = 2; i <= 4; ++i) documents().enqueue("finance", "journal", "claim-" + std::to_string(i), entry("CL-" + std::to_string(i)));
  RunReport r = run("journal");
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(state("claim-2"), "pending");
  ASSERT_EQ(test::run_program(std::string(ANNEX_SOURCE_DIR) + "/tests/support/pg_pause.sh", {pg_state.str(), "start"}, &out), 0) << out;
  EXPECT_TRUE(test::eventually([&] {
    run("journal");
    return state("claim-2") == "delivered" && state("claim-3") == "delivered" && state("claim-4") == "delivered";
  }, std::chrono::seconds(20)));
  soci::session remote(*soci::factory_postgresql(), pg.libpq());
  EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_entries"), 4);
  EXPECT_EQ(remote_count(remote, "SELECT COUNT(DISTINCT entry_key) FROM " + schema_ + ".journal_entries"), 4);
  EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".journal_lines"), 8);
}

TEST_P(JournalOdbcTest, TableAndColumnNamesFromTheSettingsAreNamesNeverSql) {
  PgAddress pg = PgAddress::parse(test::postgres_url());
  soci::session remote(*soci::factory_postgresql(), pg.libpq());
  create_finance_schema(remote, schema_);
  start(pg, R"({"line_table": "journal_lines; DROP TABLE accounts"})");
  documents().enqueue("finance", "journal", "claim-1", entry("CL-1"));
  RunReport r = run("journal");
  EXPECT_EQ(r.status, "failed");
  EXPECT_NE(r.error.find("streams.journal.journal.line_table"), std::string::npos) << r.error;
  EXPECT_EQ(remote_count(remote, "SELECT COUNT(*) FROM " + schema_ + ".accounts"), 2);
  EXPECT_EQ(state("claim-1"), "pending");
}

INSTANTIATE_TEST_SUITE_P(Backends, JournalOdbcTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         test::backend_param_name);

}  // namespace
}  // namespace annex::sync

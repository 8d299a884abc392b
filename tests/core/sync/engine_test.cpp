// The sync engine against a connector written for the test (a C function table, as a plugin would register):
// retries with backoff on an unreachable remote, no retries when credentials are refused, the circuit breaker,
// secrets resolved by reference, and the outbox committing with the change or not at all.
#include "audit/audit_log.h"
#include "masterdata/store.h"
#include "store/core_schema.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store/sql.h"
#include "store/transaction.h"
#include "support/test_support.h"
#include "sync/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <sys/mman.h>
#include <unistd.h>

namespace annex::sync {
namespace {

using nlohmann::json;

// The fake remote: a list of records read in pages, and scripted failures.
struct Fake {
  std::vector<json> records;
  int fail_reads = 0;                      // this many reads answer `failure`
  annex_status failure = ANNEX_ERR_UNAVAILABLE;
  int reads = 0;
  std::atomic<int> written{0};
  std::vector<json> sent;  // every record written, as the connector received it
  std::string settings_seen;
  std::set<std::string> failing;  // IDs the remote fails on alone (a 5xx for that record, the rest answered)
  bool whole = false;             // pages say they are reads of every record ("compare": "content")
} fake;

void put(annex_buffer* b, const std::string& s) { b->append(b->owner_ptr, s.data(), s.size()); }

annex_status fake_open(void*, annex_str settings, annex_connection** out, annex_buffer*) {
  fake.settings_seen.assign(settings.data, settings.len);
  *out = reinterpret_cast<annex_connection*>(&fake);
  return ANNEX_OK;
}
void fake_close(annex_connection*) {}
annex_status fake_check(annex_connection*, annex_buffer* out, annex_buffer*) {
  put(out, R"({"detail":"fine"})");
  return ANNEX_OK;
}
annex_status fake_discover(annex_connection*, annex_buffer* out, annex_buffer*) {
  put(out, R"({"streams":[]})");
  return ANNEX_OK;
}
annex_status fake_read(annex_connection*, annex_str, annex_str cursor, uint32_t page_size, annex_buffer* out, annex_buffer* err) {
  ++fake.reads;
  if (fake.fail_reads > 0) {
    --fake.fail_reads;
    put(err, "the remote is away");
    return fake.failure;
  }
  size_t from = cursor.len == 0 ? 0 : std::stoul(std::string(cursor.data, cursor.len));
  json records = json::array();
  size_t to = std::min(fake.records.size(), from + page_size);
  for (size_t i = from; i < to; ++i) records.push_back(fake.records[i]);
  json page = {{"records", records}, {"cursor", to >= fake.records.size() && fake.whole ? 0 : to}, {"done", to >= fake.records.size()}};
  if (fake.whole) page["compare"] = "content";
  put(out, page.dump());
  return ANNEX_OK;
}
annex_status fake_write(annex_connection*, annex_str, annex_str records, annex_buffer* out, annex_buffer*) {
  json results = json::array();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a remote that takes its time
  for (const auto& r : json::parse(std::string(records.data, records.len))) {
    const std::string id = r["record"].value("ID", std::string("?"));
    if (fake.failing.count(id)) {
      results.push_back({{"status", "failed"}, {"reason", "Internal Server Error (HTTP 500)"}});
      continue;
    }
    ++fake.written;
    fake.sent.push_back(r);
    results.push_back({{"status", "created"}, {"remote_id", id}});
  }
  put(out, json({{"results", results}}).dump());
  return ANNEX_OK;
}

class EngineTest : public testing::Test {
 protected:
  void SetUp() override {
    fake.records.clear();
    fake.fail_reads = 0;
    fake.failure = ANNEX_ERR_UNAVAILABLE;
    fake.reads = 0;
    fake.written = 0;
    fake.sent.clear();
    fake.settings_seen.clear();
    fake.failing.clear();
    fake.whole = false;
    for (int i = 1; i <= 25; ++i) fake.records.push_back({{"ID", "CC" + std::to_string(i)}, {"TITLE", "Centre " + std::to_string(i)}});
    db_ = test::migrated_database(test::Backend::kSqlite, dir_);
    ASSERT_TRUE(db_);
    audit_ = std::make_unique<audit::AuditLog>(*db_, nullptr);
    md_ = std::make_unique<masterdata::MasterData>(*db_);
    annex_connector c{};
    c.struct_size = sizeof c;
    c.type = annex_str{"fake", 4};
    c.open = &fake_open;
    c.close = &fake_close;
    c.check = &fake_check;
    c.discover = &fake_discover;
    c.read = &fake_read;
    c.write = &fake_write;
    ASSERT_EQ(registry_.add("test", c), "");
    ::setenv("ANNEX_TEST_FAKE_SECRET", "s3cret-value", 1);
    engine_ = std::make_unique<SyncEngine>(*md_, registry_, parse_sync_config(R"({"connections": {"remote": {
      "connector": "fake", "settings": {"host": "example"}, "secrets": {"password": "env:ANNEX_TEST_FAKE_SECRET"},
      "retry": {"attempts": 3, "base_ms": 1, "max_ms": 5}, "breaker": {"failures": 4, "open_s": 60},
      "streams": {"centres": {"entity": "cost_centres", "direction": "both", "remote_id": "ID", "page_size": 10,
                              "fields": {"code": "ID", "name": "TITLE"}, "system_of_record": {"default": "annex"}}}}}})"));
    md_->set_listener([this](soci::session& s, const masterdata::Entity& e, const masterdata::Change& c) { engine_->enqueue(s, e, c); });
  }

  int64_t count(const std::string& sql) {
    store::Lease lease(*db_);
    return store::run(lease.session(), sql, {}).rows.at(0).at(0).i;
  }
  RunReport pull() { return engine_->run("remote", "centres", false, {}, "pull").at(0); }
  // A cost centre made or changed as people do: its push queued in the change's transaction.
  void change(const std::string& code, const std::string& name) {
    const masterdata::Entity& centres = *masterdata::find_entity("cost_centres");
    store::Lease lease(*db_);
    store::ScopedTransaction txn(lease.session(), db_->dialect());
    md_->changed(lease.session(), centres, md_->upsert(lease.session(), centres, md_->normalize(centres, {{"code", code}, {"name", name}}, false)));
    txn.commit();
  }

  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<masterdata::MasterData> md_;
  ConnectorRegistry registry_;
  std::unique_ptr<SyncEngine> engine_;
};

// A connector table built against a shorter (older) struct, placed so that its last byte is the last readable
// byte before an inaccessible page: reading one byte past its struct_size crashes the test.
TEST(ConnectorRegistryAbi, CopiesAConnectorUpToItsStructSizeAndTreatsTheRestAsAbsent) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  void* mem = ::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  ASSERT_EQ(::mprotect(static_cast<char*>(mem) + page, page, PROT_NONE), 0);
  const size_t older = offsetof(annex_connector, write);  // everything up to, not including, the last field
  annex_connector full{};
  full.struct_size = static_cast<uint32_t>(older);
  full.type = annex_str{"short", 5};
  full.open = &fake_open;
  full.read = &fake_read;
  char* at = static_cast<char*>(mem) + page - older;
  std::memcpy(at, &full, older);
  ConnectorRegistry registry;
  EXPECT_EQ(registry.add("test", *reinterpret_cast<const annex_connector*>(at)), "");
  auto table = registry.find("short");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->open, &fake_open);
  EXPECT_EQ(table->read, &fake_read);
  EXPECT_EQ(table->write, nullptr) << "a field beyond struct_size is absent";
  EXPECT_FALSE(ANNEX_HAS_FIELD(&*table, annex_connector, write));
  ::munmap(mem, 2 * page);
}

// Master data's date fields (an exchange rate's rate_date) take the one strict form, YYYY-MM-DD.
TEST_F(EngineTest, ExchangeRatesTakeOnlyRealDatesWrittenInFull) {
  const masterdata::Entity& rates = *masterdata::find_entity("exchange_rates");
  for (const char* day : {"2027-02-30", "2027-1-5", "999-06-01", "2027-01-05T00:00:00Z", "20270105"}) {
    try {
      md_->normalize(rates, {{"base", "USD"}, {"quote", "CNY"}, {"rate_date", day}, {"rate", "7.1"}}, false);
      ADD_FAILURE() << day << " was accepted";
    } catch (const masterdata::MasterDataError& e) {
      EXPECT_EQ(e.field(), "rate_date") << day;
    }
  }
  EXPECT_EQ(md_->normalize(rates, {{"base", "USD"}, {"quote", "CNY"}, {"rate_date", "2028-02-29"}, {"rate", "7.1"}}, false)["rate_date"],
            "2028-02-29");
}

TEST_F(EngineTest, RunsStartedWithinOneSecondListNewestFirst) {
  // Start times are kept to the second: runs started within one (by two daemons taking over from each other, say)
  // still list newest first, as an operator reading the history expects.
  std::vector<std::string> started;
  for (int i = 0; i < 3; ++i) {
    started.push_back(pull().id);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const std::vector<RunReport> history = engine_->history("remote", 10);
  ASSERT_GE(history.size(), 3u);
  EXPECT_EQ(history[0].id, started[2]);
  EXPECT_EQ(history[1].id, started[1]);
  EXPECT_EQ(history[2].id, started[0]);
}

TEST_F(EngineTest, AnUnreachableRemoteIsRetriedThenTheRunSucceeds) {
  fake.fail_reads = 2;
  RunReport r = pull();
  EXPECT_EQ(r.status, "succeeded") << r.error;
  EXPECT_EQ(r.created, 25);
  EXPECT_EQ(fake.reads, 2 + 3) << "two failures retried, then three pages";
}

TEST_F(EngineTest, RetriesAreCappedAndTheCursorStaysWhereTheLastGoodPageLeftIt) {
  fake.records.resize(10);
  pull();
  for (int i = 11; i <= 15; ++i) fake.records.push_back({{"ID", "CC" + std::to_string(i)}, {"TITLE", "x"}});
  fake.fail_reads = 3;
  int before = fake.reads;
  RunReport r = pull();
  EXPECT_EQ(r.status, "failed");
  EXPECT_NE(r.error.find("after 3 attempts"), std::string::npos) << r.error;
  EXPECT_EQ(fake.reads - before, 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_md_cost_centres"), 10);
  EXPECT_EQ(pull().created, 5) << "the next run resumes from the cursor";
}

TEST_F(EngineTest, RefusedCredentialsAreReportedAtOnceWithoutRetries) {
  fake.fail_reads = 1;
  fake.failure = ANNEX_ERR_UNAUTHENTICATED;
  RunReport r = pull();
  EXPECT_EQ(r.status, "failed");
  EXPECT_NE(r.error.find("credentials refused"), std::string::npos) << r.error;
  EXPECT_EQ(fake.reads, 1);
}

TEST_F(EngineTest, RepeatedFailuresOpenTheCircuitAndLaterRunsDoNotCallTheRemote) {
  fake.fail_reads = 100;
  EXPECT_EQ(pull().status, "failed");  // three attempts
  RunReport second = pull();           // the fourth failure opens the circuit
  EXPECT_NE(second.error.find("circuit open"), std::string::npos) << second.error;
  int reads = fake.reads;
  RunReport third = pull();
  EXPECT_EQ(third.status, "failed");
  EXPECT_NE(third.error.find("paused"), std::string::npos) << third.error;
  EXPECT_EQ(fake.reads, reads) << "an open circuit makes no call";
}

TEST_F(EngineTest, SecretsAreResolvedByReferenceAndNeverRecorded) {
  pull();
  EXPECT_EQ(json::parse(fake.settings_seen)["password"], "s3cret-value");
  EXPECT_EQ(json::parse(fake.settings_seen)["host"], "example");
  store::Lease lease(*db_);
  for (const char* table : {"annex_sync_runs", "annex_sync_dead_letters", "annex_sync_cursors", "annex_audit"}) {
    auto rs = store::run(lease.session(), std::string("SELECT * FROM ") + table, {});
    for (const auto& row : rs.rows) {
      for (const auto& cell : row) EXPECT_EQ(cell.s.find("s3cret"), std::string::npos) << table;
    }
  }
}

TEST_F(EngineTest, APushIsQueuedOnlyIfTheChangeCommits) {
  const masterdata::Entity& centres = *masterdata::find_entity("cost_centres");
  {
    store::Lease lease(*db_);
    store::ScopedTransaction txn(lease.session(), db_->dialect());
    md_->changed(lease.session(), centres, md_->upsert(lease.session(), centres, md_->normalize(centres, {{"code", "X1"}, {"name", "Gone"}}, false)));
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_sync_outbox"), 0);
  {
    store::Lease lease(*db_);
    store::ScopedTransaction txn(lease.session(), db_->dialect());
    md_->changed(lease.session(), centres, md_->upsert(lease.session(), centres, md_->normalize(centres, {{"code", "X2"}, {"name", "Kept"}}, false)));
    txn.commit();
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'pending'"), 1);
  RunReport push = engine_->run("remote", "centres", false, {}, "push").at(0);
  EXPECT_EQ(push.created, 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'sent'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_md_bindings WHERE remote_id = 'X2'"), 1);
}

TEST_F(EngineTest, TwoPushRunsAtOnceSendEachRecordOnce) {
  const masterdata::Entity& centres = *masterdata::find_entity("cost_centres");
  for (int i = 0; i < 30; ++i) {
    store::Lease lease(*db_);
    store::ScopedTransaction txn(lease.session(), db_->dialect());
    md_->changed(lease.session(), centres,
                 md_->upsert(lease.session(), centres, md_->normalize(centres, {{"code", "P" + std::to_string(i)}, {"name", "n"}}, false)));
    txn.commit();
  }
  std::thread other([this] { engine_->run("remote", "centres", false, {}, "push"); });
  engine_->run("remote", "centres", false, {}, "push");
  other.join();
  EXPECT_EQ(fake.written.load(), 30);
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'sent'"), 30);
}

// While one batch is with the connector the next is read; a record changed again must not be read before the
// remote id its first send brings back is recorded, or it would be created twice.
TEST_F(EngineTest, ARecordChangedAgainWhileItsFirstSendIsInFlightTravelsAsAnUpdate) {
  for (int i = 0; i < 10; ++i) change("P" + std::to_string(i), "first");  // one full batch (page size 10)
  change("P0", "second");
  for (int i = 10; i < 15; ++i) change("P" + std::to_string(i), "first");
  RunReport push = engine_->run("remote", "centres", false, {}, "push").at(0);
  EXPECT_EQ(push.status, "succeeded") << push.error;
  std::vector<json> p0;
  for (const auto& r : fake.sent) {
    if (r["record"].value("ID", "") == "P0") p0.push_back(r);
  }
  ASSERT_EQ(p0.size(), 2u);
  EXPECT_TRUE(p0[0]["remote_id"].is_null());
  EXPECT_EQ(p0[1]["remote_id"], "P0");
  EXPECT_EQ(p0[1]["record"].value("TITLE", ""), "second");
  EXPECT_EQ(fake.written.load(), 16);
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'sent'"), 16);
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_md_bindings"), 15);
}

// A record the remote fails on alone is not the connection's failure: it stays pending and is tried again later
// (a run asked for meanwhile says it waits), becomes a dead letter after the connection's attempts, and that dead
// letter is resolved once the record goes through.
TEST_F(EngineTest, ARecordTheRemoteFailsOnAloneIsRetriedThenDeadLetteredAndResolvedOnceItGoes) {
  fake.failing = {"F1"};
  change("F0", "fine");
  change("F1", "failing");
  RunReport first = engine_->run("remote", "centres", false, {}, "push").at(0);
  EXPECT_EQ(first.status, "succeeded") << first.error;
  EXPECT_EQ(first.created, 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'pending' AND attempts = 1"), 1);
  RunReport waiting = engine_->run("remote", "centres", false, {}, "push").at(0);
  EXPECT_EQ(waiting.status, "waiting");
  EXPECT_NE(waiting.error.find("1 pending record waits"), std::string::npos) << waiting.error;
  EXPECT_TRUE(engine_->run("remote", "centres", false, {}, "push", true).empty()) << "a scheduled tick with nothing due is no run";
  EXPECT_EQ(engine_->idle_ticks()["remote/centres"], 1);
  ASSERT_TRUE(test::eventually([&] {
    engine_->run("remote", "centres", false, {}, "push", true);
    return count("SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'dead'") == 1;
  }, std::chrono::seconds(20)));
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_sync_outbox WHERE record_id IN (SELECT id FROM annex_md_cost_centres WHERE code = 'F1')"
                  " AND attempts = 3"), 1) << "the connection's three attempts";
  std::vector<DeadLetter> letters = engine_->dead_letters("remote", false);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_NE(letters[0].reason.find("HTTP 500"), std::string::npos) << letters[0].reason;
  change("F2", "after");
  RunReport after = engine_->run("remote", "centres", false, {}, "push").at(0);
  EXPECT_EQ(after.status, "succeeded") << "the circuit stayed closed: " << after.error;
  EXPECT_EQ(after.created, 1);
  fake.failing.clear();
  change("F1", "fixed");
  RunReport fixed = engine_->run("remote", "centres", false, {}, "push").at(0);
  EXPECT_EQ(fixed.created, 1);
  EXPECT_TRUE(engine_->dead_letters("remote", false).empty()) << "resolved once the record went through";
  EXPECT_EQ(engine_->dead_letters("remote", true).size(), 1u) << "and kept";
}

// A source read whole on every run: a record read again as it was last applied is passed over; one whose content
// changed is applied; a change to the mapping would apply all again.
TEST_F(EngineTest, ARecordReadWholeAgainUnchangedIsPassedOverByItsDigest) {
  fake.whole = true;
  engine_ = std::make_unique<SyncEngine>(*md_, registry_, parse_sync_config(R"({"connections": {"remote": {"connector": "fake",
      "streams": {"centres": {"entity": "cost_centres", "remote_id": "ID", "page_size": 10, "fields": {"code": "ID", "name": "TITLE"}}}}}})"));
  RunReport first = pull();
  EXPECT_EQ(first.created, 25);
  RunReport second = pull();
  EXPECT_EQ(second.read, 25);
  EXPECT_EQ(second.unchanged, 25);
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_sync_digests WHERE connection = 'remote' AND stream = 'centres'"), 25);
  fake.records[7]["TITLE"] = "Centre eight, renamed";
  RunReport third = pull();
  EXPECT_EQ(third.updated, 1);
  EXPECT_EQ(third.unchanged, 24);
}

}  // namespace
}  // namespace annex::sync

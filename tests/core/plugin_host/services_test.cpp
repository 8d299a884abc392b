// The host services as a plugin sees them through the SDK, on both backends: a probe plugin linked into this
// test is started by a real PluginHost, and the test drives its annex::Host.
#include "audit/audit_log.h"
#include "blobs/blob_store.h"
#include "crypto/digest.h"
#include "auth/access.h"
#include "events/event_bus.h"
#include "masterdata/store.h"
#include "http/router.h"
#include "jobs/scheduler.h"
#include "plugin_host/plugin_host.h"
#include "plugin_host/services.h"
#include "store/core_schema.h"
#include "store/migrations.h"
#include "support/test_support.h"

#include <annex/sdk.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>

namespace {

const annex_migration kProbeMigrations[] = {
    {sizeof(annex_migration), 1, "items",
     "CREATE TABLE probe_items (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE, amount_minor BIGINT, note TEXT)",
     nullptr},
};

class ProbePlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.test.probe";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kManifest = R"({"uses":["annex.log@1","annex.config@1","annex.db@1","annex.http@1",
      "annex.events@1","annex.jobs@1","annex.masterdata@1","annex.blobs@1"],"config_schema":{"type":"object","properties":{"limit":{"type":"integer","default":7}}}})";
  static std::span<const annex_migration> migrations() noexcept { return kProbeMigrations; }
  static inline ProbePlugin* instance = nullptr;
  static inline std::atomic<int> deliveries{0};
  static inline std::atomic<int> job_runs{0};

  ProbePlugin(const annex_host_api* api, std::string config) : annex::Plugin(api, std::move(config)) { instance = this; }
  ~ProbePlugin() override { instance = nullptr; }
  void on_register() override {
    host().events().subscribe("probe.*", [](const annex::Event&) { ++deliveries; });
    host().jobs().schedule("count", 3600, [] { ++job_runs; }, 3600);
  }
};

}  // namespace

namespace annex::plugin_host {
namespace {

using test::Backend;

class ServicesTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = test::migrated_database(GetParam(), dir_);
    if (!db_) GTEST_SKIP() << "no PostgreSQL for this run";
    events_ = std::make_unique<events::EventBus>(*db_);
    scheduler_ = std::make_unique<jobs::Scheduler>(1);
    HostParts parts{db_.get(), &router_, events_.get(), scheduler_.get(), dir_.str(), "http://test"};
    ids_ = std::make_unique<auth::IdentityStore>(*db_);
    authorizer_ = std::make_unique<auth::Authorizer>(*ids_, auth::RoleCatalog::defaults(), 0);
    audit_ = std::make_unique<audit::AuditLog>(*db_, nullptr);
    md_ = std::make_unique<masterdata::MasterData>(*db_);
    md_->set_listener([this](soci::session&, const masterdata::Entity& e, const masterdata::Change& c) {
      changes_.push_back(e.name + ":" + c.outcome);
    });
    parts.authorizer = authorizer_.get();
    parts.audit = audit_.get();
    parts.masterdata = md_.get();
    blobs_ = std::make_unique<blobs::BlobStore>(*db_, dir_.str() + "/uploads", 1 << 20);
    parts.blobs = blobs_.get();
    host_ = std::make_unique<PluginHost>(parts);
    ProbePlugin::deliveries = 0;
    ProbePlugin::job_runs = 0;
    host_->add_descriptor(annex::detail::Export<ProbePlugin>::descriptor(), "linked");
    host_->resolve();
    host_->start_all();
    ASSERT_NE(ProbePlugin::instance, nullptr) << host_->plugins()[0].error;
    scheduler_->start();
  }
  void TearDown() override {
    if (scheduler_) scheduler_->stop();
    if (host_) host_->stop_all();
  }
  annex::Host& host() { return ProbePlugin::instance->host(); }
  int64_t items() {
    annex::Rows rows = host().db().query("SELECT COUNT(*) FROM probe_items");
    rows.next();
    return rows.row().integer(0);
  }

  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<events::EventBus> events_;
  std::unique_ptr<jobs::Scheduler> scheduler_;
  http::Router router_;
  std::unique_ptr<auth::IdentityStore> ids_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<masterdata::MasterData> md_;
  std::vector<std::string> changes_;
  std::unique_ptr<blobs::BlobStore> blobs_;
  std::unique_ptr<PluginHost> host_;
};

TEST_P(ServicesTest, QueriesBindTypedParametersAndReadRows) {
  annex::Db db = host().db();
  annex::Rows ins = db.query("INSERT INTO probe_items (id, name, amount_minor, note) VALUES (?, ?, ?, ?)",
                             {1, "Ada", 123456789012LL, nullptr});
  EXPECT_EQ(ins.affected(), 1);
  annex::Rows rows = db.query("SELECT id, name, amount_minor, note FROM probe_items WHERE name = ?", {"Ada"});
  ASSERT_TRUE(rows.next());
  annex::Row row = rows.row();
  EXPECT_EQ(row.integer(0), 1);
  EXPECT_EQ(row.text(1), "Ada");
  EXPECT_EQ(row.integer(2), 123456789012LL);
  EXPECT_TRUE(row.is_null(3));
  EXPECT_EQ(row.column_name(1), "name");
  EXPECT_FALSE(rows.next());
}

TEST_P(ServicesTest, ATransactionCommitsOrRollsBackAsAWhole) {
  annex::Db db = host().db();
  {
    annex::Transaction txn = db.begin();
    db.query(txn, "INSERT INTO probe_items (id, name) VALUES (?, ?)", {1, "kept"});
    txn.commit();
  }
  {
    annex::Transaction txn = db.begin();
    db.query(txn, "INSERT INTO probe_items (id, name) VALUES (?, ?)", {2, "dropped"});
    // destroyed without commit
  }
  EXPECT_EQ(items(), 1);
}

TEST_P(ServicesTest, AUniquenessViolationIsAConflictWithTheDatabasesMessage) {
  annex::Db db = host().db();
  db.query("INSERT INTO probe_items (id, name) VALUES (?, ?)", {1, "same"});
  try {
    db.query("INSERT INTO probe_items (id, name) VALUES (?, ?)", {2, "same"});
    FAIL() << "duplicate accepted";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_CONFLICT);
    EXPECT_FALSE(e.message().empty());
  }
  EXPECT_EQ(items(), 1);
}

TEST_P(ServicesTest, BadSqlIsAnInvalidArgument) {
  try {
    host().db().query("SELEKT nonsense");
    FAIL() << "bad SQL accepted";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_INVALID_ARGUMENT) << e.message();
  }
}

TEST_P(ServicesTest, MasterDataIsReachedThroughTheServiceWithinTheCallersTransactionAndReach) {
  ids_->ensure_sector("north", "North");
  ids_->ensure_sector("south", "South");
  auth::User rep = ids_->create_user("rep", "rep", "", "", 100000);
  ids_->assign_role(rep.id, "sales-rep", "north");
  annex::MasterData md = host().masterdata();
  std::string party = R"({"code": "C1", "name": "Ada Ltd", "tier": "A", "sector_id": "south", "owner_id": "u_other"})";
  {
    annex::Transaction txn = host().db().begin();
    md.upsert("parties", party, rep.id, &txn);
    // Not committed: the record and its queued push vanish together.
  }
  EXPECT_FALSE(md.find("parties", R"({"code": "C1"})"));
  std::string created = md.upsert("parties", party, rep.id);
  EXPECT_NE(created.find("\"outcome\":\"created\""), std::string::npos) << created;
  EXPECT_EQ(changes_, (std::vector<std::string>{"parties:created", "parties:created"}));
  std::optional<std::string> found = md.find("parties", R"({"code": "C1"})");
  ASSERT_TRUE(found);
  EXPECT_NE(found->find("Ada Ltd"), std::string::npos);
  EXPECT_FALSE(md.find("parties", R"({"code": "C1"})", rep.id)) << "another sector's party is out of the rep's reach";
  EXPECT_NE(md.upsert("parties", R"({"code": "C1", "tier": "B"})", rep.id).find("updated"), std::string::npos);
  EXPECT_NE(md.upsert("parties", R"({"code": "C1", "tier": "B"})", rep.id).find("unchanged"), std::string::npos);
  try {
    md.upsert("parties", R"({"code": "C2", "name": "x", "tier": "Z", "sector_id": "north", "owner_id": "u"})", rep.id);
    ADD_FAILURE() << "an unknown tier was accepted";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_UNPROCESSABLE);
    EXPECT_EQ(e.field(), "tier");
  }
  audit::Query q;
  q.object_type = "annex.party";
  EXPECT_EQ(audit_->query(q).size(), 2u) << "a create and an update, audited; the rolled-back one is not";
}

// The system-of-record guard (the sync engine's, in annexd) holds for a plugin's changes as for people's: a
// field another system owns is refused, named, and nothing is written; a new record and other fields go through.
TEST_P(ServicesTest, APluginsMasterDataChangeMeetsTheSystemOfRecordGuardAsPeoplesChangesDo) {
  ids_->ensure_sector("north", "North");
  std::vector<std::string> asked;
  md_->set_guard([&](soci::session&, const masterdata::Entity& e, const std::string& id, const nlohmann::json& before, const nlohmann::json& changes) {
    asked.push_back(e.name + ":" + id);
    if (changes.contains("tier") && changes["tier"] != before["tier"]) {
      throw masterdata::MasterDataError("tier", "tier is kept in erp, its system of record", 409);
    }
  });
  annex::MasterData md = host().masterdata();
  std::string created = md.upsert("parties", R"({"code": "C1", "name": "Ada Ltd", "tier": "A", "sector_id": "north", "owner_id": "u"})", "");
  EXPECT_NE(created.find("\"outcome\":\"created\""), std::string::npos) << created;
  EXPECT_TRUE(asked.empty()) << "a new record changes no field another system holds";
  try {
    md.upsert("parties", R"({"code": "C1", "tier": "B"})", "");
    ADD_FAILURE() << "a field another system owns was changed";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_CONFLICT) << e.message();
    EXPECT_EQ(e.field(), "tier");
  }
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_NE(md.find("parties", R"({"code": "C1"})")->find("\"tier\":\"A\""), std::string::npos) << "nothing was written";
  EXPECT_NE(md.upsert("parties", R"({"code": "C1", "name": "Ada Limited"})", "").find("updated"), std::string::npos);
}

TEST_P(ServicesTest, MoneyIsOnlyInCurrenciesMasterDataHoldsSeededWithIso4217AndTheirMinorUnits) {
  annex::MasterData md = host().masterdata();
  EXPECT_EQ(md.currency("JPY"), 0);
  EXPECT_EQ(md.currency("CNY"), 2);
  EXPECT_EQ(md.currency("KWD"), 3);
  EXPECT_EQ(md.currency("CLF"), 4);
  EXPECT_EQ(md.currency("QQQ"), std::nullopt);
  EXPECT_EQ(md.currency("cny"), std::nullopt);
  EXPECT_EQ(md.currency(""), std::nullopt);
  auto refused = [&](const std::string& entity, const std::string& record) -> std::string {
    try {
      md.upsert(entity, record, "");
    } catch (const annex::Error& e) {
      EXPECT_EQ(e.code(), ANNEX_ERR_UNPROCESSABLE) << e.what();
      return e.field();
    }
    return "(accepted)";
  };
  // The core's own money: a product's list price, an exchange rate's currencies.
  EXPECT_EQ(refused("products", R"({"code": "P1", "name": "Toner", "list_price": {"amount": 100, "currency": "QQQ"}})"), "list_price.currency");
  EXPECT_NE(md.upsert("products", R"({"code": "P1", "name": "Toner", "list_price": {"amount": 100, "currency": "JPY"}})", "").find("created"),
            std::string::npos);
  EXPECT_EQ(refused("products", R"({"code": "P1", "list_price": {"amount": 100, "currency": "QQQ"}})"), "list_price.currency");
  EXPECT_EQ(refused("exchange_rates", R"({"base": "QQQ", "quote": "CNY", "rate_date": "2027-01-01", "rate": "7.1"})"), "base");
  EXPECT_EQ(refused("currencies", R"({"code": "Q1Q", "name": "Odd", "minor_units": 2})"), "code");
  EXPECT_EQ(refused("currencies", R"({"code": "QQQ", "name": "Odd", "minor_units": 9})"), "minor_units");
  // A currency added to master data is one money may then be in.
  md.upsert("currencies", R"({"code": "QQQ", "name": "Test units", "minor_units": 1})", "");
  EXPECT_EQ(md.currency("QQQ"), 1);
  EXPECT_NE(md.upsert("products", R"({"code": "P2", "name": "Q", "list_price": {"amount": 1, "currency": "QQQ"}})", "").find("created"),
            std::string::npos);
}

TEST_P(ServicesTest, PluginsCannotTouchTheHostsTables) {
  for (const char* sql : {"DELETE FROM annex_audit", "UPDATE \"annex_users\" SET status = 'active'",
                          "SELECT * FROM probe_items JOIN ANNEX_TOKENS ON 1 = 1"}) {
    try {
      host().db().query(sql);
      ADD_FAILURE() << "accepted: " << sql;
    } catch (const annex::Error& e) {
      EXPECT_EQ(e.code(), ANNEX_ERR_PERMISSION_DENIED) << sql << ": " << e.message();
    }
  }
  // A value that merely mentions such a name is data, not a table.
  EXPECT_NO_THROW(host().db().query("SELECT COUNT(*) FROM probe_items WHERE name = 'annex_audit'"));
}

TEST_P(ServicesTest, AnEventInARolledBackTransactionIsNeverDelivered) {
  annex::Db db = host().db();
  {
    annex::Transaction txn = db.begin();
    host().events().publish("probe.created", R"({"id":1})", "k-1", &txn);
  }
  events_->drain();
  EXPECT_EQ(ProbePlugin::deliveries.load(), 0);
  {
    annex::Transaction txn = db.begin();
    host().events().publish("probe.created", R"({"id":2})", "k-2", &txn);
    txn.commit();
  }
  events_->drain();
  EXPECT_EQ(ProbePlugin::deliveries.load(), 1);
}

TEST_P(ServicesTest, ARepeatedIdempotencyKeyPublishesOnce) {
  host().events().publish("probe.updated", "{}", "same-key");
  host().events().publish("probe.updated", "{}", "same-key");
  host().events().publish("other.topic", "{}", "other-key");
  events_->drain();
  EXPECT_EQ(ProbePlugin::deliveries.load(), 1);
  events_->drain();
  EXPECT_EQ(ProbePlugin::deliveries.load(), 1) << "a delivered event is not delivered again";
}

TEST_P(ServicesTest, PublishRefusesAPayloadThatIsNotJson) {
  try {
    host().events().publish("probe.bad", "{oops", "k");
    FAIL() << "invalid JSON accepted";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("not valid JSON"), std::string::npos) << e.message();
  }
}

TEST_P(ServicesTest, AJobRunsWhenTriggered) {
  host().jobs().trigger("count");
  EXPECT_TRUE(test::eventually([] { return ProbePlugin::job_runs.load() == 1; }));
  EXPECT_THROW(host().jobs().trigger("no-such-job"), annex::Error);
}

TEST_P(ServicesTest, AJobBuiltBeforeCalendarSchedulesRunsByItsIntervalWhateverFollowsIt) {
  const annex_jobs_v1& jobs = host().require<annex_jobs_v1>(ANNEX_SERVICE_JOBS, 1);
  EXPECT_GE(jobs.minor, 1u) << "annex.jobs minor 1 reads calendar schedules";
  annex_job job{};
  job.struct_size = offsetof(annex_job, calendar_rule);  // as an ABI 1.3 plugin builds it
  job.name = annex::to_str("old-style");
  job.interval_seconds = 3600;
  job.run = [](void*, annex_buffer*) { return ANNEX_OK; };
  job.calendar_rule = 99;  // bytes past the old struct: never read
  std::string err;
  annex::StringSink sink(err);
  EXPECT_EQ(jobs.schedule(host().raw()->ctx_host_ptr, &job, sink.get()), ANNEX_OK) << err;
  EXPECT_EQ(scheduler_->jobs().size(), 2u);
  // The whole struct: a calendar day out of range is refused naming the field.
  job.struct_size = sizeof job;
  job.name = annex::to_str("new-style");
  job.calendar_rule = ANNEX_JOB_MONTHLY_WORKING_DAY;
  job.calendar_day = 40;
  EXPECT_EQ(jobs.schedule(host().raw()->ctx_host_ptr, &job, sink.get()), ANNEX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(err.rfind("field=calendar_day\n", 0), 0u) << err;
  EXPECT_THROW(host().jobs().schedule("late", annex::CalendarSchedule::monthly(1, 25), [] {}), annex::Error)
      << "25:00 is no time of day";
}

TEST_P(ServicesTest, ConfigurationArrivesWithDefaultsAndHostSettings) {
  EXPECT_EQ(ProbePlugin::instance->config_json(), R"({"limit":7})");
  EXPECT_EQ(host().setting("database.dialect"), GetParam() == Backend::kSqlite ? "sqlite" : "postgresql");
  EXPECT_EQ(host().setting("data_dir"), dir_.str());
  EXPECT_EQ(host().setting("no.such.key"), "");
}

TEST_P(ServicesTest, StoppingWithdrawsSubscriptionsAndJobs) {
  host().events().publish("probe.before", "{}", "before");
  events_->drain();
  ASSERT_EQ(ProbePlugin::deliveries.load(), 1);
  ASSERT_EQ(scheduler_->jobs().size(), 1u);
  host_->stop_all();
  EXPECT_TRUE(scheduler_->jobs().empty());
  events_->publish(nullptr, "org.annex.other", "probe.after", "{}", "after");
  events_->drain();
  EXPECT_EQ(ProbePlugin::deliveries.load(), 1) << "a stopped plugin must not receive events";
}

TEST_P(ServicesTest, BytesBoundAsABlobComeBackExactlyOnBothBackends) {
  const bool pg = GetParam() == Backend::kPostgresql;
  host().db().query(pg ? "CREATE TABLE probe_files (k TEXT PRIMARY KEY, data BYTEA NOT NULL)"
                       : "CREATE TABLE probe_files (k TEXT PRIMARY KEY, data BLOB NOT NULL)");
  std::string bytes;
  for (int v = 255; v >= 0; --v) bytes.push_back(static_cast<char>(v));
  bytes += std::string("\0\0'\\x00", 7);
  auto* db = static_cast<const annex_db_v1*>(host().service(ANNEX_SERVICE_DB, 1));
  annex_value params[2]{};
  params[0].type = ANNEX_VALUE_TEXT;
  params[0].s = annex::to_str("k1");
  params[1].type = ANNEX_VALUE_BLOB;
  params[1].s = annex::to_str(bytes);
  annex_rows* rows = nullptr;
  std::string err;
  annex::StringSink sink(err);
  ASSERT_EQ(db->query(host().raw()->ctx_host_ptr, nullptr, annex::to_str("INSERT INTO probe_files (k, data) VALUES (?, ?)"),
                      params, 2, &rows, nullptr, sink.get()),
            ANNEX_OK)
      << err;
  db->rows_free(rows);
  ASSERT_EQ(db->query(host().raw()->ctx_host_ptr, nullptr, annex::to_str("SELECT data FROM probe_files WHERE k = ?"),
                      params, 1, &rows, nullptr, sink.get()),
            ANNEX_OK)
      << err;
  ASSERT_EQ(db->rows_next(rows), 1);
  annex_value got = db->rows_get(rows, 0);
  EXPECT_EQ(got.type, ANNEX_VALUE_BLOB);
  EXPECT_TRUE(annex::to_view(got.s) == bytes) << "the bytes changed on the way through the database";
  db->rows_free(rows);
}

TEST_P(ServicesTest, UploadRoutesAreCheckedWhenRegisteredAndHeldToTheHostsCeiling) {
  annex::Http http = host().http();
  auto refusal = [&](std::string_view method, annex::Upload upload) {
    try {
      http.upload_route(method, "/api/v1/probe/files", "", "", upload, [](const annex::Request&, annex::Response&) {});
    } catch (const annex::Error& e) {
      return e.code();
    }
    return ANNEX_OK;
  };
  EXPECT_EQ(refusal("GET", {1000, {"application/pdf"}}), ANNEX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(refusal("POST", {1000, {"text/html"}}), ANNEX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(refusal("POST", {1000, {}}), ANNEX_ERR_INVALID_ARGUMENT);
  ASSERT_EQ(refusal("POST", {10 << 20, {"application/pdf", "Image/JPG"}}), ANNEX_OK);
  auto match = router_.match("POST", "/api/v1/probe/files", nullptr);
  ASSERT_TRUE(match.route);
  EXPECT_EQ(match.route->upload_max_bytes, 1 << 20) << "never above blobs.max_bytes";
  EXPECT_EQ(match.route->upload_types, (std::vector<std::string>{"application/pdf", "image/jpeg"}));

  // A plugin built against ABI 1.3 before the upload fields were appended registers an ordinary route, whatever
  // lies in memory past its struct.
  auto* api = static_cast<const annex_http_v1*>(host().service(ANNEX_SERVICE_HTTP, 1));
  annex_route older{};
  older.upload_max_bytes = 4096;
  older.upload_types = annex::to_str("application/pdf");
  older.struct_size = static_cast<uint32_t>(offsetof(annex_route, upload_max_bytes));
  older.method = annex::to_str("POST");
  older.path = annex::to_str("/api/v1/probe/older");
  older.handler = [](void*, const annex_http_request*, annex_http_response*, annex_buffer*) { return ANNEX_OK; };
  ASSERT_EQ(api->add_route(host().raw()->ctx_host_ptr, &older, nullptr), ANNEX_OK);
  EXPECT_EQ(router_.match("POST", "/api/v1/probe/older", nullptr).route->upload_max_bytes, 0);
}

TEST_P(ServicesTest, BlobsArePutInTheCallersTransactionAndStatedAndReadBack) {
  annex::Blobs blobs = host().blobs();
  const std::string png("\x89PNG\r\n\x1A\n\0\0\0\rIHDR-made-by-the-plugin", 29);
  annex::Db db = host().db();
  {
    annex::Transaction txn = db.begin();
    blobs.put(png, "image/png", &txn);
    // rolled back
  }
  const std::string hash = crypto::sha256_hex(png);
  EXPECT_FALSE(blobs.stat(hash)) << "put in a transaction rolled back with it";
  std::string put;
  {
    annex::Transaction txn = db.begin();
    put = blobs.put(png, "", &txn);
    txn.commit();
  }
  EXPECT_NE(put.find("\"created\":true"), std::string::npos) << put;
  EXPECT_NE(put.find(hash), std::string::npos) << put;
  EXPECT_NE(blobs.put(png).find("\"created\":false"), std::string::npos);
  EXPECT_NE(blobs.stat(hash).value_or("").find("\"size\":29"), std::string::npos);
  EXPECT_NE(put.find("\"media_type\":\"image/png\""), std::string::npos) << put;
  EXPECT_EQ(blobs.read(hash, 8, 100), png.substr(8));
  EXPECT_FALSE(blobs.stat(std::string(64, 'f')));
  EXPECT_FALSE(blobs.stat("../../etc/passwd"));
  try {
    blobs.read(std::string(64, 'f'), 0, 10);
    ADD_FAILURE() << "read a blob that is not stored";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_NOT_FOUND);
  }
  try {
    blobs.put(png, "application/pdf");
    ADD_FAILURE() << "stored PNG bytes as a PDF";
  } catch (const annex::Error& e) {
    EXPECT_EQ(e.code(), ANNEX_ERR_UNPROCESSABLE);
    EXPECT_EQ(e.field(), "media_type");
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ServicesTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         test::backend_param_name);


TEST(AuditService, HandsOutEvidencePacksAsItsMinorOne) {
  const annex_audit_v1& audit = audit_v1();
  EXPECT_EQ(audit.minor, 1u);
  EXPECT_TRUE(ANNEX_HAS_FIELD(&audit, annex_audit_v1, append)) << "what ABI 1.1 plugins read is where it was";
  EXPECT_TRUE(ANNEX_HAS_FIELD(&audit, annex_audit_v1, evidence_pack));
  EXPECT_NE(audit.evidence_pack, nullptr);
}

}  // namespace
}  // namespace annex::plugin_host

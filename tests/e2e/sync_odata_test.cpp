// The OData connector against a real OData V4/V2 server (SAP CAP shaped like S/4HANA's master-data APIs,
// started by the odata fixture): delta pulls across server-driven pages, customers made in Annex created through
// $batch with their company-code data, If-Match updates and the re-read on 412 decided by each field's system
// of record, refusals dead-lettered naming the property, 401 and 403 reported without retry storms, V2 by a
// setting, OAuth2 bearer tokens, and the peer or annexd stopping in the middle of a push.
#include "e2e/peer_clients.h"
#include "support/test_support.h"

#include "store/sql.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <Poco/Base64Encoder.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace annex::test {
namespace {

using nlohmann::json;

// The partner stream as the tests configure it: the ERP owns names and search terms, Annex owns the tier.
const char* kPartnerSettings = R"("partners": {"service": "api-business-partner", "entity_set": "A_BusinessPartner",
    "key": ["BusinessPartner"], "fields": ["BusinessPartnerFullName", "BusinessPartnerGrouping", "SearchTerm1"],
    "expand": "to_CustomerCompany",
    "create_defaults": {"BusinessPartnerCategory": "2",
                        "to_CustomerCompany": [{"CompanyCode": "1010", "ReconciliationAccount": "12100000", "PaymentTerms": "0001"}]}})";
const char* kPartnerStream = R"("partners": {"entity": "parties", "direction": "both", "remote_id": "_id", "version_field": "_etag",
    "sector_id": "hq", "owner_login": "admin",
    "fields": {"code": "BusinessPartner", "name": "BusinessPartnerFullName", "region": "SearchTerm1",
               "tier": {"from": "BusinessPartnerGrouping", "values": {"BP01": "A", "BP02": "B", "BP03": "C"}}},
    "system_of_record": {"default": "remote", "tier": "annex"}})";

class SyncOData : public testing::Test {
 protected:
  void SetUp() override {
    std::string url;
    if (!odata_state().empty()) std::ifstream(odata_state() / "url") >> url;
    if (url.empty()) {
      if (const char* ci = std::getenv("CI"); ci != nullptr && std::string(ci) == "true") FAIL() << "CI runs the OData tests: no OData URL";
      GTEST_SKIP() << "no OData server for this run";
    }
    service_ = std::make_unique<Service>(url);
    prefix_ = "Q" + std::to_string(10000 + std::random_device{}() % 90000);
  }

  // Writes annex.json with connection "s4" and (re)starts annexd on it.
  void start(const std::string& settings_streams = kPartnerSettings, const std::string& streams = kPartnerStream,
             const std::string& extra_settings = R"("user": "sync", "password": "{password}")", const std::string& password = "sync-secret",
             const std::string& root = "") {
    std::ofstream(dir_.path() / "annex.json") << R"({"sync": {"connections": {"s4": {"connector": "odata",
      "settings": {"url": ")" + (root.empty() ? service_->root() : root) + R"(", )" + extra_settings + R"(, "batch_size": )" +
        std::to_string(batch_size_) + R"(, "atomic": )" + (atomic_ ? "true" : "false") + R"(, "timeout_s": 10,
        "streams": {)" + settings_streams + R"(}},
      "secrets": {")" + secret_key_ + R"(": "env:ANNEX_TEST_ODATA_SECRET"},
      "retry": {"attempts": 3, "base_ms": 10, "max_ms": 50}, "breaker": {"failures": 100, "open_s": 1},
      "streams": {)" + streams + R"(}}}}})";
    Annexd::Options o;
    o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}, {"ANNEX_TEST_ODATA_SECRET", password}};
    o.data_dir = data_dir_;
    o.bootstrap_admin = !restarting_;
    d_.reset();
    d_ = std::make_unique<Annexd>(o);
  }

  std::string sync(int expect_exit = 0) {
    std::string out;
    EXPECT_EQ(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "run", "s4"}, &out), expect_exit) << out;
    return out;
  }

  std::string dead_letters() {
    std::string out;
    d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "dead-letters", "list"}, &out);
    return out;
  }

  json annex_party(const std::string& code) {
    std::string id;
    {
      auto db = d_->open_store();
      store::Lease lease(*db);
      store::Param p = store::Param::text(code);
      auto rs = store::run(lease.session(), "SELECT id FROM annex_md_parties WHERE code = ?", std::span<const store::Param>(&p, 1));
      if (rs.rows.empty()) return nullptr;
      id = rs.rows[0][0].s;
    }
    return json::parse(d_->call("GET", "/api/v1/masterdata/parties/" + id).body, nullptr, false);
  }

  std::string create_party(const json& party) {
    HttpResult r = d_->call("POST", "/api/v1/masterdata/parties", party.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body, nullptr, false).value("id", std::string{});
  }

  std::string bound_version(const std::string& record_id) {
    auto db = d_->open_store();
    store::Lease lease(*db);
    auto rs = store::run(lease.session(), "SELECT remote_version FROM annex_md_bindings WHERE connection = 's4' AND record_id = '" + record_id + "'", {});
    return rs.rows.empty() ? "" : rs.rows[0][0].s;
  }

  TempDir dir_;
  std::string data_dir_;
  bool restarting_ = false;
  std::string secret_key_ = "password";  // the setting the secret fills in
  int batch_size_ = 50;
  bool atomic_ = false;
  std::string prefix_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<Annexd> d_;
};

// 230 partners, created in groups that share one timestamp, arrive through several server-driven pages; a second
// pull with nothing changed reads nothing (the rows at the watermark are read again with `ge` and dropped), and
// a change in the ERP comes with the next pull.
TEST_F(SyncOData, PartnersArePulledByDeltaAcrossServerPagesNeitherSkippedNorDoubled) {
  service_->create_partners(prefix_, 230, 77);
  // The next run's watermark is the newest change seen unless that is later than the run's start (to the second
  // of the service's Date header): then rows would be read again. Here they are a second older.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  start();
  std::string out = sync();
  const std::string mine = "SELECT COUNT(*) FROM annex_md_parties WHERE code LIKE '" + prefix_ + "%'";
  EXPECT_EQ(count_in(*d_, mine), 230) << out;
  EXPECT_EQ(annex_party(prefix_ + "7")["name"], "Partner 7");
  EXPECT_EQ(annex_party(prefix_ + "7")["tier"], "B");
  out = sync();
  EXPECT_NE(out.find("s4/partners pull: 0 read"), std::string::npos) << out;

  service_->change_partner(prefix_ + "3", {{"BusinessPartnerFullName", "Partner 3 (renamed in the ERP)"}});
  service_->change_partner(prefix_ + "200", {{"SearchTerm1", "NORTH"}});
  out = sync();
  EXPECT_NE(out.find("s4/partners pull: 2 read, 0 created, 2 updated"), std::string::npos) << out;
  EXPECT_EQ(annex_party(prefix_ + "3")["name"], "Partner 3 (renamed in the ERP)");
  EXPECT_EQ(annex_party(prefix_ + "200")["region"], "NORTH");
  EXPECT_EQ(count_in(*d_, mine), 230);
}

// A sales rep's new customer in Annex is created in the ERP through $batch, with its company-code data (a deep
// create from the stream's defaults), and bound with its ETag; a tier changed in Annex follows with If-Match.
TEST_F(SyncOData, ACustomerMadeInAnnexIsCreatedWithItsCompanyDataAndUpdatedWithItsETag) {
  start();
  std::string id = create_party({{"code", prefix_ + "n1"}, {"name", "Nordwind Handels GmbH"}, {"tier", "A"}});
  ASSERT_TRUE(eventually([&] { return service_->partner(prefix_ + "n1").is_object(); }, std::chrono::seconds(30))) << d_->log();
  json p = service_->partner(prefix_ + "n1");
  EXPECT_EQ(p["BusinessPartnerFullName"], "Nordwind Handels GmbH");
  EXPECT_EQ(p["BusinessPartnerCategory"], "2");
  EXPECT_EQ(p["BusinessPartnerGrouping"], "BP01");
  ASSERT_EQ(p["to_CustomerCompany"].size(), 1u);
  EXPECT_EQ(p["to_CustomerCompany"][0]["CompanyCode"], "1010");
  EXPECT_TRUE(eventually([&] { return bound_version(id) == p["@odata.etag"].get<std::string>(); }, std::chrono::seconds(10)));

  ASSERT_EQ(d_->call("PATCH", "/api/v1/masterdata/parties/" + id, json({{"tier", "C"}}).dump(), {{"If-Match", "*"}}).status, 200);
  EXPECT_TRUE(eventually([&] { return service_->partner(prefix_ + "n1").value("BusinessPartnerGrouping", "") == "BP03"; },
                         std::chrono::seconds(30))) << d_->log();
  EXPECT_EQ(service_->count("api-business-partner/A_BusinessPartner", prefix_), 1);
}

// Annex and the ERP change the same customer at once. Annex's update meets a stale ETag (412): the connector reads
// the customer again and sends its update with the new ETag. Each field ends with its system of record's value:
// the tier is Annex's, the name the ERP's — on both sides, once the next pull has run.
TEST_F(SyncOData, AConcurrentChangeIsReReadAndDecidedByEachFieldsSystemOfRecord) {
  start();
  std::string id = create_party({{"code", prefix_ + "c1"}, {"name", "Original Name"}, {"tier", "B"}});
  ASSERT_TRUE(eventually([&] { return !bound_version(id).empty(); }, std::chrono::seconds(30))) << d_->log();
  std::string first_version = bound_version(id);
  // The ERP renames it and sets a grouping of its own, after Annex last saw it.
  service_->change_partner(prefix_ + "c1", {{"BusinessPartnerFullName", "Renamed in the ERP"}, {"BusinessPartnerGrouping", "BP03"}});
  ASSERT_EQ(d_->call("PATCH", "/api/v1/masterdata/parties/" + id, json({{"tier", "A"}}).dump(), {{"If-Match", "*"}}).status, 200);
  EXPECT_TRUE(eventually([&] { return service_->partner(prefix_ + "c1").value("BusinessPartnerGrouping", "") == "BP01"; },
                         std::chrono::seconds(30))) << d_->log();
  json p = service_->partner(prefix_ + "c1");
  EXPECT_EQ(p["BusinessPartnerFullName"], "Renamed in the ERP") << "the ERP's field stays the ERP's";
  EXPECT_TRUE(eventually([&] { return bound_version(id) == p["@odata.etag"].get<std::string>(); }, std::chrono::seconds(10)));
  EXPECT_NE(bound_version(id), first_version);
  EXPECT_EQ(dead_letters().find(prefix_ + "c1"), std::string::npos);

  sync();
  json mine = annex_party(prefix_ + "c1");
  EXPECT_EQ(mine["name"], "Renamed in the ERP");
  EXPECT_EQ(mine["tier"], "A");
}

// One customer the service refuses (a name longer than its 81 characters) in a chunk sent as one atomicity group:
// the group is rolled back by the service, the connector sends the others again, and the refused one is
// dead-lettered with the service's message naming the property.
TEST_F(SyncOData, ARefusedRecordIsDeadLetteredNamingThePropertyWhileTheRestOfItsGroupGoThrough) {
  atomic_ = true;
  start();
  create_party({{"code", prefix_ + "ok1"}, {"name", "Fine One"}});
  create_party({{"code", prefix_ + "bad"}, {"name", std::string(120, 'x')}});
  create_party({{"code", prefix_ + "ok2"}, {"name", "Fine Two"}});
  EXPECT_TRUE(eventually([&] { return service_->count("api-business-partner/A_BusinessPartner", prefix_) == 2; }, std::chrono::seconds(30)))
      << d_->log();
  std::string letters;
  EXPECT_TRUE(eventually([&] {
    letters = dead_letters();
    return letters.find("BusinessPartnerFullName") != std::string::npos;
  }, std::chrono::seconds(30))) << letters;
  EXPECT_NE(letters.find("is not a valid String(81)"), std::string::npos) << letters;
  EXPECT_TRUE(service_->partner(prefix_ + "ok1").is_object());
  EXPECT_TRUE(service_->partner(prefix_ + "ok2").is_object());
  EXPECT_FALSE(service_->partner(prefix_ + "bad").is_object());
}

TEST_F(SyncOData, WrongCredentialsAreReportedAtOnceWithoutRetries) {
  start(kPartnerSettings, kPartnerStream, R"("user": "sync", "password": "{password}")", "not-the-password");
  std::string out;
  auto began = std::chrono::steady_clock::now();
  EXPECT_NE(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "check", "s4"}, &out), 0);
  EXPECT_NE(out.find("refused the credentials of sync (HTTP 401)"), std::string::npos) << out;
  out = sync(1);
  EXPECT_NE(out.find("credentials refused"), std::string::npos) << out;
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(20)) << "no storm of retries";
}

// A user who may read but not write: the pull works, the push stops at the first 403 with the reason, and the
// customer waits in the outbox (not dead-lettered: it goes once the rights are granted) — no retry storm.
TEST_F(SyncOData, MissingRightsAreReportedAtOnceAndNothingIsLost) {
  start(kPartnerSettings, kPartnerStream, R"("user": "auditor", "password": "{password}")", "auditor-secret");
  create_party({{"code", prefix_ + "r1"}, {"name", "Waits For Rights"}});
  std::string runs;
  EXPECT_TRUE(eventually([&] {
    runs = d_->call("GET", "/api/v1/sync/runs?connection=s4").body;
    return runs.find("may not do this") != std::string::npos;
  }, std::chrono::seconds(30))) << runs;
  EXPECT_NE(runs.find("HTTP 403"), std::string::npos) << runs;
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'pending'"), 1);
  EXPECT_LE(count_in(*d_, "SELECT MAX(attempts) FROM annex_sync_outbox"), 3) << "backed off, not hammered";
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_sync_dead_letters"), 0);
  EXPECT_FALSE(service_->partner(prefix_ + "r1").is_object());
  std::string out = sync(1);  // the pull itself is allowed
  EXPECT_NE(out.find("s4/partners pull:"), std::string::npos) << out;
  EXPECT_EQ(out.find("partners pull: 0 read"), std::string::npos) << out;

  // A user with no role at all cannot even read.
  start(kPartnerSettings, kPartnerStream, R"("user": "outsider", "password": "{password}")", "outsider-secret");
  out = sync(1);
  EXPECT_NE(out.find("permission refused: outsider may not do this"), std::string::npos) << out;
}

// Products, cost centres (a composite key; only those of company code 1010, by the stream's filter) and GL
// accounts come from their own services.
TEST_F(SyncOData, ProductsCostCentresAndGLAccountsArePulledFromTheirServices) {
  HttpResult us = service_->call("POST", "api-costcenter/A_CostCenter", {{"ControllingArea", "A000"}, {"CostCenter", prefix_},
                                                                       {"CompanyCode", "1710"}, {"CostCenterName", "US Sales"}});
  ASSERT_EQ(us.status, 201) << us.body;
  start(R"("products": {"service": "api-product", "entity_set": "A_Product", "key": ["Product"]},
          "centres": {"service": "api-costcenter", "entity_set": "A_CostCenter", "key": ["ControllingArea", "CostCenter"],
                      "filter": "CompanyCode eq '1010'"},
          "accounts": {"service": "api-glaccount", "entity_set": "A_GLAccountInChartOfAccounts", "key": ["ChartOfAccounts", "GLAccount"]})",
        R"("products": {"entity": "products", "direction": "pull", "remote_id": "_id", "version_field": "_etag",
             "fields": {"code": "Product", "name": "ProductDescription", "unit": "BaseUnit", "product_group": "ProductGroup"}},
           "centres": {"entity": "cost_centres", "direction": "pull", "remote_id": "_id", "version_field": "_etag",
             "fields": {"code": "CostCenter", "name": "CostCenterName"}},
           "accounts": {"entity": "gl_accounts", "direction": "pull", "remote_id": "_id", "version_field": "_etag",
             "fields": {"chart": "ChartOfAccounts", "code": "GLAccount", "name": "GLAccountName",
                        "type": {"from": "GLAccountType", "values": {"X": "asset", "C": "asset", "P": "expense", "S": "expense", "N": "expense"}}}})");
  std::string out = sync();
  json products = json::parse(d_->call("GET", "/api/v1/masterdata/products?limit=500").body)["items"];
  bool tg11 = false;
  for (const auto& p : products) tg11 = tg11 || (p["code"] == "TG11" && p["name"] == "Trading Good 11" && p["unit"] == "PC");
  EXPECT_TRUE(tg11) << out << products.dump();
  json centres = json::parse(d_->call("GET", "/api/v1/masterdata/cost_centres?limit=500").body)["items"];
  bool sales = false;
  for (const auto& c : centres) sales = sales || (c["code"] == "10101201" && c["name"] == "Sales");
  EXPECT_TRUE(sales) << out << centres.dump();
  for (const auto& c : centres) EXPECT_NE(c["code"], prefix_) << "company code 1710 is filtered out";
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_md_bindings WHERE remote_id = 'ControllingArea=''A000'',CostCenter=''10101201'''"), 1);
  json accounts = json::parse(d_->call("GET", "/api/v1/masterdata/gl_accounts?limit=500").body)["items"];
  bool entertainment = false;
  for (const auto& a : accounts) {
    entertainment = entertainment || (a["chart"] == "YCOA" && a["code"] == "61008000" && a["name"] == "Entertainment" && a["type"] == "expense");
  }
  EXPECT_TRUE(entertainment) << out << accounts.dump();
}

// The same connector on the V2 services ("version": "v2"): the d/results shape and /Date()/ values on the way
// in, composite keys, and MERGE with If-Match on the way out.
TEST_F(SyncOData, VersionTwoIsASwitchOfTheSameConnector) {
  std::string v2 = service_->root();
  v2.replace(v2.rfind("/v4/"), 4, "/v2/");
  const std::string code = prefix_.substr(1);
  start(R"("centres": {"service": "api-costcenter", "entity_set": "A_CostCenter", "key": ["ControllingArea", "CostCenter"],
                       "fields": ["CostCenterName", "ValidityStartDate"],
                       "create_defaults": {"ControllingArea": "A000", "CompanyCode": "1010"}})",
        R"("centres": {"entity": "cost_centres", "direction": "both", "remote_id": "_id", "version_field": "_etag",
             "fields": {"code": "CostCenter", "name": "CostCenterName"}, "system_of_record": {"default": "annex"}})",
        R"("version": "v2", "user": "sync", "password": "{password}")", "sync-secret", v2);
  std::string out = sync();
  json centres = json::parse(d_->call("GET", "/api/v1/masterdata/cost_centres?limit=500").body)["items"];
  std::string financials;
  for (const auto& c : centres) {
    if (c["code"] == "10101101") financials = c["id"];
  }
  ASSERT_FALSE(financials.empty()) << out << centres.dump();
  EXPECT_EQ(bound_version(financials).rfind("W/\"20", 0), 0u) << bound_version(financials);

  // Renamed in Annex, the system of record here: sent with MERGE and the ETag.
  ASSERT_EQ(d_->call("PATCH", "/api/v1/masterdata/cost_centres/" + financials, json({{"name", "Finance " + code}}).dump(), {{"If-Match", "*"}}).status, 200);
  EXPECT_TRUE(eventually([&] {
    json c = service_->get("api-costcenter/A_CostCenter(ControllingArea='A000',CostCenter='10101101')");
    return c.is_object() && c.value("CostCenterName", "") == "Finance " + code;
  }, std::chrono::seconds(30))) << d_->log();
  // Made in Annex: created through V2 with the controlling area and company code it needs.
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/cost_centres", json({{"code", code}, {"name", "New Centre"}}).dump()).status, 201);
  EXPECT_TRUE(eventually([&] {
    json c = service_->get("api-costcenter/A_CostCenter(ControllingArea='A000',CostCenter='" + code + "')");
    return c.is_object() && c.value("CostCenterName", "") == "New Centre";
  }, std::chrono::seconds(30))) << d_->log();
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_sync_dead_letters"), 0) << dead_letters();
  // V2 writes went as a multipart $batch, as the server's log of the V2 adapter shows.
  std::ifstream log(odata_state() / "peer" / ".run" / "peer.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("POST /odata/v2/api-costcenter/$batch"), std::string::npos);
}

// Client credentials against a token endpoint: the bearer token is fetched, renewed when it expires, and a wrong
// client secret is reported as such.
TEST_F(SyncOData, OAuth2ClientCredentialsAreFetchedAndRenewed) {
  std::filesystem::path port_file = dir_.path() / "oauth.port", log_file = dir_.path() / "oauth.log";
  std::string script = (std::filesystem::path(__FILE__).parent_path().parent_path() / "support" / "oauth_proxy.py").string();
  std::string base = service_->root().substr(0, service_->root().find('/', service_->root().find("//") + 2));
  std::string cmd = "python3 '" + script + "' annex-client client-secret 2 '" + base + "' sync sync-secret > '" + port_file.string() + "' 2> '" +
                    log_file.string() + "' & echo $! > '" + (dir_.path() / "oauth.pid").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::string port;
  ASSERT_TRUE(eventually([&] {
    std::ifstream in(port_file);
    return static_cast<bool>(in >> port);
  }, std::chrono::seconds(10)));
  int pid = 0;
  std::ifstream(dir_.path() / "oauth.pid") >> pid;
  std::string proxy = "http://127.0.0.1:" + port;
  std::string root = proxy + service_->root().substr(base.size());
  auto oauth = [&](const std::string& secret) {
    return R"("auth": "oauth2", "token_url": ")" + proxy + R"(/oauth/token", "client_id": "annex-client", "client_secret": ")" + secret +
           R"(", "scope": "masterdata")";
  };
  secret_key_ = "client_secret";
  start(kPartnerSettings, kPartnerStream, oauth("from the secrets"), "client-secret", root);
  create_party({{"code", prefix_ + "o1"}, {"name", "Via Bearer One"}});
  ASSERT_TRUE(eventually([&] { return service_->partner(prefix_ + "o1").is_object(); }, std::chrono::seconds(30))) << d_->log();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the token (2 s) has expired
  create_party({{"code", prefix_ + "o2"}, {"name", "Via Bearer Two"}});
  EXPECT_TRUE(eventually([&] { return service_->partner(prefix_ + "o2").is_object(); }, std::chrono::seconds(30))) << d_->log();
  std::string log;
  std::ifstream in(log_file);
  log.assign(std::istreambuf_iterator<char>(in), {});
  size_t issued = 0;
  for (size_t at = log.find("token issued"); at != std::string::npos; at = log.find("token issued", at + 1)) ++issued;
  EXPECT_GE(issued, 2u) << "the expired token was renewed: " << log;

  start(kPartnerSettings, kPartnerStream, oauth("from the secrets"), "wrong-secret", root);
  std::string out;
  EXPECT_NE(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "check", "s4"}, &out), 0);
  EXPECT_NE(out.find("token endpoint refused client annex-client"), std::string::npos) << out;
  if (pid > 0) ::kill(pid, SIGTERM);
}

// The peer stops in the middle of a push and starts again (same data): the run fails cleanly, the outbox keeps
// the rest, and the service ends with every customer exactly once — a chunk whose answer was lost is adopted,
// not created twice or dead-lettered.
TEST_F(SyncOData, ThePeerStoppingMidPushLosesAndDoublesNothing) {
  TempDir data;
  data_dir_ = data.str();
  batch_size_ = 10;
  start();
  const int total = 600;
  for (int i = 0; i < total; ++i) create_party({{"code", prefix_ + "s" + std::to_string(i)}, {"name", "Stop " + std::to_string(i)}});
  ASSERT_TRUE(eventually([&] { return service_->count("api-business-partner/A_BusinessPartner", prefix_ + "s") >= 20; },
                         std::chrono::seconds(60)));
  std::string down = "'" + (odata_state() / "peer" / "down.sh").string() + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(down.c_str()), 0);
  std::this_thread::sleep_for(std::chrono::seconds(4));  // a push or two fail meanwhile
  std::string up = "'" + (std::filesystem::path(__FILE__).parent_path().parent_path() / "support" / "odata_up.sh").string() + "' '" +
                   odata_state().string() + "' --restart";
  ASSERT_EQ(std::system(up.c_str()), 0);
  EXPECT_TRUE(eventually([&] { return service_->count("api-business-partner/A_BusinessPartner", prefix_ + "s") == total; },
                         std::chrono::seconds(120))) << d_->log();
  EXPECT_TRUE(eventually([&] { return count_in(*d_, "SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'pending'") == 0; },
                         std::chrono::seconds(60)));
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_sync_dead_letters"), 0) << dead_letters();
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_md_bindings WHERE connection = 's4'"), total);
  std::string runs = d_->call("GET", "/api/v1/sync/runs?connection=s4").body;
  EXPECT_NE(runs.find("\"status\":\"failed\""), std::string::npos) << "the stop was to interrupt a run";
}

// annexd killed with SIGKILL in the middle of a push and started again: the service ends with exactly the
// customers made in Annex, each bound, none refused as a duplicate.
TEST_F(SyncOData, AnnexdKilledMidPushLeavesTheServiceWithExactlyTheExpectedRecords) {
  TempDir data;
  data_dir_ = data.str();
  batch_size_ = 5;
  start();
  const int total = 300;
  for (int i = 0; i < total; ++i) create_party({{"code", prefix_ + "k" + std::to_string(i)}, {"name", "Killed " + std::to_string(i)}});
  ASSERT_TRUE(eventually([&] { return service_->count("api-business-partner/A_BusinessPartner", prefix_ + "k") >= 10; },
                         std::chrono::seconds(60)));
  d_->kill_hard();
  EXPECT_LT(service_->count("api-business-partner/A_BusinessPartner", prefix_ + "k"), total) << "the push was to be interrupted";
  restarting_ = true;
  start();
  EXPECT_TRUE(eventually([&] { return service_->count("api-business-partner/A_BusinessPartner", prefix_ + "k") == total; },
                         std::chrono::seconds(120)));
  EXPECT_TRUE(eventually([&] { return count_in(*d_, "SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'pending'") == 0; },
                         std::chrono::seconds(60)));
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_sync_dead_letters"), 0) << dead_letters();
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_md_bindings WHERE connection = 's4'"), total);
}

}  // namespace
}  // namespace annex::test

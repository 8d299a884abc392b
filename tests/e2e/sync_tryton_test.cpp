// The Tryton connector against a real Tryton 6.0 (started by the tryton fixture): parties pulled incrementally
// (Tryton owns their fields here), parties made in Annex pushed as creates and bound to their Tryton ids, a record Tryton refuses dead-lettered with Tryton's
// own message while the rest go through, and wrong credentials reported at once, without a storm of retries.
#include "e2e/peer_clients.h"
#include "support/test_support.h"

#include "store/sql.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <filesystem>

#include <Poco/Base64Encoder.h>

#include <fstream>
#include <csignal>
#include <thread>
#include <set>
#include <random>
#include <sstream>

namespace annex::test {
namespace {

using nlohmann::json;

class SyncTryton : public testing::Test {
 protected:
  void SetUp() override {
    url_ = tryton_url();
    if (url_.empty()) {
      if (const char* ci = std::getenv("CI"); ci != nullptr && std::string(ci) == "true") FAIL() << "CI runs the Tryton tests: no Tryton URL";
      GTEST_SKIP() << "no Tryton for this run";
    }
    tryton_ = std::make_unique<Tryton>(url_);
    prefix_ = "T" + std::to_string(std::random_device{}() % 100000) + "-";
  }

  // Starts annexd with a connection "erp" to Tryton: the parties stream, and the streams given.
  void start(const std::string& password = "admin", int page_size = 3, const std::string& more_settings = "",
             const std::string& more_streams = "", const std::string& login = "admin") {
    std::ofstream(dir_.path() / "annex.json") << R"({"sync": {"connections": {"erp": {"connector": "tryton",
      "settings": {"url": ")" + url_ + R"(", "login": ")" + login + R"(", "password": "{password}", "overlap_s": 2,
        "streams": {"parties": {"model": "party.party", "fields": ["code", "name"], "key_field": "code"})" + more_settings + R"(}},
      "secrets": {"password": "env:ANNEX_TEST_TRYTON_PASSWORD"},
      "retry": {"attempts": 3, "base_ms": 10, "max_ms": 50}, "breaker": {"failures": 100, "open_s": 1},
      "streams": {"parties": {"entity": "parties", "direction": "both", "remote_id": "id", "version_field": "changed_at",
        "page_size": )" + std::to_string(page_size) + R"(, "sector_id": "hq", "owner_login": "admin",
        "fields": {"code": "code", "name": "name"}, "system_of_record": {"default": "remote"}})" + more_streams + R"(}}}}})";
    Annexd::Options o;
    o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}, {"ANNEX_TEST_TRYTON_PASSWORD", password}};
    o.data_dir = data_dir_;
    d_ = std::make_unique<Annexd>(o);
  }

  json search_ids(const std::string& model, const json& domain) {
    return tryton_->call("model." + model + ".search", json::array({domain, 0, nullptr, nullptr}));
  }

  // The finance department's set-up: the fiscal year 2026 (fiscal_year_2026), the accounts given
  // ({code, Tryton account type}) with this test's prefix, and a cost centre <prefix>CC10 under a root of its own.
  void finance_set_up(const std::vector<std::pair<std::string, std::string>>& accounts) {
    fiscal_year_2026();
    auto type_of = [&](const std::string& name) {
      json rows = tryton_->call("model.account.account.search_read",
                                json::array({json::array({json::array({"name", "=", name})}), 0, 1, nullptr, json::array({"type"})}));
      return rows[0]["type"];
    };
    json root = search_ids("account.account", json::array({json::array({"parent", "=", nullptr})}));
    json accounts_to_make = json::array();
    for (const auto& [code, type] : accounts) {
      accounts_to_make.push_back({{"code", prefix_ + code}, {"name", code + " " + prefix_}, {"parent", root[0]}, {"type", type_of(type)}});
    }
    tryton_->call("model.account.account.create", json::array({accounts_to_make}));
    json centres = tryton_->call("model.analytic_account.account.create",
                                 json::array({json::array({{{"name", "Centres " + prefix_}, {"code", prefix_ + "CC"}, {"type", "root"}}})}));
    tryton_->call("model.analytic_account.account.create", json::array({json::array({
        {{"name", "Sales " + prefix_}, {"code", prefix_ + "CC10"}, {"type", "normal"}, {"root", centres[0]}, {"parent", centres[0]}}})}));
  }

  std::string sync(int expect_exit = 0, const std::string& direction = "") {
    std::string out;
    std::vector<std::string> args = {"--plugin-dir", build_path("lib/annex/plugins"), "sync", "run", "erp"};
    EXPECT_EQ(d_->annexctl(args, &out), expect_exit) << out;
    (void)direction;
    return out;
  }

  json annex_party(const std::string& code) {
    json items = json::parse(d_->call("GET", "/api/v1/masterdata/parties?limit=500").body)["items"];
    for (const auto& p : items) {
      if (p["code"] == code) return p;
    }
    return nullptr;
  }

  json tryton_party(const std::string& code) {
    json rows = tryton_->call("model.party.party.search_read", json::array({json::array({json::array({"code", "=", code})}), 0, 10, nullptr,
                                                                           json::array({"id", "code", "name"})}));
    return rows.empty() ? json(nullptr) : rows[0];
  }

  // Tryton's fiscal year 2026 with its periods and its move and invoice sequences, once per Tryton.
  void fiscal_year_2026() {
    auto search = [&](const std::string& model, const json& domain) {
      return tryton_->call("model." + model + ".search", json::array({domain, 0, nullptr, nullptr}));
    };
    if (!search("account.fiscalyear", json::array({json::array({"name", "=", "FY2026"})})).empty()) return;
    json move_type = search("ir.sequence.type", json::array({json::array({"name", "=", "Account Move"})}));
    json invoice_type = search("ir.sequence.type", json::array({json::array({"name", "=", "Invoice"})}));
    json moves = tryton_->call("model.ir.sequence.create",
                               json::array({json::array({{{"name", "Moves 2026"}, {"sequence_type", move_type[0]}, {"company", 1}}})}));
    json invoices = tryton_->call("model.ir.sequence.strict.create",
                                  json::array({json::array({{{"name", "Invoices 2026"}, {"sequence_type", invoice_type[0]}, {"company", 1}}})}));
    auto day = [](int m, int d) { return json{{"__class__", "date"}, {"year", 2026}, {"month", m}, {"day", d}}; };
    json year = tryton_->call("model.account.fiscalyear.create", json::array({json::array({{
        {"name", "FY2026"}, {"start_date", day(1, 1)}, {"end_date", day(12, 31)}, {"company", 1}, {"post_move_sequence", moves[0]},
        {"invoice_sequences", json::array({json::array({"create", json::array({{{"company", 1}, {"in_invoice_sequence", invoices[0]},
            {"in_credit_note_sequence", invoices[0]}, {"out_invoice_sequence", invoices[0]}, {"out_credit_note_sequence", invoices[0]}}})})})}}})}));
    tryton_->call("model.account.fiscalyear.create_period", json::array({year}));
  }

  TempDir dir_;
  std::string data_dir_;  // empty: a fresh one per daemon
  std::string url_, prefix_;
  std::unique_ptr<Tryton> tryton_;
  std::unique_ptr<Annexd> d_;
};

TEST_F(SyncTryton, PartiesArePulledIncrementallyAndChangesInAnnexArePushedBack) {
  json created = tryton_->call("model.party.party.create",
                               json::array({json::array({{{"code", prefix_ + "1"}, {"name", "Alpha"}}, {{"code", prefix_ + "2"}, {"name", "Beta"}},
                                                         {{"code", prefix_ + "3"}, {"name", "Gamma"}}, {{"code", prefix_ + "4"}, {"name", "Delta"}}})}));
  ASSERT_EQ(created.size(), 4u);
  start();
  std::string out = sync();
  EXPECT_NE(out.find("erp/parties pull:"), std::string::npos) << out;
  for (int i = 1; i <= 4; ++i) EXPECT_FALSE(annex_party(prefix_ + std::to_string(i)).is_null()) << i;
  EXPECT_EQ(annex_party(prefix_ + "2")["name"], "Beta");

  // A change in Tryton comes with the next pull; the rest come back unchanged, never twice.
  tryton_->call("model.party.party.write", json::array({json::array({created[1]}), {{"name", "Beta (renamed in Tryton)"}}}));
  out = sync();
  EXPECT_EQ(annex_party(prefix_ + "2")["name"], "Beta (renamed in Tryton)") << out;
  EXPECT_NE(out.find("0 created"), std::string::npos) << out;

  // A party made in Annex travels to Tryton whole.
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/parties", json({{"code", prefix_ + "5"}, {"name", "Epsilon"}}).dump()).status, 201);
  EXPECT_TRUE(eventually([&] { return !tryton_party(prefix_ + "5").is_null(); }, std::chrono::seconds(30)));
  EXPECT_EQ(tryton_party(prefix_ + "5")["name"], "Epsilon");
  // The new party is bound to its Tryton id: the next pull does not create it again.
  sync();
  json items = json::parse(d_->call("GET", "/api/v1/masterdata/parties?limit=500").body)["items"];
  int fives = 0;
  for (const auto& p : items) fives += p["code"] == prefix_ + "5";
  EXPECT_EQ(fives, 1);
}

TEST_F(SyncTryton, ARecordTrytonRefusesIsDeadLetteredWithItsMessageAndTheRestGoThrough) {
  // Products go to Tryton's product templates, whose unit of measure is required: one made in Annex without a
  // unit is refused by Tryton, with its message, while the others are created.
  start("admin", 10, R"(, "products": {"model": "product.template", "fields": ["code", "name", "default_uom"]})",
        R"(, "products": {"entity": "products", "direction": "push", "remote_id": "id",
                          "fields": {"code": "code", "name": "name", "unit": {"from": "default_uom", "values": {"1": "unit"}}}})");
  for (const char* suffix : {"ok1", "bad", "ok2"}) {
    json product = {{"code", prefix_ + suffix}, {"name", std::string("Product ") + suffix}};
    if (std::string(suffix) != "bad") product["unit"] = "unit";
    ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/products", product.dump()).status, 201);
  }
  auto template_of = [&](const std::string& code) {
    json rows = tryton_->call("model.product.template.search_read",
                              json::array({json::array({json::array({"code", "=", code})}), 0, 10, nullptr, json::array({"id", "code", "name"})}));
    return rows.empty() ? json(nullptr) : rows[0];
  };
  EXPECT_TRUE(eventually([&] { return !template_of(prefix_ + "ok1").is_null() && !template_of(prefix_ + "ok2").is_null(); },
                         std::chrono::seconds(30)));
  std::string letters;
  EXPECT_TRUE(eventually([&] {
    d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "dead-letters", "list"}, &letters);
    return letters.find("A value is required for field") != std::string::npos;
  }, std::chrono::seconds(30))) << letters;
  EXPECT_NE(letters.find(prefix_ + "bad"), std::string::npos) << letters;
  EXPECT_TRUE(template_of(prefix_ + "bad").is_null());
}

// A party Annex creates under a code Tryton already holds (sent before, its answer lost) is the same party: it
// is bound to it and written, never created twice.
TEST_F(SyncTryton, ACreateUnderACodeTrytonHoldsBindsToThatRecordInsteadOfDoublingIt) {
  start();
  json made = tryton_->call("model.party.party.create", json::array({json::array({{{"code", prefix_ + "same"}, {"name", "Made in Tryton"}}})}));
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/parties", json({{"code", prefix_ + "same"}, {"name", "From Annex"}}).dump()).status, 201);
  EXPECT_TRUE(eventually([&] {
    auto db = d_->open_store();
    store::Lease lease(*db);
    return store::run(lease.session(), "SELECT COUNT(*) FROM annex_md_bindings WHERE connection = 'erp' AND remote_id = '" +
                                            std::to_string(made[0].get<int64_t>()) + "'", {})
               .rows.at(0).at(0).i == 1;
  }, std::chrono::seconds(30)));
  json rows = tryton_->call("model.party.party.search_read",
                            json::array({json::array({json::array({"code", "=", prefix_ + "same"})}), 0, 10, nullptr, json::array({"id"})}));
  EXPECT_EQ(rows.size(), 1u);
}

TEST_F(SyncTryton, WrongCredentialsAreReportedAtOnceWithoutRetries) {
  start("not-the-password");
  std::string out;
  auto began = std::chrono::steady_clock::now();
  EXPECT_NE(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "check", "erp"}, &out), 0);
  EXPECT_NE(out.find("refused the login"), std::string::npos) << out;
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(20)) << "no storm of retries";
}

// A Tryton user without the right to create analytic accounts: each cost centre pushed is refused with Tryton's
// words and parked at once — no retries.
TEST_F(SyncTryton, MissingRightsAreReportedAtOnceWithoutRetries) {
  std::string login = "norights" + prefix_;
  tryton_->call("model.res.user.create", json::array({json::array({{{"name", "No rights"}, {"login", login}, {"password", "Qz7-Wm3#Lk9vRt2x"}}})}));
  start("Qz7-Wm3#Lk9vRt2x", 3, R"(, "centres": {"model": "analytic_account.account", "fields": ["code", "name"]})",
        R"(, "centres": {"entity": "cost_centres", "direction": "push", "remote_id": "id", "fields": {"code": "code", "name": "name"}})", login);
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/cost_centres", json({{"code", prefix_ + "CC-9"}, {"name", "Refused"}}).dump()).status, 201);
  std::string letters;
  EXPECT_TRUE(eventually([&] {
    d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "dead-letters", "list"}, &letters);
    return letters.find("not allowed to access") != std::string::npos;
  }, std::chrono::seconds(30))) << letters;
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'dead' AND attempts = 1"), 1) << "parked at the first answer";
}

// The daemon's connection keeps its session; when Tryton forgets it (expired, revoked), the connector logs in
// again and the push goes on.
TEST_F(SyncTryton, ASessionTrytonForgetsIsRenewedAndThePushGoesOn) {
  start();
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/parties", json({{"code", prefix_ + "s1"}, {"name", "Before"}}).dump()).status, 201);
  ASSERT_TRUE(eventually([&] { return !tryton_party(prefix_ + "s1").is_null(); }, std::chrono::seconds(30)));
  // Every session Tryton holds is gone, as after an expiry.
  std::filesystem::path db = std::filesystem::path(std::getenv("ANNEX_TEST_TRYTON_URL_FILE")).parent_path() / "instance" / "db" / "tryton.sqlite";
  {
    soci::session tryton_db(*soci::factory_sqlite3(), db.string());
    tryton_db << "DELETE FROM ir_session";
  }
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/parties", json({{"code", prefix_ + "s2"}, {"name", "After"}}).dump()).status, 201);
  EXPECT_TRUE(eventually([&] { return !tryton_party(prefix_ + "s2").is_null(); }, std::chrono::seconds(30))) << d_->log();
  // Renewed within the call: no run failed on the way.
  std::string runs = d_->call("GET", "/api/v1/sync/runs?connection=erp").body;
  EXPECT_EQ(runs.find("\"status\":\"failed\""), std::string::npos) << runs;
}

// Cost centres (analytic accounts) and employees come from their own models; a relation read through a dotted
// field ("party.name") maps like any field.
TEST_F(SyncTryton, CostCentresAndEmployeesArePulledFromTheirModels) {
  json root = tryton_->call("model.analytic_account.account.create", json::array({json::array({{{"name", "Centres " + prefix_}, {"code", prefix_ + "CC"}, {"type", "root"}}})}));
  ASSERT_EQ(root.size(), 1u);
  tryton_->call("model.analytic_account.account.create",
                json::array({json::array({{{"name", "Sales"}, {"code", prefix_ + "CC-100"}, {"type", "normal"}, {"root", root[0]}, {"parent", root[0]}},
                                          {{"name", "Service"}, {"code", prefix_ + "CC-200"}, {"type", "normal"}, {"root", root[0]}, {"parent", root[0]}}})}));
  json person = tryton_->call("model.party.party.create", json::array({json::array({{{"code", prefix_ + "E1"}, {"name", "Wang Fang"}}})}));
  json employee = {{"party", person[0]}, {"company", 1}};
  employee["start_date"] = {{"__class__", "date"}, {"year", 2026}, {"month", 1}, {"day", 1}};
  json employees_made = tryton_->call("model.company.employee.create", json::array({json::array({employee})}));
  ASSERT_EQ(employees_made.size(), 1u);
  start("admin", 50,
        R"(, "centres": {"model": "analytic_account.account", "fields": ["code", "name", "type"]},
           "employees": {"model": "company.employee", "fields": ["party.code", "party.name"]})",
        R"(, "centres": {"entity": "cost_centres", "direction": "pull", "remote_id": "id", "version_field": "changed_at",
                         "fields": {"code": "code", "name": "name"}},
           "employees": {"entity": "employees", "direction": "pull", "remote_id": "id", "version_field": "changed_at",
                         "fields": {"number": "party.code", "name": "party.name"}})");
  std::string out = sync();
  json centres = json::parse(d_->call("GET", "/api/v1/masterdata/cost_centres?limit=500").body)["items"];
  std::set<std::string> codes;
  for (const auto& c : centres) codes.insert(c["code"]);
  EXPECT_TRUE(codes.count(prefix_ + "CC-100") && codes.count(prefix_ + "CC-200") && codes.count(prefix_ + "CC")) << out;
  json employees = json::parse(d_->call("GET", "/api/v1/masterdata/employees?limit=500").body)["items"];
  bool found = false;
  for (const auto& e : employees) found = found || (e["number"] == prefix_ + "E1" && e["name"] == "Wang Fang");
  EXPECT_TRUE(found) << out << employees.dump();
}

// GL accounts are Tryton's chart (account.account), whose codes are a convention, not a key, and whose view
// accounts have none: the stream reads the coded accounts, and the chart they belong to is the company's.
TEST_F(SyncTryton, GLAccountsArePulledFromTheCompanysChart) {
  json root = tryton_->call("model.account.account.search", json::array({json::array({json::array({"parent", "=", nullptr})}), 0, 1, nullptr}));
  ASSERT_EQ(root.size(), 1u) << "the chart made by the peer's bootstrap";
  json made = tryton_->call("model.account.account.create",
                            json::array({json::array({{{"code", prefix_ + "4000"}, {"name", "Sales Revenue"}, {"parent", root[0]}},
                                                      {{"code", prefix_ + "6800"}, {"name", "Entertainment"}, {"parent", root[0]}}})}));
  ASSERT_EQ(made.size(), 2u);
  const std::string streams = R"(, "accounts": {"entity": "gl_accounts", "direction": "pull", "remote_id": "id", "version_field": "changed_at",
                                   "fields": {"chart": "company.rec_name", "code": "code", "name": "name"}})";
  start("admin", 50, R"(, "accounts": {"model": "account.account", "fields": ["code", "name", "company.rec_name"], "domain": [["code", "!=", null]]})",
        streams);
  std::string out = sync();
  EXPECT_NE(out.find("erp/accounts pull:"), std::string::npos) << out;
  EXPECT_NE(out.find(" 0 rejected"), std::string::npos) << "no view account without a code was read: " << out;
  auto account = [&](const std::string& code) {
    const json items = json::parse(d_->call("GET", "/api/v1/masterdata/gl_accounts?limit=500").body)["items"];  // named: not a temporary's part
    for (const auto& a : items) {
      if (a["code"] == code) return a;
    }
    return json(nullptr);
  };
  json revenue = account(prefix_ + "4000");
  ASSERT_FALSE(revenue.is_null()) << out;
  EXPECT_EQ(revenue["chart"], "Test Company");
  EXPECT_EQ(revenue["name"], "Sales Revenue");
  EXPECT_FALSE(account(prefix_ + "6800").is_null());

  tryton_->call("model.account.account.write", json::array({json::array({made[1]}), {{"name", "Business Entertainment"}}}));
  out = sync();
  EXPECT_EQ(account(prefix_ + "6800")["name"], "Business Entertainment") << out;
}

// Optimistic locking: with "timestamps" on, a write carries the _timestamp Annex last saw of the party. One
// changed in Tryton since is refused with Tryton's own message, and Tryton's change stays; one changed only in
// Annex goes through, twice in a row (each write records the new timestamp).
TEST_F(SyncTryton, AConcurrentUpdateIsRefusedWithTrytonsOwnMessage) {
  json made = tryton_->call("model.party.party.create",
                            json::array({json::array({{{"code", prefix_ + "lock"}, {"name", "Before"}}, {{"code", prefix_ + "free"}, {"name", "Free"}}})}));
  ASSERT_EQ(made.size(), 2u);
  std::ofstream(dir_.path() / "annex.json") << R"({"sync": {"connections": {"erp": {"connector": "tryton",
    "settings": {"url": ")" + url_ + R"(", "login": "admin", "password": "{password}", "overlap_s": 2,
      "streams": {"parties": {"model": "party.party", "fields": ["code", "name"], "key_field": "code", "timestamps": true}}},
    "secrets": {"password": "env:ANNEX_TEST_TRYTON_PASSWORD"}, "retry": {"attempts": 2, "base_ms": 10, "max_ms": 50},
    "streams": {"parties": {"entity": "parties", "direction": "both", "remote_id": "id", "version_field": "_timestamp",
      "page_size": 50, "sector_id": "hq", "owner_login": "admin", "fields": {"code": "code", "name": "name"},
      "system_of_record": {"default": "remote", "name": "annex"}}}}}}})";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}, {"ANNEX_TEST_TRYTON_PASSWORD", "admin"}};
  d_ = std::make_unique<Annexd>(o);
  sync();
  json locked = annex_party(prefix_ + "lock"), free = annex_party(prefix_ + "free");
  ASSERT_FALSE(locked.is_null());
  ASSERT_FALSE(free.is_null());
  // Tryton's timestamps count seconds here: the changes below fall in later ones.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  tryton_->call("model.party.party.write", json::array({json::array({made[0]}), {{"name", "Changed in Tryton"}}}));
  auto rename = [&](const json& party, const std::string& name) {
    ASSERT_EQ(d_->call("PATCH", "/api/v1/masterdata/parties/" + party["id"].get<std::string>(), json({{"name", name}}).dump()).status, 200);
  };
  rename(locked, "Changed in Annex");
  rename(free, "Free, first change");
  std::string letters;
  EXPECT_TRUE(eventually([&] {
    d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "dead-letters", "list"}, &letters);
    return letters.find("modified in the meanwhile") != std::string::npos;
  }, std::chrono::seconds(30))) << letters;
  EXPECT_EQ(tryton_party(prefix_ + "lock")["name"], "Changed in Tryton");
  EXPECT_TRUE(eventually([&] { return tryton_party(prefix_ + "free")["name"] == "Free, first change"; }, std::chrono::seconds(30)));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  rename(free, "Free, second change");
  EXPECT_TRUE(eventually([&] { return tryton_party(prefix_ + "free")["name"] == "Free, second change"; }, std::chrono::seconds(30))) << d_->log();
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_sync_dead_letters"), 1) << letters;
}

// Parties carry their addresses and contact mechanisms (Tryton's one2many lines) both ways: pulled as lists, sent
// as nested creates, and — where Annex owns them — replaced on a write.
TEST_F(SyncTryton, PartiesCarryTheirAddressesAndContactMechanisms) {
  json made = tryton_->call("model.party.party.create", json::array({json::array({{{"code", prefix_ + "a1"}, {"name", "ACME GmbH"},
      {"addresses", json::array({json::array({"create", json::array({{{"street", "Main St 1"}, {"city", "Berlin"}, {"postal_code", "10115"}}})})})},
      {"contact_mechanisms", json::array({json::array({"create", json::array({{{"type", "email"}, {"value", "info@acme.example"}}})})})}}})}));
  ASSERT_EQ(made.size(), 1u);
  std::ofstream(dir_.path() / "annex.json") << R"({"sync": {"connections": {"erp": {"connector": "tryton",
    "settings": {"url": ")" + url_ + R"(", "login": "admin", "password": "{password}", "overlap_s": 2,
      "streams": {"parties": {"model": "party.party", "fields": ["code", "name"], "key_field": "code",
        "one2many": {"addresses": ["street", "city", "postal_code"], "contact_mechanisms": ["type", "value"]}}}},
    "secrets": {"password": "env:ANNEX_TEST_TRYTON_PASSWORD"}, "retry": {"attempts": 2, "base_ms": 10, "max_ms": 50},
    "streams": {"parties": {"entity": "parties", "direction": "both", "remote_id": "id", "version_field": "changed_at",
      "page_size": 50, "sector_id": "hq", "owner_login": "admin",
      "fields": {"code": "code", "name": "name", "addresses": "addresses", "contacts": "contact_mechanisms"},
      "system_of_record": {"default": "remote", "addresses": "annex"}}}}}}})";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}, {"ANNEX_TEST_TRYTON_PASSWORD", "admin"}};
  d_ = std::make_unique<Annexd>(o);
  std::string out = sync();
  json acme = annex_party(prefix_ + "a1");
  ASSERT_FALSE(acme.is_null()) << out;
  EXPECT_EQ(acme["addresses"], json::parse(R"([{"street": "Main St 1", "city": "Berlin", "postal_code": "10115"}])")) << acme.dump();
  EXPECT_EQ(acme["contacts"], json::parse(R"([{"type": "email", "value": "info@acme.example"}])")) << acme.dump();

  auto lines = [&](const std::string& code) {
    json rows = tryton_->poll("model.party.party.search_read", json::array({json::array({json::array({"code", "=", code})}), 0, 1, nullptr,
                                                                           json::array({"addresses.city", "contact_mechanisms.value"})}));
    return rows.is_array() && !rows.empty() ? rows[0] : json(nullptr);
  };
  // Made in Annex: sent whole, its lines created with it.
  json beta = {{"code", prefix_ + "a2"}, {"name", "Beta AG"}};
  beta["addresses"] = json::parse(R"([{"street": "Bahnhofstr. 2", "city": "Zürich", "postal_code": "8001"}])");
  beta["contacts"] = json::parse(R"([{"type": "phone", "value": "+41 44 000 00 00"}])");
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/parties", beta.dump()).status, 201);
  EXPECT_TRUE(eventually([&] {
    json t = lines(prefix_ + "a2");
    return !t.is_null() && t["addresses."].size() == 1 && t["addresses."][0]["city"] == "Zürich" &&
           t["contact_mechanisms."].size() == 1 && t["contact_mechanisms."][0]["value"] == "+41 44 000 00 00";
  }, std::chrono::seconds(30))) << lines(prefix_ + "a2").dump();
  // Annex owns the addresses: a change replaces Tryton's lines, one address for another, not one more.
  ASSERT_EQ(d_->call("PATCH", "/api/v1/masterdata/parties/" + acme["id"].get<std::string>(),
                     json({{"addresses", json::parse(R"([{"street": "Neue Str. 5", "city": "Hamburg", "postal_code": "20095"}])")}}).dump())
                .status,
            200);
  EXPECT_TRUE(eventually([&] {
    json t = lines(prefix_ + "a1");
    return !t.is_null() && t["addresses."].size() == 1 && t["addresses."][0]["city"] == "Hamburg";
  }, std::chrono::seconds(30))) << lines(prefix_ + "a1").dump();
}

// Products are Tryton's product templates: the list price a Decimal ("12.50") both ways as exact minor units, the
// unit of measure by a value map, and a first variant made with each template Annex creates.
TEST_F(SyncTryton, ProductsTravelWithTheirPricesExactlyAndAVariant) {
  json made = tryton_->call("model.product.template.create", json::array({json::array({{{"code", prefix_ + "W"}, {"name", "Widget"}, {"default_uom", 1},
      {"list_price", {{"__class__", "Decimal"}, {"decimal", "12.50"}}}}})}));
  ASSERT_EQ(made.size(), 1u);
  start("admin", 50,
        R"(, "products": {"model": "product.template", "fields": ["code", "name", "default_uom", "list_price"], "key_field": "code",
                          "create_defaults": {"type": "goods", "products": [["create", [{}]]]}})",
        R"(, "products": {"entity": "products", "direction": "both", "remote_id": "id", "version_field": "changed_at",
                          "fields": {"code": "code", "name": "name", "unit": {"from": "default_uom", "values": {"1": "unit"}},
                                     "list_price": {"from": "list_price", "money": {"currency": "EUR"}}},
                          "system_of_record": {"default": "remote"}})");
  std::string out = sync();
  json items = json::parse(d_->call("GET", "/api/v1/masterdata/products?limit=500").body)["items"];
  json widget;
  for (const auto& p : items) {
    if (p["code"] == prefix_ + "W") widget = p;
  }
  ASSERT_FALSE(widget.is_null()) << out;
  EXPECT_EQ(widget["list_price"], json::parse(R"({"amount": 1250, "currency": "EUR"})")) << widget.dump();
  EXPECT_EQ(widget["unit"], "unit");

  json gadget = {{"code", prefix_ + "G"}, {"name", "Gadget"}, {"unit", "unit"}};
  gadget["list_price"] = {{"amount", 99999}, {"currency", "EUR"}};
  ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/products", gadget.dump()).status, 201);
  json t;
  EXPECT_TRUE(eventually([&] {
    json rows = tryton_->call("model.product.template.search_read", json::array({json::array({json::array({"code", "=", prefix_ + "G"})}), 0, 1, nullptr,
                                                                                json::array({"list_price", "products"})}));
    if (rows.empty()) return false;
    t = rows[0];
    return true;
  }, std::chrono::seconds(30)));
  EXPECT_EQ(t["list_price"]["decimal"], "999.99") << t.dump();
  EXPECT_EQ(t["products"].size(), 1u) << "a template made in Annex has its variant";
}

// Over HTTPS the peer's certificate is verified: against the configured CA it is trusted; without that CA (the
// system's store only) the connection is refused, saying why.
TEST_F(SyncTryton, HttpsVerifiesThePeersCertificateAgainstTheConfiguredCa) {
  TempDir tls;
  std::string cert = (tls.path() / "cert.pem").string(), key = (tls.path() / "key.pem").string();
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + key + "' -out '" + cert +
                         "' -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost >/dev/null 2>&1").c_str()),
            0);
  std::string peer;
  std::ifstream(std::filesystem::path(std::getenv("ANNEX_TEST_TRYTON_URL_FILE")).parent_path() / "peer") >> peer;
  std::string proxy = peer + "/../../support/tls_proxy.py";
  std::string base = url_.substr(0, url_.find('/', url_.find("//") + 2));
  std::string port_file = (tls.path() / "port").string(), pid_file = (tls.path() / "pid").string();
  ASSERT_EQ(std::system(("python3 '" + proxy + "' '" + cert + "' '" + key + "' " + base + " >'" + port_file + "' 2>/dev/null & echo $! >'" + pid_file + "'").c_str()), 0);
  std::string port;
  ASSERT_TRUE(eventually([&] {
    std::ifstream in(port_file);
    return static_cast<bool>(in >> port);
  }, std::chrono::seconds(10)));
  int pid = 0;
  std::ifstream(pid_file) >> pid;
  std::string https = "https://localhost:" + port + url_.substr(base.size());
  auto configure = [&](const std::string& ca) {
    std::ofstream(dir_.path() / "annex.json") << R"({"sync": {"connections": {"erp": {"connector": "tryton",
      "settings": {"url": ")" + https + R"(", "login": "admin", "password": "{password}", "timeout_s": 10)" + ca + R"(,
        "streams": {"parties": {"model": "party.party", "fields": ["code", "name"]}}},
      "secrets": {"password": "env:ANNEX_TEST_TRYTON_PASSWORD"}, "retry": {"attempts": 1, "base_ms": 10, "max_ms": 10},
      "streams": {"parties": {"entity": "parties", "direction": "pull", "remote_id": "id", "sector_id": "hq", "owner_login": "admin",
                              "fields": {"code": "code", "name": "name"}}}}}}})";
  };
  configure(R"(, "ca_file": ")" + cert + R"(")");
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}, {"ANNEX_TEST_TRYTON_PASSWORD", "admin"}};
  d_ = std::make_unique<Annexd>(o);
  std::string out;
  EXPECT_EQ(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "check", "erp"}, &out), 0) << out;
  EXPECT_NE(out.find("logged in"), std::string::npos) << out;
  configure("");
  EXPECT_NE(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "check", "erp"}, &out), 0) << out;
  EXPECT_NE(out.find("TLS"), std::string::npos) << out;
  if (pid > 0) ::kill(pid, SIGTERM);
}

// The peer's scripts and instance, for the tests that stop and start it.
struct Peer {
  std::filesystem::path state = std::filesystem::path(std::getenv("ANNEX_TEST_TRYTON_URL_FILE")).parent_path();
  std::string port(const std::string& url) const {
    std::string rest = url.substr(url.rfind(':') + 1);
    return rest.substr(0, rest.find('/'));
  }
  int run(const std::string& script, const std::string& url) const {
    std::string peer;
    std::ifstream(state / "peer") >> peer;
    std::string cmd = "'" + peer + "/" + script + "' '" + (state / "instance").string() + "'" +
                      (script == "up.sh" ? " " + port(url) + " tryton" : "") + " >/dev/null 2>&1";
    return std::system(cmd.c_str());
  }
};

// Tryton stops in the middle of a pull and starts again, and meanwhile a party already read is deleted and
// another renamed: the run fails cleanly, the next resumes from the cursor, and Annex ends with every party
// exactly once, the renamed one renamed by the run after.
TEST_F(SyncTryton, ThePeerStoppingMidPullLosesAndDoublesNothing) {
  json batch = json::array();
  const int total = 300;
  for (int i = 0; i < total; ++i) batch.push_back({{"code", prefix_ + "p" + std::to_string(i)}, {"name", "Party " + std::to_string(i)}});
  ASSERT_EQ(tryton_->call("model.party.party.create", json::array({batch})).size(), static_cast<size_t>(total));
  start("admin", 1);
  const std::string mine = "SELECT COUNT(*) FROM annex_md_parties WHERE code LIKE '" + prefix_ + "p%'";
  std::string first;
  std::thread run([&] {
    d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "run", "erp", "--stream", "parties"}, &first);
  });
  ASSERT_TRUE(eventually([&] { return count_in(*d_, mine) >= 20; }, std::chrono::seconds(60)));
  Peer peer;
  EXPECT_EQ(peer.run("down.sh", url_), 0);
  run.join();
  int64_t at_stop = count_in(*d_, mine);
  EXPECT_LT(at_stop, total) << "the pull was to be interrupted: " << first;
  EXPECT_NE(first.find("FAILED"), std::string::npos) << first;
  ASSERT_EQ(peer.run("up.sh", url_), 0);
  tryton_ = std::make_unique<Tryton>(url_);
  // Behind the stopped run's back: a party it read already is deleted, another renamed. Pages follow ids after
  // the last one taken, never an offset: nothing shifts; the renamed one, behind the resumed run's ids, changed
  // after that run's watermark, so the next run brings it.
  json first_two = tryton_->call("model.party.party.search", json::array({json::array({json::array({"code", "in",
                                     json::array({prefix_ + "p0", prefix_ + "p1"})})}), 0, nullptr, json::array({json::array({"id", "ASC"})})}));
  ASSERT_EQ(first_two.size(), 2u);
  tryton_->call("model.party.party.delete", json::array({json::array({first_two[0]})}));
  tryton_->call("model.party.party.write", json::array({json::array({first_two[1]}), {{"name", "Renamed while stopped"}}}));
  std::string second = sync();
  EXPECT_EQ(count_in(*d_, mine), total) << second;
  std::string third = sync();
  EXPECT_EQ(annex_party(prefix_ + "p1").value("name", std::string{}), "Renamed while stopped") << third;
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(DISTINCT code) FROM annex_md_parties WHERE code LIKE '" + prefix_ + "p%'"), total);
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_md_bindings b JOIN annex_md_parties p ON p.id = b.record_id"
                          " WHERE b.connection = 'erp' AND p.code LIKE '" + prefix_ + "p%'"), total);
}

// annexd killed with SIGKILL in the middle of a push and started again: Tryton ends with exactly the parties
// made in Annex, each bound, none refused as a duplicate.
TEST_F(SyncTryton, AnnexdKilledMidPushLeavesTrytonWithExactlyTheExpectedRecords) {
  TempDir data;
  data_dir_ = data.str();
  start("admin", 2);
  const int total = 120;
  for (int i = 0; i < total; ++i) {
    ASSERT_EQ(d_->call("POST", "/api/v1/masterdata/parties", json({{"code", prefix_ + "k" + std::to_string(i)}, {"name", "Pushed " + std::to_string(i)}}).dump()).status,
              201);
  }
  auto in_tryton = [&] {
    return tryton_->call("model.party.party.search_count", json::array({json::array({json::array({"code", "like", prefix_ + "k%"})})})).get<int64_t>();
  };
  ASSERT_TRUE(eventually([&] { return in_tryton() >= 10; }, std::chrono::seconds(60)));
  d_->kill_hard();
  int64_t at_kill = in_tryton();
  EXPECT_LT(at_kill, total) << "the push was to be interrupted";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}, {"ANNEX_TEST_TRYTON_PASSWORD", "admin"}};
  o.data_dir = data_dir_;
  o.bootstrap_admin = false;
  d_.reset();
  d_ = std::make_unique<Annexd>(o);
  EXPECT_TRUE(eventually([&] { return in_tryton() == total; }, std::chrono::seconds(120)));
  EXPECT_TRUE(eventually([&] { return count_in(*d_, "SELECT COUNT(*) FROM annex_sync_outbox WHERE state = 'pending'") == 0; },
                         std::chrono::seconds(60)));
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_sync_dead_letters"), 0);
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_md_bindings WHERE connection = 'erp'"), total);
}

// Journal entries from a business plugin (the poster fixture, through a document stream) become account.move
// records in Tryton: posted, with their lines and an analytic line for the cost centre; a resend after a crash
// finds the move by its key and makes no second one; an entry naming an account Tryton lacks is dead-lettered
// with the reason.
TEST_F(SyncTryton, JournalEntriesBecomePostedMovesOnceByTheirKey) {
  auto search = [&](const std::string& model, const json& domain) { return search_ids(model, domain); };
  finance_set_up({{"6400", "Main Expense"}, {"1000", "Main Cash"}});

  std::ofstream(dir_.path() / "annex.json") << R"({"sync": {"connections": {"finance": {"connector": "tryton",
    "settings": {"url": ")" + url_ + R"(", "login": "admin", "password": "{password}",
      "streams": {"journal": {"journal": {"journal": "STO", "post": true}},
                  "payments": {"model": "account.move", "fields": ["description"]}}},
    "secrets": {"password": "env:ANNEX_TEST_TRYTON_PASSWORD"},
    "retry": {"attempts": 3, "base_ms": 10, "max_ms": 50}, "breaker": {"failures": 100, "open_s": 1},
    "streams": {"journal": {"documents": "org.annex.test.poster", "direction": "push"},
                "payments": {"documents": "org.annex.test.poster", "direction": "pull", "remote_id": "id"}}}}}})";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}, {"ANNEX_TEST_TRYTON_PASSWORD", "admin"}};
  o.data_dir = data_dir_;
  o.plugin_dirs = {build_path("lib/annex/plugins"), build_path("tests/fixtures/plugins/documents")};
  d_ = std::make_unique<Annexd>(o);

  auto post = [&](const std::string& key, const std::string& account) {
    json entry = {{"date", "2026-11-30"}, {"description", "Expense claim " + key}, {"currency", "EUR"},
                  {"lines", {{{"account", prefix_ + account}, {"cost_centre", prefix_ + "CC10"}, {"debit", 12050}, {"credit", 0}},
                             {{"account", prefix_ + "1000"}, {"debit", 0}, {"credit", 12050}}}}};
    return d_->call("POST", "/api/v1/poster/entries", json({{"key", key}, {"entry", entry}}).dump());
  };
  auto heard = [&](const std::string& key) {
    json got = json::parse(d_->call("GET", "/api/v1/poster/entries/" + key).body, nullptr, false);
    return got.is_object() ? got : json(nullptr);
  };
  const std::string key = prefix_ + "claim-1";
  ASSERT_EQ(post(key, "6400").status, 202);
  ASSERT_TRUE(eventually([&] { json h = heard(key); return !h.is_null() && !h["heard"].is_null(); }, std::chrono::seconds(30)))
      << heard(key).dump() << d_->log();
  json h = heard(key);
  ASSERT_EQ(h["heard"], "delivered") << h.dump();
  json moves = tryton_->call("model.account.move.search_read",
                             json::array({json::array({json::array({"description", "=", key})}), 0, 10, nullptr,
                                          json::array({"id", "state", "lines"})}));
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0]["state"], "posted");
  EXPECT_EQ(h["status"]["remote_id"], std::to_string(moves[0]["id"].get<int64_t>()));
  json lines = tryton_->call("model.account.move.line.read",
                             json::array({moves[0]["lines"], json::array({"debit", "credit", "account.code", "analytic_lines"})}));
  ASSERT_EQ(lines.size(), 2u);
  int analytic = 0;
  for (const auto& line : lines) analytic += static_cast<int>(line["analytic_lines"].size());
  EXPECT_EQ(analytic, 1) << lines.dump();

  // Annex lost the delivery (a crash after Tryton took it): the resend finds the move by its key.
  d_->sql("UPDATE annex_sync_documents SET state = 'pending' WHERE doc_key = '" + key + "'");
  ASSERT_TRUE(eventually([&] { return heard(key)["status"]["outcome"] == "unchanged"; }, std::chrono::seconds(30))) << heard(key).dump();
  EXPECT_EQ(search("account.move", json::array({json::array({"description", "=", key})})).size(), 1u);

  const std::string bad = prefix_ + "claim-2";
  ASSERT_EQ(post(bad, "9999").status, 202);
  ASSERT_TRUE(eventually([&] { return heard(bad)["heard"] == "dead"; }, std::chrono::seconds(30))) << heard(bad).dump();
  EXPECT_NE(heard(bad)["status"]["reason"].get<std::string>().find(prefix_ + "9999"), std::string::npos) << heard(bad).dump();
  EXPECT_TRUE(search("account.move", json::array({json::array({"description", "=", bad})})).empty());
}

// The expenses plugin posting to Tryton: a claim of 150.00 approved in Annex, 100.00 of it settled against a paid
// cash advance, becomes one posted account.move — the expense accounts per line with an analytic line for the cost
// centre, advance clearing credited for the settled part and the employee payable for the rest — and the paid
// advance its own move; the claim reads "posted" with the move's id. (The accounts Annex posts to take no party:
// the connector sends none.)
TEST_F(SyncTryton, AnApprovedExpenseClaimBecomesOnePostedMoveOnItsAccountsAndCostCentre) {
  finance_set_up({{"6602", "Main Expense"}, {"6604", "Main Expense"}, {"1221", "Main Cash"}, {"2241", "Main Cash"}, {"1002", "Main Cash"}});
  std::ofstream(dir_.path() / "annex.json") << R"({
    "approvals": {"chains": {
      "expense-claim": {"steps": [{"name": "head", "permission": "expenses.claim.approve"}]},
      "cash-advance": {"steps": [{"name": "finance", "role": "finance", "scope": "any"}]}}},
    "sync": {"connections": {"finance": {"connector": "tryton",
      "settings": {"url": ")" + url_ + R"(", "login": "admin", "password": "{password}",
                   "streams": {"journal": {"journal": {"journal": "STO", "post": true}}}},
      "secrets": {"password": "env:ANNEX_TEST_TRYTON_PASSWORD"},
      "retry": {"attempts": 3, "base_ms": 10, "max_ms": 50}, "breaker": {"failures": 100, "open_s": 1},
      "streams": {"journal": {"documents": "org.annex.expenses", "direction": "push"}}}}},
    "plugins": {"org.annex.expenses": {"company_currency": "EUR",
      "categories": {"travel": {"gl_account": ")" + prefix_ + R"(6602"}, "meals": {"gl_account": ")" + prefix_ + R"(6604"}},
      "posting": {"connection": "finance", "journal_stream": "journal", "advance_clearing_account": ")" + prefix_ + R"(1221",
                  "employee_payable_account": ")" + prefix_ + R"(2241", "bank_account": ")" + prefix_ + R"(1002"}}}})";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}, {"ANNEX_TEST_TRYTON_PASSWORD", "admin"}};
  o.data_dir = data_dir_;
  d_ = std::make_unique<Annexd>(o);
  const std::string rep = d_->user_with_role("rep", "sales-rep", "north");
  const std::string head = d_->user_with_role("head", "sector-head", "north");
  const std::string fin = d_->user_with_role("fin", "finance");
  auto must = [](const HttpResult& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    return json::parse(r.body, nullptr, false);
  };
  auto money = [](int64_t amount) { return json{{"amount", amount}, {"currency", "EUR"}}; };
  must(d_->call("POST", "/api/v1/masterdata/cost_centres", json({{"code", prefix_ + "CC10"}, {"name", "Sales north"}}).dump()), 201);
  auto moves_for = [&](const std::string& key) {
    return tryton_->call("model.account.move.search_read", json::array({json::array({json::array({"description", "like", "%" + key + "%"})}),
                                                                        0, 10, nullptr, json::array({"id", "state", "lines"})}));
  };
  auto lines_of = [&](const json& move) {
    return tryton_->call("model.account.move.line.read",
                         json::array({move["lines"], json::array({"debit", "credit", "account.code", "analytic_lines"})}));
  };
  // Tryton answers amounts as Decimal objects: {"__class__": "Decimal", "decimal": "120.00"}.
  auto amount_of = [](const json& v) { return v.is_object() ? v["decimal"].get<std::string>() : v.dump(); };

  // An advance of 100.00, approved by finance and paid: its own move, clearing against the bank.
  json advance = must(d_->call_as(rep, "POST", "/api/v1/expenses/advances", json({{"amount", money(10000)}, {"purpose", "trip"}}).dump()), 201);
  const std::string advance_path = "/api/v1/expenses/advances/" + advance["id"].get<std::string>();
  must(d_->call_as(fin, "POST", "/api/v1/approvals/" + advance["approval_id"].get<std::string>() + "/decisions", R"({"decision": "approve"})"), 200);
  ASSERT_TRUE(eventually([&] { return must(d_->call_as(fin, "GET", advance_path), 200)["status"] == "approved"; }, std::chrono::seconds(20)));
  must(d_->call_as(fin, "POST", advance_path + "/paid", R"({"paid_on": "2026-11-10"})"), 200);
  ASSERT_TRUE(eventually([&] { return !must(d_->call_as(fin, "GET", advance_path), 200)["posted_ref"].is_null(); }, std::chrono::seconds(60)))
      << d_->log();
  json advance_moves = moves_for("advance-" + advance["id"].get<std::string>());
  ASSERT_EQ(advance_moves.size(), 1u);
  EXPECT_EQ(advance_moves[0]["state"], "posted");

  // A claim of 120.00 travel on the cost centre and 30.00 meals, approved by the head.
  json claim = must(d_->call_as(rep, "POST", "/api/v1/expenses/claims",
                                json({{"purpose", "customer"},
                                      {"lines", {{{"date", "2026-11-16"}, {"category", "travel"}, {"amount", money(12000)}, {"cost_centre", prefix_ + "CC10"}},
                                                 {{"date", "2026-11-17"}, {"category", "meals"}, {"amount", money(3000)}}}}}).dump()),
                    201);
  const std::string claim_path = "/api/v1/expenses/claims/" + claim["id"].get<std::string>();
  json submitted = must(d_->call_as(rep, "POST", claim_path + "/submit"), 200);
  must(d_->call_as(head, "POST", "/api/v1/approvals/" + submitted["approval_id"].get<std::string>() + "/decisions", R"({"decision": "approve"})"), 200);
  ASSERT_TRUE(eventually([&] { return must(d_->call_as(rep, "GET", claim_path), 200)["status"] == "posted"; }, std::chrono::seconds(60)))
      << d_->log();

  json moves = moves_for("claim-" + claim["id"].get<std::string>());
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0]["state"], "posted");
  EXPECT_EQ(must(d_->call_as(rep, "GET", claim_path), 200)["posted_ref"], std::to_string(moves[0]["id"].get<int64_t>()));
  std::map<std::string, std::pair<std::string, std::string>> by_account;
  int analytic = 0;
  for (const json& line : lines_of(moves[0])) {
    by_account[line["account."]["code"].get<std::string>()] = {amount_of(line["debit"]), amount_of(line["credit"])};
    analytic += static_cast<int>(line["analytic_lines"].size());
  }
  ASSERT_EQ(by_account.size(), 4u) << moves.dump();
  EXPECT_EQ(by_account[prefix_ + "6602"].first, "120.00");
  EXPECT_EQ(by_account[prefix_ + "6604"].first, "30.00");
  EXPECT_EQ(by_account[prefix_ + "1221"].second, "100.00");
  EXPECT_EQ(by_account[prefix_ + "2241"].second, "50.00");
  EXPECT_EQ(analytic, 1);
}

// Customer payments in Tryton — invoices paid with "Pay invoice", the contract number in the invoice's reference —
// reach the contracts plugin as collections through a document stream: once each, however often the overlap
// reads them again and across a restart; a payment for a contract Annex lacks is dead-lettered naming it; and a
// payment cancelled in Tryton (unreconciled, its move cancelled and the cancellation posted) is reversed.
TEST_F(SyncTryton, PaidInvoicesBecomeCollectionsOnceAndACancelledPaymentReversesIt) {
  auto search = [&](const std::string& model, const json& domain) {
    return tryton_->call("model." + model + ".search", json::array({domain, 0, nullptr, nullptr}));
  };
  auto decimal = [](const std::string& text) { return json{{"__class__", "Decimal"}, {"decimal", text}}; };
  json on = {{"__class__", "date"}, {"year", 2026}, {"month", 11}, {"day", 20}};
  fiscal_year_2026();
  auto account = [&](const std::string& name) { return search("account.account", json::array({json::array({"name", "=", name})}))[0]; };
  json cash = search("account.journal", json::array({json::array({"code", "=", "CASH"})}));
  json revenue = search("account.journal", json::array({json::array({"code", "=", "REV"})}));
  json eur = search("currency.currency", json::array({json::array({"code", "=", "EUR"})}));
  json bank = tryton_->call("model.account.invoice.payment.method.create", json::array({json::array({
      {{"company", 1}, {"name", "Bank " + prefix_}, {"journal", cash[0]}, {"credit_account", account("Main Cash")}, {"debit_account", account("Main Cash")}}})}));
  json party = tryton_->call("model.party.party.create", json::array({json::array({
      {{"name", "Northwind " + prefix_}, {"code", prefix_ + "C1"}, {"addresses", json::array({json::array({"create", json::array({{{"street", "Main 1"}}})})})}}})}));
  json address = tryton_->call("model.party.party.read", json::array({party, json::array({"addresses"})}))[0]["addresses"][0];
  // A posted customer invoice for `contract`, paid in full: returns the payment's receivable line.
  auto paid_invoice = [&](const std::string& contract, const std::string& amount) {
    json invoice = tryton_->call("model.account.invoice.create", json::array({json::array({{
        {"company", 1}, {"type", "out"}, {"party", party[0]}, {"invoice_address", address}, {"currency", eur[0]}, {"journal", revenue[0]},
        {"account", account("Main Receivable")}, {"reference", contract}, {"invoice_date", on},
        {"lines", json::array({json::array({"create", json::array({{{"type", "line"}, {"account", account("Main Revenue")}, {"quantity", 1},
            {"unit_price", decimal(amount)}, {"description", "Toner"}, {"currency", eur[0]}, {"company", 1}}})})})}}})}))[0];
    tryton_->call("model.account.invoice.post", json::array({json::array({invoice})}));
    json records = {{"active_model", "account.invoice"}, {"active_id", invoice}, {"active_ids", json::array({invoice})}};
    json wizard = tryton_->call_with("wizard.account.invoice.pay.create", json::array(), json::object());
    tryton_->call_with("wizard.account.invoice.pay.execute", json::array({wizard[0], {{"start", {{"amount", decimal(amount)}, {"currency", eur[0]},
                       {"payment_method", bank[0]}, {"date", on}, {"description", "Payment " + contract}}}}, "choice"}), records);
    tryton_->call_with("wizard.account.invoice.pay.delete", json::array({wizard[0]}), records);
    json paid = tryton_->call("model.account.invoice.read", json::array({json::array({invoice}), json::array({"state", "payment_lines"})}))[0];
    EXPECT_EQ(paid["state"], "paid") << paid.dump();
    return paid["payment_lines"][0].get<int64_t>();
  };

  std::ofstream(dir_.path() / "annex.json") << R"({"sync": {"connections": {"erp": {"connector": "tryton",
    "settings": {"url": ")" + url_ + R"(", "login": "admin", "password": "{password}", "overlap_s": 3600,
      "streams": {"collections": {"collections": {}}}},
    "secrets": {"password": "env:ANNEX_TEST_TRYTON_PASSWORD"},
    "retry": {"attempts": 3, "base_ms": 10, "max_ms": 50}, "breaker": {"failures": 100, "open_s": 1},
    "streams": {"collections": {"documents": "org.annex.contracts", "direction": "pull", "remote_id": "id", "page_size": 2}}}}},
    "plugins": {"org.annex.contracts": {"collections": {"connection": "erp", "stream": "collections"}}}})";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}, {"ANNEX_TEST_TRYTON_PASSWORD", "admin"}};
  o.data_dir = (dir_.path() / "data").string();
  d_ = std::make_unique<Annexd>(o);
  std::string rep = d_->user_with_role("rep", "sales-rep", "north");
  std::string rep_id = json::parse(d_->call_as(rep, "GET", "/api/v1/auth/me").body)["id"];
  auto as_rep = [&](const std::string& method, const std::string& path, const json& body) {
    return d_->call(method, path, body.dump(), {{"Authorization", "Bearer " + rep}, {"Content-Type", "application/json"}});
  };
  std::string customer = json::parse(d_->call("POST", "/api/v1/masterdata/parties",
                                              json({{"code", prefix_ + "C1"}, {"name", "Northwind"}, {"sector_id", "north"}, {"owner_id", rep_id}}).dump())
                                         .body)["id"];
  std::string product = json::parse(d_->call("POST", "/api/v1/masterdata/products", json({{"code", prefix_ + "P1"}, {"name", "Toner"}}).dump()).body)["id"];
  const std::string number = prefix_ + "K-1";
  HttpResult made = as_rep("POST", "/api/v1/contracts", {{"number", number}, {"party_id", customer}, {"currency", "EUR"},
                                                         {"lines", {{{"product_id", product}, {"quantity", 15}, {"unit_price", {{"amount", 100000}, {"currency", "EUR"}}}}}}});
  ASSERT_EQ(made.status, 201) << made.body;
  std::string path = "/api/v1/contracts/" + json::parse(made.body)["id"].get<std::string>();
  ASSERT_EQ(as_rep("PATCH", path, {{"status", "awaiting_signature"}}).status, 200);
  ASSERT_EQ(as_rep("PATCH", path, {{"status", "signed"}, {"signed_on", "2026-10-01"}}).status, 200);

  auto pull = [&] {
    auto finished = [&] {
      std::set<std::string> ids;
      json runs = json::parse(d_->call("GET", "/api/v1/sync/runs?connection=erp").body)["items"];
      for (const auto& r : runs) {
        if (!r["finished_at"].is_null()) ids.insert(r["id"].get<std::string>());
      }
      return ids;
    };
    std::set<std::string> before = finished();
    EXPECT_TRUE(eventually([&] { return d_->call("POST", "/api/v1/sync/connections/erp/runs", R"({"stream": "collections"})").status == 202; },
                           std::chrono::seconds(20)));
    EXPECT_TRUE(eventually([&] { return finished().size() > before.size(); }, std::chrono::seconds(60)))
        << d_->call("GET", "/api/v1/sync/runs?connection=erp").body;
  };
  auto collections = [&] { return json::parse(d_->call("GET", path + "/collections").body); };
  auto letters = [&] {
    json body = json::parse(d_->call("GET", "/api/v1/sync/dead-letters?connection=erp").body);
    return body["items"];
  };

  int64_t first = paid_invoice(number, "6000.00");
  paid_invoice(number, "3000.00");
  paid_invoice(prefix_ + "K-404", "100.00");
  pull();
  json got = collections();
  EXPECT_EQ(got["collected"]["amount"], 900000) << got.dump() << letters().dump();
  ASSERT_EQ(got["items"].size(), 2u) << got.dump();
  EXPECT_EQ(got["items"][0]["source"], "erp");
  bool named = false;
  for (const auto& l : letters()) {
    std::string reason = l["reason"];
    named = named || (reason.find(prefix_ + "K-404") != std::string::npos && reason.find("contract_number") != std::string::npos);
  }
  EXPECT_TRUE(named) << letters().dump();

  // Read again (the overlap takes every payment of the last hour): nothing counts twice.
  pull();
  EXPECT_EQ(collections()["collected"]["amount"], 900000);

  // Finance cancels the first payment in Tryton: unreconciled from the invoice, its move cancelled, the
  // cancellation posted.
  json line = tryton_->call("model.account.move.line.read", json::array({json::array({first}), json::array({"reconciliation", "move"})}))[0];
  tryton_->call("model.account.move.reconciliation.delete", json::array({json::array({line["reconciliation"]})}));
  json records = {{"active_model", "account.move"}, {"active_id", line["move"]}, {"active_ids", json::array({line["move"]})}};
  json wizard = tryton_->call_with("wizard.account.move.cancel.create", json::array(), json::object());
  tryton_->call_with("wizard.account.move.cancel.execute", json::array({wizard[0], {{"default", {{"description", "bounced"}}}}, "cancel"}), records);
  tryton_->call_with("wizard.account.move.cancel.delete", json::array({wizard[0]}), records);
  json cancellation = search("account.move", json::array({json::array({"origin", "=", "account.move," + std::to_string(line["move"].get<int64_t>())})}));
  ASSERT_EQ(cancellation.size(), 1u);
  tryton_->call("model.account.move.post", json::array({cancellation}));
  pull();
  got = collections();
  EXPECT_EQ(got["collected"]["amount"], 300000) << got.dump() << letters().dump();
  json reversed = got["items"][0]["reference"] == std::to_string(first) ? got["items"][0] : got["items"][1];
  EXPECT_EQ(reversed["reference"], std::to_string(first));
  EXPECT_FALSE(reversed["reversal"].is_null()) << got.dump();

  // annexd killed, and everything read again from the start when it is back: the same figures.
  d_->kill_hard();
  d_ = std::make_unique<Annexd>(o);
  d_->sql("DELETE FROM annex_sync_cursors WHERE stream = 'collections'");
  pull();
  EXPECT_EQ(collections()["collected"]["amount"], 300000);
}

}  // namespace
}  // namespace annex::test

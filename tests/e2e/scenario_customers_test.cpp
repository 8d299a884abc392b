// The customer master shared by Annex, a Tryton ERP and an S/4HANA-style OData service, end to end against the
// real peers: customers created in Tryton appear in Annex; a sales rep's new customer in Annex appears in
// Tryton and in the OData service; an address changed in the ERP wins where the ERP is the system of record, and
// a tier changed in Annex wins where Annex is, even against a concurrent change in the OData service.
#include "e2e/peer_clients.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>

namespace annex::test {
namespace {

class CustomerScenario : public testing::Test {
 protected:
  void SetUp() override {
    std::string odata_url;
    if (!odata_state().empty()) std::ifstream(odata_state() / "url") >> odata_url;
    if (tryton_url().empty() || odata_url.empty()) {
      if (const char* ci = std::getenv("CI"); ci != nullptr && std::string(ci) == "true") FAIL() << "CI runs the scenario: a peer is missing";
      GTEST_SKIP() << "no Tryton or OData server for this run";
    }
    tryton_ = std::make_unique<Tryton>(tryton_url());
    service_ = std::make_unique<Service>(odata_url);
    prefix_ = "S" + std::to_string(10000 + std::random_device{}() % 90000);
  }

  std::string sync(const std::string& connection) {
    std::string out;
    EXPECT_EQ(d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "run", connection}, &out), 0) << out;
    return out;
  }

  json annex_party(const std::string& code) {
    const json items = json::parse(d_->call("GET", "/api/v1/masterdata/parties?limit=500").body)["items"];  // named: outlives the loop
    for (const auto& p : items) {
      if (p["code"] == code) return p;
    }
    return nullptr;
  }

  json tryton_party(const std::string& code) {
    json rows = tryton_->call("model.party.party.search_read",
                              json::array({json::array({json::array({"code", "=", code})}), 0, 1, nullptr,
                                           json::array({"id", "name", "addresses.street", "addresses.city", "addresses.postal_code"})}));
    return rows.empty() ? json(nullptr) : rows[0];
  }

  TempDir dir_;
  std::string prefix_;
  std::unique_ptr<Tryton> tryton_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<Annexd> d_;
};

TEST_F(CustomerScenario, CustomersTravelBetweenAnnexTrytonAndTheODataServiceAndEachFieldKeepsItsOwner) {
  // Tryton is the ERP: it owns names and addresses. The OData service gets Annex's customers; Annex owns the tier.
  std::ofstream(dir_.path() / "annex.json") << R"({"sync": {"connections": {
    "erp": {"connector": "tryton",
      "settings": {"url": ")" + tryton_url() + R"(", "login": "admin", "overlap_s": 2,
        "streams": {"customers": {"model": "party.party", "fields": ["code", "name"], "key_field": "code",
                                  "one2many": {"addresses": ["street", "city", "postal_code"]}}}},
      "secrets": {"password": "env:ANNEX_TEST_TRYTON_PASSWORD"}, "retry": {"attempts": 2, "base_ms": 10, "max_ms": 50},
      "streams": {"customers": {"entity": "parties", "direction": "both", "remote_id": "id", "version_field": "changed_at",
        "page_size": 200, "sector_id": "hq", "owner_login": "admin",
        "fields": {"code": "code", "name": "name", "addresses": "addresses"}, "system_of_record": {"default": "remote"}}}},
    "s4": {"connector": "odata",
      "settings": {"url": ")" + service_->root() + R"(", "user": "sync", "batch_size": 50,
        "streams": {"customers": {"service": "api-business-partner", "entity_set": "A_BusinessPartner", "key": ["BusinessPartner"],
          "fields": ["BusinessPartnerFullName", "BusinessPartnerGrouping"],
          "create_defaults": {"BusinessPartnerCategory": "2",
                              "to_CustomerCompany": [{"CompanyCode": "1010", "ReconciliationAccount": "12100000", "PaymentTerms": "0001"}]}}}},
      "secrets": {"password": "env:ANNEX_TEST_ODATA_PASSWORD"}, "retry": {"attempts": 2, "base_ms": 10, "max_ms": 50},
      "streams": {"customers": {"entity": "parties", "direction": "push", "remote_id": "_id", "version_field": "_etag",
        "fields": {"code": "BusinessPartner", "name": "BusinessPartnerFullName",
                   "tier": {"from": "BusinessPartnerGrouping", "values": {"BP01": "A", "BP02": "B", "BP03": "C"}}},
        "system_of_record": {"default": "remote", "tier": "annex"}}}}}}})";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}, {"ANNEX_TEST_TRYTON_PASSWORD", "admin"},
           {"ANNEX_TEST_ODATA_PASSWORD", "sync-secret"}};
  d_ = std::make_unique<Annexd>(o);

  // 1. A customer created in Tryton appears in Annex, with its address.
  tryton_->call("model.party.party.create", json::array({json::array({{{"code", prefix_ + "T"}, {"name", "Tryton Kunde GmbH"},
      {"addresses", json::array({json::array({"create", json::array({{{"street", "Hafenstr. 1"}, {"city", "Bremen"}, {"postal_code", "28195"}}})})})}}})}));
  std::string out = sync("erp");
  json from_erp = annex_party(prefix_ + "T");
  ASSERT_FALSE(from_erp.is_null()) << out;
  EXPECT_EQ(from_erp["name"], "Tryton Kunde GmbH");
  EXPECT_EQ(from_erp["addresses"][0]["city"], "Bremen");

  // 2. A sales rep's new customer appears in Tryton and in the OData service.
  std::string rep = d_->user_with_role("rep" + prefix_, "sales-rep", "hq");
  json customer = {{"code", prefix_ + "N"}, {"name", "Neukunde AG"}, {"tier", "B"}};
  customer["addresses"] = json::parse(R"([{"street": "Marktplatz 3", "city": "Stuttgart", "postal_code": "70173"}])");
  HttpResult made = d_->call_as(rep, "POST", "/api/v1/masterdata/parties", customer.dump());
  ASSERT_EQ(made.status, 201) << made.body;
  std::string id = json::parse(made.body)["id"];
  EXPECT_TRUE(eventually([&] { return !tryton_party(prefix_ + "N").is_null(); }, std::chrono::seconds(30))) << d_->log();
  EXPECT_EQ(tryton_party(prefix_ + "N")["addresses."][0]["city"], "Stuttgart");
  EXPECT_TRUE(eventually([&] { return service_->partner(prefix_ + "N").is_object(); }, std::chrono::seconds(30))) << d_->log();
  json in_s4 = service_->partner(prefix_ + "N");
  EXPECT_EQ(in_s4["BusinessPartnerFullName"], "Neukunde AG");
  EXPECT_EQ(in_s4["BusinessPartnerGrouping"], "BP02");
  EXPECT_EQ(in_s4["to_CustomerCompany"].size(), 1u);

  // 3. The address is the ERP's: an edit in Annex is refused (the next pull would overwrite it without a
  //    word), and the change made in Tryton arrives.
  json t = tryton_party(prefix_ + "N");
  json address_ids = tryton_->call("model.party.address.search", json::array({json::array({json::array({"party", "=", t["id"]})}), 0, 10, nullptr}));
  ASSERT_EQ(address_ids.size(), 1u);
  tryton_->call("model.party.address.write", json::array({address_ids, {{"street", "Königstr. 10"}, {"city", "Stuttgart-Mitte"}}}));
  HttpResult edit = d_->call_as(rep, "PATCH", "/api/v1/masterdata/parties/" + id,
                                json({{"addresses", json::parse(R"([{"street": "Wrong St 9", "city": "Ulm", "postal_code": "89073"}])")}}).dump());
  EXPECT_EQ(edit.status, 409) << edit.body;
  EXPECT_NE(edit.body.find("\"field\":\"addresses\""), std::string::npos) << edit.body;
  out = sync("erp");
  json after = annex_party(prefix_ + "N");
  EXPECT_EQ(after["addresses"][0]["city"], "Stuttgart-Mitte") << out;
  EXPECT_EQ(after["addresses"][0]["street"], "Königstr. 10");
  EXPECT_EQ(tryton_party(prefix_ + "N")["addresses."][0]["city"], "Stuttgart-Mitte");

  // 4. The tier is Annex's: changed in Annex while the OData service's users set another grouping, Annex's
  //    value ends in the service (a 412, a re-read, the update sent again); the service's name stays.
  service_->change_partner(prefix_ + "N", {{"BusinessPartnerGrouping", "BP03"}, {"BusinessPartnerFullName", "Neukunde AG (S/4)"}});
  HttpResult tier = d_->call_as(rep, "PATCH", "/api/v1/masterdata/parties/" + id, json({{"tier", "A"}}).dump());
  ASSERT_EQ(tier.status, 200) << tier.body;
  EXPECT_TRUE(eventually([&] { return service_->partner(prefix_ + "N").value("BusinessPartnerGrouping", "") == "BP01"; },
                         std::chrono::seconds(30))) << d_->log();
  EXPECT_EQ(service_->partner(prefix_ + "N")["BusinessPartnerFullName"], "Neukunde AG (S/4)");
  EXPECT_EQ(annex_party(prefix_ + "N")["tier"], "A");
  std::string letters;
  d_->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "dead-letters", "list"}, &letters);
  EXPECT_EQ(count_in(*d_, "SELECT COUNT(*) FROM annex_sync_dead_letters"), 0) << letters;
}

}  // namespace
}  // namespace annex::test

// Special expenses for new customers (R6) in the relationship-spending plugin, end to end on SQLite and PostgreSQL,
// as reps, a sector head, finance and an auditor: an application filed before the customer's first signing goes
// through the host's approval chain (never decided by its own rep); one filed or resubmitted after the signing is
// refused naming the contract and its date, and the attempt stays on record as an exception for auditors; each
// sees only the applications within reach; bad input is refused naming the field.
#include "plugin_test.h"

#include "../../plugins/relationship_spending/special_expense.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

namespace annex::test {
namespace {

using nlohmann::json;

constexpr const char* kApplications = "/api/v1/relationship-spending/special-expenses";
constexpr const char* kExceptions = "/api/v1/relationship-spending/exceptions";

class RelationshipSpecialExpenses : public PluginTest {
 protected:
  void SetUp() override {
    // The sector head decides first, then finance.
    start(R"({"approvals": {"chains": {"relationship-special-expense": {"steps": [
                {"name": "head", "role": "sector-head"},
                {"name": "finance", "role": "finance", "scope": "any"}]}}}})");
    if (IsSkipped()) return;
    rep_ = d_->user_with_role("rep", "sales-rep", "north");
    rep2_ = d_->user_with_role("rep2", "sales-rep", "north");
    south_ = d_->user_with_role("southrep", "sales-rep", "south");
    head_ = d_->user_with_role("head", "sector-head", "north");
    finance_ = d_->user_with_role("fin", "finance");
    auditor_ = d_->user_with_role("aud", "auditor");
    rep_id_ = me(rep_);
    rep2_id_ = me(rep2_);
    customer_ = party("C100", "Northwind", rep_id_);
    other_customer_ = party("C200", "Contoso", rep2_id_);
    product_ = json::parse(must(d_->call("POST", "/api/v1/masterdata/products", R"({"code": "P1", "name": "Toner"})"), 201))["id"];
  }

  std::string party(const std::string& code, const std::string& name, const std::string& owner) {
    json p = {{"code", code}, {"name", name}, {"sector_id", "north"}, {"owner_id", owner}};
    return json::parse(must(d_->call("POST", "/api/v1/masterdata/parties", p.dump()), 201))["id"];
  }
  static json money(int64_t amount, const std::string& currency = "CNY") { return {{"amount", amount}, {"currency", currency}}; }
  json application(const std::string& party_id, int64_t amount = 500000) {
    return {{"party_id", party_id}, {"amount", money(amount)}, {"justification", "Their purchasing head decides on a 2M tender in May"}};
  }
  HttpResult file(const std::string& token, const json& body) { return as(token, "POST", kApplications, body); }
  json filed(const json& body) { return json::parse(must(file(rep_, body), 201)); }
  static std::string path(const json& application) { return std::string(kApplications) + "/" + application["id"].get<std::string>(); }
  json get(const std::string& token, const std::string& p) { return json::parse(must(as(token, "GET", p), 200)); }
  void decide(const std::string& token, const std::string& approval_id, const std::string& decision, const std::string& comment = "ok") {
    must(as(token, "POST", "/api/v1/approvals/" + approval_id + "/decisions", {{"decision", decision}, {"comment", comment}}), 200);
  }
  // Waits for the plugin to hear of the approval's outcome.
  bool reaches(const json& application, const std::string& status) {
    return eventually([&] { return get(finance_, path(application))["status"] == status; });
  }
  // A contract of `rep_` with `customer_`, signed on `on`.
  json signed_contract(const std::string& number, const std::string& on) {
    json c = json::parse(must(as(rep_, "POST", "/api/v1/contracts",
                                 {{"number", number}, {"party_id", customer_}, {"currency", "CNY"},
                                  {"lines", {{{"product_id", product_}, {"quantity", 10}, {"unit_price", money(100000)}}}}}),
                              201));
    std::string p = "/api/v1/contracts/" + c["id"].get<std::string>();
    must(as(rep_, "PATCH", p, {{"status", "awaiting_signature"}}), 200);
    return json::parse(must(as(rep_, "PATCH", p, {{"status", "signed"}, {"signed_on", on}}), 200));
  }
  static std::string field(const HttpResult& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") && j["error"]["field"].is_string() ? j["error"]["field"].get<std::string>() : "";
  }
  std::set<std::string> audit_actions(const std::string& object) {
    json entries = json::parse(must(d_->call("GET", "/api/v1/audit?object=" + object), 200))["items"];
    std::set<std::string> actions;
    for (const auto& e : entries) actions.insert(e["action"]);
    return actions;
  }

  std::string rep_, rep2_, south_, head_, finance_, auditor_, rep_id_, rep2_id_, customer_, other_customer_, product_;
};

TEST_P(RelationshipSpecialExpenses, AnApplicationBeforeTheFirstSigningIsApprovedThroughTheChain) {
  json a = filed(application(customer_));
  EXPECT_EQ(a["status"], "filed");
  EXPECT_EQ(a["purpose"], "new_customer_special") << "the purpose unless another is named";
  EXPECT_EQ(a["rep_id"], rep_id_);
  EXPECT_EQ(a["sector_id"], "north") << "the rep's home sector";
  EXPECT_EQ(a["amount"], money(500000));
  EXPECT_EQ(a["approval"]["chain"], "relationship-special-expense");
  EXPECT_EQ(a["approval"]["amount"], money(500000));
  std::string approval = a["approval_id"];

  HttpResult self = as(rep_, "POST", "/api/v1/approvals/" + approval + "/decisions", {{"decision", "approve"}});
  EXPECT_TRUE(self.status == 403 || self.status == 404) << "the rep never approves their own: " << self.body;

  // The approver reads the justification, the chain's state and that the customer has signed nothing yet.
  json seen = get(head_, path(a));
  EXPECT_EQ(seen["justification"], "Their purchasing head decides on a 2M tender in May");
  EXPECT_EQ(seen["approval"]["current_step"], "head");
  EXPECT_TRUE(seen["first_signed"].is_null());

  decide(head_, approval, "approve");
  decide(finance_, approval, "approve", "within budget");
  ASSERT_TRUE(reaches(a, "approved"));
  json approved = get(rep_, path(a));
  EXPECT_EQ(approved["decision"]["by"], me(finance_));
  EXPECT_EQ(approved["decision"]["comment"], "within budget");
  EXPECT_EQ(approved["version"], 2);
  std::set<std::string> actions = audit_actions("relationship.special_expense/" + a["id"].get<std::string>());
  EXPECT_TRUE(actions.count("relationship.special_expense.file") && actions.count("relationship.special_expense.approved"))
      << "filing and decision audited";
  // The customer's first signing after approval is what the statement pays it against.
  signed_contract("K-2027-001", "2027-04-10");
  EXPECT_EQ(get(rep_, path(a))["first_signed"]["number"], "K-2027-001");
  EXPECT_EQ(get(auditor_, std::string(kApplications) + "?status=approved")["items"].size(), 1u);
}

TEST_P(RelationshipSpecialExpenses, AnApplicationAfterTheFirstSigningIsRefusedAndRecordedAsAnException) {
  json contract = signed_contract("K-2027-001", "2027-04-10");
  signed_contract("K-2027-002", "2027-05-02");
  HttpResult late = file(rep_, application(customer_));
  EXPECT_EQ(late.status, 422) << late.body;
  EXPECT_EQ(field(late), "party_id");
  EXPECT_NE(late.body.find("K-2027-001"), std::string::npos) << "names the first contract: " << late.body;
  EXPECT_NE(late.body.find("2027-04-10"), std::string::npos) << "and its signing date: " << late.body;
  EXPECT_TRUE(get(finance_, kApplications)["items"].empty()) << "nothing filed";

  json exceptions = get(auditor_, std::string(kExceptions) + "?kind=pre_approval_after_signing")["items"];
  ASSERT_EQ(exceptions.size(), 1u) << exceptions.dump();
  const json& e = exceptions[0];
  EXPECT_EQ(e["rep_id"], rep_id_);
  EXPECT_EQ(e["sector_id"], "north");
  EXPECT_EQ(e["party_id"], customer_);
  EXPECT_EQ(e["subject"], json({{"type", "contracts.contract"}, {"id", contract["id"]}}));
  EXPECT_EQ(e["detail"]["contract"]["signed_on"], "2027-04-10");
  EXPECT_EQ(e["detail"]["amount"], money(500000));
  EXPECT_EQ(e["detail"]["attempt"], "file");
  EXPECT_EQ(get(finance_, kExceptions)["items"].size(), 1u) << "finance sees it too";
  EXPECT_TRUE(get(rep2_, kExceptions)["items"].empty()) << "another rep does not";
  EXPECT_TRUE(get(auditor_, std::string(kExceptions) + "?kind=late_filing")["items"].empty());
  EXPECT_EQ(field(as(auditor_, "GET", std::string(kExceptions) + "?kind=gifts")), "kind");
  // By day of `at` (the host clock, UTC here), both ends inclusive.
  const std::string today = e["at"].get<std::string>().substr(0, 10);
  EXPECT_EQ(get(auditor_, std::string(kExceptions) + "?from=" + today + "&to=" + today)["items"].size(), 1u);
  EXPECT_TRUE(get(auditor_, std::string(kExceptions) + "?to=2000-01-01")["items"].empty());
  EXPECT_TRUE(get(auditor_, std::string(kExceptions) + "?from=9999-01-01")["items"].empty());
  EXPECT_EQ(get(auditor_, std::string(kExceptions) + "?rep_id=" + rep_id_)["items"].size(), 1u);
  EXPECT_EQ(field(as(auditor_, "GET", std::string(kExceptions) + "?from=2027-02-30")), "from");
  EXPECT_EQ(audit_actions("relationship.exception/" + e["id"].get<std::string>()).count("relationship.exception.pre_approval_after_signing"), 1u);

  // Another customer, not yet signed, is still open to one.
  json other = json::parse(must(file(rep2_, application(other_customer_)), 201));
  EXPECT_EQ(other["status"], "filed");
}

TEST_P(RelationshipSpecialExpenses, AReturnedApplicationIsResubmittedButNotOnceTheCustomerHasSigned) {
  json a = filed(application(customer_));
  std::string approval = a["approval_id"];
  decide(head_, approval, "return", "which tender?");
  ASSERT_TRUE(reaches(a, "returned"));
  json returned = get(rep_, path(a));
  EXPECT_EQ(returned["decision"]["comment"], "which tender?");
  EXPECT_EQ(as(rep2_, "POST", path(a) + "/resubmit", json::object()).status, 404) << "out of another rep's reach";
  HttpResult stale = as(rep_, "POST", path(a) + "/resubmit", {{"justification", "x"}}, {{"If-Match", "\"v1\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  HttpResult more = as(rep_, "POST", path(a) + "/resubmit", {{"amount", money(900000)}});
  EXPECT_EQ(more.status, 422) << "the chain was chosen by the amount filed: " << more.body;
  EXPECT_EQ(field(more), "amount");
  json again = json::parse(must(as(rep_, "POST", path(a) + "/resubmit",
                                   {{"justification", "The May tender for the Jiangsu plant"}, {"amount", money(400000)}}),
                                200));
  EXPECT_EQ(again["status"], "filed");
  EXPECT_EQ(again["approval"]["round"], 2);
  EXPECT_EQ(again["amount"], money(400000));
  EXPECT_EQ(as(rep_, "POST", path(a) + "/resubmit", json::object()).status, 409) << "filed, not returned";

  decide(head_, approval, "return", "and the budget?");
  ASSERT_TRUE(reaches(a, "returned"));
  signed_contract("K-2027-003", "2027-06-01");
  HttpResult late = as(rep_, "POST", path(a) + "/resubmit", {{"justification", "Budget attached"}});
  EXPECT_EQ(late.status, 422) << late.body;
  EXPECT_EQ(field(late), "party_id");
  EXPECT_NE(late.body.find("K-2027-003"), std::string::npos) << late.body;
  EXPECT_EQ(get(rep_, path(a))["status"], "returned") << "the refused resubmission changed nothing";
  json exceptions = get(finance_, kExceptions)["items"];
  ASSERT_EQ(exceptions.size(), 1u);
  EXPECT_EQ(exceptions[0]["detail"]["attempt"], "resubmit");
  EXPECT_EQ(exceptions[0]["detail"]["application_id"], a["id"]);
}

TEST_P(RelationshipSpecialExpenses, ARejectedApplicationStaysRejected) {
  json a = filed(application(customer_));
  decide(head_, a["approval_id"], "reject", "no budget this quarter");
  ASSERT_TRUE(reaches(a, "rejected"));
  EXPECT_EQ(get(rep_, path(a))["decision"]["by"], me(head_));
  EXPECT_EQ(as(rep_, "POST", path(a) + "/resubmit", json::object()).status, 409);
}

TEST_P(RelationshipSpecialExpenses, EachSeesOnlyTheApplicationsWithinReach) {
  json a = filed(application(customer_));
  EXPECT_EQ(as(rep2_, "GET", path(a)).status, 404) << "a rep never sees another's";
  EXPECT_EQ(as(south_, "GET", path(a)).status, 404);
  EXPECT_TRUE(get(rep2_, kApplications)["items"].empty());
  EXPECT_TRUE(get(south_, kApplications)["items"].empty());
  for (const std::string& reader : {rep_, head_, finance_, auditor_}) {
    EXPECT_EQ(as(reader, "GET", path(a)).status, 200);
    EXPECT_EQ(get(reader, kApplications)["items"].size(), 1u);
  }
  EXPECT_EQ(as(rep2_, "GET", std::string(kApplications) + "/rse_missing").status, 404);
  // Filing is the reps': auditors and sector heads do not apply.
  EXPECT_EQ(file(auditor_, application(customer_)).status, 403);
  EXPECT_EQ(file(head_, application(customer_)).status, 403);
  HttpResult elsewhere = file(rep_, [&] { json b = application(customer_); b["sector_id"] = "south"; return b; }());
  EXPECT_EQ(elsewhere.status, 403) << "a rep files in their own sector: " << elsewhere.body;
}

TEST_P(RelationshipSpecialExpenses, BadApplicationsAreRefusedNamingTheField) {
  auto refused = [&](json body, int status, const std::string& at) {
    HttpResult r = file(rep_, body);
    EXPECT_EQ(r.status, status) << body.dump() << " → " << r.body;
    EXPECT_EQ(field(r), at) << body.dump() << " → " << r.body;
  };
  json bad = application(customer_);
  bad.erase("justification");
  refused(bad, 400, "justification");
  bad["justification"] = "   ";
  refused(bad, 422, "justification");
  refused(application("no-such-party"), 422, "party_id");
  refused(application(other_customer_), 422, "party_id");  // rep2's customer, out of reach
  bad = application(customer_);
  bad.erase("party_id");
  refused(bad, 400, "party_id");
  bad = application(customer_);
  bad["amount"] = money(500000, "XYZ");
  refused(bad, 422, "amount.currency");
  refused(application(customer_, -1), 422, "amount");
  refused(application(customer_, 0), 422, "amount");
  bad = application(customer_);
  bad["amount"] = {{"amount", 12.5}, {"currency", "CNY"}};
  refused(bad, 400, "amount");
  bad = application(customer_);
  bad["purpose"] = "gifts";
  refused(bad, 422, "purpose");
  bad = application(customer_);
  bad["opportunity_id"] = "no-such-opportunity";
  refused(bad, 422, "opportunity_id");
  // An opportunity of another customer is refused too.
  std::string third = party("C300", "Fabrikam", rep_id_);
  json elsewhere = json::parse(must(as(rep_, "POST", "/api/v1/pipeline/opportunities",
                                       {{"name", "Other"}, {"party_id", third}, {"amount", money(100000)}, {"expected_close", "2027-05-31"}}),
                                    201));
  bad["opportunity_id"] = elsewhere["id"];
  refused(bad, 422, "opportunity_id");
  EXPECT_TRUE(get(finance_, kApplications)["items"].empty());
  EXPECT_TRUE(get(finance_, kExceptions)["items"].empty()) << "bad input is no exception";

  // A named purpose and the customer's opportunity are kept.
  json opportunity = json::parse(must(as(rep_, "POST", "/api/v1/pipeline/opportunities",
                                         {{"name", "Tender"}, {"party_id", customer_}, {"amount", money(200000000)}, {"expected_close", "2027-05-31"}}),
                                      201));
  json good = application(customer_);
  good["purpose"] = "customer_event";
  good["opportunity_id"] = opportunity["id"];
  json a = filed(good);
  EXPECT_EQ(a["purpose"], "customer_event");
  EXPECT_EQ(a["opportunity_id"], opportunity["id"]);
}

INSTANTIATE_TEST_SUITE_P(Backends, RelationshipSpecialExpenses, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);

class RelationshipSpecialExpenseChain : public PluginTest {};

// Applications go through the configured chain; one the host does not have refuses filing, naming it.
TEST_P(RelationshipSpecialExpenseChain, ApplicationsGoThroughTheConfiguredChain) {
  start(R"({"approvals": {"chains": {"new-customer": {"steps": [{"name": "finance", "role": "finance", "scope": "any"}]}}},
            "plugins": {"org.annex.relationship-spending": {"special_expense_chain": "new-customer"}}})");
  std::string rep = d_->user_with_role("rep", "sales-rep", "north");
  d_->user_with_role("fin", "finance");
  json p = {{"code", "C100"}, {"name", "Northwind"}, {"sector_id", "north"}, {"owner_id", me(rep)}};
  std::string customer = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties", p.dump()), 201))["id"];
  json body = {{"party_id", customer}, {"amount", {{"amount", 100000}, {"currency", "CNY"}}}, {"justification", "A first order in sight"}};
  json a = json::parse(must(as(rep, "POST", kApplications, body), 201));
  EXPECT_EQ(a["approval"]["chain"], "new-customer");
}

TEST_P(RelationshipSpecialExpenseChain, WithoutItsChainFilingIsRefusedNamingTheChain) {
  start(R"({"plugins": {"org.annex.relationship-spending": {"special_expense_chain": "nowhere"}}})");
  std::string rep = d_->user_with_role("rep", "sales-rep", "north");
  json p = {{"code", "C100"}, {"name", "Northwind"}, {"sector_id", "north"}, {"owner_id", me(rep)}};
  std::string customer = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties", p.dump()), 201))["id"];
  json body = {{"party_id", customer}, {"amount", {{"amount", 100000}, {"currency", "CNY"}}}, {"justification", "A first order in sight"}};
  HttpResult refused = as(rep, "POST", kApplications, body);
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["error"]["field"], "chain");
  EXPECT_TRUE(json::parse(must(as(rep, "GET", kApplications), 200))["items"].empty()) << "nothing filed without its approval";
}

// A contract recorded after the filing may carry an earlier signing date: then the application came after the
// signing, and the statement never pays it.
TEST(RelationshipSpecialExpenseRule, AnApplicationFiledAfterTheSigningDateBreaksTheRule) {
  using relationship_spending::ApprovedSpecialExpense;
  ApprovedSpecialExpense approved;
  approved.application.filed_on = "2027-04-10";
  EXPECT_TRUE(approved.filed_before_signing()) << "nothing signed yet";
  approved.first_signed = relationship_spending::FirstSigned{"k1", "K-2027-001", "2027-04-10"};
  EXPECT_TRUE(approved.filed_before_signing()) << "filed on the day, before the signing was known";
  approved.first_signed->signed_on = "2027-05-01";
  EXPECT_TRUE(approved.filed_before_signing());
  approved.first_signed->signed_on = "2027-04-09";
  EXPECT_FALSE(approved.filed_before_signing()) << "signed the day before it was filed";
}

INSTANTIATE_TEST_SUITE_P(Sqlite, RelationshipSpecialExpenseChain, testing::Values(Backend::kSqlite), backend_param_name);

}  // namespace
}  // namespace annex::test

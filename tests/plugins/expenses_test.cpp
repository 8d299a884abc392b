// The expenses plugin end to end on SQLite and PostgreSQL, as several roles: claims and their lines (currencies,
// exchange rates, policies), submission through the host's approval chain, the finance step's reductions,
// anti-splitting (rolling limits across claims, the chain chosen by the cumulative amount), cash advances under
// the hard cap (also under 50 concurrent requests), settlement, reports and reach.
#include "plugin_test.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

namespace annex::test {
namespace {

using nlohmann::json;

class Expenses : public PluginTest {
 protected:
  void SetUp() override {
    start(R"({
      "blobs": {"max_bytes": 65536},
      "calendar": {"time_zone": "Asia/Shanghai", "years": {"2026": {
        "holidays": [{"date": "2026-10-01", "name": "National Day"}, "2026-10-02"], "working_days": ["2026-10-10"]}}},
      "approvals": {"chains": {
        "expense-claim": {"steps": [
          {"name": "head", "permission": "expenses.claim.approve"},
          {"name": "finance", "role": "finance", "scope": "any", "min_amount": 500000, "currency": "CNY"}]},
        "cash-advance": {"steps": [{"name": "finance", "role": "finance", "scope": "any"}]}}},
      "plugins": {"org.annex.expenses": {
        "advance_cap": {"default": 300000, "by_role": {"sector-head": 800000}},
        "categories": {
          "meals": {"gl_account": "6604", "receipt_above": 50000, "limits": {"line": 80000, "month": 150000}, "weekend": "warn",
                    "by_grade": {"M2": {"line": 120000}}},
          "travel": {"gl_account": "6602"},
          "entertainment": {"gl_account": "6605", "entertainment": true, "limits": {"per_attendee": 30000}, "over_limit": "warn"},
          "taxi": {"gl_account": "6606", "limits": {"day": 20000}, "weekend": "ok"}}}}
    })", {ANNEX_CONSUMER_PLUGIN_DIR});
    if (IsSkipped()) return;
    rep_ = d_->user_with_role("rep", "sales-rep", "north");
    rep2_ = d_->user_with_role("rep2", "sales-rep", "north");
    south_ = d_->user_with_role("southrep", "sales-rep", "south");
    head_ = d_->user_with_role("head", "sector-head", "north");
    finance_ = d_->user_with_role("fin", "finance");
    auditor_ = d_->user_with_role("aud", "auditor");
    rep_id_ = me(rep_);
    customer_ = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties",
                                          R"({"code": "C100", "name": "Northwind", "sector_id": "north", "owner_id": ")" + rep_id_ + R"("})"),
                                 201))["id"];
    must(d_->call("POST", "/api/v1/masterdata/exchange_rates", R"({"base": "USD", "quote": "CNY", "rate_date": "2026-11-16", "rate": "7.1235"})"), 201);
  }

  static json money(int64_t amount, const std::string& currency = "CNY") { return {{"amount", amount}, {"currency", currency}}; }
  static json line(const std::string& date, const std::string& category, int64_t amount, const std::string& currency = "CNY") {
    return {{"date", date}, {"category", category}, {"merchant", "Shop"}, {"amount", money(amount, currency)}};
  }
  // A claim of `token` with `lines`, as a draft.
  json draft(const std::string& token, json lines, json extra = json::object()) {
    json body = {{"purpose", "customer"}, {"lines", std::move(lines)}};
    body.update(extra);
    return json::parse(must(as(token, "POST", "/api/v1/expenses/claims", body), 201));
  }
  HttpResult submit(const std::string& token, const json& claim) {
    return as(token, "POST", "/api/v1/expenses/claims/" + claim["id"].get<std::string>() + "/submit");
  }
  json get(const std::string& token, const std::string& path) { return json::parse(must(as(token, "GET", path), 200)); }
  // Decides the approval as `token` and waits for the plugin to hear of the outcome.
  void decide(const std::string& token, const std::string& approval_id, const std::string& decision) {
    must(as(token, "POST", "/api/v1/approvals/" + approval_id + "/decisions", {{"decision", decision}, {"comment", "ok"}}), 200);
  }
  bool reaches(const std::string& path, const std::string& status) {
    return eventually([&] { return get(finance_, path)["status"] == status; });
  }
  // A PNG's first bytes, made distinct by `tag`: the host sniffs the type from the magic bytes.
  static std::string png(const std::string& tag) { return std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16) + tag; }
  // Uploads `bytes` as the receipt of line `line` of `claim`; the answer.
  HttpResult attach(const std::string& token, const json& claim, int line, const std::string& bytes,
                    const std::string& type = "image/png") {
    return http_call(d_->base_url(), "POST",
                     "/api/v1/expenses/claims/" + claim["id"].get<std::string>() + "/lines/" + std::to_string(line) + "/receipt", bytes,
                     {{"Authorization", "Bearer " + token}, {"Content-Type", type}});
  }
  // The SHA-256 of the receipt `bytes` once attached to line `line` of `claim`.
  std::string receipt(const std::string& token, const json& claim, int line, const std::string& bytes) {
    return json::parse(must(attach(token, claim, line, bytes), 200))["receipt"]["sha256"];
  }
  static std::string field(const HttpResult& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") && j["error"]["field"].is_string() ? j["error"]["field"].get<std::string>() : "";
  }

  std::string rep_, rep2_, south_, head_, finance_, auditor_, rep_id_, customer_;
};

TEST_P(Expenses, AClaimConvertsForeignLinesAtTheRateOfTheirDateAndMovesThroughApproval) {
  json c = draft(rep_, {line("2026-11-16", "travel", 10000, "USD"), line("2026-11-17", "meals", 12345)});
  EXPECT_EQ(c["status"], "draft");
  // $100.00 × 7.1235 = ¥712.35, exactly; the rate is kept on the line.
  EXPECT_EQ(c["lines"][0]["company_amount"], money(71235));
  EXPECT_EQ(c["lines"][0]["exchange_rate"], "7.1235");
  EXPECT_EQ(c["total"], money(71235 + 12345));
  std::string path = "/api/v1/expenses/claims/" + c["id"].get<std::string>();
  EXPECT_EQ(as(south_, "GET", path).status, 404) << "another sector's rep does not see it";
  EXPECT_EQ(as(rep2_, "GET", path).status, 404) << "a rep never sees another's claim";
  EXPECT_EQ(as(head_, "GET", path).status, 200) << "the sector head sees the sector's";
  EXPECT_EQ(as(auditor_, "GET", path).status, 200) << "auditors see all";
  json listed = get(rep2_, "/api/v1/expenses/claims");
  EXPECT_TRUE(listed["items"].empty()) << listed.dump();

  json submitted = json::parse(must(submit(rep_, c), 200));
  EXPECT_EQ(submitted["status"], "submitted");
  EXPECT_EQ(submitted["chain"]["amount"], money(83580));
  std::string approval = submitted["approval_id"];
  HttpResult edit = as(rep_, "PUT", path, {{"purpose", "customer"}, {"lines", {line("2026-11-17", "meals", 1)}}});
  EXPECT_EQ(edit.status, 409) << "a submitted claim is locked";
  HttpResult self = as(rep_, "POST", "/api/v1/approvals/" + approval + "/decisions", {{"decision", "approve"}});
  EXPECT_TRUE(self.status == 403 || self.status == 404) << self.body;
  // Finance may reduce a line, never raise it, and says why.
  HttpResult raise = as(finance_, "PATCH", path + "/lines/2", {{"sanctioned", money(20000)}, {"reason", "more"}});
  EXPECT_EQ(raise.status, 422);
  EXPECT_EQ(field(raise), "sanctioned");
  EXPECT_EQ(as(rep_, "PATCH", path + "/lines/2", {{"sanctioned", money(100)}, {"reason", "less"}}).status, 403);
  json reduced = json::parse(must(as(finance_, "PATCH", path + "/lines/2", {{"sanctioned", money(10000)}, {"reason", "wine is not a meal"}}), 200));
  EXPECT_EQ(reduced["lines"][1]["sanctioned"], money(10000));
  EXPECT_EQ(reduced["sanctioned"], money(81235));
  decide(head_, approval, "approve");
  ASSERT_TRUE(reaches(path, "approved"));
  json approved = get(rep_, path);
  EXPECT_EQ(approved["reimbursable"], money(81235));
  EXPECT_EQ(as(rep_, "POST", path + "/paid").status, 403);
  json paid = json::parse(must(as(finance_, "POST", path + "/paid", {{"paid_on", "2026-11-30"}}), 200));
  EXPECT_EQ(paid["status"], "paid");
  json audit = json::parse(must(d_->call("GET", "/api/v1/audit?object=expenses.claim/" + c["id"].get<std::string>()), 200))["items"];
  std::set<std::string> actions;
  for (const auto& e : audit) actions.insert(e["action"]);
  for (const char* a : {"expenses.claim.create", "expenses.claim.submit", "expenses.claim.sanction", "expenses.claim.approved", "expenses.claim.paid"}) {
    EXPECT_TRUE(actions.count(a)) << a << " in " << audit.dump();
  }
}

TEST_P(Expenses, BadLinesAreRefusedNamingTheFieldAndNothingIsStored) {
  auto refused = [&](json l, int status, const std::string& at) {
    HttpResult r = as(rep_, "POST", "/api/v1/expenses/claims", {{"purpose", "customer"}, {"lines", {line("2026-11-17", "meals", 100), l}}});
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(field(r), at) << r.body;
    return r.body;
  };
  std::string missing_rate = refused(line("2026-11-17", "travel", 1000, "USD"), 422, "lines[1].date");
  EXPECT_NE(missing_rate.find("USD"), std::string::npos);
  EXPECT_NE(missing_rate.find("2026-11-17"), std::string::npos);
  refused(line("2026-11-17", "travel", 1000, "XYZ"), 422, "lines[1].amount.currency");
  refused(line("2026-11-17", "travel", -5), 422, "lines[1].amount");
  refused(line("2026-11-17", "travel", 0), 422, "lines[1].amount");
  refused({{"date", "2026-11-17"}, {"category", "travel"}, {"amount", {{"amount", 10.5}, {"currency", "CNY"}}}}, 400, "lines[1].amount");
  refused(line("2026-02-30", "travel", 100), 400, "lines[1].date");
  refused(line("2026-11-17", "yachts", 100), 422, "lines[1].category");
  json bad_receipt = line("2026-11-17", "travel", 100);
  bad_receipt["receipt_sha256"] = "not-a-hash";
  refused(bad_receipt, 400, "lines[1].receipt_sha256");
  json no_centre = line("2026-11-17", "travel", 100);
  no_centre["cost_centre"] = "CC-NOWHERE";
  EXPECT_NE(refused(no_centre, 422, "lines[1].cost_centre").find("CC-NOWHERE"), std::string::npos);
  EXPECT_TRUE(get(rep_, "/api/v1/expenses/claims")["items"].empty());
}

// A job grade's limits come from the claimant's employee record in master data; a grade not configured, or no
// employee record at all, leaves the category's.
TEST_P(Expenses, LimitsFollowTheJobGradeOnTheClaimantsEmployeeRecord) {
  const std::string rep2_id = me(rep2_);
  must(d_->call("POST", "/api/v1/masterdata/employees", json({{"number", "E1"}, {"name", "Rep"}, {"user_id", rep_id_}, {"grade", "M2"}}).dump()), 201);
  must(d_->call("POST", "/api/v1/masterdata/employees", json({{"number", "E2"}, {"name", "Rep two"}, {"user_id", rep2_id}, {"grade", "M9"}}).dump()), 201);
  json meal = line("2026-11-17", "meals", 100000);  // 1,000.00: over the category's 800.00 a line, within M2's 1,200.00
  json graded = draft(rep_, {meal});
  for (const auto& r : graded["lines"][0]["policy"]["results"]) EXPECT_NE(r["rule"], "limit.line") << graded.dump();
  json ungraded = draft(rep2_, {meal});
  ASSERT_EQ(ungraded["lines"][0]["policy"]["outcome"], "block");
  EXPECT_EQ(ungraded["lines"][0]["policy"]["results"][0]["rule"], "limit.line");
  EXPECT_EQ(ungraded["lines"][0]["policy"]["results"][0]["figures"]["limit"], 80000);
  json over = draft(rep_, {line("2026-11-18", "meals", 130000)});  // over M2's own limit
  EXPECT_EQ(over["lines"][0]["policy"]["results"][0]["figures"]["limit"], 120000) << over.dump();
  // The categories a claim form offers come with the limits of whoever asks.
  auto meals_of = [&](const std::string& token) {
    json listed = get(token, "/api/v1/expenses/categories");
    std::vector<std::string> codes;
    json meals;
    for (const json& c : listed["items"]) {
      codes.push_back(c["code"]);
      if (c["code"] == "meals") meals = c;
    }
    EXPECT_EQ(codes, (std::vector<std::string>{"entertainment", "meals", "taxi", "travel"})) << listed.dump();
    return meals;
  };
  json mine = meals_of(rep_), theirs = meals_of(rep2_);
  EXPECT_EQ(mine["limits"]["line"], money(120000)) << mine.dump();
  EXPECT_EQ(theirs["limits"]["line"], money(80000)) << theirs.dump();
  EXPECT_EQ(theirs["limits"]["month"], money(150000));
  EXPECT_TRUE(theirs["limits"]["day"].is_null());
  EXPECT_EQ(theirs["receipt_above"], money(50000));
  EXPECT_EQ(theirs["weekend"], "warn");
  EXPECT_EQ(theirs["gl_account"], "6604");
}

// Weekends and holidays come from the company calendar: a public holiday is its own rule with its name, and a
// Saturday declared a make-up working day is no weekend.
TEST_P(Expenses, HolidaysAndMakeUpDaysFollowTheCompanyCalendar) {
  json c = draft(rep_, {line("2026-10-01", "travel", 5000),    // National Day, a Thursday
                        line("2026-10-02", "travel", 5000),    // a holiday without a name
                        line("2026-10-10", "travel", 5000),    // a Saturday, declared a working day
                        line("2026-10-11", "travel", 5000),    // a Sunday
                        line("2026-10-12", "travel", 5000)});  // a Monday
  ASSERT_EQ(c["lines"][0]["policy"]["results"].size(), 1u) << c["lines"][0].dump();
  EXPECT_EQ(c["lines"][0]["policy"]["results"][0]["rule"], "holiday");
  EXPECT_EQ(c["lines"][0]["policy"]["results"][0]["figures"]["holiday"], "National Day");
  EXPECT_EQ(c["lines"][0]["policy"]["outcome"], "warn");
  EXPECT_EQ(c["lines"][1]["policy"]["results"][0]["rule"], "holiday");
  EXPECT_EQ(c["lines"][2]["policy"]["outcome"], "ok") << c["lines"][2].dump();
  EXPECT_EQ(c["lines"][3]["policy"]["results"][0]["rule"], "weekend");
  EXPECT_EQ(c["lines"][4]["policy"]["outcome"], "ok");
}

TEST_P(Expenses, PoliciesGiveEachLineOkWarnOrBlockWithTheRuleAndFigures) {
  json entertainment = line("2026-11-17", "entertainment", 100000);
  entertainment["attendees"] = {{{"kind", "contact"}, {"name", "Ms Li"}}, {{"kind", "employee"}, {"name", "Rep"}}};
  json c = draft(rep_, {line("2026-11-17", "meals", 90000),    // over the per-line limit, and no receipt
                        line("2026-11-21", "travel", 5000),    // a Saturday
                        entertainment,                          // 500.00 per attendee, over 300.00: warn
                        line("2026-11-18", "meals", 1000)});
  EXPECT_EQ(c["lines"][0]["policy"]["outcome"], "block");
  std::set<std::string> rules;
  for (const auto& r : c["lines"][0]["policy"]["results"]) rules.insert(r["rule"]);
  EXPECT_TRUE(rules.count("limit.line") && rules.count("receipt")) << c["lines"][0].dump();
  EXPECT_EQ(c["lines"][0]["policy"]["results"][0]["figures"]["limit"], 80000);
  EXPECT_EQ(c["lines"][1]["policy"]["outcome"], "warn");
  EXPECT_EQ(c["lines"][1]["policy"]["results"][0]["rule"], "weekend");
  EXPECT_EQ(c["lines"][2]["policy"]["results"][0]["rule"], "limit.per_attendee");
  EXPECT_EQ(c["lines"][2]["policy"]["results"][0]["figures"]["per_attendee"], 50000);
  EXPECT_EQ(c["lines"][3]["policy"]["outcome"], "ok");
  HttpResult blocked = submit(rep_, c);
  EXPECT_EQ(blocked.status, 422);
  EXPECT_EQ(field(blocked), "lines[0]");
  // Fix the blocked line; the warned ones still need a justification.
  std::string path = "/api/v1/expenses/claims/" + c["id"].get<std::string>();
  json lines = {line("2026-11-17", "meals", 70000), line("2026-11-21", "travel", 5000), entertainment, line("2026-11-18", "meals", 1000)};
  lines[0]["receipt_sha256"] = receipt(rep_, c, 1, png("dinner"));
  json fixed = json::parse(must(as(rep_, "PUT", path, {{"purpose", "customer"}, {"lines", lines}}), 200));
  EXPECT_EQ(fixed["lines"][0]["policy"]["outcome"], "ok");
  HttpResult unjustified = submit(rep_, fixed);
  EXPECT_EQ(unjustified.status, 422);
  EXPECT_EQ(field(unjustified), "lines[1].justification");
  lines[1]["justification"] = "customer visit on Saturday";
  lines[2]["justification"] = "signing dinner";
  must(as(rep_, "PUT", path, {{"purpose", "customer"}, {"lines", lines}}), 200);
  EXPECT_EQ(submit(rep_, fixed).status, 200);
  json exceptions = get(auditor_, "/api/v1/expenses/reports/exceptions");
  EXPECT_EQ(exceptions["items"].size(), 2u) << exceptions.dump();
  HttpResult csv = as(auditor_, "GET", "/api/v1/expenses/reports/exceptions?format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body.rfind("claim,claimant,status,line,date,category,amount_minor,outcome,rules,justification\r\n", 0), 0u) << csv.body;
}

TEST_P(Expenses, ReceiptsAreSniffedFromTheirBytesStoredOnceAndShownOnlyWithinReach) {
  json c = draft(rep_, {line("2026-11-17", "meals", 60000), line("2026-11-17", "travel", 100)});
  EXPECT_EQ(c["lines"][0]["policy"]["results"][0]["rule"], "receipt");
  HttpResult fake = attach(rep_, c, 1, "this is not a PDF at all", "application/pdf");
  EXPECT_EQ(fake.status, 415) << fake.body;
  // The receipt route takes 10 MB, capped here by the host's blobs.max_bytes of 64 KiB.
  HttpResult huge = attach(rep_, c, 1, "%PDF-1.7\n" + std::string(65536, 'x'), "application/pdf");
  EXPECT_EQ(huge.status, 413) << huge.body;
  std::string path = "/api/v1/expenses/claims/" + c["id"].get<std::string>();
  EXPECT_EQ(get(rep_, path)["lines"][0]["receipt_sha256"], nullptr) << "refused uploads attach nothing";
  EXPECT_EQ(attach(rep2_, c, 1, png("not mine")).status, 404);
  json attached = json::parse(must(attach(rep_, c, 1, png("lunch")), 200));
  EXPECT_EQ(attached["lines"][0]["policy"]["outcome"], "ok") << "the receipt satisfies the rule at once";
  EXPECT_EQ(attached["receipt"]["media_type"], "image/png");
  HttpResult shown = as(head_, "GET", path + "/lines/1/receipt");
  EXPECT_EQ(shown.status, 200);
  EXPECT_EQ(shown.body, png("lunch"));
  EXPECT_EQ(as(rep2_, "GET", path + "/lines/1/receipt").status, 404);
  EXPECT_EQ(as(rep_, "GET", path + "/lines/2/receipt").status, 404);
  // The same bytes on the second line: stored once, and flagged as reused.
  json again = json::parse(must(attach(rep_, c, 2, png("lunch")), 200));
  EXPECT_EQ(again["lines"][1]["policy"]["results"][0]["rule"], "receipt.reused");
  HttpResult unknown = as(rep_, "POST", "/api/v1/expenses/claims",
                          {{"purpose", "customer"}, {"lines", {[] {
                              json l = line("2026-11-17", "travel", 100);
                              l["receipt_sha256"] = std::string(64, 'e');
                              return l;
                            }()}}});
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(field(unknown), "lines[0].receipt_sha256");
  HttpResult unjustified = submit(rep_, get(rep_, path));
  EXPECT_EQ(unjustified.status, 422);
  EXPECT_EQ(field(unjustified), "lines[0].justification") << "a receipt on two lines needs a word from the claimant";
}

TEST_P(Expenses, DuplicatesAndReusedReceiptsAreFlaggedNamingTheOtherClaim) {
  json first = draft(rep_, {line("2026-11-17", "travel", 4200)});
  std::string taxi = receipt(rep_, first, 1, png("taxi"));
  must(submit(rep_, first), 200);
  json second = draft(rep_, {line("2026-11-17", "travel", 4200), [&] {
                               json l = line("2026-11-18", "travel", 999);
                               l["receipt_sha256"] = taxi;
                               return l;
                             }()});
  const json& dup = second["lines"][0]["policy"];
  EXPECT_EQ(dup["outcome"], "warn");
  EXPECT_EQ(dup["results"][0]["rule"], "duplicate");
  EXPECT_EQ(dup["results"][0]["figures"]["other_claim"], first["id"]);
  const json& reused = second["lines"][1]["policy"]["results"][0];
  EXPECT_EQ(reused["rule"], "receipt.reused");
  EXPECT_NE(reused["message"].get<std::string>().find(first["id"].get<std::string>()), std::string::npos);
  json review = get(head_, "/api/v1/expenses/claims/" + second["id"].get<std::string>() + "/review")["review"];
  EXPECT_EQ(review["duplicates"].size(), 1u);
  EXPECT_EQ(review["reused_receipts"].size(), 1u);
}

TEST_P(Expenses, SplittingAClaimNeitherDodgesARollingLimitNorTheFinanceStep) {
  // meals: at most 1,500.00 in any 30 days. Two claims of 800.00 (each under the 800.00 line limit).
  json a = draft(rep_, {line("2026-11-10", "meals", 80000)});
  receipt(rep_, a, 1, png("first half"));
  must(submit(rep_, a), 200);
  json b = draft(rep_, {line("2026-11-20", "meals", 80000)});
  b = json::parse(must(attach(rep_, b, 1, png("second half")), 200));
  const json& month = b["lines"][0]["policy"]["results"][0];
  EXPECT_EQ(month["rule"], "limit.month");
  EXPECT_EQ(month["figures"]["claimed_elsewhere"], 80000);
  EXPECT_EQ(submit(rep_, b).status, 422);
  // The finance step applies at 5,000.00: two claims of 3,000.00 for the same customer meet it on the second.
  json t1 = draft(rep_, {line("2026-11-11", "travel", 300000)}, {{"party_id", customer_}, {"purpose", "training"}});
  json s1 = json::parse(must(submit(rep_, t1), 200));
  EXPECT_EQ(s1["approval"]["steps"], json::array({"head"})) << s1["approval"].dump();
  json t2 = draft(rep_, {line("2026-11-12", "travel", 300000)}, {{"party_id", customer_}, {"purpose", "training"}});
  json s2 = json::parse(must(submit(rep_, t2), 200));
  EXPECT_EQ(s2["chain"]["amount"], money(600000));
  EXPECT_EQ(s2["chain"]["basis"]["claims"].size(), 2u);
  EXPECT_EQ(s2["approval"]["steps"], json::array({"head", "finance"})) << s2["approval"].dump();
  // A rejected claim leaves the cumulative amount: 3,000.00 + 1,500.00 stays under the finance step.
  decide(head_, s2["approval_id"], "reject");
  ASSERT_TRUE(reaches("/api/v1/expenses/claims/" + s2["id"].get<std::string>(), "rejected"));
  json t3 = draft(rep_, {line("2026-11-13", "travel", 150000)}, {{"party_id", customer_}, {"purpose", "training"}});
  json s3 = json::parse(must(submit(rep_, t3), 200));
  EXPECT_EQ(s3["chain"]["amount"], money(450000)) << s3["chain"].dump();
  EXPECT_EQ(s3["chain"]["basis"]["other_claims"], 1) << s3["chain"].dump();
  EXPECT_EQ(s3["approval"]["steps"], json::array({"head"})) << s3["approval"].dump();
}

// A claim may be submitted as it is drafted ("submit": true): the same policies, rolling limits and chain as a
// submission of a draft; refused whole, nothing stored, when a line cannot be submitted.
TEST_P(Expenses, AClaimSubmittedAsItIsDraftedMeetsTheSameRulesAndARefusedOneStoresNothing) {
  auto at_once = [&](json lines, json extra = json::object()) {
    json body = {{"purpose", "customer"}, {"lines", std::move(lines)}, {"submit", true}};
    body.update(extra);
    return as(rep_, "POST", "/api/v1/expenses/claims", body);
  };
  json a = json::parse(must(at_once({line("2026-11-10", "meals", 50000)}), 201));
  EXPECT_EQ(a["status"], "submitted");
  EXPECT_EQ(a["approval"]["steps"], json::array({"head"})) << a.dump();
  json inbox = get(head_, "/api/v1/approvals");
  bool waiting = false;
  for (const json& item : inbox["items"]) waiting = waiting || item["id"] == a["approval_id"];
  EXPECT_TRUE(waiting) << inbox.dump();
  json audit = json::parse(must(d_->call("GET", "/api/v1/audit?object=expenses.claim/" + a["id"].get<std::string>()), 200))["items"];
  ASSERT_EQ(audit.size(), 1u) << audit.dump();
  EXPECT_EQ(audit[0]["action"], "expenses.claim.submit");

  // meals: at most 1,500.00 in any 30 days, across claims — the second reaches it, the third would pass it.
  must(at_once({line("2026-11-11", "meals", 50000), line("2026-11-12", "meals", 50000)}), 201);
  HttpResult over = at_once({line("2026-11-13", "meals", 100)});
  EXPECT_EQ(over.status, 422) << over.body;
  EXPECT_EQ(field(over), "lines[0]");
  EXPECT_NE(over.body.find("30 days"), std::string::npos) << over.body;
  // Travel on a Saturday warns (a taxi does not): refused without its justification, naming it; taken with it.
  HttpResult unjustified = at_once({line("2026-11-21", "taxi", 100), line("2026-11-21", "travel", 100)});
  EXPECT_EQ(unjustified.status, 422) << unjustified.body;
  EXPECT_EQ(field(unjustified), "lines[1].justification");
  HttpResult not_a_flag = at_once({line("2026-11-17", "travel", 100)}, {{"submit", "yes"}});
  EXPECT_EQ(not_a_flag.status, 400);
  EXPECT_EQ(field(not_a_flag), "submit");
  json listed = get(rep_, "/api/v1/expenses/claims");
  EXPECT_EQ(listed["items"].size(), 2u) << "the refused ones left nothing behind: " << listed.dump();
  json weekend = line("2026-11-21", "travel", 100);
  weekend["justification"] = "a customer's visit on Saturday";
  EXPECT_EQ(json::parse(must(at_once({weekend}), 201))["status"], "submitted");
}

TEST_P(Expenses, AdvancesStayUnderTheCapWhichNamesBalanceRequestAndCap) {
  json first = json::parse(must(as(rep_, "POST", "/api/v1/expenses/advances", {{"amount", money(200000)}, {"purpose", "trip to Shenzhen"}}), 201));
  EXPECT_EQ(first["status"], "requested");
  HttpResult over = as(rep_, "POST", "/api/v1/expenses/advances", {{"amount", money(150000)}, {"purpose", "more"}});
  EXPECT_EQ(over.status, 422);
  EXPECT_EQ(field(over), "amount");
  for (const char* figure : {"2000.00", "1500.00", "3000.00"}) EXPECT_NE(over.body.find(figure), std::string::npos) << over.body;
  EXPECT_EQ(as(rep_, "POST", "/api/v1/expenses/advances", {{"amount", money(100, "USD")}, {"purpose", "x"}}).status, 422);
  // A sector head's cap is larger.
  EXPECT_EQ(as(head_, "POST", "/api/v1/expenses/advances", {{"amount", money(500000)}, {"purpose", "event"}}).status, 201);
  // Approved, paid, then settled by a claim smaller than it: the rest is due back (no carry_forward here).
  std::string path = "/api/v1/expenses/advances/" + first["id"].get<std::string>();
  EXPECT_EQ(as(rep_, "POST", path + "/paid").status, 403);
  decide(finance_, first["approval_id"], "approve");
  ASSERT_TRUE(reaches(path, "approved"));
  must(as(finance_, "POST", path + "/paid", {{"paid_on", "2026-11-01"}}), 200);
  json c = draft(rep_, {line("2026-11-17", "travel", 150000)});
  json submitted = json::parse(must(submit(rep_, c), 200));
  decide(head_, submitted["approval_id"], "approve");
  std::string claim = "/api/v1/expenses/claims/" + c["id"].get<std::string>();
  ASSERT_TRUE(reaches(claim, "approved"));
  json approved = get(rep_, claim);
  EXPECT_EQ(approved["settled_against_advances"], money(150000));
  EXPECT_EQ(approved["reimbursable"], money(0));
  EXPECT_EQ(get(rep_, path)["open"], money(50000));
  EXPECT_EQ(get(rep_, path)["status"], "return_due");
  // A later claim does not settle what is due back: it is reimbursed, and the 500.00 still has to come back.
  json later = draft(rep_, {line("2026-11-18", "travel", 20000)});
  decide(head_, json::parse(must(submit(rep_, later), 200))["approval_id"], "approve");
  ASSERT_TRUE(reaches("/api/v1/expenses/claims/" + later["id"].get<std::string>(), "approved"));
  EXPECT_EQ(get(rep_, "/api/v1/expenses/claims/" + later["id"].get<std::string>())["reimbursable"], money(20000));
  EXPECT_EQ(get(rep_, path)["open"], money(50000));
  json balance = get(rep_, "/api/v1/expenses/advances/balance");
  EXPECT_EQ(balance["outstanding"], money(50000));
  EXPECT_EQ(balance["available"], money(250000));
  json ageing = get(finance_, "/api/v1/expenses/reports/advance-ageing");
  ASSERT_EQ(ageing["advances"].size(), 1u) << ageing.dump();
  EXPECT_EQ(ageing["advances"][0]["open"], money(50000));
  EXPECT_EQ(ageing["advances"][0]["status"], "return_due");
  must(as(finance_, "POST", path + "/returns", {{"amount", money(50000)}}), 200);
  EXPECT_EQ(get(rep_, path)["status"], "settled");
  EXPECT_EQ(get(rep_, "/api/v1/expenses/advances/balance")["outstanding"], money(0));
}

TEST_P(Expenses, FiftyConcurrentAdvanceRequestsNeverEndAboveTheCap) {
  std::atomic<int> created{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      HttpResult r = as(rep_, "POST", "/api/v1/expenses/advances", {{"amount", money(10000)}, {"purpose", "taxi " + std::to_string(i)}});
      (r.status == 201 ? created : r.status == 422 ? refused : other)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(created.load(), 30) << "3,000.00 of 100.00 requests";
  EXPECT_EQ(refused.load(), 20);
  EXPECT_EQ(get(rep_, "/api/v1/expenses/advances/balance")["outstanding"], money(300000));
}

TEST_P(Expenses, AnotherPluginDrawsAndSettlesThroughTheLedgerServiceUnderTheSameCap) {
  must(as(rep_, "POST", "/api/v1/expenses/advances", {{"amount", money(200000)}, {"purpose", "trip"}}), 201);
  json balance = json::parse(must(d_->call("GET", "/api/v1/advance-drawer/balance/" + rep_id_), 200));
  EXPECT_EQ(balance["outstanding"], money(200000));
  EXPECT_EQ(balance["cap"], money(300000));
  HttpResult over = d_->call("POST", "/api/v1/advance-drawer/draw",
                             json{{"user_id", rep_id_}, {"amount", 150000}, {"reference", "statement-2026-11"}}.dump());
  EXPECT_EQ(over.status, 422) << over.body;
  EXPECT_NE(over.body.find("over the cap of 3000.00 CNY"), std::string::npos) << over.body;
  json drawn = json::parse(must(d_->call("POST", "/api/v1/advance-drawer/draw",
                                         json{{"user_id", rep_id_}, {"amount", 100000}, {"reference", "statement-2026-11"}}.dump()),
                                200));
  EXPECT_EQ(drawn["status"], "requested");
  EXPECT_EQ(drawn["reference"], "statement-2026-11");
  // Drawn through the service, it is the rep's advance like any other: theirs to see, counted against the cap.
  EXPECT_EQ(get(rep_, "/api/v1/expenses/advances/" + drawn["id"].get<std::string>())["amount"], money(100000));
  EXPECT_EQ(as(rep_, "POST", "/api/v1/expenses/advances", {{"amount", money(1)}, {"purpose", "one more"}}).status, 422);
  std::string path = "/api/v1/expenses/advances/" + drawn["id"].get<std::string>();
  decide(finance_, drawn["approval_id"], "approve");
  ASSERT_TRUE(reaches(path, "approved"));
  must(as(finance_, "POST", path + "/paid"), 200);
  json settled = json::parse(must(d_->call("POST", "/api/v1/advance-drawer/settle",
                                           json{{"user_id", rep_id_}, {"amount", 120000}, {"reference", "statement-2026-11"}}.dump()),
                                  200));
  EXPECT_EQ(settled["settled"], 100000);
  EXPECT_EQ(settled["unsettled"], 20000);
  EXPECT_EQ(get(rep_, path)["status"], "settled");
}

// A decision changes a claim's lines where they count: the spend report counts approved and paid lines only, and a
// rejected claim's lines leave the claimant's rolling limits.
TEST_P(Expenses, TheSpendReportAndTheRollingLimitsFollowEachClaimsDecision) {
  auto submitted = [&](json lines) {
    return json::parse(must(as(rep_, "POST", "/api/v1/expenses/claims", {{"purpose", "customer"}, {"lines", std::move(lines)}, {"submit", true}}), 201));
  };
  auto path_of = [](const json& c) { return "/api/v1/expenses/claims/" + c["id"].get<std::string>(); };
  json approved = submitted({line("2026-11-17", "travel", 10000), line("2026-11-18", "meals", 3000)});
  json rejected = submitted({line("2026-11-18", "taxi", 15000)});
  draft(rep_, {line("2026-11-19", "travel", 700)});
  decide(head_, approved["approval_id"], "approve");
  decide(head_, rejected["approval_id"], "reject");
  ASSERT_TRUE(reaches(path_of(approved), "approved"));
  ASSERT_TRUE(reaches(path_of(rejected), "rejected"));
  must(as(finance_, "POST", path_of(approved) + "/paid", {{"paid_on", "2026-11-30"}}), 200);

  const std::string report = "/api/v1/expenses/reports/spend?from=2026-11-01&to=2026-11-30&group_by=";
  json by_category = get(finance_, report + "category");
  EXPECT_EQ(by_category["items"], json::parse(R"([
    {"category": "meals", "lines": 1, "spend": {"amount": 3000, "currency": "CNY"}},
    {"category": "travel", "lines": 1, "spend": {"amount": 10000, "currency": "CNY"}}])")) << by_category.dump();
  json by_person = get(head_, report + "person");
  ASSERT_EQ(by_person["items"].size(), 1u) << by_person.dump();
  EXPECT_EQ(by_person["items"][0]["person"], rep_id_);
  EXPECT_EQ(by_person["items"][0]["spend"], money(13000));
  EXPECT_TRUE(get(rep2_, report + "person")["items"].empty()) << "a rep sees no other's spend";
  HttpResult csv = as(finance_, "GET", report + "month&format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_NE(csv.body.find("2026-11,2,130.00,CNY"), std::string::npos) << csv.body;
  HttpResult bad = as(finance_, "GET", report + "weather");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(field(bad), "group_by");

  // taxi: at most 200.00 a day. The rejected 150.00 no longer counts, so another 150.00 that day is within it.
  json again = submitted({line("2026-11-18", "taxi", 15000)});
  EXPECT_EQ(again["status"], "submitted");
  EXPECT_EQ(again["lines"][0]["policy"]["outcome"], "ok") << again.dump();

  // An approved and paid claim's lines count once, whatever decisions and payments it went through: 150.00 + 50.00
  // is the day's 200.00; 10.00 more passes it (and taxi's limits block).
  json paid = submitted({line("2026-11-20", "taxi", 15000)});
  decide(head_, paid["approval_id"], "approve");
  ASSERT_TRUE(reaches(path_of(paid), "approved"));
  must(as(finance_, "POST", path_of(paid) + "/paid", {{"paid_on", "2026-11-30"}}), 200);
  EXPECT_EQ(submitted({line("2026-11-20", "taxi", 5000)})["lines"][0]["policy"]["outcome"], "ok");
  HttpResult over = as(rep_, "POST", "/api/v1/expenses/claims", {{"purpose", "customer"}, {"lines", {line("2026-11-20", "taxi", 1000)}}, {"submit", true}});
  EXPECT_EQ(over.status, 422) << over.body;
  EXPECT_EQ(field(over), "lines[0]");
  EXPECT_NE(over.body.find("210.00"), std::string::npos) << over.body;
}

TEST_P(Expenses, AReturnedClaimIsEditedAndResubmittedIntoANewRoundOfTheSameApproval) {
  json c = draft(rep_, {line("2026-11-17", "travel", 4000)});
  std::string path = "/api/v1/expenses/claims/" + c["id"].get<std::string>();
  json submitted = json::parse(must(submit(rep_, c), 200));
  std::string approval = submitted["approval_id"];
  must(as(head_, "POST", "/api/v1/approvals/" + approval + "/decisions", {{"decision", "return"}, {"comment", "which customer?"}}), 200);
  ASSERT_TRUE(reaches(path, "returned"));
  EXPECT_EQ(as(rep2_, "PUT", path, {{"purpose", "customer"}, {"lines", {line("2026-11-17", "travel", 4000)}}}).status, 404);
  json edited = json::parse(must(as(rep_, "PUT", path, {{"purpose", "customer"}, {"party_id", customer_}, {"lines", {line("2026-11-17", "travel", 3900)}}}), 200));
  EXPECT_EQ(edited["total"], money(3900));
  json again = json::parse(must(submit(rep_, edited), 200));
  EXPECT_EQ(again["status"], "submitted");
  EXPECT_EQ(again["approval_id"], approval);
  EXPECT_EQ(again["approval"]["round"], 2);
  decide(head_, approval, "approve");
  EXPECT_TRUE(reaches(path, "approved"));
}

INSTANTIATE_TEST_SUITE_P(Backends, Expenses, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);

// A policy configuration the plugin cannot apply stops it at start-up, naming the key at fault; the routes are
// then absent rather than applying half a policy.
class ExpensesSettings : public PluginTest {};

TEST_P(ExpensesSettings, ABadPolicyStopsThePluginNamingTheKeyAtFault) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"meals": {"gl_account": "6604", "by_grade": {"M2": {"line": -5}}}})", "categories.meals.by_grade.M2"},
      {R"({"meals": {"gl_account": "6604", "by_grade": ["M2"]}})", "categories.meals.by_grade"},
      {R"({"meals": {"gl_account": "6604", "limits": {"weekly": 100}}})", "categories.meals.limits"},
      {R"({"meals": {"gl_account": "6604", "over_limit": "maybe"}})", "categories.meals.over_limit"},
      {R"({"meals": {"limits": {"line": 100}}})", "categories.meals.gl_account"},
  };
  for (const auto& [categories, key] : cases) {
    start(R"({"plugins": {"org.annex.expenses": {"categories": )" + categories + "}}}");
    json plugin = json::parse(d_->call("GET", "/api/v1/plugins/org.annex.expenses").body);
    EXPECT_EQ(plugin["state"], "failed") << categories;
    EXPECT_NE(plugin.value("error", "").find(key), std::string::npos) << key << ": " << plugin.dump();
    EXPECT_EQ(d_->call("GET", "/api/v1/expenses/claims").status, 404) << categories;
  }
}

INSTANTIATE_TEST_SUITE_P(Sqlite, ExpensesSettings, testing::Values(Backend::kSqlite), backend_param_name);

// With carry_forward, what a claim leaves open on an advance stays for the person's next claims.
class ExpensesCarryForward : public PluginTest {};

TEST_P(ExpensesCarryForward, TheRestOfAnAdvanceSettlesTheNextClaim) {
  start(R"({"approvals": {"chains": {
             "expense-claim": {"steps": [{"name": "head", "permission": "expenses.claim.approve"}]},
             "cash-advance": {"steps": [{"name": "finance", "role": "finance", "scope": "any"}]}}},
           "plugins": {"org.annex.expenses": {"carry_forward": true, "categories": {"travel": {"gl_account": "6602"}}}}})");
  if (IsSkipped()) return;
  const std::string rep = d_->user_with_role("rep", "sales-rep", "north"), head = d_->user_with_role("head", "sector-head", "north"),
                    fin = d_->user_with_role("fin", "finance");
  auto money = [](int64_t amount) { return json{{"amount", amount}, {"currency", "CNY"}}; };
  auto get = [&](const std::string& path) { return json::parse(must(as(fin, "GET", path), 200)); };
  json advance = json::parse(must(as(rep, "POST", "/api/v1/expenses/advances", {{"amount", money(100000)}, {"purpose", "trip"}}), 201));
  const std::string path = "/api/v1/expenses/advances/" + advance["id"].get<std::string>();
  must(as(fin, "POST", "/api/v1/approvals/" + advance["approval_id"].get<std::string>() + "/decisions", {{"decision", "approve"}}), 200);
  ASSERT_TRUE(eventually([&] { return get(path)["status"] == "approved"; }));
  must(as(fin, "POST", path + "/paid", {{"paid_on", "2026-11-01"}}), 200);
  auto approved_claim = [&](int64_t amount) {
    json c = json::parse(must(as(rep, "POST", "/api/v1/expenses/claims",
                                 {{"purpose", "travel"}, {"lines", {{{"date", "2026-11-17"}, {"category", "travel"}, {"amount", money(amount)}}}}}),
                              201));
    json s = json::parse(must(as(rep, "POST", "/api/v1/expenses/claims/" + c["id"].get<std::string>() + "/submit"), 200));
    must(as(head, "POST", "/api/v1/approvals/" + s["approval_id"].get<std::string>() + "/decisions", {{"decision", "approve"}}), 200);
    const std::string claim = "/api/v1/expenses/claims/" + c["id"].get<std::string>();
    EXPECT_TRUE(eventually([&] { return get(claim)["status"] == "approved"; }));
    return get(claim);
  };
  EXPECT_EQ(approved_claim(60000)["reimbursable"], money(0));
  EXPECT_EQ(get(path)["status"], "paid");
  EXPECT_EQ(get(path)["open"], money(40000));
  json second = approved_claim(50000);
  EXPECT_EQ(second["settled_against_advances"], money(40000));
  EXPECT_EQ(second["reimbursable"], money(10000));
  EXPECT_EQ(get(path)["status"], "settled");
}

INSTANTIATE_TEST_SUITE_P(Backends, ExpensesCarryForward, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);

}  // namespace
}  // namespace annex::test

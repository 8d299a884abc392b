// Relationship-fee statements end to end on SQLite and PostgreSQL, with the company calendar's clock moved through
// a file: fees earned on signed contract lines (split credit applies) and made payable only in step with the
// customer's payment (R2, under the `rate` and the `full` policy); the month's statement drafted once; the rep's
// submission, late after the 3rd working day; the three signatures in order through the host's chain, nobody
// signing twice, a missing one keeping it invalid and unpaid; the frozen content and its hash; the printable
// rendering; the payout from the 9th working day under the cap; a collection reversed after payout recovered on
// the next statement.
#include "plugin_test.h"
#include "relationship_config.h"

#include "support/calendar_2026.h"

#include "crypto/digest.h"
#include "store/sql.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <fstream>
#include <set>
#include <thread>

namespace annex::test {
namespace {

using nlohmann::json;

constexpr const char* kStatements = "/api/v1/relationship-spending/statements";

class RelationshipStatements : public PluginTest {
 protected:
  virtual const char* policy() const { return "rate"; }
  virtual json plugin_settings() const { return {{"payout_policy", policy()}, {"cap", 300000}}; }

  void SetUp() override {
    clock_ = (dir_.path() / "now").string();
    at("2026-11-02T09:00:00+08:00");
    json config = {
        {"calendar", json::parse(kChina2026Calendar)},
        {"approvals", {{"chains", relationship_chains()}}},
        {"plugins",
         {{"org.annex.relationship-spending", plugin_settings()},
          {"org.annex.expenses", {{"advance_cap", {{"default", 500000}}}}}}}};
    config["calendar"]["test_clock_file"] = clock_;
    start(config.dump());
    if (IsSkipped()) return;
    finance_ = d_->user_with_role("fin", "finance");
    rep_ = d_->user_with_role("rep", "sales-rep", "north");
    rep2_ = d_->user_with_role("rep2", "sales-rep", "north");
    clerk_ = d_->user_with_role("clerk", "sales-clerk", "north");
    head_ = d_->user_with_role("head", "sector-head", "north");
    south_head_ = d_->user_with_role("southhead", "sector-head", "south");
    auditor_ = d_->user_with_role("aud", "auditor");
    rep_id_ = me(rep_);
    rep2_id_ = me(rep2_);
    customer_ = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties",
                                          json{{"code", "C100"}, {"name", "Northwind"}, {"sector_id", "north"}, {"owner_id", rep_id_}}.dump()),
                                 201))["id"];
    toner_ = product("P1", "supplies");
    printer_ = product("P2", "devices");
    // R1: 12.50 per toner sold; 2 % of the sales amount of any device.
    must(as(finance_, "POST", "/api/v1/relationship-spending/standards",
            {{"product_id", toner_}, {"amount_per_unit", money(1250)}, {"gl_account", "660101"}, {"effective_from", "2026-01-01"}}),
         201);
    must(as(finance_, "POST", "/api/v1/relationship-spending/standards",
            {{"product_group", "devices"}, {"rate_bp", 200}, {"gl_account", "660102"}, {"effective_from", "2026-01-01"}}),
         201);
  }

  void at(const std::string& instant) { std::ofstream(clock_) << instant << "\n"; }
  std::string product(const std::string& code, const std::string& group) {
    return json::parse(must(d_->call("POST", "/api/v1/masterdata/products",
                                     json{{"code", code}, {"name", "Product " + code}, {"product_group", group}}.dump()),
                            201))["id"];
  }
  static json money(int64_t amount, const std::string& currency = "CNY") { return {{"amount", amount}, {"currency", currency}}; }

  // A contract of `rep_` signed on `on`: 10 toner at 1,000.00 and one printer at 5,000.00 — 15,000.00 in all; its
  // fee 10 × 12.50 + 2 % of 5,000.00 = 225.00.
  json signed_contract(const std::string& number, const std::string& on, const json& splits = nullptr) {
    json body = {{"number", number}, {"party_id", customer_}, {"currency", "CNY"},
                 {"lines", {{{"product_id", toner_}, {"quantity", 10}, {"unit_price", money(100000)}},
                            {{"product_id", printer_}, {"quantity", 1}, {"unit_price", money(500000)}}}}};
    json c = json::parse(must(as(rep_, "POST", "/api/v1/contracts", body), 201));
    std::string path = "/api/v1/contracts/" + c["id"].get<std::string>();
    if (!splits.is_null()) must(as(rep_, "PUT", path + "/splits", {{"splits", splits}}), 200);
    must(as(rep_, "PATCH", path, {{"status", "awaiting_signature"}}), 200);
    return json::parse(must(as(rep_, "PATCH", path, {{"status", "signed"}, {"signed_on", on}}), 200));
  }
  // Records a collection received `on` that day (the clock moves there: the future is refused).
  json collect(const json& contract, const std::string& on, int64_t amount, const std::string& reference) {
    at(on + "T18:00:00+08:00");
    return json::parse(must(as(finance_, "POST", "/api/v1/contracts/" + contract["id"].get<std::string>() + "/collections",
                               {{"received_on", on}, {"amount", money(amount)}, {"reference", reference}}),
                            201));
  }
  json draft(const std::string& period) {
    HttpResult r = as(finance_, "POST", std::string(kStatements) + "/draft", {{"period", period}});
    EXPECT_EQ(r.status, 200) << r.body << "\n" << d_->log();
    return json::parse(r.body);
  }
  // The rep's statement of `period`.
  json statement(const std::string& token, const std::string& rep_id, const std::string& period) {
    json list = json::parse(must(as(token, "GET", std::string(kStatements) + "?period=" + period + "&rep_id=" + rep_id), 200));
    if (list["items"].size() != 1) {
      ADD_FAILURE() << "no single statement of " << period << ": " << list.dump();
      return json::object();
    }
    return json::parse(must(as(token, "GET", std::string(kStatements) + "/" + list["items"][0]["id"].get<std::string>()), 200));
  }
  static std::string path(const json& st) { return std::string(kStatements) + "/" + st["id"].get<std::string>(); }
  static std::string etag(const json& st) { return "\"v" + std::to_string(st["version"].get<int64_t>()) + "\""; }
  HttpResult submit(const std::string& token, const json& st) {
    return as(token, "POST", path(st) + "/submit", json::object(), {{"If-Match", etag(st)}});
  }
  HttpResult decide(const std::string& token, const json& st, const std::string& decision = "approve") {
    return as(token, "POST", "/api/v1/approvals/" + st["approval_id"].get<std::string>() + "/decisions",
              {{"decision", decision}, {"comment", "checked"}});
  }
  // Signs `st` by clerk, sales manager and finance, and waits for the outcome to reach the plugin.
  json sign_all(const json& st) {
    must(decide(clerk_, st), 200);
    must(decide(head_, st), 200);
    must(decide(finance_, st), 200);
    return eventually(st, "signed");
  }
  json eventually(const json& st, const std::string& status) {
    json now;
    for (int i = 0; i < 200; ++i) {
      now = json::parse(must(as(finance_, "GET", path(st)), 200));
      if (now["status"] == status) return now;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ADD_FAILURE() << "the statement never became " << status << ": " << now.dump();
    return now;
  }
  // The kinds of exceptions recorded about statement `st`, as an auditor lists them.
  // November's statement of rep_ with 225.00 of fees made payable (contract `number` signed and collected in
  // November), signed by all three, on its payout day (2026-12-11).
  json payable_statement(const std::string& number) {
    json k = signed_contract(number, "2026-11-10");
    collect(k, "2026-11-12", 1500000, "BANK-1");
    at("2026-12-01T09:00:00+08:00");
    draft("2026-11");
    json st = statement(rep_, rep_id_, "2026-11");
    must(submit(rep_, st), 200);
    st = sign_all(json::parse(must(as(rep_, "GET", path(st)), 200)));
    at("2026-12-11T09:00:00+08:00");
    return st;
  }
  std::multiset<std::string> exceptions_of(const json& st) {
    json list = json::parse(must(as(auditor_, "GET", "/api/v1/relationship-spending/exceptions?limit=500"), 200));
    std::multiset<std::string> kinds;
    for (const json& e : list["items"]) {
      if (e["subject"]["id"] == st["id"]) kinds.insert(e["kind"].get<std::string>());
    }
    return kinds;
  }
  static std::string field(const HttpResult& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") && j["error"]["field"].is_string() ? j["error"]["field"].get<std::string>() : "";
  }

  std::string clock_, finance_, rep_, rep2_, clerk_, head_, south_head_, auditor_, rep_id_, rep2_id_, customer_, toner_, printer_;
};

TEST_P(RelationshipStatements, FeesArePayableOnlyInStepWithWhatTheCustomerPaid) {
  json k1 = signed_contract("K-2026-101", "2026-11-10");
  json k2 = signed_contract("K-2026-102", "2026-11-20");
  collect(k1, "2026-11-25", 600000, "BANK-1");  // 40 % of K1; nothing of K2
  at("2026-11-30T23:00:00+08:00");
  HttpResult early = as(finance_, "POST", std::string(kStatements) + "/draft", {{"period", "2026-11"}});
  EXPECT_EQ(early.status, 422) << "November has not ended in Shanghai";
  EXPECT_EQ(field(early), "period");

  at("2026-12-01T09:00:00+08:00");
  json report = draft("2026-11");
  // The monthly job may have drafted it a moment before (the clock just passed the 1st, 01:00): either way, once.
  EXPECT_EQ(report["signed_contracts"], 2);
  EXPECT_EQ(report["statements_drafted"].get<int64_t>() + report["already_drafted"].get<int64_t>(), 1);
  json st = statement(rep_, rep_id_, "2026-11");
  EXPECT_EQ(st["status"], "draft");
  EXPECT_FALSE(st["valid"]);
  EXPECT_EQ(st["due"]["submit"], "2026-12-03");
  EXPECT_EQ(st["due"]["sign"], "2026-12-10");
  EXPECT_EQ(st["due"]["payout_from"], "2026-12-11");
  const json& totals = st["content"]["totals"];
  EXPECT_EQ(totals["fee_earned"], 45000) << "225.00 on each contract";
  EXPECT_EQ(totals["fee_payable"], 9000) << "40 % of K1's 225.00; K2 unpaid pays nothing";
  EXPECT_EQ(totals["carried_forward"], 36000);
  EXPECT_EQ(st["net_payable"], money(9000));
  ASSERT_EQ(st["content"]["customers"].size(), 1u);
  const json& customer = st["content"]["customers"][0];
  EXPECT_EQ(customer["party_id"], customer_);
  ASSERT_EQ(customer["contracts"].size(), 2u);
  EXPECT_EQ(customer["contracts"][0]["lines"].size() + customer["contracts"][1]["lines"].size(), 4u) << "a fee per contract line";
  EXPECT_EQ(customer["contracts"][0]["collected_in_month"], money(600000));
  EXPECT_EQ(customer["contracts"][1]["collected_to_date"], money(0));
  for (const json& line : customer["contracts"][1]["lines"]) EXPECT_EQ(line["payable_after"], 0) << line.dump();

  json again = draft("2026-11");
  EXPECT_EQ(again["fees_recorded"], 0) << "drafting again records nothing twice";
  EXPECT_EQ(again["statements_drafted"], 0);
  EXPECT_EQ(again["already_drafted"], 1);

  // December: K1 paid in full, K2 half — what became payable since November, nothing twice.
  collect(k1, "2026-12-05", 900000, "BANK-2");
  collect(k2, "2026-12-06", 750000, "BANK-3");
  at("2027-01-04T09:00:00+08:00");
  draft("2026-12");
  json december = statement(rep_, rep_id_, "2026-12");
  EXPECT_EQ(december["content"]["totals"]["fee_payable"], 13500 + 11250) << "the rest of K1, half of K2";
  EXPECT_EQ(december["content"]["totals"]["carried_forward"], 11250);
  EXPECT_EQ(december["content"]["totals"]["fee_earned"], 0) << "nothing signed in December";
}

TEST_P(RelationshipStatements, SplitCreditSharesTheFeeExactly) {
  json k = signed_contract("K-2026-201", "2026-11-10", {{{"user_id", rep_id_}, {"percent", 67}}, {{"user_id", rep2_id_}, {"percent", 33}}});
  collect(k, "2026-11-11", 1500000, "BANK-9");
  at("2026-12-01T09:00:00+08:00");
  draft("2026-11");
  json mine = statement(rep_, rep_id_, "2026-11"), theirs = statement(rep2_, rep2_id_, "2026-11");
  EXPECT_EQ(mine["net_payable"]["amount"].get<int64_t>() + theirs["net_payable"]["amount"].get<int64_t>(), 22500)
      << "the shares add up to the fee, to the cent";
  EXPECT_EQ(theirs["net_payable"], money(7425)) << "33 % of 125.00 and of 100.00, rounded down";
  EXPECT_EQ(as(rep_, "GET", path(theirs)).status, 404) << "a rep sees only their own statement";
  EXPECT_EQ(as(south_head_, "GET", path(theirs)).status, 404) << "another sector's head does not see it";
  EXPECT_EQ(as(head_, "GET", path(theirs)).status, 200);
  EXPECT_EQ(as(auditor_, "GET", path(theirs)).status, 200);
  json listed = json::parse(must(as(rep2_, "GET", std::string(kStatements)), 200));
  ASSERT_EQ(listed["items"].size(), 1u);
  EXPECT_EQ(listed["items"][0]["rep_id"], rep2_id_);
}

TEST_P(RelationshipStatements, ThreeSignaturesInOrderMakeItValidFrozenAndPayableFromTheNinthWorkingDay) {
  json k = signed_contract("K-2026-301", "2026-11-10");
  collect(k, "2026-11-12", 1500000, "BANK-1");
  at("2026-12-01T09:00:00+08:00");
  draft("2026-11");
  json st = statement(rep_, rep_id_, "2026-11");
  EXPECT_EQ(st["net_payable"], money(22500));
  EXPECT_EQ(submit(rep2_, st).status, 404) << "another rep's statement is out of reach";
  EXPECT_EQ(submit(clerk_, st).status, 403) << "only the rep files it";

  at("2026-12-04T10:00:00+08:00");  // after the 3rd working day: late, still accepted
  HttpResult filed = submit(rep_, st);
  ASSERT_EQ(filed.status, 200) << filed.body;
  st = json::parse(filed.body);
  EXPECT_EQ(st["status"], "submitted");
  EXPECT_TRUE(st["submitted_late"]);
  EXPECT_EQ(submit(rep_, st).status, 409) << "filed once";

  // A missing signature keeps it invalid: nothing is paid.
  at("2026-12-11T09:00:00+08:00");
  HttpResult unsigned_draw = as(rep_, "POST", path(st) + "/payouts", json::object());
  EXPECT_EQ(unsigned_draw.status, 422) << unsigned_draw.body;
  EXPECT_EQ(field(unsigned_draw), "status");
  EXPECT_NE(unsigned_draw.body.find("clerk"), std::string::npos) << unsigned_draw.body;

  EXPECT_NE(decide(head_, st).status, 200) << "the sales manager signs after the clerk, not before";
  must(decide(clerk_, st), 200);
  EXPECT_NE(decide(clerk_, st).status, 200) << "one person signs one step";
  must(decide(head_, st), 200);
  EXPECT_EQ(exceptions_of(st), (std::multiset<std::string>{"late_filing", "missing_signature"}))
      << "filed after the 3rd working day; a payout tried without the signatures";
  HttpResult still = as(rep_, "POST", path(st) + "/payouts", json::object());
  EXPECT_EQ(still.status, 422) << "two signatures are not three";
  EXPECT_NE(still.body.find("finance"), std::string::npos) << still.body;
  must(decide(finance_, st), 200);
  json done = eventually(st, "signed");
  EXPECT_TRUE(done["valid"]);
  EXPECT_TRUE(done["signed_late"]) << "signed on the 11th, after the 8th working day: flagged";
  ASSERT_TRUE(done["content_hash"].is_string());
  EXPECT_EQ(done["content_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(done["signatures"]["signed"].size(), 3u);
  EXPECT_TRUE(done["signatures"]["missing"].empty());

  HttpResult print = as(rep_, "GET", path(st) + "/print");
  ASSERT_EQ(print.status, 200);
  EXPECT_NE(print.body.find("K-2026-301"), std::string::npos);
  EXPECT_NE(print.body.find("225.00 CNY"), std::string::npos) << print.body;
  EXPECT_NE(print.body.find("sales-manager"), std::string::npos);
  EXPECT_NE(print.body.find(done["content_hash"].get<std::string>()), std::string::npos);

  HttpResult over = as(rep_, "POST", path(st) + "/payouts", {{"amount", money(22501)}});
  EXPECT_EQ(over.status, 422) << "more than the statement's payable fees";
  EXPECT_EQ(field(over), "amount.amount");
  HttpResult drawn = as(rep_, "POST", path(st) + "/payouts", {{"amount", money(20000)}});
  ASSERT_EQ(drawn.status, 201) << drawn.body;
  EXPECT_EQ(json::parse(drawn.body)["advance"]["status"], "requested") << "into the advance chain of the expenses plugin";
  json after = json::parse(must(as(rep_, "GET", path(st)), 200));
  EXPECT_EQ(after["drawn"], money(20000));
  EXPECT_EQ(after["undrawn"], money(2500));
  EXPECT_EQ(after["content_hash"], done["content_hash"]) << "the content is frozen";
  EXPECT_EQ(exceptions_of(st), (std::multiset<std::string>{"late_filing", "missing_signature", "missing_signature", "late_signature"}));
}

TEST_P(RelationshipStatements, ConcurrentDrawsNeverTakeMoreThanTheStatementMadePayable) {
  json st = payable_statement("K-2026-351");
  // Eight draws of 50.00 at once against 225.00 payable.
  std::vector<std::thread> threads;
  std::atomic<int> drawn{0}, refused{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      HttpResult r = as(rep_, "POST", path(st) + "/payouts", {{"amount", money(5000)}});
      if (r.status == 201) ++drawn;
      else if (r.status == 409 || r.status == 422) ++refused;
      else ADD_FAILURE() << r.status << " " << r.body;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(drawn.load(), 4) << "4 × 50.00 fit in 225.00, a fifth does not";
  EXPECT_EQ(drawn + refused, 8);
  json after = json::parse(must(as(rep_, "GET", path(st)), 200));
  EXPECT_EQ(after["drawn"], money(5000 * drawn.load())) << "what the statement records is what was drawn";
  EXPECT_EQ(json::parse(must(as(rep_, "GET", path(st) + "/payouts"), 200))["items"].size(), static_cast<size_t>(drawn.load()));
  // Whatever raced, the rest is still there to draw, and no more.
  while (json::parse(must(as(rep_, "GET", path(st)), 200))["undrawn"]["amount"].get<int64_t>() >= 5000) {
    must(as(rep_, "POST", path(st) + "/payouts", {{"amount", money(5000)}}), 201);
  }
  EXPECT_EQ(as(rep_, "POST", path(st) + "/payouts", {{"amount", money(5000)}}).status, 422);
  EXPECT_EQ(json::parse(must(as(rep_, "GET", path(st)), 200))["drawn"], money(20000));
}

TEST_P(RelationshipStatements, PayoutWaitsForTheNinthWorkingDayAndStaysUnderTheCap) {
  json k = signed_contract("K-2026-401", "2026-11-10");
  collect(k, "2026-11-12", 1500000, "BANK-1");
  // A large order: 2,000 toner at 100.00, fee 25,000.00 — over the 3,000.00 cap.
  json big = json::parse(must(as(rep_, "POST", "/api/v1/contracts",
                                 {{"number", "K-2026-402"}, {"party_id", customer_}, {"currency", "CNY"},
                                  {"lines", {{{"product_id", toner_}, {"quantity", 2000}, {"unit_price", money(10000)}}}}}),
                              201));
  std::string big_path = "/api/v1/contracts/" + big["id"].get<std::string>();
  must(as(rep_, "PATCH", big_path, {{"status", "awaiting_signature"}}), 200);
  must(as(rep_, "PATCH", big_path, {{"status", "signed"}, {"signed_on", "2026-11-11"}}), 200);
  collect(big, "2026-11-13", 20000000, "BANK-2");
  at("2026-12-01T09:00:00+08:00");
  draft("2026-11");
  json st = statement(rep_, rep_id_, "2026-11");
  EXPECT_EQ(st["net_payable"], money(2522500));
  must(submit(rep_, st), 200);
  st = sign_all(json::parse(must(as(rep_, "GET", path(st)), 200)));
  EXPECT_FALSE(st["signed_late"]) << "signed on the 1st";
  EXPECT_FALSE(st["submitted_late"]);

  at("2026-12-10T18:00:00+08:00");
  HttpResult early = as(rep_, "POST", path(st) + "/payouts", {{"amount", money(10000)}});
  EXPECT_EQ(early.status, 422) << "the 9th working day of December 2026 is the 11th";
  EXPECT_EQ(field(early), "payout_from");
  at("2026-12-11T09:00:00+08:00");
  HttpResult over_cap = as(rep_, "POST", path(st) + "/payouts", {{"amount", money(300001)}});
  EXPECT_EQ(over_cap.status, 422) << over_cap.body;
  EXPECT_EQ(field(over_cap), "amount");
  EXPECT_NE(over_cap.body.find("0.00 CNY"), std::string::npos) << "names the outstanding balance: " << over_cap.body;
  EXPECT_EQ(json::parse(must(as(rep_, "GET", path(st)), 200))["drawn"], money(0)) << "a refused draw reserves nothing";
  must(as(rep_, "POST", path(st) + "/payouts", {{"amount", money(250000)}}), 201);
  HttpResult second = as(rep_, "POST", path(st) + "/payouts", {{"amount", money(60000)}});
  EXPECT_EQ(second.status, 422) << "2,500.00 outstanding + 600.00 passes 3,000.00";
  EXPECT_NE(second.body.find("2500.00 CNY"), std::string::npos) << second.body;
  json payouts = json::parse(must(as(auditor_, "GET", path(st) + "/payouts"), 200));
  ASSERT_EQ(payouts["items"].size(), 1u);
  EXPECT_EQ(payouts["items"][0]["amount"], money(250000));
  EXPECT_EQ(as(head_, "POST", path(st) + "/payouts", {{"amount", money(100)}}).status, 403) << "only the rep draws their fees";
  EXPECT_EQ(exceptions_of(st), (std::multiset<std::string>{"over_cap_attempt", "over_cap_attempt", "over_ratio", "over_ratio"}))
      << "each draw over the cap, for auditors (the one over the statement's fees is no cap matter); and 25,000.00 of fees on the "
         "big order's 200,000.00 is 12.5 %, above 5 %, for the contract and its customer";
}

// annexd stopped between a payout's reservation on its statement and its draw from the advance ledger: once it
// is back, the payout is finished — one advance for it, however often it is interrupted, even after the draw
// and before the payout recorded it.
TEST_P(RelationshipStatements, APayoutInterruptedBetweenItsReservationAndItsDrawIsFinishedOnceWhenAnnexdIsBack) {
  json st = payable_statement("K-2026-451");
  const std::string id = st["id"], reference = "relationship-statement:" + id + ":rpo_cut";
  // Reserved as the payout reserves it (two minutes ago), never drawn.
  std::time_t then = std::time(nullptr) - 120;
  std::tm tm{};
  gmtime_r(&then, &tm);
  char drawn_at[32];
  std::strftime(drawn_at, sizeof drawn_at, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  d_->sql("UPDATE relationship_statements SET drawn = drawn + 20000, version = version + 1 WHERE id = '" + id + "'");
  d_->sql("INSERT INTO relationship_payouts (id, statement_id, rep_id, amount, advance_id, drawn_by, drawn_at) VALUES ('rpo_cut', '" +
          id + "', '" + rep_id_ + "', 20000, '', '" + rep_id_ + "', '" + std::string(drawn_at) + "')");
  auto advance_of_payout = [&]() -> std::string {
    json payouts = json::parse(must(as(auditor_, "GET", path(st) + "/payouts"), 200));
    for (const json& p : payouts["items"]) {
      if (p["id"] == "rpo_cut") return p["advance_id"];
    }
    return "(no payout)";
  };
  auto advances = [&] {
    auto db = d_->open_store();
    store::Lease lease(*db);
    store::Param ref = store::Param::text(reference);
    return store::run(lease.session(), "SELECT COUNT(*) FROM expenses_advances WHERE reference = ?", std::span<const store::Param>(&ref, 1))
        .rows.at(0).at(0).i;
  };
  restart();
  ASSERT_TRUE(test::eventually([&] { return !advance_of_payout().empty(); }, std::chrono::seconds(20))) << advance_of_payout();
  std::string advance = advance_of_payout();
  EXPECT_EQ(advances(), 1);
  EXPECT_EQ(json::parse(must(as(rep_, "GET", path(st)), 200))["drawn"], money(20000));

  // Stopped after the draw, before the payout kept it: the ledger answers with the same advance.
  d_->sql("UPDATE relationship_payouts SET advance_id = '' WHERE id = 'rpo_cut'");
  restart();
  ASSERT_TRUE(test::eventually([&] { return !advance_of_payout().empty(); }, std::chrono::seconds(20)));
  EXPECT_EQ(advance_of_payout(), advance);
  EXPECT_EQ(advances(), 1) << "one advance per payout";
  EXPECT_EQ(json::parse(must(as(rep_, "GET", path(st)), 200))["drawn"], money(20000));
}

TEST_P(RelationshipStatements, ACollectionReversedAfterPayoutIsRecoveredOnTheNextStatement) {
  json k = signed_contract("K-2026-501", "2026-11-10");
  json paid = collect(k, "2026-11-12", 1500000, "BANK-1");
  at("2026-12-01T09:00:00+08:00");
  draft("2026-11");
  json november = statement(rep_, rep_id_, "2026-11");
  EXPECT_EQ(november["net_payable"], money(22500));
  must(submit(rep_, november), 200);
  sign_all(json::parse(must(as(rep_, "GET", path(november)), 200)));
  at("2026-12-11T09:00:00+08:00");
  must(as(rep_, "POST", path(november) + "/payouts", json::object()), 201);

  // The customer's payment bounces in December: the fee paid out on it is recovered.
  std::string collection_id = paid["collection"].is_object() ? paid["collection"]["id"].get<std::string>() : paid["id"].get<std::string>();
  at("2026-12-15T18:00:00+08:00");
  must(as(finance_, "POST", "/api/v1/contracts/" + k["id"].get<std::string>() + "/collections/" + collection_id + "/reversal",
          {{"reversed_on", "2026-12-15"}, {"reference", "BOUNCE-1"}, {"reason", "cheque bounced"}}),
       200);
  at("2027-01-04T09:00:00+08:00");
  draft("2026-12");
  json december = statement(rep_, rep_id_, "2026-12");
  EXPECT_EQ(december["recovered"], money(22500));
  EXPECT_EQ(december["net_payable"], money(0));
  EXPECT_EQ(december["recovery_due"], money(22500)) << "carried to the next statement until fees cover it";
  EXPECT_EQ(december["content"]["totals"]["carried_forward"], 22500) << "payable again once the customer pays";
  EXPECT_EQ(exceptions_of(december), (std::multiset<std::string>{"recovery"}));

  // January: paid again, so the fee is payable again — and the recovery takes it.
  collect(k, "2027-01-05", 1500000, "BANK-2");
  at("2027-02-01T09:00:00+08:00");
  draft("2027-01");
  json january = statement(rep_, rep_id_, "2027-01");
  EXPECT_EQ(january["fee_payable"], money(22500));
  EXPECT_EQ(january["content"]["totals"]["recovery_carried_in"], 22500);
  EXPECT_EQ(january["net_payable"], money(0));
  EXPECT_EQ(january["recovery_due"], money(0));
}

TEST_P(RelationshipStatements, AfterPayoutASpotCheckIsDrawnThatAnyoneReDerivesFromItsSeed) {
  // Four customers, each with a contract paid in full.
  std::vector<std::string> parties;
  for (int i = 1; i <= 4; ++i) {
    customer_ = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties",
                                          json{{"code", "C20" + std::to_string(i)}, {"name", "Customer " + std::to_string(i)},
                                               {"sector_id", "north"}, {"owner_id", rep_id_}}.dump()),
                                 201))["id"];
    parties.push_back(customer_);
    collect(signed_contract("K-2026-70" + std::to_string(i), "2026-11-10"), "2026-11-12", 1500000, "BANK-" + std::to_string(i));
  }
  at("2026-12-01T09:00:00+08:00");
  draft("2026-11");
  json st = statement(rep_, rep_id_, "2026-11");
  ASSERT_EQ(st["content"]["customers"].size(), 4u);
  must(submit(rep_, st), 200);
  st = sign_all(json::parse(must(as(rep_, "GET", path(st)), 200)));
  EXPECT_EQ(as(rep_, "GET", path(st) + "/spot-check").status, 404) << "nothing is drawn before the payout";
  HttpResult too_early = as(head_, "POST", path(st) + "/spot-check", json::object());
  EXPECT_EQ(too_early.status, 422) << too_early.body;

  at("2026-12-11T09:00:00+08:00");
  must(as(rep_, "POST", path(st) + "/payouts", {{"amount", money(10000)}}), 201);
  json check = json::parse(must(as(rep_, "GET", path(st) + "/spot-check"), 200));
  EXPECT_EQ(check["algorithm"], "sha256-rank-v1");
  EXPECT_EQ(check["content_hash"], st["content_hash"]);
  ASSERT_EQ(check["seed"].get<std::string>().size(), 64u);
  ASSERT_EQ(check["items"].size(), 3u) << "three customers by default";

  // Re-derived from the seed and the statement's hash alone, as the README describes it.
  std::vector<std::pair<std::string, std::string>> keyed;
  for (const std::string& p : parties) {
    keyed.emplace_back(crypto::sha256_hex(check["seed"].get<std::string>() + ":" + st["content_hash"].get<std::string>() + ":" + p), p);
  }
  std::sort(keyed.begin(), keyed.end());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(check["items"][i]["party_id"], keyed[i].second) << "rank " << i + 1;
    EXPECT_EQ(check["items"][i]["key"], keyed[i].first);
  }
  // The draw and its seed are in the audit log.
  json audit = json::parse(must(as(auditor_, "GET", "/api/v1/audit?object_type=relationship.spot_check&object_id=" + st["id"].get<std::string>()), 200));
  ASSERT_EQ(audit["items"].size(), 1u);
  EXPECT_EQ(audit["items"][0]["after"]["seed"], check["seed"]);
  EXPECT_EQ(json::parse(must(as(head_, "POST", path(st) + "/spot-check", json::object()), 200))["seed"], check["seed"])
      << "drawn once";

  std::string first = std::string(path(st)) + "/spot-check/items/" + check["items"][0]["party_id"].get<std::string>();
  std::string second = std::string(path(st)) + "/spot-check/items/" + check["items"][1]["party_id"].get<std::string>();
  EXPECT_EQ(as(rep_, "POST", first, {{"outcome", "confirmed"}, {"note", "all fine"}}).status, 403) << "never the rep";
  EXPECT_EQ(as(south_head_, "POST", first, {{"outcome", "confirmed"}, {"note", "x"}}).status, 404) << "another sector's head";
  HttpResult no_note = as(head_, "POST", second, {{"outcome", "disputed"}});
  EXPECT_EQ(no_note.status, 400);
  EXPECT_EQ(field(no_note), "note");
  EXPECT_EQ(field(as(head_, "POST", first, {{"outcome", "maybe"}, {"note", "x"}})), "outcome");
  must(as(head_, "POST", first, {{"outcome", "confirmed"}, {"note", "visited the buyer, gift matches"}}), 200);
  EXPECT_EQ(as(head_, "POST", first, {{"outcome", "disputed"}, {"note", "changed my mind"}}).status, 409) << "decided once";
  json disputed = json::parse(must(as(head_, "POST", second, {{"outcome", "disputed"}, {"note", "the customer knows of no event"}}), 200));
  EXPECT_EQ(disputed["items"][1]["outcome"], "disputed");
  EXPECT_EQ(disputed["items"][1]["note"], "the customer knows of no event");
  EXPECT_EQ(exceptions_of(st), (std::multiset<std::string>{"disputed_spot_check"})) << "a dispute is an exception for finance";
  std::string outside = keyed[3].second;
  EXPECT_EQ(as(head_, "POST", std::string(path(st)) + "/spot-check/items/" + outside, {{"outcome", "confirmed"}, {"note", "x"}}).status, 404)
      << "a customer outside the sample";
}

TEST_P(RelationshipStatements, EachCustomersRatioOfSpendToPaymentIsOnTheStatement) {
  collect(signed_contract("K-2026-801", "2026-11-10"), "2026-11-12", 600000, "BANK-1");
  at("2026-12-01T09:00:00+08:00");
  draft("2026-11");
  json st = statement(clerk_, rep_id_, "2026-11");
  const json& customer = st["content"]["customers"][0];
  EXPECT_EQ(customer["spend"]["to_date"], 9000);
  EXPECT_EQ(customer["collected_to_date"], 600000);
  EXPECT_EQ(customer["ratio"], json({{"bp", 150}, {"warning", false}})) << "90.00 of 6,000.00 is 1.5 %, under 5 %";
  EXPECT_EQ(customer["contracts"][0]["ratio"]["bp"], 150);
  EXPECT_FALSE(customer["spend"]["over_limit"]) << "no limit configured";
  EXPECT_TRUE(st["content"]["warnings"].empty());
}

TEST_P(RelationshipStatements, AnApprovedSpecialExpenseIsPayableOnlyInStepWithTheCollectionOfTheFirstContract) {
  std::string newcomer = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties",
                                                   json{{"code", "C900"}, {"name", "Newcomer"}, {"sector_id", "north"}, {"owner_id", rep_id_}}.dump()),
                                          201))["id"];
  at("2026-11-03T10:00:00+08:00");
  json application = json::parse(must(as(rep_, "POST", "/api/v1/relationship-spending/special-expenses",
                                         {{"party_id", newcomer}, {"amount", money(50000)}, {"justification", "A dinner with their buyer"}}),
                                      201));
  std::string approval = application["approval_id"];
  must(as(head_, "POST", "/api/v1/approvals/" + approval + "/decisions", {{"decision", "approve"}, {"comment", "ok"}}), 200);
  must(as(finance_, "POST", "/api/v1/approvals/" + approval + "/decisions", {{"decision", "approve"}, {"comment", "ok"}}), 200);
  std::string app_path = "/api/v1/relationship-spending/special-expenses/" + application["id"].get<std::string>();
  for (int i = 0; i < 200 && json::parse(must(as(rep_, "GET", app_path), 200))["status"] != "approved"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  // Signed in November with the newcomer, 40 % paid by the month's end.
  customer_ = newcomer;
  collect(signed_contract("K-2026-950", "2026-11-20"), "2026-11-25", 600000, "BANK-1");
  at("2026-12-01T09:00:00+08:00");
  draft("2026-11");
  json st = statement(rep_, rep_id_, "2026-11");
  const json& special = st["content"]["special_expenses"];
  ASSERT_EQ(special["on_statement"].size(), 1u) << special.dump();
  EXPECT_EQ(special["on_statement"][0]["state"], "partly_payable");
  EXPECT_EQ(special["on_statement"][0]["payable_after"], 20000) << "40 % of 500.00, as the customer paid 40 %";
  EXPECT_EQ(special["on_statement"][0]["contract"]["number"], "K-2026-950");
  ASSERT_EQ(special["filed_in_month"].size(), 1u) << "the month's applications, summarised";
  EXPECT_EQ(special["filed_in_month"][0]["status"], "approved");
  EXPECT_EQ(st["special_payable"], money(20000));
  EXPECT_EQ(st["net_payable"], money(9000 + 20000)) << "the fee's payable share and the special expense's";
  EXPECT_EQ(st["content"]["customers"][0]["spend"]["to_date"], 29000) << "both count as spend on the customer";
}

TEST_P(RelationshipStatements, AuditorsSeeThePeriodAndThePatternsWithTheRecordsBehindThem) {
  // Four reps of one sector whose fees weigh differently on what their customers paid; the fourth sells 100 toner at
  // 10.00 and earns 12.50 on each — spend far above collections, far above the sector.
  struct Rep {
    std::string token, id, customer;
  };
  std::vector<Rep> reps;
  for (int i = 0; i < 4; ++i) {
    Rep r;
    r.token = i == 0 ? rep_ : d_->user_with_role("seller" + std::to_string(i), "sales-rep", "north");
    r.id = me(r.token);
    r.customer = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties",
                                           json{{"code", "C30" + std::to_string(i)}, {"name", "Customer " + std::to_string(i)},
                                                {"sector_id", "north"}, {"owner_id", r.id}}.dump()),
                                  201))["id"];
    reps.push_back(r);
  }
  auto sell = [&](const Rep& r, const std::string& number, const json& lines, int64_t paid) {
    json c = json::parse(must(as(r.token, "POST", "/api/v1/contracts", {{"number", number}, {"party_id", r.customer}, {"currency", "CNY"}, {"lines", lines}}), 201));
    std::string p = "/api/v1/contracts/" + c["id"].get<std::string>();
    must(as(r.token, "PATCH", p, {{"status", "awaiting_signature"}}), 200);
    c = json::parse(must(as(r.token, "PATCH", p, {{"status", "signed"}, {"signed_on", "2026-11-10"}}), 200));
    collect(c, "2026-11-20", paid, "BANK-" + number);
  };
  json toner = {{"product_id", toner_}, {"quantity", 10}, {"unit_price", money(100000)}};
  json printer = {{"product_id", printer_}, {"quantity", 1}, {"unit_price", money(500000)}};
  sell(reps[0], "K-A", json::array({toner, printer}), 600000);  // 1.5 %, 40 % paid
  sell(reps[1], "K-B", json::array({printer}), 500000);  // 2 %
  sell(reps[2], "K-C", json::array({toner}), 1000000);  // 1.25 %
  sell(reps[3], "K-D", json::array({{{"product_id", toner_}, {"quantity", 100}, {"unit_price", money(1000)}}}), 100000);  // 125 %
  // A special expense of 2,990.00, just under the 3,000.00 cap; one of a round 1,000.00.
  for (const auto& [code, amount] : std::vector<std::pair<std::string, int64_t>>{{"C310", 299000}, {"C311", 100000}}) {
    std::string newcomer = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties",
                                                     json{{"code", code}, {"name", code}, {"sector_id", "north"}, {"owner_id", rep_id_}}.dump()),
                                            201))["id"];
    at("2026-11-21T10:00:00+08:00");
    must(as(rep_, "POST", "/api/v1/relationship-spending/special-expenses",
            {{"party_id", newcomer}, {"amount", money(amount)}, {"justification", "Opening dinner"}}),
         201);
  }
  at("2026-12-01T09:00:00+08:00");
  draft("2026-11");
  must(submit(rep_, statement(rep_, rep_id_, "2026-11")), 200);

  json period = json::parse(must(as(auditor_, "GET", "/api/v1/relationship-spending/periods/2026-11"), 200));
  ASSERT_EQ(period["statements"].size(), 4u);
  EXPECT_EQ(period["by_status"], json({{"draft", 3}, {"submitted", 1}}));
  for (const json& st : period["statements"]) {
    EXPECT_TRUE(st.contains("signatures") && st.contains("submitted_late") && st.contains("signed_late") && st.contains("exceptions"));
    if (st["status"] == "submitted") {
      EXPECT_EQ(st["signatures"]["missing"], json({"clerk", "sales-manager", "finance"}));
    }
  }
  EXPECT_EQ(json::parse(must(as(rep_, "GET", "/api/v1/relationship-spending/periods/2026-11"), 200))["statements"].size(), 1u)
      << "a rep sees only their own";
  EXPECT_EQ(as(auditor_, "GET", "/api/v1/relationship-spending/periods/2026-13").status, 400);

  json patterns = json::parse(must(as(auditor_, "GET", "/api/v1/relationship-spending/patterns?from=2026-11-01&to=2026-11-30"), 200));
  ASSERT_EQ(patterns["threshold_hugging"].size(), 1u) << patterns.dump();
  EXPECT_EQ(patterns["threshold_hugging"][0]["amount"], money(299000));
  EXPECT_EQ(patterns["threshold_hugging"][0]["threshold"]["name"], "cap");
  ASSERT_EQ(patterns["round_amounts"].size(), 1u);
  EXPECT_EQ(patterns["round_amounts"][0]["amount"], money(100000));
  ASSERT_EQ(patterns["rep_outliers"].size(), 1u) << patterns["rep_outliers"].dump();
  EXPECT_EQ(patterns["rep_outliers"][0]["rep_id"], reps[3].id);
  EXPECT_EQ(patterns["rep_outliers"][0]["ratio_bp"], 12500);
  EXPECT_EQ(patterns["rep_outliers"][0]["sector_median_bp"], 150);
  EXPECT_FALSE(patterns["rep_outliers"][0]["records"].empty());
  ASSERT_EQ(patterns["unpaid_customers"].size(), 1u) << "only K-A is not fully paid";
  EXPECT_EQ(patterns["unpaid_customers"][0]["party_id"], reps[0].customer);
  EXPECT_EQ(patterns["unpaid_customers"][0]["unpaid_contracts"].size(), 1u);
  EXPECT_EQ(json::parse(must(as(reps[1].token, "GET", "/api/v1/relationship-spending/patterns?from=2026-11-01&to=2026-11-30"), 200))["rep_outliers"].size(),
            0u)
      << "a rep's own records only";
  EXPECT_EQ(as(auditor_, "GET", "/api/v1/relationship-spending/patterns?from=2026-11-31").status, 400);
}

class RelationshipStatementsLimited : public RelationshipStatements {
 protected:
  json plugin_settings() const override {
    return {{"payout_policy", "rate"}, {"ratio_warning_bp", 100}, {"customer_spend_limit", 30000}, {"spend_window_days", 60}};
  }
};

TEST_P(RelationshipStatementsLimited, SpendSplitOverTwoRepsMeetsTheCustomersLimitAndRatiosAboveTheThresholdAreFlagged) {
  collect(signed_contract("K-2026-901", "2026-11-10"), "2026-11-12", 1500000, "BANK-1");
  json theirs = signed_contract("K-2026-902", "2026-11-11", {{{"user_id", rep2_id_}, {"percent", 100}}});
  collect(theirs, "2026-11-13", 1500000, "BANK-2");
  at("2026-12-01T09:00:00+08:00");
  draft("2026-11");
  // Statements are drafted in rep order: the second sees the first's spend on the same customer.
  bool mine_first = rep_id_ < rep2_id_;
  json first = statement(finance_, mine_first ? rep_id_ : rep2_id_, "2026-11");
  json second = statement(finance_, mine_first ? rep2_id_ : rep_id_, "2026-11");
  auto kinds = [](const json& st) {
    std::set<std::string> out;
    for (const json& w : st["content"]["warnings"]) out.insert(w["kind"].get<std::string>());
    return out;
  };
  EXPECT_EQ(first["content"]["customers"][0]["spend"]["in_window"], 22500);
  EXPECT_FALSE(first["content"]["customers"][0]["spend"]["over_limit"]);
  EXPECT_EQ(first["content"]["customers"][0]["ratio"]["bp"], 75) << "225.00 of the customer's 30,000.00";
  EXPECT_EQ(kinds(first), (std::set<std::string>{"contract_ratio"})) << "225.00 of one contract's 15,000.00 is 1.5 %, above 1 %";
  EXPECT_EQ(second["content"]["customers"][0]["spend"]["in_window"], 45000);
  EXPECT_TRUE(second["content"]["customers"][0]["spend"]["over_limit"]) << "450.00 over two reps passes the 300.00 limit";
  EXPECT_EQ(second["content"]["customers"][0]["ratio"], json({{"bp", 150}, {"warning", true}}));
  EXPECT_EQ(kinds(second), (std::set<std::string>{"contract_ratio", "customer_ratio", "customer_limit"}));
  EXPECT_EQ(as(clerk_, "GET", path(second)).status, 200) << "the approvers read the warnings on the statement";
  EXPECT_EQ(exceptions_of(second), (std::multiset<std::string>{"over_ratio", "over_ratio", "over_limit"}));
  EXPECT_EQ(exceptions_of(first), (std::multiset<std::string>{"over_ratio"}));
}

TEST_P(RelationshipStatementsLimited, SpecialExpensesSplitIntoSeveralApplicationsMeetTheSameRollingLimit) {
  std::string newcomer = json::parse(must(d_->call("POST", "/api/v1/masterdata/parties",
                                                   json{{"code", "C901"}, {"name", "Newcomer"}, {"sector_id", "north"}, {"owner_id", rep_id_}}.dump()),
                                          201))["id"];
  auto apply = [&](const std::string& token, int64_t amount) {
    return as(token, "POST", "/api/v1/relationship-spending/special-expenses",
              {{"party_id", newcomer}, {"amount", money(amount)}, {"justification", "Events for their buyers"}});
  };
  must(apply(rep_, 20000), 201);
  HttpResult split = apply(rep_, 15000);
  EXPECT_EQ(split.status, 422) << "200.00 and then 150.00 pass the customer's 300.00 over 60 days";
  EXPECT_EQ(field(split), "amount");
  EXPECT_NE(split.body.find("200.00 CNY"), std::string::npos) << split.body;
  must(apply(rep_, 10000), 201);
  json list = json::parse(must(as(auditor_, "GET", "/api/v1/relationship-spending/exceptions?kind=over_limit"), 200));
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["party_id"], newcomer);
}

class RelationshipStatementsFull : public RelationshipStatements {
 protected:
  const char* policy() const override { return "full"; }
};

TEST_P(RelationshipStatementsFull, UnderTheFullPolicyNothingIsPayableUntilTheContractIsFullyCollected) {
  json k = signed_contract("K-2026-601", "2026-11-10");
  collect(k, "2026-11-12", 1499999, "BANK-1");  // one cent short
  at("2026-12-01T09:00:00+08:00");
  draft("2026-11");
  json november = statement(rep_, rep_id_, "2026-11");
  EXPECT_EQ(november["net_payable"], money(0));
  EXPECT_EQ(november["content"]["totals"]["carried_forward"], 22500);
  collect(k, "2026-12-01", 1, "BANK-2");
  at("2027-01-04T09:00:00+08:00");
  draft("2026-12");
  EXPECT_EQ(statement(rep_, rep_id_, "2026-12")["net_payable"], money(22500));
}

INSTANTIATE_TEST_SUITE_P(Backends, RelationshipStatements, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);
INSTANTIATE_TEST_SUITE_P(Backends, RelationshipStatementsLimited, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);
INSTANTIATE_TEST_SUITE_P(Backends, RelationshipStatementsFull, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);

}  // namespace
}  // namespace annex::test

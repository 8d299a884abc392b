// The expenses plugin posting to finance, end to end on SQLite and PostgreSQL: approved claims and paid advances
// become balanced journal entries in a finance database's journal tables (over ODBC), exactly once by their key —
// also when annexd is killed right after the approval — and payment confirmations pulled back mark claims paid.
#include "plugin_test.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace annex::test {
namespace {

using nlohmann::json;

class ExpensesPosting : public PluginTest {
 protected:
  void SetUp() override {
    file_ = (dir_.path() / "finance.db").string();
    finance_ = std::make_unique<soci::session>(*soci::factory_sqlite3(), file_);
    *finance_ << "CREATE TABLE journal_entries (entry_key VARCHAR(200) PRIMARY KEY, entry_date DATE NOT NULL, reference VARCHAR(100),"
                 " description VARCHAR(400), currency CHAR(3) NOT NULL)";
    *finance_ << "CREATE TABLE journal_lines (entry_key VARCHAR(200) NOT NULL REFERENCES journal_entries (entry_key),"
                 " line_no INTEGER NOT NULL, account VARCHAR(20) NOT NULL, cost_centre VARCHAR(20), debit BIGINT NOT NULL,"
                 " credit BIGINT NOT NULL, description VARCHAR(400), PRIMARY KEY (entry_key, line_no))";
    *finance_ << "CREATE TABLE payment_confirmations (payment_id VARCHAR(100) PRIMARY KEY, entry_key VARCHAR(200) NOT NULL,"
                 " amount BIGINT NOT NULL, currency CHAR(3) NOT NULL, paid_on DATE NOT NULL, recorded_at VARCHAR(32) NOT NULL)";
    start(R"({
      "approvals": {"chains": {
        "expense-claim": {"steps": [{"name": "head", "permission": "expenses.claim.approve"}]},
        "cash-advance": {"steps": [{"name": "finance", "role": "finance", "scope": "any"}]}}},
      "sync": {"connections": {"finance": {"connector": "odbc",
        "settings": {"connection_string": "DRIVER=SQLite3;Database=)" + file_ + R"(", "streams": {
          "journal": {"journal": {}},
          "payments": {"select": "SELECT payment_id, entry_key, amount, currency, paid_on, recorded_at FROM payment_confirmations WHERE recorded_at >= ? ORDER BY recorded_at, payment_id",
                       "cursor_field": "recorded_at", "key_field": "payment_id"}}},
        "streams": {
          "journal": {"documents": "org.annex.expenses", "direction": "push"},
          "payments": {"documents": "org.annex.expenses", "direction": "pull", "remote_id": "payment_id"}}}}},
      "plugins": {"org.annex.expenses": {
        "categories": {"travel": {"gl_account": "6602"}, "meals": {"gl_account": "6604"}},
        "posting": {"connection": "finance", "journal_stream": "journal", "payments_stream": "payments",
                    "advance_clearing_account": "1221", "employee_payable_account": "2241", "bank_account": "1002"}}}
    })");
    if (IsSkipped()) return;
    rep_ = d_->user_with_role("rep", "sales-rep", "north");
    head_ = d_->user_with_role("head", "sector-head", "north");
    finance_user_ = d_->user_with_role("fin", "finance");
    must(d_->call("POST", "/api/v1/masterdata/cost_centres", R"({"code": "CC10", "name": "Sales north"})"), 201);
  }

  static json money(int64_t amount) { return {{"amount", amount}, {"currency", "CNY"}}; }
  int64_t count(const std::string& sql) {
    long long n = 0;
    *finance_ << sql, soci::into(n);
    return n;
  }
  json get(const std::string& token, const std::string& path) { return json::parse(must(as(token, "GET", path), 200)); }
  bool reaches(const std::string& path, const std::string& status, int seconds = 20) {
    return eventually([&] { return get(finance_user_, path)["status"] == status; }, std::chrono::seconds(seconds));
  }
  // A claim of the rep's with a travel line on CC10 and a meals line, submitted and approved by the head.
  json approved_claim(int64_t travel, int64_t meals, bool wait = true) {
    json c = json::parse(must(as(rep_, "POST", "/api/v1/expenses/claims",
                                 {{"purpose", "customer"},
                                  {"lines", {{{"date", "2026-11-16"}, {"category", "travel"}, {"amount", money(travel)}, {"cost_centre", "CC10"}},
                                             {{"date", "2026-11-17"}, {"category", "meals"}, {"amount", money(meals)}}}}}),
                              201));
    json submitted = json::parse(must(as(rep_, "POST", "/api/v1/expenses/claims/" + c["id"].get<std::string>() + "/submit"), 200));
    must(as(head_, "POST", "/api/v1/approvals/" + submitted["approval_id"].get<std::string>() + "/decisions", {{"decision", "approve"}}), 200);
    if (wait) {
      EXPECT_TRUE(reaches("/api/v1/expenses/claims/" + c["id"].get<std::string>(), "posted"));
    }
    return c;
  }

  std::string file_, rep_, head_, finance_user_;
  std::unique_ptr<soci::session> finance_;
};

TEST_P(ExpensesPosting, AnApprovedClaimIsOneBalancedEntryCreditingTheAdvanceItSettledAndThePayableForTheRest) {
  // A paid advance of 1,000.00: its own entry, advance clearing against the bank.
  json advance = json::parse(must(as(rep_, "POST", "/api/v1/expenses/advances", {{"amount", money(100000)}, {"purpose", "trip"}}), 201));
  std::string advance_path = "/api/v1/expenses/advances/" + advance["id"].get<std::string>();
  must(as(finance_user_, "POST", "/api/v1/approvals/" + advance["approval_id"].get<std::string>() + "/decisions", {{"decision", "approve"}}), 200);
  ASSERT_TRUE(reaches(advance_path, "approved"));
  must(as(finance_user_, "POST", advance_path + "/paid", {{"paid_on", "2026-11-10"}}), 200);
  std::string advance_key = "advance-" + advance["id"].get<std::string>();
  EXPECT_TRUE(eventually([&] { return !get(rep_, advance_path)["posted_ref"].is_null(); }, std::chrono::seconds(20)));
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_lines WHERE entry_key = '" + advance_key + "' AND account = '1221' AND debit = 100000"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_lines WHERE entry_key = '" + advance_key + "' AND account = '1002' AND credit = 100000"), 1);

  json c = approved_claim(120000, 30000);
  std::string key = "claim-" + c["id"].get<std::string>();
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_entries WHERE entry_key = '" + key + "'"), 1);
  EXPECT_EQ(count("SELECT SUM(debit) FROM journal_lines WHERE entry_key = '" + key + "'"), 150000);
  EXPECT_EQ(count("SELECT SUM(credit) FROM journal_lines WHERE entry_key = '" + key + "'"), 150000);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_lines WHERE entry_key = '" + key + "' AND account = '6602' AND cost_centre = 'CC10' AND debit = 120000"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_lines WHERE entry_key = '" + key + "' AND account = '6604' AND debit = 30000"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_lines WHERE entry_key = '" + key + "' AND account = '1221' AND credit = 100000"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_lines WHERE entry_key = '" + key + "' AND account = '2241' AND credit = 50000"), 1);
  json posted = get(rep_, "/api/v1/expenses/claims/" + c["id"].get<std::string>());
  EXPECT_EQ(posted["settled_against_advances"], money(100000));
  EXPECT_EQ(posted["reimbursable"], money(50000));
  json awaiting = get(finance_user_, "/api/v1/expenses/reports/awaiting");
  EXPECT_EQ(awaiting["awaiting_payment"].size(), 1u) << awaiting.dump();

  // Finance pays the 500.00 in its own system; the confirmation comes back on the next pull.
  *finance_ << "INSERT INTO payment_confirmations VALUES ('PAY-1', '" + key + "', 50000, 'CNY', '2026-12-01', '2026-12-01 09:00:00')";
  must(d_->call("POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "payments"})"), 202);
  EXPECT_TRUE(reaches("/api/v1/expenses/claims/" + c["id"].get<std::string>(), "paid"));
  EXPECT_EQ(get(rep_, "/api/v1/expenses/claims/" + c["id"].get<std::string>())["paid_on"], "2026-12-01");
  // The push job has run every few seconds meanwhile: nothing travelled twice.
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_entries"), 2);
}

TEST_P(ExpensesPosting, AKilledDaemonPostsEveryApprovedClaimExactlyOnceWhenItComesBack) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(approved_claim(10000 + i, 500 + i, false)["id"]);
  // Killed whenever the push job stands: before it ran, mid-way, or after.
  d_->kill_hard();
  restart();
  for (const std::string& id : ids) EXPECT_TRUE(reaches("/api/v1/expenses/claims/" + id, "posted", 30)) << id;
  for (const std::string& id : ids) {
    EXPECT_EQ(count("SELECT COUNT(*) FROM journal_entries WHERE entry_key = 'claim-" + id + "'"), 1) << id;
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_entries"), 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM journal_lines"), 9);
}

INSTANTIATE_TEST_SUITE_P(Backends, ExpensesPosting, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);

}  // namespace
}  // namespace annex::test

// One month of relationship spending walked end to end on SQLite and PostgreSQL, the company calendar's clock moved
// through a file so that nothing waits for real days: standards; a special expense approved before the new
// customer's first signing (and one refused after another customer's); contracts signed; partial and full
// collections pulled from the finance system's database over ODBC; the statement drafted by the job on the 1st;
// submitted late; signed by three people (one trying to sign twice); a missing signature keeping it unpaid; the
// payout from the 9th working day under the cap, an over-cap draw refused; the spot check drawn and re-derived from
// its seed; a collection reversed in the ERP recovered on the next statement; and every exception on the auditors'
// list.
#include "plugin_test.h"
#include "relationship_config.h"

#include "crypto/digest.h"
#include "support/calendar_2026.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <thread>

namespace annex::test {
namespace {

using nlohmann::json;

constexpr const char* kBase = "/api/v1/relationship-spending";

class RelationshipMonth : public PluginTest {
 protected:
  void SetUp() override {
    clock_ = (dir_.path() / "now").string();
    at("2026-11-02T09:00:00+08:00");
    erp_file_ = (dir_.path() / "finance.db").string();
    erp_ = std::make_unique<soci::session>(*soci::factory_sqlite3(), erp_file_);
    *erp_ << "CREATE TABLE customer_receipts (receipt_no VARCHAR(64) PRIMARY KEY, contract_no VARCHAR(64), amount DECIMAL(18,2) NOT NULL,"
             " currency CHAR(3) NOT NULL, received_on DATE NOT NULL, reverses VARCHAR(64), reason VARCHAR(400), recorded_at VARCHAR(32) NOT NULL)";
    // The finance system's journal, which the fees drawn post to (through the expenses plugin).
    *erp_ << "CREATE TABLE journal_entries (entry_key VARCHAR(200) PRIMARY KEY, entry_date DATE NOT NULL, reference VARCHAR(100),"
             " description VARCHAR(400), currency CHAR(3) NOT NULL)";
    *erp_ << "CREATE TABLE journal_lines (entry_key VARCHAR(200) NOT NULL REFERENCES journal_entries (entry_key), line_no INTEGER NOT NULL,"
             " account VARCHAR(20) NOT NULL, cost_centre VARCHAR(20), debit BIGINT NOT NULL, credit BIGINT NOT NULL, description VARCHAR(400),"
             " PRIMARY KEY (entry_key, line_no))";
    json config = {
        {"calendar", json::parse(kChina2026Calendar)},
        {"approvals", {{"chains", relationship_chains()}}},
        {"sync",
         {{"connections",
           {{"finance",
             {{"connector", "odbc"},
              {"settings",
               {{"connection_string", "DRIVER=SQLite3;Database=" + erp_file_},
                {"streams",
                 {{"collections",
                   {{"select", "SELECT receipt_no, contract_no AS contract_number, amount, currency, received_on, reverses, reason, recorded_at"
                               " FROM customer_receipts WHERE recorded_at >= ? ORDER BY recorded_at, receipt_no"},
                    {"cursor_field", "recorded_at"},
                    {"key_field", "receipt_no"}}},
                  {"journal", {{"journal", json::object()}}}}}}},
              {"streams",
               {{"collections",
                 {{"documents", "org.annex.contracts"}, {"direction", "pull"}, {"remote_id", "receipt_no"}, {"schedule_s", 86400}}},
                {"journal", {{"documents", "org.annex.expenses"}, {"direction", "push"}}}}}}}}}}},
        {"plugins",
         {{"org.annex.contracts", {{"collections", {{"connection", "finance"}, {"stream", "collections"}}}}},
          {"org.annex.expenses",
           {{"posting",
             {{"connection", "finance"}, {"journal_stream", "journal"}, {"advance_clearing_account", "1221"},
              {"employee_payable_account", "2241"}, {"bank_account", "1002"}}}}},
          {"org.annex.relationship-spending", {{"payout_policy", "rate"}, {"cap", 300000}, {"special_expense_account", "660199"}}}}}};
    config["calendar"]["test_clock_file"] = clock_;
    start(config.dump());
    if (IsSkipped()) return;
    finance_ = d_->user_with_role("fin", "finance");
    rep_ = d_->user_with_role("rep", "sales-rep", "north");
    clerk_ = d_->user_with_role("clerk", "sales-clerk", "north");
    head_ = d_->user_with_role("head", "sector-head", "north");
    auditor_ = d_->user_with_role("aud", "auditor");
    rep_id_ = me(rep_);
    // The rep's employee record carries the cost centre the fees post to.
    must(d_->call("POST", "/api/v1/masterdata/cost_centres", R"({"code": "CC-N", "name": "Sales north"})"), 201);
    must(d_->call("POST", "/api/v1/masterdata/employees", json{{"number", "E-1"}, {"name", "Rep"}, {"user_id", rep_id_}, {"cost_centre", "CC-N"}}.dump()),
         201);
  }
  // Finance approves and pays the advance a payout drew, and waits for its journal entry to reach the finance system.
  json pay(const json& advance) {
    std::string p = "/api/v1/expenses/advances/" + advance["id"].get<std::string>();
    must(decide(finance_, advance["approval"]["id"]), 200);
    until(p, [](const json& a) { return a["status"] == "approved"; });
    json paid = json::parse(must(as(finance_, "POST", p + "/paid", {{"paid_on", "2026-12-11"}}), 200));
    until(p, [](const json& a) { return !a["posted_ref"].is_null(); });
    return paid;
  }
  // The lines of journal entry `key` in the finance system: "account cost_centre debit credit" each, in order.
  std::vector<std::string> journal(const std::string& key) {
    soci::rowset<soci::row> rows = (erp_->prepare << "SELECT account, COALESCE(cost_centre, ''), debit, credit FROM journal_lines"
                                                     " WHERE entry_key = '" + key + "' ORDER BY line_no");
    std::vector<std::string> out;
    for (const soci::row& r : rows) {
      out.push_back(r.get<std::string>(0) + " " + r.get<std::string>(1) + " " + std::to_string(r.get<long long>(2)) + " " +
                    std::to_string(r.get<long long>(3)));
    }
    return out;
  }

  void at(const std::string& instant) { std::ofstream(clock_) << instant << "\n"; }
  static json money(int64_t amount) { return {{"amount", amount}, {"currency", "CNY"}}; }
  std::string party(const std::string& code) {
    return json::parse(must(d_->call("POST", "/api/v1/masterdata/parties",
                                     json{{"code", code}, {"name", code}, {"sector_id", "north"}, {"owner_id", rep_id_}}.dump()),
                            201))["id"];
  }
  json contract(const std::string& number, const std::string& customer, const json& lines, const std::string& signed_on) {
    json c = json::parse(must(as(rep_, "POST", "/api/v1/contracts", {{"number", number}, {"party_id", customer}, {"currency", "CNY"}, {"lines", lines}}), 201));
    std::string p = "/api/v1/contracts/" + c["id"].get<std::string>();
    must(as(rep_, "PATCH", p, {{"status", "awaiting_signature"}}), 200);
    return json::parse(must(as(rep_, "PATCH", p, {{"status", "signed"}, {"signed_on", signed_on}}), 200));
  }
  void receipt(const std::string& no, const std::string& contract_no, const std::string& amount, const std::string& on,
               const std::string& reverses = "") {
    *erp_ << "INSERT INTO customer_receipts (receipt_no, contract_no, amount, currency, received_on, reverses, reason, recorded_at) VALUES ('" +
                 no + "', '" + contract_no + "', " + amount + ", 'CNY', '" + on + "', " + (reverses.empty() ? "NULL" : "'" + reverses + "'") +
                 ", " + (reverses.empty() ? "NULL" : "'returned by the bank'") + ", '" + on + " 18:00:00')";
  }
  // Pulls the ERP's receipts once and waits for the run to finish.
  void pull() {
    auto finished = [&] {
      int n = 0;
      json runs = json::parse(d_->call("GET", "/api/v1/sync/runs?connection=finance").body);
      for (const json& r : runs["items"]) n += r["finished_at"].is_null() ? 0 : 1;
      return n;
    };
    int before = finished();
    ASSERT_TRUE(eventually([&] { return d_->call("POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "collections"})").status == 202; },
                           std::chrono::seconds(20)));
    ASSERT_TRUE(eventually([&] { return finished() > before; }, std::chrono::seconds(30)))
        << d_->call("GET", "/api/v1/sync/runs?connection=finance").body;
  }
  // The rep's statement of `period`, once drafted (by the job).
  json statement(const std::string& period) {
    json found;
    EXPECT_TRUE(eventually([&] {
      json list = json::parse(as(finance_, "GET", std::string(kBase) + "/statements?period=" + period + "&rep_id=" + rep_id_).body);
      if (list["items"].size() != 1) return false;
      found = json::parse(as(finance_, "GET", std::string(kBase) + "/statements/" + list["items"][0]["id"].get<std::string>()).body);
      return true;
    }, std::chrono::seconds(30))) << "the job on the 1st never drafted " << period;
    return found;
  }
  static std::string path(const json& st) { return std::string(kBase) + "/statements/" + st["id"].get<std::string>(); }
  HttpResult decide(const std::string& token, const std::string& approval, const std::string& decision = "approve") {
    return as(token, "POST", "/api/v1/approvals/" + approval + "/decisions", {{"decision", decision}, {"comment", "checked"}});
  }
  json get(const std::string& token, const std::string& p) { return json::parse(must(as(token, "GET", p), 200)); }
  template <typename Pred>
  json until(const std::string& p, Pred pred) {
    json now;
    EXPECT_TRUE(eventually([&] { return pred(now = get(finance_, p)); }, std::chrono::seconds(20))) << now.dump();
    return now;
  }
  static std::string field(const HttpResult& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") && j["error"]["field"].is_string() ? j["error"]["field"].get<std::string>() : "";
  }

  std::string clock_, erp_file_, finance_, rep_, clerk_, head_, auditor_, rep_id_;
  std::unique_ptr<soci::session> erp_;
};

TEST_P(RelationshipMonth, AWholeMonthFromStandardsToTheRecoveryOfAReversedCollection) {
  // Standards (R1, R3): 12.50 per toner; 2 % of any device.
  std::string toner = json::parse(must(d_->call("POST", "/api/v1/masterdata/products", R"({"code": "P1", "name": "Toner", "product_group": "supplies"})"), 201))["id"];
  std::string printer = json::parse(must(d_->call("POST", "/api/v1/masterdata/products", R"({"code": "P2", "name": "Printer", "product_group": "devices"})"), 201))["id"];
  must(as(finance_, "POST", std::string(kBase) + "/standards",
          {{"product_id", toner}, {"amount_per_unit", money(1250)}, {"gl_account", "660101"}, {"effective_from", "2026-01-01"}}),
       201);
  must(as(finance_, "POST", std::string(kBase) + "/standards",
          {{"product_group", "devices"}, {"rate_bp", 200}, {"gl_account", "660102"}, {"effective_from", "2026-01-01"}}),
       201);
  json lines = json::array({{{"product_id", toner}, {"quantity", 10}, {"unit_price", money(100000)}},
                            {{"product_id", printer}, {"quantity", 1}, {"unit_price", money(500000)}}});  // 15,000.00, fee 225.00

  // R6: a special expense for a newcomer, applied for and approved before its first signing; one for a customer
  // that signed in October is refused.
  std::string newcomer = party("C-NEW"), northwind = party("C-NW");
  contract("K-0", northwind, lines, "2026-10-15");
  HttpResult late_application = as(rep_, "POST", std::string(kBase) + "/special-expenses",
                                   {{"party_id", northwind}, {"amount", money(50000)}, {"justification", "Dinner"}});
  EXPECT_EQ(late_application.status, 422);
  EXPECT_NE(late_application.body.find("K-0"), std::string::npos) << late_application.body;
  json application = json::parse(must(as(rep_, "POST", std::string(kBase) + "/special-expenses",
                                         {{"party_id", newcomer}, {"amount", money(80000)}, {"justification", "Factory visit for their buyer"}}),
                                      201));
  must(decide(head_, application["approval_id"]), 200);
  must(decide(finance_, application["approval_id"]), 200);
  until(std::string(kBase) + "/special-expenses/" + application["id"].get<std::string>(), [](const json& a) { return a["status"] == "approved"; });

  // November: two contracts signed; the ERP receives 40 % of one, all of the other.
  contract("K-1", newcomer, lines, "2026-11-10");
  contract("K-2", northwind, lines, "2026-11-12");
  receipt("R-1", "K-1", "6000.00", "2026-11-20");
  receipt("R-2", "K-2", "15000.00", "2026-11-25");
  at("2026-11-26T09:00:00+08:00");
  pull();

  // The job on the 1st (01:00, Shanghai) drafts November's statement.
  at("2026-12-01T01:00:30+08:00");
  json st = statement("2026-11");
  EXPECT_EQ(st["status"], "draft");
  EXPECT_EQ(st["fee_payable"], money(9000 + 22500)) << "40 % of K-1's 225.00 and all of K-2's; K-0 was October's";
  EXPECT_EQ(st["special_payable"], money(32000)) << "40 % of the 800.00 special expense, as its contract is 40 % paid";
  EXPECT_EQ(st["net_payable"], money(63500));

  // R4: submitted on the 4th working day: late, still accepted.
  at("2026-12-04T10:00:00+08:00");
  st = json::parse(must(as(rep_, "POST", path(st) + "/submit", json::object(), {{"If-Match", "\"v" + std::to_string(st["version"].get<int64_t>()) + "\""}}), 200));
  EXPECT_TRUE(st["submitted_late"]);
  std::string approval = st["approval_id"];

  // R5: the clerk signs, and cannot sign again; with a signature missing nothing is paid.
  must(decide(clerk_, approval), 200);
  EXPECT_NE(decide(clerk_, approval).status, 200) << "one person, one signature";
  at("2026-12-11T09:00:00+08:00");
  HttpResult unsigned_draw = as(rep_, "POST", path(st) + "/payouts", json::object());
  EXPECT_EQ(unsigned_draw.status, 422);
  EXPECT_EQ(field(unsigned_draw), "status");
  must(decide(head_, approval), 200);
  must(decide(finance_, approval), 200);
  st = until(path(st), [](const json& s) { return s["status"] == "signed"; });
  EXPECT_TRUE(st["signed_late"]) << "the last signature came after the 8th working day (10 December)";
  ASSERT_TRUE(st["content_hash"].is_string());

  // R7, R8: the rep already owes 2,800.00 on an advance; drawing 500.00 of fees would pass the 3,000.00 cap.
  must(as(rep_, "POST", "/api/v1/expenses/advances", {{"amount", money(280000)}, {"purpose", "trade fair"}}), 201);
  HttpResult over_cap = as(rep_, "POST", path(st) + "/payouts", {{"amount", money(50000)}});
  EXPECT_EQ(over_cap.status, 422);
  EXPECT_NE(over_cap.body.find("2800.00"), std::string::npos) << "names the outstanding balance: " << over_cap.body;
  json payout = json::parse(must(as(rep_, "POST", path(st) + "/payouts", {{"amount", money(20000)}}), 201));

  // R3, point 8: paid, the 200.00 posts to the fee accounts in order on the rep's cost centre, against the bank,
  // and the advance is settled by the statement: the rep owes only the trade fair's 2,800.00 again.
  json paid = pay(payout["advance"]);
  EXPECT_EQ(paid["status"], "settled");
  EXPECT_EQ(paid["cost_centre"], "CC-N");
  EXPECT_EQ(journal("advance-" + paid["id"].get<std::string>()),
            (std::vector<std::string>{"660101 CC-N 17500 0", "660102 CC-N 2500 0", "1002  0 20000"}))
      << "K-1's 40 % and K-2's toner fees (50.00 + 125.00) fill 660101, the rest comes from the devices' 660102";
  EXPECT_EQ(get(rep_, "/api/v1/expenses/advances/balance")["outstanding"], money(280000));
  // The next draw goes on where the first stopped: the rest of 660102, then the special expense's account.
  json second = json::parse(must(as(rep_, "POST", path(st) + "/payouts", {{"amount", money(20000)}}), 201));
  json paid_second = pay(second["advance"]);
  EXPECT_EQ(journal("advance-" + paid_second["id"].get<std::string>()),
            (std::vector<std::string>{"660102 CC-N 11500 0", "660199 CC-N 8500 0", "1002  0 20000"}));

  // R9: the payout drew the spot check; anyone re-derives it from the seed and the content hash.
  json check = get(auditor_, path(st) + "/spot-check");
  std::vector<std::pair<std::string, std::string>> keyed;
  for (const json& c : st["content"]["customers"]) {
    std::string p = c["party_id"];
    keyed.emplace_back(crypto::sha256_hex(check["seed"].get<std::string>() + ":" + st["content_hash"].get<std::string>() + ":" + p), p);
  }
  std::sort(keyed.begin(), keyed.end());
  ASSERT_EQ(check["items"].size(), keyed.size()) << "two customers, fewer than the sample size: both";
  for (size_t i = 0; i < keyed.size(); ++i) EXPECT_EQ(check["items"][i]["party_id"], keyed[i].second);
  must(as(head_, "POST", path(st) + "/spot-check/items/" + keyed[0].second, {{"outcome", "confirmed"}, {"note", "met the buyer"}}), 200);
  must(as(head_, "POST", path(st) + "/spot-check/items/" + keyed[1].second, {{"outcome", "disputed"}, {"note", "no such dinner"}}), 200);

  // The evidence pack: verified offline with the audit key; a changed figure in it fails, naming the file.
  HttpResult pack = as(auditor_, "GET", path(st) + "/evidence");
  ASSERT_EQ(pack.status, 200) << pack.body;
  EXPECT_EQ(pack.body.substr(0, 2), "PK");
  std::string key = (dir_.path() / "audit.pub").string(), zip = (dir_.path() / "pack.zip").string(),
              tampered = (dir_.path() / "tampered.zip").string(), out;
  std::ofstream(key) << must(d_->call("GET", "/api/v1/audit/public-key"), 200);
  std::ofstream(zip, std::ios::binary) << pack.body;
  EXPECT_EQ(d_->annexctl({"audit", "verify", "--file", zip, "--public-key", key}, &out), 0) << out;
  EXPECT_NE(out.find("intact"), std::string::npos) << out;
  std::string script =
      "import sys, zipfile, hashlib\n"
      "src, dst, digest = sys.argv[1], sys.argv[2], sys.argv[3]\n"
      "with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as b:\n"
      "    content = a.read('documents/content.json')\n"
      "    assert hashlib.sha256(content).hexdigest() == digest, 'content.json is not what was signed'\n"
      "    for info in a.infolist():\n"
      "        data = a.read(info.filename)\n"
      "        if info.filename == 'documents/content.json':\n"
      "            data = data.replace(b'63500', b'93500')\n"
      "        b.writestr(info.filename, data)\n";
  ASSERT_EQ(run_program("/usr/bin/python3", {"-c", script, zip, tampered, st["content_hash"].get<std::string>()}, &out), 0) << out;
  EXPECT_EQ(d_->annexctl({"audit", "verify", "--file", tampered, "--public-key", key}, &out), 1) << out;
  EXPECT_NE(out.find("documents/content.json"), std::string::npos) << out;
  EXPECT_EQ(as(rep_, "GET", path(st) + "/evidence").status, 200) << "the rep's own statement is within their reach";
  HttpResult period_pack = as(auditor_, "GET", std::string(kBase) + "/periods/2026-11/evidence");
  EXPECT_EQ(period_pack.status, 200);
  EXPECT_EQ(period_pack.header("content-type"), "application/zip");

  // December: the ERP reverses K-2's payment; January's job drafts December with the fee recovered.
  receipt("RV-2", "K-2", "-15000.00", "2026-12-15", "R-2");
  at("2026-12-16T09:00:00+08:00");
  pull();
  at("2027-01-01T01:00:30+08:00");
  json december = statement("2026-12");
  EXPECT_EQ(december["recovered"], money(22500));
  EXPECT_EQ(december["net_payable"], money(0));
  EXPECT_EQ(december["recovery_due"], money(22500)) << "carried to the next statement";

  // Every exception of the month on the auditors' list.
  std::set<std::string> kinds;
  json exceptions = get(auditor_, std::string(kBase) + "/exceptions?limit=500");
  for (const json& e : exceptions["items"]) kinds.insert(e["kind"].get<std::string>());
  EXPECT_FALSE(exceptions["items"].empty()) << exceptions.dump();
  for (const char* kind : {"pre_approval_after_signing", "late_filing", "missing_signature", "late_signature", "over_cap_attempt",
                           "disputed_spot_check", "recovery"}) {
    EXPECT_TRUE(kinds.count(kind)) << kind;
  }
  json period = get(auditor_, std::string(kBase) + "/periods/2026-11");
  ASSERT_EQ(period["statements"].size(), 1u);
  EXPECT_EQ(period["statements"][0]["signatures"]["signed"].size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Backends, RelationshipMonth, testing::Values(Backend::kSqlite, Backend::kPostgresql), backend_param_name);

}  // namespace
}  // namespace annex::test

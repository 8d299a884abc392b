#include "reports.h"

#include "claim.h"

namespace expenses {

using nlohmann::json;
namespace rest = annex::rest;

namespace {

// A CSV field, quoted when it must be (RFC 4180); a leading =, +, - or @ is prefixed with ' so that a spreadsheet
// never runs it as a formula.
std::string csv(const std::string& v) {
  std::string text = !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@') ? "'" + v : v;
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

bool wants_csv(const annex::Request& req) { return req.query_param("format").value_or("json") == "csv"; }

void answer(annex::Response& resp, bool as_csv, const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
            json document) {
  if (!as_csv) {
    resp.body(document.dump());
    return;
  }
  std::string out;
  for (size_t i = 0; i < header.size(); ++i) out += (i ? "," : "") + csv(header[i]);
  out += "\r\n";
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + csv(row[i]);
    out += "\r\n";
  }
  resp.header("Content-Type", "text/csv; charset=utf-8").body(out);
}

}  // namespace

void Reports::spend(const annex::Request& req, annex::Response& resp) {
  static const std::map<std::string, std::string> kGroups = {
      {"person", "l.claimant_id"}, {"cost_centre", "COALESCE(l.cost_centre, '')"}, {"category", "l.category"},
      {"customer", "COALESCE(c.party_id, '')"}, {"month", "SUBSTR(l.spent_on, 1, 7)"}};
  std::string group_by = req.query_param("group_by").value_or("category");
  auto group = kGroups.find(group_by);
  if (group == kGroups.end()) rest::invalid("group_by", "group_by is one of person, cost_centre, category, customer, month");
  std::string from = req.query_param("from").value_or(""), to = req.query_param("to").value_or("");
  if (!annex::biz::parse_date(from)) rest::invalid("from", "from is required, YYYY-MM-DD");
  if (!annex::biz::parse_date(to)) rest::invalid("to", "to is required, YYYY-MM-DD");
  // The lines carry their claim's status and sector, so only spend per customer joins the claims.
  const bool by_customer = group_by == "customer";
  std::string filter = s_.authz.list_filter(req.principal_id(), "expenses.claim.read", kClaim, "l.sector_id", "l.claimant_id", "l.claim_id");
  annex::Rows rows = s_.db.query("SELECT " + group->second + " AS g, COUNT(*), " + rest::split_sum_sql("l.sanctioned") +
                                     " FROM expenses_lines l" + (by_customer ? " JOIN expenses_claims c ON c.id = l.claim_id" : "") +
                                     " WHERE l.claim_status IN ('approved', 'posted', 'paid') AND l.spent_on >= ? AND l.spent_on <= ? AND " +
                                     filter + " GROUP BY " + group->second + " ORDER BY g",
                                 {from, to});
  json items = json::array();
  std::vector<std::vector<std::string>> table;
  while (rows.next()) {
    const annex::Row r = rows.row();
    int64_t amount = rest::narrow(rest::wide_sum(r.integer(2), r.integer(3)), "from", "the spend of " + r.text(0));
    items.push_back({{group_by, r.text(0)}, {"lines", r.integer(1)}, {"spend", {{"amount", amount}, {"currency", settings_.company_currency}}}});
    table.push_back({r.text(0), std::to_string(r.integer(1)), shown(settings_, amount).substr(0, shown(settings_, amount).find(' ')),
                     settings_.company_currency});
  }
  answer(resp, wants_csv(req), {group_by, "lines", "spend", "currency"}, table,
         {{"from", from}, {"to", to}, {"group_by", group_by}, {"items", items}});
}

void Reports::exceptions(const annex::Request& req, annex::Response& resp) {
  std::string filter = s_.authz.list_filter(req.principal_id(), "expenses.claim.read", kClaim, "c.sector_id", "c.claimant_id", "c.id");
  annex::Rows rows = s_.db.query(
      "SELECT c.id, c.claimant_id, c.status, l.line_no, l.spent_on, l.category, l.sanctioned, l.justification, l.policy"
      " FROM expenses_lines l JOIN expenses_claims c ON c.id = l.claim_id"
      " WHERE c.status <> 'draft' AND l.policy NOT LIKE '{\"outcome\":\"ok\"%' AND " + filter + " ORDER BY c.id, l.line_no LIMIT 5000");
  json items = json::array();
  std::vector<std::vector<std::string>> table;
  while (rows.next()) {
    const annex::Row r = rows.row();
    json policy = json::parse(r.text(8), nullptr, false);
    std::string rules;
    for (const json& result : policy.value("results", json::array())) rules += (rules.empty() ? "" : "; ") + result.value("message", "");
    items.push_back({{"claim_id", r.text(0)}, {"claimant_id", r.text(1)}, {"status", r.text(2)}, {"line_no", r.integer(3)},
                     {"date", r.text(4)}, {"category", r.text(5)}, {"amount", {{"amount", r.integer(6)}, {"currency", settings_.company_currency}}},
                     {"justification", r.optional_text(7) ? json(*r.optional_text(7)) : json(nullptr)}, {"policy", policy}});
    table.push_back({r.text(0), r.text(1), r.text(2), std::to_string(r.integer(3)), r.text(4), r.text(5), std::to_string(r.integer(6)),
                     policy.value("outcome", ""), rules, r.optional_text(7).value_or("")});
  }
  answer(resp, wants_csv(req), {"claim", "claimant", "status", "line", "date", "category", "amount_minor", "outcome", "rules", "justification"},
         table, {{"items", items}});
}

void Reports::awaiting(const annex::Request& req, annex::Response& resp) {
  std::string filter = s_.authz.list_filter(req.principal_id(), "expenses.claim.read", kClaim, "sector_id", "claimant_id", "id");
  annex::Rows rows = s_.db.query("SELECT id, claimant_id, status, sanctioned, reimbursable, decided_at FROM expenses_claims"
                                 " WHERE status IN ('approved', 'posted') AND " + filter + " ORDER BY decided_at, id LIMIT 5000");
  json posting = json::array(), payment = json::array();
  std::vector<std::vector<std::string>> table;
  while (rows.next()) {
    const annex::Row r = rows.row();
    json item = {{"claim_id", r.text(0)}, {"claimant_id", r.text(1)},
                 {"sanctioned", {{"amount", r.integer(3)}, {"currency", settings_.company_currency}}},
                 {"reimbursable", {{"amount", r.integer(4)}, {"currency", settings_.company_currency}}}, {"decided_at", r.optional_text(5).value_or("")}};
    (r.text(2) == "approved" ? posting : payment).push_back(item);
    table.push_back({r.text(0), r.text(1), r.text(2) == "approved" ? "posting" : "payment", std::to_string(r.integer(4)),
                     r.optional_text(5).value_or("")});
  }
  answer(resp, wants_csv(req), {"claim", "claimant", "awaiting", "reimbursable_minor", "decided_at"}, table,
         {{"awaiting_posting", posting}, {"awaiting_payment", payment}});
}

}  // namespace expenses

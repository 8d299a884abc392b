#include "statements.h"

#include "digest.h"

#include "../common/query.h"

#include <annex/business.hpp>

#include <map>
#include <set>

namespace relationship_spending {

using nlohmann::json;
namespace biz = annex::biz;
namespace rest = annex::rest;

namespace {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string amount_text(int64_t minor, const std::string& currency, int units) {
  return html_escape(biz::Money(minor, biz::Currency{currency, units}).decimal() + " " + currency);
}

std::string amount_text(const json& money, const annex::MasterData& masterdata) {
  std::string currency = money["currency"];
  std::optional<int> units = masterdata.currency(currency);
  return amount_text(money["amount"].get<int64_t>(), currency, units && *units >= 0 ? *units : 2);
}

}  // namespace

// ---- reading --------------------------------------------------------------------------------------------------

Statement Statements::reachable(const annex::Request& req) const {
  std::string id(req.path_param("id"));
  std::optional<Statement> found = statements_.find(id);
  if (!found || !s_.authz.may(req.principal_id(), kStatementRead, ref(*found))) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no statement " + id);
  }
  return *found;
}

void Statements::list(const annex::Request& req, annex::Response& resp) {
  rest::Where where;
  where.add(s_.authz.list_filter(req.principal_id(), kStatementRead, kStatement, "sector_id", "rep_id", "id"));
  where.equal_if(req, "period", "period").equal_if(req, "status", "status").equal_if(req, "rep_id", "rep_id");
  where.equal_if(req, "sector_id", "sector_id");
  resp.body(rest::page(s_.db, req,
                       "SELECT id, rep_id, sector_id, period, status, currency, net_payable, drawn, submitted_late, signed_late,"
                       " submitted_at, signed_at, updated_at, version FROM relationship_statements",
                       where, {{"id", 0, false}, {"period", 3, false}}, "-period",
                       [](const annex::Row& r, std::string& out) {
                         rest::ObjectWriter w(out);
                         w.column("id", r, 0).column("rep_id", r, 1).column("sector_id", r, 2).column("period", r, 3)
                             .column("status", r, 4).boolean("valid", r.view(4) == "signed")
                             .money("net_payable", r.integer(6), r.text(5)).money("drawn", r.integer(7), r.text(5))
                             .boolean("submitted_late", r.integer(8) != 0).boolean("signed_late", r.integer(9) != 0)
                             .text_or_null("submitted_at", r, 10).text_or_null("signed_at", r, 11).column("updated_at", r, 12)
                             .integer("version", r.integer(13));
                       }));
}

json Statements::signatures(const Statement& st) const {
  json out = {{"signed", json::array()}, {"missing", json::array()}};
  json approval = st.approval_id ? json::parse(s_.approvals.get(*st.approval_id)) : json(nullptr);
  std::set<std::string> done;
  if (approval.is_object()) {
    int round = approval.value("round", 1);
    for (const json& d : approval["decisions"]) {
      if (d.value("round", 1) != round || d.value("decision", "") != "approve") continue;
      out["signed"].push_back({{"step", d["step"]}, {"by", d["decider_id"]}, {"on_behalf_of", d["on_behalf_of"]}, {"at", d["at"]}});
      done.insert(d["step"].get<std::string>());
    }
    for (const json& step : approval["steps"]) {
      std::string name = step.is_string() ? step.get<std::string>() : step.value("name", "");
      if (!done.count(name)) out["missing"].push_back(name);
    }
  } else {
    out["missing"] = {"submission by the rep"};
  }
  return out;
}

void Statements::get(const annex::Request& req, annex::Response& resp) {
  Statement st = reachable(req);
  json out = st.to_json();
  out["signatures"] = signatures(st);
  rest::respond(resp, out);
}

// ---- drafting -------------------------------------------------------------------------------------------------

void Statements::draft(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  std::string period = rest::req_string(body, "period", 7);
  resp.body(drafter_.draft(period, std::string(req.principal_id())).to_json().dump());
}

void Statements::draft_previous_month() { drafter_.draft(drafter_.previous_period(), ""); }

// ---- submission and signatures ----------------------------------------------------------------------------------

bool Statements::after_day(const std::string& due) const {
  std::optional<biz::Date> day = biz::parse_date(due);
  return day && s_.calendar.now() >= s_.calendar.midnight(*day + std::chrono::days{1});
}

void Statements::submit(const annex::Request& req, annex::Response& resp) {
  std::string caller(req.principal_id());
  Statement seen = reachable(req);
  if (caller != seen.rep_id || !s_.authz.may(caller, kStatementSubmit, ref(seen))) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "only the rep whose statement it is submits it");
  }
  annex::Transaction txn = s_.db.begin();
  Statement st = *statements_.find(seen.id, &txn);
  if (st.status != "draft" && st.status != "returned") {
    throw annex::Error(ANNEX_ERR_CONFLICT, "the statement is " + st.status + " already", "status");
  }
  rest::check_if_match(req, st.version);
  json before = st.to_json();
  before.erase("content");
  std::string now = rest::utc_now();
  bool resubmission = st.status == "returned" && st.approval_id;
  st.status = "submitted";
  st.submitted_at = now;
  // R4: due by the end of the 3rd working day; later is flagged, and still accepted.
  st.submitted_late = st.submitted_late || after_day(st.submit_due);
  st.updated_at = now;
  json approval = json::parse(resubmission ? s_.approvals.resubmit(*st.approval_id, caller, &txn)
                                           : s_.approvals.submit({settings_.statement_chain, kStatement, st.id, st.sector_id, caller,
                                                                  st.net_payable, st.currency},
                                                                 &txn));
  st.approval_id = approval["id"].get<std::string>();
  statements_.update(txn, st, st.version);
  json after = st.to_json();
  after.erase("content");
  s_.audit.append(&txn, caller, "relationship.statement.submit", kStatement, st.id, before.dump(), after.dump());
  txn.commit();
  if (st.submitted_late) {
    exceptions_.record({"", ExceptionKind::kLateFiling, st.rep_id, st.sector_id, std::nullopt, kStatement, st.id,
                        {{"period", st.period}, {"due", st.submit_due}, {"submitted_at", now}}, ""},
                       caller);
  }
  json out = st.to_json();
  out["approval"] = approval;
  rest::respond(resp, out);
}

void Statements::on_approval(const json& payload, const std::string& key) {
  std::string status = payload.value("status", "");
  if (status != "approved" && status != "rejected" && status != "returned") return;
  annex::Transaction txn = s_.db.begin();
  annex::Rows fresh = s_.db.query(
      txn, "INSERT INTO relationship_applied_events (idempotency_key) VALUES (?) ON CONFLICT (idempotency_key) DO NOTHING", {key});
  if (fresh.affected() == 0) return;  // applied before
  std::optional<Statement> found = statements_.find(payload.value("item_id", ""), &txn);
  if (!found || found->status != "submitted") {
    txn.commit();
    return;
  }
  Statement st = *found;
  json before = st.to_json();
  before.erase("content");
  std::string now = rest::utc_now();
  st.updated_at = now;
  if (status == "approved") {
    // R5: signed by all three; the content is frozen from here on, its hash in the audit log.
    st.status = "signed";
    st.signed_at = now;
    st.signed_late = after_day(st.sign_due);
    st.content_hash = sha256_hex(st.content.dump());
  } else if (status == "returned") {
    st.status = "returned";
  } else {
    // Rejected: the statement is invalid for good; what it made payable goes back to the ledger, so the next
    // statement carries it again.
    st.status = "rejected";
    std::vector<std::string> ids;
    for (const json& customer : st.content["customers"]) {
      for (const json& contract : customer["contracts"]) ids.push_back(contract["contract_id"]);
    }
    std::map<std::pair<std::string, int64_t>, int64_t> change;
    for (const json& customer : st.content["customers"]) {
      for (const json& contract : customer["contracts"]) {
        for (const json& line : contract["lines"]) {
          change[{contract["contract_id"], line["line_no"]}] =
              line["payable_after"].get<int64_t>() - line["payable_before"].get<int64_t>();
        }
      }
    }
    for (const Fee& f : fees_.of_contracts(ids)) {
      auto it = change.find({f.contract_id, f.line_no});
      if (f.rep_id == st.rep_id && it != change.end() && it->second != 0) fees_.set_payable(txn, f, f.payable - it->second);
    }
    for (const json& special : st.content["special_expenses"]["on_statement"]) {
      int64_t change = special["payable_after"].get<int64_t>() - special["payable_before"].get<int64_t>();
      if (change == 0) continue;
      FeeRepository::SpecialPayable p{special["application_id"], st.rep_id,
                                      special["contract"].is_object() ? std::optional<std::string>(special["contract"]["contract_id"]) : std::nullopt,
                                      special["amount"], special["payable_before"]};
      fees_.set_special_payable(txn, p);
    }
    spend_.forget(txn, st.id);
  }
  statements_.update(txn, st, st.version);
  json after = st.to_json();
  after.erase("content");
  s_.audit.append(&txn, "", "relationship.statement." + std::string(status == "approved" ? "sign" : status), kStatement, st.id,
                  before.dump(), after.dump());
  txn.commit();
  if (st.signed_late) {
    exceptions_.record({"", ExceptionKind::kLateSignature, st.rep_id, st.sector_id, std::nullopt, kStatement, st.id,
                        {{"period", st.period}, {"due", st.sign_due}, {"signed_at", *st.signed_at}}, ""},
                       "");
  }
}

void Statements::flag_missing_signatures() {
  const std::string today = biz::format_date(s_.calendar.today());
  std::vector<Statement> overdue = statements_.list(
      "status <> 'signed' AND sign_due < ? AND NOT EXISTS (SELECT 1 FROM relationship_exceptions e WHERE e.kind = 'missing_signature'"
      " AND e.subject_id = relationship_statements.id)",
      {std::string_view(today)}, 1000);
  for (const Statement& st : overdue) {
    json sig = signatures(st);
    exceptions_.record({"", ExceptionKind::kMissingSignature, st.rep_id, st.sector_id, std::nullopt, kStatement, st.id,
                        {{"period", st.period}, {"due", st.sign_due}, {"status", st.status}, {"missing", sig["missing"]}}, ""},
                       "");
  }
}

// ---- the printable statement ------------------------------------------------------------------------------------

void Statements::print(const annex::Request& req, annex::Response& resp) {
  Statement st = reachable(req);
  int units = settings_.currency_minor_units;
  json sig = signatures(st);
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>客情费结算单 Relationship-fee statement " +
       html_escape(st.period) + "</title>\n<style>body{font:12pt serif;margin:2cm}table{border-collapse:collapse;width:100%}"
       "td,th{border:1px solid #000;padding:4px}td.n{text-align:right}@media print{.noprint{display:none}}</style></head><body>\n";
  h += "<h1>客情费结算单 · Relationship-fee statement " + html_escape(st.period) + "</h1>\n";
  h += "<p>Rep: " + html_escape(st.rep_id) + " · Sector: " + html_escape(st.sector_id) + " · Status: " + html_escape(st.status) +
       (st.valid() ? "" : " (<strong>invalid until signed by all three</strong>)") + "</p>\n";
  h += "<table><tr><th>Customer</th><th>Contract</th><th>Signed</th><th>Value</th><th>Collected in month</th><th>Collected to date</th>"
       "<th>Fee earned</th><th>Fee payable</th><th>Recovered</th><th>Carried forward</th></tr>\n";
  for (const json& c : st.content["customers"]) {
    bool first = true;
    for (const json& k : c["contracts"]) {
      h += "<tr><td>" + (first ? html_escape(c["party_id"].get<std::string>()) : std::string()) + "</td><td>" +
           html_escape(k["number"].get<std::string>()) + "</td><td>" + html_escape(k["signed_on"].get<std::string>()) + "</td>";
      for (const char* f : {"value", "collected_in_month", "collected_to_date"}) {
        h += "<td class=\"n\">" + amount_text(k[f], s_.masterdata) + "</td>";
      }
      if (first) {
        for (const char* f : {"fee_earned", "fee_payable", "recovered", "carried_forward"}) {
          h += "<td class=\"n\" rowspan=\"" + std::to_string(c["contracts"].size()) + "\">" + amount_text(c[f], st.currency, units) + "</td>";
        }
      }
      h += "</tr>\n";
      first = false;
    }
  }
  const json& t = st.content["totals"];
  h += "</table>\n<p>Fee payable " + amount_text(t["fee_payable"], st.currency, units) + " − recovered " +
       amount_text(t["recovered"], st.currency, units) + " − recovery carried in " + amount_text(t["recovery_carried_in"], st.currency, units) +
       " = <strong>net payable " + amount_text(st.net_payable, st.currency, units) + "</strong>; carried forward until collection " +
       amount_text(t["carried_forward"], st.currency, units) + ".</p>\n";
  h += "<h2>签字 Signatures</h2><table><tr><th>Step</th><th>Signed by</th><th>At</th></tr>\n";
  for (const json& s : sig["signed"]) {
    h += "<tr><td>" + html_escape(s["step"].get<std::string>()) + "</td><td>" + html_escape(s["by"].get<std::string>()) +
         (s["on_behalf_of"].is_string() ? " for " + html_escape(s["on_behalf_of"].get<std::string>()) : std::string()) + "</td><td>" +
         html_escape(s["at"].get<std::string>()) + "</td></tr>\n";
  }
  for (const json& m : sig["missing"]) h += "<tr><td>" + html_escape(m.get<std::string>()) + "</td><td colspan=\"2\">— missing —</td></tr>\n";
  h += "</table>\n";
  if (st.content_hash) h += "<p>Content SHA-256: <code>" + html_escape(*st.content_hash) + "</code></p>\n";
  h += "<p>原件财务留存，复印件销售留存 · Finance keeps the original, sales a copy.</p>\n</body></html>\n";
  resp.header("Content-Type", "text/html; charset=utf-8");
  resp.body(h);
}

// ---- payout ------------------------------------------------------------------------------------------------------

void Statements::payout(const annex::Request& req, annex::Response& resp) {
  std::string caller(req.principal_id());
  Statement seen = reachable(req);
  if (caller != seen.rep_id || !s_.authz.may(caller, kPayoutSubmit, ref(seen))) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "only the rep whose statement it is draws its fees");
  }
  json body = rest::parse_body(req);
  // R5: a statement lacking any of the three signatures is invalid; nothing on it is paid.
  if (!seen.valid()) {
    std::string missing;
    for (const json& m : signatures(seen)["missing"]) missing += (missing.empty() ? "" : ", ") + m.get<std::string>();
    exceptions_.record({"", ExceptionKind::kMissingSignature, seen.rep_id, seen.sector_id, std::nullopt, kStatement, seen.id,
                        {{"period", seen.period}, {"attempt", "payout"}, {"status", seen.status}, {"missing", missing}}, ""},
                       caller);
    rest::unprocessable("status", "the statement is " + seen.status + ", not signed by the sales clerk, the sales manager and finance (missing: " +
                                      missing + "); nothing on it can be paid");
  }
  // R7: from the 9th working day.
  if (s_.calendar.today() < *biz::parse_date(seen.payout_from)) {
    rest::unprocessable("payout_from", "fees of " + seen.period + " can be drawn from the 9th working day, " + seen.payout_from);
  }
  // Reserve the amount on the statement first, so that two draws at once cannot both take the same fees.
  Payout p;
  p.id = rest::new_id("rpo");
  p.statement_id = seen.id;
  p.rep_id = seen.rep_id;
  p.drawn_by = caller;
  p.drawn_at = rest::utc_now();
  json charges = json::array();
  {
    annex::Transaction txn = s_.db.begin();
    Statement st = *statements_.find(seen.id, &txn);
    if (std::optional<rest::Money> m = rest::opt_money(body, "amount")) {
      if (m->currency != st.currency) rest::unprocessable("amount.currency", "fees are paid in " + st.currency);
      if (m->amount <= 0) rest::unprocessable("amount.amount", "the amount must be above zero");
      p.amount = m->amount;
    } else {
      p.amount = st.undrawn();
    }
    if (p.amount <= 0) rest::unprocessable("amount", "nothing is left to draw on statement " + st.id);
    if (p.amount > st.undrawn()) {
      rest::unprocessable("amount.amount", "only " + biz::Money(st.undrawn(), {st.currency, settings_.currency_minor_units}).decimal() + " " +
                                               st.currency + " of the statement's payable fees is left to draw");
    }
    charges = charges_of(st, st.drawn, p.amount);
    int64_t version = st.version;
    st.drawn += p.amount;
    st.updated_at = p.drawn_at;
    statements_.update(txn, st, version);
    statements_.insert_payout(txn, p);
    txn.commit();
  }
  json advance = draw(seen, p, charges, caller);
  if (after_payout) after_payout(seen);
  resp.status(201).body(json{{"id", p.id},
                              {"statement_id", p.statement_id},
                              {"amount", {{"amount", p.amount}, {"currency", seen.currency}}},
                              {"advance", advance},
                              {"drawn_at", p.drawn_at}}
                             .dump());
}

json Statements::charges_of(const Statement& st, int64_t position, int64_t amount) const {
  // The next part of the statement's payable amount after what earlier draws took, by fee account (and the
  // special-expense account).
  json charges = json::array();
  for (const AccountShare& a : draw_slice(payable_by_account(st, settings_.special_expense_account), position, amount)) {
    bool special = a.account == settings_.special_expense_account && !settings_.special_expense_account.empty();
    charges.push_back({{"account", a.account},
                       {"amount", a.amount},
                       {"description", std::string(special ? "special expenses" : "relationship fees") + " of " + st.period + ", " +
                                           st.rep_id + " (statement " + st.id + ")"}});
  }
  return charges;
}

void Statements::release(const Statement& seen, const Payout& p) {
  annex::Transaction txn = s_.db.begin();
  Statement st = *statements_.find(seen.id, &txn);
  int64_t version = st.version;
  st.drawn -= p.amount;
  statements_.update(txn, st, version);
  statements_.delete_payout(txn, p.id);
  txn.commit();
}

json Statements::draw(const Statement& seen, Payout& p, const json& charges, const std::string& caller) {
  // R7, R8: the draw goes through the expenses plugin's ledger, under its per-person cap (decided there,
  // atomically) and this plugin's `cap` (the lower applies); refused, the reservation is released. The reference
  // names the payout: asked again, the ledger answers with the advance drawn for it.
  json advance;
  try {
    json balance = advances_.balance(seen.rep_id);
    int64_t outstanding = balance["outstanding"]["amount"].get<int64_t>();
    if (outstanding > settings_.cap - p.amount) {
      auto text = [&](int64_t v) { return biz::Money(v, {seen.currency, settings_.currency_minor_units}).decimal() + " " + seen.currency; };
      rest::unprocessable("amount", "drawing " + text(p.amount) + " would take the outstanding advances of " + seen.rep_id + " from " +
                                        text(outstanding) + " above the cap of " + text(settings_.cap));
    }
    // With a ledger that takes charges, the fees post to their accounts and the rep's cost centre when finance pays.
    std::string reference = "relationship-statement:" + seen.id + ":" + p.id;
    advance = advances_.charges_draws() ? advances_.draw_charged(seen.rep_id, p.amount, "relationship_fee", reference, caller, charges)
                                        : advances_.draw(seen.rep_id, p.amount, "relationship_fee", reference, caller);
  } catch (const annex::Error& e) {
    release(seen, p);
    if (e.code() == ANNEX_ERR_UNPROCESSABLE) {
      // R8: an attempt over the cap is an exception for auditors, whichever cap refused it.
      exceptions_.record({"", ExceptionKind::kOverCapAttempt, seen.rep_id, seen.sector_id, std::nullopt, kStatement, seen.id,
                          {{"amount", p.amount}, {"currency", seen.currency}, {"refusal", e.message()}}, ""},
                         caller);
    }
    throw;
  } catch (...) {
    release(seen, p);
    throw;
  }
  p.advance_id = advance["id"].get<std::string>();
  annex::Transaction txn = s_.db.begin();
  statements_.set_payout_advance(txn, p.id, p.advance_id);
  s_.audit.append(&txn, caller, "relationship.statement.payout", kStatement, seen.id, "",
                  json{{"payout_id", p.id}, {"amount", p.amount}, {"currency", seen.currency}, {"advance_id", p.advance_id}}.dump());
  txn.commit();
  return advance;
}

std::vector<std::string> Statements::resume_payouts(int grace_seconds) {
  std::vector<std::string> told;
  for (Payout p : statements_.unfinished_payouts(rest::utc_at(-grace_seconds))) {
    std::optional<Statement> st = statements_.find(p.statement_id);
    if (!st) continue;
    // Where the payout's part of the statement starts: after the payouts reserved before it.
    int64_t position = 0;
    for (const Payout& earlier : statements_.payouts(st->id)) {
      if (earlier.id == p.id) break;
      position += earlier.amount;
    }
    try {
      draw(*st, p, charges_of(*st, position, p.amount), p.drawn_by);
      told.push_back("payout " + p.id + " of statement " + st->id + " finished after an interruption: advance " + p.advance_id);
      if (after_payout) after_payout(*st);
    } catch (const std::exception& e) {
      told.push_back("payout " + p.id + " of statement " + st->id + " interrupted and not drawn; its reservation is given back: " + e.what());
    }
  }
  return told;
}

void Statements::payouts(const annex::Request& req, annex::Response& resp) {
  Statement st = reachable(req);
  json items = json::array();
  for (const Payout& p : statements_.payouts(st.id)) {
    items.push_back({{"id", p.id}, {"amount", {{"amount", p.amount}, {"currency", st.currency}}}, {"advance_id", p.advance_id},
                     {"drawn_by", p.drawn_by}, {"drawn_at", p.drawn_at}});
  }
  resp.body(json{{"items", items}}.dump());
}

}  // namespace relationship_spending

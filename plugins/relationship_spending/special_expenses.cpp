#include "special_expenses.h"

#include "purpose.h"

#include "../common/query.h"

#include <map>

namespace relationship_spending {

using nlohmann::json;
namespace rest = annex::rest;

namespace {

bool blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

std::optional<FirstSigned> SpecialExpenses::first_signed(const std::string& party_id) const {
  std::optional<json> j = contracts_.first_signed(party_id);
  if (!j) return std::nullopt;
  return FirstSigned{j->value("contract_id", ""), j->value("number", ""), j->value("signed_on", "")};
}

// ---- for the statements -------------------------------------------------------------------------------------

std::vector<ApprovedSpecialExpense> SpecialExpenses::approved_for_rep(const std::string& rep_id) const {
  std::vector<ApprovedSpecialExpense> out;
  std::map<std::string, std::optional<FirstSigned>> by_party;
  for (SpecialExpense& a : applications_.approved_for_rep(rep_id)) {
    auto it = by_party.find(a.party_id);
    if (it == by_party.end()) it = by_party.emplace(a.party_id, first_signed(a.party_id)).first;
    out.push_back({std::move(a), it->second});
  }
  return out;
}

// ---- reading an application from a request ------------------------------------------------------------------

void SpecialExpenses::read_body(const json& body, SpecialExpense& a, const std::string& caller, bool partial) const {
  if (!partial) {
    a.party_id = rest::req_string(body, "party_id", 64);
    if (!s_.masterdata.get("parties", a.party_id, caller)) {
      rest::unprocessable("party_id", "no customer " + a.party_id + " within your reach in master data");
    }
  } else if (body.contains("party_id")) {
    rest::unprocessable("party_id", "an application's customer never changes; file another for another customer");
  }
  if (!partial || body.contains("opportunity_id")) {
    a.opportunity_id = rest::opt_string(body, "opportunity_id", 64);
    if (a.opportunity_id) {
      // The pipeline keeps opportunities; the application names one of the customer's that the rep reaches.
      std::optional<json> opportunity = opportunities_.get(*a.opportunity_id, caller);
      if (!opportunity) rest::unprocessable("opportunity_id", "no opportunity " + *a.opportunity_id + " within your reach");
      if (opportunity->value("party_id", "") != a.party_id) {
        rest::unprocessable("opportunity_id", "opportunity " + *a.opportunity_id + " is for another customer");
      }
    }
  }
  if (!partial || body.contains("amount")) {
    std::optional<rest::Money> amount = rest::opt_money(body, "amount");
    if (!amount) rest::invalid("amount", "amount is required: {\"amount\": whole minor units, \"currency\": \"CNY\"}");
    if (amount->amount <= 0) rest::unprocessable("amount", "amount must be more than zero");
    rest::known_currency(s_.masterdata, amount->currency, "amount.currency");
    a.amount = amount->amount;
    a.currency = amount->currency;
  }
  if (!partial || body.contains("purpose")) {
    a.purpose = purpose_field(rest::opt_string(body, "purpose", 40).value_or("new_customer_special"), "purpose").code;
  }
  if (!partial || body.contains("justification")) {
    std::optional<std::string> why = rest::opt_string(body, "justification", 4000);
    if (!why) rest::invalid("justification", "justification is required: why winning this customer is worth the expense");
    if (blank(*why)) rest::unprocessable("justification", "justification must say why winning this customer is worth the expense");
    a.justification = *why;
  }
}

void SpecialExpenses::refuse_after_signing(const SpecialExpense& a, const std::string& caller, const char* attempt) const {
  std::optional<FirstSigned> first = first_signed(a.party_id);
  if (!first) return;
  ControlException e;
  e.kind = ExceptionKind::kPreApprovalAfterSigning;
  e.rep_id = a.rep_id;
  e.sector_id = a.sector_id;
  e.party_id = a.party_id;
  e.subject_type = "contracts.contract";
  e.subject_id = first->contract_id;
  e.detail = {{"attempt", attempt},
              {"application_id", a.id.empty() ? json(nullptr) : json(a.id)},
              {"contract", first->to_json()},
              {"amount", rest::money_json(a.amount, a.currency)},
              {"purpose", a.purpose}};
  exceptions_.record(std::move(e), caller);
  rest::unprocessable("party_id", "the customer signed its first contract, " + first->number + ", on " + first->signed_on +
                                      ": a special expense to win a new customer is applied for before the contract is signed (R6)");
}

SpecialExpense SpecialExpenses::reachable(const annex::Request& req) const {
  std::optional<SpecialExpense> a = applications_.find(std::string(req.path_param("id")));
  if (!a || !s_.authz.may(req.principal_id(), kSpecialRead, {kSpecialExpense, a->id, a->sector_id, a->rep_id})) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such special-expense application");
  }
  return *a;
}

// ---- handlers -----------------------------------------------------------------------------------------------

void SpecialExpenses::refuse_over_limit(const SpecialExpense& a, const std::string& caller) const {
  if (settings_.customer_spend_limit <= 0 || a.currency != settings_.currency) return;
  const std::string from =
      annex::biz::format_date(s_.calendar.today() - std::chrono::days{settings_.spend_window_days - 1});
  int64_t so_far = annex::biz::checked_add(spend_.fees_since(a.party_id, from), applications_.live_total(a.party_id, a.currency, from), "amount");
  if (a.amount <= settings_.customer_spend_limit - so_far) return;
  auto text = [&](int64_t v) { return annex::biz::Money(v, {settings_.currency, settings_.currency_minor_units}).decimal() + " " + a.currency; };
  std::string why = "customer " + a.party_id + " has received " + text(so_far) + " of relationship spending over the last " +
                    std::to_string(settings_.spend_window_days) + " days; " + text(a.amount) + " more passes the limit of " +
                    text(settings_.customer_spend_limit);
  ControlException e;
  e.kind = ExceptionKind::kOverLimit;
  e.rep_id = caller;
  e.sector_id = a.sector_id;
  e.party_id = a.party_id;
  e.subject_type = "masterdata.party";
  e.subject_id = a.party_id;
  e.detail = {{"attempt", "file"}, {"amount", rest::money_json(a.amount, a.currency)}, {"spent_in_window", so_far},
              {"limit", settings_.customer_spend_limit}, {"window_days", settings_.spend_window_days}};
  exceptions_.record(std::move(e), caller);
  rest::unprocessable("amount", why);
}

void SpecialExpenses::file(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  std::string caller(req.principal_id());
  SpecialExpense a;
  a.rep_id = caller;
  if (std::optional<std::string> sector = rest::opt_string(body, "sector_id", 64)) {
    a.sector_id = *sector;
  } else if (std::optional<std::string> home = s_.authz.home_sector(caller)) {
    a.sector_id = *home;
  } else {
    rest::unprocessable("sector_id", "you belong to no sector; name the application's sector_id");
  }
  if (!s_.authz.may(caller, kSpecialSubmit, {kSpecialExpense, "", a.sector_id, caller})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "you may not file special expenses in sector " + a.sector_id, "sector_id");
  }
  read_body(body, a, caller, false);
  refuse_after_signing(a, caller, "file");
  refuse_over_limit(a, caller);
  a.id = rest::new_id("rse");
  a.filed_on = annex::biz::format_date(s_.calendar.today());
  a.filed_at = a.created_at = a.updated_at = now_text(s_.calendar);
  annex::Transaction txn = s_.db.begin();
  // Into the chain with the application, or neither.
  json approval = json::parse(s_.approvals.submit(
      {settings_.special_expense_chain, kSpecialExpense, a.id, a.sector_id, caller, a.amount, a.currency}, &txn));
  a.approval_id = approval["id"].get<std::string>();
  a.approval_round = approval.value("round", int64_t{1});
  applications_.insert(txn, a);
  json out = a.to_json();
  s_.audit.append(&txn, caller, "relationship.special_expense.file", kSpecialExpense, a.id, "", out.dump());
  txn.commit();
  out["approval"] = approval;
  resp.header("Location", "/api/v1/relationship-spending/special-expenses/" + a.id);
  rest::respond(resp, out, 201);
}

void SpecialExpenses::list(const annex::Request& req, annex::Response& resp) {
  rest::Where where;
  where.add(s_.authz.list_filter(req.principal_id(), kSpecialRead, kSpecialExpense, "sector_id", "rep_id", "id"));
  where.equal_if(req, "status", "status").equal_if(req, "rep_id", "rep_id").equal_if(req, "sector_id", "sector_id");
  where.equal_if(req, "party_id", "party_id");
  resp.body(rest::page(s_.db, req, std::string("SELECT ") + SpecialExpenseRepository::columns() + " FROM relationship_special_expenses",
                       where, {{"id", 0, false}, {"filed_at", 16, false}}, "-id",
                       [](const annex::Row& r, std::string& out) { out += SpecialExpenseRepository::read(r).to_json().dump(); }));
}

void SpecialExpenses::get(const annex::Request& req, annex::Response& resp) {
  SpecialExpense a = reachable(req);
  json out = a.to_json();
  // What the approver decides on: the justification above, the chain's state, and whether the customer has signed.
  out["approval"] = a.approval_id ? json::parse(s_.approvals.get(*a.approval_id)) : json(nullptr);
  std::optional<FirstSigned> first = first_signed(a.party_id);
  out["first_signed"] = first ? first->to_json() : json(nullptr);
  rest::respond(resp, out);
}

void SpecialExpenses::resubmit(const annex::Request& req, annex::Response& resp) {
  std::string caller(req.principal_id());
  SpecialExpense seen = reachable(req);
  if (caller != seen.rep_id || !s_.authz.may(caller, kSpecialSubmit, {kSpecialExpense, seen.id, seen.sector_id, seen.rep_id})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "only the rep who filed an application resubmits it");
  }
  if (seen.status != "returned") {
    throw annex::Error(ANNEX_ERR_CONFLICT, "the application is " + seen.status + "; only a returned one is resubmitted", "status");
  }
  rest::check_if_match(req, seen.version);
  json body = req.body().empty() ? json::object() : rest::parse_body(req);
  SpecialExpense a = seen;
  read_body(body, a, caller, true);
  // The chain's steps were chosen by the amount first filed: a resubmission may lower it, never raise it.
  if (a.currency != seen.currency) rest::unprocessable("amount.currency", "an application keeps its currency, " + seen.currency);
  if (a.amount > seen.amount) {
    rest::unprocessable("amount", "a resubmission may lower the amount, never raise it; file another application for more");
  }
  refuse_after_signing(a, caller, "resubmit");
  a.updated_at = now_text(s_.calendar);
  a.status = "filed";
  a.decided_by.reset();
  a.decision_comment.reset();
  a.decided_at.reset();
  annex::Transaction txn = s_.db.begin();
  json approval = json::parse(s_.approvals.resubmit(*a.approval_id, caller, &txn));
  a.approval_round = approval.value("round", a.approval_round + 1);
  applications_.update(txn, a, seen.version);
  json out = a.to_json();
  s_.audit.append(&txn, caller, "relationship.special_expense.resubmit", kSpecialExpense, a.id, seen.to_json().dump(), out.dump());
  txn.commit();
  out["approval"] = approval;
  rest::respond(resp, out);
}

void SpecialExpenses::on_approval(const json& payload) {
  std::string status = payload.value("status", "");
  if (status != "approved" && status != "rejected" && status != "returned") return;
  std::optional<SpecialExpense> seen = applications_.find(payload.value("item_id", ""));
  const int64_t round = payload.value("round", int64_t{0});
  if (!seen || seen->status != "filed" || seen->approval_round != round) return;  // applied before, or an older round's
  // The decision that ended the round: who decided, and what they said.
  json approval = json::parse(s_.approvals.get(payload.value("id", "")));
  json last = nullptr;
  for (const json& d : approval.value("decisions", json::array())) {
    if (d.value("round", int64_t{0}) == round) last = d;
  }
  annex::Transaction txn = s_.db.begin();
  std::optional<SpecialExpense> found = applications_.find(seen->id, &txn);
  if (!found || found->status != "filed" || found->approval_round != round) return;
  SpecialExpense a = *found;
  a.status = status;
  a.decided_at = a.updated_at = now_text(s_.calendar);
  if (last.is_object()) {
    a.decided_by = last.value("decider_id", "");
    if (last.contains("comment") && last["comment"].is_string()) a.decision_comment = last["comment"].get<std::string>();
  }
  applications_.update(txn, a, found->version);
  s_.audit.append(&txn, a.decided_by.value_or(""), "relationship.special_expense." + status, kSpecialExpense, a.id,
                  found->to_json().dump(), a.to_json().dump());
  txn.commit();
}

}  // namespace relationship_spending

#include "advances.h"

#include "../common/query.h"

namespace expenses {

using nlohmann::json;
namespace rest = annex::rest;

Advance Advances::reachable(const annex::Request& req, std::string_view permission) const {
  std::optional<Advance> a = ledger_.find(std::string(req.path_param("id")));
  if (!a || !s_.authz.may(req.principal_id(), permission, {kAdvance, a->id, a->sector_id, a->requester_id})) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such advance");
  }
  return *a;
}

Advance Advances::finance_change(const annex::Request& req, const char* what) const {
  Advance a = reachable(req, "expenses.advance.read");
  if (!s_.authz.may(req.principal_id(), "finance.expenses.pay", {kAdvance, a.id, a.sector_id, a.requester_id})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, std::string(what) + " needs finance.expenses.pay");
  }
  if (req.principal_id() == a.requester_id) throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "nobody pays or settles their own advance");
  rest::check_if_match(req, a.version);
  return a;
}

json Advances::draw(const std::string& user_id, int64_t amount, const std::string& purpose, const std::optional<std::string>& party_id,
                    const std::optional<std::string>& reference, const std::string& actor, std::vector<Charge> charges) {
  if (amount <= 0 || amount > rest::kMaxAmount) rest::unprocessable("amount", "an advance is more than zero and at most 10^15 minor units");
  int64_t charged = 0;
  for (const Charge& c : charges) charged = annex::biz::checked_add(charged, c.amount, "charges");
  if (!charges.empty() && charged != amount) {
    rest::unprocessable("charges", "the charges add up to " + shown(settings_, charged) + ", not the advance's " + shown(settings_, amount));
  }
  std::optional<std::string> sector = s_.authz.home_sector(user_id);
  if (!sector) rest::unprocessable("user_id", "user " + user_id + " belongs to no sector");
  Advance a;
  a.id = rest::new_id("ea");
  a.requester_id = user_id;
  a.sector_id = *sector;
  a.purpose = purpose;
  a.party_id = party_id;
  a.reference = reference;
  a.currency = settings_.company_currency;
  a.amount = amount;
  a.charges = std::move(charges);
  if (!a.charges.empty()) a.cost_centre = claimant(s_, user_id).cost_centre;
  a.created_at = a.updated_at = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  // Drawn for a reference already (the caller asks again after a crash before it kept the answer): that advance.
  if (reference) {
    if (std::optional<Advance> drawn = ledger_.find_by_reference(user_id, *reference, &txn)) {
      if (drawn->amount != amount) {
        throw annex::Error(ANNEX_ERR_CONFLICT, "an advance of " + shown(settings_, drawn->amount) + " was drawn for " + *reference +
                                                   " already (" + drawn->id + "), not " + shown(settings_, amount), "reference");
      }
      json out = drawn->to_json();
      out["approval"] = {{"id", drawn->approval_id.value_or("")}};
      return out;
    }
  }
  ledger_.reserve(txn, user_id, amount, settings_.cap_for(roles_of(s_.directory, user_id)),
                  [&](int64_t v) { return shown(settings_, v); });
  json approval = json::parse(s_.approvals.submit(
      {settings_.advance_chain, kAdvance, a.id, a.sector_id, user_id, amount, settings_.company_currency}, &txn));
  a.approval_id = approval["id"].get<std::string>();
  ledger_.insert(txn, a);
  json out = a.to_json();
  s_.audit.append(&txn, actor, "expenses.advance.request", kAdvance, a.id, "", out.dump());
  txn.commit();
  out["approval"] = approval;
  return out;
}

void Advances::request(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  std::string caller(req.principal_id());
  std::optional<std::string> sector = s_.authz.home_sector(caller);
  if (!sector || !s_.authz.may(caller, "expenses.advance.write", {kAdvance, "", *sector, caller})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "you may not request cash advances");
  }
  std::optional<rest::Money> amount = rest::opt_money(body, "amount");
  if (!amount) rest::invalid("amount", "amount is required: {\"amount\": minor units, \"currency\"}");
  if (amount->currency != settings_.company_currency) {
    rest::unprocessable("amount", "advances are in the company currency, " + settings_.company_currency);
  }
  std::string purpose = rest::req_string(body, "purpose", 200);
  std::optional<std::string> party = rest::opt_string(body, "party_id", 64);
  if (party && !s_.masterdata.get("parties", *party, caller)) rest::unprocessable("party_id", "no customer " + *party + " within your reach");
  json out = draw(caller, amount->amount, purpose, party, std::nullopt, caller);
  resp.header("Location", "/api/v1/expenses/advances/" + out["id"].get<std::string>());
  rest::respond(resp, out, 201);
}

void Advances::list(const annex::Request& req, annex::Response& resp) {
  rest::Where where;
  where.add(s_.authz.list_filter(req.principal_id(), "expenses.advance.read", kAdvance, "sector_id", "requester_id", "id"));
  where.equal_if(req, "status", "status").equal_if(req, "requester_id", "requester_id");
  resp.body(rest::page(s_.db, req,
                       "SELECT id, requester_id, sector_id, purpose, status, currency, amount, settled, returned, paid_on,"
                       " created_at, version FROM expenses_advances",
                       where, {{"id", 0, false}, {"created_at", 10, false}}, "-id", [](const annex::Row& r, std::string& out) {
                         rest::ObjectWriter w(out);
                         w.column("id", r, 0).column("requester_id", r, 1).column("sector_id", r, 2).column("purpose", r, 3)
                             .column("status", r, 4).money("amount", r.integer(6), r.text(5))
                             .money("open", r.text(4) == "rejected" ? 0 : r.integer(6) - r.integer(7) - r.integer(8), r.text(5))
                             .text_or_null("paid_on", r, 9).column("created_at", r, 10).integer("version", r.integer(11));
                       }));
}

void Advances::get(const annex::Request& req, annex::Response& resp) { rest::respond(resp, reachable(req, "expenses.advance.read").to_json()); }

void Advances::mark_paid(const annex::Request& req, annex::Response& resp) {
  Advance a = finance_change(req, "paying an advance");
  if (a.status != "approved") throw annex::Error(ANNEX_ERR_CONFLICT, "only an approved advance is paid; this one is " + a.status, "status");
  json body = req.body().empty() ? json::object() : rest::parse_body(req);
  std::string paid_on = rest::date_field(body, "paid_on", false);
  json before = a.to_json();
  a.status = "paid";
  a.paid_on = paid_on.empty() ? annex::biz::format_date(annex::biz::today_utc()) : paid_on;
  a.updated_at = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  if (!a.charges.empty()) {
    settle_charged(txn, a, false);
  } else {
    ledger_.update(txn, a);
    if (posting_ != nullptr) posting_->advance_paid(txn, a);
  }
  json after = a.to_json();
  s_.audit.append(&txn, req.principal_id(), "expenses.advance.paid", kAdvance, a.id, before.dump(), after.dump());
  txn.commit();
  rest::respond(resp, after);
}

void Advances::record_return(const annex::Request& req, annex::Response& resp) {
  Advance a = finance_change(req, "recording a returned advance");
  if (a.status != "paid" && a.status != "return_due") {
    throw annex::Error(ANNEX_ERR_CONFLICT, "only a paid advance is returned; this one is " + a.status, "status");
  }
  json body = rest::parse_body(req);
  std::optional<rest::Money> amount = rest::opt_money(body, "amount");
  if (!amount || amount->amount <= 0) rest::invalid("amount", "amount is required and more than zero");
  if (amount->currency != a.currency) rest::unprocessable("amount", "the advance is in " + a.currency);
  if (amount->amount > a.open()) rest::unprocessable("amount", "only " + shown(settings_, a.open()) + " is open on this advance");
  json before = a.to_json();
  a.returned += amount->amount;
  if (a.open() == 0) a.status = "settled";
  a.updated_at = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  ledger_.update(txn, a);
  ledger_.release(txn, a.requester_id, amount->amount);
  if (posting_ != nullptr) posting_->advance_returned(txn, a, amount->amount);
  json after = a.to_json();
  s_.audit.append(&txn, req.principal_id(), "expenses.advance.returned", kAdvance, a.id, before.dump(), after.dump());
  txn.commit();
  rest::respond(resp, after);
}

json Advances::balance_of(const std::string& user_id) const {
  int64_t outstanding = ledger_.outstanding(user_id);
  int64_t cap = settings_.cap_for(roles_of(s_.directory, user_id));
  return {{"user_id", user_id},
          {"outstanding", {{"amount", outstanding}, {"currency", settings_.company_currency}}},
          {"cap", {{"amount", cap}, {"currency", settings_.company_currency}}},
          {"available", {{"amount", std::max<int64_t>(0, cap - outstanding)}, {"currency", settings_.company_currency}}}};
}

void Advances::balance(const annex::Request& req, annex::Response& resp) {
  std::string caller(req.principal_id());
  std::string user = req.query_param("user_id").value_or(caller);
  if (user != caller) {
    std::optional<std::string> sector = s_.authz.home_sector(user);
    if (!sector || !s_.authz.may(caller, "expenses.advance.read", {kAdvance, "", *sector, user})) {
      throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such user within your reach", "user_id");
    }
  }
  resp.body(balance_of(user).dump());
}

void Advances::ageing(const annex::Request& req, annex::Response& resp) {
  std::string filter = s_.authz.list_filter(req.principal_id(), "expenses.advance.read", kAdvance, "sector_id", "requester_id", "id");
  std::string today = annex::biz::format_date(annex::biz::today_utc());
  annex::Rows rows = s_.db.query("SELECT id, requester_id, paid_on, amount - settled - returned, status FROM expenses_advances"
                                 " WHERE status IN ('paid', 'return_due')"
                                 " AND amount > settled + returned AND " + filter + " ORDER BY requester_id, paid_on, id");
  struct Bucket {
    const char* name;
    int64_t upto;  // days, inclusive
  };
  const Bucket buckets[] = {{"0-30", 30}, {"31-60", 60}, {"61-90", 90}, {"over-90", INT64_MAX}};
  std::map<std::string, std::map<std::string, int64_t>> per_person;
  json items = json::array();
  const annex::biz::Date now = annex::biz::today_utc();
  while (rows.next()) {
    const annex::Row r = rows.row();
    int64_t days = annex::biz::days_between(*annex::biz::parse_date(r.text(2)), now);
    const char* bucket = buckets[3].name;
    for (const Bucket& b : buckets) {
      if (days <= b.upto) {
        bucket = b.name;
        break;
      }
    }
    int64_t open = r.integer(3);
    per_person[r.text(1)][bucket] = annex::biz::checked_add(per_person[r.text(1)][bucket], open, "open");
    items.push_back({{"advance_id", r.text(0)}, {"requester_id", r.text(1)}, {"paid_on", r.text(2)}, {"days", days}, {"bucket", bucket},
                     {"status", r.text(4)}, {"open", {{"amount", open}, {"currency", settings_.company_currency}}}});
  }
  json people = json::array();
  for (const auto& [person, by_bucket] : per_person) {
    json row = {{"requester_id", person}};
    for (const Bucket& b : buckets) row[b.name] = by_bucket.count(b.name) ? by_bucket.at(b.name) : 0;
    people.push_back(row);
  }
  resp.body(json{{"as_of", today}, {"currency", settings_.company_currency}, {"people", people}, {"advances", items}}.dump());
}

void Advances::on_approval(const json& payload, const std::string& key) {
  std::string status = payload.value("status", "");
  if (status != "approved" && status != "rejected" && status != "returned") return;
  annex::Transaction txn = s_.db.begin();
  annex::Rows fresh = s_.db.query(txn, "INSERT INTO expenses_applied_events (idempotency_key) VALUES (?) ON CONFLICT (idempotency_key) DO NOTHING", {key});
  if (fresh.affected() == 0) return;
  std::optional<Advance> found = ledger_.find(payload.value("item_id", ""), &txn);
  if (!found || found->status != "requested") {
    txn.commit();
    return;
  }
  Advance a = *found;
  json before = a.to_json();
  // A returned request is withdrawn: advances are not edited, a new one is requested instead.
  if (status == "approved") {
    a.status = "approved";
  } else {
    ledger_.release(txn, a.requester_id, a.open());
    a.status = "rejected";
  }
  a.updated_at = rest::utc_now();
  ledger_.update(txn, a);
  s_.audit.append(&txn, "", "expenses.advance." + a.status, kAdvance, a.id, before.dump(), a.to_json().dump());
  txn.commit();
}

void Advances::on_posted(const std::string& advance_id, const json& status) {
  annex::Transaction txn = s_.db.begin();
  std::optional<Advance> found = ledger_.find(advance_id, &txn);
  if (!found || found->posted_ref) return;
  Advance a = *found;
  if (status.value("state", "") == "delivered") {
    a.posted_ref = status.contains("remote_id") && status["remote_id"].is_string() ? status["remote_id"].get<std::string>() : advance_id;
    a.updated_at = rest::utc_now();
    ledger_.update(txn, a);
    s_.audit.append(&txn, "", "expenses.advance.posted", kAdvance, a.id, "", a.to_json().dump());
  } else {
    s_.audit.append(&txn, "", "expenses.advance.posting_refused", kAdvance, a.id, "", json{{"reason", status.value("reason", "")}}.dump());
  }
  txn.commit();
}

void Advances::paid_by_finance(const std::string& advance_id, const std::string& paid_on, const std::string& payment_id) {
  annex::Transaction txn = s_.db.begin();
  std::optional<Advance> found = ledger_.find(advance_id, &txn);
  if (!found) throw annex::Error(ANNEX_ERR_UNPROCESSABLE, "no advance " + advance_id + " for payment " + payment_id, "entry_key");
  if (found->status == "paid" || found->status == "return_due" || found->status == "settled") return;  // told before
  if (found->status != "approved") {
    throw annex::Error(ANNEX_ERR_UNPROCESSABLE, "payment " + payment_id + " is for advance " + advance_id + ", which is " + found->status,
                       "entry_key");
  }
  Advance a = *found;
  json before = a.to_json();
  a.status = "paid";
  a.paid_on = paid_on;
  a.posted_ref = "payment:" + payment_id;  // paid and booked in the finance system itself
  a.updated_at = rest::utc_now();
  if (!a.charges.empty()) settle_charged(txn, a, true);
  else ledger_.update(txn, a);
  s_.audit.append(&txn, "", "expenses.advance.paid", kAdvance, a.id, before.dump(), a.to_json().dump());
  txn.commit();
}

void Advances::settle_charged(annex::Transaction& txn, Advance& a, bool booked_by_finance) {
  a.settled = a.amount;
  a.status = "settled";
  ledger_.update(txn, a);
  ledger_.release(txn, a.requester_id, a.amount);
  s_.db.query(txn, "INSERT INTO expenses_settlements (claim_id, advance_id, amount, settled_at) VALUES (?, ?, ?, ?)",
              {a.reference.value_or(a.id), a.id, a.amount, a.updated_at});
  if (posting_ != nullptr) posting_->charged_advance_paid(txn, a, booked_by_finance);
}

json Advances::settle(const std::string& user_id, int64_t amount, const std::string& reference, const std::string& actor) {
  if (amount <= 0) rest::unprocessable("amount", "a settlement is more than zero");
  annex::Transaction txn = s_.db.begin();
  json advances = json::array();
  int64_t settled = 0;
  for (const Settlement& s : ledger_.settle(txn, user_id, reference, amount, rest::utc_now(), settings_.carry_forward)) {
    settled += s.amount;
    advances.push_back({{"advance_id", s.advance_id}, {"amount", s.amount}, {"left_open", s.left_open}});
  }
  json out = {{"user_id", user_id}, {"reference", reference}, {"currency", settings_.company_currency}, {"settled", settled},
              {"unsettled", amount - settled}, {"advances", advances}};
  s_.audit.append(&txn, actor, "expenses.advance.settle", kAdvance, reference, "", out.dump());
  txn.commit();
  return out;
}

}  // namespace expenses

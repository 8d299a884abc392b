#include "claims.h"

#include "../common/query.h"

#include <map>

namespace expenses {

using nlohmann::json;
namespace rest = annex::rest;

namespace {

const std::vector<std::string> kPurposes = {"travel", "customer", "training", "office", "other"};

}  // namespace

// A claim's lines mostly share their currency and cost centre: each is looked up in master data once per claim.
struct LineLookups {
  const annex::MasterData& md;
  std::map<std::string, std::optional<int>, std::less<>> currencies;
  std::map<std::string, bool, std::less<>> cost_centres;

  std::optional<int> currency(const std::string& code) {
    auto [it, fresh] = currencies.try_emplace(code);
    if (fresh) it->second = md.currency(code);
    return it->second;
  }
  bool cost_centre_exists(const std::string& code) {
    auto [it, fresh] = cost_centres.try_emplace(code, false);
    if (fresh) it->second = md.find("cost_centres", json{{"code", code}}.dump()).has_value();
    return it->second;
  }
};

namespace {

// {"amount": whole minor units, "currency": "USD"} at `field`, positive; the currency one master data holds.
std::pair<int64_t, annex::biz::Currency> line_money(LineLookups& md, const json& line, const std::string& field) {
  auto it = line.find("amount");
  const std::string shape = field + " is {\"amount\": whole minor units, \"currency\": \"CNY\"}";
  if (it == line.end() || !it->is_object() || !it->contains("amount") || !it->contains("currency")) rest::invalid(field, shape);
  const json& a = (*it)["amount"];
  if (!a.is_number_integer()) rest::invalid(field, shape + "; amounts are never fractions");
  if (a.is_number_unsigned() && a.get<uint64_t>() > static_cast<uint64_t>(rest::kMaxAmount)) {
    rest::unprocessable(field, field + " is beyond 10^15 minor units");
  }
  int64_t amount = a.get<int64_t>();
  if (amount <= 0) rest::unprocessable(field, field + " must be more than zero");
  if (amount > rest::kMaxAmount) rest::unprocessable(field, field + " is beyond 10^15 minor units");
  if (!(*it)["currency"].is_string()) rest::invalid(field + ".currency", field + ".currency must be an ISO 4217 code");
  std::string code = (*it)["currency"].get<std::string>();
  std::optional<int> units = annex::biz::is_currency_code(code) ? md.currency(code) : std::nullopt;
  if (!units) rest::unprocessable(field + ".currency", code + " is not a currency in master data; use an ISO 4217 code such as CNY");
  return {amount, annex::biz::Currency{code, *units < 0 ? 2 : *units}};
}

// The claims listed in a chain's basis besides the claim itself (the count and total cover them all).
constexpr size_t kBasisListed = 20;

std::string line_field(size_t index, const char* member) { return "lines[" + std::to_string(index) + "]." + member; }

}  // namespace

// ---- reading a claim from a request ------------------------------------------------------------------------

ClaimLine Claims::read_line(const json& in, size_t index, LineLookups& seen) const {
  if (!in.is_object()) rest::invalid("lines[" + std::to_string(index) + "]", "each line is an object");
  ClaimLine l;
  l.line_no = static_cast<int>(index) + 1;
  std::string date_key = line_field(index, "date");
  auto date = in.find("date");
  if (date == in.end() || !date->is_string()) rest::invalid(date_key, date_key + " is required (YYYY-MM-DD)");
  annex::biz::date_field(date->get<std::string>(), date_key);
  l.spent_on = date->get<std::string>();
  auto text = [&](const char* member, size_t max, bool required) -> std::optional<std::string> {
    auto it = in.find(member);
    std::string key = line_field(index, member);
    if (it == in.end() || it->is_null()) {
      if (required) rest::invalid(key, key + " is required");
      return std::nullopt;
    }
    if (!it->is_string()) rest::invalid(key, key + " must be a string");
    std::string v = it->get<std::string>();
    if (v.size() > max) rest::unprocessable(key, key + " must be at most " + std::to_string(max) + " bytes");
    return v;
  };
  l.category = *text("category", 64, true);
  const Category* category = settings_.category(l.category);
  if (category == nullptr) {
    std::string known;
    for (const auto& [code, unused] : settings_.categories) known += (known.empty() ? "" : ", ") + code;
    rest::unprocessable(line_field(index, "category"), "no expense category " + l.category + " (known: " + known + ")");
  }
  l.gl_account = category->gl_account;
  l.merchant = text("merchant", 200, false).value_or("");
  l.description = text("description", 1000, false).value_or("");
  l.justification = text("justification", 1000, false);
  l.cost_centre = text("cost_centre", 64, false);
  if (l.cost_centre && !seen.cost_centre_exists(*l.cost_centre)) {
    rest::unprocessable(line_field(index, "cost_centre"), "no cost centre " + *l.cost_centre + " in master data");
  }
  if (auto receipt = text("receipt_sha256", 64, false)) {
    bool hex = receipt->size() == 64 && std::all_of(receipt->begin(), receipt->end(), [](char c) {
                 return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
               });
    if (!hex) rest::invalid(line_field(index, "receipt_sha256"), "a receipt is named by its SHA-256, 64 lower-case hex digits");
    if (!s_.blobs.stat(*receipt)) {
      rest::unprocessable(line_field(index, "receipt_sha256"), "no receipt " + *receipt + " is stored; upload it to the line first");
    }
    l.receipt_sha256 = receipt;
  }
  auto [amount, currency] = line_money(seen, in, line_field(index, "amount"));
  l.amount = amount;
  l.currency = currency.code;
  if (currency.code == settings_.company_currency) {
    l.company_amount = amount;
  } else {
    // The rate of the line's own date, from master data; kept on the line, applied half-even.
    annex::biz::ExchangeRate exchange = rest::exchange_rate(s_.masterdata, currency.code, settings_.company_currency, l.spent_on, date_key);
    l.rate = exchange.text();
    l.company_amount = exchange
                           .convert(annex::biz::Money(amount, currency),
                                    {settings_.company_currency, settings_.company_minor_units}, line_field(index, "amount"))
                           .minor();
  }
  l.sanctioned = l.company_amount;
  if (auto it = in.find("attendees"); it != in.end() && !it->is_null()) {
    std::string key = line_field(index, "attendees");
    if (!it->is_array() || it->size() > 200) rest::invalid(key, key + " is a list of {\"kind\": \"contact\"|\"employee\", \"name\"}");
    for (const json& a : *it) {
      if (!a.is_object() || !a.contains("name") || !a["name"].is_string() || a["name"].get<std::string>().empty()) {
        rest::invalid(key, key + " is a list of {\"kind\": \"contact\"|\"employee\", \"name\"}");
      }
      std::string kind = a.value("kind", "contact");
      rest::one_of(kind, key.c_str(), {"contact", "employee"});
      l.attendees.push_back({kind, a["name"].get<std::string>()});
    }
  }
  if (auto count = rest::opt_integer(in, "attendee_count", 1, 10000)) l.attendee_count = count;
  if (l.attendee_count && !l.attendees.empty() && *l.attendee_count < static_cast<int64_t>(l.attendees.size())) {
    rest::unprocessable(line_field(index, "attendee_count"), "fewer attendees counted than named");
  }
  return l;
}

void Claims::read_body(const json& body, Claim& c, const std::string& caller) const {
  c.purpose = rest::one_of(rest::req_string(body, "purpose", 40), "purpose", kPurposes);
  c.period = rest::opt_string(body, "period", 7);
  if (c.period && !annex::biz::Period::parse(*c.period)) rest::invalid("period", "period is a month, YYYY-MM");
  c.party_id = rest::opt_string(body, "party_id", 64);
  if (c.party_id && !s_.masterdata.get("parties", *c.party_id, caller)) {
    rest::unprocessable("party_id", "no customer " + *c.party_id + " within your reach");
  }
  c.opportunity_id = rest::opt_string(body, "opportunity_id", 64);
  c.contract_id = rest::opt_string(body, "contract_id", 64);
  auto lines = body.find("lines");
  if (lines == body.end() || !lines->is_array()) rest::invalid("lines", "lines is a list of expense lines");
  if (lines->size() > 200) rest::unprocessable("lines", "a claim has at most 200 lines");
  c.lines.clear();
  c.total = c.sanctioned = 0;
  LineLookups seen{s_.masterdata, {}, {}};
  for (size_t i = 0; i < lines->size(); ++i) {
    c.lines.push_back(read_line((*lines)[i], i, seen));
    c.total = annex::biz::checked_add(c.total, c.lines.back().company_amount, "lines");
  }
  c.sanctioned = c.total;
}

Claim Claims::reachable(const annex::Request& req, std::string_view permission) const {
  std::optional<Claim> c = claims_.find(std::string(req.path_param("id")));
  if (!c || !s_.authz.may(req.principal_id(), permission, {kClaim, c->id, c->sector_id, c->claimant_id})) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such claim");
  }
  return *c;
}

// ---- handlers ----------------------------------------------------------------------------------------------

void Claims::create(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  std::string caller(req.principal_id());
  std::optional<std::string> sector = s_.authz.home_sector(caller);
  if (!sector) rest::unprocessable("claimant_id", "you belong to no sector, so a claim of yours has nowhere to live");
  if (!s_.authz.may(caller, "expenses.claim.write", {kClaim, "", *sector, caller})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "you may not file expense claims");
  }
  Claim c;
  c.id = rest::new_id("ec");
  c.claimant_id = caller;
  c.sector_id = *sector;
  c.currency = settings_.company_currency;
  read_body(body, c, caller);
  const bool submit_now = rest::opt_flag(body, "submit");
  const Claimant who = claimant(s_, caller);
  c.created_at = c.updated_at = rest::utc_now();
  if (submit_now) {
    // Drafted and submitted at once: refused whole (nothing stored) when a line cannot be submitted.
    if (!s_.authz.may(caller, "expenses.claim.submit", {kClaim, "", *sector, caller})) {
      throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "you may not submit expense claims");
    }
    annex::Transaction txn = s_.db.begin();
    claims_.lock_claimant(txn, caller);
    const std::string approval = submit_in(txn, c, caller, who);
    claims_.insert(txn, c);
    std::string out = c.to_text(approval);
    s_.audit.append(&txn, caller, "expenses.claim.submit", kClaim, c.id, "", out);
    txn.commit();
    resp.header("Location", "/api/v1/expenses/claims/" + c.id);
    rest::respond(resp, std::move(out), c.version, 201);
    return;
  }
  // A draft counts towards no limit, so its policy results are read before the write transaction (which holds
  // SQLite's one writer turn); submission evaluates again inside its own.
  policy_.evaluate(c, who, nullptr);
  annex::Transaction txn = s_.db.begin();
  claims_.insert(txn, c);
  std::string out = c.to_text();
  s_.audit.append(&txn, caller, "expenses.claim.create", kClaim, c.id, "", out);
  txn.commit();
  resp.header("Location", "/api/v1/expenses/claims/" + c.id);
  rest::respond(resp, std::move(out), c.version, 201);
}

void Claims::list(const annex::Request& req, annex::Response& resp) {
  rest::Where where;
  where.add(s_.authz.list_filter(req.principal_id(), "expenses.claim.read", kClaim, "sector_id", "claimant_id", "id"));
  where.equal_if(req, "status", "status").equal_if(req, "claimant_id", "claimant_id").equal_if(req, "sector_id", "sector_id");
  where.equal_if(req, "party_id", "party_id");
  resp.body(rest::page(s_.db, req,
                       "SELECT id, claimant_id, sector_id, purpose, status, currency, total, sanctioned, submitted_at, created_at,"
                       " updated_at, version FROM expenses_claims",
                       where, {{"id", 0, false}, {"created_at", 9, false}, {"submitted_at", 8, false}}, "-id",
                       [](const annex::Row& r, std::string& out) {
                         rest::ObjectWriter w(out);
                         w.column("id", r, 0).column("number", r, 0).column("claimant_id", r, 1).column("sector_id", r, 2)
                             .column("purpose", r, 3).column("status", r, 4).money("total", r.integer(6), r.text(5))
                             .money("sanctioned", r.integer(7), r.text(5)).text_or_null("submitted_at", r, 8)
                             .column("created_at", r, 9).column("updated_at", r, 10).integer("version", r.integer(11));
                       }));
}

void Claims::get(const annex::Request& req, annex::Response& resp) {
  const Claim c = reachable(req, "expenses.claim.read");
  rest::respond(resp, c.to_text(), c.version);
}

void Claims::review(const annex::Request& req, annex::Response& resp) {
  Claim c = reachable(req, "expenses.claim.read");
  json out = c.to_json();
  json duplicates = json::array(), reused = json::array();
  for (const ClaimLine& l : c.lines) {
    for (const RuleResult& r : l.policy.results) {
      if (r.rule == "duplicate") duplicates.push_back({{"line_no", l.line_no}, {"other", r.figures}});
      if (r.rule == "receipt.reused") reused.push_back({{"line_no", l.line_no}, {"uses", r.figures.value("uses", json::array())}});
    }
  }
  json open = json::array();
  for (const Advance& a : advances_.open_paid(c.claimant_id, nullptr, true)) open.push_back(a.to_json());
  out["review"] = {{"duplicates", duplicates},
                   {"reused_receipts", reused},
                   {"outstanding_advances", {{"balance", {{"amount", advances_.outstanding(c.claimant_id)}, {"currency", c.currency}}},
                                             {"paid_and_open", open}}},
                   {"chain", out["chain"]}};
  rest::respond(resp, out);
}

void Claims::replace(const annex::Request& req, annex::Response& resp) {
  Claim c = reachable(req, "expenses.claim.read");
  std::string caller(req.principal_id());
  if (!s_.authz.may(caller, "expenses.claim.write", {kClaim, c.id, c.sector_id, c.claimant_id}) || caller != c.claimant_id) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "only the claimant changes a claim");
  }
  if (!c.editable()) {
    throw annex::Error(ANNEX_ERR_CONFLICT, "the claim is " + c.status + "; only a draft or a returned claim can be changed", "status");
  }
  rest::check_if_match(req, c.version);
  const std::string before = c.to_text();
  read_body(rest::parse_body(req), c, caller);
  c.updated_at = rest::utc_now();
  policy_.evaluate(c, claimant(s_, caller), nullptr);  // a draft's results, as on creation
  annex::Transaction txn = s_.db.begin();
  claims_.update(txn, c, c.version);
  std::string after = c.to_text();
  s_.audit.append(&txn, caller, "expenses.claim.update", kClaim, c.id, before, after);
  txn.commit();
  rest::respond(resp, std::move(after), c.version);
}

void Claims::submit(const annex::Request& req, annex::Response& resp) {
  std::string caller(req.principal_id());
  Claim seen = reachable(req, "expenses.claim.read");
  if (caller != seen.claimant_id || !s_.authz.may(caller, "expenses.claim.submit", {kClaim, seen.id, seen.sector_id, seen.claimant_id})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "only the claimant submits a claim");
  }
  const Claimant who = claimant(s_, caller);  // read before the writer turn: the claimant lock does not cover it
  annex::Transaction txn = s_.db.begin();
  claims_.lock_claimant(txn, caller);
  Claim c = *claims_.find(seen.id, &txn);
  if (!c.editable()) throw annex::Error(ANNEX_ERR_CONFLICT, "the claim is " + c.status + " already", "status");
  rest::check_if_match(req, c.version);
  const std::string before = c.to_text();
  const std::string approval = submit_in(txn, c, caller, who);
  claims_.update(txn, c, c.version);
  std::string after = c.to_text(approval);
  s_.audit.append(&txn, caller, "expenses.claim.submit", kClaim, c.id, before, after);
  txn.commit();
  rest::respond(resp, std::move(after), c.version);
}

std::string Claims::submit_in(annex::Transaction& txn, Claim& c, const std::string& caller, const Claimant& who) {
  if (c.lines.empty()) rest::unprocessable("lines", "a claim needs at least one line");
  policy_.evaluate(c, who, &txn);
  for (size_t i = 0; i < c.lines.size(); ++i) {
    const ClaimLine& l = c.lines[i];
    if (l.policy.outcome == Outcome::kBlock) {
      std::string why;
      for (const RuleResult& r : l.policy.results) {
        if (r.outcome == Outcome::kBlock) why += (why.empty() ? "" : "; ") + r.message;
      }
      rest::unprocessable("lines[" + std::to_string(i) + "]", "line " + std::to_string(l.line_no) + " cannot be submitted: " + why);
    }
    if (l.policy.outcome == Outcome::kWarn && (!l.justification || l.justification->empty())) {
      rest::unprocessable(line_field(i, "justification"),
                          "line " + std::to_string(l.line_no) + " breaks a policy (" + l.policy.results.front().message +
                              "); give a justification to submit it");
    }
  }
  // The chain is chosen by what the claimant spent on the same customer or purpose within the window, so a split
  // into small claims meets the same approvers as the whole.
  std::string now = rest::utc_now();
  std::string since = annex::biz::format_date(annex::biz::today_utc() - std::chrono::days{settings_.split_window_days - 1});
  ClaimRepository::Related related = claims_.related(c.claimant_id, c.party_id, c.purpose, since, c.id, kBasisListed, &txn);
  int64_t cumulative = annex::biz::checked_add(c.sanctioned, related.total, "lines");
  json basis = json::array({{{"claim", c.id}, {"amount", c.sanctioned}}});
  for (const auto& [other, total] : related.latest) basis.push_back({{"claim", other}, {"amount", total}});
  c.chain_amount = cumulative;
  c.chain_basis = {{"window_days", settings_.split_window_days}, {"since", since}, {"claims", basis},
                   {"other_claims", related.count}, {"other_claims_total", related.total}};
  std::string previous_status = c.status;
  c.status = "submitted";
  c.submitted_at = now;
  c.updated_at = now;
  std::string approval = c.approval_id && previous_status == "returned"
                             ? s_.approvals.resubmit(*c.approval_id, caller, &txn)
                             : s_.approvals.submit({settings_.claim_chain, kClaim, c.id, c.sector_id, caller, cumulative,
                                                    settings_.company_currency},
                                                   &txn);
  if (!c.approval_id) c.approval_id = json::parse(approval)["id"].get<std::string>();
  return approval;
}

void Claims::sanction(const annex::Request& req, annex::Response& resp) {
  std::string caller(req.principal_id());
  Claim c = reachable(req, "expenses.claim.read");
  if (!s_.authz.may(caller, "expenses.claim.review", {kClaim, c.id, c.sector_id, c.claimant_id})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "reducing a line needs expenses.claim.review (finance)");
  }
  if (caller == c.claimant_id) throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "nobody reduces their own claim");
  if (c.status != "submitted") throw annex::Error(ANNEX_ERR_CONFLICT, "only a submitted claim's lines can be reduced", "status");
  rest::check_if_match(req, c.version);
  int64_t line_no = req.path_param_int("line");
  auto line = std::find_if(c.lines.begin(), c.lines.end(), [&](const ClaimLine& l) { return l.line_no == line_no; });
  if (line == c.lines.end()) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no line " + std::to_string(line_no) + " on this claim", "line");
  json body = rest::parse_body(req);
  std::optional<rest::Money> sanctioned = rest::opt_money(body, "sanctioned");
  if (!sanctioned) rest::invalid("sanctioned", "sanctioned is required: {\"amount\", \"currency\"}");
  if (sanctioned->currency != c.currency) rest::unprocessable("sanctioned", "the sanctioned amount is in the company currency, " + c.currency);
  if (sanctioned->amount > line->company_amount) {
    rest::unprocessable("sanctioned", "a line can be reduced, never raised: it claims " + shown(settings_, line->company_amount));
  }
  std::string reason = rest::req_string(body, "reason", 1000);
  const std::string before = c.to_text();
  line->sanctioned = sanctioned->amount;
  line->sanction_reason = reason;
  c.sanctioned = 0;
  for (const ClaimLine& l : c.lines) c.sanctioned = annex::biz::checked_add(c.sanctioned, l.sanctioned, "lines");
  c.updated_at = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  claims_.update(txn, c, c.version);
  std::string after = c.to_text();
  s_.audit.append(&txn, caller, "expenses.claim.sanction", kClaim, c.id, before, after);
  txn.commit();
  rest::respond(resp, std::move(after), c.version);
}

void Claims::mark_paid(const annex::Request& req, annex::Response& resp) {
  std::string caller(req.principal_id());
  Claim c = reachable(req, "expenses.claim.read");
  if (!s_.authz.may(caller, "finance.expenses.pay", {kClaim, c.id, c.sector_id, c.claimant_id})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "marking a claim paid needs finance.expenses.pay");
  }
  if (c.status != "approved" && c.status != "posted") {
    throw annex::Error(ANNEX_ERR_CONFLICT, "only an approved or posted claim is paid; this one is " + c.status, "status");
  }
  rest::check_if_match(req, c.version);
  json body = req.body().empty() ? json::object() : rest::parse_body(req);
  std::string paid_on = rest::date_field(body, "paid_on", false);
  json before = c.to_json();
  c.status = "paid";
  c.paid_on = paid_on.empty() ? annex::biz::format_date(annex::biz::today_utc()) : paid_on;
  c.updated_at = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  claims_.update_header(txn, c, c.version);
  json after = c.to_json();
  s_.audit.append(&txn, caller, "expenses.claim.paid", kClaim, c.id, before.dump(), after.dump());
  txn.commit();
  rest::respond(resp, after);
}

void Claims::on_posted(const std::string& claim_id, const json& status) {
  annex::Transaction txn = s_.db.begin();
  std::optional<Claim> found = claims_.find(claim_id, &txn);
  if (!found || found->status != "approved") return;  // posted (or paid) already, or unknown
  Claim c = *found;
  json before = c.to_json();
  if (status.value("state", "") == "delivered") {
    c.status = "posted";
    c.posted_ref = status.contains("remote_id") && status["remote_id"].is_string() ? status["remote_id"].get<std::string>() : claim_id;
    c.updated_at = rest::utc_now();
    claims_.update_header(txn, c, c.version);
    s_.audit.append(&txn, "", "expenses.claim.posted", kClaim, c.id, before.dump(), c.to_json().dump());
  } else {
    // Stays approved (awaiting posting); the refusal is on record, and the sync engine's dead letter can be replayed.
    s_.audit.append(&txn, "", "expenses.claim.posting_refused", kClaim, c.id, "", json{{"reason", status.value("reason", "")}}.dump());
  }
  txn.commit();
}

void Claims::paid_by_finance(const std::string& claim_id, const std::string& paid_on, const std::string& payment_id) {
  annex::Transaction txn = s_.db.begin();
  std::optional<Claim> found = claims_.find(claim_id, &txn);
  if (!found) throw annex::Error(ANNEX_ERR_UNPROCESSABLE, "no claim " + claim_id + " for payment " + payment_id, "entry_key");
  if (found->status == "paid") return;  // told before
  if (found->status != "approved" && found->status != "posted") {
    throw annex::Error(ANNEX_ERR_UNPROCESSABLE, "payment " + payment_id + " is for claim " + claim_id + ", which is " + found->status,
                       "entry_key");
  }
  Claim c = *found;
  json before = c.to_json();
  c.status = "paid";
  c.paid_on = paid_on;
  c.updated_at = rest::utc_now();
  claims_.update_header(txn, c, c.version);
  json after = c.to_json();
  after["payment_id"] = payment_id;
  s_.audit.append(&txn, "", "expenses.claim.paid", kClaim, c.id, before.dump(), after.dump());
  txn.commit();
}

void Claims::attach_receipt(const annex::Request& req, annex::Response& resp) {
  std::string caller(req.principal_id());
  Claim c = reachable(req, "expenses.claim.read");
  if (caller != c.claimant_id) throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "only the claimant attaches receipts");
  if (!c.editable()) {
    throw annex::Error(ANNEX_ERR_CONFLICT, "the claim is " + c.status + "; receipts are attached before submission", "status");
  }
  int64_t line_no = req.path_param_int("line");
  auto line = std::find_if(c.lines.begin(), c.lines.end(), [&](const ClaimLine& l) { return l.line_no == line_no; });
  if (line == c.lines.end()) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no line " + std::to_string(line_no) + " on this claim", "line");
  json upload = json::parse(req.upload().value_or("null"), nullptr, false);
  if (!upload.is_object() || !upload.contains("sha256")) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "no receipt was uploaded", "receipt");
  json before = c.to_json();
  line->receipt_sha256 = upload["sha256"].get<std::string>();
  c.updated_at = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  policy_.evaluate(c, claimant(s_, caller), &txn);
  claims_.update(txn, c, c.version);
  json after = c.to_json();
  after["receipt"] = {{"line_no", line_no}, {"sha256", upload["sha256"]}, {"media_type", upload.value("media_type", "")},
                      {"size", upload.value("size", 0)}};
  s_.audit.append(&txn, caller, "expenses.claim.receipt", kClaim, c.id, before.dump(), after.dump());
  txn.commit();
  rest::respond(resp, after);
}

void Claims::receipt(const annex::Request& req, annex::Response& resp) {
  Claim c = reachable(req, "expenses.claim.read");
  int64_t line_no = req.path_param_int("line");
  auto line = std::find_if(c.lines.begin(), c.lines.end(), [&](const ClaimLine& l) { return l.line_no == line_no; });
  if (line == c.lines.end() || !line->receipt_sha256) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no receipt on that line");
  resp.send_blob(*line->receipt_sha256, c.id + "-" + std::to_string(line_no));
}

void Claims::on_approval(const json& payload, const std::string& key) {
  std::string status = payload.value("status", "");
  if (status != "approved" && status != "rejected" && status != "returned") return;
  annex::Transaction txn = s_.db.begin();
  annex::Rows fresh = s_.db.query(txn, "INSERT INTO expenses_applied_events (idempotency_key) VALUES (?) ON CONFLICT (idempotency_key) DO NOTHING", {key});
  if (fresh.affected() == 0) return;  // applied before
  std::optional<Claim> found = claims_.find(payload.value("item_id", ""), &txn);
  if (!found || found->status != "submitted") {
    txn.commit();
    return;
  }
  Claim c = *found;
  json before = c.to_json();
  std::string now = rest::utc_now();
  c.status = status;
  c.decided_at = now;
  c.updated_at = now;
  json settlements = json::array();
  if (status == "approved") {
    // Settled against the claimant's paid advances, oldest first; the rest is reimbursed.
    int64_t settled = 0;
    for (const Settlement& s : advances_.settle(txn, c.claimant_id, c.id, c.sanctioned, now, settings_.carry_forward)) {
      settled += s.amount;
      settlements.push_back({{"advance_id", s.advance_id}, {"amount", s.amount}, {"left_open", s.left_open}});
    }
    c.settled_advances = settled;
    c.reimbursable = c.sanctioned - settled;
    // The journal entry leaves with this transaction or not at all.
    if (posting_ != nullptr) posting_->claim_approved(txn, c);
  }
  claims_.update_header(txn, c, c.version);
  json after = c.to_json();
  if (!settlements.empty()) after["settlements"] = settlements;
  s_.audit.append(&txn, "", "expenses.claim." + status, kClaim, c.id, before.dump(), after.dump());
  txn.commit();
}

}  // namespace expenses

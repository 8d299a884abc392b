#include "contracts.h"

#include "../common/query.h"

#include <map>
#include <set>

namespace contracts {
namespace {

namespace rest = annex::rest;
using rest::invalid;
using rest::unprocessable;



json rate(int64_t part, int64_t whole) { return annex::rest::percent_text(part, whole, 2); }

constexpr const char* kColumns =
    "id, number, party_id, opportunity_id, sector_id, owner_id, currency, total, collected, status, signed_on, start_on,"
    " end_on, created_at, updated_at, version";

void write_contract(const annex::Row& r, std::string& out) {
  std::string currency = r.text(6);
  int64_t total = r.integer(7), collected = r.integer(8);
  json rate_text = rate(collected, total);
  rest::ObjectWriter w(out);
  w.column("id", r, 0).column("number", r, 1).column("party_id", r, 2).text_or_null("opportunity_id", r, 3)
      .column("sector_id", r, 4).column("owner_id", r, 5).text("currency", currency).money("total", total, currency)
      .money("collected", collected, currency).raw("collection_rate", rate_text.dump()).column("status", r, 9)
      .text_or_null("signed_on", r, 10).text_or_null("start_on", r, 11).text_or_null("end_on", r, 12)
      .column("created_at", r, 13).column("updated_at", r, 14).integer("version", r.integer(15));
}

json read_contract(const annex::Row& r) {
  std::string text;
  write_contract(r, text);
  return json::parse(text);
}

std::optional<json> load(const annex::Db& db, const std::string& id, annex::Transaction* txn = nullptr) {
  annex::Value params[] = {std::string_view(id)};
  annex::Rows rows = db.query(txn, std::string("SELECT ") + kColumns + " FROM contracts_contracts WHERE id = ?", params);
  if (!rows.next()) return std::nullopt;
  return read_contract(rows.row());
}

// Contract status: draft → awaiting_signature → signed → completed | expired; terminated from any open status.
const std::map<std::string, std::set<std::string>> kTransitions = {
    {"draft", {"awaiting_signature", "terminated"}},
    {"awaiting_signature", {"draft", "signed", "terminated"}},
    {"signed", {"completed", "expired", "terminated"}},
    {"completed", {}},
    {"expired", {}},
    {"terminated", {}}};

bool editable(const std::string& status) { return status == "draft" || status == "awaiting_signature"; }

}  // namespace

// ---- contracts -------------------------------------------------------------------------------------------

json Contracts::contract_or_404(const annex::Request& req, std::string_view permission, const std::string& id, annex::Transaction* txn) const {
  std::optional<json> c = load(s_.db, id, txn);
  if (!c || !s_.authz.may(req.principal_id(), permission, rest::object_ref(kContract, *c))) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such contract");
  return *c;
}

std::optional<json> Contracts::find(const std::string& id, annex::Transaction* txn) const { return load(s_.db, id, txn); }

std::optional<json> Contracts::find_by_number(const std::string& number) const {
  annex::Value params[] = {std::string_view(number)};
  annex::Rows rows = s_.db.query(nullptr, std::string("SELECT ") + kColumns + " FROM contracts_contracts WHERE number = ?", params);
  if (!rows.next()) return std::nullopt;
  return read_contract(rows.row());
}

json Contracts::with_details(json c, annex::Transaction* txn) const {
  std::string id = c["id"];
  annex::Value params[] = {std::string_view(id)};
  json lines = json::array();
  annex::Rows rows = s_.db.query(txn, "SELECT line_no, product_id, quantity, unit_price, amount FROM contracts_lines WHERE contract_id = ? ORDER BY line_no", params);
  std::string currency = c["currency"];
  while (rows.next()) {
    const annex::Row r = rows.row();
    lines.push_back({{"line_no", r.integer(0)}, {"product_id", r.text(1)}, {"quantity", r.integer(2)},
                     {"unit_price", rest::money_json(r.integer(3), currency)}, {"amount", rest::money_json(r.integer(4), currency)}});
  }
  json splits = json::array();
  annex::Rows sp = s_.db.query(txn, "SELECT user_id, percent FROM contracts_splits WHERE contract_id = ? ORDER BY user_id", params);
  while (sp.next()) splits.push_back({{"user_id", sp.row().text(0)}, {"percent", sp.row().integer(1)}});
  if (splits.empty()) splits.push_back({{"user_id", c["owner_id"]}, {"percent", 100}});
  c["lines"] = lines;
  c["splits"] = splits;
  return c;
}

// Lines: [{product_id, quantity, unit_price: {amount, currency}}], in the contract's currency; sets *total.
json Contracts::read_lines(const json& body, const std::string& currency, int64_t* total) const {
  if (!body.contains("lines") || !body["lines"].is_array() || body["lines"].empty()) invalid("lines", "lines is a non-empty list of {product_id, quantity, unit_price}");
  json out = json::array();
  *total = 0;
  for (size_t i = 0; i < body["lines"].size(); ++i) {
    const json& line = body["lines"][i];
    std::string at = "lines[" + std::to_string(i) + "]";
    if (!line.is_object()) invalid(at, at + " must be an object");
    std::string product = rest::req_string(line, "product_id", 64);
    if (!s_.masterdata.get("products", product)) unprocessable(at + ".product_id", "no product " + product);
    std::optional<int64_t> quantity = rest::opt_integer(line, "quantity", 1, 1000000000);
    if (!quantity) invalid(at + ".quantity", "quantity is required, a whole number of at least 1");
    std::optional<rest::Money> price = rest::opt_money(line, "unit_price");
    if (!price) invalid(at + ".unit_price", "unit_price is required");
    if (price->currency != currency) unprocessable(at + ".unit_price", "the line is in " + price->currency + ", the contract in " + currency);
    int64_t amount = 0;
    if (__builtin_mul_overflow(*quantity, price->amount, &amount) || __builtin_add_overflow(*total, amount, total)) {
      unprocessable(at, "the amount is too large");
    }
    out.push_back({{"line_no", static_cast<int64_t>(i) + 1}, {"product_id", product}, {"quantity", *quantity},
                   {"unit_price", price->amount}, {"amount", amount}});
  }
  return out;
}

void Contracts::write_lines(annex::Transaction& txn, const std::string& id, const json& lines) const {
  s_.db.query(txn, "DELETE FROM contracts_lines WHERE contract_id = ?", {id});
  for (const auto& l : lines) {
    s_.db.query(txn, "INSERT INTO contracts_lines (contract_id, line_no, product_id, quantity, unit_price, amount) VALUES (?, ?, ?, ?, ?, ?)",
                {id, l["line_no"].get<int64_t>(), l["product_id"].get<std::string>(), l["quantity"].get<int64_t>(),
                 l["unit_price"].get<int64_t>(), l["amount"].get<int64_t>()});
  }
}

void Contracts::create(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  std::string caller(req.principal_id());
  std::string number = rest::req_string(body, "number", 64);
  std::string party_id = rest::req_string(body, "party_id", 64);
  std::optional<std::string> party = s_.masterdata.get("parties", party_id, caller);
  if (!party) unprocessable("party_id", "no customer " + party_id + " within your reach");
  std::string currency = rest::req_string(body, "currency", 3);
  if (!rest::currency_code(currency)) invalid("currency", "currency must be an ISO 4217 code such as CNY");
  rest::known_currency(s_.masterdata, currency, "currency");
  int64_t total = 0;
  json lines = read_lines(body, currency, &total);
  std::string start = rest::date_field(body, "start_on", false), end = rest::date_field(body, "end_on", false);
  if (!start.empty() && !end.empty() && end < start) unprocessable("end_on", "end_on is before start_on");
  std::string sector = rest::opt_string(body, "sector_id", 64).value_or(json::parse(*party).value("sector_id", std::string{}));
  std::string owner = rest::opt_string(body, "owner_id", 64).value_or(caller);
  // Reach over the sector, or — for those who reach only their own records — their own, in a sector they belong to.
  bool own = owner == caller && s_.authz.may(caller, "contracts.contract.write", {kContract, "", sector, owner}) &&
             rest::member_of(s_.directory, caller, sector);
  if (!own && !s_.authz.may(caller, "contracts.contract.write", {kContract, "", sector, owner == caller ? "" : owner})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "you may not write contracts for " + owner + " in sector " + sector,
                       owner == caller ? "sector_id" : "owner_id");
  }
  if (owner != caller) {
    std::optional<std::string> u = s_.directory.user(owner);
    if (!u || json::parse(*u).value("status", "") != "active") unprocessable("owner_id", "no active user " + owner);
  }
  std::optional<std::string> opportunity = rest::opt_string(body, "opportunity_id", 64);
  if (opportunity) {
    // The pipeline plugin keeps opportunities (its service answers); the link must be to one the caller reaches.
    std::optional<json> opp = opportunities_.get(*opportunity, caller);
    if (!opp) unprocessable("opportunity_id", "no opportunity " + *opportunity + " within your reach");
    if ((*opp)["party_id"] != party_id) unprocessable("opportunity_id", "the opportunity is for another customer");
  }
  // A split given at creation is checked as PUT …/splits checks it, and written with the contract.
  std::optional<std::map<std::string, int64_t>> shares;
  if (body.contains("splits")) shares = read_splits(body);
  if (s_.db.query("SELECT 1 FROM contracts_contracts WHERE number = ?", {number}).next()) {
    throw annex::Error(ANNEX_ERR_CONFLICT, "contract number " + number + " is taken", "number");
  }
  std::string id = rest::new_id("ct"), now = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  s_.db.query(txn,
              "INSERT INTO contracts_contracts (id, number, party_id, opportunity_id, sector_id, owner_id, currency, total, collected, status,"
              " start_on, end_on, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 'draft', ?, ?, ?, ?, 1)",
              {id, number, party_id, opportunity, sector, owner, currency, total, start.empty() ? std::optional<std::string>() : start,
               end.empty() ? std::optional<std::string>() : end, now, now});
  write_lines(txn, id, lines);
  if (shares) write_splits(txn, id, *shares);
  json c = with_details(*load(s_.db, id, &txn), &txn);
  s_.audit.append(&txn, caller, "contracts.contract.create", kContract, id, "", c.dump());
  txn.commit();
  resp.header("Location", "/api/v1/contracts/" + id);
  rest::respond(resp, c, 201);
}

void Contracts::get(const annex::Request& req, annex::Response& resp) {
  rest::respond(resp, with_details(contract_or_404(req, "contracts.contract.read", std::string(req.path_param("id")))));
}

void Contracts::list(const annex::Request& req, annex::Response& resp) {
  rest::Where where;
  where.add(s_.authz.list_filter(req.principal_id(), "contracts.contract.read", kContract));
  where.equal_if(req, "status", "status").equal_if(req, "owner_id", "owner_id").equal_if(req, "sector_id", "sector_id")
      .equal_if(req, "party_id", "party_id").equal_if(req, "opportunity_id", "opportunity_id").equal_if(req, "currency", "currency");
  resp.body(rest::page(s_.db, req, std::string("SELECT ") + kColumns + " FROM contracts_contracts", std::move(where),
                       {{"id", 0}, {"number", 1}, {"created_at", 13}, {"total", 7, true}}, "-id", &write_contract));
}

// Status changes, and — before signature — lines and dates. A signed contract's lines change only by amendment.
void Contracts::update(const annex::Request& req, annex::Response& resp) {
  json c = contract_or_404(req, "contracts.contract.read", std::string(req.path_param("id")));
  std::string caller(req.principal_id()), id = c["id"];
  if (!s_.authz.may(caller, "contracts.contract.write", rest::object_ref(kContract, c))) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "you may read this contract but not change it");
  }
  rest::check_if_match(req, c["version"].get<int64_t>());
  json body = rest::parse_body(req);
  json before = with_details(c);
  std::string status = c["status"];
  bool lines_given = body.contains("lines");
  if ((lines_given || body.contains("start_on") || body.contains("end_on")) && !editable(status)) {
    unprocessable(lines_given ? "lines" : "end_on", "the contract is " + status + ": its terms change only through an amendment");
  }
  int64_t total = c["total"]["amount"];
  json lines;
  if (lines_given) lines = read_lines(body, c["currency"], &total);
  std::string start = body.contains("start_on") ? rest::date_field(body, "start_on", false) : c["start_on"].is_null() ? "" : c["start_on"].get<std::string>();
  std::string end = body.contains("end_on") ? rest::date_field(body, "end_on", false) : c["end_on"].is_null() ? "" : c["end_on"].get<std::string>();
  if (!start.empty() && !end.empty() && end < start) unprocessable("end_on", "end_on is before start_on");
  std::string signed_on = c["signed_on"].is_null() ? "" : c["signed_on"].get<std::string>();
  std::string to = status;
  if (auto given = rest::opt_string(body, "status", 32); given && *given != status) {
    to = *given;
    auto allowed = kTransitions.find(status);
    if (!kTransitions.count(to)) unprocessable("status", "no contract status " + to);
    if (allowed == kTransitions.end() || !allowed->second.count(to)) unprocessable("status", "a contract cannot go from " + status + " to " + to);
    if (to == "signed") {
      signed_on = rest::date_field(body, "signed_on", false);
      if (signed_on.empty()) signed_on = today();
    }
  }
  std::string now = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  annex::Rows done = s_.db.query(txn,
                                 "UPDATE contracts_contracts SET status = ?, total = ?, signed_on = ?, start_on = ?, end_on = ?, updated_at = ?,"
                                 " version = version + 1 WHERE id = ? AND version = ?",
                                 {to, total, signed_on.empty() ? std::optional<std::string>() : signed_on,
                                  start.empty() ? std::optional<std::string>() : start, end.empty() ? std::optional<std::string>() : end, now, id,
                                  c["version"].get<int64_t>()});
  if (done.affected() == 0) throw annex::Error(ANNEX_ERR_PRECONDITION_FAILED, "the contract changed meanwhile; read it again", "If-Match");
  if (lines_given) write_lines(txn, id, lines);
  json after = with_details(*load(s_.db, id, &txn), &txn);
  s_.audit.append(&txn, caller, to != status ? "contracts.contract." + to : std::string("contracts.contract.update"), kContract, id, before.dump(), after.dump());
  if (to == "signed") s_.events.publish("contracts.contract.signed", after.dump(), "contract-signed-" + id, &txn);
  txn.commit();
  rest::respond(resp, after);
}

// An amendment to a signed contract: new lines and/or end date, with the reason; the before and after are kept.
void Contracts::amend(const annex::Request& req, annex::Response& resp) {
  json c = contract_or_404(req, "contracts.contract.read", std::string(req.path_param("id")));
  std::string caller(req.principal_id()), id = c["id"];
  if (!s_.authz.may(caller, "contracts.contract.write", rest::object_ref(kContract, c))) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "you may read this contract but not amend it");
  }
  rest::check_if_match(req, c["version"].get<int64_t>());
  if (c["status"] != "signed") unprocessable("status", "only a signed contract is amended; this one is " + c["status"].get<std::string>());
  json body = rest::parse_body(req);
  std::string reason = rest::req_string(body, "reason", 1000);
  if (!body.contains("lines") && !body.contains("end_on")) invalid("lines", "an amendment changes the lines, the end date or both");
  int64_t total = c["total"]["amount"];
  json lines;
  if (body.contains("lines")) lines = read_lines(body, c["currency"], &total);
  if (total < c["collected"]["amount"].get<int64_t>()) unprocessable("lines", "the new total is less than what was already collected");
  std::string end = body.contains("end_on") ? rest::date_field(body, "end_on", true) : c["end_on"].is_null() ? "" : c["end_on"].get<std::string>();
  if (!c["start_on"].is_null() && !end.empty() && end < c["start_on"].get<std::string>()) unprocessable("end_on", "end_on is before start_on");
  json before = with_details(c);
  std::string now = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  annex::Rows done = s_.db.query(txn, "UPDATE contracts_contracts SET total = ?, end_on = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
                                 {total, end.empty() ? std::optional<std::string>() : end, now, id, c["version"].get<int64_t>()});
  if (done.affected() == 0) throw annex::Error(ANNEX_ERR_PRECONDITION_FAILED, "the contract changed meanwhile; read it again", "If-Match");
  if (body.contains("lines")) write_lines(txn, id, lines);
  json after = with_details(*load(s_.db, id, &txn), &txn);
  annex::Rows n = s_.db.query(txn, "SELECT COUNT(*) FROM contracts_amendments WHERE contract_id = ?", {id});
  int64_t number = (n.next() ? n.row().integer(0) : 0) + 1;
  s_.db.query(txn, "INSERT INTO contracts_amendments (id, contract_id, number, reason, before_json, after_json, amended_at, amended_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              {rest::new_id("am"), id, number, reason, before.dump(), after.dump(), now, caller});
  s_.audit.append(&txn, caller, "contracts.contract.amend", kContract, id, before.dump(), after.dump());
  txn.commit();
  after["amendment"] = number;
  rest::respond(resp, after, 201);
}

void Contracts::amendments(const annex::Request& req, annex::Response& resp) {
  json c = contract_or_404(req, "contracts.contract.read", std::string(req.path_param("id")));
  annex::Rows rows = s_.db.query("SELECT number, reason, before_json, after_json, amended_at, amended_by FROM contracts_amendments WHERE contract_id = ? ORDER BY number",
                                 {c["id"].get<std::string>()});
  json items = json::array();
  while (rows.next()) {
    const annex::Row r = rows.row();
    items.push_back({{"number", r.integer(0)}, {"reason", r.text(1)}, {"before", json::parse(r.text(2))}, {"after", json::parse(r.text(3))},
                     {"at", r.text(4)}, {"by", r.text(5)}});
  }
  resp.body(json({{"items", items}}).dump());
}

std::map<std::string, int64_t> Contracts::read_splits(const json& body) const {
  if (!body.contains("splits") || !body["splits"].is_array() || body["splits"].empty()) invalid("splits", "splits is a list of {user_id, percent}");
  int64_t sum = 0;
  std::map<std::string, int64_t> shares;
  for (size_t i = 0; i < body["splits"].size(); ++i) {
    const json& s = body["splits"][i];
    std::string at = "splits[" + std::to_string(i) + "]";
    if (!s.is_object()) invalid(at, at + " must be an object");
    std::string user = rest::req_string(s, "user_id", 64);
    std::optional<int64_t> percent = rest::opt_integer(s, "percent", 1, 100);
    if (!percent) invalid(at + ".percent", "percent is required, a whole number from 1 to 100");
    if (!s_.directory.user(user)) unprocessable(at + ".user_id", "no user " + user);
    if (shares.count(user)) unprocessable(at + ".user_id", user + " appears twice");
    shares[user] = *percent;
    sum += *percent;
  }
  if (sum != 100) unprocessable("splits", "the percentages sum to " + std::to_string(sum) + ", not 100");
  return shares;
}

void Contracts::write_splits(annex::Transaction& txn, const std::string& id, const std::map<std::string, int64_t>& shares) const {
  s_.db.query(txn, "DELETE FROM contracts_splits WHERE contract_id = ?", {id});
  for (const auto& [user, percent] : shares) {
    s_.db.query(txn, "INSERT INTO contracts_splits (contract_id, user_id, percent) VALUES (?, ?, ?)", {id, user, percent});
  }
}

// Split credit: {"splits": [{user_id, percent}]}, whole percentages summing to exactly 100.
void Contracts::set_splits(const annex::Request& req, annex::Response& resp) {
  json c = contract_or_404(req, "contracts.contract.read", std::string(req.path_param("id")));
  std::string caller(req.principal_id()), id = c["id"];
  if (!s_.authz.may(caller, "contracts.contract.write", rest::object_ref(kContract, c))) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "you may read this contract but not change its split");
  }
  std::map<std::string, int64_t> shares = read_splits(rest::parse_body(req));
  json before = with_details(c);
  annex::Transaction txn = s_.db.begin();
  write_splits(txn, id, shares);
  s_.db.query(txn, "UPDATE contracts_contracts SET updated_at = ?, version = version + 1 WHERE id = ?", {rest::utc_now(), id});
  json after = with_details(*load(s_.db, id, &txn), &txn);
  s_.audit.append(&txn, caller, "contracts.contract.split", kContract, id, before.dump(), after.dump());
  txn.commit();
  rest::respond(resp, after);
}

}  // namespace contracts

#include "standards.h"

#include "../common/query.h"

namespace relationship_spending {

using nlohmann::json;
namespace rest = annex::rest;

namespace {

bool present(const json& body, const char* field) { return body.contains(field) && !body[field].is_null(); }

std::string period_text(const Standard& s) { return s.effective_from + " to " + s.effective_to.value_or("open end"); }

}  // namespace

// ---- the lookup ---------------------------------------------------------------------------------------------

std::optional<InForce> Standards::in_force(const std::string& product_id, const std::string& date, const std::string& field,
                                           annex::Transaction* txn) const {
  std::optional<std::string> found = s_.masterdata.get("products", product_id);
  if (!found) rest::unprocessable(field, "no product " + product_id + " in master data");
  json p = json::parse(*found, nullptr, false);
  std::optional<std::string> group;
  if (p.is_object() && p.contains("product_group") && p["product_group"].is_string() && !p["product_group"].get<std::string>().empty()) {
    group = p["product_group"].get<std::string>();
  }
  std::optional<Standard> standard = standards_.in_force(product_id, group, date, txn);
  if (!standard) return std::nullopt;
  bool own = standard->product_id.has_value();
  return InForce{std::move(*standard), own};
}

// ---- reading a standard from a request -----------------------------------------------------------------------

json Standards::product(const json& body) const {
  std::optional<std::string> found;
  if (std::optional<std::string> id = rest::opt_string(body, "product_id", 64)) {
    found = s_.masterdata.get("products", *id);
    if (!found) rest::unprocessable("product_id", "no product " + *id + " in master data");
  } else {
    std::string code = rest::req_string(body, "product_code", 64);
    found = s_.masterdata.find("products", json{{"code", code}}.dump());
    if (!found) rest::unprocessable("product_code", "no product with code " + code + " in master data");
  }
  return json::parse(*found);
}

void Standards::read_basis(const json& body, Standard& st) const {
  bool amount = present(body, "amount_per_unit"), rate = present(body, "rate_bp");
  if (amount && rate) rest::unprocessable("rate_bp", "a standard is an amount per unit or a rate on the sales amount, not both");
  if (!amount && !rate) {
    rest::invalid("amount_per_unit", "amount_per_unit ({\"amount\": minor units, \"currency\"}) or rate_bp (basis points) is required");
  }
  if (amount) {
    rest::Money m = *rest::opt_money(body, "amount_per_unit");
    rest::known_currency(s_.masterdata, m.currency, "amount_per_unit.currency");
    st.basis = "per_unit";
    st.amount = m.amount;
    st.currency = m.currency;
    st.rate_bp.reset();
  } else {
    st.basis = "rate";
    st.rate_bp = rest::opt_integer(body, "rate_bp", 0, 10000);
    st.amount.reset();
    st.currency.reset();
  }
}

void Standards::check_period(annex::Transaction& txn, const Standard& st) const {
  if (st.effective_to && *st.effective_to < st.effective_from) {
    rest::unprocessable("effective_to", "effective_to " + *st.effective_to + " is before effective_from " + st.effective_from);
  }
  if (std::optional<Standard> other = standards_.overlapping(txn, st.subject(), st.effective_from, st.effective_to, st.id)) {
    std::string whose = st.product_id ? "product " + st.product_code.value_or(*st.product_id) : "product group " + *st.product_group;
    rest::unprocessable("effective_from", "the period " + period_text(st) + " meets standard " + other->id + " of " + whose + " (" +
                                              period_text(*other) + "); end that one first");
  }
}

json Standards::save(const annex::Request& req, Standard& st, const Standard& before, const char* action) {
  const bool fresh = before.id.empty();
  annex::Transaction txn = s_.db.begin();
  standards_.lock_subject(txn, st.subject());
  check_period(txn, st);
  if (fresh) standards_.insert(txn, st);
  else standards_.update(txn, st, before.version);
  json after = st.to_json();
  s_.audit.append(&txn, req.principal_id(), action, kStandard, st.id, fresh ? "" : before.to_json().dump(), after.dump());
  txn.commit();
  return after;
}

Standard Standards::found(const annex::Request& req) const {
  std::optional<Standard> st = standards_.find(std::string(req.path_param("id")));
  if (!st) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such standard");
  return *st;
}

// ---- handlers ----------------------------------------------------------------------------------------------

void Standards::create(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  Standard st;
  bool by_product = present(body, "product_id") || present(body, "product_code");
  st.product_group = rest::opt_string(body, "product_group", 100);
  if (by_product && st.product_group) rest::unprocessable("product_group", "a standard is for a product or for a product group, not both");
  if (by_product) {
    json p = product(body);
    st.product_id = p["id"].get<std::string>();
    st.product_code = p.value("code", "");
  } else if (!st.product_group || st.product_group->empty()) {
    rest::invalid("product_id", "product_id (or product_code) or product_group is required");
  }
  read_basis(body, st);
  st.gl_account = rest::req_string(body, "gl_account", 64);
  st.effective_from = rest::date_field(body, "effective_from", true);
  std::string to = rest::date_field(body, "effective_to", false);
  if (!to.empty()) st.effective_to = to;
  st.note = rest::opt_string(body, "note", 1000);
  st.id = rest::new_id("rs");
  st.created_by = std::string(req.principal_id());
  st.created_at = st.updated_at = rest::utc_now();
  json out = save(req, st, Standard{}, "relationship.standard.create");
  resp.header("Location", "/api/v1/relationship-spending/standards/" + st.id);
  rest::respond(resp, out, 201);
}

void Standards::list(const annex::Request& req, annex::Response& resp) {
  rest::Where where;
  where.equal_if(req, "product_id", "product_id").equal_if(req, "product_group", "product_group").equal_if(req, "basis", "basis");
  if (std::optional<std::string> on = req.query_param("on")) {
    if (!rest::parse_date(*on)) rest::invalid("on", "on must be a date, YYYY-MM-DD");
    where.add("effective_from <= ? AND (effective_to IS NULL OR effective_to >= ?)", {*on, *on});
  }
  resp.body(rest::page(s_.db, req, std::string("SELECT ") + StandardRepository::columns() + " FROM relationship_standards", where,
                       {{"id", 0, false}, {"effective_from", 9, false}}, "id",
                       [](const annex::Row& r, std::string& out) { out += StandardRepository::read(r).to_json().dump(); }));
}

void Standards::get(const annex::Request& req, annex::Response& resp) { rest::respond(resp, found(req).to_json()); }

void Standards::lookup(const annex::Request& req, annex::Response& resp) {
  std::optional<std::string> product_id = req.query_param("product_id");
  if (!product_id || product_id->empty()) rest::invalid("product_id", "product_id is required");
  std::string date;
  if (std::optional<std::string> d = req.query_param("date")) {
    if (!rest::parse_date(*d)) rest::invalid("date", "date must be a date, YYYY-MM-DD");
    date = *d;
  } else {
    date = annex::biz::format_date(s_.calendar.today());
  }
  std::optional<InForce> found = in_force(*product_id, date);
  if (!found) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no relationship-fee standard is in force for product " + *product_id + " on " + date,
                       "product_id");
  }
  resp.body(json{{"product_id", *product_id},
                 {"date", date},
                 {"source", found->own ? "product" : "product_group"},
                 {"standard", found->standard.to_json()}}
                .dump());
}

void Standards::change(const annex::Request& req, annex::Response& resp) {
  Standard before = found(req);
  rest::check_if_match(req, before.version);
  json body = rest::parse_body(req);
  for (const char* subject : {"product_id", "product_code", "product_group"}) {
    if (body.contains(subject)) {
      rest::unprocessable(subject, "a standard's product or group never changes; end it and create one for the other");
    }
  }
  Standard st = before;
  if (present(body, "amount_per_unit") || present(body, "rate_bp")) read_basis(body, st);
  if (body.contains("gl_account")) st.gl_account = rest::req_string(body, "gl_account", 64);
  if (body.contains("effective_from")) st.effective_from = rest::date_field(body, "effective_from", true);
  if (body.contains("effective_to")) {
    std::string to = rest::date_field(body, "effective_to", false);
    st.effective_to = to.empty() ? std::nullopt : std::optional<std::string>(to);
  }
  if (body.contains("note")) st.note = rest::opt_string(body, "note", 1000);
  st.updated_at = rest::utc_now();
  rest::respond(resp, save(req, st, before, "relationship.standard.update"));
}

void Standards::end(const annex::Request& req, annex::Response& resp) {
  Standard before = found(req);
  rest::check_if_match(req, before.version);
  json body = rest::parse_body(req);
  std::string to = rest::date_field(body, "effective_to", true);
  if (before.effective_to && *before.effective_to < to) {
    rest::unprocessable("effective_to", "the standard ends on " + *before.effective_to + " already; ending it later is a change");
  }
  Standard st = before;
  st.effective_to = to;
  st.updated_at = rest::utc_now();
  rest::respond(resp, save(req, st, before, "relationship.standard.end"));
}

}  // namespace relationship_spending

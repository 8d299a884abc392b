#include "pipeline.h"

#include "../common/query.h"

#include <map>
#include <set>

namespace pipeline {
namespace {

using annex::rest::invalid;
using annex::rest::page;
using annex::rest::Where;
using annex::rest::unprocessable;
namespace rest = annex::rest;

json opt(const annex::Row& r, size_t i) { return r.is_null(i) ? json(nullptr) : json(r.text(i)); }

// ---- rows ------------------------------------------------------------------------------------------------

constexpr const char* kLeadColumns =
    "id, source, company, contact_name, contact_email, contact_phone, status, disqualified_reason, party_id,"
    " opportunity_id, sector_id, owner_id, last_activity_on, created_at, updated_at, version";

void write_lead(const annex::Row& r, std::string& out) {
  rest::ObjectWriter w(out);
  w.column("id", r, 0).column("source", r, 1).column("company", r, 2).text_or_null("contact_name", r, 3)
      .text_or_null("contact_email", r, 4).text_or_null("contact_phone", r, 5).column("status", r, 6)
      .text_or_null("disqualified_reason", r, 7).text_or_null("party_id", r, 8).text_or_null("opportunity_id", r, 9)
      .column("sector_id", r, 10).column("owner_id", r, 11).text_or_null("last_activity_on", r, 12)
      .column("created_at", r, 13).column("updated_at", r, 14).integer("version", r.integer(15));
}

constexpr const char* kOpportunityColumns =
    "id, name, party_id, lead_id, sector_id, owner_id, amount, currency, expected_close, stage, probability,"
    " probability_set, forecast_category, status, lost_reason, closed_on, last_activity_on, created_at, updated_at,"
    " version";

void write_opportunity(const annex::Row& r, std::string& out) {
  int64_t amount = r.integer(6), probability = r.integer(10);
  std::string currency = r.text(7);
  rest::ObjectWriter w(out);
  w.column("id", r, 0).column("name", r, 1).column("party_id", r, 2).text_or_null("lead_id", r, 3)
      .column("sector_id", r, 4).column("owner_id", r, 5).money("amount", amount, currency)
      .money("weighted_amount", rest::percent_of(amount, probability), currency).column("expected_close", r, 8)
      .column("stage", r, 9).integer("probability", probability).boolean("probability_overridden", r.integer(11) != 0)
      .column("forecast_category", r, 12).column("status", r, 13).text_or_null("lost_reason", r, 14)
      .text_or_null("closed_on", r, 15).text_or_null("last_activity_on", r, 16).column("created_at", r, 17)
      .column("updated_at", r, 18).integer("version", r.integer(19));
}

constexpr const char* kActivityColumns =
    "id, kind, subject, outcome, activity_on, status, purpose, lead_id, opportunity_id, party_id, sector_id, owner_id,"
    " created_by, created_at, updated_at, version";

void write_activity(const annex::Row& r, std::string& out) {
  rest::ObjectWriter w(out);
  w.column("id", r, 0).column("kind", r, 1).column("subject", r, 2).text_or_null("outcome", r, 3)
      .column("date", r, 4).column("status", r, 5).column("purpose", r, 6).text_or_null("lead_id", r, 7)
      .text_or_null("opportunity_id", r, 8).text_or_null("party_id", r, 9).column("sector_id", r, 10)
      .column("owner_id", r, 11).column("created_by", r, 12).column("created_at", r, 13)
      .column("updated_at", r, 14).integer("version", r.integer(15));
}

// One record as a json value: its list form, parsed (one shape for both).
template <void (*Write)(const annex::Row&, std::string&)>
json as_json(const annex::Row& r) {
  std::string text;
  Write(r, text);
  return json::parse(text);
}
json read_lead(const annex::Row& r) { return as_json<&write_lead>(r); }
json read_opportunity(const annex::Row& r) { return as_json<&write_opportunity>(r); }
json read_activity(const annex::Row& r) { return as_json<&write_activity>(r); }

std::optional<json> load(const annex::Db& db, const char* table, const char* columns, json (*read)(const annex::Row&),
                         const std::string& id, annex::Transaction* txn = nullptr) {
  std::string sql = std::string("SELECT ") + columns + " FROM " + table + " WHERE id = ?";
  annex::Value params[] = {std::string_view(id)};
  annex::Rows rows = db.query(txn, sql, params);
  if (!rows.next()) return std::nullopt;
  return read(rows.row());
}

const std::vector<std::string> kActivityKinds = {"call", "visit", "email", "meeting", "note"};
const std::vector<std::string> kOpenLeadStatuses = {"new", "working", "qualified"};

int64_t quantity_of(const json& line, size_t i) {
  if (!line.contains("quantity")) return 1;
  if (!line["quantity"].is_number_integer() || line["quantity"].get<int64_t>() < 1) {
    invalid("products[" + std::to_string(i) + "].quantity", "quantity must be a whole number of at least 1");
  }
  return line["quantity"].get<int64_t>();
}

}  // namespace

Settings Settings::parse(const json& config) {
  Settings s;
  s.lead_sources = config.value("lead_sources", std::vector<std::string>{"own_prospecting", "advertising", "referral", "other"});
  if (s.lead_sources.empty()) throw std::invalid_argument("lead_sources: at least one source");
  auto span = [](const json& j, const std::string& path) {
    if (!j.is_object()) throw std::invalid_argument(path + ": {\"months\": n} or {\"days\": n}");
    Span out{j.value("months", 0), j.value("days", 0)};
    if (out.months < 0 || out.days < 0 || out.months + out.days == 0) throw std::invalid_argument(path + ": a positive interval");
    return out;
  };
  if (config.contains("activity_window")) s.activity_window = span(config["activity_window"], "activity_window");
  s.follow_up_days = config.value("follow_up_days", 5);
  if (s.follow_up_days < 0 || s.follow_up_days > 365) throw std::invalid_argument("follow_up_days: 0 to 365");
  json schedule = config.value("after_sale", json::parse(R"([{"days": 7}, {"months": 1}, {"months": 3}, {"months": 6}])"));
  if (!schedule.is_array()) throw std::invalid_argument("after_sale: a list of intervals");
  for (size_t i = 0; i < schedule.size(); ++i) s.after_sale.push_back(span(schedule[i], "after_sale[" + std::to_string(i) + "]"));
  s.stale_scan_seconds = config.value("stale_scan_seconds", 86400u);
  if (s.stale_scan_seconds < 1) throw std::invalid_argument("stale_scan_seconds: at least 1");
  return s;
}

// ---- access ----------------------------------------------------------------------------------------------

json Pipeline::lead_or_404(const annex::Request& req, std::string_view permission, const std::string& id) const {
  std::optional<json> lead = load(s_.db, "pipeline_leads", kLeadColumns, &read_lead, id);
  if (!lead || !s_.authz.may(req.principal_id(), permission, rest::object_ref(kLead, *lead))) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such lead");
  }
  return *lead;
}

json Pipeline::opportunity_or_404(const annex::Request& req, std::string_view permission, const std::string& id) const {
  std::optional<json> opp = load(s_.db, "pipeline_opportunities", kOpportunityColumns, &read_opportunity, id);
  if (!opp || !s_.authz.may(req.principal_id(), permission, rest::object_ref(kOpportunity, *opp))) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such opportunity");
  }
  return *opp;
}

json Pipeline::activity_or_404(const annex::Request& req, std::string_view permission, const std::string& id) const {
  std::optional<json> a = load(s_.db, "pipeline_activities", kActivityColumns, &read_activity, id);
  if (!a || !s_.authz.may(req.principal_id(), permission, rest::object_ref(kActivity, *a))) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no such activity");
  }
  return *a;
}

// The caller sees the record (checked before); changing it needs the write permission on it: 403 otherwise.
void Pipeline::require_write(const annex::Request& req, const char* type, const json& record, const char* what) const {
  std::string permission = std::string(type) + ".write";
  if (!s_.authz.may(req.principal_id(), permission, rest::object_ref(type, record))) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, std::string("you may read this ") + what + " but not change it");
  }
}

// The owner of a new record: the caller, or "owner_id" when the caller may write records of that user in the
// sector — a group executive anyone's (C1), a sector head their sector's. The user must be active and belong to
// the sector.
std::string Pipeline::owner_for(const annex::Request& req, const json& body, const char* type, const std::string& sector) const {
  std::string caller(req.principal_id());
  std::optional<std::string> owner = rest::opt_string(body, "owner_id", 64);
  if (!owner || *owner == caller) {
    // Reach over the sector's records, or — for those who reach only their own — membership of the sector.
    std::string permission = std::string(type) + ".write";
    bool allowed = (s_.authz.may(caller, permission, {type, "", sector, caller}) && rest::member_of(s_.directory, caller, sector)) ||
                   s_.authz.may(caller, permission, {type, "", sector, ""});
    if (!allowed) {
      throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "sector " + sector + " is outside your reach", "sector_id");
    }
    return caller;
  }
  bool may = s_.authz.may(caller, std::string(type) + ".write", {type, "", sector, *owner}) ||
             (std::string(type) == kActivity && s_.authz.may(caller, "pipeline.activity.assign-any", {type, "", sector, *owner}));
  if (!may) throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "you may not give records in sector " + sector + " to another user", "owner_id");
  std::optional<std::string> user = s_.directory.user(*owner);
  json u = user ? json::parse(*user) : json();
  if (!user) unprocessable("owner_id", "no user " + *owner);
  if (u.value("status", "") != "active") unprocessable("owner_id", "user " + *owner + " is " + u.value("status", "") + ", not active");
  const json& sectors = u["sectors"];
  if (std::find(sectors.begin(), sectors.end(), sector) == sectors.end()) {
    unprocessable("owner_id", "user " + *owner + " does not belong to sector " + sector);
  }
  return *owner;
}

// ---- leads -----------------------------------------------------------------------------------------------

void Pipeline::create_lead(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  std::string source = rest::one_of(rest::req_string(body, "source", 64), "source", settings_.lead_sources);
  std::string company = rest::req_string(body, "company", 200);
  std::optional<std::string> contact = rest::opt_string(body, "contact_name", 200), email = rest::opt_string(body, "contact_email", 200),
                             phone = rest::opt_string(body, "contact_phone", 64);
  std::string sector;
  if (auto given = rest::opt_string(body, "sector_id", 64)) sector = *given;
  else if (auto home = s_.authz.home_sector(req.principal_id())) sector = *home;
  else unprocessable("sector_id", "sector_id is required: you belong to no sector");
  std::string owner = owner_for(req, body, kLead, sector);
  std::string id = rest::new_id("ld"), now = rest::utc_now();
  s_.db.query("INSERT INTO pipeline_leads (id, source, company, contact_name, contact_email, contact_phone, status, sector_id,"
              " owner_id, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, 1)",
              {id, source, company, contact, email, phone, sector, owner, now, now});
  json lead = *load(s_.db, "pipeline_leads", kLeadColumns, &read_lead, id);
  resp.header("Location", "/api/v1/pipeline/leads/" + id);
  rest::respond(resp, lead, 201);
}

void Pipeline::get_lead(const annex::Request& req, annex::Response& resp) {
  rest::respond(resp, lead_or_404(req, "pipeline.lead.read", std::string(req.path_param("id"))));
}

void Pipeline::list_leads(const annex::Request& req, annex::Response& resp) {
  Where where;
  where.add(s_.authz.list_filter(req.principal_id(), "pipeline.lead.read", kLead));
  where.equal_if(req, "status", "status").equal_if(req, "owner_id", "owner_id").equal_if(req, "sector_id", "sector_id")
      .equal_if(req, "source", "source");
  resp.body(page(s_.db, req, std::string("SELECT ") + kLeadColumns + " FROM pipeline_leads", std::move(where),
                 {{"id", 0}, {"created_at", 13}, {"updated_at", 14}, {"company", 2}}, "-id", &write_lead));
}

// Status: new → working → qualified (→ converted, by conversion only); any open status → disqualified with a
// reason; disqualified → working to reopen.
void Pipeline::update_lead(const annex::Request& req, annex::Response& resp) {
  json lead = lead_or_404(req, "pipeline.lead.read", std::string(req.path_param("id")));
  require_write(req, kLead, lead, "lead");
  rest::check_if_match(req, lead["version"].get<int64_t>());
  json body = rest::parse_body(req);
  json after = lead;
  if (body.contains("company")) after["company"] = rest::req_string(body, "company", 200);
  if (body.contains("source")) after["source"] = rest::one_of(rest::req_string(body, "source", 64), "source", settings_.lead_sources);
  for (const char* f : {"contact_name", "contact_email", "contact_phone"}) {
    if (body.contains(f)) after[f] = rest::opt_string(body, f, 200) ? json(*rest::opt_string(body, f, 200)) : json(nullptr);
  }
  if (body.contains("status")) {
    std::string from = lead["status"], to = rest::req_string(body, "status", 32);
    static const std::map<std::string, std::set<std::string>> allowed = {
        {"new", {"working", "disqualified"}}, {"working", {"qualified", "disqualified"}},
        {"qualified", {"working", "disqualified"}}, {"disqualified", {"working"}}, {"converted", {}}};
    if (to != from) {
      auto it = allowed.find(from);
      if (to == "converted") unprocessable("status", "a lead is converted with POST /api/v1/pipeline/leads/{id}/convert");
      if (it == allowed.end() || !it->second.count(to)) {
        unprocessable("status", "a lead cannot go from " + from + " to " + to);
      }
      if (to == "disqualified") {
        std::optional<std::string> reason = rest::opt_string(body, "disqualified_reason", 500);
        if (!reason || reason->empty()) invalid("disqualified_reason", "disqualifying a lead needs a reason");
        after["disqualified_reason"] = *reason;
      } else {
        after["disqualified_reason"] = nullptr;
      }
      after["status"] = to;
    }
  }
  std::string now = rest::utc_now();
  int64_t version = lead["version"].get<int64_t>();
  annex::Rows done = s_.db.query(
      "UPDATE pipeline_leads SET company = ?, source = ?, contact_name = ?, contact_email = ?, contact_phone = ?, status = ?,"
      " disqualified_reason = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
      {after["company"].get<std::string>(), after["source"].get<std::string>(),
       after["contact_name"].is_null() ? std::optional<std::string>() : after["contact_name"].get<std::string>(),
       after["contact_email"].is_null() ? std::optional<std::string>() : after["contact_email"].get<std::string>(),
       after["contact_phone"].is_null() ? std::optional<std::string>() : after["contact_phone"].get<std::string>(),
       after["status"].get<std::string>(),
       after["disqualified_reason"].is_null() ? std::optional<std::string>() : after["disqualified_reason"].get<std::string>(),
       now, lead["id"].get<std::string>(), version});
  if (done.affected() == 0) throw annex::Error(ANNEX_ERR_PRECONDITION_FAILED, "the lead changed meanwhile; read it again", "If-Match");
  rest::respond(resp, *load(s_.db, "pipeline_leads", kLeadColumns, &read_lead, lead["id"].get<std::string>()));
}

// Converts a qualified lead: links the customer party given by "party_id", or creates it from "party" ({code,
// name, …}) in master data, and opens an opportunity ("opportunity": {name, amount, expected_close, …}) — all in
// one transaction.
void Pipeline::convert_lead(const annex::Request& req, annex::Response& resp) {
  json lead = lead_or_404(req, "pipeline.lead.read", std::string(req.path_param("id")));
  require_write(req, kLead, lead, "lead");
  rest::check_if_match(req, lead["version"].get<int64_t>());
  if (lead["status"] != "qualified") unprocessable("status", "only a qualified lead is converted; this one is " + lead["status"].get<std::string>());
  json body = rest::parse_body(req);
  std::string caller(req.principal_id());
  annex::Transaction txn = s_.db.begin();
  std::string party_id;
  json party_record;
  if (auto given = rest::opt_string(body, "party_id", 64)) {
    std::optional<std::string> found = s_.masterdata.get("parties", *given, caller);
    if (!found) unprocessable("party_id", "no customer " + *given + " within your reach");
    party_id = *given;
    party_record = json::parse(*found);
  } else {
    if (!body.contains("party") || !body["party"].is_object()) invalid("party", "give party_id (an existing customer) or party ({code, name, …})");
    json party = body["party"];
    // A new customer only: an existing code belongs to a record this conversion must not overwrite.
    std::optional<std::string> code = rest::opt_string(party, "code", 64);
    if (!code || code->empty()) invalid("party.code", "party.code is required for a new customer");
    if (s_.masterdata.find("parties", json({{"code", *code}}).dump())) {
      throw annex::Error(ANNEX_ERR_CONFLICT, "customer code " + *code + " is taken; convert with party_id to link an existing customer",
                         "party.code");
    }
    party["sector_id"] = lead["sector_id"];
    party["owner_id"] = lead["owner_id"];
    if (!party.contains("name")) party["name"] = lead["company"];
    if (!party.contains("kind")) party["kind"] = "customer";
    if (!party.contains("source")) party["source"] = lead["source"];
    try {
      party_id = json::parse(s_.masterdata.upsert("parties", party.dump(), caller, &txn))["id"].get<std::string>();
      party_record = party;
      party_record["id"] = party_id;
    } catch (const annex::Error& e) {
      throw annex::Error(e.code(), e.message(), e.field().empty() ? "party" : "party." + e.field());
    }
  }
  json spec = body.value("opportunity", json::object());
  if (!spec.is_object()) invalid("opportunity", "opportunity is an object: {name, amount, expected_close, …}");
  spec["party_id"] = party_id;
  spec["sector_id"] = lead["sector_id"];
  spec["owner_id"] = lead["owner_id"];
  if (!spec.contains("name")) spec["name"] = lead["company"];
  json opp;
  try {
    opp = insert_opportunity(txn, req, spec, lead["id"].get<std::string>(), &party_record);
  } catch (const annex::Error& e) {
    throw annex::Error(e.code(), e.message(), e.field().empty() ? "opportunity" : "opportunity." + e.field());
  }
  std::string now = rest::utc_now();
  annex::Rows converted = s_.db.query(
      txn,
      "UPDATE pipeline_leads SET status = 'converted', party_id = ?, opportunity_id = ?, updated_at = ?, version = version + 1"
      " WHERE id = ? AND version = ? AND status = 'qualified'",
      {party_id, opp["id"].get<std::string>(), now, lead["id"].get<std::string>(), lead["version"].get<int64_t>()});
  if (converted.affected() == 0) throw annex::Error(ANNEX_ERR_PRECONDITION_FAILED, "the lead changed meanwhile; read it again", "If-Match");
  json after = *load(s_.db, "pipeline_leads", kLeadColumns, &read_lead, lead["id"].get<std::string>(), &txn);
  s_.audit.append(&txn, caller, "pipeline.lead.convert", kLead, lead["id"].get<std::string>(), lead.dump(), after.dump());
  s_.events.publish("pipeline.lead.converted", json({{"lead", after}, {"opportunity_id", opp["id"]}, {"party_id", party_id}}).dump(),
                    "lead-converted-" + lead["id"].get<std::string>(), &txn);
  txn.commit();
  resp.status(201).body(json({{"lead", after}, {"opportunity", opp}, {"party_id", party_id}}).dump());
}

// ---- opportunities ---------------------------------------------------------------------------------------

json Pipeline::insert_opportunity(annex::Transaction& txn, const annex::Request& req, const json& body, const std::string& lead_id,
                                  const json* known_party) {
  std::string caller(req.principal_id());
  std::string name = rest::req_string(body, "name", 200);
  std::string party_id = rest::req_string(body, "party_id", 64);
  json party;
  if (known_party != nullptr) {
    party = *known_party;
  } else {
    std::optional<std::string> party_text = s_.masterdata.get("parties", party_id, caller);
    if (!party_text) unprocessable("party_id", "no customer " + party_id + " within your reach");
    party = json::parse(*party_text);
  }
  std::optional<rest::Money> amount = rest::opt_money(body, "amount");
  if (!amount) invalid("amount", "amount is required: {\"amount\": minor units, \"currency\": \"CNY\"}");
  rest::known_currency(s_.masterdata, amount->currency, "amount.currency");
  std::string close = rest::date_field(body, "expected_close", true);
  std::string sector = rest::opt_string(body, "sector_id", 64).value_or(party.value("sector_id", std::string{}));
  if (sector.empty()) invalid("sector_id", "sector_id is required");
  std::string owner = owner_for(req, body, kOpportunity, sector);
  const Stage* stage = &stages_.first(sector);
  if (auto s = rest::opt_string(body, "stage", 64)) {
    stage = stages_.find(sector, *s);
    if (stage == nullptr) unprocessable("stage", "no stage " + *s + " in sector " + sector);
    if (stage->closed) unprocessable("stage", "a new opportunity starts in an open stage, not " + *s);
  }
  std::optional<int64_t> probability = rest::opt_integer(body, "probability", 0, 100);
  std::string category = stage->category;
  if (auto c = rest::opt_string(body, "forecast_category", 32)) category = rest::one_of(*c, "forecast_category", kForecastCategories);
  std::map<std::string, int64_t> lines;
  if (body.contains("products")) {
    if (!body["products"].is_array()) invalid("products", "products is a list of {product_id, quantity}");
    for (size_t i = 0; i < body["products"].size(); ++i) {
      const json& line = body["products"][i];
      std::string at = "products[" + std::to_string(i) + "]";
      if (!line.is_object() || !line.contains("product_id") || !line["product_id"].is_string()) invalid(at + ".product_id", "product_id is required");
      std::string product = line["product_id"].get<std::string>();
      if (!s_.masterdata.get("products", product)) unprocessable(at + ".product_id", "no product " + product);
      lines[product] += quantity_of(line, i);
    }
  }
  std::string id = rest::new_id("op"), now = rest::utc_now();
  s_.db.query(txn,
              "INSERT INTO pipeline_opportunities (id, name, party_id, lead_id, sector_id, owner_id, amount, currency, expected_close,"
              " stage, probability, probability_set, forecast_category, status, created_at, updated_at, version)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, 1)",
              {id, name, party_id, lead_id.empty() ? std::optional<std::string>() : lead_id, sector, owner, amount->amount,
               amount->currency, close, stage->name, probability.value_or(stage->probability), probability ? 1 : 0, category, now, now});
  for (const auto& [product, quantity] : lines) {
    s_.db.query(txn, "INSERT INTO pipeline_opportunity_products (opportunity_id, product_id, quantity) VALUES (?, ?, ?)", {id, product, quantity});
  }
  s_.db.query(txn, "INSERT INTO pipeline_stage_history (id, opportunity_id, from_stage, to_stage, changed_at, changed_by) VALUES (?, ?, NULL, ?, ?, ?)",
              {rest::new_id("sh"), id, stage->name, now, caller});
  return *load(s_.db, "pipeline_opportunities", kOpportunityColumns, &read_opportunity, id, &txn);
}

void Pipeline::create_opportunity(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  annex::Transaction txn = s_.db.begin();
  json opp = insert_opportunity(txn, req, body, "");
  txn.commit();
  resp.header("Location", "/api/v1/pipeline/opportunities/" + opp["id"].get<std::string>());
  rest::respond(resp, opp, 201);
}

void Pipeline::get_opportunity(const annex::Request& req, annex::Response& resp) {
  json opp = opportunity_or_404(req, "pipeline.opportunity.read", std::string(req.path_param("id")));
  json products = json::array();
  annex::Rows rows = s_.db.query("SELECT product_id, quantity FROM pipeline_opportunity_products WHERE opportunity_id = ? ORDER BY product_id",
                                 {opp["id"].get<std::string>()});
  while (rows.next()) products.push_back({{"product_id", rows.row().text(0)}, {"quantity", rows.row().integer(1)}});
  opp["products"] = products;
  rest::respond(resp, opp);
}

void Pipeline::list_opportunities(const annex::Request& req, annex::Response& resp) {
  Where where;
  where.add(s_.authz.list_filter(req.principal_id(), "pipeline.opportunity.read", kOpportunity));
  where.equal_if(req, "status", "status").equal_if(req, "stage", "stage").equal_if(req, "owner_id", "owner_id")
      .equal_if(req, "sector_id", "sector_id").equal_if(req, "party_id", "party_id").equal_if(req, "forecast_category", "forecast_category")
      .equal_if(req, "currency", "currency");
  if (auto from = req.query_param("close_from")) {
    if (!rest::parse_date(*from)) invalid("close_from", "close_from must be a date, YYYY-MM-DD");
    where.add("expected_close >= ?", {*from});
  }
  if (auto to = req.query_param("close_to")) {
    if (!rest::parse_date(*to)) invalid("close_to", "close_to must be a date, YYYY-MM-DD");
    where.add("expected_close <= ?", {*to});
  }
  resp.body(page(s_.db, req, std::string("SELECT ") + kOpportunityColumns + " FROM pipeline_opportunities", std::move(where),
                 {{"id", 0}, {"created_at", 17}, {"updated_at", 18}, {"expected_close", 8}, {"amount", 6, true}, {"name", 1}}, "id",
                 &write_opportunity));
}

// Changes fields and, with "stage", moves the opportunity along the sector's allowed transitions (422 naming
// both stages otherwise). A stage change takes the stage's probability and category unless the request gives
// its own; a won stage plans the follow-ups.
void Pipeline::update_opportunity(const annex::Request& req, annex::Response& resp) {
  json opp = opportunity_or_404(req, "pipeline.opportunity.read", std::string(req.path_param("id")));
  require_write(req, kOpportunity, opp, "opportunity");
  rest::check_if_match(req, opp["version"].get<int64_t>());
  json body = rest::parse_body(req);
  std::string caller(req.principal_id()), sector = opp["sector_id"];
  json after = opp;
  if (body.contains("name")) after["name"] = rest::req_string(body, "name", 200);
  if (auto amount = rest::opt_money(body, "amount")) {
    rest::known_currency(s_.masterdata, amount->currency, "amount.currency");
    after["amount"] = rest::money_json(amount->amount, amount->currency);
  }
  if (body.contains("expected_close")) after["expected_close"] = rest::date_field(body, "expected_close", true);
  std::optional<int64_t> probability = rest::opt_integer(body, "probability", 0, 100);
  std::optional<std::string> category;
  if (auto c = rest::opt_string(body, "forecast_category", 32)) category = rest::one_of(*c, "forecast_category", kForecastCategories);
  const Stage* from = stages_.find(sector, opp["stage"]);
  const Stage* to = from;
  if (auto s = rest::opt_string(body, "stage", 64); s && *s != opp["stage"].get<std::string>()) {
    to = stages_.find(sector, *s);
    if (to == nullptr) unprocessable("stage", "no stage " + *s + " in sector " + sector);
    if (from == nullptr || !from->to.count(to->name)) {
      unprocessable("stage", "an opportunity cannot move from " + opp["stage"].get<std::string>() + " to " + to->name + " in sector " + sector);
    }
  }
  if (from != nullptr && from->closed && to == from && (body.contains("amount") || body.contains("probability"))) {
    unprocessable("stage", "the opportunity is closed (" + from->name + ")");
  }
  bool moved = to != from;
  if (moved) {
    after["stage"] = to->name;
    if (!probability) {
      after["probability"] = to->probability;
      after["probability_overridden"] = false;
    }
    after["forecast_category"] = to->category;
    after["status"] = to->won ? "won" : to->closed ? "lost" : "open";
    after["closed_on"] = to->closed ? json(rest::format_date(rest::today())) : json(nullptr);
    if (to->closed && !to->won) {
      std::optional<std::string> reason = rest::opt_string(body, "lost_reason", 500);
      if (!reason || reason->empty()) invalid("lost_reason", "a lost opportunity needs lost_reason");
      after["lost_reason"] = *reason;
    } else {
      after["lost_reason"] = nullptr;
    }
  }
  if (probability) {
    after["probability"] = *probability;
    after["probability_overridden"] = true;
  }
  if (category) {
    if (to != nullptr && to->closed) unprocessable("forecast_category", "a closed opportunity's category is " + to->category);
    after["forecast_category"] = *category;
  }
  std::map<std::string, int64_t> lines;
  bool new_lines = body.contains("products");
  if (new_lines) {
    if (!body["products"].is_array()) invalid("products", "products is a list of {product_id, quantity}");
    for (size_t i = 0; i < body["products"].size(); ++i) {
      const json& line = body["products"][i];
      std::string at = "products[" + std::to_string(i) + "]";
      if (!line.is_object() || !line.contains("product_id") || !line["product_id"].is_string()) invalid(at + ".product_id", "product_id is required");
      std::string product = line["product_id"].get<std::string>();
      if (!s_.masterdata.get("products", product)) unprocessable(at + ".product_id", "no product " + product);
      lines[product] += quantity_of(line, i);
    }
  }
  std::string now = rest::utc_now(), id = opp["id"];
  annex::Transaction txn = s_.db.begin();
  annex::Rows done = s_.db.query(
      txn,
      "UPDATE pipeline_opportunities SET name = ?, amount = ?, currency = ?, expected_close = ?, stage = ?, probability = ?,"
      " probability_set = ?, forecast_category = ?, status = ?, lost_reason = ?, closed_on = ?, updated_at = ?, version = version + 1"
      " WHERE id = ? AND version = ?",
      {after["name"].get<std::string>(), after["amount"]["amount"].get<int64_t>(), after["amount"]["currency"].get<std::string>(),
       after["expected_close"].get<std::string>(), after["stage"].get<std::string>(), after["probability"].get<int64_t>(),
       after["probability_overridden"].get<bool>() ? 1 : 0, after["forecast_category"].get<std::string>(),
       after["status"].get<std::string>(),
       after["lost_reason"].is_null() ? std::optional<std::string>() : after["lost_reason"].get<std::string>(),
       after["closed_on"].is_null() ? std::optional<std::string>() : after["closed_on"].get<std::string>(), now, id,
       opp["version"].get<int64_t>()});
  if (done.affected() == 0) throw annex::Error(ANNEX_ERR_PRECONDITION_FAILED, "the opportunity changed meanwhile; read it again", "If-Match");
  if (new_lines) {
    s_.db.query(txn, "DELETE FROM pipeline_opportunity_products WHERE opportunity_id = ?", {id});
    for (const auto& [product, quantity] : lines) {
      s_.db.query(txn, "INSERT INTO pipeline_opportunity_products (opportunity_id, product_id, quantity) VALUES (?, ?, ?)", {id, product, quantity});
    }
  }
  json saved = *load(s_.db, "pipeline_opportunities", kOpportunityColumns, &read_opportunity, id, &txn);
  if (moved) {
    s_.db.query(txn, "INSERT INTO pipeline_stage_history (id, opportunity_id, from_stage, to_stage, changed_at, changed_by) VALUES (?, ?, ?, ?, ?, ?)",
                {rest::new_id("sh"), id, opp["stage"].get<std::string>(), to->name, now, caller});
    if (to->won) {
      plan_follow_ups(txn, saved, caller);
      s_.events.publish("pipeline.opportunity.won", saved.dump(), "opportunity-won-" + id + "-" + std::to_string(saved["version"].get<int64_t>()), &txn);
    }
  }
  txn.commit();
  rest::respond(resp, saved);
}

// Follow-ups of a won opportunity, planned in its owner's name: a visit `follow_up_days` later, the after-sale
// schedule, and for each product with a repurchase cycle a proposed repurchase date.
void Pipeline::plan_follow_ups(annex::Transaction& txn, const json& opp, const std::string& actor) {
  auto won = rest::today();
  std::string now = rest::utc_now(), id = opp["id"];
  auto plan = [&](const std::string& date, const std::string& purpose, const std::string& kind, const std::string& subject) {
    s_.db.query(txn,
                "INSERT INTO pipeline_activities (id, kind, subject, activity_on, status, purpose, opportunity_id, party_id, sector_id,"
                " owner_id, created_by, created_at, updated_at, version) VALUES (?, ?, ?, ?, 'planned', ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                {rest::new_id("ac"), kind, subject, date, purpose, id, opp["party_id"].get<std::string>(), opp["sector_id"].get<std::string>(),
                 opp["owner_id"].get<std::string>(), actor, now, now});
  };
  plan(rest::format_date(rest::add_days(won, settings_.follow_up_days)), "follow-up", "visit", "Follow-up visit: " + opp["name"].get<std::string>());
  for (const auto& step : settings_.after_sale) {
    auto date = rest::add_days(rest::add_months(won, step.months), step.days);
    std::string label = step.months ? std::to_string(step.months) + (step.months == 1 ? " month" : " months")
                                    : std::to_string(step.days) + (step.days == 1 ? " day" : " days");
    plan(rest::format_date(date), "after-sale", "call", "After-sale call (" + label + "): " + opp["name"].get<std::string>());
  }
  annex::Rows lines = s_.db.query(txn, "SELECT product_id FROM pipeline_opportunity_products WHERE opportunity_id = ? ORDER BY product_id", {id});
  std::vector<std::string> products;
  while (lines.next()) products.push_back(lines.row().text(0));
  for (const auto& product_id : products) {
    std::optional<std::string> text = s_.masterdata.get("products", product_id);
    if (!text) continue;
    json product = json::parse(*text);
    if (!product.contains("repurchase_days") || !product["repurchase_days"].is_number_integer() || product["repurchase_days"].get<int64_t>() <= 0) continue;
    plan(rest::format_date(rest::add_days(won, product["repurchase_days"].get<int64_t>())), "repurchase", "call",
         "Repurchase due: " + product.value("name", product_id));
  }
}

void Pipeline::stage_history(const annex::Request& req, annex::Response& resp) {
  json opp = opportunity_or_404(req, "pipeline.opportunity.read", std::string(req.path_param("id")));
  annex::Rows rows = s_.db.query("SELECT from_stage, to_stage, changed_at, changed_by FROM pipeline_stage_history WHERE opportunity_id = ?"
                                 " ORDER BY changed_at, id", {opp["id"].get<std::string>()});
  json items = json::array();
  while (rows.next()) {
    const annex::Row r = rows.row();
    items.push_back({{"from", opt(r, 0)}, {"to", r.text(1)}, {"at", r.text(2)}, {"by", r.text(3)}});
  }
  resp.body(json({{"items", items}}).dump());
}

void Pipeline::list_stages(const annex::Request& req, annex::Response& resp) {
  std::string sector = req.query_param("sector_id").value_or("");
  if (sector.empty()) {
    if (auto home = s_.authz.home_sector(req.principal_id())) sector = *home;
  }
  resp.body(json({{"sector_id", sector}, {"stages", stages_.to_json(sector)}}).dump());
}

// ---- activities ------------------------------------------------------------------------------------------

// The activity rule counts logged activities: the lead or opportunity a done activity concerns is alive again.
void Pipeline::mark_alive(annex::Transaction& txn, const std::optional<std::string>& lead_id,
                          const std::optional<std::string>& opportunity_id, const std::string& date) {
  auto touch = [&](const char* table, const char* type, const std::string& id) {
    s_.db.query(txn, std::string("UPDATE ") + table + " SET last_activity_on = ? WHERE id = ? AND (last_activity_on IS NULL OR last_activity_on < ?)",
                {date, id, date});
    s_.db.query(txn, "DELETE FROM pipeline_stale WHERE record_type = ? AND record_id = ?", {type, id});
  };
  if (lead_id) touch("pipeline_leads", kLead, *lead_id);
  if (opportunity_id) touch("pipeline_opportunities", kOpportunity, *opportunity_id);
}

void Pipeline::create_activity(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  std::string kind = rest::one_of(rest::req_string(body, "kind", 16), "kind", kActivityKinds);
  std::string subject = rest::req_string(body, "subject", 500);
  std::optional<std::string> outcome = rest::opt_string(body, "outcome", 2000);
  std::string date = rest::date_field(body, "date", false);
  if (date.empty()) date = rest::format_date(rest::today());
  std::string status = rest::opt_string(body, "status", 16).value_or(date <= rest::format_date(rest::today()) ? "done" : "planned");
  rest::one_of(status, "status", {"done", "planned"});
  if (status == "done" && date > rest::format_date(rest::today())) unprocessable("date", "an activity done is dated today or earlier");
  int attached = body.contains("lead_id") + body.contains("opportunity_id") + body.contains("party_id");
  if (attached != 1) invalid("lead_id", "an activity is attached to exactly one of lead_id, opportunity_id or party_id");
  std::optional<std::string> lead_id, opportunity_id, party_id;
  std::string sector;
  // An activity counts for the record it concerns (the activity rule): logging one needs write on that record.
  if (body.contains("lead_id")) {
    json lead = lead_or_404(req, "pipeline.lead.read", rest::req_string(body, "lead_id", 64));
    require_write(req, kLead, lead, "lead");
    lead_id = lead["id"], sector = lead["sector_id"];
  } else if (body.contains("opportunity_id")) {
    json opp = opportunity_or_404(req, "pipeline.opportunity.read", rest::req_string(body, "opportunity_id", 64));
    require_write(req, kOpportunity, opp, "opportunity");
    opportunity_id = opp["id"], sector = opp["sector_id"], party_id = opp["party_id"];
  } else {
    std::string pid = rest::req_string(body, "party_id", 64);
    std::optional<std::string> party = s_.masterdata.get("parties", pid, req.principal_id());
    if (!party) unprocessable("party_id", "no customer " + pid + " within your reach");
    party_id = pid, sector = json::parse(*party).value("sector_id", std::string{});
  }
  std::string owner = owner_for(req, body, kActivity, sector);
  std::string id = rest::new_id("ac"), now = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  s_.db.query(txn,
              "INSERT INTO pipeline_activities (id, kind, subject, outcome, activity_on, status, purpose, lead_id, opportunity_id, party_id,"
              " sector_id, owner_id, created_by, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, 'manual', ?, ?, ?, ?, ?, ?, ?, ?, 1)",
              {id, kind, subject, outcome, date, status, lead_id, opportunity_id, party_id, sector, owner, std::string(req.principal_id()), now, now});
  if (status == "done") mark_alive(txn, lead_id, opportunity_id, date);
  json activity = *load(s_.db, "pipeline_activities", kActivityColumns, &read_activity, id, &txn);
  txn.commit();
  resp.header("Location", "/api/v1/pipeline/activities/" + id);
  rest::respond(resp, activity, 201);
}

void Pipeline::get_activity(const annex::Request& req, annex::Response& resp) {
  rest::respond(resp, activity_or_404(req, "pipeline.activity.read", std::string(req.path_param("id"))));
}

void Pipeline::list_activities(const annex::Request& req, annex::Response& resp) {
  Where where;
  where.add(s_.authz.list_filter(req.principal_id(), "pipeline.activity.read", kActivity));
  where.equal_if(req, "kind", "kind").equal_if(req, "status", "status").equal_if(req, "purpose", "purpose")
      .equal_if(req, "owner_id", "owner_id").equal_if(req, "sector_id", "sector_id").equal_if(req, "lead_id", "lead_id")
      .equal_if(req, "opportunity_id", "opportunity_id").equal_if(req, "party_id", "party_id");
  resp.body(page(s_.db, req, std::string("SELECT ") + kActivityColumns + " FROM pipeline_activities", std::move(where),
                 {{"id", 0}, {"activity_on", 4}, {"created_at", 13}, {"updated_at", 14}}, "-activity_on", &write_activity));
}

void Pipeline::update_activity(const annex::Request& req, annex::Response& resp) {
  json a = activity_or_404(req, "pipeline.activity.read", std::string(req.path_param("id")));
  require_write(req, kActivity, a, "activity");
  rest::check_if_match(req, a["version"].get<int64_t>());
  json body = rest::parse_body(req);
  json after = a;
  if (body.contains("subject")) after["subject"] = rest::req_string(body, "subject", 500);
  if (body.contains("outcome")) after["outcome"] = rest::opt_string(body, "outcome", 2000) ? json(*rest::opt_string(body, "outcome", 2000)) : json(nullptr);
  if (body.contains("date")) after["date"] = rest::date_field(body, "date", true);
  if (body.contains("status")) after["status"] = rest::one_of(rest::req_string(body, "status", 16), "status", {"done", "planned"});
  if (after["status"] == "done" && after["date"].get<std::string>() > rest::format_date(rest::today())) {
    unprocessable("date", "an activity done is dated today or earlier");
  }
  if (body.contains("owner_id")) after["owner_id"] = owner_for(req, body, kActivity, a["sector_id"]);
  std::string now = rest::utc_now(), id = a["id"];
  annex::Transaction txn = s_.db.begin();
  annex::Rows done = s_.db.query(
      txn,
      "UPDATE pipeline_activities SET subject = ?, outcome = ?, activity_on = ?, status = ?, owner_id = ?, updated_at = ?, version = version + 1"
      " WHERE id = ? AND version = ?",
      {after["subject"].get<std::string>(), after["outcome"].is_null() ? std::optional<std::string>() : after["outcome"].get<std::string>(),
       after["date"].get<std::string>(), after["status"].get<std::string>(), after["owner_id"].get<std::string>(), now, id, a["version"].get<int64_t>()});
  if (done.affected() == 0) throw annex::Error(ANNEX_ERR_PRECONDITION_FAILED, "the activity changed meanwhile; read it again", "If-Match");
  if (after["status"] == "done") {
    mark_alive(txn, a["lead_id"].is_null() ? std::optional<std::string>() : a["lead_id"].get<std::string>(),
               a["opportunity_id"].is_null() ? std::optional<std::string>() : a["opportunity_id"].get<std::string>(), after["date"]);
  }
  json saved = *load(s_.db, "pipeline_activities", kActivityColumns, &read_activity, id, &txn);
  txn.commit();
  rest::respond(resp, saved);
}

// ---- the activity rule (C3), follow-ups due, forecast ----------------------------------------------------

// Records with no logged activity since this date are stale: today minus the activity window.
std::string Pipeline::cutoff() const {
  return rest::format_date(rest::add_days(rest::add_months(rest::today(), -settings_.activity_window.months), -settings_.activity_window.days));
}

namespace {
// Open leads and opportunities whose last logged activity (or, never having had one, whose creation) is before
// `cutoff`, restricted by the reach filters.
std::string stale_sql(const std::string& lead_filter, const std::string& opportunity_filter) {
  return "SELECT 'pipeline.lead', id, company, sector_id, owner_id, COALESCE(last_activity_on, substr(created_at, 1, 10)), last_activity_on"
         " FROM pipeline_leads WHERE status IN ('new', 'working', 'qualified')"
         " AND COALESCE(last_activity_on, substr(created_at, 1, 10)) < ? AND " + lead_filter +
         " UNION ALL SELECT 'pipeline.opportunity', id, name, sector_id, owner_id, COALESCE(last_activity_on, substr(created_at, 1, 10)),"
         " last_activity_on FROM pipeline_opportunities WHERE status = 'open'"
         " AND COALESCE(last_activity_on, substr(created_at, 1, 10)) < ? AND " + opportunity_filter;
}
json stale_item(const annex::Row& r) {
  return {{"type", r.text(0)}, {"id", r.text(1)}, {"name", r.text(2)}, {"sector_id", r.text(3)}, {"owner_id", r.text(4)},
          {"quiet_since", r.text(5)}, {"last_activity_on", opt(r, 6)}};
}
}  // namespace

void Pipeline::stale(const annex::Request& req, annex::Response& resp) {
  std::string cut = cutoff();
  std::string sql = stale_sql(s_.authz.list_filter(req.principal_id(), "pipeline.lead.read", kLead),
                              s_.authz.list_filter(req.principal_id(), "pipeline.opportunity.read", kOpportunity)) +
                    " ORDER BY 6, 2 LIMIT 1000";
  annex::Rows rows = s_.db.query(sql, {cut, cut});
  json items = json::array();
  while (rows.next()) items.push_back(stale_item(rows.row()));
  resp.body(json({{"cutoff", cut}, {"items", items}}).dump());
}

int Pipeline::scan_stale() {
  std::string cut = cutoff();
  annex::Rows rows = s_.db.query(stale_sql("1 = 1", "1 = 1"), {cut, cut});
  std::vector<json> found;
  while (rows.next()) found.push_back(stale_item(rows.row()));
  int announced = 0;
  for (const auto& item : found) {
    annex::Transaction txn = s_.db.begin();
    std::string type = item["type"], id = item["id"];
    annex::Rows fresh = s_.db.query(txn, "INSERT INTO pipeline_stale (record_type, record_id, since) VALUES (?, ?, ?) ON CONFLICT (record_type, record_id) DO NOTHING",
                                    {type, id, item["quiet_since"].get<std::string>()});
    if (fresh.affected() > 0) {
      s_.events.publish(type + ".stale", item.dump(), "stale-" + id + "-" + item["quiet_since"].get<std::string>(), &txn);
      ++announced;
    }
    txn.commit();
  }
  return announced;
}

void Pipeline::due(const annex::Request& req, annex::Response& resp) {
  std::optional<std::string> before = req.query_param("before");
  if (!before) before = rest::format_date(rest::add_days(rest::today(), 8));
  if (!rest::parse_date(*before)) invalid("before", "before must be a date, YYYY-MM-DD");
  Where where;
  where.add(s_.authz.list_filter(req.principal_id(), "pipeline.activity.read", kActivity));
  where.add("status = 'planned'").add("activity_on < ?", {*before});
  where.equal_if(req, "owner_id", "owner_id").equal_if(req, "purpose", "purpose");
  resp.body(page(s_.db, req, std::string("SELECT ") + kActivityColumns + " FROM pipeline_activities", std::move(where),
                 {{"activity_on", 4}}, "activity_on", &write_activity));
}

// Count, total and weighted amount (amount × probability) of the opportunities expected to close in [from, to],
// won or open, per group and per currency: amounts in different currencies are never added up.
json Pipeline::opportunity_for(const std::string& id, const std::string& user_id) const {
  std::optional<json> opp = load(s_.db, "pipeline_opportunities", kOpportunityColumns, &read_opportunity, id);
  if (!opp || (!user_id.empty() && !s_.authz.may(user_id, "pipeline.opportunity.read", rest::object_ref(kOpportunity, *opp)))) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no opportunity " + id, "opportunity_id");
  }
  return {{"id", (*opp)["id"]}, {"sector_id", (*opp)["sector_id"]}, {"owner_id", (*opp)["owner_id"]},
          {"party_id", (*opp)["party_id"]}, {"status", (*opp)["status"]}, {"stage", (*opp)["stage"]},
          {"currency", (*opp)["amount"]["currency"]}, {"amount", (*opp)["amount"]["amount"]},
          {"probability", (*opp)["probability"]}, {"expected_close", (*opp)["expected_close"]}};
}

json Pipeline::open_weighted(const json& query) const {
  bool by_owner = query.contains("owner_id");
  if (by_owner == query.contains("sector_id")) rest::unprocessable("owner_id", "give either owner_id or sector_id");
  std::string who = rest::req_string(query, by_owner ? "owner_id" : "sector_id", 64);
  std::string currency = rest::req_string(query, "currency", 3);
  std::string from = rest::date_field(query, "from", true), to = rest::date_field(query, "to", true);
  // Summed per probability in parts that cannot overflow (rest::split_sum_sql), weighed in 128 bits.
  annex::Rows open = s_.db.query(std::string("SELECT probability, COUNT(*), ") + rest::split_sum_sql("amount") +
                                     " FROM pipeline_opportunities WHERE " + (by_owner ? "owner_id = ?" : "sector_id = ?") +
                                     " AND status = 'open' AND currency = ? AND expected_close >= ? AND expected_close <= ?"
                                     " GROUP BY probability",
                                 {who, currency, from, to});
  rest::wide_int weighted_percent = 0;
  int64_t count = 0;
  while (open.next()) {
    weighted_percent += rest::wide_sum(open.row().integer(2), open.row().integer(3)) * open.row().integer(0);
    count += open.row().integer(1);
  }
  int64_t weighted = rest::narrow(rest::div_round(weighted_percent, 100), "from", "the weighted open pipeline of " + who);
  return {{"weighted", weighted}, {"count", count}};
}

void Pipeline::forecast(const annex::Request& req, annex::Response& resp) {
  std::optional<std::string> from = req.query_param("from"), to = req.query_param("to");
  if (!from || !rest::parse_date(*from)) invalid("from", "from is required, a date YYYY-MM-DD");
  if (!to || !rest::parse_date(*to)) invalid("to", "to is required, a date YYYY-MM-DD");
  if (*to < *from) invalid("to", "to is before from");
  std::string group_by = req.query_param("group_by").value_or("category");
  static const std::map<std::string, std::string> columns = {
      {"owner", "owner_id"}, {"sector", "sector_id"}, {"stage", "stage"}, {"category", "forecast_category"}};
  auto column = columns.find(group_by);
  if (column == columns.end()) invalid("group_by", "group_by is owner, sector, stage or category");
  Where where;
  where.add(s_.authz.list_filter(req.principal_id(), "pipeline.opportunity.read", kOpportunity));
  where.add("status IN ('open', 'won')").add("expected_close >= ?", {*from}).add("expected_close <= ?", {*to});
  where.equal_if(req, "sector_id", "sector_id").equal_if(req, "owner_id", "owner_id");
  // Summed per probability, in parts that cannot overflow (rest::split_sum_sql): Σ amount × probability is
  // then Σ over the probabilities of probability × Σ amount, in 128 bits.
  std::string sql = "SELECT " + column->second + ", currency, probability, COUNT(*), " + rest::split_sum_sql("amount") +
                    " FROM pipeline_opportunities" + where.sql() + " GROUP BY " + column->second + ", currency, probability ORDER BY 1, 2";
  std::vector<annex::Value> values = where.values();
  annex::Rows rows = s_.db.query(nullptr, sql, values);
  struct Group {
    std::string group, currency;
    int64_t count = 0;
    rest::wide_int total = 0, weighted_percent = 0;
  };
  std::vector<Group> sums;
  while (rows.next()) {
    const annex::Row r = rows.row();
    if (sums.empty() || sums.back().group != r.text(0) || sums.back().currency != r.text(1)) sums.push_back({r.text(0), r.text(1)});
    rest::wide_int amount = rest::wide_sum(r.integer(4), r.integer(5));
    sums.back().count += r.integer(3);
    sums.back().total += amount;
    sums.back().weighted_percent += amount * r.integer(2);
  }
  json groups = json::array();
  for (const Group& g : sums) {
    // Σ amount × probability, divided by 100 once, for the sum: rounding each row would drift.
    int64_t total = rest::narrow(g.total, "to", "the total of " + g.group + " in " + g.currency);
    int64_t weighted = rest::narrow(rest::div_round(g.weighted_percent, 100), "to", "the weighted total of " + g.group + " in " + g.currency);
    groups.push_back({{"group", g.group}, {"currency", g.currency}, {"count", g.count},
                      {"total", rest::money_json(total, g.currency)}, {"weighted", rest::money_json(weighted, g.currency)}});
  }
  resp.body(json({{"from", *from}, {"to", *to}, {"group_by", group_by}, {"groups", groups}}).dump());
}

// ---- leavers (C8) ----------------------------------------------------------------------------------------

// Moves every lead, opportunity and activity (open and closed) of `from_user` that the caller may reassign to
// `to_user`, who must be active and belong to each record's sector; each move is audited. Records in sectors
// `to_user` does not belong to stay, and are counted as skipped.
void Pipeline::reassign(const annex::Request& req, annex::Response& resp) {
  json body = rest::parse_body(req);
  std::string from = rest::req_string(body, "from_user", 64), to = rest::req_string(body, "to_user", 64);
  std::string caller(req.principal_id());
  if (from == to) unprocessable("to_user", "from_user and to_user are the same user");
  if (!s_.directory.user(from)) unprocessable("from_user", "no user " + from);
  std::optional<std::string> target_text = s_.directory.user(to);
  if (!target_text) unprocessable("to_user", "no user " + to);
  json target = json::parse(*target_text);
  if (target.value("status", "") != "active") unprocessable("to_user", "user " + to + " is " + target.value("status", "") + ", not active");
  std::set<std::string> sectors;
  for (const auto& s : target["sectors"]) sectors.insert(s.get<std::string>());
  struct Kind {
    const char* type;
    const char* table;
    const char* key;
  };
  const Kind kinds[] = {{kLead, "pipeline_leads", "leads"},
                        {kOpportunity, "pipeline_opportunities", "opportunities"},
                        {kActivity, "pipeline_activities", "activities"}};
  json moved = json::object(), skipped = json::object();
  annex::Transaction txn = s_.db.begin();
  std::string now = rest::utc_now();
  for (const auto& k : kinds) {
    std::string filter = s_.authz.list_filter(caller, "pipeline.records.reassign", k.type);
    annex::Rows rows = s_.db.query(txn, std::string("SELECT id, sector_id FROM ") + k.table + " WHERE owner_id = ? AND " + filter + " ORDER BY id", {from});
    std::vector<std::pair<std::string, std::string>> found;
    while (rows.next()) found.emplace_back(rows.row().text(0), rows.row().text(1));
    int64_t n = 0, left = 0;
    for (const auto& [id, sector] : found) {
      if (!sectors.count(sector)) {
        ++left;
        continue;
      }
      s_.db.query(txn, std::string("UPDATE ") + k.table + " SET owner_id = ?, updated_at = ?, version = version + 1 WHERE id = ?", {to, now, id});
      s_.audit.append(&txn, caller, std::string(k.type) + ".reassign", k.type, id, json({{"owner_id", from}}).dump(), json({{"owner_id", to}}).dump());
      ++n;
    }
    moved[k.key] = n;
    skipped[k.key] = left;
  }
  txn.commit();
  resp.body(json({{"from_user", from}, {"to_user", to}, {"moved", moved}, {"skipped", skipped}}).dump());
}

// Records of disabled users not yet reassigned, within the caller's reach.
void Pipeline::orphans(const annex::Request& req, annex::Response& resp) {
  json disabled = json::parse(s_.directory.users(R"({"status": "disabled"})"))["items"];
  json out = {{"leads", json::array()}, {"opportunities", json::array()}, {"activities", json::array()}};
  if (!disabled.empty()) {
    Where owners;
    std::string marks;
    std::vector<Where::Param> ids;
    for (const auto& u : disabled) {
      marks += marks.empty() ? "?" : ", ?";
      ids.push_back(u["id"].get<std::string>());
    }
    auto fetch = [&](const char* type, const char* table, const char* columns, json (*read)(const annex::Row&), const char* permission,
                     const char* key) {
      Where where;
      where.add("owner_id IN (" + marks + ")", ids);
      where.add(s_.authz.list_filter(req.principal_id(), permission, type));
      std::vector<annex::Value> values = where.values();
      annex::Rows rows = s_.db.query(nullptr, std::string("SELECT ") + columns + " FROM " + table + where.sql() + " ORDER BY id LIMIT 1000", values);
      while (rows.next()) out[key].push_back(read(rows.row()));
    };
    fetch(kLead, "pipeline_leads", kLeadColumns, &read_lead, "pipeline.lead.read", "leads");
    fetch(kOpportunity, "pipeline_opportunities", kOpportunityColumns, &read_opportunity, "pipeline.opportunity.read", "opportunities");
    fetch(kActivity, "pipeline_activities", kActivityColumns, &read_activity, "pipeline.activity.read", "activities");
  }
  resp.body(out.dump());
}

}  // namespace pipeline

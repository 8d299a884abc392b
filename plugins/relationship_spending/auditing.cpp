#include "auditing.h"

#include "../common/rest.h"

#include <annex/business.hpp>

#include <algorithm>
#include <map>

namespace relationship_spending {

using nlohmann::json;
namespace biz = annex::biz;
namespace rest = annex::rest;

int64_t median(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

void Audits::period(const annex::Request& req, annex::Response& resp) const {
  std::string period(req.path_param("period"));
  if (!month_of(period)) rest::invalid("period", "period must be a month, YYYY-MM");
  std::string reach = s_.authz.list_filter(req.principal_id(), kAuditRead, kStatement, "sector_id", "rep_id", "id");
  json items = json::array();
  std::map<std::string, int64_t> by_status;
  for (const Statement& st : statements_.repository().list(reach + " AND period = ?", {std::string_view(period)}, 5000)) {
    json item = st.to_json();
    item.erase("content");
    item["signatures"] = statements_.signatures(st);
    if (std::optional<SpotCheck> c = checks_.find(st.id)) {
      json outcomes = {{"pending", 0}, {"confirmed", 0}, {"disputed", 0}};
      for (const SpotCheckItem& i : c->items) outcomes[i.outcome] = outcomes[i.outcome].get<int64_t>() + 1;
      item["spot_check"] = {{"drawn_at", c->drawn_at}, {"outcomes", outcomes}};
    } else {
      item["spot_check"] = nullptr;
    }
    annex::Rows kinds = s_.db.query(nullptr,
                                    "SELECT kind, COUNT(*) FROM relationship_exceptions WHERE subject_id = ? GROUP BY kind ORDER BY kind",
                                    std::vector<annex::Value>{st.id});
    json exceptions = json::object();
    while (kinds.next()) exceptions[std::string(kinds.row().text(0))] = kinds.row().integer(1);
    item["exceptions"] = exceptions;
    ++by_status[st.status];
    items.push_back(std::move(item));
  }
  json summary = json::object();
  for (const auto& [status, count] : by_status) summary[status] = count;
  resp.body(json{{"period", period}, {"statements", items}, {"by_status", summary}}.dump());
}

void Audits::patterns(const annex::Request& req, annex::Response& resp) const {
  const std::string today = biz::format_date(s_.calendar.today());
  std::string from = req.query_param("from").value_or(biz::format_date(s_.calendar.today() - std::chrono::days{89}));
  std::string to = req.query_param("to").value_or(today);
  biz::date_field(from, "from");
  biz::date_field(to, "to");
  if (to < from) rest::unprocessable("to", "to " + to + " is before from " + from);
  const std::string user(req.principal_id());
  const std::string reach = s_.authz.list_filter(user, kAuditRead, kStatement, "sector_id", "rep_id", "id");
  const std::string currency = settings_.currency;
  auto money = [&](int64_t v) { return json{{"amount", v}, {"currency", currency}}; };

  // The amounts a rep chooses: special-expense applications and draws of fees as advances.
  struct Chosen {
    std::string kind, id, rep_id, sector_id, party_id, on;
    int64_t amount;
  };
  std::vector<Chosen> chosen;
  annex::Rows applications = s_.db.query(nullptr,
                                         "SELECT id, rep_id, sector_id, party_id, filed_on, amount FROM relationship_special_expenses"
                                         " WHERE " + reach + " AND currency = ? AND filed_on >= ? AND filed_on <= ? ORDER BY filed_on, id",
                                         std::vector<annex::Value>{currency, from, to});
  while (applications.next()) {
    const annex::Row r = applications.row();
    chosen.push_back({"special_expense", r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.integer(5)});
  }
  annex::Rows payouts = s_.db.query(nullptr,
                                    "SELECT p.id, p.rep_id, s.sector_id, p.drawn_at, p.amount FROM relationship_payouts p"
                                    " JOIN relationship_statements s ON s.id = p.statement_id WHERE p.statement_id IN"
                                    " (SELECT id FROM relationship_statements WHERE " + reach + ") AND p.drawn_at >= ? AND p.drawn_at < ?"
                                    " ORDER BY p.drawn_at, p.id",
                                    std::vector<annex::Value>{from, biz::format_date(*biz::parse_date(to) + std::chrono::days{1})});
  while (payouts.next()) {
    const annex::Row r = payouts.row();
    chosen.push_back({"payout", r.text(0), r.text(1), r.text(2), "", r.text(3).substr(0, 10), r.integer(4)});
  }
  auto record = [&](const Chosen& c) {
    json out = {{"kind", c.kind}, {"id", c.id}, {"rep_id", c.rep_id}, {"sector_id", c.sector_id}, {"on", c.on}, {"amount", money(c.amount)}};
    if (!c.party_id.empty()) out["party_id"] = c.party_id;
    return out;
  };

  // Threshold hugging: within the margin below a threshold, which is where someone who knows it stops.
  std::vector<std::pair<std::string, int64_t>> thresholds = {{"cap", settings_.cap}};
  if (settings_.customer_spend_limit > 0) thresholds.emplace_back("customer_spend_limit", settings_.customer_spend_limit);
  for (int64_t t : settings_.watch_thresholds) thresholds.emplace_back("watch_threshold", t);
  json hugging = json::array(), round = json::array();
  for (const Chosen& c : chosen) {
    for (const auto& [name, t] : thresholds) {
      int64_t margin = static_cast<int64_t>(static_cast<biz::wide>(t) * settings_.threshold_margin_bp / 10000);
      if (c.amount < t && c.amount >= t - margin) {
        json r = record(c);
        r["threshold"] = {{"name", name}, {"amount", money(t)}, {"below_by", money(t - c.amount)}};
        hugging.push_back(r);
      }
    }
    if (c.amount > 0 && c.amount % settings_.round_unit == 0) round.push_back(record(c));
  }

  // Reps whose spend-to-collected ratio passes their sector's median by more than k median absolute deviations.
  struct RepFigures {
    std::string sector_id;
    int64_t spend = 0, collected = 0;
  };
  std::map<std::string, RepFigures> reps;
  annex::Rows spend = s_.db.query(nullptr,
                                  "SELECT rep_id, sector_id, SUM(amount) FROM relationship_spend WHERE " + reach +
                                      " AND spent_on >= ? AND spent_on <= ? GROUP BY rep_id, sector_id",
                                  std::vector<annex::Value>{from, to});
  while (spend.next()) {
    const annex::Row r = spend.row();
    RepFigures& f = reps[r.text(0)];
    f.sector_id = r.text(1);
    f.spend += r.integer(2);
  }
  annex::Rows collected = s_.db.query(
      "SELECT f.rep_id, SUM(c.collected_converted) FROM relationship_contracts c JOIN"
      " (SELECT DISTINCT rep_id, contract_id FROM relationship_fees) f ON f.contract_id = c.contract_id"
      " WHERE c.collected_converted IS NOT NULL GROUP BY f.rep_id");
  while (collected.next()) {
    const annex::Row r = collected.row();
    if (auto it = reps.find(r.text(0)); it != reps.end()) it->second.collected = r.integer(1);
  }
  std::map<std::string, std::vector<int64_t>> sector_ratios;
  for (const auto& [rep, f] : reps) {
    if (f.collected > 0) sector_ratios[f.sector_id].push_back(*ratio_bp(f.spend, f.collected));
  }
  json outliers = json::array();
  for (const auto& [rep, f] : reps) {
    if (f.spend <= 0) continue;
    std::optional<int64_t> ratio = ratio_bp(f.spend, f.collected);
    const std::vector<int64_t>& ratios = sector_ratios[f.sector_id];
    int64_t med = ratios.empty() ? 0 : median(ratios);
    std::vector<int64_t> deviations;
    for (int64_t r : ratios) deviations.push_back(r > med ? r - med : med - r);
    int64_t mad = deviations.empty() ? 0 : median(deviations);
    // Spend with nothing collected stands out whatever the sector does; otherwise only against a spread.
    bool stands_out = !ratio || (mad > 0 && *ratio > med + settings_.mad_multiple * mad);
    if (!stands_out) continue;
    json records = json::array();
    annex::Rows rows = s_.db.query(nullptr,
                                   "SELECT party_id, kind, source_id, spent_on, amount FROM relationship_spend WHERE rep_id = ?"
                                   " AND spent_on >= ? AND spent_on <= ? ORDER BY amount DESC LIMIT 20",
                                   std::vector<annex::Value>{rep, from, to});
    while (rows.next()) {
      const annex::Row r = rows.row();
      records.push_back({{"party_id", r.text(0)}, {"kind", r.text(1)}, {"source_id", r.text(2)}, {"spent_on", r.text(3)}, {"amount", money(r.integer(4))}});
    }
    outliers.push_back({{"rep_id", rep},
                        {"sector_id", f.sector_id},
                        {"spend", money(f.spend)},
                        {"collected", money(f.collected)},
                        {"ratio_bp", ratio ? json(*ratio) : json(nullptr)},
                        {"sector_median_bp", med},
                        {"sector_mad_bp", mad},
                        {"records", records}});
  }

  // Spending on customers who have not paid for what they bought: some contract of theirs not fully collected.
  json unpaid = json::array();
  annex::Rows customers = s_.db.query(
      nullptr,
      "SELECT party_id, SUM(amount) FROM relationship_spend WHERE " + reach +
          " AND spent_on >= ? AND spent_on <= ? AND party_id IN"
          " (SELECT party_id FROM relationship_contracts WHERE collected < total) GROUP BY party_id HAVING SUM(amount) > 0 ORDER BY party_id",
      std::vector<annex::Value>{from, to});
  while (customers.next()) {
    const annex::Row c = customers.row();
    json records = json::array();
    annex::Rows rows = s_.db.query(nullptr,
                                   "SELECT rep_id, kind, source_id, spent_on, amount FROM relationship_spend WHERE party_id = ?"
                                   " AND spent_on >= ? AND spent_on <= ? ORDER BY spent_on, id LIMIT 50",
                                   std::vector<annex::Value>{c.text(0), from, to});
    while (rows.next()) {
      const annex::Row r = rows.row();
      records.push_back({{"rep_id", r.text(0)}, {"kind", r.text(1)}, {"source_id", r.text(2)}, {"spent_on", r.text(3)}, {"amount", money(r.integer(4))}});
    }
    json open = json::array();
    annex::Rows contracts = s_.db.query(nullptr,
                                        "SELECT contract_id, currency, total, collected FROM relationship_contracts WHERE party_id = ?"
                                        " AND collected < total ORDER BY contract_id",
                                        std::vector<annex::Value>{c.text(0)});
    while (contracts.next()) {
      const annex::Row k = contracts.row();
      open.push_back({{"contract_id", k.text(0)},
                      {"total", {{"amount", k.integer(2)}, {"currency", k.text(1)}}},
                      {"collected", {{"amount", k.integer(3)}, {"currency", k.text(1)}}}});
    }
    unpaid.push_back({{"party_id", c.text(0)}, {"spend", money(c.integer(1))}, {"unpaid_contracts", open}, {"records", records}});
  }

  json settings = {{"threshold_margin_bp", settings_.threshold_margin_bp}, {"round_unit", money(settings_.round_unit)},
                   {"mad_multiple", settings_.mad_multiple}};
  resp.body(json{{"from", from},
                 {"to", to},
                 {"settings", settings},
                 {"threshold_hugging", hugging},
                 {"round_amounts", round},
                 {"rep_outliers", outliers},
                 {"unpaid_customers", unpaid}}
                .dump());
}

// ---- evidence packs --------------------------------------------------------------------------------------------

void Audits::add_statement(const Statement& st, const std::string& prefix, std::vector<annex::Audit::Document>& documents,
                           std::vector<annex::Audit::Object>& objects) const {
  objects.push_back({kStatement, st.id});
  json statement = st.to_json();
  statement["signatures"] = statements_.signatures(st);
  documents.push_back({prefix + "statement.json", statement.dump(2)});
  // The frozen content alone, as its hash was taken: SHA-256 of this file's bytes is content_hash.
  if (st.content_hash) documents.push_back({prefix + "content.json", st.content.dump()});
  if (st.approval_id) {
    objects.push_back({"annex.approval", *st.approval_id});
    documents.push_back({prefix + "approval.json", json::parse(s_.approvals.get(*st.approval_id)).dump(2)});
  }
  json contracts = json::array(), collections = json::array();
  for (const json& customer : st.content["customers"]) {
    for (const json& k : customer["contracts"]) {
      std::string id = k["contract_id"];
      objects.push_back({"contracts.contract", id});
      contracts.push_back(contracts_.get(id));
      json after = nullptr;
      do {
        json query = {{"contract_id", id}, {"limit", 1000}};
        if (!after.is_null()) query["after"] = after;
        json page = contracts_.collections(query);
        for (const json& c : page["items"]) {
          objects.push_back({"contracts.collection", c["id"].get<std::string>()});
          collections.push_back(c);
        }
        after = page["next"];
      } while (!after.is_null());
    }
  }
  documents.push_back({prefix + "contracts.json", contracts.dump(2)});
  documents.push_back({prefix + "collections.json", collections.dump(2)});
  json payouts = json::array();
  for (const Payout& p : statements_.repository().payouts(st.id)) {
    payouts.push_back({{"id", p.id}, {"amount", {{"amount", p.amount}, {"currency", st.currency}}}, {"advance_id", p.advance_id},
                       {"drawn_by", p.drawn_by}, {"drawn_at", p.drawn_at}});
  }
  documents.push_back({prefix + "payouts.json", payouts.dump(2)});
  if (std::optional<SpotCheck> c = checks_.find(st.id)) {
    objects.push_back({kSpotCheck, st.id});
    documents.push_back({prefix + "spot-check.json", c->to_json().dump(2)});
  }
  json exceptions = json::array();
  annex::Rows rows = s_.db.query(nullptr, "SELECT id, kind, detail, at FROM relationship_exceptions WHERE subject_id = ? ORDER BY at, id",
                                 std::vector<annex::Value>{st.id});
  while (rows.next()) {
    const annex::Row r = rows.row();
    objects.push_back({kException, r.text(0)});
    exceptions.push_back({{"id", r.text(0)}, {"kind", r.text(1)}, {"detail", json::parse(r.text(2), nullptr, false)}, {"at", r.text(3)}});
  }
  documents.push_back({prefix + "exceptions.json", exceptions.dump(2)});
}

void Audits::send_pack(annex::Response& resp, const std::string& principal, const std::string& title, const std::string& filename,
                       const std::vector<annex::Audit::Object>& objects, const std::vector<annex::Audit::Document>& documents) const {
  std::string zip = s_.audit.evidence_pack(principal, title, objects, documents);
  resp.header("Content-Type", "application/zip");
  resp.header("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  resp.body(zip);
}

void Audits::statement_evidence(const annex::Request& req, annex::Response& resp) const {
  std::string id(req.path_param("id"));
  std::optional<Statement> st = statements_.repository().find(id);
  if (!st || !s_.authz.may(req.principal_id(), kAuditRead, {kStatement, st->id, st->sector_id, st->rep_id})) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no statement " + id);
  }
  std::vector<annex::Audit::Document> documents;
  std::vector<annex::Audit::Object> objects;
  add_statement(*st, "", documents, objects);
  send_pack(resp, std::string(req.principal_id()), "Relationship-fee statement " + st->period + " of " + st->rep_id, "evidence-" + st->id + ".zip",
            objects, documents);
}

void Audits::period_evidence(const annex::Request& req, annex::Response& resp) const {
  std::string period(req.path_param("period"));
  if (!month_of(period)) rest::invalid("period", "period must be a month, YYYY-MM");
  std::string reach = s_.authz.list_filter(req.principal_id(), kAuditRead, kStatement, "sector_id", "rep_id", "id");
  std::vector<annex::Audit::Document> documents;
  std::vector<annex::Audit::Object> objects;
  json index = json::array();
  for (const Statement& st : statements_.repository().list(reach + " AND period = ?", {std::string_view(period)}, 5000)) {
    add_statement(st, st.id + ".", documents, objects);
    index.push_back({{"id", st.id}, {"rep_id", st.rep_id}, {"sector_id", st.sector_id}, {"status", st.status}});
  }
  if (index.empty()) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no statement of " + period + " within reach", "period");
  documents.push_back({"statements.json", index.dump(2)});
  send_pack(resp, std::string(req.principal_id()), "Relationship-fee statements " + period, "evidence-" + period + ".zip", objects, documents);
}

}  // namespace relationship_spending

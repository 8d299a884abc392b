#include "spot_checks.h"

#include "statements.h"

#include "../common/rest.h"

#include <algorithm>

namespace relationship_spending {

using nlohmann::json;
namespace rest = annex::rest;

// ---- the repository ---------------------------------------------------------------------------------------------

std::optional<SpotCheck> SpotCheckRepository::find(const std::string& statement_id, annex::Transaction* txn) const {
  annex::Value params[] = {std::string_view(statement_id)};
  annex::Rows rows = db_.query(txn,
                               "SELECT statement_id, rep_id, sector_id, period, algorithm, seed, content_hash, sample_size, drawn_by,"
                               " drawn_at FROM relationship_spot_checks WHERE statement_id = ?",
                               params);
  if (!rows.next()) return std::nullopt;
  const annex::Row r = rows.row();
  SpotCheck c{r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6), r.integer(7), r.text(8), r.text(9), {}};
  annex::Rows items = db_.query(txn,
                                "SELECT party_id, rank, sort_key, outcome, note, decided_by, decided_at FROM relationship_spot_check_items"
                                " WHERE statement_id = ? ORDER BY rank",
                                params);
  while (items.next()) {
    const annex::Row i = items.row();
    c.items.push_back({i.text(0), i.integer(1), i.text(2), i.text(3), i.optional_text(4), i.optional_text(5), i.optional_text(6)});
  }
  return c;
}

bool SpotCheckRepository::insert(annex::Transaction& txn, const SpotCheck& c) {
  annex::Rows rows = db_.query(txn,
                               "INSERT INTO relationship_spot_checks (statement_id, rep_id, sector_id, period, algorithm, seed, content_hash,"
                               " sample_size, drawn_by, drawn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (statement_id) DO NOTHING",
                               {c.statement_id, c.rep_id, c.sector_id, c.period, c.algorithm, c.seed, c.content_hash, c.sample_size,
                                c.drawn_by, c.drawn_at});
  if (rows.affected() != 1) return false;
  for (const SpotCheckItem& i : c.items) {
    db_.query(txn,
              "INSERT INTO relationship_spot_check_items (statement_id, party_id, rank, sort_key, outcome) VALUES (?, ?, ?, ?, ?)",
              {c.statement_id, i.party_id, i.rank, i.sort_key, i.outcome});
  }
  return true;
}

bool SpotCheckRepository::decide(annex::Transaction& txn, const std::string& statement_id, const SpotCheckItem& i) {
  annex::Rows rows = db_.query(txn,
                               "UPDATE relationship_spot_check_items SET outcome = ?, note = ?, decided_by = ?, decided_at = ?"
                               " WHERE statement_id = ? AND party_id = ? AND outcome = 'pending'",
                               {i.outcome, i.note, i.decided_by, i.decided_at, statement_id, i.party_id});
  return rows.affected() == 1;
}

// ---- the rules ---------------------------------------------------------------------------------------------------

std::pair<SpotCheck, bool> SpotChecks::draw(const Statement& st, const std::string& actor) {
  if (std::optional<SpotCheck> existing = checks_.find(st.id)) return {*existing, false};
  if (!st.valid() || !st.content_hash) rest::unprocessable("status", "a spot check follows the payout of a signed statement; this one is " + st.status);
  if (statements_.payouts(st.id).empty()) rest::unprocessable("status", "a spot check follows the payout; nothing was drawn on statement " + st.id + " yet");
  SpotCheck c;
  c.statement_id = st.id;
  c.rep_id = st.rep_id;
  c.sector_id = st.sector_id;
  c.period = st.period;
  c.seed = random_seed();
  c.content_hash = *st.content_hash;
  c.sample_size = settings_.sample_size;
  c.drawn_by = actor.empty() ? "system" : actor;
  c.drawn_at = rest::utc_now();
  std::vector<std::string> parties;
  for (const json& customer : st.content["customers"]) parties.push_back(customer["party_id"]);
  c.items = draw_sample(c.seed, c.content_hash, parties, static_cast<size_t>(c.sample_size));
  bool created = false;
  {
    annex::Transaction txn = s_.db.begin();
    created = checks_.insert(txn, c);
    if (created) {
      // The seed is in the audit log before anyone sees the sample.
      s_.audit.append(&txn, actor, "relationship.spot_check.draw", kSpotCheck, st.id, "", c.to_json().dump());
      txn.commit();
    }
  }
  if (!created) return {*checks_.find(st.id), false};  // drawn meanwhile
  return {c, true};
}

Statement SpotChecks::statement_in_reach(const annex::Request& req) const {
  std::string id(req.path_param("id"));
  std::optional<Statement> st = statements_.find(id);
  if (!st || !s_.authz.may(req.principal_id(), kStatementRead, {kStatement, st->id, st->sector_id, st->rep_id})) {
    throw annex::Error(ANNEX_ERR_NOT_FOUND, "no statement " + id);
  }
  return *st;
}

void SpotChecks::get(const annex::Request& req, annex::Response& resp) {
  Statement st = statement_in_reach(req);
  std::optional<SpotCheck> c = checks_.find(st.id);
  if (!c) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no spot check is drawn for statement " + st.id + " yet");
  resp.body(c->to_json().dump());
}

void SpotChecks::create(const annex::Request& req, annex::Response& resp) {
  Statement st = statement_in_reach(req);
  std::string caller(req.principal_id());
  if (caller == st.rep_id || !s_.authz.may(caller, kSpotCheckDecide, {kStatement, st.id, st.sector_id, st.rep_id})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "the sector's sales manager or finance draws a spot check, not the rep");
  }
  auto [check, created] = draw(st, caller);
  resp.status(created ? 201 : 200).body(check.to_json().dump());
}

void SpotChecks::decide(const annex::Request& req, annex::Response& resp) {
  Statement st = statement_in_reach(req);
  std::string caller(req.principal_id());
  if (caller == st.rep_id || !s_.authz.may(caller, kSpotCheckDecide, {kStatement, st.id, st.sector_id, st.rep_id})) {
    throw annex::Error(ANNEX_ERR_PERMISSION_DENIED, "the sector's sales manager confirms or disputes a spot check, not the rep");
  }
  std::optional<SpotCheck> c = checks_.find(st.id);
  if (!c) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no spot check is drawn for statement " + st.id + " yet");
  std::string party(req.path_param("party_id"));
  auto it = std::find_if(c->items.begin(), c->items.end(), [&](const SpotCheckItem& i) { return i.party_id == party; });
  if (it == c->items.end()) throw annex::Error(ANNEX_ERR_NOT_FOUND, "customer " + party + " is not in the sample", "party_id");
  json body = rest::parse_body(req);
  SpotCheckItem item = *it;
  item.outcome = rest::one_of(rest::req_string(body, "outcome", 16), "outcome", {"confirmed", "disputed"});
  item.note = rest::req_string(body, "note", 2000);
  item.decided_by = caller;
  item.decided_at = rest::utc_now();
  annex::Transaction txn = s_.db.begin();
  if (!checks_.decide(txn, st.id, item)) {
    throw annex::Error(ANNEX_ERR_CONFLICT, "customer " + party + " was " + it->outcome + " already", "party_id");
  }
  json before = {{"party_id", it->party_id}, {"outcome", it->outcome}};
  json after = {{"party_id", item.party_id}, {"outcome", item.outcome}, {"note", *item.note}, {"decided_by", caller}, {"at", *item.decided_at}};
  s_.audit.append(&txn, caller, "relationship.spot_check." + std::string(item.outcome == "confirmed" ? "confirm" : "dispute"), kSpotCheck,
                  st.id, before.dump(), after.dump());
  txn.commit();
  if (item.outcome == "disputed" && on_dispute) on_dispute(*c, item);
  *it = item;
  resp.body(c->to_json().dump());
}

}  // namespace relationship_spending

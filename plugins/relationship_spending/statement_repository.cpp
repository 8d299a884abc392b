#include "statement_repository.h"

namespace relationship_spending {

using nlohmann::json;

namespace {

constexpr const char* kColumns =
    "id, rep_id, sector_id, period, currency, status, submit_due, sign_due, payout_from, submitted_at, submitted_late,"
    " approval_id, signed_at, signed_late, fee_payable, recovered, net_payable, recovery_due, drawn, content, content_hash,"
    " created_at, updated_at, version, special_payable";

Statement read(const annex::Row& r) {
  Statement s;
  s.id = r.text(0);
  s.rep_id = r.text(1);
  s.sector_id = r.text(2);
  s.period = r.text(3);
  s.currency = r.text(4);
  s.status = r.text(5);
  s.submit_due = r.text(6);
  s.sign_due = r.text(7);
  s.payout_from = r.text(8);
  s.submitted_at = r.optional_text(9);
  s.submitted_late = r.integer(10) != 0;
  s.approval_id = r.optional_text(11);
  s.signed_at = r.optional_text(12);
  s.signed_late = r.integer(13) != 0;
  s.fee_payable = r.integer(14);
  s.recovered = r.integer(15);
  s.net_payable = r.integer(16);
  s.recovery_due = r.integer(17);
  s.drawn = r.integer(18);
  s.content = json::parse(r.text(19), nullptr, false);
  s.content_hash = r.optional_text(20);
  s.created_at = r.text(21);
  s.updated_at = r.text(22);
  s.version = r.integer(23);
  s.special_payable = r.integer(24);
  return s;
}

std::optional<Statement> one(const annex::Db& db, annex::Transaction* txn, const std::string& where, std::vector<annex::Value> params) {
  annex::Rows rows = db.query(txn, std::string("SELECT ") + kColumns + " FROM relationship_statements WHERE " + where, params);
  if (!rows.next()) return std::nullopt;
  return read(rows.row());
}

}  // namespace

std::optional<Statement> StatementRepository::find(const std::string& id, annex::Transaction* txn) const {
  return one(db_, txn, "id = ?", {id});
}

std::optional<Statement> StatementRepository::of_rep(const std::string& rep_id, const std::string& period, annex::Transaction* txn) const {
  return one(db_, txn, "rep_id = ? AND period = ?", {rep_id, period});
}

std::optional<Statement> StatementRepository::by_approval(const std::string& approval_id, annex::Transaction* txn) const {
  return one(db_, txn, "approval_id = ?", {approval_id});
}

std::optional<Statement> StatementRepository::previous(const std::string& rep_id, const std::string& period, annex::Transaction* txn) const {
  return one(db_, txn, "rep_id = ? AND period < ? AND status <> 'rejected' ORDER BY period DESC LIMIT 1", {rep_id, period});
}

std::vector<std::string> StatementRepository::reps_owing_recovery(const std::string& before_period) const {
  std::vector<std::string> out;
  annex::Rows rows = db_.query(nullptr,
                               "SELECT s.rep_id FROM relationship_statements s WHERE s.recovery_due > 0 AND s.status <> 'rejected'"
                               " AND s.period = (SELECT MAX(t.period) FROM relationship_statements t WHERE t.rep_id = s.rep_id"
                               " AND t.period < ? AND t.status <> 'rejected')",
                               std::vector<annex::Value>{before_period});
  while (rows.next()) out.push_back(rows.row().text(0));
  return out;
}

std::vector<Statement> StatementRepository::list(const std::string& where, const std::vector<annex::Value>& params, int64_t limit) const {
  std::vector<Statement> out;
  annex::Rows rows = db_.query(nullptr,
                               std::string("SELECT ") + kColumns + " FROM relationship_statements WHERE " + where +
                                   " ORDER BY period DESC, id LIMIT " + std::to_string(limit),
                               params);
  while (rows.next()) out.push_back(read(rows.row()));
  return out;
}

bool StatementRepository::insert(annex::Transaction& txn, const Statement& s) {
  annex::Rows rows = db_.query(
      txn,
      std::string("INSERT INTO relationship_statements (") + kColumns +
          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rep_id, period) DO NOTHING",
      {s.id, s.rep_id, s.sector_id, s.period, s.currency, s.status, s.submit_due, s.sign_due, s.payout_from, s.submitted_at,
       static_cast<int64_t>(s.submitted_late), s.approval_id, s.signed_at, static_cast<int64_t>(s.signed_late), s.fee_payable,
       s.recovered, s.net_payable, s.recovery_due, s.drawn, s.content.dump(), s.content_hash, s.created_at, s.updated_at,
       s.version, s.special_payable});
  return rows.affected() == 1;
}

void StatementRepository::update(annex::Transaction& txn, Statement& s, int64_t expected_version) {
  annex::Rows changed = db_.query(
      txn,
      "UPDATE relationship_statements SET status = ?, submitted_at = ?, submitted_late = ?, approval_id = ?, signed_at = ?,"
      " signed_late = ?, drawn = ?, content_hash = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?",
      {s.status, s.submitted_at, static_cast<int64_t>(s.submitted_late), s.approval_id, s.signed_at,
       static_cast<int64_t>(s.signed_late), s.drawn, s.content_hash, s.updated_at, expected_version + 1, s.id, expected_version});
  if (changed.affected() != 1) throw annex::Error(ANNEX_ERR_CONFLICT, "the statement changed meanwhile; read it again", "If-Match");
  s.version = expected_version + 1;
}

void StatementRepository::insert_payout(annex::Transaction& txn, const Payout& p) {
  db_.query(txn,
            "INSERT INTO relationship_payouts (id, statement_id, rep_id, amount, advance_id, drawn_by, drawn_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            {p.id, p.statement_id, p.rep_id, p.amount, p.advance_id, p.drawn_by, p.drawn_at});
}

void StatementRepository::set_payout_advance(annex::Transaction& txn, const std::string& payout_id, const std::string& advance_id) {
  db_.query(txn, "UPDATE relationship_payouts SET advance_id = ? WHERE id = ?", {advance_id, payout_id});
}

void StatementRepository::delete_payout(annex::Transaction& txn, const std::string& payout_id) {
  db_.query(txn, "DELETE FROM relationship_payouts WHERE id = ?", {payout_id});
}

std::vector<Payout> StatementRepository::payouts(const std::string& statement_id) const {
  return read_payouts("statement_id = ?", statement_id);
}

std::vector<Payout> StatementRepository::unfinished_payouts(const std::string& before) const {
  return read_payouts("(advance_id IS NULL OR advance_id = '') AND drawn_at < ?", before);
}

std::vector<Payout> StatementRepository::read_payouts(const std::string& where, const std::string& param) const {
  std::vector<Payout> out;
  annex::Rows rows = db_.query(nullptr,
                               "SELECT id, statement_id, rep_id, amount, advance_id, drawn_by, drawn_at FROM relationship_payouts WHERE " +
                                   where + " ORDER BY drawn_at, id",
                               std::vector<annex::Value>{param});
  while (rows.next()) {
    const annex::Row r = rows.row();
    out.push_back({r.text(0), r.text(1), r.text(2), r.integer(3), r.text(4), r.text(5), r.text(6)});
  }
  return out;
}

}  // namespace relationship_spending

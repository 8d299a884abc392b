#include "special_expense_repository.h"

namespace relationship_spending {

namespace {

constexpr const char* kColumns =
    "id, party_id, opportunity_id, amount, currency, purpose, justification, rep_id, sector_id, status, approval_id,"
    " approval_round, decided_by, decision_comment, decided_at, filed_on, filed_at, created_at, updated_at, version";

}  // namespace

const char* SpecialExpenseRepository::columns() { return kColumns; }

SpecialExpense SpecialExpenseRepository::read(const annex::Row& r) {
  SpecialExpense a;
  a.id = r.text(0);
  a.party_id = r.text(1);
  a.opportunity_id = r.optional_text(2);
  a.amount = r.integer(3);
  a.currency = r.text(4);
  a.purpose = r.text(5);
  a.justification = r.text(6);
  a.rep_id = r.text(7);
  a.sector_id = r.text(8);
  a.status = r.text(9);
  a.approval_id = r.optional_text(10);
  a.approval_round = r.integer(11);
  a.decided_by = r.optional_text(12);
  a.decision_comment = r.optional_text(13);
  a.decided_at = r.optional_text(14);
  a.filed_on = r.text(15);
  a.filed_at = r.text(16);
  a.created_at = r.text(17);
  a.updated_at = r.text(18);
  a.version = r.integer(19);
  return a;
}

std::optional<SpecialExpense> SpecialExpenseRepository::find(const std::string& id, annex::Transaction* txn) const {
  annex::Value params[] = {std::string_view(id)};
  annex::Rows rows = db_.query(txn, std::string("SELECT ") + kColumns + " FROM relationship_special_expenses WHERE id = ?", params);
  if (!rows.next()) return std::nullopt;
  return read(rows.row());
}

void SpecialExpenseRepository::insert(annex::Transaction& txn, const SpecialExpense& a) {
  db_.query(txn,
            std::string("INSERT INTO relationship_special_expenses (") + kColumns +
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {a.id, a.party_id, a.opportunity_id, a.amount, a.currency, a.purpose, a.justification, a.rep_id, a.sector_id, a.status,
             a.approval_id, a.approval_round, a.decided_by, a.decision_comment, a.decided_at, a.filed_on, a.filed_at, a.created_at,
             a.updated_at, a.version});
}

void SpecialExpenseRepository::update(annex::Transaction& txn, SpecialExpense& a, int64_t expected_version) {
  annex::Rows changed = db_.query(
      txn,
      "UPDATE relationship_special_expenses SET amount = ?, currency = ?, purpose = ?, justification = ?, status = ?, approval_id = ?,"
      " approval_round = ?, decided_by = ?, decision_comment = ?, decided_at = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?",
      {a.amount, a.currency, a.purpose, a.justification, a.status, a.approval_id, a.approval_round, a.decided_by, a.decision_comment,
       a.decided_at, a.updated_at, expected_version + 1, a.id, expected_version});
  if (changed.affected() != 1) {
    throw annex::Error(ANNEX_ERR_CONFLICT, "the application changed meanwhile; read it again", "If-Match");
  }
  a.version = expected_version + 1;
}

std::vector<SpecialExpense> SpecialExpenseRepository::approved_for_rep(const std::string& rep_id, annex::Transaction* txn) const {
  annex::Value params[] = {std::string_view(rep_id)};
  annex::Rows rows = db_.query(txn,
                               std::string("SELECT ") + kColumns +
                                   " FROM relationship_special_expenses WHERE rep_id = ? AND status = 'approved' ORDER BY filed_at, id",
                               params);
  std::vector<SpecialExpense> out;
  while (rows.next()) out.push_back(read(rows.row()));
  return out;
}

int64_t SpecialExpenseRepository::live_total(const std::string& party_id, const std::string& currency, const std::string& from) const {
  annex::Rows rows = db_.query(nullptr,
                               "SELECT COALESCE(SUM(amount), 0) FROM relationship_special_expenses WHERE party_id = ? AND currency = ?"
                               " AND filed_on >= ? AND status <> 'rejected'",
                               std::vector<annex::Value>{party_id, currency, from});
  rows.next();
  return rows.row().integer(0);
}

std::map<std::string, std::vector<SpecialExpense>> SpecialExpenseRepository::filed_between(const std::string& from,
                                                                                         const std::string& to) const {
  std::map<std::string, std::vector<SpecialExpense>> out;
  annex::Rows rows = db_.query(nullptr,
                               std::string("SELECT ") + kColumns +
                                   " FROM relationship_special_expenses WHERE filed_on >= ? AND filed_on <= ? ORDER BY filed_at, id",
                               std::vector<annex::Value>{from, to});
  while (rows.next()) {
    SpecialExpense a = read(rows.row());
    out[a.rep_id].push_back(std::move(a));
  }
  return out;
}

}  // namespace relationship_spending

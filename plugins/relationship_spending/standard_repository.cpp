#include "standard_repository.h"

namespace relationship_spending {

namespace {

constexpr const char* kColumns =
    "id, product_id, product_code, product_group, basis, amount, currency, rate_bp, gl_account, effective_from, effective_to,"
    " note, created_by, created_at, updated_at, version";

}  // namespace

const char* StandardRepository::columns() { return kColumns; }

Standard StandardRepository::read(const annex::Row& r) {
  Standard s;
  s.id = r.text(0);
  s.product_id = r.optional_text(1);
  s.product_code = r.optional_text(2);
  s.product_group = r.optional_text(3);
  s.basis = r.text(4);
  s.amount = r.optional_integer(5);
  s.currency = r.optional_text(6);
  s.rate_bp = r.optional_integer(7);
  s.gl_account = r.text(8);
  s.effective_from = r.text(9);
  s.effective_to = r.optional_text(10);
  s.note = r.optional_text(11);
  s.created_by = r.text(12);
  s.created_at = r.text(13);
  s.updated_at = r.text(14);
  s.version = r.integer(15);
  return s;
}

std::optional<Standard> StandardRepository::find(const std::string& id, annex::Transaction* txn) const {
  annex::Value params[] = {std::string_view(id)};
  annex::Rows rows = db_.query(txn, std::string("SELECT ") + kColumns + " FROM relationship_standards WHERE id = ?", params);
  if (!rows.next()) return std::nullopt;
  return read(rows.row());
}

void StandardRepository::insert(annex::Transaction& txn, const Standard& s) {
  db_.query(txn,
            std::string("INSERT INTO relationship_standards (subject, ") + kColumns +
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {s.subject(), s.id, s.product_id, s.product_code, s.product_group, s.basis, s.amount, s.currency, s.rate_bp,
             s.gl_account, s.effective_from, s.effective_to, s.note, s.created_by, s.created_at, s.updated_at, s.version});
}

void StandardRepository::update(annex::Transaction& txn, Standard& s, int64_t expected_version) {
  annex::Rows changed = db_.query(
      txn,
      "UPDATE relationship_standards SET basis = ?, amount = ?, currency = ?, rate_bp = ?, gl_account = ?, effective_from = ?,"
      " effective_to = ?, note = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?",
      {s.basis, s.amount, s.currency, s.rate_bp, s.gl_account, s.effective_from, s.effective_to, s.note, s.updated_at,
       expected_version + 1, s.id, expected_version});
  if (changed.affected() != 1) {
    throw annex::Error(ANNEX_ERR_CONFLICT, "the standard changed meanwhile; read it again", "If-Match");
  }
  s.version = expected_version + 1;
}

void StandardRepository::lock_subject(annex::Transaction& txn, const std::string& subject) {
  db_.query(txn, "INSERT INTO relationship_standard_subjects (subject, changes) VALUES (?, 0) ON CONFLICT (subject) DO NOTHING", {subject});
  db_.query(txn, "UPDATE relationship_standard_subjects SET changes = changes + 1 WHERE subject = ?", {subject});
}

std::optional<Standard> StandardRepository::overlapping(annex::Transaction& txn, const std::string& subject, const std::string& from,
                                                        const std::optional<std::string>& to, const std::string& except) const {
  // Two inclusive periods meet when each begins no later than the other ends; an open end is later than any date.
  const std::string far = "9999-12-31";
  annex::Value params[] = {std::string_view(subject), std::string_view(except), std::string_view(to ? *to : far),
                           std::string_view(from)};
  annex::Rows rows = db_.query(&txn,
                               std::string("SELECT ") + kColumns +
                                   " FROM relationship_standards WHERE subject = ? AND id <> ? AND effective_from <= ?"
                                   " AND (effective_to IS NULL OR effective_to >= ?) ORDER BY effective_from LIMIT 1",
                               params);
  if (!rows.next()) return std::nullopt;
  return read(rows.row());
}

std::optional<Standard> StandardRepository::in_force(const std::string& product_id, const std::optional<std::string>& product_group,
                                                     const std::string& date, annex::Transaction* txn) const {
  const std::string product = "product:" + product_id;
  const std::string group = product_group ? "group:" + *product_group : product;
  annex::Value params[] = {std::string_view(product), std::string_view(group), std::string_view(date), std::string_view(date)};
  // At most one of each subject is in force on a date; the product's own comes first.
  annex::Rows rows = db_.query(txn,
                               std::string("SELECT ") + kColumns +
                                   " FROM relationship_standards WHERE subject IN (?, ?) AND effective_from <= ?"
                                   " AND (effective_to IS NULL OR effective_to >= ?)"
                                   " ORDER BY CASE WHEN product_id IS NULL THEN 1 ELSE 0 END LIMIT 1",
                               params);
  if (!rows.next()) return std::nullopt;
  return read(rows.row());
}

}  // namespace relationship_spending

#include "fee_repository.h"

namespace relationship_spending {

namespace {

constexpr const char* kColumns =
    "contract_id, line_no, rep_id, contract_number, party_id, sector_id, product_id, standard_id, gl_account, signed_on,"
    " share_percent, earned, payable, first_period";

Fee read(const annex::Row& r) {
  Fee f;
  f.contract_id = r.text(0);
  f.line_no = r.integer(1);
  f.rep_id = r.text(2);
  f.contract_number = r.text(3);
  f.party_id = r.text(4);
  f.sector_id = r.text(5);
  f.product_id = r.text(6);
  f.standard_id = r.text(7);
  f.gl_account = r.text(8);
  f.signed_on = r.text(9);
  f.share_percent = r.integer(10);
  f.earned = r.integer(11);
  f.payable = r.integer(12);
  f.first_period = r.text(13);
  return f;
}

// Calls `fn(marks, params)` for the ids in slices of 500 ("?, ?, …" and the ids as parameters), so that no
// statement carries more parameters than a database takes.
template <typename Fn>
void in_slices(const std::vector<std::string>& ids, Fn&& fn) {
  for (size_t at = 0; at < ids.size(); at += 500) {
    std::string marks;
    std::vector<annex::Value> params;
    for (size_t i = at; i < std::min(ids.size(), at + 500); ++i) {
      marks += marks.empty() ? "?" : ", ?";
      params.emplace_back(ids[i]);
    }
    fn(marks, params);
  }
}

}  // namespace

bool FeeRepository::insert(annex::Transaction& txn, const Fee& f) {
  annex::Rows rows = db_.query(txn,
                               std::string("INSERT INTO relationship_fees (") + kColumns +
                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                                   " ON CONFLICT (contract_id, line_no, rep_id) DO NOTHING",
                               {f.contract_id, f.line_no, f.rep_id, f.contract_number, f.party_id, f.sector_id, f.product_id,
                                f.standard_id, f.gl_account, f.signed_on, f.share_percent, f.earned, f.payable, f.first_period});
  return rows.affected() == 1;
}

std::set<std::string> FeeRepository::open_contracts() const {
  std::set<std::string> out;
  annex::Rows rows = db_.query("SELECT DISTINCT contract_id FROM relationship_fees WHERE payable < earned");
  while (rows.next()) out.insert(rows.row().text(0));
  return out;
}

std::vector<Fee> FeeRepository::of_contracts(const std::vector<std::string>& ids) const {
  std::vector<Fee> out;
  in_slices(ids, [&](const std::string& marks, const std::vector<annex::Value>& params) {
    annex::Rows rows = db_.query(nullptr,
                                 std::string("SELECT ") + kColumns + " FROM relationship_fees WHERE contract_id IN (" + marks +
                                     ") ORDER BY contract_id, line_no, rep_id",
                                 params);
    while (rows.next()) out.push_back(read(rows.row()));
  });
  return out;
}

std::vector<FeeRepository::Credit> FeeRepository::credits_on(const std::vector<std::string>& ids) const {
  std::vector<Credit> out;
  in_slices(ids, [&](const std::string& marks, const std::vector<annex::Value>& params) {
    annex::Rows rows = db_.query(nullptr,
                                 "SELECT contract_id, rep_id, signed_on, earned FROM relationship_fees WHERE contract_id IN (" + marks +
                                     ") ORDER BY contract_id, line_no, rep_id",
                                 params);
    while (rows.next()) {
      const annex::Row r = rows.row();
      out.push_back({r.text(0), r.text(1), r.text(2), r.integer(3)});
    }
  });
  return out;
}

void FeeRepository::set_payable(annex::Transaction& txn, const Fee& f, int64_t payable) {
  db_.query(txn, "UPDATE relationship_fees SET payable = ? WHERE contract_id = ? AND line_no = ? AND rep_id = ?",
            {payable, f.contract_id, f.line_no, f.rep_id});
}

std::map<std::string, FeeRepository::SpecialPayable> FeeRepository::special_payables() const {
  std::map<std::string, SpecialPayable> out;
  annex::Rows rows = db_.query("SELECT application_id, rep_id, contract_id, amount, payable FROM relationship_special_payable");
  while (rows.next()) {
    const annex::Row r = rows.row();
    out[r.text(0)] = {r.text(0), r.text(1), r.optional_text(2), r.integer(3), r.integer(4)};
  }
  return out;
}

void FeeRepository::set_special_payable(annex::Transaction& txn, const SpecialPayable& p) {
  db_.query(txn,
            "INSERT INTO relationship_special_payable (application_id, rep_id, contract_id, amount, payable) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (application_id) DO UPDATE SET contract_id = excluded.contract_id, amount = excluded.amount,"
            " payable = excluded.payable",
            {p.application_id, p.rep_id, p.contract_id, p.amount, p.payable});
}

std::vector<std::string> FeeRepository::reps_with_new_special_expenses() const {
  std::vector<std::string> out;
  annex::Rows rows = db_.query(
      "SELECT DISTINCT a.rep_id FROM relationship_special_expenses a WHERE a.status = 'approved'"
      " AND NOT EXISTS (SELECT 1 FROM relationship_special_payable p WHERE p.application_id = a.id)");
  while (rows.next()) out.push_back(rows.row().text(0));
  return out;
}

void FeeRepository::set_payable(annex::Transaction& txn, const std::vector<std::pair<const Fee*, int64_t>>& changes) {
  constexpr size_t kBatch = 200;
  for (size_t at = 0; at < changes.size(); at += kBatch) {
    const size_t end = std::min(changes.size(), at + kBatch);
    std::string rows;
    std::vector<annex::Value> params;
    for (size_t i = at; i < end; ++i) {
      rows += rows.empty() ? "(?, CAST(? AS BIGINT), ?, CAST(? AS BIGINT))" : ", (?, CAST(? AS BIGINT), ?, CAST(? AS BIGINT))";
      const Fee& f = *changes[i].first;
      params.emplace_back(f.contract_id);
      params.emplace_back(f.line_no);
      params.emplace_back(f.rep_id);
      params.emplace_back(changes[i].second);
    }
    db_.query(&txn,
              "WITH v (contract_id, line_no, rep_id, payable) AS (VALUES " + rows +
                  ") UPDATE relationship_fees SET payable = v.payable FROM v WHERE relationship_fees.contract_id = v.contract_id"
                  " AND relationship_fees.line_no = v.line_no AND relationship_fees.rep_id = v.rep_id",
              params);
  }
}

}  // namespace relationship_spending

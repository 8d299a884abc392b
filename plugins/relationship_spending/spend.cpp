#include "spend.h"

#include "../common/rest.h"

#include <annex/business.hpp>

namespace relationship_spending {

namespace biz = annex::biz;

void SpendRepository::record_contract(annex::Transaction& txn, const std::string& contract_id, const std::string& party_id,
                                      const std::string& currency, int64_t total, int64_t collected,
                                      std::optional<int64_t> collected_converted, const std::string& seen_on) {
  db_.query(txn,
            "INSERT INTO relationship_contracts (contract_id, party_id, currency, total, collected, collected_converted, seen_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (contract_id) DO UPDATE SET total = excluded.total,"
            " collected = excluded.collected, collected_converted = excluded.collected_converted, seen_on = excluded.seen_on",
            {contract_id, party_id, currency, total, collected, collected_converted, seen_on});
}

void SpendRepository::record(annex::Transaction& txn, const SpendEntry& e) {
  db_.query(txn,
            "INSERT INTO relationship_spend (id, party_id, rep_id, sector_id, kind, source_id, spent_on, amount)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            {annex::rest::new_id("rsp"), e.party_id, e.rep_id, e.sector_id, e.kind, e.source_id, e.spent_on, e.amount});
}

void SpendRepository::forget(annex::Transaction& txn, const std::string& source_id) {
  db_.query(txn, "DELETE FROM relationship_spend WHERE source_id = ?", {source_id});
}

std::map<std::string, CustomerSpend> SpendRepository::by_party(const std::string& window_from) const {
  std::map<std::string, CustomerSpend> out;
  annex::Rows rows = db_.query(nullptr,
                               "SELECT party_id, SUM(amount), SUM(CASE WHEN spent_on >= ? THEN amount ELSE 0 END)"
                               " FROM relationship_spend GROUP BY party_id",
                               std::vector<annex::Value>{window_from});
  while (rows.next()) {
    const annex::Row r = rows.row();
    out[r.text(0)] = {r.integer(1), r.integer(2)};
  }
  return out;
}

CustomerSpend SpendRepository::of_party(const std::string& party_id, const std::string& window_from, annex::Transaction* txn) const {
  annex::Rows rows = db_.query(txn,
                               "SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(CASE WHEN spent_on >= ? THEN amount ELSE 0 END), 0)"
                               " FROM relationship_spend WHERE party_id = ?",
                               std::vector<annex::Value>{window_from, party_id});
  rows.next();
  return {rows.row().integer(0), rows.row().integer(1)};
}

int64_t SpendRepository::fees_since(const std::string& party_id, const std::string& window_from) const {
  annex::Rows rows = db_.query(nullptr,
                               "SELECT COALESCE(SUM(amount), 0) FROM relationship_spend WHERE party_id = ? AND kind = 'fee' AND spent_on >= ?",
                               std::vector<annex::Value>{party_id, window_from});
  rows.next();
  return rows.row().integer(0);
}

std::map<std::string, std::optional<int64_t>> SpendRepository::collected_by_party() const {
  std::map<std::string, std::optional<int64_t>> out;
  annex::Rows rows = db_.query("SELECT party_id, SUM(collected_converted), COUNT(*) - COUNT(collected_converted)"
                               " FROM relationship_contracts GROUP BY party_id");
  while (rows.next()) {
    const annex::Row r = rows.row();
    out[r.text(0)] = r.integer(2) == 0 ? std::optional<int64_t>(r.integer(1)) : std::nullopt;
  }
  return out;
}

std::optional<int64_t> ratio_bp(int64_t spend, int64_t collected) {
  if (collected <= 0) return std::nullopt;
  return static_cast<int64_t>(biz::divide(static_cast<biz::wide>(spend) * 10000, collected, biz::Rounding::kHalfAwayFromZero));
}

}  // namespace relationship_spending

// The spend ledger: what each customer has received in relationship spending (fees made payable, special
// expenses) and what it has paid, for the ratio of spending to collected revenue (warned above a threshold) and
// the cumulative spend per customer over a rolling window (limited, so that splitting spend over reps, months or
// applications meets the same limit).
#pragma once

#include <annex/sdk.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace relationship_spending {

struct CustomerSpend {
  int64_t to_date = 0;
  int64_t in_window = 0;
};

struct SpendEntry {
  std::string party_id, rep_id, sector_id;
  std::string kind;       // fee | special
  std::string source_id;  // the statement or the application
  std::string spent_on;   // YYYY-MM-DD
  int64_t amount = 0;
};

class SpendRepository {
 public:
  explicit SpendRepository(annex::Db db) : db_(std::move(db)) {}

  void record_contract(annex::Transaction& txn, const std::string& contract_id, const std::string& party_id, const std::string& currency,
                       int64_t total, int64_t collected, std::optional<int64_t> collected_converted, const std::string& seen_on);
  void record(annex::Transaction& txn, const SpendEntry& entry);
  // Removes what `source_id` recorded (a statement rejected).
  void forget(annex::Transaction& txn, const std::string& source_id);

  // Every customer's spend to date and since `window_from` (inclusive).
  std::map<std::string, CustomerSpend> by_party(const std::string& window_from) const;
  // One customer's, inside `txn` when given.
  CustomerSpend of_party(const std::string& party_id, const std::string& window_from, annex::Transaction* txn = nullptr) const;
  // The fees made payable on one customer since `window_from`, whoever the rep.
  int64_t fees_since(const std::string& party_id, const std::string& window_from) const;
  // Every customer's collections to date in the plugin's currency; nothing for a customer with a contract no
  // rate converts.
  std::map<std::string, std::optional<int64_t>> collected_by_party() const;

 private:
  annex::Db db_;
};

// Spend ÷ collected in basis points, rounded half away from zero; nothing when nothing was collected.
std::optional<int64_t> ratio_bp(int64_t spend, int64_t collected);

}  // namespace relationship_spending

// SpecialExpenseRepository — special-expense applications in the plugin's tables: one by id, writes with their
// version, and a rep's approved ones for the statements.
#pragma once

#include "special_expense.h"

#include <annex/sdk.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace relationship_spending {

class SpecialExpenseRepository {
 public:
  explicit SpecialExpenseRepository(annex::Db db) : db_(std::move(db)) {}

  // The columns read() reads, in order, for SELECTs of relationship_special_expenses.
  static const char* columns();
  static SpecialExpense read(const annex::Row& row);

  std::optional<SpecialExpense> find(const std::string& id, annex::Transaction* txn = nullptr) const;
  void insert(annex::Transaction& txn, const SpecialExpense& application);
  // Writes the application; the stored version must be `expected_version` (else CONFLICT naming If-Match: changed
  // meanwhile). Bumps application.version.
  void update(annex::Transaction& txn, SpecialExpense& application, int64_t expected_version);

  // The rep's approved applications, oldest filing first.
  std::vector<SpecialExpense> approved_for_rep(const std::string& rep_id, annex::Transaction* txn = nullptr) const;
  // The amounts of a customer's applications in `currency` filed since `from` and not rejected, whoever the rep.
  int64_t live_total(const std::string& party_id, const std::string& currency, const std::string& from) const;
  // Every application filed from `from` to `to` (YYYY-MM-DD, inclusive), by rep: the statements' summary (R4).
  std::map<std::string, std::vector<SpecialExpense>> filed_between(const std::string& from, const std::string& to) const;

 private:
  annex::Db db_;
};

}  // namespace relationship_spending

// StatementRepository — statements and their payouts in the plugin's tables.
#pragma once

#include "statement.h"

#include <annex/sdk.hpp>

#include <optional>
#include <string>
#include <vector>

namespace relationship_spending {

struct Payout {
  std::string id, statement_id, rep_id;
  int64_t amount = 0;
  std::string advance_id;  // empty while the draw is under way
  std::string drawn_by, drawn_at;
};

class StatementRepository {
 public:
  explicit StatementRepository(annex::Db db) : db_(std::move(db)) {}

  std::optional<Statement> find(const std::string& id, annex::Transaction* txn = nullptr) const;
  std::optional<Statement> of_rep(const std::string& rep_id, const std::string& period, annex::Transaction* txn = nullptr) const;
  std::optional<Statement> by_approval(const std::string& approval_id, annex::Transaction* txn = nullptr) const;
  // The rep's latest statement before `period` that was not rejected.
  std::optional<Statement> previous(const std::string& rep_id, const std::string& period, annex::Transaction* txn = nullptr) const;
  // The reps whose latest statement left a recovery to carry into the next one.
  std::vector<std::string> reps_owing_recovery(const std::string& before_period) const;
  // A page of statements matching `where` (an SQL condition with `params`), in (period desc, id) order after
  // the cursor position.
  std::vector<Statement> list(const std::string& where, const std::vector<annex::Value>& params, int64_t limit) const;

  // False when the rep has a statement of the period already.
  bool insert(annex::Transaction& txn, const Statement& s);
  // Writes the statement; the stored version must be `expected_version` (else CONFLICT naming If-Match). Bumps
  // s.version.
  void update(annex::Transaction& txn, Statement& s, int64_t expected_version);

  void insert_payout(annex::Transaction& txn, const Payout& p);
  void set_payout_advance(annex::Transaction& txn, const std::string& payout_id, const std::string& advance_id);
  void delete_payout(annex::Transaction& txn, const std::string& payout_id);
  std::vector<Payout> payouts(const std::string& statement_id) const;
  // Payouts reserved before `before` (a UTC time as rest::utc_now writes it) with no advance recorded.
  std::vector<Payout> unfinished_payouts(const std::string& before) const;

 private:
  // The payouts matching `where` (one parameter), in the order they were drawn.
  std::vector<Payout> read_payouts(const std::string& where, const std::string& param) const;

  annex::Db db_;
};

}  // namespace relationship_spending

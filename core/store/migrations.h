// MigrationRunner — applies each owner's numbered schema changes once, in order, each in its own transaction,
// and records them with a SHA-256 of their SQL. An applied migration whose SQL has changed is an error: it is
// never silently re-run, and nothing after it is applied.
#pragma once

#include "store/database.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace annex::store {

struct Migration {
  uint32_t version = 0;
  std::string name;
  std::string sql;  // already chosen for the database's dialect
};

struct MigrationState {
  uint32_t version = 0;
  std::string name;
  std::string checksum;    // of the SQL as shipped now
  std::string applied_at;  // empty when pending
  enum class State { kPending, kApplied, kChanged, kMissing } state = State::kPending;
};

const char* to_string(MigrationState::State s);

class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class MigrationRunner {
 public:
  explicit MigrationRunner(Database& db);

  // Creates the bookkeeping table if missing.
  void prepare();

  // The state of each of `owner`'s migrations, plus applied versions no longer shipped (kMissing).
  std::vector<MigrationState> status(const std::string& owner, std::vector<Migration> migrations);

  // Applies `owner`'s pending migrations in order; returns how many ran. Throws MigrationError naming owner and
  // version when an applied one changed, versions repeat, a pending one is older than an applied one, or a
  // statement fails (that migration is rolled back; earlier ones stay).
  int apply(const std::string& owner, std::vector<Migration> migrations);

 private:
  Database& db_;
};

}  // namespace annex::store

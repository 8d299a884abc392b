#include "store/transaction.h"

#include <soci/soci.h>

namespace annex::store {
namespace {

std::string savepoint(int level) { return "annex_sp" + std::to_string(level); }

}  // namespace

int begin(soci::session& session, Dialect dialect) {
  int* depth = transaction_depth_slot(session);
  int level = depth != nullptr ? *depth + 1 : 1;
  if (level == 1 && dialect == Dialect::kSqlite) take_writer_turn(session);
  try {
    if (level == 1) {
      session << (dialect == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    } else {
      session << "SAVEPOINT " + savepoint(level);
    }
  } catch (const soci::soci_error& e) {
    if (level == 1) give_writer_turn(session);
    throw StoreError(StoreError::Kind::kUnavailable, "cannot begin a transaction: " + e.get_error_message());
  }
  if (depth != nullptr) *depth = level;
  return level;
}

void commit(soci::session& session, int level) {
  int* depth = transaction_depth_slot(session);
  if (depth != nullptr && *depth != level) {
    // The inner work goes with this transaction: nothing half-ended stays open on the connection.
    rollback(session, level);
    throw StoreError(StoreError::Kind::kBadStatement,
                     "a transaction begun inside this one was still open: both are rolled back");
  }
  try {
    session << (level <= 1 ? std::string("COMMIT") : "RELEASE SAVEPOINT " + savepoint(level));
  } catch (const soci::soci_error& e) {
    rollback(session, level);
    throw StoreError(StoreError::Kind::kUnavailable, "commit failed: " + e.get_error_message());
  }
  if (depth != nullptr) *depth = level - 1;
  if (level <= 1) give_writer_turn(session);
}

void rollback(soci::session& session, int level) noexcept {
  int* depth = transaction_depth_slot(session);
  if (depth != nullptr && *depth < level) return;  // already ended (committed, or rolled back with an outer level)
  try {
    if (level <= 1) {
      session << "ROLLBACK";
    } else {
      session << "ROLLBACK TO SAVEPOINT " + savepoint(level);
      session << "RELEASE SAVEPOINT " + savepoint(level);
    }
  } catch (...) {
    // Nothing was open, or the connection is gone: either way nothing is left to undo.
  }
  // Rolling back a level ends every level begun inside it too.
  if (depth != nullptr && *depth >= level) *depth = level - 1;
  if (level <= 1) give_writer_turn(session);
}

ScopedTransaction::ScopedTransaction(soci::session& session, Dialect dialect)
    : session_(session), level_(begin(session, dialect)) {}

ScopedTransaction::~ScopedTransaction() {
  if (open_) rollback(session_, level_);
}

void ScopedTransaction::commit() {
  store::commit(session_, level_);  // on failure it has rolled back; the destructor's rollback is then a no-op
  open_ = false;
}

}  // namespace annex::store

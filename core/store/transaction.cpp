#include "store/transaction.h"

#include <soci/soci.h>

namespace annex::store {

void begin(soci::session& session, Dialect dialect) {
  try {
    session << (dialect == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
  } catch (const soci::soci_error& e) {
    throw StoreError(StoreError::Kind::kUnavailable, "cannot begin a transaction: " + e.get_error_message());
  }
}

void commit(soci::session& session) {
  try {
    session << "COMMIT";
  } catch (const soci::soci_error& e) {
    rollback(session);
    throw StoreError(StoreError::Kind::kUnavailable, "commit failed: " + e.get_error_message());
  }
}

void rollback(soci::session& session) noexcept {
  try {
    session << "ROLLBACK";
  } catch (...) {
    // Nothing was open, or the connection is gone: either way nothing is left to undo.
  }
}

ScopedTransaction::ScopedTransaction(soci::session& session, Dialect dialect) : session_(session) {
  begin(session, dialect);
}

ScopedTransaction::~ScopedTransaction() {
  if (open_) rollback(session_);
}

void ScopedTransaction::commit() {
  open_ = false;
  store::commit(session_);
}

}  // namespace annex::store

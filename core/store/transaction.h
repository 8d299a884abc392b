// Transactions on a borrowed session, written the way each backend wants them. On SQLite a writing
// transaction starts with BEGIN IMMEDIATE, so that two writers queue on the busy timeout instead of one failing
// at its first write.
#pragma once

#include "store/database.h"

namespace annex::store {

void begin(soci::session& session, Dialect dialect);
void commit(soci::session& session);
void rollback(soci::session& session) noexcept;

// Rolls back on destruction unless commit() was called.
class ScopedTransaction {
 public:
  ScopedTransaction(soci::session& session, Dialect dialect);
  ~ScopedTransaction();
  ScopedTransaction(const ScopedTransaction&) = delete;
  ScopedTransaction& operator=(const ScopedTransaction&) = delete;
  void commit();

 private:
  soci::session& session_;
  bool open_ = true;
};

}  // namespace annex::store

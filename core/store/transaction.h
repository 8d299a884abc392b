// Transactions on a borrowed session, written the way each backend wants them. On SQLite a writing
// transaction starts with BEGIN IMMEDIATE, so that two writers queue on the busy timeout instead of one failing
// at its first write.
//
// Transactions nest: a transaction begun on a session this thread already has one open on (code running inside
// a caller's transaction, sharing its connection through a nested Lease) is a savepoint of it. Its commit
// releases the savepoint, its rollback undoes only its own work, and the outermost commit makes everything
// durable. Nested transactions end in the reverse order they began.
#pragma once

#include "store/database.h"

namespace annex::store {

// Begins a transaction (or, nested, a savepoint) and returns its level: 1 for the outermost.
int begin(soci::session& session, Dialect dialect);
// Ends the transaction of `level`. Throws StoreError(kBadStatement) when a transaction begun after it is still
// open, and StoreError(kUnavailable) when the commit fails (after rolling back).
void commit(soci::session& session, int level = 1);
void rollback(soci::session& session, int level = 1) noexcept;

// SQLite's writer turn (database.cpp): taken before an outermost transaction begins, given back when it ends, so
// that writers queue in order instead of polling SQLite's lock. take_writer_turn throws StoreError(kPoolExhausted)
// when the turn did not come within the pool's timeouts. Both do nothing for PostgreSQL or a session not leased from
// a pool.
void take_writer_turn(soci::session& session);
void give_writer_turn(soci::session& session) noexcept;

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
  int level_;
  bool open_ = true;
};

}  // namespace annex::store

// Database — a SOCI connection pool on SQLite (the embedded default) or PostgreSQL, the same code for both.
#pragma once

#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace soci {
class session;
}  // namespace soci

namespace annex::store {

enum class Dialect { kSqlite, kPostgresql };

const char* dialect_name(Dialect d);

// Thrown for storage failures. `kind` says whether retrying can help and how the HTTP edge should answer.
class StoreError : public std::runtime_error {
 public:
  // kPoolExhausted: no pooled connection became free within the acquire timeout (the HTTP edge answers 503).
  enum class Kind { kUnavailable, kConstraint, kBadStatement, kPoolExhausted, kOther };
  StoreError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

class Checkpointer;

struct DatabaseOptions {
  Dialect dialect = Dialect::kSqlite;
  std::string target;  // the SQLite file, or a libpq connection string / URI
  int pool_size = 8;
  int busy_timeout_ms = 5000;
  int acquire_timeout_ms = 5000;  // the longest a caller waits for a free pooled connection
};

class Database {
 public:
  // Opens every connection of the pool. SQLite: creates the file, WAL, synchronous=NORMAL, foreign keys on,
  // busy timeout, and WAL checkpoints on a thread of their own (see Checkpointer in database.cpp). Throws
  // StoreError(kUnavailable) naming the target (without its password) on failure.
  explicit Database(const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Dialect dialect() const noexcept { return options_.dialect; }
  int pool_size() const noexcept { return options_.pool_size; }
  // Runs a trivial query on a pooled connection; false when the database cannot be reached.
  bool ping() noexcept;
  // Re-opens a pooled session whose connection broke (PostgreSQL restarted). Throws StoreError on failure.
  void reconnect(soci::session& session);

  // For /metrics: connections leased right now, and how many callers gave up waiting for one.
  int in_use() const noexcept { return in_use_.load(std::memory_order_relaxed); }
  uint64_t acquire_timeouts() const noexcept { return acquire_timeouts_.load(std::memory_order_relaxed); }

 private:
  void open_session(soci::session& session);

  friend class Lease;
  // Takes a free session, waiting up to acquire_timeout_ms when all are leased. Returns its index; throws
  // StoreError(kPoolExhausted) when none became free in time.
  size_t acquire();
  void release(size_t index);

  DatabaseOptions options_;
  // The pool. Free sessions are bits in `free_`: taking and returning one is a compare-and-swap, with no lock
  // unless every session is taken. (SOCI's own pool takes a mutex twice per query; with a hundred HTTP threads on
  // two cores, a holder preempted inside it stalls them all.)
  std::vector<std::unique_ptr<soci::session>> sessions_;
  std::vector<std::atomic<uint64_t>> free_;
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
  std::atomic<int> waiters_{0};
  std::atomic<int> in_use_{0};
  std::atomic<uint64_t> acquire_timeouts_{0};
  std::unique_ptr<Checkpointer> checkpointer_;  // SQLite only
  std::unique_ptr<soci::session> writer_;        // SQLite only: the connection every write transaction runs on
};

struct Holding;

// A session borrowed from the pool for the lifetime of this object.
//
// A thread holds at most one connection of a pool. A Lease taken on a thread that already holds one of the same
// pool shares that connection (and so runs inside its open transaction, if any) instead of waiting for a second:
// code that holds a connection and calls code that needs one — a request's store read, then the authoriser's
// identity look-up — can never wait on itself, however busy the pool. The last of the leases sharing a
// connection to end returns it to the pool, rolling back any transaction still open on it.
class Lease {
 public:
  // Throws StoreError(kPoolExhausted) when no connection became free within the pool's acquire timeout.
  explicit Lease(Database& db);
  // For one write transaction, begun on it at once and ended before the lease ends. On SQLite a thread that holds
  // no lease of this pool waits for the writer turn without holding a pooled connection (a writer queued with one
  // kept it from the readers), then works on the writing connection itself, shared by the leases this thread takes
  // inside the transaction; the turn and the holding end with the transaction. Otherwise as Lease(db). Throws
  // StoreError(kPoolExhausted) when the turn did not come within the pool's timeouts.
  struct ForWriting {};
  static constexpr ForWriting kForWriting{};
  Lease(Database& db, ForWriting);
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  soci::session& session() noexcept { return *session_; }
  Database& database() noexcept { return db_; }
  // True when this lease shares the connection of an enclosing lease on this thread.
  bool nested() const noexcept { return nested_; }

 private:
  void share_or_acquire();
  Database& db_;
  std::shared_ptr<Holding> holding_;
  soci::session* session_;
  bool nested_ = false;
};

// The count of open transactions (the outermost plus its savepoints) on `session`, a connection this thread
// holds through a Lease; nullptr when this thread holds no lease on it. store::begin/commit/rollback keep it.
int* transaction_depth_slot(soci::session& session) noexcept;

// A libpq connection string or URI in libpq's quoted keyword form. Throws StoreError on a malformed one.
std::string to_keyword_conninfo(const std::string& target);

// Removes a password from a connection string or URI before it is shown or logged.
std::string redact_connection_string(const std::string& target);

}  // namespace annex::store

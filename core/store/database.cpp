#include "store/database.h"

#include "store/sql.h"
#include "store/wal_writes.h"
#include "store/writer_turn.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

namespace annex::store {

namespace {
std::mutex g_turns_mutex;
std::map<const Database*, std::unique_ptr<WriterTurn>>& turns() {
  static std::map<const Database*, std::unique_ptr<WriterTurn>> all;
  return all;
}
WriterTurn* turn_of(const Database* db) {
  std::lock_guard lock(g_turns_mutex);
  auto it = turns().find(db);
  return it == turns().end() ? nullptr : it->second.get();
}
}  // namespace

// SQLite copies the WAL back into the database file (a checkpoint) when a commit finds the WAL past 1,000 pages —
// inside that commit, so while the writer turn is held and every writer behind it waits (a tenth of all the work
// of a request that writes a claim, two fsyncs among it). Pooled connections instead tell this thread, which
// checkpoints on a connection of its own, PASSIVE as SQLite's own checkpoints are (never waiting for a reader or a
// writer), beside the writers. A WAL starts over only after a checkpoint that copied all of it, which writers that
// never pause would never let happen: once the WAL passes kRestartPages, the checkpoint copies what is left in the
// writer turn, so the WAL stays within about that size (40 MB of 4 KB pages). That pass stops every writer, so it
// is kept short: passes beside the writers first (each copying what came during the one before, until the WAL
// grew by little), each followed by a sync of the database file, leave it little to copy and sync (it took 14-23
// ms before, 3-4 now, under the expenses benchmark's 75,000 WAL pages a second); and it goes before the writers
// waiting for the turn rather than after them (at the back of the queue the WAL grew by a dozen megabytes while it
// waited, all of which the pass then synced with every writer stopped). It asks every kPages (16 MB) rather
// than at SQLite's own 1,000: a checkpoint copies each page once however often it was written since the last one,
// and the pages writers touch most (the ends of tables and indexes) are written many times over, so fewer, larger
// checkpoints write and sync less (about 15% more claims per second under the expenses benchmark).
class Checkpointer {
 public:
  static constexpr int kPages = 4000;
  static constexpr int kRestartPages = 10000;
  static constexpr int kReaderWaitMs = 100;
  static constexpr int kMaxPasses = 4;    // beside the writers, before the pass in the turn
  static constexpr int kFewPages = 600;  // grown by fewer during a pass, the WAL is left to the pass in the turn

  explicit Checkpointer(std::string file) : file_(std::move(file)), thread_([this] { run(); }) {}
  ~Checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    if (db_ != nullptr) sqlite_api::sqlite3_close_v2(db_);
  }
  // The writer turn of the pool, once it exists (before any commit can ask for a checkpoint).
  void use_turn(WriterTurn* turn) noexcept { turn_.store(turn); }

  // Installed on each pooled connection in place of SQLite's automatic checkpoint: asks for a checkpoint when
  // kPages more are in the WAL than the last one saw (or the WAL started over since).
  static int on_commit(void* self, sqlite_api::sqlite3*, const char*, int pages) {
    auto* c = static_cast<Checkpointer*>(self);
    const int seen = c->seen_.load(std::memory_order_relaxed);
    if (pages >= kPages && (pages < seen || pages - seen >= kPages)) c->ask();
    return 0;  // SQLITE_OK
  }

 private:
  void ask() {
    {
      std::lock_guard lock(mutex_);
      if (asked_) return;
      asked_ = true;
    }
    wake_.notify_one();
  }

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return asked_ || stopping_; });
      if (stopping_) return;
      asked_ = false;
      lock.unlock();
      checkpoint();
      lock.lock();
    }
  }

  void checkpoint() noexcept {
    if (db_ == nullptr) {
      // The connection finds the WAL at its first read: a checkpoint before it copies nothing.
      if (sqlite_api::sqlite3_open_v2(file_.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK ||
          sqlite_api::sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) != SQLITE_OK) {
        sqlite_api::sqlite3_close_v2(db_);
        db_ = nullptr;
        return;  // asked again at the next commit past the threshold
      }
      sqlite_api::sqlite3_busy_timeout(db_, kReaderWaitMs);  // the pass in the turn only (PASSIVE never waits)
    }
    // A failure (the file busy with a restore, a disk error) leaves the WAL as it is; the next commit asks again.
    int pages = 0;
    sqlite_api::sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &pages, nullptr);
    seen_.store(pages, std::memory_order_relaxed);
    WriterTurn* turn = turn_.load();
    if (pages < kRestartPages || turn == nullptr) return;
    // A PASSIVE pass that writers overtook syncs none of the pages it copied into the database file; synced here,
    // the pass in the turn syncs only its own.
    // Passes beside the writers until one finds the WAL grown by little since the one before (each copies what
    // came during the last), so that the pass in the turn has little to copy and sync.
    for (int pass = 0; pass < kMaxPasses; ++pass) {
      sync_database_file();
      const int before = pages;
      sqlite_api::sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &pages, nullptr);
      if (pages - before < kFewPages) break;
    }
    sync_database_file();
    if (!turn->take(/*ahead=*/true)) return;
    // RESTART, not PASSIVE: a reader still on an older snapshot would keep a PASSIVE pass from copying the last
    // frames, and the WAL could then not start over; RESTART waits for such readers (a bounded while: they are
    // short) and leaves every reader on the database file, so the next commit starts the WAL over.
    const int rc = sqlite_api::sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_RESTART, &pages, nullptr);
    turn->give();
    seen_.store(pages, std::memory_order_relaxed);
    if (rc != SQLITE_OK) return;  // a reader outlasted the wait: the commit that asked again tries again
    // Asks that came while this ran are answered. Kept, one would start another pass in the turn at once, over the
    // old WAL's count and a fresh WAL with little in it.
    std::lock_guard lock(mutex_);
    asked_ = false;
  }

  // Through the connection's own handle: closing a descriptor of the database file of its own would drop every
  // POSIX lock this process holds on it, and another process (annexctl, the sqlite3 shell) could then take this
  // daemon's connections for gone, check the WAL into the file and delete it under them: a corrupt database.
  void sync_database_file() const noexcept {
    sqlite_api::sqlite3_file* file = nullptr;
    if (sqlite_api::sqlite3_file_control(db_, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK && file != nullptr &&
        file->pMethods != nullptr) {
      file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
    }
  }

  const std::string file_;
  sqlite_api::sqlite3* db_ = nullptr;  // used by the thread only
  std::atomic<WriterTurn*> turn_{nullptr};
  std::atomic<int> seen_{0};  // the WAL's pages at the last checkpoint
  std::mutex mutex_;
  std::condition_variable wake_;
  bool asked_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

const char* dialect_name(Dialect d) { return d == Dialect::kPostgresql ? "postgresql" : "sqlite"; }

std::string redact_connection_string(const std::string& target) {
  static const std::regex uri_password(R"((://[^:/@]+:)[^@]*@)");
  static const std::regex kv_password(R"((password\s*=\s*)('[^']*'|\S+))", std::regex::icase);
  std::string out = std::regex_replace(target, uri_password, "$1***@");
  return std::regex_replace(out, kv_password, "$1***");
}

// SOCI 4.0 rewrites the connection string it is given and mangles libpq URIs ("…/db" becomes "…/db="), so
// URIs are turned into libpq's keyword form, each value quoted, before SOCI sees them.
std::string to_keyword_conninfo(const std::string& target) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(target.c_str(), &error);
  if (options == nullptr) {
    std::string why = error ? error : "cannot parse";
    PQfreemem(error);
    throw StoreError(StoreError::Kind::kUnavailable, "invalid PostgreSQL connection string " +
                                                         redact_connection_string(target) + ": " + why);
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    std::string value;
    for (const char* c = o->val; *c; ++c) {
      if (*c == '\'' || *c == '\\') value.push_back('\\');
      value.push_back(*c);
    }
    out += (out.empty() ? "" : " ") + std::string(o->keyword) + "='" + value + "'";
  }
  PQconninfoFree(options);
  return out;
}

Database::Database(const DatabaseOptions& options)
    : options_(options), free_((static_cast<size_t>(options.pool_size) + 63) / 64) {
  if (options_.dialect == Dialect::kSqlite) {
    // Before SQLite's first use: no global memory statistics (a process-wide mutex taken on every allocation),
    // and no per-connection mutex, since a pooled connection is only ever used by the thread that leased it.
    static std::once_flag configured;
    std::call_once(configured, [] {
      sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
      sqlite_api::sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
      install_gathered_wal_writes();  // after the configuration: it initializes SQLite
    });
    std::filesystem::path file(options_.target);
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
    checkpointer_ = std::make_unique<Checkpointer>(options_.target);
  }
  for (int i = 0; i < options_.pool_size; ++i) {
    sessions_.push_back(std::make_unique<soci::session>());
    open_session(*sessions_.back());
  }
  for (size_t i = 0; i < sessions_.size(); ++i) free_[i / 64].fetch_or(uint64_t{1} << (i % 64));
  if (options_.dialect == Dialect::kSqlite) {
    auto turn = std::make_unique<WriterTurn>();
    turn->timeout = std::chrono::milliseconds(std::max(options_.acquire_timeout_ms, options_.busy_timeout_ms));
    writer_ = std::make_unique<soci::session>();
    open_session(*writer_);
    turn->connection = static_cast<soci::sqlite3_session_backend*>(writer_->get_backend())->conn_;
    checkpointer_->use_turn(turn.get());
    std::lock_guard lock(g_turns_mutex);
    turns()[this] = std::move(turn);
  }
}

// The connections this thread holds, one per pool. A Holding outlives its entry here when a transaction ends on
// another thread than the one that began it: `released` tells this thread's next look-up to drop the entry.
struct Holding {
  static constexpr size_t kWriter = SIZE_MAX;  // `index` of a holding of the writing connection itself
  Database* db;
  size_t index;
  soci::session* session;
  WriterTurn* turn = nullptr;  // SQLite only
  bool has_turn = false;       // this connection's transaction holds the writer turn
  sqlite_api::sqlite3* own_connection = nullptr;  // the pooled connection's, while the session runs on the writer's
  int transaction_depth = 0;
  std::atomic<int> leases{0};  // the Leases sharing it; the last to end returns the connection
  std::atomic<bool> released{false};
};

namespace {
thread_local std::vector<std::shared_ptr<Holding>> t_holdings;

std::shared_ptr<Holding> held_by_this_thread(const Database* db, const soci::session* session) {
  std::shared_ptr<Holding> found;
  for (auto it = t_holdings.begin(); it != t_holdings.end();) {
    if ((*it)->released.load(std::memory_order_acquire)) {
      it = t_holdings.erase(it);
      continue;
    }
    if ((db != nullptr && (*it)->db == db) || (session != nullptr && (*it)->session == session)) found = *it;
    ++it;
  }
  return found;
}
}  // namespace

namespace {
sqlite_api::sqlite3*& connection_of(soci::session& session) {
  return static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_;
}

// Ends the turn: a pooled session goes back to its own connection first. A holding of the writing connection
// itself is over with the turn: nothing on this thread may share it any more (see Lease(db, kForWriting)).
void hand_back(Holding& h) noexcept {
  if (!h.has_turn) return;
  if (h.own_connection != nullptr) connection_of(*h.session) = h.own_connection;
  h.own_connection = nullptr;
  h.has_turn = false;
  if (h.index == Holding::kWriter) h.released.store(true, std::memory_order_release);
  h.turn->give();
}
}  // namespace

// With the turn, the session runs on the writer's connection until the turn is given back: every statement of
// the transaction (SOCI's and store::run's, which both look the connection up from the session at each statement,
// and which keep their prepared statements per connection) goes there.
void take_writer_turn(soci::session& session) {
  std::shared_ptr<Holding> h = held_by_this_thread(nullptr, &session);
  if (!h || h->turn == nullptr || h->has_turn) return;
  h->turn->take_or_throw();
  h->has_turn = true;
  h->own_connection = connection_of(session);
  connection_of(session) = h->turn->connection;
}

void give_writer_turn(soci::session& session) noexcept {
  std::shared_ptr<Holding> h = held_by_this_thread(nullptr, &session);
  if (h) hand_back(*h);
}

int* transaction_depth_slot(soci::session& session) noexcept {
  std::shared_ptr<Holding> h = held_by_this_thread(nullptr, &session);
  return h ? &h->transaction_depth : nullptr;  // kept alive by the lease that holds the session
}

size_t Database::acquire() {
  // Start the search where this thread found a session last time, so threads spread over the words.
  thread_local size_t hint = 0;
  auto try_take = [this](size_t& found) {
    for (size_t n = 0; n < free_.size(); ++n) {
      size_t w = (hint + n) % free_.size();
      uint64_t bits = free_[w].load(std::memory_order_relaxed);
      while (bits != 0) {
        uint64_t bit = bits & (~bits + 1);
        if (free_[w].compare_exchange_weak(bits, bits & ~bit, std::memory_order_acquire, std::memory_order_relaxed)) {
          found = w * 64 + static_cast<size_t>(__builtin_ctzll(bit));
          hint = w;
          return true;
        }
      }
    }
    return false;
  };
  size_t index = 0;
  if (!try_take(index)) {
    std::unique_lock lock(wait_mutex_);
    ++waiters_;
    bool taken = wait_cv_.wait_for(lock, std::chrono::milliseconds(options_.acquire_timeout_ms),
                                   [&] { return try_take(index); });
    --waiters_;
    if (!taken) {
      acquire_timeouts_.fetch_add(1, std::memory_order_relaxed);
      throw StoreError(StoreError::Kind::kPoolExhausted,
                       "no database connection became free within " + std::to_string(options_.acquire_timeout_ms) +
                           " ms (all " + std::to_string(sessions_.size()) + " are in use)");
    }
  }
  in_use_.fetch_add(1, std::memory_order_relaxed);
  return index;
}

void Database::release(size_t index) {
  in_use_.fetch_sub(1, std::memory_order_relaxed);
  // Sequentially consistent, so that a waiter that just counted itself either sees this session free or is
  // seen here and woken.
  free_[index / 64].fetch_or(uint64_t{1} << (index % 64));
  if (waiters_.load() > 0) {
    std::lock_guard lock(wait_mutex_);
    wait_cv_.notify_one();
  }
}

Database::~Database() {
  checkpointer_.reset();
  {
    std::lock_guard lock(g_turns_mutex);
    turns().erase(this);
  }
  for (auto& session : sessions_) forget_statements(*session);
  if (writer_) forget_statements(*writer_);
}

void Database::open_session(soci::session& session) {
  try {
    if (options_.dialect == Dialect::kSqlite) {
      session.open(*soci::factory_sqlite3(), "db=" + options_.target);
      // WAL lets readers run beside the one writer; NORMAL is durable across a process crash in WAL mode.
      session << "PRAGMA journal_mode=WAL";
      session << "PRAGMA synchronous=NORMAL";
      session << "PRAGMA foreign_keys=ON";
      session << "PRAGMA busy_timeout=" + std::to_string(options_.busy_timeout_ms);
      auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
      sqlite_api::sqlite3_wal_hook(backend->conn_, &Checkpointer::on_commit, checkpointer_.get());
    } else {
      session.open(*soci::factory_postgresql(), to_keyword_conninfo(options_.target));
    }
  } catch (const soci::soci_error& e) {
    throw StoreError(StoreError::Kind::kUnavailable, std::string("cannot open ") + dialect_name(options_.dialect) +
                                                         " database " + redact_connection_string(options_.target) +
                                                         ": " + e.get_error_message());
  }
}

void Database::reconnect(soci::session& session) {
  forget_statements(session);
  try {
    session.close();
  } catch (const soci::soci_error&) {
  }
  open_session(session);
}

bool Database::ping() noexcept {
  try {
    Lease lease(*this);
    int one = 0;
    try {
      lease.session() << "SELECT 1", soci::into(one);
    } catch (const soci::soci_error&) {
      reconnect(lease.session());
      lease.session() << "SELECT 1", soci::into(one);
    }
    return one == 1;
  } catch (...) {
    return false;
  }
}

Lease::Lease(Database& db) : db_(db) { share_or_acquire(); }

void Lease::share_or_acquire() {
  Database& db = db_;
  holding_ = held_by_this_thread(&db, nullptr);
  if (holding_) {
    nested_ = true;
  } else {
    size_t index = db.acquire();
    holding_ = std::make_shared<Holding>();
    holding_->db = &db;
    holding_->index = index;
    holding_->session = db.sessions_[index].get();
    holding_->turn = turn_of(&db);
    t_holdings.push_back(holding_);
  }
  holding_->leases.fetch_add(1);
  session_ = holding_->session;
}

Lease::Lease(Database& db, ForWriting) : db_(db) {
  WriterTurn* turn = db.dialect() == Dialect::kSqlite ? turn_of(&db) : nullptr;
  if (turn == nullptr || held_by_this_thread(&db, nullptr)) {
    share_or_acquire();  // PostgreSQL, or nested in a lease this thread holds: as any lease
    return;
  }
  turn->take_or_throw();
  holding_ = std::make_shared<Holding>();
  holding_->db = &db;
  holding_->index = Holding::kWriter;
  holding_->session = db.writer_.get();
  holding_->turn = turn;
  holding_->has_turn = true;
  t_holdings.push_back(holding_);
  holding_->leases.fetch_add(1);
  session_ = holding_->session;
}

Lease::~Lease() {
  // Whichever lease ends last returns the connection, so a nested one that outlives its outer lease never works
  // on a connection another thread has taken.
  if (holding_->leases.fetch_sub(1) != 1) return;
  // A transaction left open (a caller that neither committed nor rolled back) must not travel with the
  // connection to its next user.
  if (holding_->transaction_depth > 0) {
    try {
      *holding_->session << "ROLLBACK";
    } catch (...) {
    }
    holding_->transaction_depth = 0;
  }
  hand_back(*holding_);
  holding_->released.store(true, std::memory_order_release);
  for (auto it = t_holdings.begin(); it != t_holdings.end(); ++it) {
    if (it->get() == holding_.get()) {
      t_holdings.erase(it);
      break;
    }
  }
  if (holding_->index != Holding::kWriter) db_.release(holding_->index);
}

}  // namespace annex::store

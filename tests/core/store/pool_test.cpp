// The connection pool: a thread never waits for a second connection while it holds one, transactions nest as
// savepoints on the shared connection, and a caller waits a bounded time for a free connection.
#include "store/database.h"
#include "store/sql.h"
#include "store/transaction.h"
#include "store/wal_writes.h"
#include "store/writer_turn.h"
#include "support/test_support.h"

#include <soci/soci.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

namespace annex::store {
namespace {

using test::Backend;

class PoolTest : public testing::TestWithParam<Backend> {
 protected:
  std::unique_ptr<Database> open(int pool_size, int acquire_timeout_ms = 5000) {
    DatabaseOptions options;
    if (!test::fresh_database(GetParam(), dir_, &options)) return nullptr;
    options.pool_size = pool_size;
    options.acquire_timeout_ms = acquire_timeout_ms;
    auto db = std::make_unique<Database>(options);
    Lease lease(*db);
    run(lease.session(), "CREATE TABLE pool_t (k TEXT PRIMARY KEY, v INTEGER)", {});
    return db;
  }
  static int64_t count(Database& db, const std::string& where = "1 = 1") {
    Lease lease(db);
    return run(lease.session(), "SELECT COUNT(*) FROM pool_t WHERE " + where, {}).rows.at(0).at(0).i;
  }
  static void insert(soci::session& s, const std::string& k) {
    Param p[] = {Param::text(k), Param::integer(1)};
    run(s, "INSERT INTO pool_t (k, v) VALUES (?, ?)", p);
  }
  test::TempDir dir_;
};

TEST_P(PoolTest, NestedLeaseOnOneThreadSharesItsConnectionEvenWhenThePoolIsEmpty) {
  auto db = open(1, 200);
  if (!db) GTEST_SKIP() << "no PostgreSQL";
  Lease outer(*db);
  Lease inner(*db);  // with one connection, a second acquire would time out
  EXPECT_TRUE(inner.nested());
  EXPECT_FALSE(outer.nested());
  EXPECT_EQ(&inner.session(), &outer.session());
  EXPECT_EQ(db->in_use(), 1);
}

TEST_P(PoolTest, ManyThreadsEachNestingLeasesNeverDeadlockAPoolSmallerThanThem) {
  auto db = open(2, 10000);
  if (!db) GTEST_SKIP() << "no PostgreSQL";
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        Lease outer(*db);
        ScopedTransaction txn(outer.session(), db->dialect());
        insert(outer.session(), "t" + std::to_string(t) + "-" + std::to_string(i));
        {
          Lease inner(*db);  // the authoriser's look-up inside a request that holds a connection
          run(inner.session(), "SELECT COUNT(*) FROM pool_t", {});
        }
        txn.commit();
      }
      ++done;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(done.load(), 8);
  EXPECT_EQ(count(*db), 160);
  EXPECT_EQ(db->acquire_timeouts(), 0u);
}

TEST_P(PoolTest, WaitForAFreeConnectionIsBoundedAndCounted) {
  auto db = open(1, 150);
  if (!db) GTEST_SKIP() << "no PostgreSQL";
  Lease held(*db);
  std::atomic<bool> refused{false};
  auto started = std::chrono::steady_clock::now();
  std::thread other([&] {
    try {
      Lease lease(*db);
    } catch (const StoreError& e) {
      refused = e.kind() == StoreError::Kind::kPoolExhausted;
    }
  });
  other.join();
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(refused.load()) << "a caller that finds every connection taken must give up with kPoolExhausted";
  EXPECT_GE(waited, std::chrono::milliseconds(140));
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_EQ(db->acquire_timeouts(), 1u);
}

TEST_P(PoolTest, ReleasedConnectionWakesAWaiter) {
  auto db = open(1, 10000);
  if (!db) GTEST_SKIP() << "no PostgreSQL";
  auto held = std::make_unique<Lease>(*db);
  std::atomic<bool> got{false};
  std::thread other([&] {
    Lease lease(*db);
    got = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  held.reset();
  other.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(db->in_use(), 0);
}

TEST_P(PoolTest, NestedTransactionIsASavepointThatRollsBackAlone) {
  auto db = open(1);
  if (!db) GTEST_SKIP() << "no PostgreSQL";
  {
    Lease outer(*db);
    ScopedTransaction txn(outer.session(), db->dialect());
    insert(outer.session(), "kept");
    {
      Lease inner(*db);
      ScopedTransaction nested(inner.session(), db->dialect());
      insert(inner.session(), "undone");
      // destroyed without commit: only its own insert goes
    }
    {
      Lease inner(*db);
      ScopedTransaction nested(inner.session(), db->dialect());
      insert(inner.session(), "released");
      nested.commit();  // a savepoint released: durable only with the outer commit
    }
    txn.commit();
  }
  EXPECT_EQ(count(*db, "k = 'kept'"), 1);
  EXPECT_EQ(count(*db, "k = 'released'"), 1);
  EXPECT_EQ(count(*db, "k = 'undone'"), 0);
}

TEST_P(PoolTest, NestedCommitDoesNotCommitTheOuterTransaction) {
  auto db = open(1);
  if (!db) GTEST_SKIP() << "no PostgreSQL";
  {
    Lease outer(*db);
    ScopedTransaction txn(outer.session(), db->dialect());
    {
      Lease inner(*db);
      ScopedTransaction nested(inner.session(), db->dialect());
      insert(inner.session(), "inner");
      nested.commit();
    }
    // the outer transaction is rolled back here
  }
  EXPECT_EQ(count(*db), 0) << "work committed by a nested transaction must go with the outer rollback";
}

TEST_P(PoolTest, FailedStatementInANestedTransactionLeavesTheOuterUsable) {
  auto db = open(1);
  if (!db) GTEST_SKIP() << "no PostgreSQL";
  {
    Lease outer(*db);
    ScopedTransaction txn(outer.session(), db->dialect());
    insert(outer.session(), "a");
    {
      ScopedTransaction nested(outer.session(), db->dialect());
      EXPECT_THROW(insert(outer.session(), "a"), StoreError);  // duplicate key
    }
    insert(outer.session(), "b");
    txn.commit();
  }
  EXPECT_EQ(count(*db), 2);
}

TEST_P(PoolTest, CommittingAnOuterTransactionWhileAnInnerIsOpenRollsBackBoth) {
  auto db = open(1);
  if (!db) GTEST_SKIP() << "no PostgreSQL";
  {
    Lease lease(*db);
    int outer = begin(lease.session(), db->dialect());
    insert(lease.session(), "outer");
    int inner = begin(lease.session(), db->dialect());
    insert(lease.session(), "inner");
    EXPECT_EQ(outer, 1);
    EXPECT_EQ(inner, 2);
    EXPECT_THROW(commit(lease.session(), outer), StoreError);
    EXPECT_THROW(commit(lease.session(), inner), StoreError) << "the inner one ended with the outer";
  }
  EXPECT_EQ(count(*db), 0);
  Lease next(*db);
  ScopedTransaction txn(next.session(), db->dialect());  // the connection came back with nothing open
  insert(next.session(), "after");
  txn.commit();
}

TEST_P(PoolTest, AConnectionReturnedWithATransactionOpenComesBackRolledBack) {
  auto db = open(1);
  if (!db) GTEST_SKIP() << "no PostgreSQL";
  {
    Lease lease(*db);
    begin(lease.session(), db->dialect());
    insert(lease.session(), "forgotten");
  }  // neither committed nor rolled back
  EXPECT_EQ(count(*db), 0);
  Lease next(*db);
  ScopedTransaction txn(next.session(), db->dialect());
  insert(next.session(), "next");
  txn.commit();
  EXPECT_EQ(count(*db), 1);
}

TEST_P(PoolTest, ANestedLeaseThatOutlivesItsOuterLeaseKeepsTheConnection) {
  auto db = open(1, 150);
  if (!db) GTEST_SKIP() << "no PostgreSQL";
  auto outer = std::make_unique<Lease>(*db);
  auto inner = std::make_unique<Lease>(*db);
  outer.reset();
  EXPECT_EQ(db->in_use(), 1) << "the connection stays with the lease still using it";
  std::atomic<bool> refused{false};
  std::thread other([&] {
    try {
      Lease lease(*db);
    } catch (const StoreError&) {
      refused = true;
    }
  });
  other.join();
  EXPECT_TRUE(refused.load()) << "no other thread may take a connection still in use";
  inner.reset();
  EXPECT_EQ(db->in_use(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, PoolTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         test::backend_param_name);


// A SQLite database in `dir` with a pool of `pool_size` and `table` created; `options` are those it was opened with.
std::unique_ptr<Database> sqlite_with(const test::TempDir& dir, DatabaseOptions& options, const char* table, int pool_size,
                                      int busy_timeout_ms = 5000) {
  if (!test::fresh_database(Backend::kSqlite, dir, &options)) throw std::runtime_error("no SQLite database");
  options.pool_size = pool_size;
  options.busy_timeout_ms = busy_timeout_ms;
  auto db = std::make_unique<Database>(options);
  Lease lease(*db);
  run(lease.session(), table, {});
  return db;
}

// The `who` column of `table`, in the order the rows were written (its `seq`).
std::vector<std::string> written_in_order(soci::session& session, const std::string& table) {
  std::vector<std::string> out;
  for (const auto& row : run(session, "SELECT who FROM " + table + " ORDER BY seq", {}).rows) out.push_back(row[0].s);
  return out;
}

TEST(SqliteWriters, QueueForTheirTurnInsteadOfFailingOnSqlitesLock) {
  // SQLite's own wait (busy_timeout) set to almost nothing: writers that polled SQLite's lock would fail with
  // "database is locked" as soon as two overlap. They take the pool's writer turn first, so all succeed in order.
  test::TempDir dir;
  DatabaseOptions options;
  auto owned = sqlite_with(dir, options, "CREATE TABLE turn_t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)", 8, 1);
  Database& db = *owned;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        try {
          Lease lease(db);
          ScopedTransaction txn(lease.session(), Dialect::kSqlite);
          Param p[] = {Param::integer(t * 1000 + i), Param::integer(i)};
          run(lease.session(), "INSERT INTO turn_t (k, v) VALUES (?, ?)", p);
          std::this_thread::sleep_for(std::chrono::microseconds(200));  // hold the lock a little
          txn.commit();
        } catch (const std::exception&) {
          ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  Lease lease(db);
  EXPECT_EQ(run(lease.session(), "SELECT COUNT(*) FROM turn_t", {}).rows.at(0).at(0).i, 200);
}

TEST(SqliteWriters, AWriterComingBackQueuesBehindThoseAlreadyWaiting) {
  // The turn passes in the order writers came: one that gives it back and at once wants it again waits behind the
  // writer already waiting (else, under load, some writers wait for seconds while later ones go first).
  test::TempDir dir;
  DatabaseOptions options;
  auto owned =
      sqlite_with(dir, options, "CREATE TABLE turn_order (seq INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT NOT NULL)", 4);
  Database& db = *owned;
  Lease lease(db);
  auto write = [&](soci::session& session, const char* who) {
    Param p[] = {Param::text(who)};
    run(session, "INSERT INTO turn_order (who) VALUES (?)", p);
  };
  auto first = std::make_unique<ScopedTransaction>(lease.session(), Dialect::kSqlite);
  std::thread waiting([&] {
    Lease other(db);
    ScopedTransaction txn(other.session(), Dialect::kSqlite);  // waits for the turn
    write(other.session(), "waiting");
    txn.commit();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the other writer is in the queue by now
  first->commit();
  first.reset();
  {
    ScopedTransaction again(lease.session(), Dialect::kSqlite);
    write(lease.session(), "came back");
    again.commit();
  }
  waiting.join();
  EXPECT_EQ(written_in_order(lease.session(), "turn_order"), (std::vector<std::string>{"waiting", "came back"}));
}

TEST(SqliteWriters, EveryWriteTransactionRunsOnTheOneWritingConnectionAndTheSessionComesBackAfter) {
  // A connection's TEMP tables are its own, so they tell which connection a statement ran on. Write transactions
  // on two pooled connections run on one writing connection (whose page cache no other connection's commit
  // invalidates); outside a transaction, after a commit, a rollback or a lease that ended with one open, each
  // session is on its own pooled connection again.
  test::TempDir dir;
  DatabaseOptions options;
  auto owned = sqlite_with(dir, options, "CREATE TABLE conn_t (k INTEGER PRIMARY KEY)", 4);
  Database& db = *owned;
  auto marked = [](soci::session& s) {
    return run(s, "SELECT COUNT(*) FROM temp.sqlite_master WHERE name = 'written_here'", {}).rows.at(0).at(0).i == 1;
  };
  Lease first(db);
  {
    ScopedTransaction txn(first.session(), Dialect::kSqlite);
    run(first.session(), "CREATE TEMP TABLE written_here (x INTEGER)", {});
    txn.commit();
  }
  EXPECT_FALSE(marked(first.session())) << "after its commit the session is still on the writing connection";
  std::thread other([&] {
    Lease second(db);  // another pooled connection: `first` is still held
    EXPECT_NE(&second.session(), &first.session());
    EXPECT_FALSE(marked(second.session()));
    {
      ScopedTransaction txn(second.session(), Dialect::kSqlite);
      EXPECT_TRUE(marked(second.session())) << "a second write transaction ran on another connection";
    }  // rolled back
    EXPECT_FALSE(marked(second.session())) << "after a rollback the session is still on the writing connection";
  });
  other.join();
  std::thread left_open([&] {
    Lease third(db);
    begin(third.session(), Dialect::kSqlite);  // left open: the lease's end rolls it back
    EXPECT_TRUE(marked(third.session()));
  });
  left_open.join();
  std::thread after([&] {
    Lease fourth(db);  // a new thread takes the lowest free connection: the one `third` had
    EXPECT_FALSE(marked(fourth.session())) << "a lease that ended inside a transaction left its session on the writer";
    ScopedTransaction txn(fourth.session(), Dialect::kSqlite);
    EXPECT_TRUE(marked(fourth.session()));
  });
  after.join();
}

TEST(SqliteWriters, AWriterWaitingForItsTurnHoldsNoPooledConnectionFromTheReaders) {
  // One pooled connection: a writer that held it while waiting for the turn would keep every reader waiting too.
  test::TempDir dir;
  DatabaseOptions options;
  options.acquire_timeout_ms = 300;
  auto owned = sqlite_with(dir, options, "CREATE TABLE wait_t (seq INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT)", 1);
  Database& db = *owned;
  std::atomic<bool> first_in{false}, release_first{false};
  std::thread first([&] {
    Lease lease(db, Lease::kForWriting);
    ScopedTransaction txn(lease.session(), Dialect::kSqlite);
    run(lease.session(), "INSERT INTO wait_t (who) VALUES ('first')", {});
    first_in = true;
    while (!release_first) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    txn.commit();
    // The transaction is over: a lease taken now is a pooled one again, not the writing connection.
    Lease after(db);
    EXPECT_FALSE(after.nested());
  });
  while (!first_in) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::thread second([&] {
    Lease lease(db, Lease::kForWriting);  // waits for the turn
    ScopedTransaction txn(lease.session(), Dialect::kSqlite);
    run(lease.session(), "INSERT INTO wait_t (who) VALUES ('second')", {});
    txn.commit();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the second writer is queued by now
  {
    Lease reader(db);  // the one pooled connection is free: neither writer holds it
    EXPECT_EQ(run(reader.session(), "SELECT COUNT(*) FROM wait_t", {}).rows.at(0).at(0).i, 0);
  }
  release_first = true;
  first.join();
  second.join();
  Lease lease(db);
  EXPECT_EQ(written_in_order(lease.session(), "wait_t"), (std::vector<std::string>{"first", "second"}));
}

TEST(SqliteWriters, AWriteOutsideATransactionWaitsForTheTurnInsteadOfFailingOnSqlitesLock) {
  // SQLite's own wait set to a millisecond: a write outside any transaction that went straight to SQLite's lock
  // while a transaction holds it would fail with "database is locked". It takes the writer turn, so it waits for
  // the transaction to end and lands after it.
  test::TempDir dir;
  DatabaseOptions options;
  auto owned = sqlite_with(dir, options, "CREATE TABLE alone_t (seq INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT)", 4, 1);
  Database& db = *owned;
  Lease holder(db);
  auto txn = std::make_unique<ScopedTransaction>(holder.session(), Dialect::kSqlite);
  run(holder.session(), "INSERT INTO alone_t (who) VALUES ('transaction')", {});
  std::string failure;
  std::thread alone([&] {
    try {
      Lease lease(db);
      run(lease.session(), "INSERT INTO alone_t (who) VALUES ('alone')", {});
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  txn->commit();
  txn.reset();
  alone.join();
  EXPECT_EQ(failure, "");
  EXPECT_EQ(written_in_order(holder.session(), "alone_t"), (std::vector<std::string>{"transaction", "alone"}));
}

TEST(SqliteWriters, TheTurnPassesInArrivalOrderAndACheckpointsPassGoesBeforeTheQueue) {
  // Writers queue in the order they came; the checkpointer's pass in the turn (take(ahead)) goes before all of
  // them, since every writer waits while it runs and the WAL it must sync grows while it waits. A writer whose
  // wait times out leaves the queue without holding up those behind it.
  WriterTurn turn;
  turn.timeout = std::chrono::milliseconds(5000);
  ASSERT_TRUE(turn.take());
  std::mutex order_mutex;
  std::vector<std::string> order;
  auto queued = [&](size_t n) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(turn.mutex);
        if (turn.waiting.size() == n) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    FAIL() << "never " << n << " waiting";
  };
  auto writer = [&](std::string name, bool ahead) {
    return std::thread([&, name, ahead] {
      if (!turn.take(ahead)) return;
      {
        std::lock_guard lock(order_mutex);
        order.push_back(name);
      }
      turn.give();
    });
  };
  std::thread first = writer("first", false);
  queued(1);
  std::thread second = writer("second", false);
  queued(2);
  std::thread checkpoint = writer("checkpoint", true);
  queued(3);
  turn.give();
  for (std::thread* t : {&first, &second, &checkpoint}) t->join();
  EXPECT_EQ(order, (std::vector<std::string>{"checkpoint", "first", "second"}));

  // A waiter that gives up, first in line, leaves the turn to the one behind it.
  auto set_timeout = [&](int ms) {
    std::lock_guard lock(turn.mutex);
    turn.timeout = std::chrono::milliseconds(ms);
  };
  set_timeout(100);
  ASSERT_TRUE(turn.take());
  std::atomic<bool> gave_up{false};
  std::thread leaving([&] { gave_up = !turn.take(); });
  queued(1);
  set_timeout(5000);
  std::thread staying = writer("staying", false);
  queued(2);
  leaving.join();
  EXPECT_TRUE(gave_up);
  turn.give();
  staying.join();
  EXPECT_EQ(order.back(), "staying");
}

// A row of gather_t: 3,000 bytes of one letter chosen by its key, so a reader can tell a whole row from a torn one.
constexpr const char* kGatherRow = "INSERT INTO gather_t (k, body) VALUES (?, replace(hex(zeroblob(1500)), '0', char(65 + ? % 26)))";
constexpr const char* kTornRows = "SELECT COUNT(*) FROM gather_t WHERE body <> replace(hex(zeroblob(1500)), '0', char(65 + k % 26))";

TEST(SqliteWalWrites, ACommitReachesTheWalInOneWrite) {
  // SQLite writes a frame's header and its page separately; the store's VFS hands a commit's frames to the WAL
  // file in one write (wal_writes.h).
  test::TempDir dir;
  DatabaseOptions options;
  auto owned = sqlite_with(dir, options, "CREATE TABLE gather_t (k INTEGER PRIMARY KEY, body TEXT NOT NULL)", 2);
  Database& db = *owned;
  auto commit_rows = [&](int from, int to) {
    Lease lease(db, Lease::kForWriting);
    ScopedTransaction txn(lease.session(), Dialect::kSqlite);
    for (int k = from; k < to; ++k) {
      Param p[] = {Param::integer(k), Param::integer(k)};
      run(lease.session(), kGatherRow, p);
    }
    txn.commit();
  };
  const WalWriteCounts before = wal_write_counts();
  commit_rows(0, 12);
  const WalWriteCounts after = wal_write_counts();
  EXPECT_GE(after.asked - before.asked, 2u * 12) << "a header and a page per frame, twelve pages at least";
  EXPECT_EQ(after.made - before.made, 1u);
  // A commit larger than one write of the file (the unix VFS takes under 128 KiB a call) goes in a few pieces.
  commit_rows(12, 212);
  const WalWriteCounts large = wal_write_counts();
  EXPECT_GE(large.asked - after.asked, 2u * 200);
  EXPECT_LE(large.made - after.made, 10u);
  Lease reader(db);
  EXPECT_EQ(run(reader.session(), "SELECT COUNT(*) FROM gather_t", {}).rows.at(0).at(0).i, 212);
  EXPECT_EQ(run(reader.session(), kTornRows, {}).rows.at(0).at(0).i, 0);
}

TEST(SqliteWalWrites, EveryConnectionSeesWholeCommitsWhileWritersGoOn) {
  // A commit is published in the WAL index for other connections to read; its frames must be in the file by then.
  // Readers on the pool's other connections check every row they see is whole and never see fewer rows than before.
  test::TempDir dir;
  DatabaseOptions options;
  auto owned = sqlite_with(dir, options, "CREATE TABLE gather_t (k INTEGER PRIMARY KEY, body TEXT NOT NULL)", 4);
  Database& db = *owned;
  constexpr int kWriters = 2, kCommits = 300, kRows = 15;  // 45 KiB a commit, some up to 128 KiB
  std::atomic<bool> writing{true};
  std::atomic<int> failures{0}, torn{0}, went_back{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int c = 0; c < kCommits; ++c) {
        try {
          Lease lease(db);
          ScopedTransaction txn(lease.session(), Dialect::kSqlite);
          for (int r = 0; r < kRows; ++r) {
            const int64_t k = (int64_t{w} * kCommits + c) * kRows + r;
            Param p[] = {Param::integer(k), Param::integer(k)};
            run(lease.session(), kGatherRow, p);
          }
          txn.commit();
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  }
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      int64_t seen = 0;
      while (writing) {
        try {
          Lease lease(db);
          const int64_t count = run(lease.session(), "SELECT COUNT(*) FROM gather_t", {}).rows.at(0).at(0).i;
          if (count < seen || count % kRows != 0) ++went_back;
          seen = count;
          torn += static_cast<int>(run(lease.session(), kTornRows, {}).rows.at(0).at(0).i);
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  writing = false;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(went_back.load(), 0) << "a reader saw part of a commit, or fewer rows than before";
  Lease lease(db);
  EXPECT_EQ(run(lease.session(), "SELECT COUNT(*) FROM gather_t", {}).rows.at(0).at(0).i, kWriters * kCommits * kRows);
  EXPECT_EQ(run(lease.session(), "PRAGMA integrity_check", {}).rows.at(0).at(0).s, "ok");
}

// Whether a child process could lock SQLite's shared-lock range of `file` for writing, as a connection closing
// last does before it checks the WAL in and deletes it. Asked from a child: a descriptor of the file opened and
// closed here would drop this process's own locks on it.
bool another_process_can_lock_exclusively(const std::string& file) {
  const pid_t child = ::fork();
  if (child == 0) {
    const int fd = ::open(file.c_str(), O_RDWR);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0x40000000 + 2;  // SQLite's PENDING_BYTE + 2: SHARED_FIRST
    lock.l_len = 510;               // SHARED_SIZE
    ::_exit(fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(SqliteWriters, WritersThatNeverPauseKeepTheWalBoundedAndLoseNothing) {
  // Checkpoints run beside the writers (database.cpp, Checkpointer), and a WAL starts over only after a checkpoint
  // that copied all of it: writers that never pause, with readers beside them, must still see it start over
  // instead of growing with everything ever written.
  test::TempDir dir;
  DatabaseOptions options;
  auto owned = sqlite_with(dir, options, "CREATE TABLE wal_t (k INTEGER PRIMARY KEY, body BLOB NOT NULL)", 4);
  Database& db = *owned;
  constexpr int kWriters = 2, kEach = 2000;  // 64 KiB each: about 68,000 pages of 4 KiB written in all
  std::atomic<bool> writing{true};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        try {
          Lease lease(db);
          ScopedTransaction txn(lease.session(), Dialect::kSqlite);
          Param p[] = {Param::integer(t * kEach + i)};
          run(lease.session(), "INSERT INTO wal_t (k, body) VALUES (?, randomblob(65536))", p);
          txn.commit();
        } catch (const std::exception&) {
          ++failed;
        }
      }
    });
  }
  std::thread reader([&] {
    while (writing) {
      Lease lease(db);
      run(lease.session(), "SELECT COUNT(*) FROM wal_t", {});
    }
  });
  for (auto& t : threads) t.join();
  writing = false;
  reader.join();
  EXPECT_EQ(failed.load(), 0);
  // The WAL header counts the times it started over (bytes 12–15, big-endian); its file keeps its largest size.
  std::ifstream header(options.target + "-wal", std::ios::binary);
  unsigned char bytes[16] = {};
  ASSERT_TRUE(header.read(reinterpret_cast<char*>(bytes), sizeof bytes));
  const uint32_t restarts = uint32_t{bytes[12]} << 24 | uint32_t{bytes[13]} << 16 | uint32_t{bytes[14]} << 8 | bytes[15];
  EXPECT_GE(restarts, 1u) << "the WAL never started over";
  const uintmax_t written = uintmax_t{kWriters} * kEach * 65536;
  EXPECT_LT(std::filesystem::file_size(options.target + "-wal"), written) << "the WAL holds everything ever written";
  // The checkpoints left this process its lock on the database file: another process able to lock it exclusively
  // would take every connection here for gone, check the WAL into the file and delete it under them.
  EXPECT_FALSE(another_process_can_lock_exclusively(options.target));
  Lease lease(db);
  EXPECT_EQ(run(lease.session(), "SELECT COUNT(*), SUM(LENGTH(body)) FROM wal_t", {}).rows.at(0).at(0).i, kWriters * kEach);
}

}  // namespace
}  // namespace annex::store

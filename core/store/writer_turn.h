#pragma once
// The writer turn of a SQLite database (database.cpp): internal to the store, in a header of its own so that its
// order can be tested.

#include "store/database.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

namespace sqlite_api {
struct sqlite3;
}

namespace annex::store {

// SQLite has one writer at a time. Waiting on SQLite's own lock means polling it with growing sleeps (its busy
// handler): under many writers most of the time goes asleep while the lock is free, and a writer may give up with
// "database is locked". So a SQLite database's write transactions first take its writer turn here, which passes
// to the next waiter the moment the previous transaction ends — in the order the writers came (a semaphore gives
// no order, and under load some writers waited seconds while later ones went first). It may be given back on any
// thread; a writer whose wait passes the timeout leaves the queue without holding up those behind it. Only the
// writer next in line is woken (waking every waiter to let one through cost a sixth of the daemon's time under
// 32 concurrent writers, all of it in the scheduler).
//
// The turn also carries the database's one writing connection. A pooled connection drops its whole page cache
// whenever another connection has committed since its last transaction, so with writes spread over the pool every
// transaction read each page it touched from the file again. Write transactions instead all run on `connection`,
// whose cache stays valid because no other connection writes (see take_writer_turn).
struct WriterTurn {
  std::mutex mutex;
  bool held = false;
  std::deque<std::condition_variable*> waiting;  // in arrival order, but for a take(ahead)
  std::chrono::milliseconds timeout{0};
  sqlite_api::sqlite3* connection = nullptr;

  // `ahead` puts the caller before every writer already waiting (the checkpointer's pass in the turn, database.cpp).
  bool take(bool ahead = false) {
    std::unique_lock<std::mutex> lock(mutex);
    if (!held && waiting.empty()) {
      held = true;
      return true;
    }
    std::condition_variable mine;
    if (ahead) {
      waiting.push_front(&mine);
    } else {
      waiting.push_back(&mine);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!held && waiting.front() == &mine) {
        waiting.pop_front();
        held = true;
        return true;
      }
      if (mine.wait_until(lock, deadline) == std::cv_status::timeout && (held || waiting.front() != &mine)) {
        const bool first = waiting.front() == &mine;
        waiting.erase(std::find(waiting.begin(), waiting.end(), &mine));
        if (first && !held && !waiting.empty()) waiting.front()->notify_one();  // the next in line is first now
        return false;
      }
    }
  }
  void take_or_throw() {
    if (!take()) throw StoreError(StoreError::Kind::kPoolExhausted, "the database is busy: no turn to write came in time");
  }
  void give() {
    // Notified under the lock: a waiter that timed out cannot have left (and destroyed its variable) meanwhile.
    std::lock_guard<std::mutex> lock(mutex);
    held = false;
    if (!waiting.empty()) waiting.front()->notify_one();
  }
};

}  // namespace annex::store

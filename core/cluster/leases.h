// Leases — named work that one daemon at a time may do, held in the database so that every annexd on one
// PostgreSQL sees them: a job's tick, a sync run of one stream in one direction, a subscriber's deliveries.
//
// A lease is taken for a time (its ttl) and renewed while the work runs; a daemon killed mid-work stops renewing
// and another takes the lease over once it has expired. Expiry is by the database's clock, so the daemons' own
// clocks never have to agree. A lease may also be kept after the work, until the work is next due: a job's
// lease then says "done until then" to every daemon.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace annex::store {
class Database;
}

namespace annex::cluster {

class Leases {
 public:
  // `daemon` names this daemon in the leases it holds (see daemon_name()).
  Leases(store::Database& db, std::string daemon);
  ~Leases();
  Leases(const Leases&) = delete;
  Leases& operator=(const Leases&) = delete;

  const std::string& daemon() const { return daemon_; }

  // Takes `name` for `ttl` when no daemon holds it, its lease expired, or its holder was a process of this host
  // that is gone (a daemon killed and started again need not wait for its own leases). True when taken;
  // otherwise, with `left`, how long the holder's lease still runs.
  bool take(const std::string& name, std::chrono::milliseconds ttl, std::chrono::milliseconds* left = nullptr);
  // Creates `name` until `ttl` from now unless it exists (work first due `ttl` from now), held by no process: see
  // settle().
  void seed(const std::string& name, std::chrono::milliseconds ttl);
  // Turns a lease this daemon holds into a time: held until `ttl` from now by no process (kSchedule), so that
  // the end of this process does not free it early — for "the work is done until then" (an interval job's next
  // time, a calendar time already run), as opposed to work in progress. False when it is not this daemon's.
  bool settle(const std::string& name, std::chrono::milliseconds ttl);
  static constexpr const char* kSchedule = "schedule";
  // Sets a lease this daemon holds to end `ttl` from now; false when it is no longer this daemon's.
  bool hold_for(const std::string& name, std::chrono::milliseconds ttl);
  // Ends `name`'s lease, whoever holds it: the work is due again now.
  void expire(const std::string& name);
  // Gives back a lease this daemon holds.
  void release(const std::string& name);

  struct Holder {
    std::string daemon;
    std::string since;  // when it took the lease (UTC, ISO-8601)
    int64_t left_ms = 0;
  };
  // Who holds `name` now (an expired lease is held by no one).
  std::optional<Holder> holder(const std::string& name);

  // Renews `name` every third of `ttl` until forget() — for work that runs longer than a lease.
  void keep(const std::string& name, std::chrono::milliseconds ttl);
  void forget(const std::string& name);

  // "host:pid:xxxx" — the host, the process and four random hex digits (a process id may come again).
  static std::string daemon_name();
  // Whether `daemon` names a process of this host that no longer runs.
  static bool gone(const std::string& daemon);

 private:
  void renew_loop();

  store::Database& db_;
  std::string daemon_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::chrono::milliseconds> kept_;  // lease → its ttl
  bool stopping_ = false;
  std::thread renewer_;
};

// A lease held for the length of a scope: taken (or not) on construction, renewed meanwhile, released at the end
// unless kept until a later time with hold_until_due().
class HeldLease {
 public:
  HeldLease(Leases& leases, std::string name, std::chrono::milliseconds ttl);
  ~HeldLease();
  HeldLease(const HeldLease&) = delete;
  HeldLease& operator=(const HeldLease&) = delete;

  bool held() const { return held_; }
  // How long the other holder's lease still runs (when not held).
  std::chrono::milliseconds left() const { return left_; }
  // Keeps the lease `ttl` longer after the scope, instead of giving it back.
  void hold_after(std::chrono::milliseconds ttl) { after_ = ttl; }

 private:
  Leases& leases_;
  std::string name_;
  bool held_ = false;
  std::chrono::milliseconds left_{0};
  std::optional<std::chrono::milliseconds> after_;
};

}  // namespace annex::cluster

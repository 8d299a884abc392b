#include "cluster/leases.h"

#include "clock/utc.h"
#include "store/database.h"
#include "store/sql.h"

#include <Poco/Environment.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <random>
#include <unistd.h>

namespace annex::cluster {

using store::Param;

namespace {

// Milliseconds since the epoch by the database's clock, as SQL.
const char* now_ms(store::Dialect d) {
  return d == store::Dialect::kPostgresql ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
                                          : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
}

}  // namespace

Leases::Leases(store::Database& db, std::string daemon) : db_(db), daemon_(std::move(daemon)) {
  renewer_ = std::thread([this] { renew_loop(); });
}

Leases::~Leases() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  renewer_.join();
}

std::string Leases::daemon_name() {
  std::random_device random;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(random() & 0xffff));
  return Poco::Environment::nodeName() + ":" + std::to_string(::getpid()) + ":" + suffix;
}

bool Leases::gone(const std::string& daemon) {
  // "host:pid:xxxx", after "annexctl@" for annexctl.
  std::string name = daemon.substr(daemon.find('@') == std::string::npos ? 0 : daemon.find('@') + 1);
  size_t first = name.find(':'), last = name.rfind(':');
  if (first == std::string::npos || last == first || name.substr(0, first) != Poco::Environment::nodeName()) return false;
  int pid = std::atoi(name.substr(first + 1, last - first - 1).c_str());
  if (pid <= 1 || pid == ::getpid()) return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

bool Leases::take(const std::string& name, std::chrono::milliseconds ttl, std::chrono::milliseconds* left) {
  const std::string now = now_ms(db_.dialect());
  store::Lease lease(db_);
  const std::string since = clock::utc_now();
  Param p[] = {Param::text(name), Param::text(daemon_), Param::integer(ttl.count()), Param::text(since)};
  // Taken when there is no lease yet or the one there has expired: a conflicting insert that updates nothing
  // affects no row.
  auto rs = store::run(lease.session(),
                       "INSERT INTO annex_leases (name, daemon, expires_ms, since) VALUES (?, ?, " + now + " + ?, ?)"
                       " ON CONFLICT (name) DO UPDATE SET daemon = excluded.daemon, expires_ms = excluded.expires_ms,"
                       " since = excluded.since WHERE annex_leases.expires_ms <= " + now,
                       p);
  if (rs.affected > 0) return true;
  // Held by a process of this host that is gone (a daemon killed and started again): free now, not at expiry.
  Param n = Param::text(name);
  auto held = store::run(lease.session(), "SELECT daemon FROM annex_leases WHERE name = ?", std::span<const Param>(&n, 1));
  if (!held.rows.empty() && gone(held.rows[0][0].s)) {
    Param swap[] = {Param::text(daemon_), Param::integer(ttl.count()), Param::text(since), Param::text(name), Param::text(held.rows[0][0].s)};
    if (store::run(lease.session(), "UPDATE annex_leases SET daemon = ?, expires_ms = " + now + " + ?, since = ? WHERE name = ? AND daemon = ?", swap)
            .affected > 0) {
      return true;
    }
  }
  if (left != nullptr) {
    Param n = Param::text(name);
    auto held = store::run(lease.session(), "SELECT expires_ms - " + now + " FROM annex_leases WHERE name = ?", std::span<const Param>(&n, 1));
    *left = std::chrono::milliseconds(held.rows.empty() ? 0 : std::max<int64_t>(0, held.rows[0][0].i));
  }
  return false;
}

void Leases::seed(const std::string& name, std::chrono::milliseconds ttl) {
  store::Lease lease(db_);
  const std::string since = clock::utc_now();
  const std::string holder = kSchedule;
  Param p[] = {Param::text(name), Param::text(holder), Param::integer(ttl.count()), Param::text(since)};
  store::run(lease.session(),
             std::string("INSERT INTO annex_leases (name, daemon, expires_ms, since) VALUES (?, ?, ") + now_ms(db_.dialect()) +
                 " + ?, ?) ON CONFLICT (name) DO NOTHING",
             p);
}

bool Leases::settle(const std::string& name, std::chrono::milliseconds ttl) {
  forget(name);
  store::Lease lease(db_);
  const std::string holder = kSchedule;
  Param p[] = {Param::text(holder), Param::integer(ttl.count()), Param::text(name), Param::text(daemon_)};
  return store::run(lease.session(),
                    std::string("UPDATE annex_leases SET daemon = ?, expires_ms = ") + now_ms(db_.dialect()) +
                        " + ? WHERE name = ? AND daemon = ?",
                    p)
             .affected > 0;
}

bool Leases::hold_for(const std::string& name, std::chrono::milliseconds ttl) {
  store::Lease lease(db_);
  Param p[] = {Param::integer(ttl.count()), Param::text(name), Param::text(daemon_)};
  return store::run(lease.session(),
                    std::string("UPDATE annex_leases SET expires_ms = ") + now_ms(db_.dialect()) + " + ? WHERE name = ? AND daemon = ?", p)
             .affected > 0;
}

void Leases::expire(const std::string& name) {
  store::Lease lease(db_);
  Param p = Param::text(name);
  store::run(lease.session(), "UPDATE annex_leases SET expires_ms = 0 WHERE name = ?", std::span<const Param>(&p, 1));
}

void Leases::release(const std::string& name) {
  store::Lease lease(db_);
  Param p[] = {Param::text(name), Param::text(daemon_)};
  store::run(lease.session(), "DELETE FROM annex_leases WHERE name = ? AND daemon = ?", p);
}

std::optional<Leases::Holder> Leases::holder(const std::string& name) {
  const std::string now = now_ms(db_.dialect());
  store::Lease lease(db_);
  Param p = Param::text(name);
  auto rs = store::run(lease.session(),
                       "SELECT daemon, since, expires_ms - " + now + " FROM annex_leases WHERE name = ? AND expires_ms > " + now,
                       std::span<const Param>(&p, 1));
  if (rs.rows.empty()) return std::nullopt;
  return Holder{rs.rows[0][0].s, rs.rows[0][1].s, rs.rows[0][2].i};
}

void Leases::keep(const std::string& name, std::chrono::milliseconds ttl) {
  std::lock_guard lock(mutex_);
  kept_[name] = ttl;
  wake_.notify_all();
}

void Leases::forget(const std::string& name) {
  std::lock_guard lock(mutex_);
  kept_.erase(name);
}

void Leases::renew_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto every = std::chrono::milliseconds(1000);
    for (const auto& [name, ttl] : kept_) every = std::min(every, std::max(std::chrono::milliseconds(50), ttl / 3));
    wake_.wait_for(lock, every);
    if (stopping_) break;
    std::map<std::string, std::chrono::milliseconds> kept = kept_;
    lock.unlock();
    for (const auto& [name, ttl] : kept) {
      try {
        if (!hold_for(name, ttl)) {
          std::lock_guard relock(mutex_);
          if (kept_.erase(name) > 0) spdlog::warn("lease {}: taken over by another daemon (this one did not renew it in time)", name);
        }
      } catch (const std::exception& e) {
        spdlog::warn("lease {}: could not be renewed: {}", name, e.what());
      }
    }
    lock.lock();
  }
}

HeldLease::HeldLease(Leases& leases, std::string name, std::chrono::milliseconds ttl) : leases_(leases), name_(std::move(name)) {
  held_ = leases_.take(name_, ttl, &left_);
  if (held_) leases_.keep(name_, ttl);
}

HeldLease::~HeldLease() {
  if (!held_) return;
  leases_.forget(name_);
  try {
    if (after_) leases_.hold_for(name_, *after_);
    else leases_.release(name_);
  } catch (const std::exception& e) {
    spdlog::warn("lease {}: could not be given back (it expires by itself): {}", name_, e.what());
  }
}

}  // namespace annex::cluster

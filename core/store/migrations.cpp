#include "store/migrations.h"

#include "clock/utc.h"
#include "crypto/digest.h"
#include "store/sql.h"
#include "store/transaction.h"

#include <soci/soci.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>

namespace annex::store {
namespace {

void sort_and_check(const std::string& owner, std::vector<Migration>& migrations) {
  std::sort(migrations.begin(), migrations.end(), [](auto& a, auto& b) { return a.version < b.version; });
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version == 0) throw MigrationError(owner + ": migration versions start at 1");
    if (i > 0 && migrations[i].version == migrations[i - 1].version) {
      throw MigrationError(owner + ": migration " + std::to_string(migrations[i].version) + " is defined twice");
    }
  }
}

struct Applied {
  std::string name;
  std::string checksum;
  std::string applied_at;
};

std::map<uint32_t, Applied> read_applied(soci::session& session, const std::string& owner) {
  std::map<uint32_t, Applied> out;
  Param p = Param::text(owner);
  ResultSet rs = run(session, "SELECT version, name, checksum, applied_at FROM annex_schema_migrations WHERE owner = ?",
                     std::span<const Param>(&p, 1));
  for (auto& row : rs.rows) {
    out[static_cast<uint32_t>(row[0].i)] = Applied{row[1].s, row[2].s, row[3].s};
  }
  return out;
}

}  // namespace

const char* to_string(MigrationState::State s) {
  switch (s) {
    case MigrationState::State::kPending: return "pending";
    case MigrationState::State::kApplied: return "applied";
    case MigrationState::State::kChanged: return "CHANGED";
    case MigrationState::State::kMissing: return "missing";
  }
  return "?";
}

MigrationRunner::MigrationRunner(Database& db) : db_(db) {}

void MigrationRunner::prepare() {
  Lease lease(db_);
  run(lease.session(),
      "CREATE TABLE IF NOT EXISTS annex_schema_migrations ("
      " owner TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL,"
      " applied_at TEXT NOT NULL, PRIMARY KEY (owner, version))",
      {});
}

std::vector<MigrationState> MigrationRunner::status(const std::string& owner, std::vector<Migration> migrations) {
  sort_and_check(owner, migrations);
  Lease lease(db_);
  std::map<uint32_t, Applied> applied = read_applied(lease.session(), owner);
  std::vector<MigrationState> out;
  for (const Migration& m : migrations) {
    MigrationState s{m.version, m.name, crypto::sha256_hex(m.sql), {}, MigrationState::State::kPending};
    if (auto it = applied.find(m.version); it != applied.end()) {
      s.applied_at = it->second.applied_at;
      s.state = it->second.checksum == s.checksum ? MigrationState::State::kApplied : MigrationState::State::kChanged;
      applied.erase(it);
    }
    out.push_back(std::move(s));
  }
  for (auto& [version, a] : applied) {
    out.push_back(MigrationState{version, a.name, a.checksum, a.applied_at, MigrationState::State::kMissing});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.version < b.version; });
  return out;
}

int MigrationRunner::apply(const std::string& owner, std::vector<Migration> migrations) {
  sort_and_check(owner, migrations);
  Lease lease(db_);
  soci::session& session = lease.session();
  int ran = 0;
  for (const Migration& m : migrations) {
    std::string checksum = crypto::sha256_hex(m.sql);
    ScopedTransaction txn(session, db_.dialect());
    if (db_.dialect() == Dialect::kPostgresql) {
      // Two daemons starting together on one database take turns here.
      run(session, "SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock(4242424242)) AS turn", {});
    }
    // Read inside the transaction: another process may have applied it meanwhile.
    std::map<uint32_t, Applied> applied = read_applied(session, owner);
    if (auto it = applied.find(m.version); it != applied.end()) {
      if (it->second.checksum != checksum) {
        throw MigrationError(owner + ": migration " + std::to_string(m.version) + " (" + m.name +
                             ") was applied on " + it->second.applied_at +
                             " and its SQL has changed since; restore the original file or add a new migration");
      }
      continue;
    }
    if (!applied.empty() && applied.rbegin()->first > m.version) {
      throw MigrationError(owner + ": migration " + std::to_string(m.version) + " (" + m.name +
                           ") is older than the applied migration " + std::to_string(applied.rbegin()->first) +
                           "; renumber it after the applied ones");
    }
    try {
      for (const std::string& statement : split_statements(m.sql)) run(session, statement, {});
    } catch (const StoreError& e) {
      throw MigrationError(owner + ": migration " + std::to_string(m.version) + " (" + m.name +
                           ") failed and was rolled back: " + e.what());
    }
    const std::string applied_at = clock::utc_now();  // Param holds a view: the string must outlive the call
    Param params[] = {Param::text(owner), Param::integer(m.version), Param::text(m.name), Param::text(checksum),
                      Param::text(applied_at)};
    run(session,
        "INSERT INTO annex_schema_migrations (owner, version, name, checksum, applied_at) VALUES (?, ?, ?, ?, ?)",
        params);
    txn.commit();
    ++ran;
  }
  return ran;
}

}  // namespace annex::store

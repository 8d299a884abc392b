#include "store/database.h"

#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <libpq-fe.h>

#include <filesystem>
#include <regex>

namespace annex::store {

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
    : options_(options), pool_(std::make_unique<soci::connection_pool>(options.pool_size)) {
  if (options_.dialect == Dialect::kSqlite) {
    std::filesystem::path file(options_.target);
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  }
  for (int i = 0; i < options_.pool_size; ++i) open_session(pool_->at(i));
}

Database::~Database() = default;

void Database::open_session(soci::session& session) {
  try {
    if (options_.dialect == Dialect::kSqlite) {
      session.open(*soci::factory_sqlite3(), "db=" + options_.target);
      // WAL lets readers run beside the one writer; NORMAL is durable across a process crash in WAL mode.
      session << "PRAGMA journal_mode=WAL";
      session << "PRAGMA synchronous=NORMAL";
      session << "PRAGMA foreign_keys=ON";
      session << "PRAGMA busy_timeout=" + std::to_string(options_.busy_timeout_ms);
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

Lease::Lease(Database& db) : db_(db), position_(db.pool().lease()), session_(&db.pool().at(position_)) {}
Lease::~Lease() { db_.pool().give_back(position_); }

}  // namespace annex::store

#include "store/sql.h"

#include "store/database.h"
#include "store/sql_postgresql.h"
#include "store/transaction.h"

#include <soci/soci.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>  // declares SQLite's API inside namespace sqlite_api

#include <cstring>
#include <ctime>
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace annex::store {
namespace {

using namespace sqlite_api;

// Walks `sql`, calling on_char for each character outside quotes and comments. Returns the text with quoted
// parts and comments copied through unchanged and other characters replaced by what on_char returns.
template <typename OnChar>
std::string scan(std::string_view sql, OnChar on_char) {
  std::string out;
  out.reserve(sql.size() + 16);
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      size_t end = i + 1;
      while (end < sql.size()) {
        if (sql[end] == c) {
          if (end + 1 < sql.size() && sql[end + 1] == c) {
            end += 2;  // doubled quote inside the literal
            continue;
          }
          break;
        }
        ++end;
      }
      end = std::min(end + 1, sql.size());
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      end = end == std::string_view::npos ? sql.size() : end + 2;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '$') {
      // PostgreSQL dollar quoting: $tag$ … $tag$
      size_t tag_end = i + 1;
      while (tag_end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[tag_end])) || sql[tag_end] == '_')) ++tag_end;
      if (tag_end < sql.size() && sql[tag_end] == '$') {
        std::string_view tag = sql.substr(i, tag_end - i + 1);
        size_t close = sql.find(tag, tag_end + 1);
        size_t end = close == std::string_view::npos ? sql.size() : close + tag.size();
        out.append(sql.substr(i, end - i));
        i = end;
      } else {
        out += on_char(c);
        ++i;
      }
    } else {
      out += on_char(c);
      ++i;
    }
  }
  return out;
}

// SQLite through its own API rather than SOCI's rows: SOCI types a result column from its declared type, so
// an expression (COUNT(*), MAX(x)) comes back as text and an INTEGER column as a 32-bit int. SQLite knows the
// type of each value; reading it directly keeps every integer a full int64 (money is int64 minor units).
// Prepared statements kept per connection, so a route that runs the same SQL on every request does not parse
// it every time. A connection is used by one thread at a time (it is leased), so only finding its cache needs
// the lock. A statement is reset as soon as its rows are read: a statement left mid-read would hold a read
// transaction open and stop WAL checkpoints.
class StatementCache {
 public:
  static constexpr size_t kMaxStatements = 128;

  ~StatementCache() { clear(); }
  sqlite3_stmt* find(std::string_view sql) {
    auto it = statements_.find(std::string(sql));
    return it == statements_.end() ? nullptr : it->second;
  }
  void keep(std::string_view sql, sqlite3_stmt* stmt) {
    if (statements_.size() >= kMaxStatements) clear();
    statements_.emplace(std::string(sql), stmt);
  }
  void clear() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
  }

 private:
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

std::mutex g_caches_mutex;
std::unordered_map<sqlite3*, std::unique_ptr<StatementCache>> g_caches;
std::atomic<uint64_t> g_caches_generation{0};  // bumped whenever a cache is dropped

// Finding a connection's cache happens on every query from every HTTP thread; each thread remembers what it
// found, so the shared map (and its lock) is consulted once per thread and connection, not once per query.
StatementCache& cache_for(sqlite3* db) {
  thread_local std::unordered_map<sqlite3*, StatementCache*> seen;
  thread_local uint64_t seen_generation = 0;
  uint64_t generation = g_caches_generation.load(std::memory_order_acquire);
  if (generation != seen_generation) {
    seen.clear();
    seen_generation = generation;
  }
  if (auto it = seen.find(db); it != seen.end()) return *it->second;
  std::lock_guard lock(g_caches_mutex);
  auto& cache = g_caches[db];
  if (!cache) cache = std::make_unique<StatementCache>();
  seen[db] = cache.get();
  return *cache;
}

// Resets a cached statement (or finalizes an uncached one) when the read is over, however it ends.
struct StatementLease {
  sqlite3_stmt* stmt;
  bool cached;
  ~StatementLease() {
    if (stmt == nullptr) return;
    if (cached) {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    } else {
      sqlite3_finalize(stmt);
    }
  }
  sqlite3_stmt* get() const { return stmt; }
};

StoreError sqlite_error(sqlite3* db, int code) {
  std::string message = sqlite3_errmsg(db);
  int primary = code & 0xff;
  if (primary == SQLITE_CONSTRAINT) return StoreError(StoreError::Kind::kConstraint, message);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR || primary == SQLITE_FULL) {
    return StoreError(StoreError::Kind::kUnavailable, message);
  }
  if (primary == SQLITE_ERROR || primary == SQLITE_RANGE || primary == SQLITE_MISMATCH) {
    return StoreError(StoreError::Kind::kBadStatement, message);
  }
  return StoreError(StoreError::Kind::kOther, message);
}

// The statement for `sql` on `db`, from the connection's cache or prepared (and kept there unless it is long).
// Its get() is null for only whitespace or a comment. Throws StoreError when it does not prepare.
StatementLease prepare(sqlite3* db, std::string_view sql) {
  StatementCache& cache = cache_for(db);
  if (sqlite3_stmt* found = cache.find(sql)) return StatementLease{found, true};
  sqlite3_stmt* found = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &found, &tail);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(found);
    throw sqlite_error(db, rc);
  }
  if (found == nullptr) return StatementLease{nullptr, false};
  if (tail != nullptr && std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    sqlite3_finalize(found);
    throw StoreError(StoreError::Kind::kBadStatement, "one statement at a time: text follows the first statement");
  }
  // Long statements are one-offs (migrations); the rest are what routes run again and again.
  if (sql.size() >= 4096) return StatementLease{found, false};
  cache.keep(sql, found);
  return StatementLease{found, true};
}

ResultSet run_sqlite(sqlite3* db, std::string_view sql, std::span<const Param> params) {
  StatementLease stmt = prepare(db, sql);
  if (stmt.get() == nullptr) return {};  // only whitespace or a comment
  int rc = SQLITE_OK;
  auto fail = [&](int code) { return sqlite_error(db, code); };
  int expected = sqlite3_bind_parameter_count(stmt.get());
  if (expected != static_cast<int>(params.size())) {
    throw StoreError(StoreError::Kind::kBadStatement, "the statement has " + std::to_string(expected) +
                                                          " placeholders but " + std::to_string(params.size()) +
                                                          " parameters were given");
  }
  for (size_t k = 0; k < params.size(); ++k) {
    const Param& p = params[k];
    int i = static_cast<int>(k) + 1;
    switch (p.type) {
      case CellType::kNull: rc = sqlite3_bind_null(stmt.get(), i); break;
      case CellType::kInt: rc = sqlite3_bind_int64(stmt.get(), i, p.i); break;
      case CellType::kDouble: rc = sqlite3_bind_double(stmt.get(), i, p.d); break;
      case CellType::kText:
        rc = sqlite3_bind_text64(stmt.get(), i, p.s.data(), p.s.size(), SQLITE_STATIC, SQLITE_UTF8);
        break;
      case CellType::kBlob: rc = sqlite3_bind_blob64(stmt.get(), i, p.s.data(), p.s.size(), SQLITE_STATIC); break;
    }
    if (rc != SQLITE_OK) throw fail(rc);
  }
  ResultSet result;
  int columns = sqlite3_column_count(stmt.get());
  for (int c = 0; c < columns; ++c) result.columns.emplace_back(sqlite3_column_name(stmt.get(), c));
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    std::vector<Cell> cells(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      Cell& cell = cells[static_cast<size_t>(c)];
      switch (sqlite3_column_type(stmt.get(), c)) {
        case SQLITE_INTEGER:
          cell.type = CellType::kInt;
          cell.i = sqlite3_column_int64(stmt.get(), c);
          break;
        case SQLITE_FLOAT:
          cell.type = CellType::kDouble;
          cell.d = sqlite3_column_double(stmt.get(), c);
          break;
        case SQLITE_TEXT:
          cell.type = CellType::kText;
          cell.s.assign(reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), c)),
                        static_cast<size_t>(sqlite3_column_bytes(stmt.get(), c)));
          break;
        case SQLITE_BLOB:
          cell.type = CellType::kBlob;
          cell.s.assign(static_cast<const char*>(sqlite3_column_blob(stmt.get(), c)),
                        static_cast<size_t>(sqlite3_column_bytes(stmt.get(), c)));
          break;
        default:
          break;
      }
    }
    result.rows.push_back(std::move(cells));
  }
  if (rc != SQLITE_DONE) throw fail(rc);
  result.affected = sqlite3_stmt_readonly(stmt.get()) ? 0 : sqlite3_changes(db);
  return result;
}

}  // namespace

std::string rewrite_placeholders(std::string_view sql, size_t* count) {
  size_t n = 0;
  std::string out = scan(sql, [&](char c) -> std::string {
    if (c != '?') return std::string(1, c);
    return "$" + std::to_string(++n);
  });
  if (count != nullptr) *count = n;
  return out;
}

std::string find_identifier(std::string_view sql, const std::function<bool(const std::string&)>& wanted) {
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; };
  auto word_at = [&](std::string_view text, size_t i) {
    std::string word;
    while (i < text.size() && ident(text[i])) word += lower(text[i++]);
    return word;
  };
  std::string outside;
  scan(sql, [&](char c) {
    outside += c;
    return std::string(1, c);
  });
  for (size_t i = 0; i < outside.size(); ++i) {
    if (ident(outside[i]) && (i == 0 || !ident(outside[i - 1]))) {
      std::string word = word_at(outside, i);
      if (wanted(word)) return word;
    }
  }
  // Quoted identifiers ("annex_audit") are passed over by scan(); look for them directly.
  for (size_t i = sql.find('"'); i != std::string_view::npos; i = sql.find('"', i + 1)) {
    std::string word = word_at(sql, i + 1);
    if (wanted(word)) return word;
  }
  return {};
}

std::vector<std::string> created_tables(std::string_view script) {
  std::vector<std::string> out;
  for (const std::string& statement : split_statements(script)) {
    // The words of the statement outside literals and comments, upper-cased for the keywords.
    std::vector<std::string> words;
    std::string word;
    std::string text;  // what lies outside literals and comments
    scan(statement, [&](char c) {
      text += c;
      return std::string(1, c);
    });
    for (size_t i = 0; i <= text.size(); ++i) {
      char c = i < text.size() ? text[i] : ' ';
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '"' || c == '.') {
        if (c != '"') word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (!word.empty()) {
        words.push_back(std::move(word));
        word.clear();
        if (words.size() > 8) break;
      }
    }
    size_t at = 0;
    if (words.size() < 3 || words[at++] != "create") continue;
    if (words[at] == "temporary" || words[at] == "temp" || words[at] == "unlogged") ++at;
    if (at >= words.size() || (words[at] != "table" && words[at] != "view")) continue;
    ++at;
    if (at + 2 < words.size() && words[at] == "if" && words[at + 1] == "not" && words[at + 2] == "exists") at += 3;
    if (at < words.size()) out.push_back(words[at]);
  }
  return out;
}

std::string core_table_reference(std::string_view sql) {
  return find_identifier(sql, [](const std::string& word) { return word.rfind("annex_", 0) == 0; });
}

std::vector<std::string> split_statements(std::string_view script) {
  std::vector<std::string> out;
  std::string joined = scan(script, [](char c) -> std::string { return c == ';' ? std::string(1, '\0') : std::string(1, c); });
  size_t start = 0;
  for (size_t i = 0; i <= joined.size(); ++i) {
    if (i == joined.size() || joined[i] == '\0') {
      std::string stmt = joined.substr(start, i - start);
      size_t first = stmt.find_first_not_of(" \t\r\n");
      if (first != std::string::npos) {
        // A statement that is only comments is not a statement.
        bool only_comments = true;
        size_t j = 0;
        while (j < stmt.size()) {
          if (stmt.compare(j, 2, "--") == 0) {
            j = stmt.find('\n', j);
            if (j == std::string::npos) break;
          } else if (stmt.compare(j, 2, "/*") == 0) {
            j = stmt.find("*/", j);
            if (j == std::string::npos) break;
            j += 2;
          } else if (!std::isspace(static_cast<unsigned char>(stmt[j]))) {
            only_comments = false;
            break;
          } else {
            ++j;
          }
        }
        if (!only_comments) out.push_back(stmt);
      }
      start = i + 1;
    }
  }
  return out;
}

void forget_statements(soci::session& session) {
  if (session.get_backend() == nullptr) return;
  if (session.get_backend_name() == "postgresql") {
    forget_postgresql_statements(static_cast<soci::postgresql_session_backend*>(session.get_backend())->conn_);
    return;
  }
  if (session.get_backend_name() != "sqlite3") return;
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
  std::lock_guard lock(g_caches_mutex);
  g_caches_generation.fetch_add(1, std::memory_order_acq_rel);
  g_caches.erase(backend->conn_);
}

namespace {
// True when the statement only reads. Prepares it into the connection's cache, where run_sqlite finds it.
bool reads_only(sqlite3* db, std::string_view sql) {
  StatementLease stmt = prepare(db, sql);
  return stmt.get() == nullptr || sqlite3_stmt_readonly(stmt.get()) != 0;
}

struct TurnForOneStatement {
  soci::session& session;
  ~TurnForOneStatement() { give_writer_turn(session); }
};
}  // namespace

ResultSet run(soci::session& session, std::string_view sql, std::span<const Param> params) {
  if (session.get_backend_name() == "sqlite3") {
    sqlite3*& connection = static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_;
    if (sqlite3_get_autocommit(connection) != 0 && !reads_only(connection, sql)) {
      // A write outside a transaction takes the writer turn as a transaction does: otherwise it takes SQLite's
      // write lock beside the turn, and the turn's holder polls for the lock (SQLite's busy handler sleeps a
      // millisecond or more at a time) while every writer behind it waits. With the turn it runs on the writer's
      // connection (take_writer_turn), which `connection` then names.
      take_writer_turn(session);
      TurnForOneStatement turn{session};
      return run_sqlite(connection, sql, params);
    }
    return run_sqlite(connection, sql, params);
  }
  if (session.get_backend_name() == "postgresql") {
    return run_postgresql(static_cast<soci::postgresql_session_backend*>(session.get_backend())->conn_, sql, params);
  }
  throw StoreError(StoreError::Kind::kBadStatement, "unsupported database backend " + session.get_backend_name());
}

}  // namespace annex::store

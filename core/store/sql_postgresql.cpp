#include "store/sql_postgresql.h"

#include "store/database.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace annex::store {
namespace {

// PostgreSQL's type OIDs (pg_type.h) for the values read as integers, floating point, or bytes.
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700,
              kFloat8 = 701, kNumeric = 1700, kDate = 1082, kTimestamp = 1114, kTimestampTz = 1184;

// The statements prepared on one connection: SQL text → statement name. A connection is used by one thread at a
// time (it is leased), so only finding its cache takes the lock.
struct PreparedStatements {
  static constexpr size_t kMax = 512;  // beyond this (generated SQL), statements run unprepared
  struct Statement {
    std::string name;
    size_t placeholders = 0;
  };
  std::unordered_map<std::string, Statement> names;  // keyed by the SQL as given, with `?` placeholders
  uint64_t next = 0;
};

std::mutex g_mutex;
std::unordered_map<pg_conn*, std::unique_ptr<PreparedStatements>> g_prepared;

PreparedStatements& prepared_on(pg_conn* conn) {
  std::lock_guard lock(g_mutex);
  auto& p = g_prepared[conn];
  if (!p) p = std::make_unique<PreparedStatements>();
  return *p;
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

bool failed(const PGresult* r) {
  ExecStatusType s = PQresultStatus(r);
  return s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK;
}

StoreError error_of(pg_conn* conn, const PGresult* r) {
  std::string message = r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view code = state != nullptr ? state : "";
  if (PQstatus(conn) != CONNECTION_OK || code.starts_with("08") || code.starts_with("57P") || code.starts_with("53")) {
    return StoreError(StoreError::Kind::kUnavailable, message);
  }
  if (code.starts_with("23")) return StoreError(StoreError::Kind::kConstraint, message);
  if (code.starts_with("42") || code.starts_with("22") || code == "26000" || code == "07001") {
    return StoreError(StoreError::Kind::kBadStatement, message);
  }
  if (code == "55P03" || code == "40P01" || code == "40001") return StoreError(StoreError::Kind::kUnavailable, message);
  return StoreError(StoreError::Kind::kOther, message);
}

// A statement prepared before the table it reads changed shape, or dropped from under us ("DISCARD ALL").
bool stale_statement(const PGresult* r) {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return state != nullptr && (std::strcmp(state, "0A000") == 0 || std::strcmp(state, "26000") == 0);
}

// "2026-01-05 10:11:12.5+00" or "2026-01-05" as the instant text SQLite rows carry: "2026-01-05T10:11:12Z".
std::string instant_text(std::string_view v) {
  std::string out(v.substr(0, 10));
  out += 'T';
  out += v.size() >= 19 ? std::string(v.substr(11, 8)) : std::string("00:00:00");
  return out + 'Z';
}

Cell read_cell(const PGresult* r, int row, int column) {
  Cell cell;
  if (PQgetisnull(r, row, column)) return cell;
  const char* value = PQgetvalue(r, row, column);
  size_t length = static_cast<size_t>(PQgetlength(r, row, column));
  switch (PQftype(r, column)) {
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
      cell.type = CellType::kInt;
      cell.i = std::strtoll(value, nullptr, 10);
      break;
    case kBool:
      cell.type = CellType::kInt;
      cell.i = value[0] == 't' ? 1 : 0;
      break;
    case kFloat4:
    case kFloat8:
    case kNumeric:
      cell.type = CellType::kDouble;
      cell.d = std::strtod(value, nullptr);
      break;
    case kBytea: {
      size_t n = 0;
      unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(value), &n);
      cell.type = CellType::kBlob;
      if (bytes != nullptr) cell.s.assign(reinterpret_cast<const char*>(bytes), n);
      PQfreemem(bytes);
      break;
    }
    case kDate:
    case kTimestamp:
    case kTimestampTz:
      cell.type = CellType::kText;
      cell.s = instant_text(std::string_view(value, length));
      break;
    default:
      cell.type = CellType::kText;
      cell.s.assign(value, length);
      break;
  }
  return cell;
}

}  // namespace

void forget_postgresql_statements(pg_conn* conn) {
  std::lock_guard lock(g_mutex);
  g_prepared.erase(conn);
}

ResultSet run_postgresql(pg_conn* conn, std::string_view sql, std::span<const Param> params) {
  // Every value goes as text with its type left to the server to infer from the statement, as it would for a
  // literal; bytes go in binary.
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  std::vector<int> lengths(params.size(), 0);
  std::vector<int> formats(params.size(), 0);
  for (size_t k = 0; k < params.size(); ++k) {
    const Param& p = params[k];
    switch (p.type) {
      case CellType::kNull: break;
      case CellType::kInt: texts[k] = std::to_string(p.i); break;
      case CellType::kDouble: {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.17g", p.d);
        texts[k] = buffer;
        break;
      }
      case CellType::kText: texts[k].assign(p.s); break;
      case CellType::kBlob:
        texts[k].assign(p.s);
        formats[k] = 1;
        break;
    }
    if (p.type != CellType::kNull) {
      values[k] = texts[k].data();
      lengths[k] = static_cast<int>(texts[k].size());
    }
  }
  const int n = static_cast<int>(params.size());

  PreparedStatements& prepared = prepared_on(conn);
  std::string text(sql);
  auto rewritten = [&] {
    size_t count = 0;
    std::string out = rewrite_placeholders(sql, &count);
    if (count != params.size()) {
      throw StoreError(StoreError::Kind::kBadStatement, "the statement has " + std::to_string(count) +
                                                            " placeholders but " + std::to_string(params.size()) +
                                                            " parameters were given");
    }
    return out;
  };
  Result result;
  auto it = prepared.names.find(text);
  if (it == prepared.names.end() && (prepared.names.size() >= PreparedStatements::kMax || text.size() >= 4096)) {
    std::string statement = rewritten();
    result.reset(PQexecParams(conn, statement.c_str(), n, nullptr, values.data(), lengths.data(), formats.data(), 0));
  } else {
    for (int attempt = 0;; ++attempt) {
      if (it == prepared.names.end()) {
        std::string statement = rewritten();
        std::string name = "annex_q" + std::to_string(++prepared.next);
        Result made(PQprepare(conn, name.c_str(), statement.c_str(), n, nullptr));
        if (!made || failed(made.get())) throw error_of(conn, made.get());
        it = prepared.names.emplace(text, PreparedStatements::Statement{name, params.size()}).first;
      } else if (it->second.placeholders != params.size()) {
        throw StoreError(StoreError::Kind::kBadStatement,
                         "the statement has " + std::to_string(it->second.placeholders) + " placeholders but " +
                             std::to_string(params.size()) + " parameters were given");
      }
      result.reset(
          PQexecPrepared(conn, it->second.name.c_str(), n, values.data(), lengths.data(), formats.data(), 0));
      // Outside a transaction a stale statement is simply prepared again; inside one the error has already
      // aborted the transaction, and the caller sees it.
      if (attempt == 0 && result && failed(result.get()) && stale_statement(result.get()) &&
          PQtransactionStatus(conn) == PQTRANS_IDLE) {
        Result dropped(PQexec(conn, ("DEALLOCATE " + it->second.name).c_str()));
        prepared.names.erase(it);
        it = prepared.names.end();
        continue;
      }
      break;
    }
  }
  if (!result || failed(result.get())) {
    if (result && stale_statement(result.get())) {
      // Drop it, so that the next use prepares it afresh.
      if (auto stale = prepared.names.find(text); stale != prepared.names.end()) prepared.names.erase(stale);
    }
    throw error_of(conn, result.get());
  }

  ResultSet out;
  PGresult* r = result.get();
  const int columns = PQnfields(r), rows = PQntuples(r);
  out.columns.reserve(static_cast<size_t>(columns));
  for (int c = 0; c < columns; ++c) out.columns.emplace_back(PQfname(r, c));
  out.rows.reserve(static_cast<size_t>(rows));
  for (int row = 0; row < rows; ++row) {
    std::vector<Cell> cells;
    cells.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) cells.push_back(read_cell(r, row, c));
    out.rows.push_back(std::move(cells));
  }
  const char* affected = PQcmdTuples(r);
  out.affected = affected != nullptr && *affected != '\0' ? std::strtoll(affected, nullptr, 10) : 0;
  return out;
}

}  // namespace annex::store

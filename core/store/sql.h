// Running one SQL statement with positional parameters on a SOCI session, and reading its rows as typed cells.
// The database host service and the core's own stores share this path.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace soci {
class session;
}

namespace annex::store {

enum class CellType { kNull = 0, kInt = 1, kDouble = 2, kText = 3, kBlob = 4 };

struct Param {
  CellType type = CellType::kNull;
  int64_t i = 0;
  double d = 0;
  std::string_view s;

  static Param null() { return {}; }
  static Param integer(int64_t v) { return {CellType::kInt, v, 0, {}}; }
  // A view: the text must outlive the statement. A temporary string would not, so it does not compile.
  static Param text(std::string_view v) { return {CellType::kText, 0, 0, v}; }
  static Param text(const std::string& v) { return text(std::string_view(v)); }
  static Param text(const char* v) { return text(std::string_view(v)); }
  static Param text(std::string&&) = delete;
};

// A NULL reads as type kNull with i = 0, d = 0 and s empty, so a nullable text column can be read through `s`.
struct Cell {
  CellType type = CellType::kNull;
  int64_t i = 0;
  double d = 0;
  std::string s;
};

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
  int64_t affected = 0;
};

// Rewrites positional `?` placeholders (outside quotes and comments) to PostgreSQL's `$N` form and counts them.
std::string rewrite_placeholders(std::string_view sql, size_t* count);

// Runs `sql` with `params` and returns every row. Throws StoreError: kConstraint for uniqueness/foreign-key
// violations, kBadStatement for malformed SQL or a parameter count mismatch, kUnavailable when the connection
// is lost or the database is locked past its timeout.
ResultSet run(soci::session& session, std::string_view sql, std::span<const Param> params);

// Finalizes the prepared statements kept for `session`'s connection; call before closing it.
void forget_statements(soci::session& session);

// The first identifier in `sql` (outside literals and comments, quoted identifiers included) that names one of
// the host's own tables (prefix "annex_"), or "" when there is none. Plugins may not touch those tables: their
// data reaches plugins only through the host services.
std::string core_table_reference(std::string_view sql);
// The first identifier in `sql` (outside literals and comments, quoted identifiers included), lower-cased, for
// which `wanted` holds; "" when none does.
std::string find_identifier(std::string_view sql, const std::function<bool(const std::string&)>& wanted);
// The tables and views a schema script creates (CREATE TABLE / VIEW [IF NOT EXISTS] name), lower-cased.
std::vector<std::string> created_tables(std::string_view script);

// Splits a script of ';'-separated statements, keeping ';' inside quotes, comments and dollar-quoted bodies.
std::vector<std::string> split_statements(std::string_view script);

}  // namespace annex::store

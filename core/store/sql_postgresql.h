// The PostgreSQL half of store::run, on libpq directly: one round trip per statement.
#pragma once

#include "store/sql.h"

struct pg_conn;

namespace annex::store {

// Runs `sql` (with `?` placeholders) on `conn`. Statements are prepared once
// per connection and kept (up to a bound), so a route that runs the same SQL on every request neither parses nor
// plans it again, and each call is a single round trip. Throws StoreError as store::run documents.
ResultSet run_postgresql(pg_conn* conn, std::string_view sql, std::span<const Param> params);

// Forgets the statements kept for `conn`; call before the connection is closed or re-opened.
void forget_postgresql_statements(pg_conn* conn);

}  // namespace annex::store

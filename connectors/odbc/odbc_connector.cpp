// The ODBC connector: finance databases (or any database with an ODBC driver) as a sync source and target,
// through SOCI's ODBC backend over unixODBC.
//
// Settings (a connection's "settings"; secrets such as the password are merged in by the host):
//   {"connection_string": "DRIVER={PostgreSQL Unicode};SERVER=…;DATABASE=…;UID=…;PWD={password};UseDeclareFetch=1;Fetch=10000",
//    "check_query": "SELECT 1",
//    "streams": {"customers": {
//       "select": "SELECT cust_no, name, updated_at FROM customers WHERE updated_at >= ? ORDER BY updated_at, cust_no",
//       "cursor_field": "updated_at", "key_field": "cust_no", "initial_cursor": "",
//       "upsert": "INSERT INTO customers (cust_no, name) VALUES (:cust_no, :name) ON CONFLICT (cust_no) DO UPDATE SET name = excluded.name",
//       "update": "UPDATE customers SET name = COALESCE(:name, name) WHERE cust_no = :cust_no"}}}
//
// "upsert" writes records the remote does not know yet (all their fields travel); "update", when given,
// writes those it knows, which carry only the fields Annex is the system of record for (absent ones bind NULL).
//
// {name} in the connection string is replaced by the setting of that name. The select takes the cursor value
// as its one parameter and must order by the cursor column, then the key: rows whose cursor values tie are
// told apart by their keys, so a page boundary inside a tie neither skips nor repeats a row. The query stays
// open across pages of one run, so with a streaming driver (psqlODBC's UseDeclareFetch) memory stays flat.
// Writes bind a whole batch as arrays; if the database refuses the batch, its halves are tried apart, down to
// single rows, so that only the rows the database refuses are rejected, each with the database's own message. "write_sessions" (1 to
// 8, default 1) splits a large batch over that many connections written at once: a database server that parses
// and plans every statement of an array (psqlODBC does) then works on more than one core. Leave it at 1 for a
// database that allows one writer (SQLite).
//
// A stream with "journal" instead of "upsert" takes journal entries, the documents of a document stream (see the
// README): an entry's header and lines are written in one transaction into the finance database's journal
// tables (a batch of entries together, several rows to an INSERT, split over the write sessions, halved apart
// down to single entries when the database refuses it), idempotent by the entry's key (the document's key) —
// an entry whose key the header table holds already is "unchanged", never a second entry. Table and column
// names come from the settings, over this default:
//   "journal": {"header_table": "journal_entries", "line_table": "journal_lines", "id_column": "",
//               "header_columns": {"key": "entry_key", "date": "entry_date", "reference": "reference",
//                                  "description": "description", "currency": "currency"},
//               "line_columns": {"key": "entry_key", "line_no": "line_no", "account": "account",
//                                "cost_centre": "cost_centre", "debit": "debit", "credit": "credit",
//                                "description": "description"}}
// A column map names, per field of the entry (or of a line), the column it goes to; "" leaves a default field
// out. "key" is the entry's key and "line_no" a line's number from 1. With "id_column", the header's own id (a
// generated one) is the remote id; otherwise the key is. "rows_per_insert" (1 to 1000, default 100) is how many
// rows one INSERT of headers or lines carries (fewer when a statement would pass 2,000 parameters; a connection
// setting); 1 makes them single-row INSERTs, for a database without multi-row VALUES (Oracle before 23c).
// Payment confirmations are read by an ordinary "select".
#include <annex/sdk.hpp>

#include <nlohmann/json.hpp>
#include <soci/odbc/soci-odbc.h>
#include <soci/soci.h>

#include <algorithm>
#include <future>
#include <map>
#include <memory>
#include <set>

namespace odbc_connector {
namespace {

using nlohmann::json;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A SOCI/ODBC failure as an SDK error: connection-class SQLSTATEs are UNAVAILABLE (the engine retries),
// authorisation ones UNAUTHENTICATED / PERMISSION_DENIED.
annex::Error classify(const std::exception& e, const std::string& what) {
  std::string state;
  if (auto* odbc = dynamic_cast<const soci::odbc_soci_error*>(&e)) state = reinterpret_cast<const char*>(odbc->odbc_error_code());
  std::string message = what + ": " + e.what();
  if (state.rfind("08", 0) == 0 || state == "HYT00" || state == "HYT01" || state == "57P01" || state == "57P03") {
    return annex::Error(ANNEX_ERR_UNAVAILABLE, message);
  }
  if (state == "28000" || state == "28P01") return annex::Error(ANNEX_ERR_UNAUTHENTICATED, message);
  if (state == "42501") return annex::Error(ANNEX_ERR_PERMISSION_DENIED, message);
  if (state.empty() && std::string(e.what()).find("connect") != std::string::npos) {
    return annex::Error(ANNEX_ERR_UNAVAILABLE, message);
  }
  return annex::Error(ANNEX_ERR_INTERNAL, message);
}

json cell(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return nullptr;
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer: return r.get<int>(i);
    case soci::dt_long_long: return r.get<long long>(i);
    case soci::dt_unsigned_long_long: return static_cast<int64_t>(r.get<unsigned long long>(i));
    case soci::dt_double: {
      // Money never travels as a double: a decimal column the driver reports as double is sent as text.
      char text[64];
      std::snprintf(text, sizeof text, "%.15g", r.get<double>(i));
      return std::string(text);
    }
    case soci::dt_date: {
      std::tm t = r.get<std::tm>(i);
      char text[32];
      std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &t);
      return std::string(text);
    }
    default: return r.get<std::string>(i);
  }
}

// Appends column `i` of `r` to `out` as JSON, and returns its text form (for cursor and key comparisons).
std::string append_cell(std::string& out, const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) {
    out += "null";
    return {};
  }
  std::string text;
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer: text = std::to_string(r.get<int>(i)); out += text; return text;
    case soci::dt_long_long: text = std::to_string(r.get<long long>(i)); out += text; return text;
    case soci::dt_unsigned_long_long: text = std::to_string(r.get<unsigned long long>(i)); out += text; return text;
    default: {
      json v = cell(r, i);  // doubles and dates as text, like cell()
      text = v.is_string() ? v.get<std::string>() : v.dump();
      out += annex::json_quote(text);
      return text;
    }
  }
}

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump(); }

// Where journal entries go: table names and, per field, the column.
struct Journal {
  std::string header_table = "journal_entries", line_table = "journal_lines", id_column;
  std::vector<std::pair<std::string, std::string>> header_columns, line_columns;  // field → column
  std::string key_column;  // the header's column holding the entry's key
};

struct Stream {
  std::string select, cursor_field, key_field, initial_cursor, upsert, update;
  std::optional<Journal> journal;
};

// A table or column name from the settings: a plain (optionally schema-qualified) identifier, never SQL.
std::string identifier(const json& v, const std::string& setting) {
  std::string name = v.is_string() ? v.get<std::string>() : "";
  bool ok = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.');
  if (!ok) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, setting + ": a table or column name (letters, digits, _ and .)", setting);
  return name;
}

// The columns of a column map: the defaults, with the settings' entries over them ("" drops one).
std::vector<std::pair<std::string, std::string>> columns(const std::vector<std::pair<std::string, std::string>>& defaults,
                                                         const json& given, const std::string& setting) {
  std::map<std::string, std::string> merged(defaults.begin(), defaults.end());
  if (!given.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, setting + ": an object of field → column", setting);
  for (const auto& [field, column] : given.items()) {
    if (column.is_string() && column.get<std::string>().empty()) merged.erase(field);
    else merged[field] = identifier(column, setting + "." + field);
  }
  return {merged.begin(), merged.end()};
}

Journal parse_journal(const json& def, const std::string& setting) {
  if (!def.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, setting + ": an object", setting);
  Journal j;
  j.header_table = identifier(def.value("header_table", json(j.header_table)), setting + ".header_table");
  j.line_table = identifier(def.value("line_table", json(j.line_table)), setting + ".line_table");
  if (def.contains("id_column")) j.id_column = identifier(def["id_column"], setting + ".id_column");
  j.header_columns = columns({{"key", "entry_key"}, {"date", "entry_date"}, {"reference", "reference"},
                              {"description", "description"}, {"currency", "currency"}},
                             def.value("header_columns", json::object()), setting + ".header_columns");
  j.line_columns = columns({{"key", "entry_key"}, {"line_no", "line_no"}, {"account", "account"}, {"cost_centre", "cost_centre"},
                            {"debit", "debit"}, {"credit", "credit"}, {"description", "description"}},
                           def.value("line_columns", json::object()), setting + ".line_columns");
  for (const auto& [field, column] : j.header_columns) {
    if (field == "key") j.key_column = column;
  }
  if (j.key_column.empty()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, setting + ".header_columns.key: the entry's key needs a column", setting);
  return j;
}

// Inserts `rows` (values in the order of `cols`) into `table`: a column whose values are all integers (or null)
// binds as integers, any other as text. Each statement is a multi-row INSERT (VALUES (…), (…), …) of up to
// rows_per_insert rows, kept under kMaxParameters parameters; 1 makes them single-row INSERTs, for a database
// whose INSERT takes one VALUES row (Oracle before 23c).
constexpr size_t kMaxParameters = 2000;  // under SQL Server's 2,100; SQLite and PostgreSQL take more

void insert_rows(soci::session& s, const std::string& table, const std::vector<std::pair<std::string, std::string>>& cols,
                 const std::vector<std::vector<json>>& rows, size_t rows_per_insert) {
  if (rows.empty()) return;
  std::string names, marks;
  for (size_t c = 0; c < cols.size(); ++c) {
    names += (c ? ", " : "") + cols[c].second;
    marks += (c ? ", :v" : ":v") + std::to_string(c + 1);
  }
  std::vector<std::vector<long long>> numbers(cols.size());
  std::vector<std::vector<std::string>> texts(cols.size());
  std::vector<std::vector<soci::indicator>> nulls(cols.size(), std::vector<soci::indicator>(rows.size(), soci::i_ok));
  std::vector<bool> integers(cols.size(), true);
  for (size_t c = 0; c < cols.size(); ++c) {
    for (const auto& row : rows) integers[c] = integers[c] && (row[c].is_null() || row[c].is_number_integer());
    for (size_t r = 0; r < rows.size(); ++r) {
      const json& v = rows[r][c];
      if (v.is_null()) nulls[c][r] = soci::i_null;
      if (integers[c]) numbers[c].push_back(v.is_null() ? 0 : v.get<long long>());
      else texts[c].push_back(v.is_null() ? std::string{} : v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
  size_t per = std::clamp<size_t>(std::min(rows_per_insert, kMaxParameters / cols.size()), 1, rows.size());
  // The rows go `per` to a statement, and the statements of one shape as one array bind: the database parses
  // the statement once and runs it for each set of rows (psqlODBC with its default server-side prepare), so a
  // batch costs a few round trips and one parse, not one of each per row. The rows left over (fewer than `per`)
  // go as one more statement. Parameters are bound by position: a named one is looked up among all the
  // statement's names, so thousands of them would cost more than the round trips saved.
  auto run = [&](size_t first, size_t rows_each, size_t sets) {
    std::string values;
    values.reserve(rows_each * (marks.size() + 4));
    for (size_t r = 0; r < rows_each; ++r) values += (r ? ", (" : "(") + marks + ")";
    // Parameter (r, c) of set k is row first + k·rows_each + r.
    size_t params = rows_each * cols.size();
    std::vector<std::vector<long long>> n(params);
    std::vector<std::vector<std::string>> t(params);
    std::vector<std::vector<soci::indicator>> ind(params);
    soci::statement st(s);
    for (size_t r = 0; r < rows_each; ++r) {
      for (size_t c = 0; c < cols.size(); ++c) {
        size_t at = r * cols.size() + c;
        for (size_t k = 0; k < sets; ++k) {
          size_t row = first + k * rows_each + r;
          ind[at].push_back(nulls[c][row]);
          if (integers[c]) n[at].push_back(numbers[c][row]);
          else t[at].push_back(texts[c][row]);
        }
        if (integers[c]) st.exchange(soci::use(n[at], ind[at]));
        else st.exchange(soci::use(t[at], ind[at]));
      }
    }
    st.alloc();
    st.prepare("INSERT INTO " + table + " (" + names + ") VALUES " + values);
    st.define_and_bind();
    st.execute(true);
  };
  size_t sets = rows.size() / per, left = rows.size() % per;
  if (sets > 0) run(0, per, sets);
  if (left > 0) run(sets * per, left, 1);
}

class OdbcConnection : public annex::Connection {
 public:
  explicit OdbcConnection(const json& settings) {
    connection_string_ = settings.value("connection_string", std::string{});
    if (connection_string_.empty()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "connection_string is required", "connection_string");
    for (const auto& [key, value] : settings.items()) {
      if (!value.is_string()) continue;
      std::string mark = "{" + key + "}";
      for (size_t at; (at = connection_string_.find(mark)) != std::string::npos;) connection_string_.replace(at, mark.size(), value.get<std::string>());
    }
    check_query_ = settings.value("check_query", std::string("SELECT 1"));
    const json sessions = settings.value("write_sessions", json(1));
    if (!sessions.is_number_integer() || sessions.get<int>() < 1 || sessions.get<int>() > 8) {
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "write_sessions: a whole number from 1 to 8", "write_sessions");
    }
    write_sessions_ = sessions.get<size_t>();
    const json per_insert = settings.value("rows_per_insert", json(100));
    if (!per_insert.is_number_integer() || per_insert.get<long long>() < 1 || per_insert.get<long long>() > 1000) {
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "rows_per_insert: a whole number from 1 to 1000", "rows_per_insert");
    }
    rows_per_insert_ = per_insert.get<size_t>();
    const json streams = settings.value("streams", json::object());
    for (const auto& [name, def] : streams.items()) {
      Stream s{def.value("select", std::string{}), def.value("cursor_field", std::string{}),
               def.value("key_field", std::string{}), def.value("initial_cursor", std::string{}),
               def.value("upsert", std::string{}), def.value("update", std::string{}), std::nullopt};
      if (def.contains("journal")) s.journal = parse_journal(def["journal"], "streams." + name + ".journal");
      if (!s.select.empty() && (s.cursor_field.empty() || s.key_field.empty())) {
        throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "stream " + name + ": a select needs cursor_field and key_field", "streams");
      }
      streams_[name] = s;
    }
  }

  std::string check() override {
    try {
      soci::session& s = session();
      std::string out;
      soci::indicator ind = soci::i_ok;
      s << check_query_, soci::into(out, ind);
      return json({{"detail", "connected; " + check_query_ + " answered"}}).dump();
    } catch (const annex::Error&) {
      throw;
    } catch (const std::exception& e) {
      reset();
      throw classify(e, "check");
    }
  }

  std::string discover() override {
    json streams = json::array();
    for (const auto& [name, s] : streams_) {
      streams.push_back({{"name", name}, {"key", {s.key_field}}, {"cursor_field", s.cursor_field},
                         {"readable", !s.select.empty()}, {"writable", !s.upsert.empty() || s.journal.has_value()}});
    }
    return json({{"streams", streams}}).dump();
  }

  std::string read(std::string_view stream_name, std::string_view cursor_json, uint32_t page_size) override {
    const Stream& st = stream(stream_name, true);
    json cursor = cursor_json.empty() ? json{{"value", st.initial_cursor}, {"seen", json::array()}}
                                      : json::parse(cursor_json, nullptr, false);
    if (!cursor.is_object() || !cursor.contains("value")) {
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "cursor: not one this connector wrote");
    }
    std::string value = text_of(cursor["value"]);
    std::set<std::string> seen;
    const json seen_keys = cursor.value("seen", json::array());
    for (const auto& k : seen_keys) seen.insert(text_of(k));
    try {
      Open& open = open_query(std::string(stream_name), st, std::string(cursor_json), value);
      // The page is written as JSON text directly: a page of thousands of rows is the hot path of a pull.
      std::string page = "{\"records\":[";
      size_t count = 0;
      std::string last_value = value;
      std::set<std::string> last_keys = seen;
      if (open.names.empty() && open.it != open.rows->end()) {
        const soci::row& first = *open.it;
        for (std::size_t i = 0; i < first.size(); ++i) {
          open.names.push_back(annex::json_quote(lower(first.get_properties(i).get_name())) + ":");
          if (lower(first.get_properties(i).get_name()) == st.cursor_field) open.cursor_column = i;
          if (lower(first.get_properties(i).get_name()) == st.key_field) open.key_column = i;
        }
      }
      std::string rec;
      while (count < page_size && open.it != open.rows->end()) {
        const soci::row& r = *open.it;
        rec.assign("{");
        std::string v, k;
        for (std::size_t i = 0; i < r.size(); ++i) {
          if (i > 0) rec += ',';
          rec += open.names[i];
          std::string text = append_cell(rec, r, i);
          if (i == open.cursor_column) v = text;
          if (i == open.key_column) k = text;
        }
        rec += '}';
        ++open.it;
        if (v == value && seen.count(k)) continue;  // delivered in an earlier page of a tie
        if (v != last_value) {
          last_value = v;
          last_keys.clear();
        }
        last_keys.insert(k);
        if (count++ > 0) page += ',';
        page += rec;
      }
      bool done = open.it == open.rows->end();
      json next = {{"value", last_value}, {"seen", std::vector<std::string>(last_keys.begin(), last_keys.end())}};
      open.cursor_json = next.dump();
      if (done) open_.erase(std::string(stream_name));
      return page + "],\"cursor\":" + next.dump() + ",\"done\":" + (done ? "true" : "false") + "}";
    } catch (const annex::Error&) {
      throw;
    } catch (const std::exception& e) {
      open_.erase(std::string(stream_name));
      annex::Error err = classify(e, "read " + std::string(stream_name));
      if (err.code() == ANNEX_ERR_INTERNAL && !reachable(session())) err = annex::Error(ANNEX_ERR_UNAVAILABLE, err.message());
      reset();
      throw err;
    }
  }

  std::string write(std::string_view stream_name, std::string_view records_json) override {
    const Stream& st = stream(stream_name, false);
    json items = json::parse(records_json, nullptr, false);
    if (!items.is_array()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "records: a JSON array");
    if (st.journal) return write_journal(*st.journal, items);
    // Records the remote already has (a remote id is known) go through "update" when there is one — they may
    // carry only the fields this side owns; the rest through "upsert".
    std::vector<size_t> updates, upserts;
    for (size_t i = 0; i < items.size(); ++i) {
      bool known = items[i].contains("remote_id") && !items[i]["remote_id"].is_null();
      (known && !st.update.empty() ? updates : upserts).push_back(i);
    }
    json results = json::array();
    for (size_t i = 0; i < items.size(); ++i) results.push_back(nullptr);
    try {
      apply_split(st, st.update, items, updates, results);
      apply_split(st, st.upsert, items, upserts, results);
      return json({{"results", results}}).dump();
    } catch (const annex::Error& e) {
      if (e.code() == ANNEX_ERR_UNAVAILABLE) reset();
      throw;
    } catch (const std::exception& e) {
      reset();
      throw classify(e, "write " + std::string(stream_name));
    }
  }

 private:
  // Runs `sql` for `rows`, split over the write sessions when there are enough rows to share. Each slice is its
  // own transaction: a slice that fails leaves the others written, and the engine sends the batch again (the
  // statements are upserts and updates by key, so a second send changes nothing twice).
  void apply_split(const Stream& st, const std::string& sql, const json& items, const std::vector<size_t>& rows, json& results) {
    on_write_sessions(rows, 500, [&](soci::session& s, const std::vector<size_t>& slice) { apply(s, st, sql, items, slice, results); });
  }

  // Runs `work(session, slice)` on slices of `rows`, one per write session at once, when each slice gets at least
  // `min_slice` rows (else all of them on the one session). Each slice writes its own elements of the caller's
  // results, which are sized beforehand: no two threads touch one.
  template <class Work>
  void on_write_sessions(const std::vector<size_t>& rows, size_t min_slice, Work work) {
    size_t n = std::min(write_sessions_, std::max<size_t>(rows.size() / min_slice, 1));
    if (n == 1) {
      work(session(), rows);
      return;
    }
    std::vector<std::vector<size_t>> slices(n);
    for (size_t i = 0; i < rows.size(); ++i) slices[i * n / rows.size()].push_back(rows[i]);
    std::vector<soci::session*> sessions{&session()};
    for (size_t i = 1; i < n; ++i) sessions.push_back(&extra_session(i - 1));
    std::vector<std::future<void>> others;
    for (size_t i = 1; i < n; ++i) {
      others.push_back(std::async(std::launch::async, [&, i] { work(*sessions[i], slices[i]); }));
    }
    std::exception_ptr failed;
    try {
      work(*sessions[0], slices[0]);
    } catch (...) {
      failed = std::current_exception();
    }
    for (auto& other : others) {
      try {
        other.get();
      } catch (...) {
        if (!failed) failed = std::current_exception();
      }
    }
    if (failed) std::rethrow_exception(failed);
  }

  // Runs `sql` for the records at `rows` of `items`: one array bind in one transaction. If the database refuses
  // it, each half is tried on its own, down to single rows, so that only the rows the database refuses are
  // rejected, with its own message, and the rest are written: a batch of n rows with k bad ones costs about
  // 2·k·log2(n) statements. (Savepoints around single rows would need no halving, but drivers that roll back the
  // whole transaction on an error — psqlODBC can — take the savepoint with it.)
  void apply(soci::session& s, const Stream& st, const std::string& sql, const json& items, const std::vector<size_t>& rows,
             json& results) {
    if (rows.empty()) return;
    std::vector<std::string> names = placeholders(sql);
    try {
      soci::transaction txn(s);
      std::vector<std::vector<std::string>> columns(names.size(), std::vector<std::string>(rows.size()));
      std::vector<std::vector<soci::indicator>> nulls(names.size(), std::vector<soci::indicator>(rows.size(), soci::i_ok));
      for (size_t r = 0; r < rows.size(); ++r) {
        const json& item = items[rows[r]];
        auto rec = item.find("record");
        for (size_t c = 0; c < names.size(); ++c) {
          if (rec == item.end() || !rec->contains(names[c]) || (*rec)[names[c]].is_null()) nulls[c][r] = soci::i_null;
          else columns[c][r] = text_of((*rec)[names[c]]);
        }
      }
      soci::statement stmt(s);
      for (size_t c = 0; c < names.size(); ++c) stmt.exchange(soci::use(columns[c], nulls[c], names[c]));
      stmt.alloc();
      stmt.prepare(sql);
      stmt.define_and_bind();
      stmt.execute(true);
      txn.commit();
      for (size_t r : rows) results[r] = result_for(items[r], st, "");
    } catch (const soci::soci_error& error) {
      annex::Error kind = classify(error, "write");
      if (kind.code() == ANNEX_ERR_UNAVAILABLE || kind.code() == ANNEX_ERR_UNAUTHENTICATED ||
          kind.code() == ANNEX_ERR_PERMISSION_DENIED) {
        throw kind;
      }
      if (rows.size() == 1) {
        results[rows[0]] = result_for(items[rows[0]], st, error.get_error_message());
        return;
      }
      std::vector<size_t> first(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(rows.size() / 2));
      std::vector<size_t> second(rows.begin() + static_cast<std::ptrdiff_t>(rows.size() / 2), rows.end());
      apply(s, st, sql, items, first, results);
      apply(s, st, sql, items, second, results);
    }
  }

  struct Open {
    std::unique_ptr<soci::rowset<soci::row>> rows;
    soci::rowset<soci::row>::const_iterator it;
    std::string value;
    std::string cursor_json;  // the cursor the last page returned: a read with it continues this query
    std::vector<std::string> names;  // "\"column\":", lower-cased, as each record writes it
    std::size_t cursor_column = static_cast<std::size_t>(-1);
    std::size_t key_column = static_cast<std::size_t>(-1);
  };

  std::unique_ptr<soci::session> connect() {
    try {
      return std::make_unique<soci::session>(soci::odbc, connection_string_);
    } catch (const std::exception& e) {
      annex::Error err = classify(e, "connect");
      // A failure to connect that is not about credentials is the remote being away.
      throw err.code() == ANNEX_ERR_INTERNAL ? annex::Error(ANNEX_ERR_UNAVAILABLE, err.message()) : err;
    }
  }

  soci::session& session() {
    if (!session_) session_ = connect();
    return *session_;
  }

  // Whether the database still answers on this session: tells a lost connection (whose driver error may say
  // nothing about it) from a bad statement.
  bool reachable(soci::session& s) {
    try {
      std::string out;
      soci::indicator ind = soci::i_ok;
      s << check_query_, soci::into(out, ind);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  soci::session& extra_session(size_t i) {
    if (extra_.size() <= i) extra_.resize(i + 1);
    if (!extra_[i]) extra_[i] = connect();
    return *extra_[i];
  }

  void reset() {
    open_.clear();
    session_.reset();
    extra_.clear();
  }

  // Writes journal entries: those whose key the header table holds already are "unchanged"; the others go in one
  // transaction, headers and lines each as one array bind. If the database refuses the batch, its halves are
  // tried apart, down to single entries, so that only the entries it refuses are rejected, with its message.
  std::string write_journal(const Journal& j, const json& items) {
    json results = json::array();
    std::vector<size_t> valid;
    std::vector<std::string> keys;
    for (size_t i = 0; i < items.size(); ++i) {
      keys.push_back(items[i].value("idempotency_key", std::string{}));
      json refusal = check_entry(keys[i], items[i].value("record", json::object()));
      results.push_back(refusal);
      if (refusal.is_null()) valid.push_back(i);
    }
    try {
      std::map<std::string, std::string> known = existing_entries(session(), j, keys, valid);
      std::vector<size_t> fresh;
      std::set<std::string> batch;  // a key twice in one batch is written once
      for (size_t i : valid) {
        if (known.count(keys[i])) results[i] = {{"status", "unchanged"}, {"remote_id", known[keys[i]]}};
        else if (batch.insert(keys[i]).second) fresh.push_back(i);
      }
      on_write_sessions(fresh, 100, [&](soci::session& s, const std::vector<size_t>& slice) {
        write_entries(s, j, items, keys, slice, results);
      });
      std::vector<size_t> written;
      for (size_t i : valid) {
        if (results[i].is_null()) written.push_back(i);
      }
      // Created now: the remote id is the header's id (read back), or the key.
      std::map<std::string, std::string> ids;
      if (!j.id_column.empty()) ids = existing_entries(session(), j, keys, written);
      for (size_t i : written) results[i] = {{"status", "created"}, {"remote_id", ids.count(keys[i]) ? ids[keys[i]] : keys[i]}};
      return json({{"results", results}}).dump();
    } catch (const annex::Error& e) {
      if (e.code() == ANNEX_ERR_UNAVAILABLE) reset();
      throw;
    } catch (const std::exception& e) {
      reset();
      throw classify(e, "write journal");
    }
  }

  // Why the entry is refused before it reaches the database, or null.
  static json check_entry(const std::string& key, const json& entry) {
    auto rejected = [](const std::string& reason, const std::string& field) {
      return json{{"status", "rejected"}, {"reason", reason}, {"field", field}};
    };
    if (key.empty()) return rejected("a journal entry needs its key", "idempotency_key");
    if (!entry.contains("lines") || !entry["lines"].is_array() || entry["lines"].empty()) {
      return rejected("a journal entry needs at least one line", "lines");
    }
    long long debits = 0, credits = 0;
    for (const json& line : entry["lines"]) {
      if (!line.is_object()) return rejected("each line is an object", "lines");
      for (const char* side : {"debit", "credit"}) {
        if (line.contains(side) && !line[side].is_null() && !line[side].is_number_integer()) {
          return rejected(std::string(side) + ": an amount in minor units (an integer)", "lines");
        }
      }
      debits += line.value("debit", json(0)).is_number_integer() ? line["debit"].get<long long>() : 0;
      credits += line.value("credit", json(0)).is_number_integer() ? line["credit"].get<long long>() : 0;
    }
    if (debits != credits) {
      return rejected("debits (" + std::to_string(debits) + ") and credits (" + std::to_string(credits) + ") do not balance", "lines");
    }
    return nullptr;
  }

  // The remote ids (the header's id, else the key) of the entries at `rows` of `keys` that the header table holds.
  std::map<std::string, std::string> existing_entries(soci::session& s, const Journal& j, const std::vector<std::string>& keys,
                                                      const std::vector<size_t>& rows) {
    std::map<std::string, std::string> out;
    std::string id_column = j.id_column.empty() ? j.key_column : j.id_column;
    // A thousand keys to a query (under SQL Server's 2,100 parameters), bound by position (see insert_rows).
    for (size_t at = 0; at < rows.size(); at += 1000) {
      std::vector<std::string> chunk;
      std::string marks;
      for (size_t k = at; k < std::min(rows.size(), at + 1000); ++k) {
        chunk.push_back(keys[rows[k]]);
        marks += marks.empty() ? ":k" : ", :k";
      }
      soci::statement st(s);
      std::string key, id;
      soci::indicator key_ind = soci::i_ok, id_ind = soci::i_ok;
      st.exchange(soci::into(key, key_ind));
      st.exchange(soci::into(id, id_ind));
      for (const std::string& k : chunk) st.exchange(soci::use(k));
      st.alloc();
      st.prepare("SELECT " + j.key_column + ", " + id_column + " FROM " + j.header_table + " WHERE " + j.key_column + " IN (" + marks + ")");
      st.define_and_bind();
      for (bool row = st.execute(true); row; row = st.fetch()) out[key] = id_ind == soci::i_null ? key : id;
    }
    return out;
  }

  // Inserts the entries at `rows` (headers, then lines) in one transaction; on a refusal, halves apart down to one
  // entry, which is then rejected with the database's message — unless another writer put it in meanwhile.
  void write_entries(soci::session& s, const Journal& j, const json& items, const std::vector<std::string>& keys, const std::vector<size_t>& rows,
                     json& results) {
    if (rows.empty()) return;
    try {
      std::vector<std::vector<json>> headers, lines;
      for (size_t i : rows) {
        const json& entry = items[i].at("record");  // check_entry saw it has lines
        std::vector<json> h;
        for (const auto& [field, column] : j.header_columns) h.push_back(field == "key" ? json(keys[i]) : entry.value(field, json(nullptr)));
        headers.push_back(std::move(h));
        int line_no = 0;
        for (const json& line : entry["lines"]) {
          ++line_no;
          std::vector<json> l;
          for (const auto& [field, column] : j.line_columns) {
            l.push_back(field == "key" ? json(keys[i]) : field == "line_no" ? json(line_no) : line.value(field, json(nullptr)));
          }
          lines.push_back(std::move(l));
        }
      }
      soci::transaction txn(s);
      insert_rows(s, j.header_table, j.header_columns, headers, rows_per_insert_);
      insert_rows(s, j.line_table, j.line_columns, lines, rows_per_insert_);
      txn.commit();
    } catch (const soci::soci_error& error) {
      annex::Error kind = classify(error, "write journal");
      if (kind.code() == ANNEX_ERR_UNAVAILABLE || kind.code() == ANNEX_ERR_UNAUTHENTICATED ||
          kind.code() == ANNEX_ERR_PERMISSION_DENIED) {
        throw kind;
      }
      if (!reachable(s)) throw annex::Error(ANNEX_ERR_UNAVAILABLE, kind.message());
      if (rows.size() == 1) {
        std::map<std::string, std::string> there = existing_entries(s, j, keys, rows);
        results[rows[0]] = there.empty() ? json{{"status", "rejected"}, {"reason", error.get_error_message()}}
                                         : json{{"status", "unchanged"}, {"remote_id", there.begin()->second}};
        return;
      }
      std::vector<size_t> first(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(rows.size() / 2));
      std::vector<size_t> second(rows.begin() + static_cast<std::ptrdiff_t>(rows.size() / 2), rows.end());
      write_entries(s, j, items, keys, first, results);
      write_entries(s, j, items, keys, second, results);
    }
  }

  const Stream& stream(std::string_view name, bool reading) const {
    auto it = streams_.find(std::string(name));
    if (it == streams_.end()) throw annex::Error(ANNEX_ERR_NOT_FOUND, "no stream " + std::string(name) + " in the settings");
    if (!reading && it->second.journal) return it->second;
    if (reading ? it->second.select.empty() : it->second.upsert.empty()) {
      throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT,
                         "stream " + std::string(name) + " has no " + (reading ? "select" : "upsert") + " statement");
    }
    return it->second;
  }

  Open& open_query(const std::string& name, const Stream& st, const std::string& cursor_json, const std::string& value) {
    auto it = open_.find(name);
    if (it != open_.end() && !cursor_json.empty() && it->second.cursor_json == cursor_json) return it->second;
    open_.erase(name);
    Open& o = open_[name];
    o.value = value;
    o.rows = std::make_unique<soci::rowset<soci::row>>((session().prepare << st.select, soci::use(o.value)));
    o.it = o.rows->begin();
    return o;
  }

  static std::vector<std::string> placeholders(const std::string& sql) {
    std::vector<std::string> out;
    for (size_t i = 0; i < sql.size(); ++i) {
      if (sql[i] == '\'') {
        i = sql.find('\'', i + 1);
        if (i == std::string::npos) break;
      } else if (sql[i] == ':' && i + 1 < sql.size() && (std::isalpha(static_cast<unsigned char>(sql[i + 1])) || sql[i + 1] == '_') &&
                 (i == 0 || sql[i - 1] != ':')) {
        size_t end = i + 1;
        while (end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) ++end;
        out.push_back(sql.substr(i + 1, end - i - 1));
        i = end - 1;
      }
    }
    return out;
  }

  static json result_for(const json& item, const Stream& st, const std::string& refusal) {
    const json rec = item.value("record", json::object());
    if (!refusal.empty()) return {{"status", "rejected"}, {"reason", refusal}};
    bool known = item.contains("remote_id") && !item["remote_id"].is_null();
    return {{"status", known ? "updated" : "created"}, {"remote_id", text_of(rec.value(st.key_field, json(nullptr)))}};
  }

  std::string connection_string_;
  std::string check_query_;
  std::map<std::string, Stream> streams_;
  std::unique_ptr<soci::session> session_;
  std::vector<std::unique_ptr<soci::session>> extra_;  // the further write sessions, opened on first use
  size_t write_sessions_ = 1;
  size_t rows_per_insert_ = 100;
  std::map<std::string, Open> open_;
};

class OdbcConnector : public annex::Connector {
 public:
  std::unique_ptr<annex::Connection> open(std::string_view settings_json) override {
    json settings = json::parse(settings_json, nullptr, false);
    if (!settings.is_object()) throw annex::Error(ANNEX_ERR_INVALID_ARGUMENT, "settings: a JSON object");
    return std::make_unique<OdbcConnection>(settings);
  }
};

}  // namespace

class OdbcPlugin : public annex::Plugin {
 public:
  static constexpr const char* kId = "org.annex.connector.odbc";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr annex_plugin_kind kKind = ANNEX_KIND_CONNECTOR;
  static constexpr const char* kManifest = R"({
    "name": "ODBC connector",
    "description": "Finance databases through any ODBC driver: pulls by a cursor column, upserts in array binds.",
    "requires": {},
    "uses": ["annex.log@1", "annex.connectors@1"],
    "config_schema": {"type": "object", "properties": {}}
  })";
  using annex::Plugin::Plugin;

  void on_register() override { host().connectors().add("odbc", std::make_unique<OdbcConnector>()); }
};

}  // namespace odbc_connector

ANNEX_PLUGIN(odbc_connector::OdbcPlugin)

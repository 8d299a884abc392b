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
// README): each entry's header and lines are written in one transaction into the finance database's journal
// tables, idempotent by the entry's key (the document's key) — an entry whose key the header table holds already
// is "unchanged", never a second entry. Table and column names come from the settings, over this default:
//   "journal": {"header_table": "journal_entries", "line_table": "journal_lines", "id_column": "",
//               "header_columns": {"key": "entry_key", "date": "entry_date", "reference": "reference",
//                                  "description": "description", "currency": "currency"},
//               "line_columns": {"key": "entry_key", "line_no": "line_no", "account": "account",
//                                "cost_centre": "cost_centre", "debit": "debit", "credit": "credit",
//                                "description": "description"}}
// A column map names, per field of the entry (or of a line), the column it goes to; "" leaves a default field
// out. "key" is the entry's key and "line_no" a line's number from 1. With "id_column", the header's own id (a
// generated one) is the remote id; otherwise the key is. Payment confirmations are read by an ordinary "select".
#include <annex/sdk.hpp>

#include <nlohmann/json.hpp>
#include <soci/odbc/soci-odbc.h>
#include <soci/soci.h>

#include <algorithm>
#include <deque>
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

// Runs `sql` with `values` bound in order to its placeholders :v1, :v2 …: integers as integers, the rest as text.
// (Named, as SOCI wants them when it describes a failed statement.)
void execute(soci::session& s, const std::string& sql, const std::vector<json>& values) {
  std::deque<std::string> texts;
  std::deque<long long> numbers;
  std::deque<soci::indicator> nulls;
  soci::statement st(s);
  for (const json& v : values) {
    nulls.push_back(v.is_null() ? soci::i_null : soci::i_ok);
    if (v.is_number_integer()) {
      numbers.push_back(v.get<long long>());
      st.exchange(soci::use(numbers.back(), nulls.back(), "v" + std::to_string(nulls.size())));
    } else {
      texts.push_back(v.is_null() ? std::string{} : v.is_string() ? v.get<std::string>() : v.dump());
      st.exchange(soci::use(texts.back(), nulls.back(), "v" + std::to_string(nulls.size())));
    }
  }
  st.alloc();
  st.prepare(sql);
  st.define_and_bind();
  st.execute(true);
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
      if (err.code() == ANNEX_ERR_INTERNAL && !reachable()) err = annex::Error(ANNEX_ERR_UNAVAILABLE, err.message());
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
    constexpr size_t kMinSlice = 500;
    size_t n = std::min(write_sessions_, std::max<size_t>(rows.size() / kMinSlice, 1));
    if (n == 1) {
      apply(session(), st, sql, items, rows, results);
      return;
    }
    std::vector<std::vector<size_t>> slices(n);
    for (size_t i = 0; i < rows.size(); ++i) slices[i * n / rows.size()].push_back(rows[i]);
    std::vector<soci::session*> sessions{&session()};
    for (size_t i = 1; i < n; ++i) sessions.push_back(&extra_session(i - 1));
    // Each slice writes its own elements of `results`, which is sized beforehand: no two threads touch one.
    std::vector<std::future<void>> others;
    for (size_t i = 1; i < n; ++i) {
      others.push_back(std::async(std::launch::async, [&, i] { apply(*sessions[i], st, sql, items, slices[i], results); }));
    }
    std::exception_ptr failed;
    try {
      apply(*sessions[0], st, sql, items, slices[0], results);
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
  bool reachable() {
    try {
      std::string out;
      soci::indicator ind = soci::i_ok;
      session() << check_query_, soci::into(out, ind);
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

  // Writes each journal entry, header and lines, in a transaction of its own.
  std::string write_journal(const Journal& j, const json& items) {
    json results = json::array();
    try {
      for (const json& item : items) results.push_back(write_entry(j, item.value("idempotency_key", std::string{}),
                                                                   item.value("record", json::object())));
      return json({{"results", results}}).dump();
    } catch (const annex::Error& e) {
      if (e.code() == ANNEX_ERR_UNAVAILABLE) reset();
      throw;
    } catch (const std::exception& e) {
      reset();
      throw classify(e, "write journal");
    }
  }

  // The remote id of the entry with this key, or nothing when the header table has none.
  std::optional<std::string> existing_entry(const Journal& j, const std::string& key) {
    std::string id;
    soci::indicator ind = soci::i_ok;
    std::string column = j.id_column.empty() ? j.key_column : j.id_column;
    soci::statement st = (session().prepare << "SELECT " + column + " FROM " + j.header_table + " WHERE " + j.key_column + " = :key",
                          soci::use(key, "key"), soci::into(id, ind));
    if (!st.execute(true)) return std::nullopt;
    return ind == soci::i_null ? key : id;
  }

  json write_entry(const Journal& j, const std::string& key, const json& entry) {
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
      debits += line.value("debit", json(0)).is_number_integer() ? line.value("debit", 0LL) : 0;
      credits += line.value("credit", json(0)).is_number_integer() ? line.value("credit", 0LL) : 0;
    }
    if (debits != credits) {
      return rejected("debits (" + std::to_string(debits) + ") and credits (" + std::to_string(credits) + ") do not balance", "lines");
    }
    if (auto id = existing_entry(j, key)) return {{"status", "unchanged"}, {"remote_id", *id}};
    auto insert = [](const std::string& table, const std::vector<std::pair<std::string, std::string>>& cols) {
      std::string names, marks;
      size_t n = 0;
      for (const auto& [field, column] : cols) {
        names += (names.empty() ? "" : ", ") + column;
        marks += (marks.empty() ? ":v" : ", :v") + std::to_string(++n);
      }
      return "INSERT INTO " + table + " (" + names + ") VALUES (" + marks + ")";
    };
    try {
      soci::transaction txn(session());
      std::vector<json> values;
      for (const auto& [field, column] : j.header_columns) values.push_back(field == "key" ? json(key) : entry.value(field, json(nullptr)));
      execute(session(), insert(j.header_table, j.header_columns), values);
      int line_no = 0;
      for (const json& line : entry["lines"]) {
        ++line_no;
        values.clear();
        for (const auto& [field, column] : j.line_columns) {
          values.push_back(field == "key" ? json(key) : field == "line_no" ? json(line_no) : line.value(field, json(nullptr)));
        }
        execute(session(), insert(j.line_table, j.line_columns), values);
      }
      txn.commit();
    } catch (const soci::soci_error& error) {
      annex::Error kind = classify(error, "write journal entry " + key);
      if (kind.code() == ANNEX_ERR_UNAVAILABLE || kind.code() == ANNEX_ERR_UNAUTHENTICATED ||
          kind.code() == ANNEX_ERR_PERMISSION_DENIED) {
        throw kind;
      }
      if (!reachable()) throw annex::Error(ANNEX_ERR_UNAVAILABLE, kind.message());
      // Another writer may have put the same entry in meanwhile: then it is there, once.
      if (auto id = existing_entry(j, key)) return {{"status", "unchanged"}, {"remote_id", *id}};
      return rejected(error.get_error_message(), "");
    }
    auto id = existing_entry(j, key);
    return {{"status", "created"}, {"remote_id", id.value_or(key)}};
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

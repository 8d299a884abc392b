#include "masterdata/store.h"

#include "auth/secrets.h"
#include "clock/utc.h"
#include "store/sql.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <regex>

namespace annex::masterdata {
namespace {

using nlohmann::json;
using store::Param;

bool is_currency(const std::string& c) {
  return c.size() == 3 && std::all_of(c.begin(), c.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; });
}

// Parameters whose text must outlive the statement: Param holds views.
class Params {
 public:
  void text(std::string s) { strings_.push_back(std::move(s)); params_.push_back(Param::text(strings_.back())); }
  void integer(int64_t v) { params_.push_back(Param::integer(v)); }
  void null() { params_.push_back(Param::null()); }
  std::span<const Param> span() const { return params_; }

 private:
  std::deque<std::string> strings_;
  std::vector<Param> params_;
};

void bind_field(Params& p, const Field& f, const json& value) {
  if (f.type == FieldType::kMoney) {
    if (value.is_null()) {
      p.null();
      p.null();
    } else {
      p.integer(value.at("amount").get<int64_t>());
      p.text(value.at("currency").get<std::string>());
    }
    return;
  }
  if (value.is_null()) return p.null();
  switch (f.type) {
    case FieldType::kInt: return p.integer(value.get<int64_t>());
    case FieldType::kJson: return p.text(value.dump());
    default: return p.text(value.get<std::string>());
  }
}

std::vector<std::string> all_columns(const Entity& e) {
  std::vector<std::string> cols{"id"};
  for (const auto& c : field_columns(e)) cols.push_back(c);
  if (e.scoped) {
    cols.push_back("sector_id");
    cols.push_back("owner_id");
  }
  for (const char* c : {"version", "created_at", "updated_at"}) cols.push_back(c);
  return cols;
}

std::string joined(const std::vector<std::string>& cols) {
  std::string out;
  for (const auto& c : cols) out += (out.empty() ? "" : ", ") + c;
  return out;
}

// The statements of an entity, built once: the store runs them for every record of a sync.
struct Statements {
  std::string select;          // SELECT <all columns> FROM <table>
  std::string by_id;
  std::string by_id_with_bindings;  // the record's columns, then a binding's four (NULL when it has none)
  std::string by_key;
  std::string insert;
  std::string update;          // SET <field columns>[, sector, owner], version, updated_at WHERE id = ?
};

const Statements& statements(const Entity& e) {
  static std::mutex mutex;
  static std::map<const Entity*, Statements> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(&e);
  if (it != cache.end()) return it->second;
  Statements st;
  std::vector<std::string> cols = all_columns(e);
  st.select = "SELECT " + joined(cols) + " FROM " + e.table;
  st.by_id = st.select + " WHERE id = ?";
  std::string qualified;
  for (const auto& c : cols) qualified += (qualified.empty() ? "r." : ", r.") + c;
  st.by_id_with_bindings = "SELECT " + qualified + ", b.connection, b.remote_id, b.remote_version, b.synced_at FROM " +
                           e.table + " r LEFT JOIN annex_md_bindings b ON b.entity = ? AND b.record_id = r.id" +
                           " WHERE r.id = ? ORDER BY b.connection";
  std::string where;
  for (const auto& k : e.key) where += (where.empty() ? "" : " AND ") + k + " = ?";
  st.by_key = st.select + " WHERE " + where;
  std::string marks;
  for (size_t i = 0; i < cols.size(); ++i) marks += i ? ", ?" : "?";
  st.insert = "INSERT INTO " + e.table + " (" + joined(cols) + ") VALUES (" + marks + ")";
  std::string set;
  for (const auto& col : field_columns(e)) set += (set.empty() ? "" : ", ") + col + " = ?";
  if (e.scoped) set += ", sector_id = ?, owner_id = ?";
  st.update = "UPDATE " + e.table + " SET " + set + ", version = ?, updated_at = ? WHERE id = ?";
  return cache.emplace(&e, std::move(st)).first->second;
}

json read_row(const Entity& e, const std::vector<store::Cell>& row) {
  json out = json::object();
  size_t i = 0;
  auto text = [&](const store::Cell& c) { return c.type == store::CellType::kNull ? json(nullptr) : json(c.s); };
  out["id"] = row[i++].s;
  for (const auto& f : e.fields) {
    const store::Cell& c = row[i++];
    switch (f.type) {
      case FieldType::kMoney: {
        const store::Cell& currency = row[i++];
        out[f.name] = c.type == store::CellType::kNull ? json(nullptr) : json{{"amount", c.i}, {"currency", currency.s}};
        break;
      }
      case FieldType::kInt: out[f.name] = c.type == store::CellType::kNull ? json(nullptr) : json(c.i); break;
      case FieldType::kJson:
        out[f.name] = c.type == store::CellType::kNull ? json(nullptr) : json::parse(c.s, nullptr, false);
        break;
      default: out[f.name] = text(c);
    }
  }
  if (e.scoped) {
    out["sector_id"] = row[i++].s;
    out["owner_id"] = row[i++].s;
  }
  out["version"] = row[i++].i;
  out["created_at"] = row[i++].s;
  out["updated_at"] = row[i++].s;
  return out;
}

// The entity's fields of a stored or normalised record, for comparing two versions.
json fields_of(const Entity& e, const json& record) {
  json out = json::object();
  for (const auto& f : e.fields) out[f.name] = record.contains(f.name) ? record[f.name] : json(nullptr);
  if (e.scoped) {
    out["sector_id"] = record.value("sector_id", std::string{});
    out["owner_id"] = record.value("owner_id", std::string{});
  }
  return out;
}

// Record ids that grow with time (milliseconds, then a per-process sequence, then randomness): new rows land at
// the end of the primary-key index instead of at random places in it, which keeps bulk pulls fast as tables grow.
std::string ordered_id() {
  static std::atomic<uint64_t> sequence{0};
  static const std::string salt = auth::new_id("").substr(0, 8);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  char text[48];
  std::snprintf(text, sizeof text, "md_%012llx%08llx%s", static_cast<unsigned long long>(ms),
                static_cast<unsigned long long>(sequence++ & 0xffffffffULL), salt.c_str());
  return text;
}

}  // namespace

std::vector<std::string> field_columns(const Entity& entity) {
  std::vector<std::string> cols;
  for (const auto& f : entity.fields) {
    if (f.type == FieldType::kMoney) {
      cols.push_back(f.name + "_amount");
      cols.push_back(f.name + "_currency");
    } else {
      cols.push_back(f.name);
    }
  }
  return cols;
}

json MasterData::normalize(const Entity& e, const json& in, bool partial) const {
  if (!in.is_object()) throw MasterDataError("body", "a record is a JSON object");
  static const std::regex decimal("-?[0-9]{1,20}(\\.[0-9]{1,12})?");
  json out = json::object();
  for (const auto& [name, value] : in.items()) {
    if (name == "id" || name == "version" || name == "created_at" || name == "updated_at" || name == "bindings") continue;
    if (e.scoped && (name == "sector_id" || name == "owner_id")) {
      if (!value.is_string() || value.get<std::string>().empty() || value.get<std::string>().size() > 64) {
        throw MasterDataError(name, name + " must be a non-empty string");
      }
      out[name] = value;
      continue;
    }
    const Field* f = e.field(name);
    if (f == nullptr) throw MasterDataError(name, "unknown field " + name + " for " + e.name);
    if (value.is_null()) {
      if (f->required) throw MasterDataError(name, name + " is required");
      out[name] = nullptr;
      continue;
    }
    switch (f->type) {
      case FieldType::kText:
        if (!value.is_string()) throw MasterDataError(name, name + " must be a string");
        if (f->required && value.get<std::string>().empty()) throw MasterDataError(name, name + " must not be empty");
        if (value.get<std::string>().size() > f->max_len) {
          throw MasterDataError(name, name + " must be at most " + std::to_string(f->max_len) + " bytes");
        }
        break;
      case FieldType::kInt:
        if (!value.is_number_integer()) throw MasterDataError(name, name + " must be a whole number");
        break;
      case FieldType::kMoney:
        if (!value.is_object() || !value.contains("amount") || !value["amount"].is_number_integer() ||
            !value.contains("currency") || !value["currency"].is_string() ||
            !is_currency(value["currency"].get<std::string>())) {
          throw MasterDataError(name, name + " must be {\"amount\": minor units (integer), \"currency\": \"CNY\"}");
        }
        break;
      case FieldType::kJson:
        if (!value.is_array() && !value.is_object()) throw MasterDataError(name, name + " must be an array or object");
        if (value.dump().size() > f->max_len) throw MasterDataError(name, name + " is too large");
        break;
      case FieldType::kEnum: {
        std::string v = value.is_string() ? value.get<std::string>() : std::string{};
        if (std::find(f->allowed.begin(), f->allowed.end(), v) == f->allowed.end()) {
          std::string list;
          for (const auto& a : f->allowed) list += (list.empty() ? "" : ", ") + a;
          throw MasterDataError(name, name + " must be one of " + list);
        }
        break;
      }
      case FieldType::kDate:
        if (!value.is_string() || !calendar::parse_date(value.get<std::string>())) {
          throw MasterDataError(name, name + " must be a date, YYYY-MM-DD (such as 2026-11-23)");
        }
        break;
      case FieldType::kDecimal: {
        std::string v = value.is_string() ? value.get<std::string>()
                        : value.is_number_integer() ? std::to_string(value.get<int64_t>())
                                                    : std::string{};
        if (!std::regex_match(v, decimal)) throw MasterDataError(name, name + " must be a decimal number written as text, like \"7.1234\"");
        out[name] = v;
        continue;
      }
    }
    out[name] = value;
  }
  if (e.name == "currencies") {
    if (out.contains("code") && !is_currency(out["code"].get<std::string>())) {
      throw MasterDataError("code", "code must be an ISO 4217 code: three capital letters such as CNY");
    }
    if (out.contains("minor_units") && out["minor_units"].is_number_integer() &&
        (out["minor_units"].get<int64_t>() < 0 || out["minor_units"].get<int64_t>() > 4)) {
      throw MasterDataError("minor_units", "minor_units must be from 0 to 4");
    }
  }
  if (!partial) {
    for (const auto& f : e.fields) {
      if (!out.contains(f.name) && !f.fallback.empty()) out[f.name] = f.fallback;
      if (f.required && (!out.contains(f.name) || out[f.name].is_null())) throw MasterDataError(f.name, f.name + " is required");
    }
  }
  for (const auto& k : e.key) {
    if (!partial && (!out.contains(k) || !out[k].is_string() || out[k].get<std::string>().empty())) {
      throw MasterDataError(k, k + " is required: it identifies the record");
    }
  }
  return out;
}

std::optional<json> MasterData::get(soci::session& s, const Entity& e, const std::string& id) {
  Param p = Param::text(id);
  auto rs = store::run(s, statements(e).by_id, std::span<const Param>(&p, 1));
  if (rs.rows.empty()) return std::nullopt;
  return read_row(e, rs.rows[0]);
}

std::optional<json> MasterData::get_with_bindings(soci::session& s, const Entity& e, const std::string& id,
                                                  std::vector<Binding>* bindings) {
  Params p;
  p.text(e.name);
  p.text(id);
  auto rs = store::run(s, statements(e).by_id_with_bindings, p.span());
  if (rs.rows.empty()) return std::nullopt;
  const size_t first = rs.columns.size() - 4;
  for (const auto& row : rs.rows) {
    if (row[first].type == store::CellType::kNull) continue;  // no binding: the LEFT JOIN's one empty match
    bindings->push_back({row[first].s, row[first + 1].s, row[first + 2].s, row[first + 3].s});
  }
  return read_row(e, rs.rows[0]);
}

std::optional<json> MasterData::find_by_key(soci::session& s, const Entity& e, const json& record) {
  Params p;
  for (const auto& k : e.key) {
    if (!record.contains(k) || !record[k].is_string()) return std::nullopt;
    p.text(record[k].get<std::string>());
  }
  auto rs = store::run(s, statements(e).by_key, p.span());
  if (rs.rows.empty()) return std::nullopt;
  return read_row(e, rs.rows[0]);
}

std::optional<json> MasterData::find_by_lookup(soci::session& s, const Entity& e, const std::string& field, const std::string& value) {
  if (std::find(e.lookups.begin(), e.lookups.end(), field) == e.lookups.end()) return std::nullopt;
  Params p;
  p.text(value);
  auto rs = store::run(s, statements(e).select + " WHERE " + field + " = ? ORDER BY id LIMIT 1", p.span());
  if (rs.rows.empty()) return std::nullopt;
  return read_row(e, rs.rows[0]);
}

Change MasterData::upsert(soci::session& s, const Entity& e, const json& record) {
  std::optional<json> existing = find_by_key(s, e, record);
  if (existing) return update(s, e, (*existing)["id"].get<std::string>(), record);
  return insert(s, e, record);
}

Change MasterData::insert(soci::session& s, const Entity& e, const json& full) {
  if (e.scoped && (!full.contains("sector_id") || !full.contains("owner_id"))) {
    throw MasterDataError("sector_id", "a new " + e.name + " record needs a sector and an owner");
  }
  check_currencies(s, e, full);
  Change c;
  c.id = ordered_id();
  c.outcome = "created";
  c.version = 1;
  std::string now = clock::utc_now();
  Params p;
  p.text(c.id);
  for (const auto& f : e.fields) bind_field(p, f, full.contains(f.name) ? full[f.name] : json(nullptr));
  if (e.scoped) {
    p.text(full["sector_id"].get<std::string>());
    p.text(full["owner_id"].get<std::string>());
  }
  p.integer(1);
  p.text(now);
  p.text(now);
  try {
    store::run(s, statements(e).insert, p.span());
  } catch (const store::StoreError& err) {
    if (err.kind() == store::StoreError::Kind::kConstraint) {
      throw MasterDataError(e.key.back(), "a " + e.name + " record with this key exists", 409);
    }
    throw;
  }
  if (describe_) c.after_json = fields_of(e, full).dump();
  return c;
}

Change MasterData::update(soci::session& s, const Entity& e, const std::string& id, const json& changes) {
  std::optional<json> existing = get(s, e, id);
  if (!existing) throw MasterDataError("id", "no such " + e.name + " record", 404);
  check_currencies(s, e, changes);
  json merged = *existing;
  for (const auto& [name, value] : changes.items()) {
    if (e.field(name) != nullptr || (e.scoped && (name == "sector_id" || name == "owner_id"))) merged[name] = value;
  }
  for (const auto& k : e.key) {
    if (merged[k] != (*existing)[k]) throw MasterDataError(k, k + " identifies the record and cannot change");
  }
  Change c;
  c.id = id;
  json before = fields_of(e, *existing), after = fields_of(e, merged);
  if (describe_) {
    c.before_json = before.dump();
    c.after_json = after.dump();
  }
  c.version = (*existing)["version"].get<int64_t>();
  if (before == after) {
    c.outcome = "unchanged";
    return c;
  }
  c.outcome = "updated";
  ++c.version;
  Params p;
  for (const auto& f : e.fields) bind_field(p, f, merged[f.name]);
  if (e.scoped) {
    p.text(merged["sector_id"].get<std::string>());
    p.text(merged["owner_id"].get<std::string>());
  }
  p.integer(c.version);
  p.text(clock::utc_now());
  p.text(id);
  store::run(s, statements(e).update, p.span());
  return c;
}

std::optional<int> MasterData::currency(soci::session& s, const std::string& code) {
  if (!is_currency(code)) return std::nullopt;
  Param p = Param::text(code);
  auto rs = store::run(s, "SELECT minor_units FROM annex_md_currencies WHERE code = ?", std::span<const Param>(&p, 1));
  if (rs.rows.empty()) return std::nullopt;
  return rs.rows[0][0].type == store::CellType::kNull ? -1 : static_cast<int>(rs.rows[0][0].i);
}

void MasterData::check_currencies(soci::session& s, const Entity& e, const json& fields) {
  auto check = [&](const std::string& field, const json& code) {
    if (code.is_string() && !currency(s, code.get<std::string>())) {
      throw MasterDataError(field, code.get<std::string>() + " is not a currency in master data (ISO 4217 codes such as CNY, USD, EUR)");
    }
  };
  for (const auto& f : e.fields) {
    if (f.type == FieldType::kMoney && fields.contains(f.name) && fields[f.name].is_object()) {
      check(f.name + ".currency", fields[f.name].value("currency", json()));
    }
  }
  if (e.name == "exchange_rates") {
    for (const char* f : {"base", "quote"}) {
      if (fields.contains(f)) check(f, fields[f]);
    }
  }
}

std::vector<json> MasterData::list(const Entity& e, const std::string& filter_sql, const std::string& after_id, int limit) {
  store::Lease lease(db_);
  Params p;
  p.text(after_id);
  p.integer(limit);
  auto rs = store::run(lease.session(),
                       statements(e).select + " WHERE id > ? AND " +
                           (filter_sql.empty() ? std::string("1 = 1") : filter_sql) + " ORDER BY id LIMIT ?",
                       p.span());
  std::vector<json> out;
  for (const auto& row : rs.rows) out.push_back(read_row(e, row));
  return out;
}

void MasterData::bind(soci::session& s, const Entity& e, const std::string& record_id, const std::string& connection,
                      const std::string& remote_id, const std::string& remote_version) {
  Params p;
  p.text(e.name);
  p.text(record_id);
  p.text(connection);
  p.text(remote_id);
  p.text(remote_version);
  p.text(clock::utc_now());
  store::run(s,
             "INSERT INTO annex_md_bindings (entity, record_id, connection, remote_id, remote_version, synced_at)"
             " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entity, record_id, connection) DO UPDATE SET"
             " remote_id = excluded.remote_id, remote_version = excluded.remote_version, synced_at = excluded.synced_at",
             p.span());
}

std::optional<std::string> MasterData::bound_record(soci::session& s, const Entity& e, const std::string& connection,
                                                    const std::string& remote_id) {
  Params p;
  p.text(connection);
  p.text(e.name);
  p.text(remote_id);
  auto rs = store::run(s, "SELECT record_id FROM annex_md_bindings WHERE connection = ? AND entity = ? AND remote_id = ?",
                       p.span());
  if (rs.rows.empty()) return std::nullopt;
  return rs.rows[0][0].s;
}

namespace {
// Runs `sql_head` + " IN (?, …)" over `values` in chunks small enough for every backend's parameter limit.
template <typename Fn>
void in_chunks(soci::session& s, const std::string& sql_head, std::vector<std::string> leading,
               const std::vector<std::string>& values, Fn&& on_row) {
  const size_t chunk = 500;
  for (size_t at = 0; at < values.size(); at += chunk) {
    Params p;
    for (const auto& l : leading) p.text(l);
    std::string marks;
    for (size_t i = at; i < std::min(values.size(), at + chunk); ++i) {
      marks += marks.empty() ? "?" : ", ?";
      p.text(values[i]);
    }
    for (const auto& row : store::run(s, sql_head + " IN (" + marks + ")", p.span()).rows) on_row(row);
  }
}
}  // namespace

std::map<std::string, std::string> MasterData::bound_records(soci::session& s, const Entity& e, const std::string& connection,
                                                             const std::vector<std::string>& remote_ids) {
  std::map<std::string, std::string> out;
  in_chunks(s, "SELECT remote_id, record_id FROM annex_md_bindings WHERE connection = ? AND entity = ? AND remote_id",
            {connection, e.name}, remote_ids, [&](const std::vector<store::Cell>& row) { out[row[0].s] = row[1].s; });
  return out;
}

std::map<std::string, std::string> MasterData::content_digests(soci::session& s, const std::string& connection, const std::string& stream,
                                                               const std::vector<std::string>& remote_ids) {
  std::map<std::string, std::string> out;
  in_chunks(s, "SELECT remote_id, digest FROM annex_sync_digests WHERE connection = ? AND stream = ? AND remote_id",
            {connection, stream}, remote_ids, [&](const std::vector<store::Cell>& row) { out[row[0].s] = row[1].s; });
  return out;
}

void MasterData::set_content_digest(soci::session& s, const std::string& connection, const std::string& stream,
                                    const std::string& remote_id, const std::string& digest) {
  const std::string now = clock::utc_now();
  Param p[] = {Param::text(connection), Param::text(stream), Param::text(remote_id), Param::text(digest), Param::text(now)};
  store::run(s,
             "INSERT INTO annex_sync_digests (connection, stream, remote_id, digest, applied_at) VALUES (?, ?, ?, ?, ?)"
             " ON CONFLICT (connection, stream, remote_id) DO UPDATE SET digest = excluded.digest, applied_at = excluded.applied_at",
             p);
}

std::map<std::string, json> MasterData::get_many(soci::session& s, const Entity& e, const std::vector<std::string>& ids) {
  std::map<std::string, json> out;
  in_chunks(s, statements(e).select + " WHERE id", {}, ids, [&](const std::vector<store::Cell>& row) {
    json record = read_row(e, row);
    std::string id = record["id"].get<std::string>();
    out[id] = std::move(record);
  });
  return out;
}

std::map<std::string, Binding> MasterData::remote_ids(soci::session& s, const Entity& e, const std::string& connection,
                                                      const std::vector<std::string>& record_ids) {
  std::map<std::string, Binding> out;
  in_chunks(s,
            "SELECT record_id, remote_id, remote_version, synced_at FROM annex_md_bindings WHERE entity = ? AND connection = ?"
            " AND record_id",
            {e.name, connection}, record_ids,
            [&](const std::vector<store::Cell>& row) { out[row[0].s] = {connection, row[1].s, row[2].s, row[3].s}; });
  return out;
}

std::map<std::string, json> MasterData::find_by_keys(soci::session& s, const Entity& e, const std::vector<std::string>& values) {
  std::map<std::string, json> out;
  if (e.key.size() != 1) return out;
  in_chunks(s, statements(e).select + " WHERE " + e.key[0], {}, values, [&](const std::vector<store::Cell>& row) {
    json record = read_row(e, row);
    std::string key = record[e.key[0]].get<std::string>();  // before the move: json's operator= takes its argument by value
    out[key] = std::move(record);
  });
  return out;
}

std::vector<Binding> MasterData::bindings(soci::session& s, const Entity& e, const std::string& record_id) {
  Params p;
  p.text(e.name);
  p.text(record_id);
  auto rs = store::run(s,
                       "SELECT connection, remote_id, remote_version, synced_at FROM annex_md_bindings"
                       " WHERE entity = ? AND record_id = ? ORDER BY connection",
                       p.span());
  std::vector<Binding> out;
  for (const auto& r : rs.rows) {
    out.push_back({r[0].s, r[1].s, r[2].s, r[3].s});
  }
  return out;
}

}  // namespace annex::masterdata

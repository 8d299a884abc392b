#include "sync/engine.h"

#include "auth/secrets.h"
#include "clock/utc.h"
#include "cluster/leases.h"
#include "crypto/digest.h"
#include "store/sql.h"
#include "store/transaction.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <random>
#include <thread>

namespace annex::sync {
namespace {

using nlohmann::json;
using store::Param;

// A connector call that failed, with its status.
class CallError : public std::runtime_error {
 public:
  CallError(annex_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  annex_status status() const { return status_; }

 private:
  annex_status status_;
};

void append_to(void* owner, const char* data, size_t len) {
  try {
    static_cast<std::string*>(owner)->append(data, len);
  } catch (...) {
  }
}

annex_str as_str(const std::string& s) { return annex_str{s.data(), s.size()}; }

const char* status_name(annex_status s) {
  switch (s) {
    case ANNEX_ERR_UNAUTHENTICATED: return "credentials refused";
    case ANNEX_ERR_PERMISSION_DENIED: return "permission refused";
    case ANNEX_ERR_UNAVAILABLE: return "unreachable";
    case ANNEX_ERR_INVALID_ARGUMENT: return "invalid request";
    case ANNEX_ERR_NOT_FOUND: return "not found";
    default: return "failed";
  }
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Exponential backoff with full jitter: a random wait in [0, min(cap, base · 2^attempt)].
int backoff_ms(int attempt, int base_ms, int max_ms) {
  thread_local std::mt19937 rng{std::random_device{}()};
  int64_t ceiling = std::min<int64_t>(max_ms, static_cast<int64_t>(base_ms) << std::min(attempt, 20));
  return std::uniform_int_distribution<int>(0, static_cast<int>(std::max<int64_t>(ceiling, 1)))(rng);
}

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump(); }

// A reason that names its field once: a remote's message, or a mapping's, often names it already
// ("Blocked: Blocked: …" otherwise).
std::string naming(const std::string& field, const std::string& reason) {
  if (field.empty() || reason.rfind(field + ":", 0) == 0 || reason.rfind(field + ".", 0) == 0 || reason.rfind(field + " ", 0) == 0) {
    return reason;
  }
  return field + ": " + reason;
}

// The minor units of currencies as master data records them, read through `session` (in its transaction, on the
// connection the caller holds) once per code.
MinorUnits minor_units_through(masterdata::MasterData& md, soci::session& session) {
  auto known = std::make_shared<std::map<std::string, std::optional<int>>>();
  return [&md, &session, known](const std::string& code) {
    auto it = known->find(code);
    if (it == known->end()) it = known->emplace(code, md.currency(session, code)).first;
    return it->second;
  };
}

// A document stream: {"documents": "<plugin id>", "direction": "push"|"pull", "remote_id" (pull: the remote field
// that is a document's key), "page_size", "schedule_s"}.
StreamConfig parse_document_stream(const json& def, const std::string& name, const std::string& base) {
  StreamConfig s;
  s.name = name;
  s.documents = def["documents"].is_string() ? def["documents"].get<std::string>() : "";
  if (s.documents.empty()) throw std::invalid_argument(base + ".documents: the id of the plugin that owns the stream's documents");
  if (def.contains("entity")) throw std::invalid_argument(base + ".entity: a document stream names \"documents\", not an entity");
  s.direction = def.value("direction", std::string{});
  if (s.direction != "push" && s.direction != "pull") {
    throw std::invalid_argument(base + ".direction: a document stream goes one way: push (to the remote) or pull (from it)");
  }
  s.remote_id = def.value("remote_id", std::string{});
  if (s.direction == "pull" && s.remote_id.empty()) {
    throw std::invalid_argument(base + ".remote_id: the remote field that is a document's key");
  }
  s.page_size = def.value("page_size", 100u);
  if (s.page_size < 1 || s.page_size > 100000) throw std::invalid_argument(base + ".page_size: 1 to 100000");
  s.schedule_s = def.value("schedule_s", 0);
  s.default_sor = s.direction == "push" ? "annex" : "remote";
  return s;
}

}  // namespace

bool StreamConfig::remote_owns(const std::string& field) const {
  auto it = sor.find(field);
  return (it == sor.end() ? default_sor : it->second) == "remote";
}

std::map<std::string, ConnectionConfig> parse_sync_config(const std::string& text) {
  std::map<std::string, ConnectionConfig> out;
  if (text.empty()) return out;
  json root = json::parse(text, nullptr, false);
  if (!root.is_object()) throw std::invalid_argument("sync: must be an object");
  if (!root.contains("connections")) return out;
  if (!root["connections"].is_object()) throw std::invalid_argument("sync.connections: must be an object");
  for (const auto& [name, def] : root["connections"].items()) {
    std::string base = "sync.connections." + name;
    if (!def.is_object()) throw std::invalid_argument(base + ": must be an object");
    ConnectionConfig c;
    c.name = name;
    c.connector = def.value("connector", std::string{});
    if (c.connector.empty()) throw std::invalid_argument(base + ".connector: name the connector type, e.g. \"odbc\"");
    c.settings = def.value("settings", json::object());
    if (!c.settings.is_object()) throw std::invalid_argument(base + ".settings: must be an object");
    if (def.contains("secrets")) {
      for (const auto& [key, ref] : def["secrets"].items()) {
        std::string r = ref.is_string() ? ref.get<std::string>() : "";
        if (r.rfind("env:", 0) != 0 && r.rfind("file:", 0) != 0) {
          throw std::invalid_argument(base + ".secrets." + key + ": a secret is a reference, \"env:NAME\" or \"file:PATH\"");
        }
        c.secrets[key] = r;
      }
    }
    json retry = def.value("retry", json::object()), breaker = def.value("breaker", json::object());
    c.retry_attempts = retry.value("attempts", 5);
    c.retry_base_ms = retry.value("base_ms", 200);
    c.retry_max_ms = retry.value("max_ms", 10000);
    c.breaker_failures = breaker.value("failures", 5);
    c.breaker_open_s = breaker.value("open_s", 60);
    if (c.retry_attempts < 1 || c.retry_base_ms < 1 || c.retry_max_ms < c.retry_base_ms || c.breaker_failures < 1) {
      throw std::invalid_argument(base + ".retry/breaker: attempts and failures at least 1, max_ms at least base_ms");
    }
    if (!def.contains("streams") || !def["streams"].is_object() || def["streams"].empty()) {
      throw std::invalid_argument(base + ".streams: name at least one stream");
    }
    for (const auto& [sname, sdef] : def["streams"].items()) {
      std::string sbase = base + ".streams." + sname;
      StreamConfig s;
      s.name = sname;
      if (!sdef.is_object()) throw std::invalid_argument(sbase + ": must be an object");
      if (sdef.contains("documents")) {
        c.streams[sname] = parse_document_stream(sdef, sname, sbase);
        continue;
      }
      s.entity = masterdata::find_entity(sdef.value("entity", std::string{}));
      if (s.entity == nullptr) throw std::invalid_argument(sbase + ".entity: one of parties, products, employees, cost_centres, gl_accounts, currencies, exchange_rates");
      s.direction = sdef.value("direction", std::string("pull"));
      if (s.direction != "pull" && s.direction != "push" && s.direction != "both") {
        throw std::invalid_argument(sbase + ".direction: pull, push or both");
      }
      s.remote_id = sdef.value("remote_id", std::string{});
      if (s.remote_id.empty()) throw std::invalid_argument(sbase + ".remote_id: the remote field that identifies a record");
      s.version_field = sdef.value("version_field", std::string{});
      try {
        s.mapping = std::make_shared<Mapping>(*s.entity, sdef.value("fields", json::object()));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(sbase + "." + e.what());
      }
      // What a record read whole is applied through: a change to it applies every record again.
      s.mapping_digest = crypto::sha256_hex(sdef.value("fields", json::object()).dump() + sdef.value("system_of_record", json::object()).dump());
      s.default_sor = s.direction == "push" ? "annex" : "remote";
      if (sdef.contains("system_of_record")) {
        for (const auto& [field, side] : sdef["system_of_record"].items()) {
          std::string v = side.is_string() ? side.get<std::string>() : "";
          if (v != "remote" && v != "annex") throw std::invalid_argument(sbase + ".system_of_record." + field + ": \"remote\" or \"annex\"");
          if (field == "default") s.default_sor = v;
          else s.sor[field] = v;
        }
      }
      s.page_size = sdef.value("page_size", 1000u);
      if (s.page_size < 1 || s.page_size > 100000) throw std::invalid_argument(sbase + ".page_size: 1 to 100000");
      s.schedule_s = sdef.value("schedule_s", 0);
      s.sector_id = sdef.value("sector_id", std::string{});
      s.owner_login = sdef.value("owner_login", std::string{});
      if (s.entity->scoped && s.direction != "push" && (s.sector_id.empty() || s.owner_login.empty())) {
        throw std::invalid_argument(sbase + ": a pull of " + s.entity->name +
                                    " needs sector_id and owner_login for the records it creates");
      }
      c.streams[sname] = std::move(s);
    }
    out[name] = std::move(c);
  }
  return out;
}

// ---- connector registry ----------------------------------------------------------------------------------

std::string ConnectorRegistry::add(const std::string& owner, const annex_connector& connector) {
  // A connector built against an older, shorter struct ends at its struct_size: copy that much and leave the
  // fields it does not have zero (absent), never reading past its end.
  annex_connector table{};
  std::memcpy(&table, &connector, std::min<size_t>(connector.struct_size, sizeof table));
  if (!ANNEX_HAS_FIELD(&table, annex_connector, type)) return "a connector needs a type";
  std::string type(table.type.data == nullptr ? "" : std::string(table.type.data, table.type.len));
  if (type.empty()) return "a connector needs a type";
  std::lock_guard lock(mutex_);
  if (entries_.count(type)) return "connector type " + type + " is already offered by " + entries_[type].owner;
  Entry e{owner, type, table};
  entries_[type] = e;
  entries_[type].table.type = as_str(entries_[type].type);
  return {};
}

void ConnectorRegistry::remove_owner(const std::string& owner) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) it = it->second.owner == owner ? entries_.erase(it) : std::next(it);
  for (auto it = handlers_.begin(); it != handlers_.end();) it = it->second.owner == owner ? handlers_.erase(it) : std::next(it);
}

std::string ConnectorRegistry::add_document_handler(const std::string& owner, const std::string& kind,
                                                    const std::string& connection, const std::string& stream,
                                                    DocumentHandler handler) {
  std::lock_guard lock(mutex_);
  std::string key = kind + "/" + connection + "/" + stream;
  if (handlers_.count(key)) return "the " + (kind == "pull" ? std::string("documents") : "outcomes") + " of " +
                                   connection + "/" + stream + " are already taken by " + handlers_[key].owner;
  handlers_[key] = HandlerEntry{owner, std::move(handler)};
  return {};
}

std::optional<DocumentHandler> ConnectorRegistry::document_handler(const std::string& kind, const std::string& connection,
                                                                   const std::string& stream) const {
  std::lock_guard lock(mutex_);
  auto it = handlers_.find(kind + "/" + connection + "/" + stream);
  if (it == handlers_.end()) return std::nullopt;
  return it->second.handler;
}

std::optional<annex_connector> ConnectorRegistry::find(const std::string& type) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(type);
  if (it == entries_.end()) return std::nullopt;
  return it->second.table;
}

std::vector<std::string> ConnectorRegistry::types() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [type, e] : entries_) out.push_back(type);
  return out;
}

// ---- engine -------------------------------------------------------------------------------------------------

struct SyncEngine::Open {
  annex_connector table{};
  annex_connection* conn = nullptr;
  std::mutex call_mutex;  // calls on one connection never overlap
  int failures = 0;
  std::chrono::steady_clock::time_point open_until{};
};

SyncEngine::SyncEngine(masterdata::MasterData& md, ConnectorRegistry& registry,
                       std::map<std::string, ConnectionConfig> connections)
    : md_(md), registry_(registry), connections_(std::move(connections)) {}

SyncEngine::~SyncEngine() {
  for (auto& [name, o] : open_) {
    if (o->conn != nullptr && o->table.close != nullptr) o->table.close(o->conn);
  }
}

SyncEngine::Open& SyncEngine::open(const ConnectionConfig& c) {
  std::lock_guard lock(mutex_);
  auto it = open_.find(c.name);
  if (it != open_.end()) return *it->second;
  std::optional<annex_connector> table = registry_.find(c.connector);
  if (!table) {
    throw CallError(ANNEX_ERR_UNSUPPORTED, "no plugin offers the connector type \"" + c.connector +
                                               "\" (is its plugin installed and started?)");
  }
  json settings = c.settings;
  for (const auto& [key, ref] : c.secrets) {
    std::string value;
    if (ref.rfind("env:", 0) == 0) {
      const char* v = std::getenv(ref.substr(4).c_str());
      if (v == nullptr) throw CallError(ANNEX_ERR_INVALID_ARGUMENT, "secret " + key + ": the environment variable " + ref.substr(4) + " is not set");
      value = v;
    } else {
      std::ifstream in(ref.substr(5));
      if (!in) throw CallError(ANNEX_ERR_INVALID_ARGUMENT, "secret " + key + ": cannot read " + ref.substr(5));
      std::getline(in, value);
    }
    settings[key] = value;
  }
  auto o = std::make_unique<Open>();
  o->table = *table;
  std::string err, text = settings.dump();
  annex_buffer err_buf{&err, &append_to};
  annex_status st = o->table.open(o->table.connector_plugin_ptr, as_str(text), &o->conn, &err_buf);
  if (st != ANNEX_OK) throw CallError(st, "cannot open connection " + c.name + ": " + err);
  return *(open_[c.name] = std::move(o));
}

std::string SyncEngine::call(const ConnectionConfig& c, const char* what,
                             const std::function<annex_status(Open&, std::string*, std::string*)>& fn) {
  Open& o = open(c);
  std::lock_guard lock(o.call_mutex);
  auto now = std::chrono::steady_clock::now();
  if (now < o.open_until) {
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(o.open_until - now).count() + 1;
    throw CallError(ANNEX_ERR_UNAVAILABLE, "connection " + c.name + " is paused after " + std::to_string(o.failures) +
                                               " failed calls (circuit open for another " + std::to_string(wait) + " s)");
  }
  for (int attempt = 1;; ++attempt) {
    std::string out, err;
    annex_status st = fn(o, &out, &err);
    if (st == ANNEX_OK) {
      o.failures = 0;
      return out;
    }
    std::string message = std::string(what) + " on " + c.name + ": " + status_name(st) + (err.empty() ? "" : ": " + err);
    if (st != ANNEX_ERR_UNAVAILABLE) throw CallError(st, message);  // credentials, rights, bad requests: no retry storm
    if (++o.failures >= c.breaker_failures) {
      o.open_until = std::chrono::steady_clock::now() + std::chrono::seconds(c.breaker_open_s);
      spdlog::warn("sync: {}: circuit open for {} s", message, c.breaker_open_s);
      throw CallError(st, message + " (circuit open for " + std::to_string(c.breaker_open_s) + " s)");
    }
    if (attempt >= c.retry_attempts) throw CallError(st, message + " (after " + std::to_string(attempt) + " attempts)");
    int wait = backoff_ms(attempt, c.retry_base_ms, c.retry_max_ms);
    spdlog::info("sync: {}; retrying in {} ms", message, wait);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  }
}

void SyncEngine::ask(const std::string& connection, const std::string& stream) {
  const std::string now = clock::utc_now();  // Param::text keeps a view: the string outlives the statement
  store::Lease lease(md_.database());
  Param asked[] = {Param::text(connection), Param::text(stream), Param::text(now)};
  store::run(lease.session(),
             "INSERT INTO annex_sync_requests (connection, stream, asked_at) VALUES (?, ?, ?) ON CONFLICT (connection, stream) DO NOTHING",
             asked);
}

std::set<std::string> SyncEngine::take_asked(const std::string& connection) {
  std::set<std::string> streams;
  store::Lease lease(md_.database());
  Param conn[] = {Param::text(connection)};
  for (const auto& row : store::run(lease.session(), "SELECT stream FROM annex_sync_requests WHERE connection = ?", conn).rows) {
    streams.insert(row[0].s);
  }
  for (const auto& stream : streams) {
    Param taken[] = {Param::text(connection), Param::text(stream)};
    store::run(lease.session(), "DELETE FROM annex_sync_requests WHERE connection = ? AND stream = ?", taken);
  }
  return streams;
}

std::string SyncEngine::check(const std::string& connection, std::string* detail) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return "no connection " + connection + " is configured";
  try {
    std::string out = call(it->second, "check", [](Open& o, std::string* out, std::string* err) {
      annex_buffer ob{out, &append_to}, eb{err, &append_to};
      return o.table.check(o.conn, &ob, &eb);
    });
    json j = json::parse(out, nullptr, false);
    if (detail != nullptr) *detail = j.is_object() ? j.value("detail", out) : out;
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::string SyncEngine::owner_id_for(const StreamConfig& s) {
  if (s.owner_login.empty()) return {};
  store::Lease lease(md_.database());
  Param p = Param::text(s.owner_login);
  auto rs = store::run(lease.session(), "SELECT id FROM annex_users WHERE login = ?", std::span<const Param>(&p, 1));
  if (rs.rows.empty()) throw std::invalid_argument("stream " + s.name + ": owner_login " + s.owner_login + " is not a user");
  return rs.rows[0][0].s;
}

void SyncEngine::save_run(const RunReport& r, bool insert) {
  store::Lease lease(md_.database());
  std::string diff = r.diff.dump();
  if (insert) {
    Param p[] = {Param::text(r.id), Param::text(r.connection), Param::text(r.stream), Param::text(r.direction),
                 Param::integer(r.dry_run ? 1 : 0), Param::text(r.status), Param::text(r.started_at),
                 r.daemon.empty() ? Param::null() : Param::text(r.daemon)};
    store::run(lease.session(),
               "INSERT INTO annex_sync_runs (id, connection, stream, direction, dry_run, status, started_at, daemon, read_count,"
               " created_count, updated_count, unchanged_count, rejected_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0)",
               p);
    return;
  }
  Param p[] = {Param::text(r.status), r.finished_at.empty() ? Param::null() : Param::text(r.finished_at),
               Param::integer(r.read), Param::integer(r.created), Param::integer(r.updated), Param::integer(r.unchanged),
               Param::integer(r.rejected), Param::integer(r.duration_ms),
               r.error.empty() ? Param::null() : Param::text(r.error), Param::text(diff), Param::text(r.id)};
  store::run(lease.session(),
             "UPDATE annex_sync_runs SET status = ?, finished_at = ?, read_count = ?, created_count = ?, updated_count = ?,"
             " unchanged_count = ?, rejected_count = ?, duration_ms = ?, error = ?, diff = ? WHERE id = ?",
             p);
}

void SyncEngine::report_progress(RunReport& r, const Progress& progress) {
  // A page of a hundred records takes a few milliseconds: the run's row and the caller hear of it a few times a
  // second, not once a page, so that reporting does not slow the run it reports.
  int64_t now = now_ms();
  if (r.reported_ms != 0 && now - r.reported_ms < 200) return;
  r.reported_ms = now;
  save_run(r, false);
  if (progress) progress(r);
}

void SyncEngine::dead_letter(soci::session& s, const ConnectionConfig& c, const StreamConfig& st, const std::string& direction,
                             const std::string& record, const std::string& reason, const std::string& subject) {
  std::string now = clock::utc_now();
  Param p[] = {Param::text(c.name), Param::text(st.name), Param::text(direction), Param::text(record),
               Param::text(reason), Param::text(now), subject.empty() ? Param::null() : Param::text(subject)};
  store::run(s,
             "INSERT INTO annex_sync_dead_letters (connection, stream, direction, record, reason, created_at, subject)"
             " VALUES (?, ?, ?, ?, ?, ?, ?)",
             p);
}

std::set<std::string> SyncEngine::open_letters(const ConnectionConfig& c, const StreamConfig& st, const std::string& direction) {
  store::Lease lease(md_.database());
  Param p[] = {Param::text(c.name), Param::text(st.name), Param::text(direction)};
  auto rs = store::run(lease.session(),
                       "SELECT DISTINCT subject FROM annex_sync_dead_letters WHERE connection = ? AND stream = ? AND direction = ?"
                       " AND subject IS NOT NULL AND resolved_at IS NULL AND replayed_at IS NULL",
                       p);
  std::set<std::string> out;
  for (const auto& row : rs.rows) out.insert(row[0].s);
  return out;
}

void SyncEngine::resolve_letters(soci::session& s, const ConnectionConfig& c, const StreamConfig& st, const std::string& direction,
                                 const std::string& subject) {
  const std::string now = clock::utc_now();
  Param p[] = {Param::text(now), Param::text(c.name), Param::text(st.name), Param::text(direction), Param::text(subject)};
  store::run(s,
             "UPDATE annex_sync_dead_letters SET resolved_at = ? WHERE connection = ? AND stream = ? AND direction = ?"
             " AND subject = ? AND resolved_at IS NULL AND replayed_at IS NULL",
             p);
}

std::map<std::string, int64_t> SyncEngine::idle_ticks() const {
  std::lock_guard lock(mutex_);
  return idle_;
}

std::vector<RunReport> SyncEngine::run(const std::string& connection, const std::string& stream, bool dry_run,
                                       const Progress& progress, const std::string& only_direction, bool scheduled) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) throw std::invalid_argument("no connection " + connection + " is configured");
  std::vector<RunReport> out;
  for (const auto& [name, s] : it->second.streams) {
    if (!stream.empty() && name != stream) continue;
    if (!s.documents.empty()) {
      if (s.direction == "push" && only_direction != "pull") out.push_back(push_documents(it->second, s, dry_run, progress));
      if (s.direction == "pull" && only_direction != "push") out.push_back(pull_documents(it->second, s, dry_run, progress));
      continue;
    }
    if (s.direction != "push" && only_direction != "push") out.push_back(pull(it->second, s, dry_run, progress));
    if (s.direction != "pull" && only_direction != "pull") {
      RunReport r = push(it->second, s, dry_run, progress, scheduled);
      if (r.status != "idle") out.push_back(std::move(r));
    }
  }
  if (out.empty() && only_direction.empty()) throw std::invalid_argument("connection " + connection + " has no stream " + stream);
  return out;
}

std::mutex& SyncEngine::run_lock(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto& m = runs_[key];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

std::unique_ptr<cluster::HeldLease> SyncEngine::hold_run(const ConnectionConfig& c, const StreamConfig& s, const char* direction) {
  if (leases_ == nullptr) return nullptr;
  const std::string key = c.name + "/" + s.name + "/" + direction;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(kRunWaitSeconds);
  for (;;) {
    auto held = std::make_unique<cluster::HeldLease>(*leases_, "sync:" + key, std::chrono::seconds(30));
    if (held->held()) {
      // Nobody else runs it now: a run still marked running was left by a process that stopped in the middle.
      store::Lease lease(md_.database());
      const std::string now = clock::utc_now();
      Param p[] = {Param::text(now), Param::text(c.name), Param::text(s.name), Param::text(direction)};
      store::run(lease.session(),
                 "UPDATE annex_sync_runs SET status = 'failed', finished_at = ?,"
                 " error = 'its process (' || COALESCE(daemon, 'annexctl') || ') stopped during the run; the next run went on from its cursor'"
                 " WHERE connection = ? AND stream = ? AND direction = ? AND status = 'running'",
                 p);
      return held;
    }
    if (std::chrono::steady_clock::now() >= until) {
      auto holder = leases_->holder("sync:" + key);
      throw std::runtime_error("a run of " + key + " is in progress" +
                               (holder ? " on " + holder->daemon + " since " + holder->since : std::string{}) + " (waited " +
                               std::to_string(kRunWaitSeconds) + " s)");
    }
    std::this_thread::sleep_for(std::clamp(held->left(), std::chrono::milliseconds(20), std::chrono::milliseconds(500)));
  }
}

namespace {
// "run_" + milliseconds since the epoch (12 hex digits) + 80 random bits: runs list by start time, which is kept
// to the second, and then by id, so runs started within one second (by two daemons, say) list in the order they
// started instead of at random.
std::string new_run_id() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  char time_part[16];
  std::snprintf(time_part, sizeof time_part, "%012llx", static_cast<unsigned long long>(ms) & 0xffffffffffffULL);
  return "run_" + std::string(time_part) + auth::new_id("").substr(0, 20);
}
}  // namespace

RunReport SyncEngine::begin_run(const ConnectionConfig& c, const StreamConfig& s, const char* direction, bool dry_run) {
  RunReport r;
  r.id = new_run_id();
  r.connection = c.name;
  r.stream = s.name;
  r.direction = direction;
  r.dry_run = dry_run;
  r.status = "running";
  r.started_at = clock::utc_now();
  if (leases_ != nullptr) r.daemon = leases_->daemon();
  save_run(r, true);
  return r;
}

RunReport SyncEngine::pull(const ConnectionConfig& c, const StreamConfig& s, bool dry_run, const Progress& progress) {
  std::lock_guard one_at_a_time(run_lock(c.name + "/" + s.name + "/pull"));
  auto among_daemons = hold_run(c, s, "pull");
  RunReport r = begin_run(c, s, "pull", dry_run);
  int64_t started = now_ms();
  const masterdata::Entity& entity = *s.entity;
  const std::set<std::string> letters = open_letters(c, s, "pull");  // records that failed before: resolved once they go
  const bool pg = md_.database().dialect() == store::Dialect::kPostgresql;
  // Bulk work: a dry run describes each change; a real pull does not render them.
  masterdata::MasterData store = dry_run ? masterdata::MasterData(md_.database()) : md_.quiet();
  try {
    std::string owner = entity.scoped ? owner_id_for(s) : std::string{};
    std::string cursor;
    {
      store::Lease lease(md_.database());
      Param p[] = {Param::text(c.name), Param::text(s.name)};
      auto rs = store::run(lease.session(), "SELECT cursor FROM annex_sync_cursors WHERE connection = ? AND stream = ?", p);
      if (!rs.rows.empty()) cursor = rs.rows[0][0].s;
    }
    // Reads a page of at least page_size records (or the last one): a remote whose own pages are smaller (an
    // OData service's hundred rows) is read several times, so that storing commits fewer, larger transactions.
    struct Page {
      json records = json::array();
      std::string cursor;  // where the next page starts
      bool last = false;
      bool whole = false;  // a read of every record (no change field): only those whose content changed apply
    };
    auto fetch = [&](std::string after) {
      Page page{json::array(), std::move(after), false};
      while (!page.last && page.records.size() < s.page_size) {
        std::string text = call(c, "read", [&](Open& o, std::string* out, std::string* err) {
          annex_buffer ob{out, &append_to}, eb{err, &append_to};
          return o.table.read(o.conn, as_str(s.name), as_str(page.cursor), s.page_size, &ob, &eb);
        });
        json part = json::parse(text, nullptr, false);
        if (!part.is_object() || !part.contains("records") || !part["records"].is_array()) {
          throw std::runtime_error("read on " + c.name + ": the connector answered no {\"records\": [...]} page");
        }
        page.last = part.value("done", true) || part["records"].empty();
        page.whole = page.whole || part.value("compare", std::string{}) == "content";
        for (auto& rec : part["records"]) page.records.push_back(std::move(rec));
        if (part.contains("cursor")) page.cursor = part["cursor"].dump();
      }
      return page;
    };
    // The next page is fetched while this one is stored: the remote's round trips, not Annex, set the pace.
    std::future<Page> fetching = std::async(std::launch::async, fetch, cursor);
    for (;;) {
      Page page = fetching.get();
      if (!page.last) fetching = std::async(std::launch::async, fetch, page.cursor);
      {  // one transaction per page: its records and the cursor advance commit together
      store::Lease lease(md_.database());
      soci::session& session = lease.session();
      store::ScopedTransaction txn(session, md_.database().dialect());
      // The page's bindings and existing records, fetched together rather than record by record.
      std::vector<std::string> remote_ids, keys;
      const std::string key_remote = entity.key.size() == 1 ? s.mapping->remote_field(entity.key[0]) : std::string{};
      for (const json& rec : page.records) {
        if (rec.contains(s.remote_id) && !rec[s.remote_id].is_null()) remote_ids.push_back(text_of(rec[s.remote_id]));
        if (!key_remote.empty() && rec.contains(key_remote) && !rec[key_remote].is_null()) keys.push_back(text_of(rec[key_remote]));
      }
      std::map<std::string, std::string> bound_ids = store.bound_records(session, entity, c.name, remote_ids);
      std::map<std::string, json> by_key = store.find_by_keys(session, entity, keys);
      std::set<std::string> created_in_page;  // keys inserted by this page: look those up afresh
      const MinorUnits minor_units = minor_units_through(md_, session);
      const std::map<std::string, std::string> digests =
          page.whole ? store.content_digests(session, c.name, s.name, remote_ids) : std::map<std::string, std::string>{};
      for (const json& rec : page.records) {
        ++r.read;
        std::string digest;
        if (page.whole && rec.contains(s.remote_id)) {
          digest = crypto::sha256_hex(s.mapping_digest + rec.dump());
          auto applied = digests.find(text_of(rec[s.remote_id]));
          if (applied != digests.end() && applied->second == digest && bound_ids.count(applied->first)) {
            ++r.unchanged;  // read whole again as it was last applied
            continue;
          }
        }
        if (pg) store::run(session, "SAVEPOINT annex_record", {});
        try {
          if (!rec.contains(s.remote_id) || rec[s.remote_id].is_null()) {
            throw masterdata::MasterDataError(s.remote_id, "the record has no " + s.remote_id);
          }
          std::string remote_id = text_of(rec[s.remote_id]);
          json annex = s.mapping->to_annex(rec, minor_units);
          std::optional<json> existing;
          auto bound = bound_ids.find(remote_id);
          std::string key_value = entity.key.size() == 1 && annex.contains(entity.key[0]) ? text_of(annex[entity.key[0]]) : "";
          if (bound != bound_ids.end()) {
            existing = store.get(session, entity, bound->second);
          } else if (!key_remote.empty() && !created_in_page.count(key_value)) {
            auto found = by_key.find(key_value);
            if (found != by_key.end()) existing = found->second;
          } else {
            existing = store.find_by_key(session, entity, annex);
          }
          if (existing) {
            for (auto f = annex.begin(); f != annex.end();) {
              bool key = std::find(entity.key.begin(), entity.key.end(), f.key()) != entity.key.end();
              f = !key && !s.remote_owns(f.key()) ? annex.erase(f) : std::next(f);
            }
          } else if (entity.scoped) {
            if (!annex.contains("sector_id")) annex["sector_id"] = s.sector_id;
            if (!annex.contains("owner_id")) annex["owner_id"] = owner;
          }
          json normalized = store.normalize(entity, annex, existing.has_value());
          masterdata::Change change = existing ? store.update(session, entity, (*existing)["id"].get<std::string>(), normalized)
                                               : store.insert(session, entity, normalized);
          if (change.outcome == "created") {
            created_in_page.insert(key_value);
            bound_ids[remote_id] = change.id;
          }
          if (change.outcome == "created") ++r.created;
          else if (change.outcome == "updated") ++r.updated;
          else ++r.unchanged;
          if (dry_run && change.outcome != "unchanged" && r.diff.size() < 1000) {
            r.diff.push_back({{"remote_id", remote_id},
                              {"outcome", change.outcome},
                              {"before", change.before_json.empty() ? json(nullptr) : json::parse(change.before_json)},
                              {"after", json::parse(change.after_json)}});
          }
          store.bind(session, entity, change.id, c.name, remote_id,
                   s.version_field.empty() || !rec.contains(s.version_field) ? "" : text_of(rec[s.version_field]));
          if (!digest.empty()) store.set_content_digest(session, c.name, s.name, remote_id, digest);
          if (letters.count(remote_id) && !dry_run) resolve_letters(session, c, s, "pull", remote_id);
          if (pg) store::run(session, "RELEASE SAVEPOINT annex_record", {});
        } catch (const std::exception& e) {
          if (pg) store::run(session, "ROLLBACK TO SAVEPOINT annex_record", {});
          std::string field;
          if (auto* m = dynamic_cast<const MappingError*>(&e)) field = m->field();
          if (auto* m = dynamic_cast<const masterdata::MasterDataError*>(&e)) field = m->field();
          ++r.rejected;
          dead_letter(session, c, s, "pull", rec.dump(), naming(field, e.what()),
                      rec.contains(s.remote_id) ? text_of(rec[s.remote_id]) : std::string{});
        }
      }
      // A dry run's transaction is never committed: it rolls back when this page ends.
      if (!dry_run) {
        std::string now = clock::utc_now();
        Param p[] = {Param::text(c.name), Param::text(s.name), Param::text(page.cursor), Param::text(now)};
        store::run(session,
                   "INSERT INTO annex_sync_cursors (connection, stream, cursor, updated_at) VALUES (?, ?, ?, ?)"
                   " ON CONFLICT (connection, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                   p);
        txn.commit();
      }
      }  // a dry run's transaction rolls back here
      cursor = page.cursor;
      r.duration_ms = now_ms() - started;
      report_progress(r, progress);
      if (page.last) break;
    }
  } catch (const std::exception& e) {
    spdlog::warn("sync: pull {}/{} failed after {} records: {}", c.name, s.name, r.read, e.what());
    return finish(r, started, progress, e.what());
  }
  return finish(r, started, progress, "");
}

RunReport SyncEngine::push(const ConnectionConfig& c, const StreamConfig& s, bool dry_run, const Progress& progress, bool scheduled) {
  std::lock_guard one_at_a_time(run_lock(c.name + "/" + s.name + "/push"));
  auto among_daemons = hold_run(c, s, "push");
  if (!dry_run) {
    // Nothing due: a scheduled tick is counted, not recorded (history keeps what did something or failed); a run
    // asked for while everything pending waits for its retry says so.
    store::Lease lease(md_.database());
    Param p[] = {Param::text(c.name), Param::text(s.name)};
    auto rs = store::run(lease.session(),
                         "SELECT COUNT(*), MIN(next_attempt_at) FROM annex_sync_outbox"
                         " WHERE connection = ? AND stream = ? AND state = 'pending'",
                         p);
    const int64_t pending = rs.rows[0][0].i;
    const bool due = pending > 0 && rs.rows[0][1].s <= clock::utc_now();
    if (!due && (scheduled || pending > 0)) {
      RunReport idle;
      idle.connection = c.name;
      idle.stream = s.name;
      idle.direction = "push";
      idle.status = scheduled ? "idle" : "waiting";
      if (scheduled) {
        std::lock_guard lock(mutex_);
        ++idle_[c.name + "/" + s.name];
      } else {
        idle.error = std::to_string(pending) + (pending == 1 ? " pending record waits" : " pending records wait") +
                     " for a retry after a failure, the next at " + rs.rows[0][1].s + "; sent then";
      }
      return idle;
    }
  }
  RunReport r = begin_run(c, s, "push", dry_run);
  int64_t started = now_ms();
  const masterdata::Entity& entity = *s.entity;
  const std::set<std::string> letters = open_letters(c, s, "push");  // records that failed before: resolved once they go
  // The fields this side owns, plus the key, travel.
  std::vector<std::string> fields;
  for (const auto& f : s.mapping->annex_fields()) {
    bool key = std::find(entity.key.begin(), entity.key.end(), f) != entity.key.end();
    if (key || !s.remote_owns(f)) fields.push_back(f);
  }
  // A batch of outbox rows, read and mapped, ready to send.
  struct Item {
    std::string record_id;
    std::vector<int64_t> seqs;
    std::string key;
    int attempts = 0;
  };
  struct Batch {
    std::vector<Item> items;
    std::map<std::string, masterdata::Binding> known;  // record id → remote id (and version) already bound
    json records = json::array();
    std::string body;  // `records` as the connector receives them
    int64_t last_seq = 0;
    bool blocked = false;  // stopped at a busy record
    int64_t refused = 0;   // records the mapping refused (dead letters, or in a dry run what would be)
    json refusals = json::array();  // a dry run's
  };
  // Nothing is lost: the item's rows stay pending and are tried again later, further apart each time.
  auto defer = [&c](soci::session& session, const Item& item, const std::string& reason) {
    std::string when = clock::utc_now(backoff_ms(item.attempts + 1, c.retry_base_ms, c.retry_max_ms) / 1000 + 1);
    for (int64_t seq : item.seqs) {
      Param p[] = {Param::text(when), Param::text(reason), Param::integer(seq)};
      store::run(session, "UPDATE annex_sync_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ?", p);
    }
  };
  // Reads the pending rows after `after_seq`. It stops before a row of a record in `busy` (a batch not yet
  // recorded): that record's remote id may be about to be bound, and a second create must not race it.
  auto read_batch = [&](int64_t after_seq, const std::set<std::string>& busy) {
    Batch b;
    b.last_seq = after_seq;
    store::Lease lease(md_.database());
    const MinorUnits minor_units = minor_units_through(md_, lease.session());
    // Rows whose every record the mapping refused are dead letters at once; the reading goes on after them.
    while (b.items.empty() && !b.blocked) {
      std::string now = clock::utc_now();
      Param p[] = {Param::text(c.name), Param::text(s.name), Param::text(now), Param::integer(b.last_seq),
                   Param::integer(s.page_size)};
      auto rs = store::run(lease.session(),
                           "SELECT seq, record_id, idempotency_key, attempts FROM annex_sync_outbox"
                           " WHERE connection = ? AND stream = ? AND state = 'pending' AND next_attempt_at <= ?"
                           " AND seq > ? ORDER BY seq LIMIT ?",
                           p);
      if (rs.rows.empty()) return b;
      std::map<std::string, size_t> by_record;
      std::vector<Item> read;
      for (const auto& row : rs.rows) {
        if (busy.count(row[1].s)) {
          b.blocked = true;
          break;
        }
        b.last_seq = row[0].i;
        auto found = by_record.find(row[1].s);
        if (found != by_record.end()) {
          read[found->second].seqs.push_back(row[0].i);  // one send carries a record's latest state
          continue;
        }
        by_record[row[1].s] = read.size();
        read.push_back({row[1].s, {row[0].i}, row[2].s, static_cast<int>(row[3].i)});
      }
      if (read.empty()) return b;
      std::vector<std::string> ids;
      for (const auto& item : read) ids.push_back(item.record_id);
      auto records = md_.get_many(lease.session(), entity, ids);
      b.known = md_.remote_ids(lease.session(), entity, c.name, ids);
      for (auto& item : read) {
        auto record = records.find(item.record_id);
        auto remote = b.known.find(item.record_id);
        std::string remote_id = remote == b.known.end() ? std::string{} : remote->second.remote_id;
        std::string version = remote == b.known.end() ? std::string{} : remote->second.remote_version;
        json mapped = json::object();
        try {
          // A record the remote does not know yet travels whole; a known one carries the fields this side owns.
          if (record != records.end()) {
            mapped = s.mapping->to_remote(record->second, minor_units, remote_id.empty() ? std::vector<std::string>{} : fields);
          }
        } catch (const MappingError& e) {
          // A value the remote cannot take (an amount in a currency it does not hold, a value no map sends):
          // this record is the remote's to refuse, never the connection's.
          ++b.refused;
          if (dry_run) {
            b.refusals.push_back({{"record_id", item.record_id}, {"outcome", "would refuse"}, {"reason", e.what()}});
            continue;
          }
          json letter = {{"record_id", item.record_id}, {"annex", record->second}};
          dead_letter(lease.session(), c, s, "push", letter.dump(), e.what(), item.record_id);
          for (int64_t seq : item.seqs) {
            Param q[] = {Param::text(now), Param::text(e.what()), Param::integer(seq)};
            store::run(lease.session(),
                       "UPDATE annex_sync_outbox SET state = 'dead', sent_at = ?, last_error = ?, attempts = attempts + 1 WHERE seq = ?", q);
          }
          continue;
        }
        // The remote version last seen travels too (an ETag for If-Match).
        b.records.push_back({{"remote_id", remote_id.empty() ? json(nullptr) : json(remote_id)},
                             {"remote_version", version.empty() ? json(nullptr) : json(version)},
                             {"idempotency_key", item.key},
                             {"record", std::move(mapped)}});
        b.items.push_back(std::move(item));
      }
    }
    b.body = b.records.dump();
    return b;
  };
  auto ids_of = [](const Batch& b) {
    std::set<std::string> ids;
    for (const auto& item : b.items) ids.insert(item.record_id);
    return ids;
  };
  // Records the connector's answer for a batch: bindings, dead letters and the outbox rows' states, in one
  // transaction.
  auto record_results = [&](const Batch& b, const json& results) {
    store::Lease lease(md_.database());
    store::ScopedTransaction txn(lease.session(), md_.database().dialect());
    std::string now = clock::utc_now();
    std::map<std::string, std::vector<std::string>> seqs_by_state;
    for (size_t i = 0; i < b.items.size(); ++i) {
      const json& res = results[i];
      std::string status = res.value("status", std::string{});
      std::string state = "sent";
      const std::string reason = res.value("reason", std::string("rejected")), field = res.value("field", std::string{});
      if (status == "failed" && b.items[i].attempts + 1 < c.retry_attempts) {
        defer(lease.session(), b.items[i], naming(field, reason));  // the remote failed on this record alone
        continue;
      }
      if (status == "created" || status == "updated" || status == "unchanged") {
        (status == "created" ? r.created : status == "updated" ? r.updated : r.unchanged)++;
        std::string remote_id = res.contains("remote_id") ? text_of(res["remote_id"]) : "";
        std::string version = res.contains("remote_version") ? text_of(res["remote_version"]) : "";
        auto was = b.known.find(b.items[i].record_id);
        if (!remote_id.empty() && (was == b.known.end() || was->second.remote_id != remote_id || !version.empty())) {
          md_.bind(lease.session(), entity, b.items[i].record_id, c.name, remote_id, version);
        }
        if (letters.count(b.items[i].record_id)) resolve_letters(lease.session(), c, s, "push", b.items[i].record_id);
      } else {
        ++r.rejected;
        state = "dead";
        json letter = {{"record_id", b.items[i].record_id}, {"remote", b.records[i]["record"]}};
        dead_letter(lease.session(), c, s, "push", letter.dump(), naming(field, reason), b.items[i].record_id);
      }
      for (int64_t seq : b.items[i].seqs) seqs_by_state[state].push_back(std::to_string(seq));
    }
    for (const auto& [state, seqs] : seqs_by_state) {
      for (size_t at = 0; at < seqs.size(); at += 500) {
        std::string in;
        for (size_t k = at; k < std::min(seqs.size(), at + 500); ++k) in += (in.empty() ? "" : ", ") + seqs[k];
        Param p[] = {Param::text(state), Param::text(now)};
        // The sequence numbers are integers this engine read: inlined, not user text.
        store::run(lease.session(),
                   "UPDATE annex_sync_outbox SET state = ?, sent_at = ?, attempts = attempts + 1 WHERE seq IN (" + in + ")", p);
      }
    }
    txn.commit();
  };
  // Records the mapping refused, counted apart: recordings running beside the reading count the rest.
  int64_t refused = 0;
  auto count_refused = [&](const Batch& b) {
    refused += b.refused;
    for (const json& refusal : b.refusals) {
      if (r.diff.size() < 1000) r.diff.push_back(refusal);
    }
  };
  try {
    if (dry_run) {
      for (Batch b = read_batch(0, {});; b = read_batch(b.last_seq, {})) {
        count_refused(b);
        if (b.items.empty()) break;
        r.read += static_cast<int64_t>(b.items.size());
        for (size_t i = 0; i < b.items.size() && r.diff.size() < 1000; ++i) {
          r.diff.push_back({{"record_id", b.items[i].record_id}, {"outcome", "would send"}, {"after", b.records[i]["record"]}});
        }
      }
    }
    // A pipeline of three: while the connector writes one batch, the next is read and mapped and the previous
    // one's results are recorded. The connector's round trips, not Annex, then set the pace.
    Batch current = dry_run ? Batch{} : read_batch(0, {});
    std::future<void> recording;
    std::set<std::string> recording_ids;
    count_refused(current);
    while (!current.items.empty()) {
      r.read += static_cast<int64_t>(current.items.size());
      std::set<std::string> busy = ids_of(current);
      busy.insert(recording_ids.begin(), recording_ids.end());
      auto next = std::async(std::launch::async, read_batch, current.last_seq, busy);
      const std::string& body = current.body;
      std::string answer;
      try {
        answer = call(c, "write", [&](Open& o, std::string* out, std::string* err) {
          annex_buffer ob{out, &append_to}, eb{err, &append_to};
          return o.table.write(o.conn, as_str(s.name), as_str(body), &ob, &eb);
        });
      } catch (const std::exception& e) {
        next.wait();
        if (recording.valid()) recording.get();
        // Nothing is lost: the rows stay pending and are tried again later, further apart each time.
        store::Lease lease(md_.database());
        for (const auto& item : current.items) defer(lease.session(), item, e.what());
        throw;
      }
      json results = json::parse(answer, nullptr, false);
      if (!results.is_object() || !results.contains("results") || !results["results"].is_array() ||
          results["results"].size() != current.items.size()) {
        next.wait();
        if (recording.valid()) recording.get();
        throw std::runtime_error("write on " + c.name + ": the connector answered " + std::to_string(
            results.is_object() && results.contains("results") && results["results"].is_array() ? results["results"].size() : 0) +
            " results for " + std::to_string(current.items.size()) + " records");
      }
      if (recording.valid()) recording.get();  // one recording at a time: the run's counts stay consistent
      r.duration_ms = now_ms() - started;
      report_progress(r, progress);
      recording_ids = ids_of(current);
      recording = std::async(std::launch::async,
                             [&record_results, b = std::move(current), res = std::move(results["results"])] { record_results(b, res); });
      current = next.get();
      count_refused(current);
      if (current.items.empty() && current.blocked) {
        recording.get();  // the rows wait on a record being recorded: once it is, they go
        recording_ids.clear();
        current = read_batch(current.last_seq, {});
        count_refused(current);
      }
    }
    if (recording.valid()) recording.get();
  } catch (const std::exception& e) {
    spdlog::warn("sync: push {}/{} failed: {}", c.name, s.name, e.what());
    r.read += refused;
    r.rejected += refused;
    return finish(r, started, progress, e.what());
  }
  r.read += refused;
  r.rejected += refused;
  return finish(r, started, progress, "");
}

RunReport SyncEngine::finish(RunReport& r, int64_t started, const Progress& progress, const std::string& failure) {
  r.status = failure.empty() ? "succeeded" : "failed";
  if (!failure.empty()) r.error = failure;
  r.finished_at = clock::utc_now();
  r.duration_ms = now_ms() - started;
  save_run(r, false);
  if (progress) progress(r);
  return r;
}

void SyncEngine::refuse_remote_owned(soci::session& session, const masterdata::Entity& entity, const std::string& id,
                                     const json& before, const json& changes) {
  std::optional<std::vector<masterdata::Binding>> bound;  // read once, when a field asks
  for (const auto& [cname, c] : connections_) {
    // The changed fields the connection's pulls of this entity bring, and those one of its streams leaves to Annex
    // (two streams of one entity, as with filters, may differ: then Annex may change it).
    std::set<std::string> pulled, annex_owned;
    for (const auto& [sname, s] : c.streams) {
      if (s.entity != &entity) continue;
      for (const std::string& f : s.mapping->annex_fields()) {
        if (!changes.contains(f) || std::find(entity.key.begin(), entity.key.end(), f) != entity.key.end()) continue;
        if (s.direction != "push" && s.remote_owns(f)) pulled.insert(f);
        else annex_owned.insert(f);
      }
    }
    for (const std::string& f : pulled) {
      if (annex_owned.count(f) || (before.contains(f) && before[f] == changes[f])) continue;
      if (!bound) bound = md_.bindings(session, entity, id);
      for (const auto& b : *bound) {
        if (b.connection == cname) {
          throw masterdata::MasterDataError(f, f + " is kept in " + cname + ", its system of record: change it there, and the next pull brings it here",
                                            409);
        }
      }
    }
  }
}

void SyncEngine::enqueue(soci::session& session, const masterdata::Entity& entity, const masterdata::Change& change) {
  std::string now = clock::utc_now();
  for (const auto& [cname, c] : connections_) {
    for (const auto& [sname, s] : c.streams) {
      if (s.entity != &entity || s.direction == "pull") continue;
      std::string key = cname + "/" + sname + "/" + change.id + "/" + std::to_string(change.version);
      Param p[] = {Param::text(cname), Param::text(sname), Param::text(entity.name), Param::text(change.id),
                   Param::text(key), Param::text(now), Param::text(now)};
      store::run(session,
                 "INSERT INTO annex_sync_outbox (connection, stream, entity, record_id, idempotency_key, state, attempts,"
                 " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                 p);
    }
  }
}

namespace {
RunReport read_run(const std::vector<store::Cell>& r) {
  RunReport out;
  out.id = r[0].s;
  out.connection = r[1].s;
  out.stream = r[2].s;
  out.direction = r[3].s;
  out.dry_run = r[4].i != 0;
  out.status = r[5].s;
  out.started_at = r[6].s;
  out.finished_at = r[7].s;
  out.read = r[8].i;
  out.created = r[9].i;
  out.updated = r[10].i;
  out.unchanged = r[11].i;
  out.rejected = r[12].i;
  out.duration_ms = r[13].i;
  out.error = r[14].s;
  out.diff = r[15].type == store::CellType::kNull ? json::array() : json::parse(r[15].s, nullptr, false);
  out.daemon = r[16].s;
  return out;
}
constexpr const char* kRunColumns =
    "id, connection, stream, direction, dry_run, status, started_at, finished_at, read_count, created_count,"
    " updated_count, unchanged_count, rejected_count, COALESCE(duration_ms, 0), error, diff, daemon";
}  // namespace

std::vector<RunReport> SyncEngine::history(const std::string& connection, int limit) {
  store::Lease lease(md_.database());
  Param p[] = {Param::text(connection), Param::text(connection), Param::integer(limit)};
  auto rs = store::run(lease.session(),
                       std::string("SELECT ") + kRunColumns +
                           " FROM annex_sync_runs WHERE (? = '' OR connection = ?) ORDER BY started_at DESC, id DESC LIMIT ?",
                       p);
  std::vector<RunReport> out;
  for (const auto& row : rs.rows) out.push_back(read_run(row));
  return out;
}

std::optional<RunReport> SyncEngine::run_report(const std::string& run_id) {
  store::Lease lease(md_.database());
  Param p = Param::text(run_id);
  auto rs = store::run(lease.session(), std::string("SELECT ") + kRunColumns + " FROM annex_sync_runs WHERE id = ?",
                       std::span<const Param>(&p, 1));
  if (rs.rows.empty()) return std::nullopt;
  return read_run(rs.rows[0]);
}

std::vector<DeadLetter> SyncEngine::dead_letters(const std::string& connection, bool include_replayed) {
  store::Lease lease(md_.database());
  Param p[] = {Param::text(connection), Param::text(connection), Param::integer(include_replayed ? 1 : 0)};
  auto rs = store::run(lease.session(),
                       "SELECT seq, connection, stream, direction, record, reason, created_at, replayed_at"
                       " FROM annex_sync_dead_letters WHERE (? = '' OR connection = ?)"
                       " AND (? = 1 OR (replayed_at IS NULL AND resolved_at IS NULL))"
                       " ORDER BY seq",
                       p);
  std::vector<DeadLetter> out;
  for (const auto& r : rs.rows) {
    out.push_back({r[0].i, r[1].s, r[2].s, r[3].s, r[4].s, r[5].s, r[6].s,
                   r[7].s});
  }
  return out;
}

std::string SyncEngine::replay(int64_t seq) {
  std::optional<DeadLetter> letter;
  for (const auto& d : dead_letters("", false)) {
    if (d.seq == seq) letter = d;
  }
  if (!letter) return "no dead letter " + std::to_string(seq) + " awaits replay";
  auto c = connections_.find(letter->connection);
  if (c == connections_.end() || !c->second.streams.count(letter->stream)) {
    return "connection " + letter->connection + " or its stream " + letter->stream + " is no longer configured";
  }
  const StreamConfig& s = c->second.streams.at(letter->stream);
  if (!s.documents.empty()) return replay_document(c->second, s, *letter);
  const masterdata::Entity& entity = *s.entity;
  store::Lease lease(md_.database());
  store::ScopedTransaction txn(lease.session(), md_.database().dialect());
  try {
    json record = json::parse(letter->record);
    if (letter->direction == "pull") {
      std::string remote_id = text_of(record.at(s.remote_id));
      json annex = s.mapping->to_annex(record, minor_units_through(md_, lease.session()));
      std::optional<std::string> bound = md_.bound_record(lease.session(), entity, c->second.name, remote_id);
      std::optional<json> existing = bound ? md_.get(lease.session(), entity, *bound) : md_.find_by_key(lease.session(), entity, annex);
      if (!existing && entity.scoped) {
        if (!annex.contains("sector_id")) annex["sector_id"] = s.sector_id;
        if (!annex.contains("owner_id")) annex["owner_id"] = owner_id_for(s);
      }
      json normalized = md_.normalize(entity, annex, existing.has_value());
      masterdata::Change change = existing ? md_.update(lease.session(), entity, (*existing)["id"].get<std::string>(), normalized)
                                           : md_.upsert(lease.session(), entity, normalized);
      md_.bind(lease.session(), entity, change.id, c->second.name, remote_id, "");
    } else {
      std::string record_id = record.at("record_id").get<std::string>();
      std::string now = clock::utc_now();
      std::string key = c->second.name + "/" + s.name + "/" + record_id + "/replay-" + std::to_string(seq);
      Param p[] = {Param::text(c->second.name), Param::text(s.name), Param::text(entity.name), Param::text(record_id),
                   Param::text(key), Param::text(now), Param::text(now)};
      store::run(lease.session(),
                 "INSERT INTO annex_sync_outbox (connection, stream, entity, record_id, idempotency_key, state, attempts,"
                 " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
                 p);
    }
    std::string now = clock::utc_now();
    Param p[] = {Param::text(now), Param::integer(seq)};
    store::run(lease.session(), "UPDATE annex_sync_dead_letters SET replayed_at = ? WHERE seq = ?", p);
    txn.commit();
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

json SyncEngine::reconcile(const std::string& connection, const std::string& stream) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) throw std::invalid_argument("no connection " + connection + " is configured");
  const ConnectionConfig& c = it->second;
  json out = {{"connection", connection}, {"streams", json::array()}};
  for (const auto& entry : c.streams) {
    const std::string& name = entry.first;
    const StreamConfig& s = entry.second;  // a plain reference: lambdas below capture it
    if ((!stream.empty() && name != stream) || s.direction == "push" || !s.documents.empty()) continue;
    const masterdata::Entity& entity = *s.entity;
    json report = {{"stream", name}, {"entity", entity.name}, {"compared", 0}, {"matching", 0},
                   {"only_remote_count", 0}, {"only_annex_count", 0}, {"different_count", 0},
                   {"only_remote", json::array()}, {"only_annex", json::array()}, {"differences", json::array()}};
    std::set<std::string> seen;
    std::string cursor;
    store::Lease lease(md_.database());
    const MinorUnits minor_units = minor_units_through(md_, lease.session());
    for (;;) {
      std::string page_text = call(c, "read", [&](Open& o, std::string* o_out, std::string* err) {
        annex_buffer ob{o_out, &append_to}, eb{err, &append_to};
        return o.table.read(o.conn, as_str(s.name), as_str(cursor), s.page_size, &ob, &eb);
      });
      json page = json::parse(page_text, nullptr, false);
      if (!page.is_object() || !page.contains("records")) throw std::runtime_error("read on " + connection + ": no page");
      for (const json& rec : page["records"]) {
        std::string remote_id = rec.contains(s.remote_id) ? text_of(rec[s.remote_id]) : "";
        report["compared"] = report["compared"].get<int64_t>() + 1;
        json annex;
        try {
          annex = s.mapping->to_annex(rec, minor_units);
        } catch (const MappingError& e) {
          annex = json::object();
        }
        std::optional<std::string> bound = md_.bound_record(lease.session(), entity, c.name, remote_id);
        std::optional<json> existing = bound ? md_.get(lease.session(), entity, *bound) : md_.find_by_key(lease.session(), entity, annex);
        if (!existing) {
          report["only_remote_count"] = report["only_remote_count"].get<int64_t>() + 1;
          if (report["only_remote"].size() < 1000) report["only_remote"].push_back(remote_id);
          continue;
        }
        std::string record_id = (*existing)["id"].get<std::string>();
        seen.insert(record_id);
        json fields = json::array();
        for (const auto& [field, value] : annex.items()) {
          json mine = existing->contains(field) ? (*existing)[field] : json(nullptr);
          if (mine != value) fields.push_back({{"field", field}, {"annex", mine}, {"remote", value}});
        }
        if (fields.empty()) {
          report["matching"] = report["matching"].get<int64_t>() + 1;
        } else {
          report["different_count"] = report["different_count"].get<int64_t>() + 1;
          if (report["differences"].size() < 1000) {
            report["differences"].push_back({{"remote_id", remote_id}, {"record_id", record_id}, {"fields", fields}});
          }
        }
      }
      cursor = page.contains("cursor") ? page["cursor"].dump() : cursor;
      if (page.value("done", true) || page["records"].empty()) break;
    }
    Param p[] = {Param::text(entity.name), Param::text(c.name)};
    auto bound_rows = store::run(lease.session(),
                                 "SELECT record_id, remote_id FROM annex_md_bindings WHERE entity = ? AND connection = ? ORDER BY remote_id", p);
    for (const auto& row : bound_rows.rows) {
      if (seen.count(row[0].s)) continue;
      report["only_annex_count"] = report["only_annex_count"].get<int64_t>() + 1;
      if (report["only_annex"].size() < 1000) report["only_annex"].push_back({{"record_id", row[0].s}, {"remote_id", row[1].s}});
    }
    // Records this connection never carried: made in Annex and never pushed (or not pushed yet).
    auto unbound = store::run(lease.session(),
                              "SELECT id FROM " + entity.table + " r WHERE NOT EXISTS (SELECT 1 FROM annex_md_bindings b"
                              " WHERE b.entity = ? AND b.connection = ? AND b.record_id = r.id) ORDER BY id",
                              p);
    for (const auto& row : unbound.rows) {
      report["only_annex_count"] = report["only_annex_count"].get<int64_t>() + 1;
      if (report["only_annex"].size() < 1000) report["only_annex"].push_back({{"record_id", row[0].s}, {"remote_id", nullptr}});
    }
    out["streams"].push_back(report);
  }
  return out;
}

std::map<std::string, int64_t> SyncEngine::pending() {
  store::Lease lease(md_.database());
  auto rs = store::run(lease.session(),
                       "SELECT connection, stream, COUNT(*) FROM annex_sync_outbox WHERE state = 'pending'"
                       " GROUP BY connection, stream ORDER BY connection, stream",
                       {});
  std::map<std::string, int64_t> out;
  for (const auto& r : rs.rows) out[r[0].s + "/" + r[1].s] = r[2].i;
  auto documents = store::run(lease.session(),
                              "SELECT connection, stream, COUNT(*) FROM annex_sync_documents WHERE state = 'pending'"
                              " GROUP BY connection, stream ORDER BY connection, stream",
                              {});
  for (const auto& r : documents.rows) out[r[0].s + "/" + r[1].s] += r[2].i;
  return out;
}

// ---- document streams ---------------------------------------------------------------------------------------

namespace {

constexpr size_t kMaxDocumentKey = 200;
constexpr const char* kDocumentColumns =
    "connection, stream, doc_key, state, remote_id, outcome, reason, attempts, last_error, created_at, delivered_at";

json document_status_json(const std::vector<store::Cell>& r) {
  auto text_or_null = [](const store::Cell& c) { return c.type == store::CellType::kNull ? json(nullptr) : json(c.s); };
  return {{"connection", r[0].s}, {"stream", r[1].s},          {"key", r[2].s},
          {"state", r[3].s},      {"remote_id", text_or_null(r[4])}, {"outcome", text_or_null(r[5])},
          {"reason", text_or_null(r[6])}, {"attempts", r[7].i}, {"last_error", text_or_null(r[8])},
          {"created_at", r[9].s}, {"delivered_at", r[3].s == "delivered" ? text_or_null(r[10]) : json(nullptr)}};
}

}  // namespace

const StreamConfig& SyncEngine::document_stream(const std::string& owner, const std::string& connection,
                                                const std::string& stream, const std::string& direction) const {
  auto c = connections_.find(connection);
  if (c == connections_.end()) throw DocumentError("connection", "no connection " + connection + " is configured", 404);
  auto s = c->second.streams.find(stream);
  if (s == c->second.streams.end()) throw DocumentError("stream", "connection " + connection + " has no stream " + stream, 404);
  if (s->second.documents.empty()) {
    throw DocumentError("stream", connection + "/" + stream + " carries master data, not documents", 403);
  }
  if (s->second.documents != owner) {
    throw DocumentError("stream", "the documents of " + connection + "/" + stream + " belong to " + s->second.documents, 403);
  }
  if (s->second.direction != direction) {
    throw DocumentError("stream", connection + "/" + stream + " is a " + s->second.direction + " stream, not a " + direction + " one");
  }
  return s->second;
}

void SyncEngine::enqueue_document(soci::session& session, const std::string& owner, const std::string& connection,
                                  const std::string& stream, const std::string& key, const std::string& document_json) {
  document_stream(owner, connection, stream, "push");
  if (key.empty() || key.size() > kMaxDocumentKey) {
    throw DocumentError("key", "a document's key is 1 to " + std::to_string(kMaxDocumentKey) + " characters");
  }
  json document = json::parse(document_json, nullptr, false);
  if (!document.is_object()) throw DocumentError("document", "a document is a JSON object");
  std::string now = clock::utc_now(), text = document.dump();
  Param p[] = {Param::text(connection), Param::text(stream), Param::text(owner), Param::text(key),
               Param::text(text), Param::text(now), Param::text(now)};
  store::run(session,
             "INSERT INTO annex_sync_documents (connection, stream, owner, doc_key, document, state, attempts,"
             " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)"
             " ON CONFLICT (connection, stream, doc_key) DO NOTHING",
             p);
}

std::optional<json> SyncEngine::document_status(const std::string& owner, const std::string& connection,
                                                const std::string& stream, const std::string& key) {
  document_stream(owner, connection, stream, "push");
  store::Lease lease(md_.database());
  Param p[] = {Param::text(connection), Param::text(stream), Param::text(key)};
  auto rs = store::run(lease.session(),
                       std::string("SELECT ") + kDocumentColumns +
                           " FROM annex_sync_documents WHERE connection = ? AND stream = ? AND doc_key = ?",
                       p);
  if (rs.rows.empty()) return std::nullopt;
  return document_status_json(rs.rows[0]);
}

void SyncEngine::add_document_handler(const std::string& owner, const std::string& kind, const std::string& connection,
                                      const std::string& stream, DocumentHandler handler) {
  document_stream(owner, connection, stream, kind == "pull" ? "pull" : "push");
  std::string problem = registry_.add_document_handler(owner, kind, connection, stream, std::move(handler));
  if (!problem.empty()) throw DocumentError("stream", problem, 409);
}

void SyncEngine::notify_outcomes(const ConnectionConfig& c, const StreamConfig& s) {
  std::optional<DocumentHandler> handler = registry_.document_handler("outcome", c.name, s.name);
  if (!handler) return;  // told when the plugin runs: the outcomes wait, marked unheard
  for (;;) {
    store::Lease lease(md_.database());
    Param p[] = {Param::text(c.name), Param::text(s.name)};
    auto rs = store::run(lease.session(),
                         std::string("SELECT seq, ") + kDocumentColumns +
                             " FROM annex_sync_documents WHERE connection = ? AND stream = ? AND state <> 'pending'"
                             " AND notified = 0 ORDER BY delivered_at, seq LIMIT 500",
                             p);
    std::string heard;
    bool refused = false;
    for (const auto& row : rs.rows) {
      std::vector<store::Cell> cells(row.begin() + 1, row.end());
      std::string error;
      annex_status st = (*handler)({c.name, s.name, cells[2].s, document_status_json(cells).dump()}, &error);
      if (st != ANNEX_OK) {
        spdlog::warn("sync: {}/{}: {} did not take the outcome of document {}: {}", c.name, s.name, s.documents,
                     cells[2].s, error);
        refused = true;
        break;  // told again, in order, on the next run
      }
      heard += (heard.empty() ? "" : ", ") + std::to_string(row[0].i);
    }
    // The sequence numbers are integers this engine read: inlined, not user text.
    if (!heard.empty()) store::run(lease.session(), "UPDATE annex_sync_documents SET notified = 1 WHERE seq IN (" + heard + ")", {});
    if (refused || rs.rows.size() < 500) return;
  }
}

// The pending documents of a push stream after `after_seq` that are due, a page of them, with the body the
// connector's write takes: each document's key travels as the idempotency key, so a send repeated after a crash
// finds the document there.
SyncEngine::Page SyncEngine::read_documents(const ConnectionConfig& c, const StreamConfig& s, int64_t after_seq) {
  Page page;
  page.body = "[";
  store::Lease lease(md_.database());
  std::string now = clock::utc_now();
  Param p[] = {Param::text(c.name), Param::text(s.name), Param::text(now), Param::integer(after_seq),
               Param::integer(s.page_size)};
  auto rs = store::run(lease.session(),
                       "SELECT seq, doc_key, document, attempts FROM annex_sync_documents WHERE connection = ?"
                       " AND stream = ? AND state = 'pending' AND next_attempt_at <= ? AND seq > ? ORDER BY seq LIMIT ?",
                       p);
  for (const auto& row : rs.rows) {
    page.items.push_back({row[0].i, row[1].s, row[3].i});
    page.body += (page.items.size() > 1 ? "," : "") +
                 json({{"remote_id", nullptr}, {"remote_version", nullptr}, {"idempotency_key", row[1].s}}).dump();
    page.body.pop_back();
    page.body += ",\"record\":" + row[2].s + "}";
  }
  page.body += "]";
  return page;
}

// Hands a page to the connector and returns its answer. If it fails, nothing is lost: the documents stay
// pending and are sent again later, further apart each time.
std::string SyncEngine::send_documents(const ConnectionConfig& c, const StreamConfig& s, const Page& page) {
  try {
    return call(c, "write", [&](Open& o, std::string* out, std::string* err) {
      annex_buffer ob{out, &append_to}, eb{err, &append_to};
      return o.table.write(o.conn, as_str(s.name), as_str(page.body), &ob, &eb);
    });
  } catch (const std::exception& e) {
    store::Lease lease(md_.database());
    std::string reason = e.what();
    for (const auto& item : page.items) {
      std::string when = clock::utc_now(backoff_ms(static_cast<int>(item.attempts) + 1, c.retry_base_ms, c.retry_max_ms) / 1000 + 1);
      Param p[] = {Param::text(when), Param::text(reason), Param::integer(item.seq)};
      store::run(lease.session(),
                 "UPDATE annex_sync_documents SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ?", p);
    }
    throw;
  }
}

// Records the connector's answer for a page: each document delivered (with its remote id) or dead (with the
// reason, and a dead letter), in one transaction.
void SyncEngine::record_documents(const ConnectionConfig& c, const StreamConfig& s, const Page& page, const std::string& answer,
                                  RunReport& r) {
  json results = json::parse(answer, nullptr, false);
  if (!results.is_object() || !results.contains("results") || !results["results"].is_array() ||
      results["results"].size() != page.items.size()) {
    throw std::runtime_error("write on " + c.name + ": the connector did not answer one result per document");
  }
  store::Lease lease(md_.database());
  store::ScopedTransaction txn(lease.session(), md_.database().dialect());
  std::string now = clock::utc_now();
  for (size_t i = 0; i < page.items.size(); ++i) {
    const json& res = results["results"][i];
    std::string status = res.value("status", std::string{});
    if (status == "created" || status == "updated" || status == "unchanged") {
      (status == "created" ? r.created : status == "updated" ? r.updated : r.unchanged)++;
      std::string remote_id = res.contains("remote_id") ? text_of(res["remote_id"]) : "";
      Param p[] = {remote_id.empty() ? Param::null() : Param::text(remote_id), Param::text(status), Param::text(now),
                   Param::integer(page.items[i].seq)};
      store::run(lease.session(),
                 "UPDATE annex_sync_documents SET state = 'delivered', remote_id = ?, outcome = ?, delivered_at = ?,"
                 " attempts = attempts + 1, last_error = NULL, reason = NULL, notified = 0 WHERE seq = ?",
                 p);
    } else {
      ++r.rejected;
      std::string reason = res.value("reason", std::string("rejected")), field = res.value("field", std::string{});
      reason = (field.empty() ? "" : field + ": ") + reason;
      Param p[] = {Param::text(reason), Param::text(now), Param::integer(page.items[i].seq)};
      store::run(lease.session(),
                 "UPDATE annex_sync_documents SET state = 'dead', reason = ?, delivered_at = ?, attempts = attempts + 1,"
                 " remote_id = NULL, outcome = NULL, notified = 0 WHERE seq = ?",
                 p);
      Param q = Param::integer(page.items[i].seq);
      auto doc = store::run(lease.session(), "SELECT document FROM annex_sync_documents WHERE seq = ?", std::span<const Param>(&q, 1));
      json letter = {{"key", page.items[i].key}, {"document", json::parse(doc.rows.at(0).at(0).s)}};
      dead_letter(lease.session(), c, s, "push", letter.dump(), reason);
    }
  }
  txn.commit();
}

RunReport SyncEngine::push_documents(const ConnectionConfig& c, const StreamConfig& s, bool dry_run, const Progress& progress) {
  std::lock_guard one_at_a_time(run_lock(c.name + "/" + s.name + "/push"));
  auto among_daemons = hold_run(c, s, "push");
  RunReport r = begin_run(c, s, "push", dry_run);
  int64_t started = now_ms();
  try {
    if (dry_run) {
      store::Lease lease(md_.database());
      Param p[] = {Param::text(c.name), Param::text(s.name)};
      auto rs = store::run(lease.session(),
                           "SELECT doc_key, document FROM annex_sync_documents WHERE connection = ? AND stream = ?"
                           " AND state = 'pending' ORDER BY seq",
                           p);
      for (const auto& row : rs.rows) {
        ++r.read;
        if (r.diff.size() < 1000) r.diff.push_back({{"key", row[0].s}, {"outcome", "would send"}, {"document", json::parse(row[1].s)}});
      }
    } else {
      notify_outcomes(c, s);
      // A pipeline of two: while the connector writes one page, the outcomes of the page before are recorded
      // and the page after is read (the store and the finance system work at once).
      auto send = [&](std::shared_ptr<const Page> page) {
        return std::async(std::launch::async, [this, &c, &s, page] { return send_documents(c, s, *page); });
      };
      auto current = std::make_shared<const Page>(read_documents(c, s, 0));
      std::future<std::string> writing;
      if (!current->items.empty()) writing = send(current);
      while (!current->items.empty()) {
        std::string answer = writing.get();
        r.read += static_cast<int64_t>(current->items.size());
        auto next = std::make_shared<const Page>(current->items.size() == s.page_size ? read_documents(c, s, current->items.back().seq)
                                                                                      : Page{});
        if (!next->items.empty()) writing = send(next);
        try {
          record_documents(c, s, *current, answer, r);
        } catch (...) {
          if (writing.valid()) writing.wait();  // its documents stay pending unless it finished: sent again by key
          throw;
        }
        r.duration_ms = now_ms() - started;
        report_progress(r, progress);
        notify_outcomes(c, s);
        current = next;
      }
    }
  } catch (const std::exception& e) {
    spdlog::warn("sync: push {}/{} failed: {}", c.name, s.name, e.what());
    return finish(r, started, progress, e.what());
  }
  return finish(r, started, progress, "");
}

RunReport SyncEngine::pull_documents(const ConnectionConfig& c, const StreamConfig& s, bool dry_run, const Progress& progress) {
  std::lock_guard one_at_a_time(run_lock(c.name + "/" + s.name + "/pull"));
  auto among_daemons = hold_run(c, s, "pull");
  RunReport r = begin_run(c, s, "pull", dry_run);
  int64_t started = now_ms();
  try {
    std::optional<DocumentHandler> handler = registry_.document_handler("pull", c.name, s.name);
    if (!handler && !dry_run) {
      throw std::runtime_error("no handler takes the documents of " + c.name + "/" + s.name + ": the plugin " + s.documents +
                               " is not running here (annexd delivers them)");
    }
    std::string cursor;
    {
      store::Lease lease(md_.database());
      Param p[] = {Param::text(c.name), Param::text(s.name)};
      auto rs = store::run(lease.session(), "SELECT cursor FROM annex_sync_cursors WHERE connection = ? AND stream = ?", p);
      if (!rs.rows.empty()) cursor = rs.rows[0][0].s;
    }
    for (;;) {
      std::string text = call(c, "read", [&](Open& o, std::string* out, std::string* err) {
        annex_buffer ob{out, &append_to}, eb{err, &append_to};
        return o.table.read(o.conn, as_str(s.name), as_str(cursor), s.page_size, &ob, &eb);
      });
      json page = json::parse(text, nullptr, false);
      if (!page.is_object() || !page.contains("records") || !page["records"].is_array()) {
        throw std::runtime_error("read on " + c.name + ": the connector answered no {\"records\": [...]} page");
      }
      std::vector<std::pair<std::string, std::string>> refused;  // document, reason
      for (const json& doc : page["records"]) {
        ++r.read;
        std::string key = doc.contains(s.remote_id) ? text_of(doc[s.remote_id]) : "";
        if (key.empty()) {
          ++r.rejected;
          refused.emplace_back(doc.dump(), s.remote_id + ": the document has no " + s.remote_id);
          continue;
        }
        if (dry_run) {
          if (r.diff.size() < 1000) r.diff.push_back({{"key", key}, {"outcome", "would deliver"}, {"document", doc}});
          continue;
        }
        std::string error;
        annex_status st = (*handler)({c.name, s.name, key, doc.dump()}, &error);
        if (st == ANNEX_OK) {
          ++r.created;
        } else if (st == ANNEX_ERR_UNPROCESSABLE || st == ANNEX_ERR_INVALID_ARGUMENT) {
          ++r.rejected;
          refused.emplace_back(doc.dump(), error.empty() ? "refused by " + s.documents : error);
        } else {
          // The cursor stays before this page: the page comes again, and the handler takes it again (idempotently).
          throw std::runtime_error(s.documents + " did not take document " + key + ": " + (error.empty() ? "failed" : error) +
                                   "; its page is delivered again on the next run");
        }
      }
      std::string next = page.contains("cursor") ? page["cursor"].dump() : cursor;
      if (!dry_run) {  // the page's dead letters and the cursor's advance commit together
        store::Lease lease(md_.database());
        store::ScopedTransaction txn(lease.session(), md_.database().dialect());
        for (const auto& [doc, reason] : refused) dead_letter(lease.session(), c, s, "pull", doc, reason);
        std::string now = clock::utc_now();
        Param p[] = {Param::text(c.name), Param::text(s.name), Param::text(next), Param::text(now)};
        store::run(lease.session(),
                   "INSERT INTO annex_sync_cursors (connection, stream, cursor, updated_at) VALUES (?, ?, ?, ?)"
                   " ON CONFLICT (connection, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                   p);
        txn.commit();
      }
      cursor = next;
      r.duration_ms = now_ms() - started;
      report_progress(r, progress);
      if (page.value("done", true) || page["records"].empty()) break;
    }
  } catch (const std::exception& e) {
    spdlog::warn("sync: pull {}/{} failed after {} documents: {}", c.name, s.name, r.read, e.what());
    return finish(r, started, progress, e.what());
  }
  return finish(r, started, progress, "");
}

std::string SyncEngine::replay_document(const ConnectionConfig& c, const StreamConfig& s, const DeadLetter& letter) {
  try {
    json record = json::parse(letter.record);
    store::Lease lease(md_.database());
    if (letter.direction == "push") {
      // The document goes again under its own key: were it delivered meanwhile, the remote answers "unchanged".
      store::ScopedTransaction txn(lease.session(), md_.database().dialect());
      std::string now = clock::utc_now();
      std::string key = record.at("key").get<std::string>();
      Param p[] = {Param::text(now), Param::text(c.name), Param::text(s.name), Param::text(key)};
      auto rs = store::run(lease.session(),
                           "UPDATE annex_sync_documents SET state = 'pending', attempts = 0, next_attempt_at = ?, reason = NULL,"
                           " last_error = NULL, delivered_at = NULL, notified = 0"
                           " WHERE connection = ? AND stream = ? AND doc_key = ? AND state = 'dead'",
                           p);
      if (rs.affected == 0) return "document " + key + " is not dead-lettered any more";
      Param q[] = {Param::text(now), Param::integer(letter.seq)};
      store::run(lease.session(), "UPDATE annex_sync_dead_letters SET replayed_at = ? WHERE seq = ?", q);
      txn.commit();
      return {};
    }
    std::optional<DocumentHandler> handler = registry_.document_handler("pull", c.name, s.name);
    if (!handler) return "the plugin " + s.documents + " that takes the documents of " + c.name + "/" + s.name + " is not running here";
    std::string key = record.contains(s.remote_id) ? text_of(record[s.remote_id]) : "";
    if (key.empty()) return s.remote_id + ": the document has no " + s.remote_id;
    std::string error;
    if ((*handler)({c.name, s.name, key, record.dump()}, &error) != ANNEX_OK) return error.empty() ? "refused again" : error;
    std::string now = clock::utc_now();
    Param q[] = {Param::text(now), Param::integer(letter.seq)};
    store::run(lease.session(), "UPDATE annex_sync_dead_letters SET replayed_at = ? WHERE seq = ?", q);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace annex::sync

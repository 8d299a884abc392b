#include "plugin_host/plugin_host.h"

#include "events/event_bus.h"
#include "http/router.h"
#include "jobs/scheduler.h"
#include "plugin_host/config_schema.h"
#include "plugin_host/resolver.h"
#include "plugin_host/services.h"
#include "store/database.h"
#include "store/sql.h"
#include "sync/engine.h"

#include <Poco/JSON/Stringifier.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

namespace annex::plugin_host {
namespace {

std::string buffer_text(const std::string& s) { return s.empty() ? "no reason given" : s; }

// A word of SQL that only one backend knows, found outside comments in a migration meant for every backend;
// "" when there is none. Such a migration passes its author's tests on one database and breaks on the other.
std::string dialect_only_word(const std::string& sql) {
  // Not every such word: "SERIAL" alone is also a fair column name.
  static const char* const kWords[] = {"AUTOINCREMENT", "BIGSERIAL", "SMALLSERIAL", "AS IDENTITY"};
  std::string words;  // upper case, comments blanked, whitespace runs as one space
  bool comment = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    if (!comment && sql.compare(i, 2, "--") == 0) comment = true;
    if (sql[i] == '\n') comment = false;
    char c = comment || std::isspace(static_cast<unsigned char>(sql[i])) ? ' '
                                                                        : static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i])));
    if (c != ' ' || words.empty() || words.back() != ' ') words += c;
  }
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (const char* w : kWords) {
    std::string word(w);
    for (size_t at = words.find(word); at != std::string::npos; at = words.find(word, at + 1)) {
      bool starts = at == 0 || !is_word(words[at - 1]);
      bool ends = at + word.size() == words.size() || !is_word(words[at + word.size()]);
      if (starts && ends) return word;
    }
  }
  return {};
}

}  // namespace

bool choose_migrations(const annex_plugin_descriptor& d, const std::string& dialect,
                       std::vector<ChosenMigration>* out, std::string* error) {
  std::map<uint32_t, ChosenMigration> portable, specific;
  std::map<uint32_t, bool> seen;
  for (size_t i = 0; i < d.migration_count; ++i) {
    const annex_migration& m = d.migrations[i];
    if (m.sql == nullptr || m.version == 0) {
      *error = std::string("migration #") + std::to_string(i) + " has no SQL or version 0";
      return false;
    }
    std::string which = m.dialect ? m.dialect : "";
    if (!which.empty() && which != "sqlite" && which != "postgresql") {
      *error = "migration " + std::to_string(m.version) + " names unknown dialect \"" + which + "\"";
      return false;
    }
    if (which.empty()) {
      if (std::string word = dialect_only_word(m.sql); !word.empty()) {
        *error = "migration " + std::to_string(m.version) + " is meant for every database but uses " + word +
                 ", which only " + (word == "AUTOINCREMENT" ? "SQLite" : "PostgreSQL") +
                 " knows; give it a variant per database (NNN_name.sqlite.sql and NNN_name.postgresql.sql)";
        return false;
      }
    }
    ChosenMigration c{m.version, m.name ? m.name : "", m.sql};
    seen[m.version] = true;
    if (which.empty()) portable[m.version] = c;
    else if (which == dialect) specific[m.version] = c;
  }
  out->clear();
  for (const auto& [version, unused] : seen) {
    if (auto it = specific.find(version); it != specific.end()) out->push_back(it->second);
    else if (auto p = portable.find(version); p != portable.end()) out->push_back(p->second);
    else {
      *error = "migration " + std::to_string(version) + " has SQL for another database but none for " + dialect;
      return false;
    }
  }
  return true;
}

PluginHost::PluginHost(HostParts parts) : parts_(std::move(parts)) {}

PluginHost::~PluginHost() { stop_all(); }

PluginRecord* PluginHost::find(const std::string& id) const {
  for (const auto& r : records_) {
    if (r->module.id == id) return r.get();
  }
  return nullptr;
}

void PluginHost::fail(PluginRecord& rec, const std::string& why, const std::string& field) {
  rec.error = why;
  rec.error_field = field;
  if (rec.state == "ready" || rec.state == "started") rec.state = "failed";
  spdlog::error("plugin {}: {}{}", rec.module.id.empty() ? rec.module.path : rec.module.id, why,
                field.empty() ? "" : " (field: " + field + ")");
}

void PluginHost::load(const std::vector<std::string>& dirs,
                      const std::map<std::string, Poco::JSON::Object::Ptr>& config,
                      const std::vector<std::string>& disabled) {
  for (const std::string& path : discover_modules(dirs, &warnings_)) {
    PluginModule module;
    std::string error;
    if (!open_module(path, &module, &error)) {
      auto rec = std::make_unique<PluginRecord>();
      rec->module.path = path;
      const std::string marker = "plugin ";
      if (error.rfind(marker, 0) == 0) rec->module.id = error.substr(marker.size(), error.find(' ', marker.size()) - marker.size());
      if (rec->module.id.empty()) rec->module.id = path;
      rec->state = "refused";
      rec->error = error;
      spdlog::error("{}", error);
      records_.push_back(std::move(rec));
      continue;
    }
    if (std::find(disabled.begin(), disabled.end(), module.id) != disabled.end()) {
      auto rec = std::make_unique<PluginRecord>();
      rec->module = module;
      rec->state = "disabled";
      rec->error = "listed in disabled_plugins";
      records_.push_back(std::move(rec));
      continue;
    }
    auto it = config.find(module.id);
    add_module(std::move(module), it == config.end() ? nullptr : it->second);
  }
  for (const auto& [id, unused] : config) {
    if (find(id) == nullptr) warnings_.push_back("plugins." + id + " is configured, but no such plugin is installed");
  }
  for (const auto& w : warnings_) spdlog::warn("{}", w);
  resolve();
}

void PluginHost::add_descriptor(const annex_plugin_descriptor* descriptor, const std::string& label,
                                Poco::JSON::Object::Ptr config) {
  PluginModule module;
  std::string error;
  if (!describe_module(descriptor, label, &module, &error)) {
    auto rec = std::make_unique<PluginRecord>();
    rec->module.path = label;
    rec->module.id = descriptor && descriptor->id ? descriptor->id : label;
    rec->state = "refused";
    rec->error = error;
    records_.push_back(std::move(rec));
    return;
  }
  add_module(std::move(module), config);
}

void PluginHost::add_module(PluginModule module, Poco::JSON::Object::Ptr config) {
  auto rec = std::make_unique<PluginRecord>();
  rec->module = std::move(module);
  PluginRecord& r = *rec;
  if (PluginRecord* other = find(r.module.id); other != nullptr && other->state != "refused") {
    r.state = "refused";
    r.duplicate = true;
    r.error = "plugin " + r.module.id + " is also provided by " + other->module.path + "; this copy is ignored";
    spdlog::error("{}: {}", r.module.path, r.error);
    records_.push_back(std::move(rec));
    return;
  }
  // A service the host lacks, or at another major version, refuses the plugin now rather than failing later.
  // Services outside the host's "annex." namespace are other plugins'; resolve() checks those.
  const auto& provided = provided_services();
  for (const ServiceUse& use : r.module.manifest.uses) {
    std::string key = use.name + "@" + std::to_string(use.major);
    if (use.name.rfind("annex.", 0) != 0) continue;
    if (std::find(provided.begin(), provided.end(), key) == provided.end()) {
      std::string have;
      for (const auto& p : provided) {
        if (p.rfind(use.name + "@", 0) == 0) have = p;
      }
      r.state = "refused";
      r.error = "plugin " + r.module.id + " uses service " + key + ", which this host does not provide" +
                (have.empty() ? "" : " (it provides " + have + ")");
      break;
    }
    r.granted.insert(key);
  }
  if (r.state == "ready") {
    Poco::Dynamic::Var value = config ? Poco::Dynamic::Var(config) : Poco::Dynamic::Var(Poco::JSON::Object::Ptr(new Poco::JSON::Object));
    if (r.module.manifest.config_schema) {
      auto problems = apply_schema(r.module.manifest.config_schema, value, "plugins." + r.module.id);
      if (!problems.empty()) {
        std::string text;
        for (const auto& p : problems) text += (text.empty() ? "" : "; ") + p.path + ": " + p.message;
        r.state = "failed";
        r.error = "invalid configuration: " + text;
        r.error_field = problems.front().path;
      }
    }
    std::ostringstream json;
    Poco::JSON::Stringifier::stringify(value, json);
    r.config_json = json.str();
  }
  if (r.state != "ready") spdlog::error("{}", r.error);
  if (const annex_plugin_descriptor* d = r.module.descriptor) {
    for (size_t i = 0; i < d->migration_count; ++i) {
      if (d->migrations[i].sql == nullptr) continue;
      for (std::string& table : store::created_tables(d->migrations[i].sql)) r.tables.push_back(std::move(table));
    }
  }
  r.logger = spdlog::default_logger()->clone(r.module.id);
  bind_host_api(*this, r);
  records_.push_back(std::move(rec));
}

void PluginHost::resolve_services() {
  providers_.clear();
  table_owners_.clear();
  for (const auto& r : records_) {
    if (r->duplicate || r->module.descriptor == nullptr) continue;
    for (const std::string& table : r->tables) table_owners_.emplace(table, r->module.id);
    if (r->state == "refused") continue;
    for (const ServiceUse& p : r->module.manifest.provides) {
      std::string key = p.name + "@" + std::to_string(p.major);
      auto [it, fresh] = providers_.emplace(key, r.get());
      if (!fresh && r->state == "ready") {
        r->state = "refused";
        r->error = "provides service " + key + ", which plugin " + it->second->module.id + " provides already";
        spdlog::error("plugin {}: {}", r->module.id, r->error);
      }
    }
  }
  // A service of another plugin is granted to a plugin that requires its provider, and so starts after it and
  // stops before it.
  for (const auto& r : records_) {
    if (r->duplicate || r->state != "ready") continue;
    for (const ServiceUse& use : r->module.manifest.uses) {
      if (use.name.rfind("annex.", 0) == 0) continue;
      std::string key = use.name + "@" + std::to_string(use.major), why;
      auto it = providers_.find(key);
      if (it == providers_.end()) {
        why = "uses service " + key + ", which neither the host nor any installed plugin provides";
      } else if (it->second == r.get()) {
        why = "uses service " + key + ", which it provides itself";
      } else {
        const std::string& provider = it->second->module.id;
        bool required = std::any_of(r->module.manifest.requirements.begin(), r->module.manifest.requirements.end(),
                                    [&](const Requirement& q) { return q.id == provider; });
        if (!required) why = "uses service " + key + " of plugin " + provider + " without listing " + provider + " under \"requires\"";
      }
      if (!why.empty()) {
        r->state = "refused";
        r->error = why;
        spdlog::error("plugin {}: {}", r->module.id, r->error);
        break;
      }
      r->granted.insert(key);
    }
  }
}

const void* PluginHost::provided_table(const std::string& key) const {
  auto it = providers_.find(key);
  if (it == providers_.end() || !it->second->serving.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard lock(it->second->provided_mutex);
  auto table = it->second->provided.find(key);
  return table == it->second->provided.end() ? nullptr : table->second;
}

std::string PluginHost::table_owner(const std::string& table) const {
  auto it = table_owners_.find(table);
  return it == table_owners_.end() ? std::string() : it->second;
}

void PluginHost::resolve() {
  resolve_services();
  std::vector<Candidate> candidates;
  std::map<std::string, std::string> failed;
  for (const auto& r : records_) {
    if (r->duplicate) continue;
    if (r->state == "ready") {
      candidates.push_back({r->module.id, r->module.version, r->module.manifest.requirements});
    } else if (r->state != "disabled") {
      failed[r->module.id] = r->error;
    } else {
      failed[r->module.id] = "disabled";
    }
  }
  Resolution res = plugin_host::resolve(candidates, failed);
  order_ = res.order;
  for (auto& r : records_) {
    if (r->state != "ready") continue;
    if (auto it = res.refused.find(r->module.id); it != res.refused.end()) {
      r->state = "refused";
      r->error = it->second;
      spdlog::error("plugin {}: {}", r->module.id, r->error);
    }
  }
}

std::vector<std::pair<std::string, std::vector<store::Migration>>> PluginHost::migrations() {
  std::vector<std::pair<std::string, std::vector<store::Migration>>> out;
  const std::string dialect = parts_.db ? store::dialect_name(parts_.db->dialect()) : "sqlite";
  for (const std::string& id : order_) {
    PluginRecord& rec = *find(id);
    std::vector<ChosenMigration> chosen;
    std::string error;
    if (!choose_migrations(*rec.module.descriptor, dialect, &chosen, &error)) {
      fail(rec, error);
      continue;
    }
    std::vector<store::Migration> list;
    for (auto& c : chosen) list.push_back({c.version, c.name, c.sql});
    out.emplace_back(id, std::move(list));
  }
  return out;
}

bool PluginHost::migrate(PluginRecord& rec) {
  const std::string dialect = store::dialect_name(parts_.db->dialect());
  std::vector<ChosenMigration> chosen;
  std::string error;
  if (!choose_migrations(*rec.module.descriptor, dialect, &chosen, &error)) {
    fail(rec, error);
    return false;
  }
  std::vector<store::Migration> list;
  for (auto& c : chosen) {
    std::string table = store::core_table_reference(c.sql);
    if (!table.empty()) {
      fail(rec, "migration " + std::to_string(c.version) + " names the host's table " + table +
                    "; plugins keep to their own tables");
      return false;
    }
    list.push_back({c.version, c.name, c.sql});
  }
  try {
    store::MigrationRunner runner(*parts_.db);
    int ran = runner.apply(rec.module.id, list);
    if (ran > 0) spdlog::info("plugin {}: applied {} migration(s)", rec.module.id, ran);
    return true;
  } catch (const std::exception& e) {
    fail(rec, e.what());
    return false;
  }
}

void PluginHost::migrate_all() {
  for (const std::string& id : order_) {
    PluginRecord& rec = *find(id);
    if (rec.state == "ready") migrate(rec);
  }
}

namespace {
// The services `rec` asked for without listing them under "uses", "annex.db@1, annex.http@1"; "" when none.
std::string undeclared_services(PluginRecord& rec) {
  std::lock_guard lock(rec.undeclared_mutex);
  std::string out;
  for (const auto& key : rec.undeclared) out += (out.empty() ? "" : ", ") + key;
  return out;
}
}  // namespace

void PluginHost::refuse_if_undeclared(PluginRecord& rec) {
  std::string undeclared = undeclared_services(rec);
  if (undeclared.empty()) return;
  rec.state = "refused";
  rec.error = "uses service " + undeclared + " without listing it under \"uses\" in its manifest" +
              (rec.error.empty() ? "" : " (" + rec.error + ")");
  spdlog::error("plugin {}: {}", rec.module.id, rec.error);
}

void PluginHost::probe() {
  for (const std::string& id : order_) {
    PluginRecord& rec = *find(id);
    if (rec.state != "ready") continue;
    for (const Requirement& req : rec.module.manifest.requirements) {
      PluginRecord* dep = find(req.id);
      if (dep == nullptr || dep->state != "ready") {
        rec.state = "refused";
        rec.error = "requires " + req.id + ", which cannot start" + (dep ? ": " + dep->error : "");
        break;
      }
    }
    if (rec.state != "ready") continue;
    const annex_plugin_descriptor& d = *rec.module.descriptor;
    ErrorSink err;
    annex_buffer buf = err.buffer();
    annex_str config{rec.config_json.data(), rec.config_json.size()};
    annex_plugin* instance = nullptr;
    bool ok = d.create(&rec.api, config, &instance, &buf) == ANNEX_OK && instance != nullptr;
    if (ok) {
      ok = d.on_register(instance, &buf) == ANNEX_OK;
      withdraw(rec);
      d.destroy(instance);
    }
    // A failure with an undeclared service asked for is refused, as at start-up; other failures may come from
    // what this offline host lacks (no database, no event bus) and are not reported.
    if (!ok) refuse_if_undeclared(rec);
  }
}

bool PluginHost::start_one(PluginRecord& rec) {
  // A plugin whose requirement failed to start cannot start either.
  for (const Requirement& req : rec.module.manifest.requirements) {
    PluginRecord* dep = find(req.id);
    if (dep == nullptr || dep->state != "started") {
      fail(rec, "requires " + req.id + ", which did not start" + (dep ? ": " + dep->error : ""));
      return false;
    }
  }
  if (parts_.db != nullptr && !migrate(rec)) return false;
  const annex_plugin_descriptor& d = *rec.module.descriptor;
  ErrorSink err;
  annex_buffer buf = err.buffer();
  // The message without the field at fault, which travels apart (set_error_field, or the older text prefix).
  auto why = [&](const char* what, annex_status s) {
    err.settle();
    return std::string(what) + " failed (status " + std::to_string(s) + "): " + buffer_text(err.message);
  };
  annex_str config{rec.config_json.data(), rec.config_json.size()};
  annex_status s = d.create(&rec.api, config, &rec.instance, &buf);
  if (s != ANNEX_OK || rec.instance == nullptr) {
    fail(rec, why("create", s), err.field);
    refuse_if_undeclared(rec);
    rec.instance = nullptr;
    return false;
  }
  s = d.on_register(rec.instance, &buf);
  if (s != ANNEX_OK) {
    fail(rec, why("registration", s), err.field);
    refuse_if_undeclared(rec);
    withdraw(rec);
    d.destroy(rec.instance);
    rec.instance = nullptr;
    return false;
  }
  for (const ServiceUse& p : rec.module.manifest.provides) {
    std::string key = p.name + "@" + std::to_string(p.major);
    bool offered = false;
    {
      std::lock_guard lock(rec.provided_mutex);
      offered = rec.provided.count(key) > 0;
    }
    if (!offered) {
      fail(rec, "declares service " + key + " under \"provides\" but offered no table for it during registration "
                "(annex_host_api.provide_service)");
      withdraw(rec);
      d.destroy(rec.instance);
      rec.instance = nullptr;
      return false;
    }
  }
  s = d.start(rec.instance, &buf);
  if (s != ANNEX_OK) {
    fail(rec, why("start", s), err.field);
    refuse_if_undeclared(rec);
    withdraw(rec);
    d.destroy(rec.instance);
    rec.instance = nullptr;
    return false;
  }
  rec.state = "started";
  rec.serving.store(true, std::memory_order_release);
  rec.error.clear();
  rec.error_field.clear();
  spdlog::info("plugin {} {} started ({})", rec.module.id, rec.module.version_text, rec.module.path);
  return true;
}

void PluginHost::start_all(bool connectors_only) {
  for (const std::string& id : order_) {
    PluginRecord& rec = *find(id);
    if (connectors_only && rec.module.kind != ANNEX_KIND_CONNECTOR) continue;
    if (rec.state == "ready") start_one(rec);
  }
  std::lock_guard lock(mutex_);
  started_ = true;
}

void PluginHost::withdraw(PluginRecord& rec) {
  rec.serving.store(false, std::memory_order_release);
  {
    std::lock_guard lock(rec.provided_mutex);
    rec.provided.clear();
  }
  if (parts_.router) parts_.router->remove_owner(rec.module.id);
  if (parts_.events) parts_.events->unsubscribe_owner(rec.module.id);
  if (parts_.scheduler) parts_.scheduler->remove_owner(rec.module.id);
  if (parts_.connectors) parts_.connectors->remove_owner(rec.module.id);
}

void PluginHost::stop_all() {
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    PluginRecord& rec = *find(*it);
    if (rec.state != "started") continue;
    withdraw(rec);
    ErrorSink err;
    annex_buffer buf = err.buffer();
    annex_status s = rec.module.descriptor->stop(rec.instance, &buf);
    if (s != ANNEX_OK) {
      err.settle();
      spdlog::warn("plugin {} stopped with status {}: {}", rec.module.id, static_cast<int>(s), err.text());
    }
    rec.module.descriptor->destroy(rec.instance);
    rec.instance = nullptr;
    rec.state = "stopped";
    spdlog::info("plugin {} stopped", rec.module.id);
  }
}

std::vector<std::string> PluginHost::not_running() const {
  std::vector<std::string> out;
  for (const auto& r : records_) {
    if (!r->duplicate && (r->state == "refused" || r->state == "failed")) out.push_back(r->module.id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<PluginInfo> PluginHost::plugins() const {
  std::vector<PluginInfo> out;
  for (const auto& r : records_) {
    PluginInfo info;
    info.id = r->module.id;
    info.version = r->module.version_text;
    info.name = r->module.manifest.name;
    info.description = r->module.manifest.description;
    info.kind = r->module.kind == ANNEX_KIND_CONNECTOR ? "connector" : "capability";
    info.path = r->module.path;
    info.state = r->state;
    info.error = r->error;
    info.error_field = r->error_field;
    if (r->module.descriptor) {
      info.abi = std::to_string(r->module.descriptor->abi_major) + "." + std::to_string(r->module.descriptor->abi_minor);
    }
    for (const auto& req : r->module.manifest.requirements) info.requires_text.push_back(req.id + " " + req.range.text());
    for (const auto& use : r->module.manifest.uses) info.uses.push_back(use.name + "@" + std::to_string(use.major));
    for (const auto& p : r->module.manifest.provides) info.provides.push_back(p.name + "@" + std::to_string(p.major));
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace annex::plugin_host

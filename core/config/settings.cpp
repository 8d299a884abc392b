#include "config/settings.h"

#include <annex/calendar.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

extern char** environ;

namespace annex::config {
namespace {

enum class Kind { kString, kInt, kBool, kList };

// Sets a value from its text form (file values are converted to text first). Returns an error message or "".
using Apply = std::function<std::string(Settings&, const std::string&)>;

struct Key {
  const char* name;  // dotted, as in the file
  Kind kind;
  const char* doc;
  Apply apply;
};

std::optional<int64_t> to_int(const std::string& text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

Apply int_in(int64_t lo, int64_t hi, std::function<void(Settings&, int64_t)> set) {
  return [=](Settings& s, const std::string& text) -> std::string {
    auto v = to_int(text);
    if (!v) return "must be an integer, got \"" + text + "\"";
    if (*v < lo || *v > hi) return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
    set(s, *v);
    return {};
  };
}

Apply boolean(std::function<void(Settings&, bool)> set) {
  return [=](Settings& s, const std::string& text) -> std::string {
    if (text == "true" || text == "1" || text == "yes" || text == "on") set(s, true);
    else if (text == "false" || text == "0" || text == "no" || text == "off") set(s, false);
    else return "must be true or false, got \"" + text + "\"";
    return {};
  };
}

Apply string(std::function<void(Settings&, const std::string&)> set) {
  return [=](Settings& s, const std::string& text) -> std::string {
    set(s, text);
    return {};
  };
}

// Lists arrive as JSON arrays from the file and as ':'-separated text from the environment and flags.
std::vector<std::string> split_list(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string parse_listen(Settings& s, const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return "must be HOST:PORT, got \"" + text + "\"";
  auto port = to_int(text.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) return "port must be 0 to 65535, got \"" + text.substr(colon + 1) + "\"";
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  s.http.host = host;
  s.http.port = static_cast<uint16_t>(*port);
  return {};
}

const std::vector<Key>& keys() {
  static const std::vector<Key> table = {
      {"data_dir", Kind::kString, "directory for the SQLite store, keys and logs",
       [](Settings& s, const std::string& v) -> std::string {
         if (v.empty()) return "must not be empty";
         s.data_dir = v;
         return {};
       }},
      {"listen", Kind::kString, "HOST:PORT the HTTP server binds (port 0 picks a free one)", parse_listen},
      {"plugin_dirs", Kind::kList, "directories searched for plugin modules (*.so)",
       [](Settings& s, const std::string& v) -> std::string {
         s.plugin_dirs = split_list(v, ':');
         return {};
       }},
      {"disabled_plugins", Kind::kList, "plugin ids not to load",
       [](Settings& s, const std::string& v) -> std::string {
         s.disabled_plugins = split_list(v, ':');
         return {};
       }},
      {"shutdown_grace_s", Kind::kInt, "seconds in-flight requests get to finish on SIGTERM",
       int_in(0, 3600, [](Settings& s, int64_t v) { s.shutdown_grace_s = static_cast<int>(v); })},
      {"shutdown_drain_s", Kind::kInt,
       "seconds /readyz answers 503 after SIGTERM, still serving, before the shutdown begins (a load balancer's health check interval or more)",
       int_in(0, 600, [](Settings& s, int64_t v) { s.shutdown_drain_s = static_cast<int>(v); })},
      {"database.url", Kind::kString, "\"\" (SQLite in data_dir), \"sqlite:PATH\" or \"postgresql://USER@HOST:PORT/DB\"",
       [](Settings& s, const std::string& v) -> std::string {
         if (!v.empty() && v.rfind("sqlite:", 0) != 0 && v.rfind("postgresql://", 0) != 0 &&
             v.rfind("postgres://", 0) != 0) {
           return "must start with sqlite: or postgresql://";
         }
         s.database.url = v;
         return {};
       }},
      {"database.pool_size", Kind::kInt, "connections in the pool",
       int_in(1, 512, [](Settings& s, int64_t v) { s.database.pool_size = static_cast<int>(v); })},
      {"database.busy_timeout_ms", Kind::kInt, "SQLite: how long a writer waits for the lock",
       int_in(0, 600000, [](Settings& s, int64_t v) { s.database.busy_timeout_ms = static_cast<int>(v); })},
      {"database.acquire_timeout_ms", Kind::kInt,
       "how long a request waits for a free pooled connection before it is answered 503",
       int_in(1, 600000, [](Settings& s, int64_t v) { s.database.acquire_timeout_ms = static_cast<int>(v); })},
      {"http.threads", Kind::kInt, "worker threads; each serves one keep-alive connection at a time",
       int_in(1, 4096, [](Settings& s, int64_t v) { s.http.threads = static_cast<int>(v); })},
      {"http.max_queued", Kind::kInt, "accepted connections waiting for a thread",
       int_in(1, 65536, [](Settings& s, int64_t v) { s.http.max_queued = static_cast<int>(v); })},
      {"http.max_body_bytes", Kind::kInt, "largest request body accepted (larger: 413)",
       int_in(0, int64_t{1} << 32, [](Settings& s, int64_t v) { s.http.max_body_bytes = v; })},
      {"blobs.max_bytes", Kind::kInt, "the largest upload (receipt) any route takes (larger: 413)",
       int_in(1, int64_t{1} << 30, [](Settings& s, int64_t v) { s.blobs.max_bytes = v; })},
      {"http.keep_alive", Kind::kBool, "keep connections open between requests",
       boolean([](Settings& s, bool v) { s.http.keep_alive = v; })},
      {"http.keep_alive_timeout_s", Kind::kInt, "idle seconds before a kept-alive connection closes",
       int_in(1, 3600, [](Settings& s, int64_t v) { s.http.keep_alive_timeout_s = static_cast<int>(v); })},
      {"http.tls_cert", Kind::kString, "PEM certificate; with http.tls_key the server speaks HTTPS",
       string([](Settings& s, const std::string& v) { s.http.tls_cert = v; })},
      {"http.tls_key", Kind::kString, "PEM private key",
       string([](Settings& s, const std::string& v) { s.http.tls_key = v; })},
      {"http.tls_ca", Kind::kString, "PEM CA chain sent with the certificate (optional)",
       string([](Settings& s, const std::string& v) { s.http.tls_ca = v; })},
      {"http.ui_dir", Kind::kString,
       "the web application's built files, served at / (default: share/annex/ui beside annexd; \"none\": no web application)",
       string([](Settings& s, const std::string& v) { s.http.ui_dir = v; })},
      {"log.level", Kind::kString, "trace, debug, info, warn or error",
       [](Settings& s, const std::string& v) -> std::string {
         static const char* levels[] = {"trace", "debug", "info", "warn", "error"};
         if (std::find(std::begin(levels), std::end(levels), v) == std::end(levels)) {
           return "must be one of trace, debug, info, warn, error";
         }
         s.log.level = v;
         return {};
       }},
      {"audit.signing_key", Kind::kString, "Ed25519 PEM key signing audit checkpoints (created when absent)",
       string([](Settings& s, const std::string& v) { s.audit.signing_key = v; })},
      {"audit.checkpoint_every", Kind::kInt, "sign an audit checkpoint every N entries",
       int_in(1, 1000000, [](Settings& s, int64_t v) { s.audit.checkpoint_every = static_cast<int>(v); })},
      {"audit.checkpoint_interval_s", Kind::kInt, "and at most this many seconds after the last entry",
       int_in(1, 86400, [](Settings& s, int64_t v) { s.audit.checkpoint_interval_s = static_cast<int>(v); })},
      {"events.park_after_failures", Kind::kInt,
       "an event subscription whose handler fails this many times in a row is parked (its backlog kept)",
       int_in(1, 1000, [](Settings& s, int64_t v) { s.events.park_after_failures = static_cast<int>(v); })},
      {"events.parked_retry_s", Kind::kInt, "a parked event subscription is tried again every this many seconds",
       int_in(1, 86400, [](Settings& s, int64_t v) { s.events.parked_retry_s = static_cast<int>(v); })},
      {"auth.pbkdf2_iterations", Kind::kInt, "PBKDF2-HMAC-SHA256 iterations for new password hashes",
       int_in(100000, 10000000, [](Settings& s, int64_t v) { s.auth.pbkdf2_iterations = static_cast<int>(v); })},
      {"auth.session_idle_s", Kind::kInt, "a login session unused this many seconds ends",
       int_in(60, 86400 * 30, [](Settings& s, int64_t v) { s.auth.session_idle_s = static_cast<int>(v); })},
      {"auth.session_lifetime_s", Kind::kInt, "no login session lives longer than this many seconds",
       int_in(60, 86400 * 365, [](Settings& s, int64_t v) { s.auth.session_lifetime_s = static_cast<int>(v); })},
      {"auth.max_failed_logins", Kind::kInt, "failed logins per account or address before logins are refused",
       int_in(1, 1000, [](Settings& s, int64_t v) { s.auth.max_failed_logins = static_cast<int>(v); })},
      {"auth.failed_login_window_s", Kind::kInt, "the window, in seconds, failed logins are counted over",
       int_in(1, 86400, [](Settings& s, int64_t v) { s.auth.failed_login_window_s = static_cast<int>(v); })},
      {"log.json_file", Kind::kString, "also write JSON lines to this file",
       string([](Settings& s, const std::string& v) { s.log.json_file = v; })},
      {"calendar.time_zone", Kind::kString,
       "the company's time zone, an IANA name (\"Asia/Shanghai\"): days, month ends and calendar jobs follow it",
       [](Settings& s, const std::string& v) -> std::string {
         if (!calendar::known_time_zone(v)) return "unknown time zone \"" + v + "\" (an IANA name, e.g. Asia/Shanghai)";
         s.calendar.time_zone = v;
         return {};
       }},
      {"calendar.test_clock_file", Kind::kString,
       "FOR TESTS ONLY: a file holding an RFC 3339 instant that is \"now\" for the calendar and calendar jobs",
       string([](Settings& s, const std::string& v) { s.calendar.test_clock_file = v; })},
  };
  return table;
}

const Key* find_key(const std::string& name) {
  for (const Key& k : keys()) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

std::string env_name(const std::string& key) {
  std::string out = "ANNEX_";
  for (char c : key) out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

// Converts a JSON value from the file to the text form the key's parser takes.
std::optional<std::string> file_value_text(const Key& key, const Poco::Dynamic::Var& v, std::string& error) {
  switch (key.kind) {
    case Kind::kString:
      if (!v.isString()) break;
      return v.extract<std::string>();
    case Kind::kInt:
      if (!v.isInteger()) break;
      return v.toString();
    case Kind::kBool:
      if (!v.isBoolean()) break;
      return v.convert<bool>() ? "true" : "false";
    case Kind::kList: {
      if (v.type() != typeid(Poco::JSON::Array::Ptr)) break;
      std::string joined;
      for (const auto& item : *v.extract<Poco::JSON::Array::Ptr>()) {
        if (!item.isString()) {
          error = "must be an array of strings";
          return std::nullopt;
        }
        std::string text = item.extract<std::string>();
        if (text.find(':') != std::string::npos) {
          error = "entries may not contain ':'";
          return std::nullopt;
        }
        joined += (joined.empty() ? "" : ":") + text;
      }
      return joined;
    }
  }
  static const char* names[] = {"a string", "an integer", "true or false", "an array of strings"};
  error = std::string("must be ") + names[static_cast<int>(key.kind)];
  return std::nullopt;
}

// calendar.weekend: ["saturday", "sunday"]; [] for none.
void read_weekend(const Poco::Dynamic::Var& value, Settings& out, std::vector<SettingsError>& errors) {
  const std::string key = "calendar.weekend";
  if (value.type() != typeid(Poco::JSON::Array::Ptr)) {
    errors.push_back({key, "must be an array of day names, e.g. [\"saturday\", \"sunday\"]"});
    return;
  }
  std::set<unsigned> days;
  for (const auto& item : *value.extract<Poco::JSON::Array::Ptr>()) {
    std::optional<unsigned> day = item.isString() ? calendar::weekday_from_name(item.extract<std::string>()) : std::nullopt;
    if (!day) {
      errors.push_back({key, "must name days as monday … sunday, got " + item.toString()});
      return;
    }
    if (!days.insert(*day).second) {
      errors.push_back({key, item.extract<std::string>() + " is named twice"});
      return;
    }
  }
  if (days.size() == 7) {
    errors.push_back({key, "a week with no working day: name fewer than seven days"});
    return;
  }
  out.calendar.weekend = std::move(days);
}

// The days of `calendar.years.<year>.<member>`: "YYYY-MM-DD", or {"date": "YYYY-MM-DD", "name": "…"} for holidays.
void read_days(const std::string& key, const Poco::Dynamic::Var& value, int year, bool holidays, Settings& out,
               std::vector<SettingsError>& errors) {
  if (value.type() != typeid(Poco::JSON::Array::Ptr)) {
    errors.push_back({key, holidays ? "must be an array of dates (\"YYYY-MM-DD\" or {\"date\", \"name\"})"
                                    : "must be an array of dates (\"YYYY-MM-DD\")"});
    return;
  }
  auto items = value.extract<Poco::JSON::Array::Ptr>();
  for (size_t i = 0; i < items->size(); ++i) {
    std::string item_key = key + "[" + std::to_string(i) + "]";
    Poco::Dynamic::Var item = items->get(i);
    std::string text, name;
    if (holidays && item.type() == typeid(Poco::JSON::Object::Ptr)) {
      auto o = item.extract<Poco::JSON::Object::Ptr>();
      Poco::Dynamic::Var d = o->get("date"), n = o->get("name");
      if (d.isString()) text = d.extract<std::string>();
      if (!n.isEmpty() && !n.isString()) {
        errors.push_back({item_key + ".name", "must be a string"});
        continue;
      }
      if (n.isString()) name = n.extract<std::string>();
      for (const auto& [member, ignored] : *o) {
        if (member != "date" && member != "name") errors.push_back({item_key + "." + member, "unknown key"});
      }
    } else if (item.isString()) {
      text = item.extract<std::string>();
    }
    std::optional<calendar::Day> day = calendar::parse_date(text);
    if (!day) {
      errors.push_back({item_key, "must be a date YYYY-MM-DD, got " + item.toString()});
      continue;
    }
    if (static_cast<int>(std::chrono::year_month_day{*day}.year()) != year) {
      errors.push_back({item_key, text + " is not in " + std::to_string(year)});
      continue;
    }
    bool fresh = holidays ? out.calendar.holidays.emplace(*day, name).second : out.calendar.working_days.insert(*day).second;
    if (!fresh) {
      errors.push_back({item_key, text + " is listed twice"});
      continue;
    }
    out.calendar.sources[*day] = item_key;
  }
}

// calendar.years: {"2026": {"holidays": [...], "working_days": [...]}, ...}
void read_years(const Poco::Dynamic::Var& value, Settings& out, std::vector<SettingsError>& errors) {
  if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
    errors.push_back({"calendar.years", "must be an object of year → {\"holidays\": [...], \"working_days\": [...]}"});
    return;
  }
  for (const auto& [year_text, section] : *value.extract<Poco::JSON::Object::Ptr>()) {
    std::string key = "calendar.years." + year_text;
    std::optional<int64_t> year = year_text.size() == 4 ? to_int(year_text) : std::nullopt;
    if (!year || *year < 1) {
      errors.push_back({key, "must be a four-digit year"});
      continue;
    }
    if (section.type() != typeid(Poco::JSON::Object::Ptr)) {
      errors.push_back({key, "must be an object: {\"holidays\": [...], \"working_days\": [...]}"});
      continue;
    }
    for (const auto& [member, days] : *section.extract<Poco::JSON::Object::Ptr>()) {
      if (member == "holidays" || member == "working_days") {
        read_days(key + "." + member, days, static_cast<int>(*year), member == "holidays", out, errors);
      } else {
        errors.push_back({key + "." + member, "unknown key (holidays, working_days)"});
      }
    }
  }
}

void walk_file(const Poco::JSON::Object& obj, const std::string& prefix, Settings& out,
               std::vector<SettingsError>& errors) {
  for (const auto& [name, value] : obj) {
    std::string key = prefix.empty() ? name : prefix + "." + name;
    if (key == "roles") {
      if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
        errors.push_back({key, "must be an object of role name → array of permission patterns"});
        continue;
      }
      for (const auto& [role, definition] : *value.extract<Poco::JSON::Object::Ptr>()) {
        RoleSetting setting;
        Poco::Dynamic::Var patterns = definition;
        if (definition.type() == typeid(Poco::JSON::Object::Ptr)) {
          auto obj = definition.extract<Poco::JSON::Object::Ptr>();
          patterns = obj->get("permissions");
          if (obj->has("reach")) {
            Poco::Dynamic::Var reach = obj->get("reach");
            std::string text = reach.isString() ? reach.extract<std::string>() : std::string{};
            if (text != "own" && text != "sector" && text != "all") {
              errors.push_back({"roles." + role + ".reach", "must be \"own\", \"sector\" or \"all\""});
              continue;
            }
            setting.reach = text;
          }
        }
        if (patterns.type() != typeid(Poco::JSON::Array::Ptr)) {
          errors.push_back({"roles." + role,
                            "must be an array of permission patterns, or {\"permissions\": [...], \"reach\": ...}"});
          continue;
        }
        bool ok = true;
        for (const auto& p : *patterns.extract<Poco::JSON::Array::Ptr>()) {
          if (!p.isString() || p.extract<std::string>().empty()) {
            errors.push_back({"roles." + role, "every pattern must be a non-empty string"});
            ok = false;
            break;
          }
          setting.patterns.push_back(p.extract<std::string>());
        }
        if (ok) out.roles[role] = std::move(setting);
      }
      continue;
    }
    // Sections another module checks (sync engine, approval chains) are kept as JSON text for it.
    if (key == "sync" || key == "approvals") {
      if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
        errors.push_back({key, key == "sync" ? "must be an object: {\"connections\": {name: {...}}}"
                                             : "must be an object: {\"chains\": {id: {\"steps\": [...]}}}"});
        continue;
      }
      std::ostringstream text;
      Poco::JSON::Stringifier::stringify(value, text);
      (key == "sync" ? out.sync_json : out.approvals_json) = text.str();
      continue;
    }
    if (key == "calendar.weekend") {
      read_weekend(value, out, errors);
      continue;
    }
    if (key == "calendar.years") {
      read_years(value, out, errors);
      continue;
    }
    if (key == "plugins") {
      if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
        errors.push_back({key, "must be an object of plugin id → configuration object"});
        continue;
      }
      for (const auto& [id, cfg] : *value.extract<Poco::JSON::Object::Ptr>()) {
        if (cfg.type() != typeid(Poco::JSON::Object::Ptr)) {
          errors.push_back({"plugins." + id, "must be an object"});
          continue;
        }
        out.plugin_config[id] = cfg.extract<Poco::JSON::Object::Ptr>();
      }
      continue;
    }
    if (const Key* k = find_key(key)) {
      std::string error;
      auto text = file_value_text(*k, value, error);
      if (!text) {
        errors.push_back({key, error});
        continue;
      }
      std::string problem = k->apply(out, *text);
      if (!problem.empty()) errors.push_back({key, problem});
      continue;
    }
    if (value.type() == typeid(Poco::JSON::Object::Ptr) && (key == "http" || key == "database" || key == "log" || key == "auth" ||
                                                          key == "audit" || key == "events" || key == "blobs" || key == "calendar")) {
      walk_file(*value.extract<Poco::JSON::Object::Ptr>(), key, out, errors);
      continue;
    }
    errors.push_back({key, "unknown key"});
  }
}

// `--set plugins.<id>.<key>=VALUE`: plugin ids are dotted (reverse-DNS), so the key is the last segment and the
// id everything before it. VALUE is read as JSON when it is JSON (5, true, [..], {..}, "quoted"), else as text.
std::string set_plugin_key(Settings& out, const std::string& path, const std::string& text) {
  size_t dot = path.rfind('.');
  if (dot == std::string::npos || path.find('.') == dot || dot + 1 == path.size()) {
    return "write plugins.<id>.<key>=VALUE with the plugin's full id, e.g. plugins.org.annex.hello.salutation=Hi";
  }
  std::string id = path.substr(0, dot), key = path.substr(dot + 1);
  Poco::Dynamic::Var value = text;
  try {
    // Wrapped in an array, since the parser takes only an array or object at the top.
    auto parsed = Poco::JSON::Parser().parse("[" + text + "]").extract<Poco::JSON::Array::Ptr>();
    if (parsed->size() == 1) value = parsed->get(0);
  } catch (const Poco::Exception&) {
  }
  Poco::JSON::Object::Ptr& config = out.plugin_config[id];
  if (!config) config = new Poco::JSON::Object;
  config->set(key, value);
  return {};
}

}  // namespace

std::string Settings::database_dialect() const {
  return database.url.rfind("postgres", 0) == 0 ? "postgresql" : "sqlite";
}

std::string Settings::sqlite_path() const {
  if (database.url.rfind("sqlite:", 0) == 0) return database.url.substr(7);
  return data_dir + "/annex.db";
}

std::string Settings::audit_key_path() const {
  return audit.signing_key.empty() ? data_dir + "/audit-signing.key" : audit.signing_key;
}

std::vector<SettingsError> load_settings(const SettingsSources& sources, Settings& out) {
  std::vector<SettingsError> errors;
  if (!sources.config_file.empty()) {
    std::ifstream in(sources.config_file);
    if (!in) {
      errors.push_back({"config", "cannot read " + sources.config_file});
      return errors;
    }
    try {
      Poco::JSON::Parser parser;
      Poco::Dynamic::Var root = parser.parse(in);
      if (root.type() != typeid(Poco::JSON::Object::Ptr)) {
        errors.push_back({"config", sources.config_file + ": the top level must be a JSON object"});
        return errors;
      }
      walk_file(*root.extract<Poco::JSON::Object::Ptr>(), "", out, errors);
    } catch (const Poco::Exception& e) {
      errors.push_back({"config", sources.config_file + ": not valid JSON: " + e.displayText()});
      return errors;
    }
  }
  for (const auto& [name, value] : sources.env) {
    for (const Key& k : keys()) {
      if (env_name(k.name) != name) continue;
      std::string problem = k.apply(out, value);
      if (!problem.empty()) errors.push_back({k.name, problem + " (from " + name + ")"});
    }
  }
  for (const auto& [name, value] : sources.overrides) {
    if (name.rfind("plugins.", 0) == 0) {
      std::string problem = set_plugin_key(out, name.substr(8), value);
      if (!problem.empty()) errors.push_back({name, problem});
      continue;
    }
    const Key* k = find_key(name);
    if (k == nullptr) {
      errors.push_back({name, "unknown key"});
      continue;
    }
    std::string problem = k->apply(out, value);
    if (!problem.empty()) errors.push_back({name, problem});
  }
  for (auto& [key, problem] : calendar::check(out.calendar)) errors.push_back({key, problem});
  if (out.http.tls_cert.empty() != out.http.tls_key.empty()) {
    errors.push_back({out.http.tls_cert.empty() ? "http.tls_cert" : "http.tls_key",
                      "http.tls_cert and http.tls_key must be given together"});
  }
  for (const std::string* file : {&out.http.tls_cert, &out.http.tls_key, &out.http.tls_ca}) {
    if (!file->empty() && !std::ifstream(*file)) {
      const char* key = file == &out.http.tls_cert ? "http.tls_cert" : file == &out.http.tls_key ? "http.tls_key" : "http.tls_ca";
      errors.push_back({key, "cannot read " + *file});
    }
  }
  return errors;
}

std::vector<std::pair<std::string, std::string>> annex_environment() {
  std::vector<std::pair<std::string, std::string>> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    if (entry.rfind("ANNEX_", 0) != 0) continue;
    auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    out.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string describe_keys() {
  std::ostringstream out;
  for (const Key& k : keys()) out << "  " << k.name << " (" << env_name(k.name) << ")\n      " << k.doc << "\n";
  out << "  roles.<name> — an array of permission patterns (\"*\", \"*.read\", \"expenses.*\"), or\n"
         "                 {\"permissions\": [...], \"reach\": \"own\"|\"sector\"|\"all\"}: defines or replaces a role\n";
  out << "  calendar.weekend — an array of day names, default [\"saturday\", \"sunday\"]\n"
         "  calendar.years.<YYYY> — {\"holidays\": [\"YYYY-MM-DD\" or {\"date\", \"name\"}], \"working_days\": [make-up\n"
         "                 working days: weekend days declared working days]}; a year not listed has weekends only\n";
  out << "  plugins.<id> — an object: that plugin's configuration, checked against its manifest's config_schema;\n"
         "                 one key from a flag: --set plugins.org.annex.hello.salutation=Hi (JSON values as JSON)\n";
  out << "  sync.connections.<name> — a connection to an outside system (README, \"Sync\"):\n"
         "      connector — the connector type: odbc, tryton, odata, or one a plugin adds\n"
         "      settings — the connector's own settings (its streams on the remote side); {NAME} takes a secret\n"
         "      secrets.<NAME> — \"env:VARIABLE\" or \"file:PATH\", never the secret itself\n"
         "      retry — {\"attempts\": 5, \"base_ms\": 200, \"max_ms\": 10000}: retries of a failed call, with backoff;\n"
         "              also the attempts a record the remote failed on gets before it is a dead letter\n"
         "      breaker — {\"failures\": 5, \"open_s\": 60}: failed calls in a row that pause the connection, and for how long\n"
         "      streams.<name> — a master-data stream: entity, direction (pull | push | both), remote_id, version_field,\n"
         "              fields (the mapping: rename, values, const, concat, date, money, as), system_of_record,\n"
         "              page_size, schedule_s, and for parties sector_id and owner_login;\n"
         "              or a document stream: documents (the owning plugin's id), direction, remote_id\n";
  return out.str();
}

}  // namespace annex::config

// Settings — the daemon's configuration: one JSON file, overridden by ANNEX_* environment variables, overridden
// by command-line flags. Every key is declared in one table (settings.cpp), so an unknown or malformed key is
// reported by name, and `annexd --check-config` can validate a file without starting anything.
#pragma once

#include "calendar/company_calendar.h"

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace annex::config {

struct DatabaseSettings {
  std::string url;          // "" → SQLite at <data_dir>/annex.db; "sqlite:PATH"; "postgresql://…" (libpq URI)
  int pool_size = 8;
  int busy_timeout_ms = 5000;
  int acquire_timeout_ms = 5000;
};

// The approval chains of a fresh install: an expense claim by the sector's head (and finance from 5,000.00), a
// cash advance by finance, a relationship statement signed by the sales clerk, the sales manager and finance in
// that order (R5), a special expense by the sector's head and finance (R6).
inline constexpr const char* kDefaultApprovals = R"({"chains": {
  "expense-claim": {"steps": [{"name": "head", "permission": "expenses.claim.approve"},
                              {"name": "finance", "role": "finance", "scope": "any", "min_amount": 500000, "currency": "CNY"}]},
  "cash-advance": {"steps": [{"name": "finance", "role": "finance", "scope": "any"}]},
  "relationship-statement": {"steps": [{"name": "clerk", "role": "sales-clerk"}, {"name": "sales-manager", "role": "sector-head"},
                                       {"name": "finance", "role": "finance", "scope": "any"}]},
  "relationship-special-expense": {"steps": [{"name": "head", "role": "sector-head"}, {"name": "finance", "role": "finance", "scope": "any"}]}}})";

struct HttpSettings {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int threads = 128;                // one per open keep-alive connection, see README
  int max_queued = 512;
  int64_t max_body_bytes = 1 << 20; // larger bodies → 413
  bool keep_alive = true;
  int keep_alive_timeout_s = 15;
  std::string tls_cert;             // PEM; with tls_key, the server speaks HTTPS only
  std::string tls_key;
  std::string tls_ca;               // optional chain
  // The web application's built files, served at "/": "" for the one installed beside annexd (share/annex/ui,
  // when there is one), "none" for no web application.
  std::string ui_dir;
};

struct BlobSettings {
  int64_t max_bytes = 10 << 20;  // the largest upload any route takes, whatever it asks for
};

struct LogSettings {
  std::string level = "info";  // trace, debug, info, warn, error
  std::string json_file;       // optional: JSON lines log file
};

struct AuthSettingsConfig {
  int pbkdf2_iterations = 600000;
  int session_idle_s = 1800;
  int session_lifetime_s = 43200;
  int max_failed_logins = 5;
  int failed_login_window_s = 900;
};

struct AuditSettingsConfig {
  std::string signing_key;       // "" → <data_dir>/audit-signing.key
  int checkpoint_every = 1000;   // sign the head every N entries
  int checkpoint_interval_s = 60;  // and at most this long after an entry
};

struct EventSettings {
  int park_after_failures = 10;  // failures in a row that park a subscription
  int parked_retry_s = 300;      // a parked subscription is tried again this often
};

// A role defined in configuration: either an array of patterns (reach "own") or
// {"permissions": [...], "reach": "own" | "sector" | "all"}.
struct RoleSetting {
  std::vector<std::string> patterns;
  std::string reach = "own";
};

struct Settings {
  std::string data_dir = "annex-data";
  HttpSettings http;
  DatabaseSettings database;
  LogSettings log;
  AuthSettingsConfig auth;
  AuditSettingsConfig audit;
  EventSettings events;
  BlobSettings blobs;
  // roles.<name> → permission patterns and reach; replaces or adds to the default roles.
  std::map<std::string, RoleSetting> roles;
  // The "approvals" object of the file ({"chains": {...}}), as JSON text; checked by approvals::parse_chains.
  // Without one, the chains a company starts from (kDefaultApprovals), so that a fresh install can file claims,
  // advances, statements and special expenses at once.
  std::string approvals_json = kDefaultApprovals;
  // The "sync" object ({"connections": {...}}), as JSON text; checked by sync::parse_sync_config.
  std::string sync_json;
  std::vector<std::string> plugin_dirs;
  std::vector<std::string> disabled_plugins;
  int shutdown_grace_s = 10;
  // Behind a load balancer: seconds between SIGTERM and the start of the shutdown, while /readyz answers 503
  // ("draining") so the balancer stops sending and everything already sent is still served.
  int shutdown_drain_s = 0;
  // calendar.{time_zone, weekend, years.<YYYY>.{holidays, working_days}, test_clock_file}: the company calendar.
  annex::calendar::CalendarConfig calendar;
  // plugins.<id> → the plugin's configuration object, validated later against its manifest's schema.
  std::map<std::string, Poco::JSON::Object::Ptr> plugin_config;

  // The SQLite file or PostgreSQL URI the store opens.
  std::string database_dialect() const;
  std::string sqlite_path() const;
  // The audit signing key's file: audit.signing_key, or audit-signing.key in data_dir.
  std::string audit_key_path() const;
};

// A configuration problem, naming the key at fault ("http.threads").
struct SettingsError {
  std::string key;
  std::string message;
};

// Where the layers come from. Flags are "key=value" pairs in the same dotted names as the file.
struct SettingsSources {
  std::string config_file;                               // may be empty
  std::vector<std::pair<std::string, std::string>> env;  // ANNEX_* variables, name → value
  std::vector<std::pair<std::string, std::string>> overrides;  // from flags, applied last, in order
};

// Loads and validates. On success returns no errors and fills `out`; otherwise returns every problem found.
std::vector<SettingsError> load_settings(const SettingsSources& sources, Settings& out);

// Collects the ANNEX_* variables of this process's environment.
std::vector<std::pair<std::string, std::string>> annex_environment();

// Documentation of every key, for `annexd --help-config` and the README.
std::string describe_keys();

}  // namespace annex::config

// Daemon — annexd's parts wired together: the store and the core's migrations, the event bus, the job
// scheduler, the plugin host, the router with the core's own routes, and the HTTP server.
#pragma once

#include "config/settings.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace annex::store {
class Database;
}
namespace annex::http {
class Router;
class Dispatcher;
class StaticFiles;
class Idempotency;
class HttpServer;
}  // namespace annex::http
namespace annex::blobs {
class BlobStore;
}
namespace annex::events {
class EventBus;
}
namespace annex::jobs {
class Scheduler;
}
namespace annex::cluster {
class Leases;
}
namespace annex::plugin_host {
class PluginHost;
}
namespace annex::audit {
class AuditLog;
}
namespace annex::approvals {
class ApprovalService;
}
namespace annex::masterdata {
class MasterData;
}
namespace annex::sync {
class ConnectorRegistry;
class SyncEngine;
}
namespace annex::auth {
class IdentityStore;
class Authenticator;
class Authorizer;
class RoleCatalog;
struct AuthSettings;
}  // namespace annex::auth

namespace annex::app {

class Daemon {
 public:
  explicit Daemon(config::Settings settings);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Opens the store, applies the core's migrations, binds the listener, loads and starts the plugins, then
  // serves. Throws std::runtime_error with a message fit for the operator on a fatal problem.
  void start();
  // Turns /readyz to 503 ("draining") while everything else is still served: a load balancer stops sending.
  void drain();
  // Stops accepting, lets in-flight requests finish (shutdown_grace_s), stops plugins in reverse order.
  void stop();
  const config::Settings& settings() const { return settings_; }

  std::string base_url() const;
  plugin_host::PluginHost& plugins() { return *plugins_; }

 private:
  void register_core_routes();
  void schedule_sync();

  config::Settings settings_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<cluster::Leases> leases_;  // the work this daemon holds among those on the database
  std::unique_ptr<events::EventBus> events_;
  std::unique_ptr<calendar::CompanyCalendar> calendar_;  // before the scheduler, which asks it the time
  std::unique_ptr<jobs::Scheduler> scheduler_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::Dispatcher> dispatcher_;
  std::unique_ptr<http::StaticFiles> ui_;
  std::unique_ptr<http::Idempotency> idempotency_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<plugin_host::PluginHost> plugins_;
  std::unique_ptr<auth::IdentityStore> identities_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<approvals::ApprovalService> approvals_;
  std::unique_ptr<masterdata::MasterData> masterdata_;
  std::unique_ptr<sync::ConnectorRegistry> connectors_;
  std::unique_ptr<sync::SyncEngine> sync_;
  std::unique_ptr<blobs::BlobStore> blobs_;
  bool running_ = false;
  std::atomic<bool> draining_{false};
  // The streams a run started over the API asked for, per connection ("" for all), until its job takes them.

};

// Opens the database the settings name (SQLite under data_dir by default). Throws StoreError.
std::unique_ptr<store::Database> open_database(const config::Settings& settings);

// The web application's directory: http.ui_dir, or share/annex/ui beside the executable when it holds one; empty
// for none.
std::string effective_ui_dir(const config::Settings& settings);

// The plugin directories to search: the configured ones, or the defaults beside the executable.
std::vector<std::string> effective_plugin_dirs(const config::Settings& settings);

// The role catalog and authentication settings the configuration describes.
auth::RoleCatalog role_catalog(const config::Settings& settings);
auth::AuthSettings auth_settings(const config::Settings& settings);
// The audit log with the configured signing key (created when absent). Throws std::runtime_error.
std::unique_ptr<audit::AuditLog> open_audit_log(const config::Settings& settings, store::Database& db);

// The daemon's version, "0.1.0".
const char* version();

}  // namespace annex::app

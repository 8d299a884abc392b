#include "app/daemon.h"

#include "approvals/approval_routes.h"
#include "approvals/approvals.h"
#include "audit/audit_log.h"
#include "blobs/blob_store.h"
#include "blobs/blob_upload.h"
#include "calendar/calendar_routes.h"
#include "clock/utc.h"
#include "cluster/leases.h"
#include "masterdata/masterdata_routes.h"
#include "masterdata/store.h"
#include "sync/engine.h"
#include "sync/sync_routes.h"
#include "audit/audit_routes.h"
#include "auth/access.h"
#include "auth/admin_routes.h"
#include "auth/auth_routes.h"
#include "auth/authenticator.h"
#include "auth/identity.h"
#include "events/event_bus.h"
#include "http/api_error.h"
#include "http/dispatcher.h"
#include "http/metrics.h"
#include "http/openapi.h"
#include "http/router.h"
#include "http/server.h"
#include "jobs/scheduler.h"
#include "log/logging.h"
#include "plugin_host/plugin_host.h"
#include "store/core_schema.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store/sql.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include <filesystem>
#include <set>
#include <sstream>
#include <unistd.h>

#ifndef ANNEX_VERSION
#define ANNEX_VERSION "0.0.0"
#endif

namespace annex::app {
namespace {

constexpr const char* kCore = "annex.core";

std::string stringify(const Poco::Dynamic::Var& v) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(v, out);
  return out.str();
}

Poco::JSON::Object::Ptr plugin_json(const plugin_host::PluginInfo& p) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("id", p.id);
  o->set("version", p.version);
  o->set("name", p.name);
  o->set("description", p.description);
  o->set("kind", p.kind);
  o->set("state", p.state);
  o->set("error", p.error.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(p.error));
  o->set("error_field", p.error_field.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(p.error_field));
  o->set("abi", p.abi);
  o->set("path", p.path);
  Poco::JSON::Array::Ptr req = new Poco::JSON::Array;
  for (const auto& r : p.requires_text) req->add(r);
  o->set("requires", req);
  Poco::JSON::Array::Ptr uses = new Poco::JSON::Array;
  for (const auto& u : p.uses) uses->add(u);
  o->set("uses", uses);
  Poco::JSON::Array::Ptr provides = new Poco::JSON::Array;
  for (const auto& u : p.provides) provides->add(u);
  o->set("provides", provides);
  return o;
}

// A plugin's event subscriptions as GET /api/v1/plugins shows them.
Poco::JSON::Array::Ptr events_json(const std::vector<events::SubscriptionStatus>& subs, const std::string& owner) {
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  for (const auto& s : subs) {
    if (s.owner != owner) continue;
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    auto text_or_null = [](const std::string& v) { return v.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(v); };
    o->set("topic", s.topic);
    o->set("state", s.state);
    o->set("backlog", s.backlog);
    o->set("failures", s.failures);
    o->set("last_error", text_or_null(s.last_error));
    o->set("parked_at", text_or_null(s.parked_at));
    o->set("daemon", text_or_null(s.daemon));
    out->add(o);
  }
  return out;
}

std::filesystem::path executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}

}  // namespace

const char* version() { return ANNEX_VERSION; }

std::unique_ptr<store::Database> open_database(const config::Settings& settings) {
  store::DatabaseOptions options;
  options.pool_size = settings.database.pool_size;
  options.busy_timeout_ms = settings.database.busy_timeout_ms;
  options.acquire_timeout_ms = settings.database.acquire_timeout_ms;
  if (settings.database_dialect() == "postgresql") {
    options.dialect = store::Dialect::kPostgresql;
    options.target = settings.database.url;
  } else {
    options.dialect = store::Dialect::kSqlite;
    options.target = settings.sqlite_path();
  }
  return std::make_unique<store::Database>(options);
}

std::vector<std::string> effective_plugin_dirs(const config::Settings& settings) {
  if (!settings.plugin_dirs.empty()) return settings.plugin_dirs;
  std::vector<std::string> out;
  auto dir = executable_dir();
  for (auto candidate : {dir / ".." / "lib" / "annex" / "plugins"}) {
    std::error_code ec;
    if (std::filesystem::is_directory(candidate, ec)) out.push_back(std::filesystem::weakly_canonical(candidate).string());
  }
  return out;
}

std::string effective_ui_dir(const config::Settings& settings) {
  if (settings.http.ui_dir == "none") return {};
  if (!settings.http.ui_dir.empty()) return settings.http.ui_dir;
  std::error_code ec;
  auto candidate = executable_dir() / ".." / "share" / "annex" / "ui";
  return std::filesystem::is_regular_file(candidate / "index.html", ec) ? std::filesystem::weakly_canonical(candidate).string() : "";
}

auth::RoleCatalog role_catalog(const config::Settings& settings) {
  auth::RoleCatalog roles = auth::RoleCatalog::defaults();
  for (const auto& [name, role] : settings.roles) {
    auth::Reach reach = auth::Reach::kOwn;
    auth::parse_reach(role.reach, &reach);
    roles.define(name, role.patterns, reach);
  }
  return roles;
}

auth::AuthSettings auth_settings(const config::Settings& settings) {
  auth::AuthSettings a;
  a.pbkdf2_iterations = settings.auth.pbkdf2_iterations;
  a.session_idle_s = settings.auth.session_idle_s;
  a.session_lifetime_s = settings.auth.session_lifetime_s;
  a.max_failed_logins = settings.auth.max_failed_logins;
  a.failed_login_window_s = settings.auth.failed_login_window_s;
  return a;
}

std::unique_ptr<audit::AuditLog> open_audit_log(const config::Settings& settings, store::Database& db) {
  auto signer = std::make_shared<const audit::Signer>(audit::Signer::load_or_create(settings.audit_key_path()));
  return std::make_unique<audit::AuditLog>(db, std::move(signer), settings.audit.checkpoint_every);
}

Daemon::Daemon(config::Settings settings) : settings_(std::move(settings)) {}

Daemon::~Daemon() { stop(); }

std::string Daemon::base_url() const { return server_ ? server_->base_url() : std::string{}; }

void Daemon::start() {
  std::filesystem::create_directories(settings_.data_dir);
  db_ = open_database(settings_);
  spdlog::info("storage: {} ({})", store::dialect_name(db_->dialect()),
               db_->dialect() == store::Dialect::kSqlite ? settings_.sqlite_path()
                                                          : store::redact_connection_string(settings_.database.url));
  store::MigrationRunner runner(*db_);
  runner.prepare();
  runner.apply(store::kCoreOwner, store::core_migrations(db_->dialect()));

  leases_ = std::make_unique<cluster::Leases>(*db_, cluster::Leases::daemon_name());
  spdlog::info("daemon {}: its jobs, sync runs and event deliveries are shared with every annexd on this database", leases_->daemon());
  events_ = std::make_unique<events::EventBus>(
      *db_, events::EventBusOptions{settings_.events.park_after_failures, std::chrono::seconds(settings_.events.parked_retry_s)});
  calendar_ = std::make_unique<calendar::CompanyCalendar>(settings_.calendar);
  if (calendar_->clock().is_test_clock()) {
    spdlog::warn("calendar.test_clock_file is set: the calendar's \"now\" is the instant in {}, not the real time "
                 "(for tests only)", settings_.calendar.test_clock_file);
  }
  scheduler_ = std::make_unique<jobs::Scheduler>(2);
  scheduler_->set_calendar(calendar_.get());
  scheduler_->share(leases_.get());
  events_->share(leases_.get());
  scheduler_->set_run_record((std::filesystem::path(settings_.data_dir) / "calendar-jobs.tsv").string());
  router_ = std::make_unique<http::Router>();
  dispatcher_ = std::make_unique<http::Dispatcher>(*router_);
  identities_ = std::make_unique<auth::IdentityStore>(*db_);
  auth::AuthSettings auth_options = auth_settings(settings_);
  authorizer_ = std::make_unique<auth::Authorizer>(*identities_, role_catalog(settings_), auth_options.cache_ms);
  authenticator_ = std::make_unique<auth::Authenticator>(*identities_, *authorizer_, auth_options);
  audit_ = open_audit_log(settings_, *db_);
  spdlog::info("audit log: checkpoints signed with key {} ({})", audit_->signer()->key_id(), settings_.audit_key_path());
  // Daemons on one database sign one chain with one key: a daemon given another key would sign checkpoints no
  // auditor can verify with the log's public key.
  if (auto last = audit_->last_checkpoint(); last && last->key_id != audit_->signer()->key_id()) {
    throw std::runtime_error("audit.signing_key: this daemon's key " + audit_->signer()->key_id() + " (" +
                             settings_.audit_key_path() + ") is not the key " + last->key_id +
                             " that signs this database's audit log (checkpoint at entry " + std::to_string(last->seq) +
                             "); every annexd on one database signs with the same key: give this one that key's file");
  }
  dispatcher_->set_access_check(
      [this](http::HttpRequest& request, const http::Route& route) { authenticator_->check(request, route); });
  idempotency_ = std::make_unique<http::Idempotency>(*db_);
  dispatcher_->set_idempotency(idempotency_.get());
  // Uploads are staged under data_dir while they arrive, then kept in the database.
  blobs_ = std::make_unique<blobs::BlobStore>(*db_, (std::filesystem::path(settings_.data_dir) / "uploads").string(),
                                              settings_.blobs.max_bytes);
  dispatcher_->set_upload_sink(
      [this](http::HttpRequest& request, const http::Route& route) { blobs::receive_upload(*blobs_, request, route); });
  if (std::string ui = effective_ui_dir(settings_); !ui.empty()) {
    ui_ = std::make_unique<http::StaticFiles>(ui);
    dispatcher_->set_static_files(ui_.get());
    spdlog::info("web application: {} files from {}", ui_->files(), ui);
  }

  http::ServerOptions options;
  options.host = settings_.http.host;
  options.port = settings_.http.port;
  options.threads = settings_.http.threads;
  options.max_queued = settings_.http.max_queued;
  options.max_body_bytes = settings_.http.max_body_bytes;
  options.keep_alive = settings_.http.keep_alive;
  options.keep_alive_timeout_s = settings_.http.keep_alive_timeout_s;
  options.tls_cert = settings_.http.tls_cert;
  options.tls_key = settings_.http.tls_key;
  options.tls_ca = settings_.http.tls_ca;
  server_ = std::make_unique<http::HttpServer>(options, *dispatcher_);
  register_core_routes();
  auth::register_auth_routes(*router_, *authenticator_);
  auth::register_admin_routes(*router_, *db_, *authenticator_, *audit_);
  audit::register_audit_routes(*router_, *db_, *audit_);
  calendar::register_calendar_routes(*router_, *calendar_);
  std::map<std::string, approvals::Chain> chains;
  auto lint = approvals::parse_chains(settings_.approvals_json, authorizer_->roles(), &chains);
  if (!lint.empty()) throw std::runtime_error("config: " + lint.front().path + ": " + lint.front().message);
  approvals_ = std::make_unique<approvals::ApprovalService>(*db_, *authorizer_, *audit_, events_.get(), std::move(chains));
  approvals::register_approval_routes(*router_, *approvals_);
  masterdata_ = std::make_unique<masterdata::MasterData>(*db_);
  connectors_ = std::make_unique<sync::ConnectorRegistry>();
  try {
    sync_ = std::make_unique<sync::SyncEngine>(*masterdata_, *connectors_, sync::parse_sync_config(settings_.sync_json));
    sync_->share(leases_.get());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("config: ") + e.what());
  }
  masterdata_->set_listener([this](soci::session& s, const masterdata::Entity& e, const masterdata::Change& c) {
    sync_->enqueue(s, e, c);
  });
  masterdata_->set_guard([this](soci::session& s, const masterdata::Entity& e, const std::string& id, const nlohmann::json& before,
                                const nlohmann::json& changes) { sync_->refuse_remote_owned(s, e, id, before, changes); });
  masterdata::register_masterdata_routes(*router_, *masterdata_, *authorizer_, *audit_);
  sync::register_sync_routes(*router_, *sync_, [this](const std::string& connection, const std::string& stream) {
    sync_->ask(connection, stream);  // whichever daemon runs the connection's job runs the streams asked for
    return scheduler_->trigger(kCore, "sync:" + connection);
  });
  // Serve /healthz and /readyz while plugins start; /readyz says "not ready" until they have.
  server_->start();
  running_ = true;

  plugin_host::HostParts parts;
  parts.db = db_.get();
  parts.router = router_.get();
  parts.events = events_.get();
  parts.scheduler = scheduler_.get();
  parts.authorizer = authorizer_.get();
  parts.audit = audit_.get();
  parts.approvals = approvals_.get();
  parts.connectors = connectors_.get();
  parts.masterdata = masterdata_.get();
  parts.blobs = blobs_.get();
  parts.sync = sync_.get();
  parts.calendar = calendar_.get();
  parts.data_dir = settings_.data_dir;
  parts.base_url = server_->base_url();
  plugins_ = std::make_unique<plugin_host::PluginHost>(parts);
  auto dirs = effective_plugin_dirs(settings_);
  if (dirs.empty()) spdlog::warn("no plugin directory found; set plugin_dirs or pass --plugin-dir");
  for (const auto& d : dirs) spdlog::info("plugin directory: {}", d);
  plugins_->load(dirs, settings_.plugin_config, settings_.disabled_plugins);
  plugins_->start_all();
  events_->start();
  // Sign the audit head regularly, so that recent entries do not wait for the N-th append to be covered.
  scheduler_->schedule(kCore, "audit-checkpoint", std::chrono::seconds(settings_.audit.checkpoint_interval_s),
                       std::chrono::seconds(settings_.audit.checkpoint_interval_s), [this](std::string*) {
                         audit_->checkpoint();
                         return true;
                       });
  scheduler_->schedule(kCore, "idempotency-purge", std::chrono::hours(1), std::chrono::minutes(1), [this](std::string*) {
    idempotency_->purge(24);
    return true;
  });
  schedule_sync();
  scheduler_->start();
  int started = 0, total = 0;
  for (const auto& p : plugins_->plugins()) {
    ++total;
    started += p.state == "started";
  }
  spdlog::info("annexd {} ready on {}: {} of {} plugins started", version(), server_->base_url(), started, total);
}

void Daemon::drain() {
  draining_ = true;
  spdlog::info("draining: /readyz answers 503 for {}s before the shutdown begins", settings_.shutdown_drain_s);
}

void Daemon::stop() {
  if (!running_) return;
  running_ = false;
  spdlog::info("shutting down: finishing in-flight requests (up to {}s)", settings_.shutdown_grace_s);
  bool drained = server_->stop(std::chrono::seconds(settings_.shutdown_grace_s));
  scheduler_->stop();
  events_->stop();
  // A plugin whose handler is stuck cannot be stopped safely under it: such a shutdown leaves plugins as they
  // are and ends the process below, once the audit log is sealed.
  if (plugins_ && drained) plugins_->stop_all();
  try {
    if (int64_t seq = audit_->checkpoint()) spdlog::info("audit log: checkpoint signed at entry {}", seq);
  } catch (const std::exception& e) {
    spdlog::error("audit log: cannot sign the final checkpoint: {}", e.what());
  }
  if (!drained) {
    spdlog::error("annexd stopped with requests still running; exiting without waiting for them");
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }
  spdlog::info("annexd stopped");
  spdlog::default_logger()->flush();
}

void Daemon::schedule_sync() {
  std::set<std::string> running;
  for (const auto& p : plugins_->plugins()) {
    if (p.state == "started") running.insert(p.id);
  }
  for (const auto& [name, c] : sync_->connections()) {
    for (const auto& [sname, s] : c.streams) {
      // Its documents wait (pushed ones stay queued, pulled ones unread) until the plugin that owns them runs.
      if (!s.documents.empty() && !running.count(s.documents)) {
        spdlog::warn("sync.connections.{}.streams.{}: the plugin {} that owns its documents is not running", name, sname,
                     s.documents);
      }
    }
  }
  for (const auto& [name, c] : sync_->connections()) {
    // A connection's streams run together: on their shortest schedule, or only when asked (a run started over
    // the API triggers this job). Pushes leave every few seconds, soon after the change that queued them.
    int interval = 0;
    bool pushes = false;
    for (const auto& [sname, s] : c.streams) {
      if (s.schedule_s > 0) interval = interval == 0 ? s.schedule_s : std::min(interval, s.schedule_s);
      pushes = pushes || s.direction != "pull";
    }
    std::chrono::seconds every(interval > 0 ? interval : 10L * 365 * 86400);
    std::string connection = name;
    scheduler_->schedule(kCore, "sync:" + name, every, every, [this, connection](std::string* error) {
      // Its schedule runs every stream; a run asked for over the API, the streams it named.
      std::set<std::string> streams = sync_->take_asked(connection);
      if (streams.empty() || streams.count("")) streams = {""};
      bool ok = true;
      for (const auto& stream : streams) {
        for (const auto& r : sync_->run(connection, stream, false, {}, {}, true)) {
          if (r.status == "failed") {
            ok = false;
            *error += r.stream + " " + r.direction + ": " + r.error + "; ";
          }
        }
      }
      return ok;
    });
    if (pushes) {
      scheduler_->schedule(kCore, "sync-push:" + name, std::chrono::seconds(3), std::chrono::seconds(3),
                           [this, connection](std::string* error) {
                             for (const auto& r : sync_->run(connection, "", false, {}, "push", true)) {
                               if (r.status == "failed") *error += r.stream + ": " + r.error + "; ";
                             }
                             return error->empty();
                           });
    }
  }
}

void Daemon::register_core_routes() {
  auto add = [this](const char* method, const char* path, const char* permission, const char* summary,
                    http::Handler handler) {
    http::add_route(*router_, kCore, method, path, permission, summary, std::move(handler));
  };

  add("GET", "/healthz", "", "Liveness: the process answers", [](http::HttpRequest&, http::HttpResponse& resp) {
    resp.body = R"({"status":"ok"})";
  });
  add("GET", "/readyz", "", "Readiness: storage reachable and plugins started",
      [this](http::HttpRequest&, http::HttpResponse& resp) {
        bool storage = db_->ping();
        bool started = plugins_ && plugins_->started();
        // A plugin that should run but was refused or failed to start leaves the instance not ready.
        std::vector<std::string> down = plugins_ ? plugins_->not_running() : std::vector<std::string>{};
        bool plugins = started && down.empty();
        // Another daemon on this database signs with another key: this one signs nothing and serves no one.
        const std::string key_conflict = audit_ ? audit_->key_conflict() : "";
        Poco::JSON::Object::Ptr checks = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        checks->set("storage", storage ? "ok" : "unreachable");
        if (!key_conflict.empty()) checks->set("audit_key", key_conflict);
        checks->set("plugins", !started ? "starting" : down.empty() ? "started" : "failed");
        Poco::JSON::Object::Ptr body = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        const bool draining = draining_;
        body->set("status", draining ? "draining" : storage && plugins && key_conflict.empty() ? "ready" : "not_ready");
        body->set("checks", checks);
        if (!down.empty()) {
          Poco::JSON::Array::Ptr ids = new Poco::JSON::Array;
          for (const auto& id : down) ids->add(id);
          body->set("plugins_not_running", ids);
        }
        resp.status = storage && plugins && !draining && key_conflict.empty() ? 200 : 503;
        resp.body = stringify(body);
      });
  add("GET", "/metrics", "", "Prometheus metrics", [this](http::HttpRequest&, http::HttpResponse& resp) {
    std::vector<http::Gauge> gauges;
    http::Gauge states{"annex_plugin_state", "1 for the state each plugin is in.", {}};
    if (plugins_) {
      for (const auto& p : plugins_->plugins()) {
        states.samples.emplace_back("plugin=\"" + p.id + "\",state=\"" + p.state + "\"", 1);
      }
    }
    gauges.push_back(states);
    gauges.push_back({"annex_db_pool_size", "Connections in the database pool.", {{"", double(db_->pool_size())}}});
    gauges.push_back({"annex_db_pool_in_use", "Pooled connections leased right now.", {{"", double(db_->in_use())}}});
    http::Gauge backlog{"annex_event_backlog", "Events not yet delivered, per subscription.", {}};
    http::Gauge parked{"annex_event_subscription_parked",
                       "1 for a subscription parked after failing again and again (POST /api/v1/plugins/{id}/events/resume).", {}};
    http::Gauge failing{"annex_event_subscription_failures", "Failures in a row, per subscription.", {}};
    for (const auto& sub : events_->status()) {
      const std::string labels = "plugin=\"" + sub.owner + "\",topic=\"" + sub.topic + "\"";
      backlog.samples.emplace_back(labels, double(sub.backlog));
      parked.samples.emplace_back(labels, sub.state == "parked" ? 1 : 0);
      failing.samples.emplace_back(labels, double(sub.failures));
    }
    gauges.push_back(backlog);
    gauges.push_back(parked);
    gauges.push_back(failing);
    gauges.push_back({"annex_db_pool_timeouts_total",
                      "Requests and jobs that gave up waiting for a pooled connection (answered 503).",
                      {{"", double(db_->acquire_timeouts())}}, "counter"});
    resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp.body = http::render_metrics(*router_, dispatcher_->unmatched(), gauges);
  });
  add("GET", "/api/v1/openapi.json", "", "This document", [this](http::HttpRequest&, http::HttpResponse& resp) {
    resp.body = http::openapi_document(*router_, version());
  });
  add("GET", "/api/v1/plugins", "annex.plugins.read", "Installed plugins, their state and any error",
      [this](http::HttpRequest&, http::HttpResponse& resp) {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        if (plugins_) {
          const auto subs = events_->status();
          for (const auto& p : plugins_->plugins()) {
            Poco::JSON::Object::Ptr o = plugin_json(p);
            o->set("events", events_json(subs, p.id));
            items->add(o);
          }
        }
        Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
        body->set("items", items);
        resp.body = stringify(body);
      });
  add("GET", "/api/v1/plugins/{id}", "annex.plugins.read", "One plugin",
      [this](http::HttpRequest& req, http::HttpResponse& resp) {
        const std::string& id = req.path_params.at("id");
        if (plugins_) {
          for (const auto& p : plugins_->plugins()) {
            if (p.id == id) {
              Poco::JSON::Object::Ptr o = plugin_json(p);
              o->set("events", events_json(events_->status(id), id));
              resp.body = stringify(o);
              return;
            }
          }
        }
        throw http::ApiError::not_found("no plugin " + id);
      });
  add("POST", "/api/v1/plugins/{id}/events/resume", "annex.plugins.manage",
      "Resumes a plugin's parked event subscriptions at every daemon: their backlog is delivered again",
      [this](http::HttpRequest& req, http::HttpResponse& resp) {
        const std::string& id = req.path_params.at("id");
        bool known = false;
        if (plugins_) {
          for (const auto& p : plugins_->plugins()) known = known || p.id == id;
        }
        if (!known) throw http::ApiError::not_found("no plugin " + id);
        const int resumed = events_->resume(id);
        audit_->append({req.principal.id, "plugin.events.resume", "annex.plugin", id, "", "{\"resumed\":" + std::to_string(resumed) + "}"});
        Poco::JSON::Object::Ptr body = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        body->set("resumed", resumed);
        body->set("events", events_json(events_->status(id), id));
        resp.body = stringify(body);
      });
}

}  // namespace annex::app

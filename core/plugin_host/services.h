// The per-plugin context behind annex_host_ctx, and the C function tables of the host services.
#pragma once

#include "plugin_host/plugin_host.h"

#include <annex/plugin.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog {
class logger;
}
namespace soci {
class session;
}

namespace annex::http {
struct Upload;
struct HttpResponse;
}  // namespace annex::http

namespace annex::plugin_host {

struct PluginRecord;

}  // namespace annex::plugin_host

// What the host knows about one plugin while it lives. Opaque to plugins.
struct annex_host_ctx {
  annex::plugin_host::PluginHost* host = nullptr;
  annex::plugin_host::PluginRecord* record = nullptr;
};

namespace annex::plugin_host {

struct PluginRecord {
  PluginModule module;
  std::string state = "ready";
  bool duplicate = false;  // another module provides the same id; this one takes no part in resolution
  std::string error;
  std::string error_field;  // the field at fault of `error`, when the plugin or the schema check named one
  std::string config_json = "{}";
  std::set<std::string> granted;  // "annex.db@1", and services of other plugins ("org.x.widgets@1")
  // Services this plugin offers ("org.x.widgets@1" → its table), filled by provide_service during on_register.
  std::mutex provided_mutex;
  std::map<std::string, const void*> provided;
  // True from a successful start() until stop() is called: only then are its provided services handed out.
  std::atomic<bool> serving{false};
  std::vector<std::string> tables;  // the tables and views its migrations create
  std::mutex undeclared_mutex;
  std::set<std::string> undeclared;  // services it asked for without listing them under "uses"
  std::shared_ptr<spdlog::logger> logger;
  annex_host_ctx ctx;
  annex_host_api api{};
  annex_plugin* instance = nullptr;
};

// The tables of the security services (security_services.cpp).
const annex_authz_v1& authz_v1();
const annex_audit_v1& audit_v1();
const annex_directory_v1& directory_v1();
const annex_approvals_v1& approvals_v1();
const annex_connectors_v1& connectors_v1();
const annex_masterdata_v1& masterdata_v1();
// The company calendar and the host clock (calendar_services.cpp).
const annex_calendar_v1& calendar_v1();
// The documents service (document_services.cpp).
const annex_documents_v1& documents_v1();

// annex.blobs (blob_services.cpp), and its two hooks into annex.http: a route's upload as JSON, and a stored blob as
// a response's body.
const annex_blobs_v1& blobs_v1();
std::string upload_json(const http::Upload& upload);
annex_status send_blob(PluginRecord& rec, http::HttpResponse& response, std::string_view sha256,
                       std::string_view filename);

// The session a plugin's transaction runs on (for host services that join it); null when txn is null.
soci::session* txn_session(annex_txn* txn, annex_host_ctx* ctx, std::string* error);

// The error buffer the host hands to plugin code: the message, and apart from it the field at fault, named through
// annex_host_api.set_error_field() — or, by plugins built for ABI 1.2 and older, written "field=<name>\n" before
// the message, which settle() moves out (the one place that reads that form).
struct ErrorSink {
  std::string message;
  std::string field;
  annex_buffer buffer();
  void settle();
  // "message (field: f)" for a log line.
  std::string text() const;
};

// Fills rec.api so that get_service() hands out the tables rec.granted allows.
void bind_host_api(PluginHost& host, PluginRecord& rec);

}  // namespace annex::plugin_host

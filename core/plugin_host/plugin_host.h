// PluginHost — finds plugin modules, checks them, orders them by their dependencies, and runs their lifecycle:
// migrations → create → on_register → start, and at shutdown withdraw → stop → destroy in reverse order.
// One plugin failing is recorded with its reason and does not stop the others (those that require it are
// refused, saying why).
#pragma once

#include "plugin_host/module.h"
#include "store/migrations.h"

#include <Poco/JSON/Object.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace annex::http {
class Router;
}
namespace annex::events {
class EventBus;
}
namespace annex::jobs {
class Scheduler;
}
namespace annex::auth {
class Authorizer;
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
namespace annex::blobs {
class BlobStore;
}
namespace annex::calendar {
class CompanyCalendar;
}

namespace annex::plugin_host {

// The parts of the host that plugins reach through services. Any may be null (annexctl has no router).
struct HostParts {
  store::Database* db = nullptr;
  http::Router* router = nullptr;
  events::EventBus* events = nullptr;
  jobs::Scheduler* scheduler = nullptr;
  std::string data_dir;
  std::string base_url;
  auth::Authorizer* authorizer = nullptr;
  audit::AuditLog* audit = nullptr;
  approvals::ApprovalService* approvals = nullptr;
  sync::ConnectorRegistry* connectors = nullptr;
  masterdata::MasterData* masterdata = nullptr;
  blobs::BlobStore* blobs = nullptr;
  sync::SyncEngine* sync = nullptr;  // annex.documents
  const calendar::CompanyCalendar* calendar = nullptr;  // annex.calendar
};

struct PluginInfo {
  std::string id;
  std::string version;
  std::string name;
  std::string description;
  std::string kind;   // capability | connector
  std::string path;
  std::string state;  // refused | disabled | failed | ready | started | stopped
  std::string error;  // why it is refused or failed
  std::string error_field;  // the field at fault, when the failure names one ("plugins.<id>.<key>", "severities")
  std::string abi;    // "1.0"
  std::vector<std::string> requires_text;  // "org.x >=1.0.0 <2.0.0"
  std::vector<std::string> uses;           // "annex.db@1"
  std::vector<std::string> provides;       // "org.annex.expenses.advances@1"
};

// The services this host provides, "name@major".
const std::vector<std::string>& provided_services();

struct PluginRecord;

class PluginHost {
 public:
  explicit PluginHost(HostParts parts);
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Opens every module in `dirs` and checks it: descriptor and ABI, manifest, declared services, configuration
  // (plugins.<id> from `config`, checked against the manifest's schema), duplicates, then the dependency order.
  void load(const std::vector<std::string>& dirs, const std::map<std::string, Poco::JSON::Object::Ptr>& config,
            const std::vector<std::string>& disabled);
  // The same for descriptors already in memory (plugins linked into a test).
  void add_descriptor(const annex_plugin_descriptor* descriptor, const std::string& label,
                      Poco::JSON::Object::Ptr config = nullptr);
  // Resolves dependencies among everything loaded or added; called by load(), call it after add_descriptor().
  void resolve();

  // The migrations of every plugin that is not refused, in dependency order, chosen for the database's
  // dialect; for `annexctl migrate status`. A plugin whose migrations cannot be chosen is marked failed.
  std::vector<std::pair<std::string, std::vector<store::Migration>>> migrations();
  // Applies the migrations of every ready plugin in dependency order. Failures mark the plugin failed.
  void migrate_all();
  // Creates, registers and starts every ready plugin in dependency order; with `connectors_only`, only
  // connector plugins (annexctl's sync commands need those and nothing else).
  void start_all(bool connectors_only = false);
  // Stops started plugins in reverse order.
  void stop_all();
  // For an offline check (annexctl plugins list): creates and registers every ready plugin against this host's
  // parts, then withdraws and destroys it, so that a plugin asking for a service its manifest does not list is
  // refused here as it would be at start-up. Other failures are not reported (an offline host lacks parts).
  void probe();

  std::vector<PluginInfo> plugins() const;
  // The start-up order computed by resolve().
  const std::vector<std::string>& order() const { return order_; }
  bool started() const { return started_; }
  // The plugins that should run but do not: every one installed and not disabled that is refused or failed
  // (a second copy of a running plugin aside). /readyz is not ready while this is non-empty.
  std::vector<std::string> not_running() const;

  // Problems found while loading that belong to no plugin (missing directories, config for unknown plugins).
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Used by the service tables.
  const HostParts& parts() const { return parts_; }
  // The table of a service a plugin provides ("org.x.widgets@1"), while its provider serves; nullptr otherwise.
  const void* provided_table(const std::string& key) const;
  // The plugin whose migrations create `table` (lower-case), or "" when no plugin does.
  std::string table_owner(const std::string& table) const;

 private:
  PluginRecord* find(const std::string& id) const;
  void add_module(PluginModule module, Poco::JSON::Object::Ptr config);
  void fail(PluginRecord& rec, const std::string& why, const std::string& field = {});
  bool migrate(PluginRecord& rec);
  bool start_one(PluginRecord& rec);
  void refuse_if_undeclared(PluginRecord& rec);
  // Who provides which service, who may use which, and which plugin owns which table.
  void resolve_services();
  void withdraw(PluginRecord& rec);

  HostParts parts_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<PluginRecord>> records_;
  std::vector<std::string> order_;
  std::vector<std::string> warnings_;
  std::map<std::string, PluginRecord*> providers_;    // "org.x.widgets@1" → the plugin that provides it
  std::map<std::string, std::string> table_owners_;  // table → plugin id; fixed once resolve() has run
  bool started_ = false;
};

// Picks, for each version, the SQL for `dialect`: the variant for it when there is one, else the portable one.
// Returns false with *error when a version has neither.
struct ChosenMigration {
  uint32_t version;
  std::string name;
  std::string sql;
};
bool choose_migrations(const annex_plugin_descriptor& d, const std::string& dialect,
                       std::vector<ChosenMigration>* out, std::string* error);

}  // namespace annex::plugin_host

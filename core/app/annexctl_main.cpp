// annexctl — administer an Annex installation through its configuration and store, without the daemon.
#include "app/cli.h"
#include "app/daemon.h"
#include "app/demo.h"
#include "audit/audit_log.h"
#include "audit/evidence_pack.h"
#include "cluster/leases.h"
#include "masterdata/store.h"
#include "sync/engine.h"
#include "auth/authenticator.h"
#include "auth/identity.h"
#include "auth/roles.h"
#include "http/router.h"
#include "jobs/scheduler.h"
#include "log/logging.h"
#include "plugin_host/plugin_host.h"
#include "store/core_schema.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store/transaction.h"

#include <annex/sdk.hpp>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <unistd.h>
#include <iomanip>
#include <iostream>
#include <map>

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage = R"(annexctl — administer Annex

Usage: annexctl [global options] COMMAND [command options]

Commands:
  plugins list        installed plugins: id, version, kind, state, and why any cannot start
  migrate status      applied and pending migrations of the core and every plugin
  migrate apply       apply pending migrations
  config check        validate the configuration (as annexd --check-config)
  user create LOGIN   create a user: --role ROLE [--sector S] [--display-name N] [--password-stdin]
  demo load           fill an empty store with a demo company (sectors, people of every role, sales, expenses,
                      relationship-spending statements), through the API, so every rule applies
  user disable LOGIN  disable an account: its sessions and tokens stop working at once (also: freeze, activate)
  token create LOGIN  create a personal API token for LOGIN and print its secret, once
  sync connections    configured connections, their streams and pending pushes
  sync check CONN     reach a connection's remote system with its credentials
  sync run CONN       run its streams now: [--stream S] [--dry-run] (progress on a terminal); exits 3 when
                      every pending push waits for its retry after a failure, and says until when
  sync status         last run of every stream, pending pushes, dead letters
  sync history [CONN] past runs with their counts
  sync dead-letters list [CONN] | replay SEQ
  sync reconcile CONN records that differ between Annex and the remote, field by field [--stream S]
  audit verify        recompute the audit chain and check its signed checkpoints (--file F: an export or an
                      evidence pack)
  audit export        write the audit log as JSON Lines (--out F), for offline verification

Run "annexctl COMMAND --help" for a command's options.
)";

struct Context {
  annex::app::CommonFlags flags;
  annex::config::Settings settings;
};

using Command = std::function<int(Context&, const std::vector<std::string>&)>;

// Parses a command's own options; returns -1 to continue, or an exit code.
int parse_command(const std::string& name, const std::string& summary, po::options_description& options,
                  const std::vector<std::string>& args, po::variables_map& vm) {
  options.add_options()("help,h", "this help");
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "annexctl " << name << ": " << e.what() << "\nTry annexctl " << name << " --help\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "annexctl " << name << " — " << summary << "\n\n" << options;
    return 0;
  }
  return -1;
}

int plugins_list(Context& ctx, const std::vector<std::string>& args) {
  po::options_description options("Options");
  po::variables_map vm;
  if (int rc = parse_command("plugins list", "installed plugins and their state", options, args, vm); rc >= 0) return rc;
  // A router, scheduler and connector registry that serve nothing: enough for each plugin to register, so that
  // one asking for a service it does not list under "uses" is refused here as annexd would refuse it.
  annex::http::Router router;
  annex::jobs::Scheduler scheduler(1);
  annex::sync::ConnectorRegistry connectors;
  annex::plugin_host::HostParts parts;
  parts.router = &router;
  parts.scheduler = &scheduler;
  parts.connectors = &connectors;
  annex::plugin_host::PluginHost host(parts);
  host.load(annex::app::effective_plugin_dirs(ctx.settings), ctx.settings.plugin_config, ctx.settings.disabled_plugins);
  host.probe();
  auto plugins = host.plugins();
  if (plugins.empty()) {
    std::cout << "no plugins found in:";
    for (const auto& d : annex::app::effective_plugin_dirs(ctx.settings)) std::cout << " " << d;
    std::cout << "\n";
    return 0;
  }
  std::cout << std::left << std::setw(28) << "ID" << std::setw(10) << "VERSION" << std::setw(12) << "KIND"
            << std::setw(10) << "STATE" << "DETAIL\n";
  int bad = 0;
  for (const auto& p : plugins) {
    // Offline, "ready" means it would start; the daemon reports "started".
    std::string state = p.state == "ready" ? "ok" : p.state;
    bad += p.state == "refused" || p.state == "failed";
    std::cout << std::left << std::setw(28) << p.id << std::setw(10) << p.version << std::setw(12) << p.kind
              << std::setw(10) << state << (p.error.empty() ? p.path : p.error)
              << (p.error_field.empty() ? "" : " [field " + p.error_field + "]") << "\n";
  }
  return bad > 0 ? 1 : 0;
}

int migrate(Context& ctx, const std::vector<std::string>& args, bool apply) {
  po::options_description options("Options");
  po::variables_map vm;
  const char* name = apply ? "migrate apply" : "migrate status";
  if (int rc = parse_command(name, apply ? "apply pending migrations" : "show migration state", options, args, vm); rc >= 0) {
    return rc;
  }
  std::unique_ptr<annex::store::Database> db;
  try {
    db = annex::app::open_database(ctx.settings);
  } catch (const std::exception& e) {
    std::cerr << "annexctl: " << e.what() << "\n";
    return 1;
  }
  annex::plugin_host::HostParts parts;
  parts.db = db.get();
  annex::plugin_host::PluginHost host(parts);
  host.load(annex::app::effective_plugin_dirs(ctx.settings), ctx.settings.plugin_config, ctx.settings.disabled_plugins);
  std::vector<std::pair<std::string, std::vector<annex::store::Migration>>> owners;
  owners.emplace_back(annex::store::kCoreOwner, annex::store::core_migrations(db->dialect()));
  for (auto& m : host.migrations()) owners.push_back(std::move(m));
  annex::store::MigrationRunner runner(*db);
  int failures = 0;
  try {
    runner.prepare();
  } catch (const std::exception& e) {
    std::cerr << "annexctl: " << e.what() << "\n";
    return 1;
  }
  for (auto& [owner, list] : owners) {
    try {
      if (apply) {
        int ran = runner.apply(owner, list);
        std::cout << owner << ": " << (ran == 0 ? "up to date" : "applied " + std::to_string(ran)) << "\n";
      } else {
        std::cout << owner << ":\n";
        if (list.empty()) std::cout << "  (no migrations)\n";
        for (const auto& s : runner.status(owner, list)) {
          std::cout << "  " << std::setw(4) << s.version << "  " << std::left << std::setw(9)
                    << annex::store::to_string(s.state) << std::setw(30) << s.name << s.applied_at << std::right << "\n";
          failures += s.state == annex::store::MigrationState::State::kChanged;
        }
      }
    } catch (const std::exception& e) {
      std::cerr << "annexctl: " << e.what() << "\n";
      ++failures;
    }
  }
  for (const auto& p : host.plugins()) {
    if (p.state == "refused" || p.state == "failed") std::cerr << "annexctl: warning: " << p.id << ": " << p.error << "\n";
  }
  return failures > 0 ? 1 : 0;
}

// Opens the store with the core's tables up to date, for the identity commands.
std::unique_ptr<annex::store::Database> open_migrated(Context& ctx) {
  auto db = annex::app::open_database(ctx.settings);
  annex::store::MigrationRunner runner(*db);
  runner.prepare();
  runner.apply(annex::store::kCoreOwner, annex::store::core_migrations(db->dialect()));
  return db;
}

// Who made a change from the command line, for the audit log: "annexctl:<login name>".
std::string operator_name() {
  const char* user = std::getenv("USER");
  return std::string("annexctl:") + (user != nullptr && *user ? user : "unknown");
}

int user_create(Context& ctx, const std::vector<std::string>& args) {
  po::options_description options("Options");
  std::string login, display_name, employee_number, sector = "*";
  std::vector<std::string> roles;
  bool password_stdin = false;
  options.add_options()
      ("login", po::value(&login)->required(), "login name (or the first argument)")
      ("role,r", po::value(&roles)->composing()->value_name("ROLE"), "role to grant (repeatable)")
      ("sector,s", po::value(&sector)->value_name("SECTOR"), "the sector the roles apply to (default: all sectors)")
      ("display-name", po::value(&display_name), "name shown to people")
      ("employee-number", po::value(&employee_number), "employee number")
      ("password-stdin", po::bool_switch(&password_stdin), "read a password (one line) from standard input");
  po::positional_options_description positional;
  positional.add("login", 1);
  po::variables_map vm;
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << "annexctl user create — create a user\n\nUsage: annexctl user create LOGIN --role ROLE [options]\n\n" << options;
    return 0;
  }
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "annexctl user create: " << e.what() << "\nTry annexctl user create --help\n";
    return 2;
  }
  annex::auth::RoleCatalog catalog = annex::app::role_catalog(ctx.settings);
  if (roles.empty()) {
    std::cerr << "annexctl user create: give at least one --role (one of:";
    for (const auto& r : catalog.names()) std::cerr << " " << r;
    std::cerr << ")\n";
    return 2;
  }
  for (const auto& r : roles) {
    if (!catalog.has(r)) {
      std::cerr << "annexctl user create: --role: unknown role \"" << r << "\"\n";
      return 2;
    }
  }
  std::string password;
  if (password_stdin) std::getline(std::cin, password);
  try {
    auto db = open_migrated(ctx);
    auto audit = annex::app::open_audit_log(ctx.settings, *db);
    annex::store::Lease lease(*db);
    annex::store::ScopedTransaction txn(lease.session(), db->dialect());
    annex::auth::IdentityStore store(*db, lease.session());
    annex::auth::User user = store.create_user(login, display_name, employee_number, password, ctx.settings.auth.pbkdf2_iterations);
    if (sector != "*") store.ensure_sector(sector, sector);
    for (const auto& r : roles) store.assign_role(user.id, r, sector);
    std::string roles_json;
    for (const auto& r : roles) roles_json += (roles_json.empty() ? "" : ",") + annex::json_quote(r);
    audit->append(lease.session(), {operator_name(), "annex.user.create", "annex.user", user.id, "",
                                    "{\"login\":" + annex::json_quote(user.login) + ",\"roles\":[" + roles_json +
                                        "],\"sector_id\":" + annex::json_quote(sector) + ",\"status\":\"active\"}"});
    txn.commit();
    std::cout << "created user " << user.login << " (" << user.id << ")\n";
    return 0;
  } catch (const annex::auth::IdentityError& e) {
    std::cerr << "annexctl user create: " << e.field() << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "annexctl: " << e.what() << "\n";
    return 1;
  }
}

int user_status(Context& ctx, const std::vector<std::string>& args, const std::string& status, const char* name) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << "annexctl " << name << " — set an account to " << status << "\n\nUsage: annexctl " << name << " LOGIN\n";
    return 0;
  }
  if (args.size() != 1) {
    std::cerr << "annexctl " << name << ": give exactly one LOGIN\n";
    return 2;
  }
  try {
    auto db = open_migrated(ctx);
    annex::auth::IdentityStore store(*db);
    auto user = store.find_by_login(args[0]);
    if (!user) {
      std::cerr << "annexctl " << name << ": no user " << args[0] << "\n";
      return 1;
    }
    auto audit = annex::app::open_audit_log(ctx.settings, *db);
    annex::store::Lease lease(*db);
    annex::store::ScopedTransaction txn(lease.session(), db->dialect());
    annex::auth::IdentityStore pinned(*db, lease.session());
    pinned.set_status(user->id, status);
    audit->append(lease.session(), {operator_name(), "annex.user.status", "annex.user", user->id,
                                    "{\"status\":" + annex::json_quote(user->status) + "}",
                                    "{\"status\":" + annex::json_quote(status) + "}"});
    txn.commit();
    std::cout << user->login << " is " << status << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "annexctl: " << e.what() << "\n";
    return 1;
  }
}

// Verifies an evidence pack and says what it checked, or the first problem (the file, the entry).
int verify_pack(std::istream& in, const annex::audit::Signer* key, std::chrono::steady_clock::time_point started) {
  annex::audit::PackReport r = annex::audit::verify_evidence_pack(in, key);
  if (!r.ok) {
    std::cout << "evidence pack: NOT intact: " << (r.file.empty() ? "" : r.file + ": ") << r.problem
              << (r.first_bad_seq > 0 && r.problem.find(std::to_string(r.first_bad_seq)) == std::string::npos
                      ? " (entry " + std::to_string(r.first_bad_seq) + ")"
                      : "")
              << "\n";
    return 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  auto count = [](int64_t n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); };
  std::cout << "evidence pack " << r.id << " intact: \"" << r.title << "\"\n"
            << "  documents: " << r.documents << ", each matching the manifest\n"
            << "  manifest: matches its audit entry " << r.manifest_seq << "\n"
            << "  audit entries: " << r.proof.entries << " shown whole, " << r.proof.redacted << " others as digests, in "
            << count(r.proof.segments, "segment", "segments") << "\n"
            << "  checkpoints: " << count(r.proof.checkpoints, "signature", "signatures") << " checked"
            << (key ? " (key " + key->key_id() + ")" : " (signatures NOT checked: no key)") << "\n"
            << "verified in " << std::fixed << std::setprecision(2) << seconds << " s\n";
  if (!r.problem.empty()) std::cout << "note: " << r.problem << "\n";
  return 0;
}

int audit_verify(Context& ctx, const std::vector<std::string>& args) {
  po::options_description options("Options");
  std::string file, public_key;
  options.add_options()
      ("file,f", po::value(&file)->value_name("FILE"),
       "verify an export (JSON Lines) or an evidence pack (ZIP) instead of the database")
      ("public-key,k", po::value(&public_key)->value_name("PEM"),
       "the key that checks the checkpoints (default: the configured signing key)");
  po::variables_map vm;
  if (int rc = parse_command("audit verify", "recompute the audit chain and check its signed checkpoints", options,
                             args, vm);
      rc >= 0) {
    return rc;
  }
  try {
    std::optional<annex::audit::Signer> key;
    std::string key_file = public_key.empty() ? ctx.settings.audit_key_path() : public_key;
    if (std::filesystem::exists(key_file)) {
      key = annex::audit::Signer::load(key_file);
    } else if (!public_key.empty()) {
      std::cerr << "annexctl audit verify: --public-key: no file " << public_key << "\n";
      return 2;
    }
    auto started = std::chrono::steady_clock::now();
    annex::audit::VerifyReport report;
    if (!file.empty()) {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        std::cerr << "annexctl audit verify: cannot read " << file << "\n";
        return 2;
      }
      char head[4] = {};
      in.read(head, sizeof head);
      std::string_view first(head, static_cast<size_t>(in.gcount()));
      in.clear();
      in.seekg(0);
      if (annex::audit::looks_like_zip(first)) return verify_pack(in, key ? &*key : nullptr, started);
      report = annex::audit::verify_jsonl(in, key ? &*key : nullptr);
    } else {
      auto db = annex::app::open_database(ctx.settings);
      report = annex::audit::verify(*db, key ? &*key : nullptr);
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!report.ok) {
      std::cout << "audit log: NOT intact: first bad entry " << report.first_bad_seq << ": " << report.problem << "\n";
      return 1;
    }
    std::cout << "audit log intact: " << report.entries << " entries, " << report.checkpoints << " signed checkpoints"
              << (key ? " (key " + key->key_id() + ")" : " (signatures NOT checked: no key)") << ", verified in "
              << std::fixed << std::setprecision(2) << seconds << " s\n";
    if (report.v2_from > 1 && report.v2_from <= report.entries) {
      std::cout << "chain format: v1 up to entry " << report.v2_from - 1 << ", v2 from entry " << report.v2_from << "\n";
    }
    if (!report.problem.empty()) std::cout << "note: " << report.problem << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "annexctl: " << e.what() << "\n";
    return 1;
  }
}

int audit_export(Context& ctx, const std::vector<std::string>& args) {
  po::options_description options("Options");
  std::string out_file;
  options.add_options()("out,o", po::value(&out_file)->value_name("FILE"), "write here instead of standard output");
  po::variables_map vm;
  if (int rc = parse_command("audit export", "write the audit log as JSON Lines", options, args, vm); rc >= 0) return rc;
  try {
    auto db = annex::app::open_database(ctx.settings);
    annex::audit::AuditLog log(*db, nullptr);
    if (out_file.empty()) {
      log.export_jsonl(std::cout);
      std::cout.flush();
    } else {
      std::ofstream out(out_file, std::ios::trunc);
      if (!out) {
        std::cerr << "annexctl audit export: cannot write " << out_file << "\n";
        return 1;
      }
      log.export_jsonl(out);
      out.close();
      if (!out) {
        std::cerr << "annexctl audit export: writing " << out_file << " failed\n";
        return 1;
      }
      std::cerr << "wrote " << out_file << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "annexctl: " << e.what() << "\n";
    return 1;
  }
}

// The sync engine in this process, with the connector plugins started (and nothing else).
struct SyncParts {
  std::unique_ptr<annex::store::Database> db;
  std::unique_ptr<annex::audit::AuditLog> audit;
  std::unique_ptr<annex::masterdata::MasterData> md;
  std::unique_ptr<annex::sync::ConnectorRegistry> registry;
  std::unique_ptr<annex::plugin_host::PluginHost> host;
  std::unique_ptr<annex::cluster::Leases> leases;  // the runs this process holds among those on the database
  std::unique_ptr<annex::sync::SyncEngine> engine;  // declared last: closes its connections first
  ~SyncParts() {
    engine.reset();
    if (host) host->stop_all();
  }
};

std::unique_ptr<SyncParts> open_sync(Context& ctx) {
  auto p = std::make_unique<SyncParts>();
  p->db = open_migrated(ctx);
  p->audit = annex::app::open_audit_log(ctx.settings, *p->db);
  p->md = std::make_unique<annex::masterdata::MasterData>(*p->db);
  p->registry = std::make_unique<annex::sync::ConnectorRegistry>();
  p->engine = std::make_unique<annex::sync::SyncEngine>(*p->md, *p->registry,
                                                        annex::sync::parse_sync_config(ctx.settings.sync_json));
  p->leases = std::make_unique<annex::cluster::Leases>(*p->db, "annexctl@" + annex::cluster::Leases::daemon_name());
  p->engine->share(p->leases.get());
  annex::plugin_host::HostParts parts;
  parts.db = p->db.get();
  parts.data_dir = ctx.settings.data_dir;
  parts.connectors = p->registry.get();
  parts.sync = p->engine.get();
  p->host = std::make_unique<annex::plugin_host::PluginHost>(parts);
  p->host->load(annex::app::effective_plugin_dirs(ctx.settings), ctx.settings.plugin_config, ctx.settings.disabled_plugins);
  p->host->start_all(true);
  return p;
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string run_line(const annex::sync::RunReport& r) {
  double seconds = r.duration_ms / 1000.0;
  std::ostringstream out;
  out << r.connection << "/" << r.stream << " " << r.direction << (r.dry_run ? " (dry run)" : "") << ": "
      << with_commas(r.read) << " read, " << with_commas(r.created) << " created, " << with_commas(r.updated)
      << " updated, " << with_commas(r.unchanged) << " unchanged, " << with_commas(r.rejected) << " rejected";
  if (seconds > 0) out << " in " << std::fixed << std::setprecision(1) << seconds << " s (" << with_commas(static_cast<int64_t>(r.read / seconds)) << "/s)";
  return out.str();
}

int sync_command(Context& ctx, const std::vector<std::string>& args, const std::string& what) {
  po::options_description options("Options");
  std::string stream;
  bool dry_run = false;
  int limit = 20;
  std::vector<std::string> positional_args;
  options.add_options()
      ("stream", po::value(&stream)->value_name("S"), "run only this stream")
      ("dry-run", po::bool_switch(&dry_run), "report what would change; change nothing")
      ("limit", po::value(&limit)->value_name("N"), "how many runs to show")
      ("args", po::value(&positional_args)->composing(), "");
  po::positional_options_description positional;
  positional.add("args", -1);
  po::variables_map vm;
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << "annexctl sync " << what << "\n\n" << kUsage;
    return 0;
  }
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "annexctl sync " << what << ": " << e.what() << "\n";
    return 2;
  }
  auto need = [&](size_t n, const char* usage) {
    if (positional_args.size() != n) {
      std::cerr << "annexctl sync " << what << ": usage: annexctl sync " << usage << "\n";
      return false;
    }
    return true;
  };
  try {
    if (what == "connections") {
      auto p = open_sync(ctx);
      auto pending = p->engine->pending();
      if (p->engine->connections().empty()) std::cout << "no connections are configured (\"sync.connections\")\n";
      for (const auto& [name, c] : p->engine->connections()) {
        std::cout << name << "  connector " << c.connector << "\n";
        for (const auto& [sname, s] : c.streams) {
          auto q = pending.find(name + "/" + sname);
          std::cout << "  " << sname << "  " << (s.entity ? s.entity->name : "documents of " + s.documents) << "  " << s.direction
                    << (s.schedule_s ? "  every " + std::to_string(s.schedule_s) + " s" : "  on demand")
                    << "  pending pushes " << (q == pending.end() ? 0 : q->second) << "\n";
        }
      }
      return 0;
    }
    if (what == "check") {
      if (!need(1, "check CONN")) return 2;
      auto p = open_sync(ctx);
      std::string detail, problem = p->engine->check(positional_args[0], &detail);
      if (!problem.empty()) {
        std::cerr << positional_args[0] << ": " << problem << "\n";
        return 1;
      }
      std::cout << positional_args[0] << ": ok — " << detail << "\n";
      return 0;
    }
    if (what == "run") {
      if (!need(1, "run CONN [--stream S] [--dry-run]")) return 2;
      auto p = open_sync(ctx);
      const bool tty = ::isatty(STDERR_FILENO) != 0;
      auto progress = [tty](const annex::sync::RunReport& r) {
        if (r.status == "running") {
          if (tty) std::cerr << "\r\033[K" << run_line(r) << std::flush;
          else std::cerr << run_line(r) << "\n";
        } else if (tty) {
          std::cerr << "\r\033[K";
        }
      };
      int failed = 0, waiting = 0;
      for (const auto& r : p->engine->run(positional_args[0], stream, dry_run, progress)) {
        if (r.status == "waiting") {
          std::cout << r.connection << "/" << r.stream << " push: nothing sent — " << r.error << "\n";
          ++waiting;
          continue;
        }
        std::cout << run_line(r) << (r.status == "failed" ? " — FAILED: " + r.error : "") << "\n";
        failed += r.status == "failed";
        if (dry_run) {
          for (const auto& d : r.diff) std::cout << "  " << d.dump() << "\n";
        }
      }
      return failed ? 1 : waiting ? 3 : 0;
    }
    if (what == "status" || what == "history") {
      auto p = open_sync(ctx);
      std::string connection = positional_args.empty() ? "" : positional_args[0];
      auto runs = p->engine->history(connection, what == "status" ? 1000 : limit);
      std::set<std::string> shown;
      for (const auto& r : runs) {
        std::string key = r.connection + "/" + r.stream + "/" + r.direction;
        if (what == "status" && !shown.insert(key).second) continue;
        std::cout << r.started_at << "  " << r.status << "  " << run_line(r) << (r.daemon.empty() ? "" : " [" + r.daemon + "]")
                  << (r.error.empty() ? "" : " — " + r.error) << "\n";
      }
      if (what == "status") {
        for (const auto& [key, n] : p->engine->pending()) std::cout << "pending pushes " << key << ": " << n << "\n";
        std::cout << "dead letters awaiting replay: " << p->engine->dead_letters(connection, false).size() << "\n";
      }
      return 0;
    }
    if (what == "reconcile") {
      if (!need(1, "reconcile CONN [--stream S]")) return 2;
      auto p = open_sync(ctx);
      nlohmann::json report = p->engine->reconcile(positional_args[0], stream);
      int64_t differing = 0;
      for (const auto& st : report["streams"]) {
        std::cout << positional_args[0] << "/" << st["stream"].get<std::string>() << ": " << st["compared"] << " compared, "
                  << st["matching"] << " matching, " << st["different_count"] << " different, " << st["only_remote_count"]
                  << " only in the remote, " << st["only_annex_count"] << " only in Annex\n";
        for (const auto& d : st["differences"]) {
          for (const auto& f : d["fields"]) {
            std::cout << "  " << d["remote_id"].get<std::string>() << "  " << f["field"].get<std::string>() << ": annex "
                      << f["annex"].dump() << ", remote " << f["remote"].dump() << "\n";
          }
        }
        for (const auto& r : st["only_remote"]) std::cout << "  only in the remote: " << r.get<std::string>() << "\n";
        for (const auto& r : st["only_annex"]) {
          if (r["remote_id"].is_null()) std::cout << "  only in Annex, never carried to the remote: " << r["record_id"].get<std::string>() << "\n";
          else std::cout << "  only in Annex: " << r["remote_id"].get<std::string>() << "\n";
        }
        differing += st["different_count"].get<int64_t>() + st["only_remote_count"].get<int64_t>() + st["only_annex_count"].get<int64_t>();
      }
      return differing ? 3 : 0;
    }
    if (what == "dead-letters") {
      if (positional_args.empty() || (positional_args[0] != "list" && positional_args[0] != "replay")) {
        std::cerr << "annexctl sync dead-letters: list [CONN] | replay SEQ\n";
        return 2;
      }
      auto p = open_sync(ctx);
      if (positional_args[0] == "list") {
        auto letters = p->engine->dead_letters(positional_args.size() > 1 ? positional_args[1] : "", false);
        for (const auto& d : letters) {
          std::cout << d.seq << "  " << d.created_at << "  " << d.connection << "/" << d.stream << " " << d.direction
                    << "  " << d.reason << "\n    " << d.record << "\n";
        }
        if (letters.empty()) std::cout << "no dead letters\n";
        return 0;
      }
      if (positional_args.size() != 2) {
        std::cerr << "annexctl sync dead-letters replay SEQ\n";
        return 2;
      }
      std::string problem = p->engine->replay(std::stoll(positional_args[1]));
      if (!problem.empty()) {
        std::cerr << "dead letter " << positional_args[1] << " failed again: " << problem << "\n";
        return 1;
      }
      std::cout << "dead letter " << positional_args[1] << " replayed\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "annexctl sync " << what << ": " << e.what() << "\n";
    return 1;
  }
  return 2;
}

// The demo, loaded through the API of an annexd started here on a loopback port of its own, against the same store
// (the daemon of the installation may be running too): the system administrator "admin" (made, with the demo
// password, if the store has none) creates everything else; the tokens the load uses are revoked at its end.
int demo_load(Context& ctx, const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << "annexctl demo load — fill an empty store with a demo company\n\nUsage: annexctl demo load\n\n"
                 "Everyone it creates signs in with the password \"" << annex::app::kDemoPassword << "\".\n";
    return 0;
  }
  if (!args.empty()) {
    std::cerr << "annexctl demo load: takes no arguments\n";
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> issued;  // token id, user id
  try {
    auto db = open_migrated(ctx);
    annex::auth::IdentityStore store(*db);
    for (const annex::app::DemoPerson& p : annex::app::demo_people()) {
      if (store.find_by_login(p.login)) {
        std::cerr << "annexctl demo load: the store already has the demo's user " << p.login << "; load it into an empty store\n";
        return 1;
      }
    }
    if (!store.find_by_login("admin")) {
      annex::auth::User admin = store.create_user("admin", "System administrator", "", annex::app::kDemoPassword,
                                                  ctx.settings.auth.pbkdf2_iterations);
      store.ensure_sector("hq", "Headquarters");
      store.add_membership(admin.id, "hq");  // its home sector, where records it creates belong
      store.assign_role(admin.id, "system-admin", "*");
    }
    annex::config::Settings settings = ctx.settings;
    settings.http.host = "127.0.0.1";
    settings.http.port = 0;
    settings.http.ui_dir = "none";
    annex::app::Daemon daemon(settings);
    daemon.start();
    auto token_for = [&](const std::string& login) {
      std::optional<annex::auth::User> user = store.find_by_login(login);
      if (!user) throw std::runtime_error("no user " + login);
      annex::auth::IssuedToken t = store.issue_token(user->id, "api", "demo load", 3600);
      issued.emplace_back(t.token.id, user->id);
      return t.secret;
    };
    try {
      annex::app::load_demo(daemon.base_url(), token_for, std::cout);
    } catch (const std::exception& e) {
      // Said first: stopping the daemon may end the process when a request of its own does not finish in time.
      std::cerr << "annexctl demo load: " << e.what() << "\n" << std::flush;
      for (const auto& [token, user] : issued) store.revoke(token, user);
      daemon.stop();
      return 1;
    }
    for (const auto& [token, user] : issued) store.revoke(token, user);
    daemon.stop();
    std::cout << "The demo company is loaded. Sign in as admin, or as any of:\n";
    for (const annex::app::DemoPerson& p : annex::app::demo_people()) {
      std::cout << "  " << std::left << std::setw(14) << p.login << " " << p.role << (p.sector.empty() ? "" : " (" + p.sector + ")") << "\n";
    }
    std::cout << "with the password \"" << annex::app::kDemoPassword << "\".\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "annexctl demo load: " << e.what() << "\n";
    return 1;
  }
}

int token_create(Context& ctx, const std::vector<std::string>& args) {
  po::options_description options("Options");
  std::string login, name = "annexctl";
  long long days = 0;
  options.add_options()
      ("login", po::value(&login)->required(), "whose token (or the first argument)")
      ("name,n", po::value(&name), "what the token is for")
      ("expires-days", po::value(&days), "days until it expires (default: never)");
  po::positional_options_description positional;
  positional.add("login", 1);
  po::variables_map vm;
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << "annexctl token create — create an API token and print its secret once\n\nUsage: annexctl token create LOGIN [options]\n\n" << options;
    return 0;
  }
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "annexctl token create: " << e.what() << "\n";
    return 2;
  }
  if (days < 0 || days > 3650) {
    std::cerr << "annexctl token create: --expires-days must be 1 to 3650\n";
    return 2;
  }
  try {
    auto db = open_migrated(ctx);
    annex::auth::IdentityStore store(*db);
    auto user = store.find_by_login(login);
    if (!user) {
      std::cerr << "annexctl token create: no user " << login << "\n";
      return 1;
    }
    annex::auth::IssuedToken issued = store.issue_token(user->id, "api", name, days * 86400);
    // The secret alone on stdout, so that scripts can capture it; it is not stored and cannot be shown again.
    std::cout << issued.secret << std::endl;
    std::cerr << "token " << issued.token.id << " for " << login << (days ? " expires " + issued.token.expires_at : "")
              << "; keep the secret now, it is not shown again\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "annexctl: " << e.what() << "\n";
    return 1;
  }
}

int config_check(Context& ctx, const std::vector<std::string>& args) {
  po::options_description options("Options");
  po::variables_map vm;
  if (int rc = parse_command("config check", "validate the configuration", options, args, vm); rc >= 0) return rc;
  annex::plugin_host::PluginHost host({});
  host.load(annex::app::effective_plugin_dirs(ctx.settings), ctx.settings.plugin_config, ctx.settings.disabled_plugins);
  int bad = 0;
  for (const auto& p : host.plugins()) {
    if (p.state == "failed" && p.error.rfind("invalid configuration", 0) == 0) {
      std::cerr << "annexctl: config: " << p.error.substr(std::string("invalid configuration: ").size()) << "\n";
      ++bad;
    }
  }
  for (const auto& w : host.warnings()) std::cerr << "annexctl: warning: " << w << "\n";
  if (bad) return 2;
  std::cout << "configuration is valid\n";
  return 0;
}

// Index of the first argument that is not a global option or its value: where the command begins.
int command_start(int argc, char** argv, const po::options_description& global) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.empty() || arg[0] != '-') return i;
    if (arg.find('=') != std::string::npos) continue;
    std::string name = arg.rfind("--", 0) == 0 ? arg.substr(2) : arg.substr(1);
    const po::option_description* d = global.find_nothrow(name, false, false, arg.rfind("--", 0) != 0);
    if (d != nullptr && d->semantic()->max_tokens() > 0) ++i;  // its value
  }
  return argc;
}

}  // namespace

int main(int argc, char** argv) {
  Context ctx;
  po::options_description global("Global options");
  annex::app::add_common_options(global, ctx.flags);
  global.add_options()("help,h", "this help")("version", "print the version");
  int split = command_start(argc, argv, global);
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(split, argv, global), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "annexctl: " << e.what() << "\n";
    return 2;
  }
  std::vector<std::string> words(argv + split, argv + argc);
  if (words.empty()) {
    if (vm.count("version")) {
      std::cout << "annexctl " << annex::app::version() << "\n";
      return 0;
    }
    std::cout << kUsage << "\n" << global;
    return vm.count("help") ? 0 : 2;
  }
  std::map<std::string, Command> commands = {
      {"plugins list", plugins_list},
      {"migrate status", [](Context& c, const std::vector<std::string>& a) { return migrate(c, a, false); }},
      {"migrate apply", [](Context& c, const std::vector<std::string>& a) { return migrate(c, a, true); }},
      {"config check", config_check},
      {"user create", user_create},
      {"user disable", [](Context& c, const std::vector<std::string>& a) { return user_status(c, a, "disabled", "user disable"); }},
      {"user freeze", [](Context& c, const std::vector<std::string>& a) { return user_status(c, a, "frozen", "user freeze"); }},
      {"user activate", [](Context& c, const std::vector<std::string>& a) { return user_status(c, a, "active", "user activate"); }},
      {"token create", token_create},
      {"demo load", demo_load},
      {"audit verify", audit_verify},
      {"sync connections", [](Context& c, const std::vector<std::string>& a) { return sync_command(c, a, "connections"); }},
      {"sync check", [](Context& c, const std::vector<std::string>& a) { return sync_command(c, a, "check"); }},
      {"sync run", [](Context& c, const std::vector<std::string>& a) { return sync_command(c, a, "run"); }},
      {"sync status", [](Context& c, const std::vector<std::string>& a) { return sync_command(c, a, "status"); }},
      {"sync history", [](Context& c, const std::vector<std::string>& a) { return sync_command(c, a, "history"); }},
      {"sync dead-letters", [](Context& c, const std::vector<std::string>& a) { return sync_command(c, a, "dead-letters"); }},
      {"sync reconcile", [](Context& c, const std::vector<std::string>& a) { return sync_command(c, a, "reconcile"); }},
      {"audit export", audit_export},
  };
  std::string name = words[0] + (words.size() > 1 && words[1][0] != '-' ? " " + words[1] : "");
  auto it = commands.find(name);
  if (it == commands.end()) {
    // A group without its subcommand ("annexctl sync --help"): list the group's commands from the usage.
    std::string group;
    std::istringstream lines(kUsage);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("  " + words[0] + " ", 0) == 0) group += line + "\n";
    }
    if (!group.empty()) {
      bool help = std::find(words.begin(), words.end(), "--help") != words.end() ||
                  std::find(words.begin(), words.end(), "-h") != words.end();
      (help ? std::cout : std::cerr) << (help ? "" : "annexctl " + words[0] + ": which one?\n\n") << "Usage: annexctl "
                                     << words[0] << " SUBCOMMAND [options]\n\n" << group
                                     << "\nRun \"annexctl " << words[0] << " SUBCOMMAND --help\" for its options.\n";
      return help ? 0 : 2;
    }
    std::cerr << "annexctl: unknown command \"" << name << "\"\n\n" << kUsage;
    return 2;
  }
  if (!annex::app::load_settings_from(ctx.flags, ctx.settings, std::cerr, "annexctl")) return 2;
  annex::log::init(ctx.settings.log.level == "info" ? "warn" : ctx.settings.log.level, "");
  std::vector<std::string> args(words.begin() + (name.find(' ') == std::string::npos ? 1 : 2), words.end());
  return it->second(ctx, args);
}

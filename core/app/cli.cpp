#include "app/cli.h"

#include "app/daemon.h"
#include "approvals/approvals.h"
#include "sync/engine.h"

#include <boost/program_options.hpp>

#include <cstdlib>

namespace po = boost::program_options;

namespace annex::app {

void add_common_options(po::options_description& options, CommonFlags& flags) {
  options.add_options()
      ("config,c", po::value(&flags.config_file)->value_name("FILE"), "configuration file (JSON); default $ANNEX_CONFIG")
      ("data-dir,d", po::value(&flags.data_dir)->value_name("DIR"), "data directory (SQLite store, logs)")
      ("listen,l", po::value(&flags.listen)->value_name("HOST:PORT"), "address the HTTP server binds")
      ("database-url", po::value(&flags.database_url)->value_name("URL"), "sqlite:PATH or postgresql://USER@HOST:PORT/DB")
      ("plugin-dir,p", po::value(&flags.plugin_dirs)->value_name("DIR")->composing(), "plugin directory (repeatable; replaces the configured list)")
      ("log-level", po::value(&flags.log_level)->value_name("LEVEL"), "trace, debug, info, warn or error")
      ("set", po::value(&flags.sets)->value_name("KEY=VALUE")->composing(), "set any configuration key (repeatable)");
}

bool load_settings_from(const CommonFlags& flags, config::Settings& out, std::ostream& err, const std::string& prefix) {
  config::SettingsSources sources;
  sources.config_file = flags.config_file;
  if (sources.config_file.empty()) {
    if (const char* env = std::getenv("ANNEX_CONFIG")) sources.config_file = env;
  }
  sources.env = config::annex_environment();
  for (const std::string& s : flags.sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos) {
      err << prefix << ": --set " << s << ": expected KEY=VALUE\n";
      return false;
    }
    sources.overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  if (!flags.data_dir.empty()) sources.overrides.emplace_back("data_dir", flags.data_dir);
  if (!flags.listen.empty()) sources.overrides.emplace_back("listen", flags.listen);
  if (!flags.database_url.empty()) sources.overrides.emplace_back("database.url", flags.database_url);
  if (!flags.log_level.empty()) sources.overrides.emplace_back("log.level", flags.log_level);
  if (!flags.plugin_dirs.empty()) {
    std::string joined;
    for (const auto& d : flags.plugin_dirs) joined += (joined.empty() ? "" : ":") + d;
    sources.overrides.emplace_back("plugin_dirs", joined);
  }
  auto problems = config::load_settings(sources, out);
  for (const auto& p : problems) err << prefix << ": config: " << p.key << ": " << p.message << "\n";
  if (!problems.empty()) return false;
  // Approval chains are linted against the roles: a chain that could complete without an independent approver
  // stops start-up.
  auto lint = approvals::parse_chains(out.approvals_json, role_catalog(out), nullptr);
  for (const auto& p : lint) err << prefix << ": config: " << p.path << ": " << p.message << "\n";
  if (!lint.empty()) return false;
  try {
    sync::parse_sync_config(out.sync_json);
  } catch (const std::invalid_argument& e) {
    err << prefix << ": config: " << e.what() << "\n";
    return false;
  }
  return true;
}

}  // namespace annex::app

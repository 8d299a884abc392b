// The flags annexd and annexctl share, and how they layer over the configuration file and the environment.
#pragma once

#include "config/settings.h"

#include <boost/program_options/options_description.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace annex::app {

struct CommonFlags {
  std::string config_file;
  std::string data_dir;
  std::string listen;
  std::string database_url;
  std::string log_level;
  std::vector<std::string> plugin_dirs;
  std::vector<std::string> sets;  // key=value
};

// Adds --config, --data-dir, --listen, --database-url, --plugin-dir, --log-level and --set.
void add_common_options(boost::program_options::options_description& options, CommonFlags& flags);

// Loads the settings: the file (--config, else $ANNEX_CONFIG), then ANNEX_* variables, then the flags.
// On problems writes one line per problem ("<prefix>: config: <key>: <message>") to `err` and returns false.
bool load_settings_from(const CommonFlags& flags, config::Settings& out, std::ostream& err, const std::string& prefix);

}  // namespace annex::app

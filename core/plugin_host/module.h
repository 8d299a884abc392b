// PluginModule — a plugin library opened with dlopen and its descriptor read and checked. Opening runs none of
// the plugin's code beyond its static initialisers and annex_plugin_query_v1(). Libraries are never closed:
// unloading code that may still be referenced (a thread, an atexit handler) is how plugin hosts crash.
#pragma once

#include "plugin_host/manifest.h"

#include <annex/plugin.h>

#include <string>
#include <vector>

namespace annex::plugin_host {

struct PluginModule {
  std::string path;
  const annex_plugin_descriptor* descriptor = nullptr;
  std::string id;
  std::string version_text;
  Version version;
  annex_plugin_kind kind = ANNEX_KIND_CAPABILITY;
  Manifest manifest;
};

// Checks a descriptor against this host's ABI: struct size, ABI major (must equal) and minor (must not be
// newer), id, version, kind, lifecycle functions. Returns "" when acceptable, or a message naming the plugin,
// what it was built for and what this host expects.
std::string check_descriptor(const annex_plugin_descriptor* d, const std::string& path, uint16_t host_major,
                             uint16_t host_minor);

// Opens `path`, reads and checks its descriptor and manifest. On failure returns false with *error naming the
// file (and the plugin, once its id is known).
bool open_module(const std::string& path, PluginModule* out, std::string* error);

// Reads a descriptor already in memory (used for plugins linked into a test binary).
bool describe_module(const annex_plugin_descriptor* d, const std::string& path, PluginModule* out, std::string* error);

// Lists the *.so files in `dirs` (not recursive), sorted by name within each directory.
std::vector<std::string> discover_modules(const std::vector<std::string>& dirs, std::vector<std::string>* warnings);

}  // namespace annex::plugin_host

#include "plugin_host/module.h"

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>

namespace annex::plugin_host {

std::string check_descriptor(const annex_plugin_descriptor* d, const std::string& path, uint16_t host_major,
                             uint16_t host_minor) {
  if (d == nullptr) return path + ": annex_plugin_query_v1() returned no descriptor";
  // The smallest descriptor ABI 1.0 defines ends with destroy; a shorter one cannot be trusted.
  if (d->struct_size < offsetof(annex_plugin_descriptor, destroy) + sizeof(d->destroy)) {
    return path + ": descriptor is " + std::to_string(d->struct_size) + " bytes, smaller than ABI 1.0's " +
           std::to_string(offsetof(annex_plugin_descriptor, destroy) + sizeof(d->destroy));
  }
  std::string who = d->id != nullptr ? std::string("plugin ") + d->id + " (" + path + ")" : path;
  std::string found = std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor);
  std::string host = std::to_string(host_major) + "." + std::to_string(host_minor);
  if (d->abi_major != host_major) {
    return who + ": built for plugin ABI " + found + ", but this host speaks ABI " + host +
           " (the major version must match); rebuild it against the matching SDK";
  }
  if (d->abi_minor > host_minor) {
    return who + ": built for plugin ABI " + found + ", newer than this host's ABI " + host +
           "; upgrade annexd or rebuild the plugin against an SDK of ABI " + host;
  }
  if (d->id == nullptr || !is_reverse_dns(d->id)) {
    return who + ": id \"" + (d->id ? d->id : "") + "\" is not a reverse-DNS name like org.example.thing";
  }
  if (d->version == nullptr || !Version::parse(d->version)) {
    return who + ": version \"" + (d->version ? d->version : "") + "\" is not a semantic version like 1.2.3";
  }
  if (d->kind != ANNEX_KIND_CAPABILITY && d->kind != ANNEX_KIND_CONNECTOR) {
    return who + ": kind " + std::to_string(d->kind) + " is neither capability (1) nor connector (2)";
  }
  if (d->create == nullptr || d->on_register == nullptr || d->start == nullptr || d->stop == nullptr ||
      d->destroy == nullptr) {
    return who + ": a lifecycle function (create, on_register, start, stop, destroy) is missing";
  }
  if (d->manifest_json == nullptr) return who + ": manifest_json is missing";
  if (d->migration_count > 0 && d->migrations == nullptr) return who + ": migration_count without migrations";
  return {};
}

bool describe_module(const annex_plugin_descriptor* d, const std::string& path, PluginModule* out, std::string* error) {
  std::string problem = check_descriptor(d, path, ANNEX_ABI_MAJOR, ANNEX_ABI_MINOR);
  if (!problem.empty()) {
    *error = problem;
    return false;
  }
  out->path = path;
  out->descriptor = d;
  out->id = d->id;
  out->version_text = d->version;
  out->version = *Version::parse(d->version);
  out->kind = static_cast<annex_plugin_kind>(d->kind);
  std::string why;
  if (!parse_manifest(d->manifest_json, &out->manifest, &why)) {
    *error = "plugin " + out->id + " (" + path + "): " + why;
    return false;
  }
  return true;
}

bool open_module(const std::string& path, PluginModule* out, std::string* error) {
  // RTLD_LOCAL keeps each plugin's symbols to itself; RTLD_NOW reports a missing symbol here, not mid-request.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    *error = path + ": cannot load: " + (why ? why : "unknown error");
    return false;
  }
  auto query = reinterpret_cast<annex_plugin_query_fn>(dlsym(handle, ANNEX_PLUGIN_QUERY_SYMBOL));
  if (query == nullptr) {
    *error = path + ": does not export " ANNEX_PLUGIN_QUERY_SYMBOL "; is it an Annex plugin?";
    return false;
  }
  return describe_module(query(), path, out, error);
}

std::vector<std::string> discover_modules(const std::vector<std::string>& dirs, std::vector<std::string>* warnings) {
  std::vector<std::string> out;
  for (const std::string& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      if (warnings) warnings->push_back("plugin directory " + dir + " does not exist");
      continue;
    }
    std::vector<std::string> here;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".so") here.push_back(entry.path().string());
    }
    std::sort(here.begin(), here.end());
    out.insert(out.end(), here.begin(), here.end());
  }
  return out;
}

}  // namespace annex::plugin_host

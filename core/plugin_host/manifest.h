// Manifest — what a plugin declares about itself in its descriptor's manifest_json: name, the plugins it
// requires (with version ranges), the services it uses and provides, and its configuration schema.
#pragma once

#include "plugin_host/semver.h"

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace annex::plugin_host {

struct Requirement {
  std::string id;
  VersionRange range;
};

struct ServiceUse {
  std::string name;  // "annex.db"
  uint32_t major = 0;
};

struct Manifest {
  std::string name;
  std::string description;
  std::vector<Requirement> requirements;
  std::vector<ServiceUse> uses;
  std::vector<ServiceUse> provides;  // services the plugin offers other plugins (never in the host's "annex." space)
  Poco::JSON::Object::Ptr config_schema;  // may be null
};

// Parses and checks a manifest. Returns false and sets *error (naming the member at fault) on failure.
bool parse_manifest(std::string_view json, Manifest* out, std::string* error);

// True when `id` is a reverse-DNS name: at least two dot-separated labels of [a-z0-9-_], starting with a letter.
bool is_reverse_dns(std::string_view id);

}  // namespace annex::plugin_host

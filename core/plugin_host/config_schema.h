// A plugin's configuration is checked against the "config_schema" of its manifest before create() sees it.
// The schema is a subset of JSON Schema — type (object, string, integer, number, boolean, array), properties,
// required, default, enum, minimum, maximum, minLength, maxLength, items, minItems, maxItems,
// additionalProperties (true, false or a schema for the values of unlisted keys) — enough for configuration, and
// small enough to check by hand in one file rather than pull in a validator library that Debian does not package
// for Poco::JSON. One deliberate difference from JSON Schema: an object schema that lists "properties" refuses
// keys it does not list unless additionalProperties says otherwise, so that a misspelt key is reported.
#pragma once

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include <string>
#include <vector>

namespace annex::plugin_host {

struct SchemaProblem {
  std::string path;  // "plugins.org.annex.hello.tick_seconds"
  std::string message;
};

// Validates `value` against `schema`, filling in defaults for absent object members. Returns every problem;
// `value` is only meaningful when none are returned. `path` prefixes the reported paths.
std::vector<SchemaProblem> apply_schema(const Poco::JSON::Object::Ptr& schema, Poco::Dynamic::Var& value,
                                        const std::string& path);

// Checks that a schema itself uses only the supported keywords; returns problems naming the keyword.
std::vector<SchemaProblem> check_schema(const Poco::JSON::Object::Ptr& schema, const std::string& path);

}  // namespace annex::plugin_host

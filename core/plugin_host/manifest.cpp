#include "plugin_host/manifest.h"

#include "plugin_host/config_schema.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <charconv>

namespace annex::plugin_host {

bool is_reverse_dns(std::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  int labels = 0;
  size_t start = 0;
  while (start <= id.size()) {
    size_t dot = id.find('.', start);
    std::string_view label = id.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || !(label[0] >= 'a' && label[0] <= 'z')) return false;
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

bool parse_manifest(std::string_view json, Manifest* out, std::string* error) {
  Poco::JSON::Object::Ptr root;
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var v = parser.parse(std::string(json));
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) {
      *error = "manifest: must be a JSON object";
      return false;
    }
    root = v.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    *error = "manifest: not valid JSON: " + e.displayText();
    return false;
  }
  try {
    out->name = root->optValue<std::string>("name", "");
    out->description = root->optValue<std::string>("description", "");
    if (root->has("requires")) {
      Poco::JSON::Object::Ptr req = root->getObject("requires");
      if (!req) {
        *error = "manifest.requires: must be an object of plugin id → version range";
        return false;
      }
      for (const auto& [id, range] : *req) {
        if (!range.isString()) {
          *error = "manifest.requires." + id + ": must be a version range string";
          return false;
        }
        std::string why;
        auto parsed = VersionRange::parse(range.extract<std::string>(), &why);
        if (!parsed) {
          *error = "manifest.requires." + id + ": " + why;
          return false;
        }
        out->requirements.push_back({id, *parsed});
      }
    }
    // "uses" and "provides": arrays of "service@major".
    auto services = [&](const char* member, std::vector<ServiceUse>* list, const char* example) {
      if (!root->has(member)) return true;
      Poco::JSON::Array::Ptr items = root->getArray(member);
      if (!items) {
        *error = std::string("manifest.") + member + ": must be an array of \"service@major\" strings";
        return false;
      }
      for (const auto& item : *items) {
        std::string text = item.toString();
        auto at = text.find('@');
        uint32_t major = 0;
        if (!item.isString() || at == std::string::npos ||
            std::from_chars(text.data() + at + 1, text.data() + text.size(), major).ec != std::errc() || major == 0) {
          *error = std::string("manifest.") + member + ": \"" + text + "\" must be written service@major, e.g. " + example;
          return false;
        }
        list->push_back({text.substr(0, at), major});
      }
      return true;
    };
    if (!services("uses", &out->uses, "annex.db@1")) return false;
    if (!services("provides", &out->provides, "org.example.widgets@1")) return false;
    for (const ServiceUse& p : out->provides) {
      if (!is_reverse_dns(p.name) || p.name.rfind("annex.", 0) == 0) {
        *error = "manifest.provides: \"" + p.name + "\" must be a reverse-DNS name outside the host's \"annex.\" "
                 "services, e.g. org.example.widgets";
        return false;
      }
    }
    if (root->has("config_schema")) {
      out->config_schema = root->getObject("config_schema");
      if (!out->config_schema) {
        *error = "manifest.config_schema: must be an object";
        return false;
      }
      auto problems = check_schema(out->config_schema, "manifest.config_schema");
      if (!problems.empty()) {
        *error = problems.front().path + ": " + problems.front().message;
        return false;
      }
    }
  } catch (const Poco::Exception& e) {
    *error = "manifest: " + e.displayText();
    return false;
  }
  return true;
}

}  // namespace annex::plugin_host

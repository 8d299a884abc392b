#include "plugin_host/config_schema.h"

#include <Poco/JSON/Array.h>

#include <set>

namespace annex::plugin_host {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

bool is_object(const Var& v) { return v.type() == typeid(Object::Ptr); }
bool is_array(const Var& v) { return v.type() == typeid(Array::Ptr); }

std::string type_of(const Var& v) {
  if (v.isEmpty()) return "null";
  if (is_object(v)) return "object";
  if (is_array(v)) return "array";
  if (v.isBoolean()) return "boolean";
  if (v.isInteger()) return "integer";
  if (v.isNumeric()) return "number";
  if (v.isString()) return "string";
  return "unknown";
}

bool matches_type(const std::string& want, const Var& v) {
  std::string got = type_of(v);
  return want == got || (want == "number" && got == "integer");
}

std::string join(const std::string& path, const std::string& name) { return path.empty() ? name : path + "." + name; }

std::string known_keys(const Object& props) {
  std::string out;
  for (const auto& name : props.getNames()) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

}  // namespace

std::vector<SchemaProblem> check_schema(const Object::Ptr& schema, const std::string& path) {
  static const std::set<std::string> known = {"type", "properties", "required", "default", "enum", "minimum",
                                              "maximum", "minLength", "maxLength", "items", "description",
                                              "additionalProperties", "title", "minItems", "maxItems"};
  std::vector<SchemaProblem> problems;
  if (!schema) return problems;
  for (const auto& [key, value] : *schema) {
    if (!known.count(key)) problems.push_back({join(path, key), "unsupported schema keyword"});
  }
  if (schema->has("properties")) {
    Var props = schema->get("properties");
    if (!is_object(props)) {
      problems.push_back({join(path, "properties"), "must be an object"});
    } else {
      for (const auto& [name, sub] : *props.extract<Object::Ptr>()) {
        if (!is_object(sub)) {
          problems.push_back({join(path, "properties." + name), "must be a schema object"});
          continue;
        }
        auto more = check_schema(sub.extract<Object::Ptr>(), join(path, "properties." + name));
        problems.insert(problems.end(), more.begin(), more.end());
      }
    }
  }
  if (schema->has("items") && is_object(schema->get("items"))) {
    auto more = check_schema(schema->getObject("items"), join(path, "items"));
    problems.insert(problems.end(), more.begin(), more.end());
  }
  if (schema->has("additionalProperties")) {
    Var extra = schema->get("additionalProperties");
    if (is_object(extra)) {
      auto more = check_schema(extra.extract<Object::Ptr>(), join(path, "additionalProperties"));
      problems.insert(problems.end(), more.begin(), more.end());
    } else if (!extra.isBoolean()) {
      problems.push_back({join(path, "additionalProperties"), "must be true, false or a schema object"});
    }
  }
  for (const char* count : {"minItems", "maxItems", "minLength", "maxLength"}) {
    if (schema->has(count)) {
      Var n = schema->get(count);
      if (!n.isInteger() || n.convert<int64_t>() < 0) problems.push_back({join(path, count), "must be a non-negative integer"});
    }
  }
  return problems;
}

std::vector<SchemaProblem> apply_schema(const Object::Ptr& schema, Var& value, const std::string& path) {
  std::vector<SchemaProblem> problems;
  if (!schema) return problems;
  auto fail = [&](const std::string& message) { problems.push_back({path, message}); };

  if (schema->has("type")) {
    std::string want = schema->getValue<std::string>("type");
    if (!matches_type(want, value)) {
      fail("must be of type " + want + ", got " + type_of(value));
      return problems;
    }
  }
  if (schema->has("enum")) {
    bool found = false;
    for (const auto& option : *schema->getArray("enum")) {
      if (option.toString() == value.toString() && type_of(option) == type_of(value)) found = true;
    }
    if (!found) fail("must be one of " + schema->get("enum").toString());
  }
  if (value.isNumeric()) {
    double v = value.convert<double>();
    if (schema->has("minimum") && v < schema->getValue<double>("minimum")) {
      fail("must be at least " + schema->get("minimum").toString());
    }
    if (schema->has("maximum") && v > schema->getValue<double>("maximum")) {
      fail("must be at most " + schema->get("maximum").toString());
    }
  }
  if (value.isString()) {
    size_t len = value.extract<std::string>().size();
    if (schema->has("minLength") && len < schema->getValue<size_t>("minLength")) {
      fail("must be at least " + schema->get("minLength").toString() + " characters long");
    }
    if (schema->has("maxLength") && len > schema->getValue<size_t>("maxLength")) {
      fail("must be at most " + schema->get("maxLength").toString() + " characters long");
    }
  }
  if (is_object(value)) {
    Object::Ptr obj = value.extract<Object::Ptr>();
    Object::Ptr props = schema->has("properties") ? schema->getObject("properties") : nullptr;
    if (props) {
      for (const auto& [name, sub] : *props) {
        Object::Ptr subschema = sub.extract<Object::Ptr>();
        if (!obj->has(name)) {
          if (subschema->has("default")) obj->set(name, subschema->get("default"));
          continue;
        }
        Var member = obj->get(name);
        auto more = apply_schema(subschema, member, join(path, name));
        problems.insert(problems.end(), more.begin(), more.end());
        obj->set(name, member);
      }
    }
    if (schema->has("required")) {
      for (const auto& name : *schema->getArray("required")) {
        if (!obj->has(name.toString())) problems.push_back({join(path, name.toString()), "is required"});
      }
    }
    // Keys the schema does not list: checked against additionalProperties when it is a schema, allowed when it
    // is true, and otherwise (false, or absent while "properties" lists the keys) refused — a misspelt key is
    // an error, not a setting silently ignored.
    Var extra = schema->has("additionalProperties") ? schema->get("additionalProperties") : Var(props.isNull());
    for (const auto& name : obj->getNames()) {
      if (props && props->has(name)) continue;
      if (is_object(extra)) {
        Var member = obj->get(name);
        auto more = apply_schema(extra.extract<Object::Ptr>(), member, join(path, name));
        problems.insert(problems.end(), more.begin(), more.end());
        obj->set(name, member);
      } else if (!extra.convert<bool>()) {
        problems.push_back({join(path, name), "unknown key" + (props ? " (known: " + known_keys(*props) + ")" : "")});
      }
    }
  }
  if (is_array(value)) {
    size_t n = value.extract<Array::Ptr>()->size();
    if (schema->has("minItems") && n < schema->getValue<size_t>("minItems")) {
      fail("must have at least " + schema->get("minItems").toString() + " item(s)");
    }
    if (schema->has("maxItems") && n > schema->getValue<size_t>("maxItems")) {
      fail("must have at most " + schema->get("maxItems").toString() + " item(s)");
    }
  }
  if (is_array(value) && schema->has("items")) {
    Array::Ptr arr = value.extract<Array::Ptr>();
    for (size_t i = 0; i < arr->size(); ++i) {
      Var item = arr->get(static_cast<unsigned>(i));
      auto more = apply_schema(schema->getObject("items"), item, path + "[" + std::to_string(i) + "]");
      problems.insert(problems.end(), more.begin(), more.end());
      arr->set(static_cast<unsigned>(i), item);
    }
  }
  return problems;
}

}  // namespace annex::plugin_host

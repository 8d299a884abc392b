#include "http/openapi.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace annex::http {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr error_response(const std::string& description) {
  Object::Ptr ref = new Object;
  ref->set("$ref", "#/components/schemas/Error");
  Object::Ptr json = new Object;
  json->set("schema", ref);
  Object::Ptr content = new Object;
  content->set("application/json", json);
  Object::Ptr r = new Object;
  r->set("description", description);
  r->set("content", content);
  return r;
}

Object::Ptr error_schema() {
  auto str = [](bool nullable) {
    Object::Ptr s = new Object;
    s->set("type", "string");
    if (nullable) s->set("nullable", true);
    return s;
  };
  Object::Ptr inner_props = new Object;
  inner_props->set("code", str(false));
  inner_props->set("message", str(false));
  inner_props->set("field", str(true));
  Object::Ptr inner = new Object;
  inner->set("type", "object");
  inner->set("properties", inner_props);
  Array::Ptr required = new Array;
  required->add("code");
  required->add("message");
  inner->set("required", required);
  Object::Ptr props = new Object;
  props->set("error", inner);
  Object::Ptr schema = new Object;
  schema->set("type", "object");
  schema->set("properties", props);
  return schema;
}

std::string operation_id(const Route& r) {
  std::string id;
  for (char c : r.method + "_" + r.path) {
    id.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  }
  return id;
}

}  // namespace

std::string openapi_document(const Router& router, const std::string& version) {
  Object::Ptr doc = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  doc->set("openapi", "3.0.3");
  Object::Ptr info = new Object;
  info->set("title", "Annex API");
  info->set("version", version);
  info->set("description", "Routes registered by the Annex core and the plugins loaded in this daemon.");
  doc->set("info", info);

  Object::Ptr paths = new Object;
  auto routes = router.routes();
  std::sort(routes.begin(), routes.end(), [](auto& a, auto& b) { return a->path < b->path; });
  for (const auto& r : routes) {
    Object::Ptr item = paths->has(r->path) ? paths->getObject(r->path) : Object::Ptr(new Object);
    Object::Ptr op = new Object;
    op->set("summary", r->summary);
    op->set("operationId", operation_id(*r));
    Array::Ptr tags = new Array;
    tags->add(r->owner);
    op->set("tags", tags);
    if (!r->permission.empty()) op->set("x-annex-permission", r->permission);
    Array::Ptr params = new Array;
    for (const auto& s : r->segments) {
      if (s.size() > 2 && s.front() == '{') {
        Object::Ptr p = new Object;
        p->set("name", s.substr(1, s.size() - 2));
        p->set("in", "path");
        p->set("required", true);
        Object::Ptr schema = new Object;
        schema->set("type", "string");
        p->set("schema", schema);
        params->add(p);
      }
    }
    if (params->size() > 0) op->set("parameters", params);
    if (r->upload_max_bytes > 0) {
      // An upload: one file, raw or as a form's part, of the types the route takes.
      Object::Ptr binary = new Object;
      binary->set("type", "string");
      binary->set("format", "binary");
      Object::Ptr raw = new Object;
      raw->set("schema", binary);
      Object::Ptr file = new Object;
      file->set("file", binary);
      Object::Ptr form_schema = new Object;
      form_schema->set("type", "object");
      form_schema->set("properties", file);
      Object::Ptr form = new Object;
      form->set("schema", form_schema);
      Object::Ptr content = new Object;
      content->set("multipart/form-data", form);
      for (const auto& type : r->upload_types) content->set(type, raw);
      Object::Ptr body = new Object;
      body->set("content", content);
      body->set("x-annex-max-bytes", r->upload_max_bytes);
      op->set("requestBody", body);
    } else if (r->method == "POST" || r->method == "PUT" || r->method == "PATCH") {
      Object::Ptr any = new Object;
      any->set("type", "object");
      Object::Ptr json = new Object;
      json->set("schema", any);
      Object::Ptr content = new Object;
      content->set("application/json", json);
      Object::Ptr body = new Object;
      body->set("content", content);
      op->set("requestBody", body);
    }
    Object::Ptr responses = new Object;
    Object::Ptr ok = new Object;
    ok->set("description", "success");
    responses->set(r->method == "POST" ? "201" : "200", ok);
    responses->set("default", error_response("an error, in the one error shape"));
    op->set("responses", responses);
    std::string method = r->method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    item->set(method, op);
    paths->set(r->path, item);
  }
  doc->set("paths", paths);
  Object::Ptr schemas = new Object;
  schemas->set("Error", error_schema());
  Object::Ptr components = new Object;
  components->set("schemas", schemas);
  doc->set("components", components);
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(doc, out);
  return out.str();
}

}  // namespace annex::http

#include "http/json_body.h"

#include "http/api_error.h"

#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <sstream>

namespace annex::http {

Poco::JSON::Object::Ptr parse_json_object(const HttpRequest& request) {
  if (request.body.empty()) throw ApiError::bad_request("a JSON object is required", "body");
  Poco::Dynamic::Var value;
  try {
    Poco::JSON::Parser parser;
    value = parser.parse(request.body);
  } catch (const Poco::Exception& e) {
    throw ApiError::bad_request("the body is not valid JSON: " + e.message(), "body");
  }
  if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw ApiError::bad_request("the body must be a JSON object", "body");
  }
  return value.extract<Poco::JSON::Object::Ptr>();
}

std::string required_string(const Poco::JSON::Object::Ptr& body, const std::string& field, size_t max_len) {
  if (!body->has(field) || !body->get(field).isString()) {
    throw ApiError::bad_request(field + " is required and must be a string", field);
  }
  std::string value = body->getValue<std::string>(field);
  if (value.empty() || value.size() > max_len) {
    throw ApiError::unprocessable(field + " must be 1 to " + std::to_string(max_len) + " characters", field);
  }
  return value;
}

std::string optional_string(const Poco::JSON::Object::Ptr& body, const std::string& field, size_t max_len,
                            const std::string& fallback) {
  if (!body->has(field) || body->isNull(field)) return fallback;
  return required_string(body, field, max_len);
}

std::string to_json(const Poco::Dynamic::Var& value) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(value, out);
  return out.str();
}

Poco::Dynamic::Var nullable(const std::string& s) { return s.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(s); }

}  // namespace annex::http

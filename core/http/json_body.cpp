#include "http/json_body.h"

#include "http/api_error.h"

#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>

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

}  // namespace annex::http

// Request bodies as JSON objects, with the one error shape when they are not.
#pragma once

#include "http/exchange.h"

#include <Poco/JSON/Object.h>

namespace annex::http {

// Parses `request.body` as a JSON object. Throws ApiError 400 with field "body" and the parser's reason when
// the body is empty, not JSON, or JSON but not an object.
Poco::JSON::Object::Ptr parse_json_object(const HttpRequest& request);

// The string `field` of `body`: 400 when absent or not a string, 422 when empty or longer than `max_len`.
std::string required_string(const Poco::JSON::Object::Ptr& body, const std::string& field, size_t max_len);
// Like required_string, but `fallback` when the field is absent or null.
std::string optional_string(const Poco::JSON::Object::Ptr& body, const std::string& field, size_t max_len,
                            const std::string& fallback = {});

// Compact JSON text of a value (object, array …).
std::string to_json(const Poco::Dynamic::Var& value);
// A JSON null for an empty string, the string otherwise.
Poco::Dynamic::Var nullable(const std::string& s);

}  // namespace annex::http

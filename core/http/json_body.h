// Request bodies as JSON objects, with the one error shape when they are not.
#pragma once

#include "http/exchange.h"

#include <Poco/JSON/Object.h>

namespace annex::http {

// Parses `request.body` as a JSON object. Throws ApiError 400 with field "body" and the parser's reason when
// the body is empty, not JSON, or JSON but not an object.
Poco::JSON::Object::Ptr parse_json_object(const HttpRequest& request);

}  // namespace annex::http

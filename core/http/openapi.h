// Builds the OpenAPI 3.0 document served at /api/v1/openapi.json from the routes registered at that moment,
// so it always describes what this daemon, with these plugins, actually answers.
#pragma once

#include "http/router.h"

#include <string>

namespace annex::http {

std::string openapi_document(const Router& router, const std::string& version);

}  // namespace annex::http

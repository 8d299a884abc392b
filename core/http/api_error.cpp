#include "http/api_error.h"

#include "errors/field_error.h"

#include "http/exchange.h"
#include "log/logging.h"

namespace annex::http {

const char* code_for_status(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthenticated";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 412: return "precondition_failed";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    case 422: return "unprocessable";
    case 429: return "too_many_requests";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "bad_request";
  }
}

void set_error(HttpResponse& response, int status, const std::string& message, const std::string& field) {
  response.status = status;
  response.content_type = "application/json";
  response.body = error_body(code_for_status(status), message, field);
}

std::string error_body(const std::string& code, const std::string& message, const std::string& field) {
  std::string out = "{\"error\":{\"code\":\"" + log::json_escape(code) + "\",\"message\":\"" +
                    log::json_escape(message) + "\",\"field\":";
  out += field.empty() ? "null" : "\"" + log::json_escape(field) + "\"";
  return out + "}}";
}

ApiError refusal(const FieldError& e) {
  switch (e.status()) {
    case 403: return ApiError(403, "forbidden", e.what(), e.field());
    case 404: return ApiError::not_found(e.what());
    case 409: return ApiError(409, "conflict", e.what(), e.field());
    default: return ApiError::unprocessable(e.what(), e.field());
  }
}

}  // namespace annex::http

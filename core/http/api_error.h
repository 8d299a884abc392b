// ApiError — the one error shape every failure answers with:
//   {"error":{"code":"not_found","message":"no such greeting","field":null}}
// Handlers throw it; the dispatcher turns it (and storage or unexpected failures) into the response.
#pragma once

#include <stdexcept>
#include <string>

namespace annex {
class FieldError;
}

namespace annex::http {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message, std::string field = {})
      : std::runtime_error(message), status_(status), code_(std::move(code)), field_(std::move(field)) {}
  // Seconds after which trying again may succeed, sent as Retry-After (0: none).
  ApiError& retry_after(int seconds) {
    retry_after_ = seconds;
    return *this;
  }
  int retry_after() const noexcept { return retry_after_; }
  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }
  const std::string& field() const noexcept { return field_; }

  static ApiError bad_request(const std::string& message, std::string field = {}) {
    return ApiError(400, "bad_request", message, std::move(field));
  }
  static ApiError not_found(const std::string& message) { return ApiError(404, "not_found", message); }
  static ApiError unprocessable(const std::string& message, std::string field = {}) {
    return ApiError(422, "unprocessable", message, std::move(field));
  }

 private:
  int status_;
  std::string code_;
  std::string field_;
  int retry_after_ = 0;
};

// The error code conventionally used for an HTTP status.
const char* code_for_status(int status);

// Fills `response` with the error shape for `status` (code from code_for_status).
struct HttpResponse;
void set_error(HttpResponse& response, int status, const std::string& message, const std::string& field = {});

// Renders the error body.
std::string error_body(const std::string& code, const std::string& message, const std::string& field);

// The error shape of a domain refusal: its status (403, 404, 409, else 422), message and field. A 404 names no
// field, so that it says no more than "not found".
ApiError refusal(const FieldError& e);

}  // namespace annex::http

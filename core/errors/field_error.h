// FieldError — a refusal of a request by a rule of the domain, naming the input at fault and the HTTP status it
// maps to: 403 (a duty or a right), 404 (no such record), 409 (a duplicate or a state), 422 (a rule). Each
// module throws its own subclass; the HTTP layer (http::refusal) and the host services (plugin_host::refused)
// turn any of them into their error shapes the same way.
#pragma once

#include <stdexcept>
#include <string>

namespace annex {

class FieldError : public std::runtime_error {
 public:
  FieldError(std::string field, const std::string& message, int status = 422)
      : std::runtime_error(message), field_(std::move(field)), status_(status) {}
  const std::string& field() const { return field_; }
  int status() const { return status_; }

 private:
  std::string field_;
  int status_;
};

}  // namespace annex

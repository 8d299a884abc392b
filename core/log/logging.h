// Logging: spdlog to the console and, optionally, JSON lines to a file. Every line carries the id of the request
// the thread is serving (or "-"), so one request can be followed through the host and its plugins.
#pragma once

#include <string>
#include <string_view>

namespace annex::log {

// Sets up the default logger. `level` is trace/debug/info/warn/error; `json_file` may be empty.
// Throws std::runtime_error when the file cannot be opened.
void init(const std::string& level, const std::string& json_file);

// The request id of the calling thread, "-" outside a request.
std::string_view current_request_id();

// Marks the calling thread as serving request `id` until destroyed.
class RequestScope {
 public:
  explicit RequestScope(std::string_view id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
};

// Escapes `text` for inclusion in a JSON string (without the quotes).
std::string json_escape(std::string_view text);

}  // namespace annex::log

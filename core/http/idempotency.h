// Idempotency-Key on creates, for every route, core and plugin alike: a client that retries a POST with the
// same key and the same body gets the first response again instead of a second record; the same key with
// another body is refused (422), and a retry while the first is still running answers 409. Keys belong to the
// caller and live for a day. Only successful (2xx) answers are kept: a refused request may be retried as is.
#pragma once

#include "http/exchange.h"

#include <functional>
#include <string>

namespace annex::store {
class Database;
}

namespace annex::http {

class Idempotency {
 public:
  explicit Idempotency(store::Database& db) : db_(db) {}

  // Runs `handler` for a POST carrying Idempotency-Key at most once per caller and key; answers a repeat from
  // the stored response. Other requests go straight to `handler`. Throws ApiError for a key misused.
  void handle(HttpRequest& request, HttpResponse& response, const std::function<void()>& handler);

  // Forgets keys older than `hours`. Returns how many.
  int64_t purge(int hours = 24);

 private:
  store::Database& db_;
};

}  // namespace annex::http

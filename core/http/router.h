// Router — maps (method, path) to a registered route. Templates are literal segments and `{name}` parameters:
// "/api/v1/hello/greetings/{id}". Routes are added and removed while requests are served; removing an owner's
// routes waits until the requests already inside them have finished.
#pragma once

#include "http/exchange.h"

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

namespace annex::http {

using Handler = std::function<void(HttpRequest&, HttpResponse&)>;

// Latency buckets (seconds) of the per-route histogram, Prometheus style; +Inf is implied.
inline constexpr std::array<double, 14> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,    0.25,  0.5,    1,     2.5,   5,    10};

// Counters for one route, updated lock-free on every request.
struct RouteStats {
  std::array<std::atomic<uint64_t>, 600> by_status{};
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> buckets{};
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> sum_micros{0};

  void record(int status, double seconds);
};

struct Route {
  std::string method;
  std::string path;        // the template
  std::string permission;  // required permission; empty for public
  std::string summary;
  std::string owner;       // "annex.core" or a plugin id
  Handler handler;
  // An upload route (> 0): its body, at most this many bytes, is streamed into the blob store before the handler
  // runs, and must be one of `upload_types` as sniffed from its bytes.
  int64_t upload_max_bytes = 0;
  std::vector<std::string> upload_types;
  std::vector<std::string> segments;  // literal, or "{name}"
  std::shared_ptr<RouteStats> stats = std::make_shared<RouteStats>();
};

struct RouteMatch {
  std::shared_ptr<const Route> route;          // null when nothing matched
  std::vector<std::string> allowed_methods;    // when the path matched under other methods only (405)
};

class Router {
 public:
  // Adds a route. Returns "" on success, or why it was refused: a malformed method or template, or a route with
  // the same method and an equivalent template already registered (naming its owner).
  std::string add(Route route);

  // Finds the route for `method` and `path`, filling request path parameters into `params`.
  RouteMatch match(std::string_view method, std::string_view path,
                   std::map<std::string, std::string, std::less<>>* params) const;

  // Removes every route `owner` registered and waits for requests inside them to finish.
  void remove_owner(const std::string& owner);

  // A snapshot of the registered routes, in registration order.
  std::vector<std::shared_ptr<const Route>> routes() const;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::shared_ptr<const Route>> routes_;
};

// Adds a route owned by `owner` and throws std::logic_error if the router refuses it: for the core's own
// routes, where a refusal is a programming error.
void add_route(Router& router, std::string owner, std::string method, std::string path, std::string permission,
               std::string summary, Handler handler);

// Splits a path into its segments ("/a/b/" → {"a","b"}). Empty segments are dropped.
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace annex::http

#include "http/router.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace annex::http {
namespace {

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool valid_method(std::string_view m) {
  return m == "GET" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

// Templates are equivalent when they match the same paths: same literals, parameters anywhere the other has one.
bool equivalent(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (is_param(a[i]) != is_param(b[i])) return false;
    if (!is_param(a[i]) && a[i] != b[i]) return false;
  }
  return true;
}

// Literal segments win over parameters, so "/items/new" beats "/items/{id}" whatever the order of registration.
int specificity(const std::vector<std::string>& segments) {
  int score = 0;
  for (const auto& s : segments) score = score * 2 + (is_param(s) ? 0 : 1);
  return score;
}

}  // namespace

void RouteStats::record(int status, double seconds) {
  if (status >= 0 && status < 600) by_status[status].fetch_add(1, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kLatencyBuckets.size() && seconds > kLatencyBuckets[b]) ++b;
  buckets[b].fetch_add(1, std::memory_order_relaxed);
  count.fetch_add(1, std::memory_order_relaxed);
  sum_micros.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void add_route(Router& router, std::string owner, std::string method, std::string path, std::string permission,
               std::string summary, Handler handler) {
  Route r;
  r.owner = std::move(owner);
  r.method = std::move(method);
  r.path = std::move(path);
  r.permission = std::move(permission);
  r.summary = std::move(summary);
  r.handler = std::move(handler);
  std::string problem = router.add(std::move(r));
  if (!problem.empty()) throw std::logic_error(problem);
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

std::string Router::add(Route route) {
  if (!valid_method(route.method)) return "method \"" + route.method + "\" is not GET, POST, PUT, PATCH or DELETE";
  if (route.path.empty() || route.path[0] != '/') return "path \"" + route.path + "\" must start with '/'";
  route.segments.clear();
  std::vector<std::string> names;
  for (std::string_view s : split_path(route.path)) {
    bool open = s.find('{') != std::string_view::npos, close = s.find('}') != std::string_view::npos;
    if ((open || close) && !is_param(s)) {
      return "path \"" + route.path + "\": segment \"" + std::string(s) + "\" must be a literal or a whole {name}";
    }
    if (is_param(s)) {
      std::string name(s.substr(1, s.size() - 2));
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        return "path \"" + route.path + "\": parameter {" + name + "} appears twice";
      }
      names.push_back(name);
    }
    route.segments.emplace_back(s);
  }
  if (!route.handler) return "route " + route.method + " " + route.path + " has no handler";
  std::unique_lock lock(mutex_);
  for (const auto& r : routes_) {
    if (r->method == route.method && equivalent(r->segments, route.segments)) {
      return route.method + " " + route.path + " is already registered by " + r->owner + " as " + r->path;
    }
  }
  routes_.push_back(std::make_shared<const Route>(std::move(route)));
  return {};
}

RouteMatch Router::match(std::string_view method, std::string_view path,
                         std::map<std::string, std::string, std::less<>>* params) const {
  std::vector<std::string_view> segments = split_path(path);
  RouteMatch result;
  const Route* best = nullptr;
  int best_score = -1;
  std::shared_lock lock(mutex_);
  for (const auto& r : routes_) {
    if (r->segments.size() != segments.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      ok = is_param(r->segments[i]) || r->segments[i] == segments[i];
    }
    if (!ok) continue;
    if (r->method != method) {
      if (std::find(result.allowed_methods.begin(), result.allowed_methods.end(), r->method) ==
          result.allowed_methods.end()) {
        result.allowed_methods.push_back(r->method);
      }
      continue;
    }
    int score = specificity(r->segments);
    if (score > best_score) {
      best = r.get();
      best_score = score;
      result.route = r;
    }
  }
  std::sort(result.allowed_methods.begin(), result.allowed_methods.end());
  if (best != nullptr) {
    result.allowed_methods.clear();
    if (params != nullptr) {
      for (size_t i = 0; i < segments.size(); ++i) {
        if (is_param(best->segments[i])) {
          (*params)[best->segments[i].substr(1, best->segments[i].size() - 2)] = std::string(segments[i]);
        }
      }
    }
  }
  return result;
}

void Router::remove_owner(const std::string& owner) {
  std::vector<std::shared_ptr<const Route>> removed;
  {
    std::unique_lock lock(mutex_);
    auto keep = std::stable_partition(routes_.begin(), routes_.end(), [&](auto& r) { return r->owner != owner; });
    removed.assign(std::make_move_iterator(keep), std::make_move_iterator(routes_.end()));
    routes_.erase(keep, routes_.end());
  }
  // A request that matched a route holds a reference until it has answered.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (auto& r : removed) {
    while (r.use_count() > 1 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
}

std::vector<std::shared_ptr<const Route>> Router::routes() const {
  std::shared_lock lock(mutex_);
  return routes_;
}

}  // namespace annex::http

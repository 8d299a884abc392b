#include "http/dispatcher.h"

#include "http/api_error.h"
#include "store/database.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <strings.h>

namespace annex::http {
namespace {

bool is_json(const std::string* content_type) {
  if (content_type == nullptr) return false;
  std::string_view ct(*content_type);
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  return ct.size() == 16 && strncasecmp(ct.data(), "application/json", 16) == 0;
}

}  // namespace

bool Dispatcher::streams_body(std::string_view method, std::string_view path) const {
  if (method != "POST" && method != "PUT") return false;  // upload routes take no other
  RouteMatch match = router_.match(method, path, nullptr);
  return match.route && match.route->upload_max_bytes > 0;
}

void Dispatcher::dispatch(HttpRequest& request, HttpResponse& response) {
  auto started = std::chrono::steady_clock::now();
  RouteMatch match = router_.match(request.method, request.path, &request.path_params);
  RouteStats& stats = match.route ? *match.route->stats : *unmatched_;
  try {
    if (!match.route && match.allowed_methods.empty() && static_files_ != nullptr && static_files_->serve(request, response)) {
      stats.record(response.status, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      return;
    }
    if (!match.route) {
      if (!match.allowed_methods.empty()) {
        std::string allow;
        for (const auto& m : match.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
        response.set_header("Allow", allow);
        throw ApiError(405, "method_not_allowed", request.method + " is not allowed here; use " + allow);
      }
      throw ApiError::not_found("no route for " + request.method + " " + request.path);
    }
    const Route& route = *match.route;
    const bool upload = route.upload_max_bytes > 0;
    if (!upload && !request.body.empty() && !is_json(request.header("Content-Type"))) {
      throw ApiError(415, "unsupported_media_type", "request bodies must be application/json", "Content-Type");
    }
    if (access_check_) access_check_(request, route);
    // Only a caller let in gets to send the host a file.
    if (upload) {
      if (!upload_sink_) throw std::logic_error("route " + route.path + " takes uploads, but this host stores none");
      upload_sink_(request, route);
    }
    auto handle = [&] {
      route.handler(request, response);
      // A status outside the final ones cannot frame an answer (an interim 1xx would leave the client waiting).
      if (response.status < 200 || response.status > 599) {
        throw std::logic_error(route.owner + "'s handler for " + route.method + " " + route.path +
                               " answered with status " + std::to_string(response.status) + ", which is not an HTTP status");
      }
    };
    if (idempotency_ != nullptr) {
      idempotency_->handle(request, response, handle);
    } else {
      handle();
    }
  } catch (const ApiError& e) {
    response.headers.erase(std::remove_if(response.headers.begin(), response.headers.end(),
                                          [](auto& h) { return h.first != "Allow" && h.first != "WWW-Authenticate"; }),
                           response.headers.end());
    response.stream_body = nullptr;
    response.status = e.status();
    response.content_type = "application/json";
    response.body = error_body(e.code(), e.what(), e.field());
    if (e.retry_after() > 0) response.set_header("Retry-After", std::to_string(e.retry_after()));
    if (e.status() >= 500) spdlog::error("{} {} → {}: {}", request.method, request.path, e.status(), e.what());
  } catch (const store::StoreError& e) {
    using Kind = store::StoreError::Kind;
    int status = e.kind() == Kind::kConstraint                                          ? 409
                 : e.kind() == Kind::kUnavailable || e.kind() == Kind::kPoolExhausted ? 503
                                                                                        : 500;
    spdlog::error("{} {} → {}: storage: {}", request.method, request.path, status, e.what());
    response.headers.clear();
    response.stream_body = nullptr;
    set_error(response, status,
              status == 409                        ? "the change conflicts with stored data"
              : e.kind() == Kind::kPoolExhausted ? "the server is busy: no database connection became free in time; try again"
              : status == 503                      ? "storage is unavailable; try again"
                                                   : "internal error; see the server log for request " + request.request_id);
  } catch (const std::exception& e) {
    spdlog::error("{} {} → 500: {}", request.method, request.path, e.what());
    response.headers.clear();
    response.stream_body = nullptr;
    set_error(response, 500, "internal error; see the server log for request " + request.request_id);
  }
  // Whatever answered 503 (the host, or a plugin whose storage call found no free connection), it is worth
  // trying again shortly.
  if (response.status == 503 &&
      std::none_of(response.headers.begin(), response.headers.end(), [](auto& h) { return h.first == "Retry-After"; })) {
    response.set_header("Retry-After", "1");
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  stats.record(response.status, seconds);
}

}  // namespace annex::http

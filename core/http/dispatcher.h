// Dispatcher — the request path between the socket layer and the handlers: routing (404/405), content type
// (415), the access check, the handler, and the translation of every failure into the one error shape. It never
// throws, so the socket layer always has a response to send.
#pragma once

#include "http/idempotency.h"
#include "http/router.h"
#include "http/static_files.h"

#include <functional>

namespace annex::http {

// Checks whether the caller may use the route; throws ApiError (401/403) when not. Set by the security core.
using AccessCheck = std::function<void(HttpRequest&, const Route&)>;
// Streams an upload route's body into the blob store and fills request.upload; throws ApiError when it is refused.
using UploadSink = std::function<void(HttpRequest&, const Route&)>;

class Dispatcher {
 public:
  explicit Dispatcher(Router& router) : router_(router) {}

  void set_access_check(AccessCheck check) { access_check_ = std::move(check); }
  // Answers repeated creates (POST with Idempotency-Key) from the first response.
  void set_idempotency(Idempotency* idempotency) { idempotency_ = idempotency; }
  void set_upload_sink(UploadSink sink) { upload_sink_ = std::move(sink); }
  // The web application: what no route answers outside /api/ (GET and HEAD) comes from it.
  void set_static_files(const StaticFiles* files) { static_files_ = files; }

  // Whether `method` `path` is an upload route, whose body the socket layer leaves in request.body_stream.
  bool streams_body(std::string_view method, std::string_view path) const;

  // Handles one request. `request.request_id` must be set. Records the outcome in the route's statistics.
  void dispatch(HttpRequest& request, HttpResponse& response);

  // Requests that matched no route.
  RouteStats& unmatched() { return *unmatched_; }

 private:
  Router& router_;
  AccessCheck access_check_;
  Idempotency* idempotency_ = nullptr;
  UploadSink upload_sink_;
  const StaticFiles* static_files_ = nullptr;
  std::shared_ptr<RouteStats> unmatched_ = std::make_shared<RouteStats>();
};

}  // namespace annex::http

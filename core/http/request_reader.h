// Turns a request Poco has parsed (request line and headers) and its body stream into an HttpRequest: the
// target split into a decoded path and a raw query, the body read up to the configured limit. Shared by the
// server and the fuzz target, so the fuzzer exercises the very code that faces the network.
#pragma once

#include "http/exchange.h"

#include <Poco/Net/HTTPRequest.h>

#include <cstdint>
#include <istream>

namespace annex::http {

enum class ReadOutcome {
  kOk,            // dispatch the request
  kBadTarget,     // 400 filled into the response
  kBadHeader,     // 400 filled into the response; the body was not read
  kBodyTooLarge,  // 413 filled into the response; the rest of the body was not read
};

// Fills `request` (method, path, query, headers, body). `request.request_id` is left to the caller.
ReadOutcome read_request(const Poco::Net::HTTPRequest& head, std::istream& body, int64_t max_body_bytes,
                         HttpRequest& request, HttpResponse& response);

// The two halves of read_request, for a caller that decides from the head whether to read the body (an upload
// route's body is streamed by the dispatcher instead): the head (method, path, query, headers), then the body.
ReadOutcome read_head(const Poco::Net::HTTPRequest& head, HttpRequest& request, HttpResponse& response);
// Whether the request carries a body: a Content-Length or chunked transfer coding. A request with neither has
// none (RFC 9112 6.3) — it must never be read until the client closes the connection, as a response would be.
bool has_body(const Poco::Net::HTTPRequest& head);
ReadOutcome read_body(const Poco::Net::HTTPRequest& head, std::istream& body, int64_t max_body_bytes,
                      HttpRequest& request, HttpResponse& response);


}  // namespace annex::http

// HttpRequest / HttpResponse — one HTTP exchange as the router and handlers see it, independent of the socket
// layer, so that the request path can be tested and fuzzed without a server.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace annex::http {

// The caller, once authentication exists; empty for an anonymous request.
struct Principal {
  std::string id;
  std::string login;
  std::string token_id;                  // the session or API token the request came with
  // Set when the request came with the browser's session cookie: what it must send back in X-CSRF-Token on every
  // request that changes something (GET /api/v1/auth/me tells it).
  std::string csrf_token;
  // Patterns granted by the caller's roles (see auth/roles.h); shared, since every request of a caller carries it.
  std::shared_ptr<const std::vector<std::string>> permissions;
  bool authenticated() const { return !id.empty(); }
};

// What an upload route received, once the host has stored it (see blobs/blob_upload.h).
struct Upload {
  std::string sha256;
  int64_t size = 0;
  std::string media_type;  // sniffed from the bytes
  std::string filename;    // as the client named it; may be empty
  std::string field;       // the form field of the file, or "body" for a raw body
  bool created = false;    // false when the same bytes were stored already
  std::vector<std::pair<std::string, std::string>> fields;  // a form's other fields
};

struct HttpRequest {
  std::string method;
  std::string path;   // decoded, without the query string
  std::string query;  // raw, after '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;
  std::string remote_address;
  bool tls = false;  // it came over HTTPS
  Principal principal;
  std::map<std::string, std::string, std::less<>> path_params;  // filled by the router
  // An upload route's body is not read into `body`: the dispatcher streams it from here into the blob store once
  // the caller is let in, and says whether it read it to its end (else the connection cannot carry another request).
  std::istream* body_stream = nullptr;
  std::function<void()> ask_for_body;  // set when the client awaits "100 Continue" before sending body_stream
  bool body_consumed = false;
  std::optional<Upload> upload;

  // The first header named `name`, compared case-insensitively; nullptr when absent.
  const std::string* header(std::string_view name) const;
  // The first query parameter named `name`, URL-decoded; false when absent.
  bool query_param(std::string_view name, std::string* value) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // A body written by `stream_body` instead of `body` (a stored blob), `stream_length` bytes long.
  std::function<void(std::ostream&)> stream_body;
  int64_t stream_length = 0;

  void set_header(std::string name, std::string value);
};

// Decodes %XX and '+' (as space, in query strings). Returns false on a malformed escape.
bool url_decode(std::string_view in, std::string* out, bool plus_as_space);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view text);

}  // namespace annex::http

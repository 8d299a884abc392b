// HttpRequest / HttpResponse — one HTTP exchange as the router and handlers see it, independent of the socket
// layer, so that the request path can be tested and fuzzed without a server.
#pragma once

#include <map>
#include <memory>
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
  // Patterns granted by the caller's roles (see auth/roles.h); shared, since every request of a caller carries it.
  std::shared_ptr<const std::vector<std::string>> permissions;
  bool authenticated() const { return !id.empty(); }
};

struct HttpRequest {
  std::string method;
  std::string path;   // decoded, without the query string
  std::string query;  // raw, after '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;
  std::string remote_address;
  Principal principal;
  std::map<std::string, std::string, std::less<>> path_params;  // filled by the router

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

  void set_header(std::string name, std::string value);
};

// Decodes %XX and '+' (as space, in query strings). Returns false on a malformed escape.
bool url_decode(std::string_view in, std::string* out, bool plus_as_space);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view text);

}  // namespace annex::http

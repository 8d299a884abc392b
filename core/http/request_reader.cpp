#include "http/request_reader.h"

#include "http/api_error.h"

#include <Poco/Exception.h>

namespace annex::http {
namespace {

// Every query parameter must decode (no malformed %-escape) to UTF-8 text without NUL, so that no handler reads
// a parameter as absent, or passes undecodable bytes on to storage; the first one that does not is named.
bool check_query(std::string_view query, HttpResponse& response) {
  std::string key, value;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view raw_key = pair.substr(0, eq), raw_value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    bool key_ok = url_decode(raw_key, &key, true) && valid_utf8(key) && key.find('\0') == std::string::npos;
    std::string name = key_ok ? key : std::string(raw_key.substr(0, 64));
    if (!valid_utf8(name)) name = "query";
    if (!key_ok) {
      set_error(response, 400, "a query parameter's name is not %-encoded UTF-8 text", name);
      return false;
    }
    if (!url_decode(raw_value, &value, true)) {
      set_error(response, 400, "query parameter " + name + " has a malformed %-escape", name);
      return false;
    }
    if (!valid_utf8(value) || value.find('\0') != std::string::npos) {
      set_error(response, 400, "query parameter " + name + " is not UTF-8 text", name);
      return false;
    }
  }
  return true;
}

}  // namespace

ReadOutcome read_request(const Poco::Net::HTTPRequest& head, std::istream& body, int64_t max_body_bytes,
                         HttpRequest& request, HttpResponse& response) {
  ReadOutcome outcome = read_head(head, request, response);
  return outcome == ReadOutcome::kOk ? read_body(head, body, max_body_bytes, request, response) : outcome;
}

ReadOutcome read_head(const Poco::Net::HTTPRequest& head, HttpRequest& request, HttpResponse& response) {
  request.method = head.getMethod();
  for (const auto& [name, value] : head) request.headers.emplace_back(name, value);
  const std::string& target = head.getURI();
  size_t q = target.find('?');
  std::string raw_path = target.substr(0, q);
  if (q != std::string::npos) request.query = target.substr(q + 1);
  if (raw_path.empty() || raw_path[0] != '/' || !url_decode(raw_path, &request.path, false) ||
      request.path.find('\0') != std::string::npos || !valid_utf8(request.path)) {
    set_error(response, 400, "the request target is not a valid absolute path of UTF-8 text", "path");
    return ReadOutcome::kBadTarget;
  }
  if (!check_query(request.query, response)) return ReadOutcome::kBadTarget;
  return ReadOutcome::kOk;
}

bool has_body(const Poco::Net::HTTPRequest& head) {
  return head.hasContentLength() || head.getChunkedTransferEncoding();
}

ReadOutcome read_body(const Poco::Net::HTTPRequest& head, std::istream& body, int64_t max_body_bytes,
                      HttpRequest& request, HttpResponse& response) {
  int64_t declared = -1;
  try {
    if (head.hasContentLength()) declared = head.getContentLength64();
  } catch (const Poco::Exception&) {
    set_error(response, 400, "Content-Length is not a number", "Content-Length");
    return ReadOutcome::kBadHeader;
  }
  if (declared > max_body_bytes) {
    set_error(response, 413, "the request body exceeds " + std::to_string(max_body_bytes) + " bytes", "body");
    return ReadOutcome::kBodyTooLarge;
  }
  if (!has_body(head)) return ReadOutcome::kOk;
  char chunk[16384];
  while (body) {
    body.read(chunk, sizeof chunk);
    std::streamsize got = body.gcount();
    if (got <= 0) break;
    if (static_cast<int64_t>(request.body.size()) + got > max_body_bytes) {
      set_error(response, 413, "the request body exceeds " + std::to_string(max_body_bytes) + " bytes", "body");
      return ReadOutcome::kBodyTooLarge;
    }
    request.body.append(chunk, static_cast<size_t>(got));
  }
  return ReadOutcome::kOk;
}

}  // namespace annex::http

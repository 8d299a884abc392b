#include "http/request_reader.h"

#include "http/api_error.h"

#include <Poco/Exception.h>

namespace annex::http {
ReadOutcome read_request(const Poco::Net::HTTPRequest& head, std::istream& body, int64_t max_body_bytes,
                         HttpRequest& request, HttpResponse& response) {
  request.method = head.getMethod();
  for (const auto& [name, value] : head) request.headers.emplace_back(name, value);
  const std::string& target = head.getURI();
  size_t q = target.find('?');
  std::string raw_path = target.substr(0, q);
  if (q != std::string::npos) request.query = target.substr(q + 1);
  if (raw_path.empty() || raw_path[0] != '/' || !url_decode(raw_path, &request.path, false) ||
      request.path.find('\0') != std::string::npos) {
    set_error(response, 400, "the request target is not a valid absolute path", "path");
    return ReadOutcome::kBadTarget;
  }
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

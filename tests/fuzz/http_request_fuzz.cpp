// libFuzzer target for the request path that faces the network: Poco's parser for the request line and
// headers, then annexd's own reading of target and body, routing, content-type checks, JSON body parsing and
// the error shape. Any crash, hang or sanitizer report is a bug.
#include "http/api_error.h"
#include "http/dispatcher.h"
#include "http/json_body.h"
#include "http/request_reader.h"
#include "http/router.h"

#include <annex/sdk.hpp>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>

#include <cstdint>
#include <sstream>
#include <string>

namespace {

struct Fixture {
  annex::http::Router router;
  annex::http::Dispatcher dispatcher{router};

  Fixture() {
    auto add = [this](const char* method, const char* path, annex::http::Handler h) {
      annex::http::Route r;
      r.method = method;
      r.path = path;
      r.owner = "fuzz";
      r.handler = std::move(h);
      router.add(std::move(r));
    };
    add("POST", "/api/v1/things", [](annex::http::HttpRequest& req, annex::http::HttpResponse& resp) {
      auto body = annex::http::parse_json_object(req);
      if (!body->has("name")) throw annex::http::ApiError::unprocessable("name is required", "name");
      resp.status = 201;
      resp.body = "{\"name\":" + annex::json_quote(body->optValue<std::string>("name", "")) + "}";
    });
    add("GET", "/api/v1/things/{id}", [](annex::http::HttpRequest& req, annex::http::HttpResponse& resp) {
      std::string filter;
      req.query_param("filter", &filter);
      resp.body = "{\"id\":" + annex::json_quote(req.path_params.at("id")) + ",\"filter\":" + annex::json_quote(filter) + "}";
    });
    add("PUT", "/api/v1/things/{id}/lines/{line}", [](annex::http::HttpRequest& req, annex::http::HttpResponse& resp) {
      annex::http::parse_json_object(req);
      resp.status = 204;  // no body
    });
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  Poco::Net::HTTPRequest head;
  try {
    head.read(in);
  } catch (const Poco::Exception&) {
    return 0;  // Poco rejected the head; annexd answers 400 without reaching its own code
  }
  annex::http::HttpRequest request;
  annex::http::HttpResponse response;
  request.request_id = "fuzz";
  if (annex::http::read_request(head, in, 4096, request, response) == annex::http::ReadOutcome::kOk) {
    fixture->dispatcher.dispatch(request, response);
  }
  // Every answer with a body is in the one shape or a handler's own JSON: it must parse.
  if (!response.body.empty()) Poco::JSON::Parser().parse(response.body);
  if (response.body.empty() && response.status != 204) __builtin_trap();  // only "no content" may be empty
  return 0;
}

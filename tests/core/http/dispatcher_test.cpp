#include "http/api_error.h"
#include "http/dispatcher.h"
#include "http/request_reader.h"
#include "store/database.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <sstream>

namespace annex::http {
namespace {

Poco::JSON::Object::Ptr error_of(const HttpResponse& resp) {
  auto root = Poco::JSON::Parser().parse(resp.body).extract<Poco::JSON::Object::Ptr>();
  return root->getObject("error");
}

class DispatcherTest : public testing::Test {
 protected:
  void add(const std::string& method, const std::string& path, Handler handler) {
    Route r;
    r.method = method;
    r.path = path;
    r.owner = "test";
    r.handler = std::move(handler);
    ASSERT_EQ(router_.add(std::move(r)), "");
  }
  HttpResponse send(const std::string& method, const std::string& path, const std::string& body = "",
                    const std::string& content_type = "application/json") {
    HttpRequest req;
    req.method = method;
    req.path = path;
    req.body = body;
    req.request_id = "rid-1";
    if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
    HttpResponse resp;
    dispatcher_.dispatch(req, resp);
    return resp;
  }
  Router router_;
  Dispatcher dispatcher_{router_};
};

TEST_F(DispatcherTest, UnknownPathIs404InTheErrorShape) {
  HttpResponse resp = send("GET", "/nowhere");
  EXPECT_EQ(resp.status, 404);
  auto err = error_of(resp);
  EXPECT_EQ(err->getValue<std::string>("code"), "not_found");
  EXPECT_TRUE(err->has("message"));
  EXPECT_TRUE(err->isNull("field"));
}

TEST_F(DispatcherTest, AnUploadRouteTakesItsBodyOnlyOnceTheCallerIsLetInAndBeforeItsHandler) {
  std::vector<std::string> steps;
  Route r;
  r.method = "POST";
  r.path = "/files";
  r.owner = "test";
  r.upload_max_bytes = 100;
  r.upload_types = {"application/pdf"};
  r.handler = [&](HttpRequest& req, HttpResponse&) { steps.push_back(req.upload ? "handler with upload" : "handler"); };
  ASSERT_EQ(router_.add(std::move(r)), "");
  bool let_in = false;
  dispatcher_.set_access_check([&](HttpRequest&, const Route&) {
    steps.push_back("access");
    if (!let_in) throw ApiError(401, "unauthenticated", "who are you?");
  });
  dispatcher_.set_upload_sink([&](HttpRequest& req, const Route&) {
    steps.push_back("upload");
    req.upload = Upload{};
  });
  EXPECT_TRUE(dispatcher_.streams_body("POST", "/files"));
  EXPECT_FALSE(dispatcher_.streams_body("GET", "/files"));
  // Not JSON, and not refused for it: the upload decides what it takes.
  EXPECT_EQ(send("POST", "/files", "%PDF-1.4", "application/pdf").status, 401);
  EXPECT_EQ(steps, (std::vector<std::string>{"access"}));
  let_in = true;
  steps.clear();
  EXPECT_EQ(send("POST", "/files", "%PDF-1.4", "application/pdf").status, 200);
  EXPECT_EQ(steps, (std::vector<std::string>{"access", "upload", "handler with upload"}));
}

TEST_F(DispatcherTest, AStreamedBodyIsDroppedWhenTheHandlerFailsAfterChoosingIt) {
  add("GET", "/file", [](HttpRequest&, HttpResponse& resp) {
    resp.stream_body = [](std::ostream& out) { out << "secret"; };
    resp.stream_length = 6;
    throw ApiError::not_found("changed its mind");
  });
  HttpResponse resp = send("GET", "/file");
  EXPECT_EQ(resp.status, 404);
  EXPECT_FALSE(resp.stream_body);
}

TEST_F(DispatcherTest, WrongMethodIs405WithAllow) {
  add("GET", "/things", [](HttpRequest&, HttpResponse&) {});
  HttpResponse resp = send("DELETE", "/things");
  EXPECT_EQ(resp.status, 405);
  EXPECT_EQ(error_of(resp)->getValue<std::string>("code"), "method_not_allowed");
  ASSERT_EQ(resp.headers.size(), 1u);
  EXPECT_EQ(resp.headers[0].first, "Allow");
  EXPECT_EQ(resp.headers[0].second, "GET");
}

TEST_F(DispatcherTest, BodyThatIsNotJsonIs415NamingContentType) {
  bool called = false;
  add("POST", "/things", [&](HttpRequest&, HttpResponse&) { called = true; });
  HttpResponse resp = send("POST", "/things", "a=b", "application/x-www-form-urlencoded");
  EXPECT_EQ(resp.status, 415);
  EXPECT_EQ(error_of(resp)->getValue<std::string>("field"), "Content-Type");
  EXPECT_FALSE(called);
  EXPECT_EQ(send("POST", "/things", "{}", "application/json; charset=utf-8").status, 200);
  EXPECT_TRUE(called);
}

TEST_F(DispatcherTest, AHandlerStatusOutsideTheFinalHttpStatusesBecomesA500) {
  for (int status : {999, 600, 199, 100, 0, -1}) {
    add("GET", "/status/" + std::to_string(status), [status](HttpRequest&, HttpResponse& resp) {
      resp.status = status;
      resp.body = "{}";
    });
    HttpResponse resp = send("GET", "/status/" + std::to_string(status));
    EXPECT_EQ(resp.status, 500) << status;
    EXPECT_EQ(error_of(resp)->getValue<std::string>("code"), "internal") << status;
  }
  add("GET", "/status/299", [](HttpRequest&, HttpResponse& resp) { resp.status = 299; });
  EXPECT_EQ(send("GET", "/status/299").status, 299);
}

TEST_F(DispatcherTest, ApiErrorKeepsStatusCodeAndField) {
  add("POST", "/things", [](HttpRequest&, HttpResponse&) { throw ApiError::unprocessable("too long", "name"); });
  HttpResponse resp = send("POST", "/things", "{}");
  EXPECT_EQ(resp.status, 422);
  auto err = error_of(resp);
  EXPECT_EQ(err->getValue<std::string>("code"), "unprocessable");
  EXPECT_EQ(err->getValue<std::string>("message"), "too long");
  EXPECT_EQ(err->getValue<std::string>("field"), "name");
}

TEST_F(DispatcherTest, UnexpectedExceptionIs500WithoutLeakingTheMessage) {
  add("GET", "/boom", [](HttpRequest&, HttpResponse& resp) {
    resp.headers.emplace_back("X-Partial", "1");
    throw std::runtime_error("secret database password in message");
  });
  HttpResponse resp = send("GET", "/boom");
  EXPECT_EQ(resp.status, 500);
  EXPECT_EQ(resp.body.find("secret"), std::string::npos);
  EXPECT_NE(resp.body.find("rid-1"), std::string::npos) << "the message should point at the request id";
  EXPECT_TRUE(resp.headers.empty()) << "headers set before the failure must not be sent";
}

TEST_F(DispatcherTest, StorageConstraintIs409AndOutageIs503) {
  add("POST", "/dup", [](HttpRequest&, HttpResponse&) {
    throw store::StoreError(store::StoreError::Kind::kConstraint, "UNIQUE constraint failed");
  });
  add("GET", "/down", [](HttpRequest&, HttpResponse&) {
    throw store::StoreError(store::StoreError::Kind::kUnavailable, "connection refused");
  });
  EXPECT_EQ(send("POST", "/dup", "{}").status, 409);
  EXPECT_EQ(send("GET", "/down").status, 503);
}

TEST_F(DispatcherTest, AccessCheckRunsBeforeTheHandler) {
  bool called = false;
  add("GET", "/private", [&](HttpRequest&, HttpResponse&) { called = true; });
  dispatcher_.set_access_check([](HttpRequest&, const Route&) { throw ApiError(401, "unauthenticated", "log in"); });
  EXPECT_EQ(send("GET", "/private").status, 401);
  EXPECT_FALSE(called);
}

TEST_F(DispatcherTest, RecordsStatusesPerRoute) {
  add("GET", "/counted/{id}", [](HttpRequest& req, HttpResponse&) {
    if (req.path_params.at("id") == "bad") throw ApiError::bad_request("bad id", "id");
  });
  send("GET", "/counted/1");
  send("GET", "/counted/2");
  send("GET", "/counted/bad");
  auto stats = router_.routes()[0]->stats;
  EXPECT_EQ(stats->by_status[200].load(), 2u);
  EXPECT_EQ(stats->by_status[400].load(), 1u);
  EXPECT_EQ(stats->count.load(), 3u);
}

TEST(HttpRequestTest, QueryParametersAreDecoded) {
  HttpRequest req;
  req.query = "a=1&name=J%C3%B6rg+M&flag&empty=";
  std::string v;
  ASSERT_TRUE(req.query_param("name", &v));
  EXPECT_EQ(v, "Jörg M");
  ASSERT_TRUE(req.query_param("flag", &v));
  EXPECT_EQ(v, "");
  EXPECT_FALSE(req.query_param("missing", &v));
  req.query = "bad=%G1";
  EXPECT_FALSE(req.query_param("bad", &v));
  req.query = "cut=%4";
  EXPECT_FALSE(req.query_param("cut", &v));
}

// What read_request makes of a request target, with the error it answers when it refuses it.
ReadOutcome read_target(const std::string& target, HttpRequest* req, HttpResponse* resp) {
  Poco::Net::HTTPRequest head("GET", target, Poco::Net::HTTPMessage::HTTP_1_1);
  std::istringstream body;
  return read_request(head, body, 1024, *req, *resp);
}

TEST(HttpRequestTest, RefusesQueryParametersThatAreNotUtf8OrMalformedNamingTheParameter) {
  struct Case {
    std::string query, field;
  };
  for (const Case& c : std::vector<Case>{{"sector_id=%FF", "sector_id"},
                                         {"a=1&sector_id=%C3%28", "sector_id"},  // a broken two-byte sequence
                                         {"q=%ED%A0%80", "q"},                   // a UTF-16 surrogate
                                         {"q=%C0%AF", "q"},                      // an overlong '/'
                                         {"q=%00", "q"},
                                         {"sector_id=%G1", "sector_id"},
                                         {"a=1&sector_id=%4", "sector_id"},
                                         {"s%FFx=1", "s%FFx"},  // named as sent
                                         {"s%4=1", "s%4"}}) {
    HttpRequest req;
    HttpResponse resp;
    EXPECT_EQ(read_target("/api/v1/pipeline/stages?" + c.query, &req, &resp), ReadOutcome::kBadTarget) << c.query;
    EXPECT_EQ(resp.status, 400) << c.query;
    EXPECT_EQ(error_of(resp)->getValue<std::string>("field"), c.field) << c.query;
  }
  HttpRequest req;
  HttpResponse resp;
  EXPECT_EQ(read_target("/api/v1/things?name=J%C3%B6rg+M&emoji=%F0%9F%98%80&flag&empty=", &req, &resp), ReadOutcome::kOk);
}

TEST(HttpRequestTest, RefusesAPathThatIsNotUtf8) {
  HttpRequest req;
  HttpResponse resp;
  EXPECT_EQ(read_target("/api/v1/things/%FF", &req, &resp), ReadOutcome::kBadTarget);
  EXPECT_EQ(resp.status, 400);
  EXPECT_EQ(error_of(resp)->getValue<std::string>("field"), "path");
  HttpResponse fine;
  EXPECT_EQ(read_target("/api/v1/things/%E5%8C%97", &req, &fine), ReadOutcome::kOk);
  EXPECT_EQ(req.path, "/api/v1/things/北");
}

}  // namespace
}  // namespace annex::http

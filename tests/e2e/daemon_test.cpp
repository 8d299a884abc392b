// annexd as a process, spoken to over HTTP(S): what a user and an operator see.
#include "support/test_support.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <future>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace annex::test {
namespace {

Poco::JSON::Object::Ptr json(const std::string& body) {
  return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}

Poco::JSON::Object::Ptr plugin(const Annexd& d, const std::string& id) {
  auto items = json(d.call("GET", "/api/v1/plugins").body)->getArray("items");
  for (size_t i = 0; i < items->size(); ++i) {
    auto p = items->getObject(static_cast<unsigned>(i));
    if (p->getValue<std::string>("id") == id) return p;
  }
  return nullptr;
}

TEST(Daemon, ServesTheHelloPluginEndToEnd) {
  Annexd d({});
  HttpResult created = d.call("POST", "/api/v1/hello/greetings", R"({"name":"Ada"})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto g = json(created.body);
  EXPECT_EQ(g->getValue<std::string>("message"), "Hello, Ada!");
  std::string location = created.header("location");
  ASSERT_EQ(location, "/api/v1/hello/greetings/" + std::to_string(g->getValue<int64_t>("id")));

  HttpResult read = d.call("GET", location);
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(json(read.body)->getValue<std::string>("name"), "Ada");
  EXPECT_EQ(d.call("GET", "/api/v1/hello/greetings/424242").status, 404);

  // The event the plugin published is delivered to its subscriber, and its job runs.
  EXPECT_TRUE(eventually([&] {
    auto stats = json(d.call("GET", "/api/v1/hello/stats").body);
    return stats->getValue<int>("greetings_seen") == 1 && stats->getValue<int>("ticks") >= 1;
  })) << d.call("GET", "/api/v1/hello/stats").body;
}

TEST(Daemon, ListsPluginsWithTheirStateAndWhyAnyCannotRun) {
  TempDir dir;
  Annexd::Options o;
  o.plugin_dirs = {build_path("lib/annex/plugins"), fixture_dir(dir, {"abi_major", "fails_start", "c_plugin"})};
  Annexd d(o);
  EXPECT_EQ(plugin(d, "org.annex.hello")->getValue<std::string>("state"), "started");
  EXPECT_EQ(plugin(d, "org.annex.test.cplugin")->getValue<std::string>("state"), "started");
  auto major = plugin(d, "org.annex.test.abi-major");
  ASSERT_TRUE(major);
  EXPECT_EQ(major->getValue<std::string>("state"), "refused");
  EXPECT_NE(major->getValue<std::string>("error").find("built for plugin ABI 2."), std::string::npos);
  auto failing = plugin(d, "org.annex.test.fails-start");
  EXPECT_EQ(failing->getValue<std::string>("state"), "failed");
  EXPECT_NE(failing->getValue<std::string>("error").find("widget server"), std::string::npos);
  // The rest run.
  EXPECT_EQ(d.call("GET", "/api/v1/c-plugin").status, 200);
  EXPECT_EQ(d.call("GET", "/api/v1/fails-start").status, 404);
  auto one = d.call("GET", "/api/v1/plugins/org.annex.hello");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(d.call("GET", "/api/v1/plugins/org.nothing.here").status, 404);
  // Plugin states are exported as metrics.
  std::string metrics = d.call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("annex_plugin_state{plugin=\"org.annex.test.abi-major\",state=\"refused\"} 1"), std::string::npos);
}

TEST(Daemon, EveryErrorUsesTheOneShape) {
  Annexd::Options o;
  o.args = {"--set", "http.max_body_bytes=64"};
  Annexd d(o);
  struct Case {
    std::string method, path, body, content_type;
    int status;
    std::string code, field;
  };
  std::vector<Case> cases = {
      {"GET", "/api/v1/nothing", "", "", 404, "not_found", ""},
      {"DELETE", "/api/v1/hello/greetings", "", "", 405, "method_not_allowed", ""},
      {"POST", "/api/v1/hello/greetings", std::string(200, 'x'), "application/json", 413, "payload_too_large", "body"},
      {"POST", "/api/v1/hello/greetings", "name=Ada", "text/plain", 415, "unsupported_media_type", "Content-Type"},
      {"POST", "/api/v1/hello/greetings", "{\"name\":", "application/json", 400, "bad_request", "body"},
      {"POST", "/api/v1/hello/greetings", R"({"name":42})", "application/json", 400, "bad_request", "name"},
      {"POST", "/api/v1/hello/greetings", R"({"name":""})", "application/json", 422, "unprocessable", "name"},
      {"GET", "/api/v1/hello/greetings/abc", "", "", 400, "bad_request", "id"},
  };
  for (const auto& c : cases) {
    std::map<std::string, std::string> headers;
    if (!c.content_type.empty()) headers["Content-Type"] = c.content_type;
    HttpResult r = d.call(c.method, c.path, c.body, headers);
    SCOPED_TRACE(c.method + " " + c.path + " " + c.body.substr(0, 20));
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json");
    auto err = json(r.body)->getObject("error");
    ASSERT_TRUE(err);
    EXPECT_EQ(err->getValue<std::string>("code"), c.code);
    EXPECT_FALSE(err->getValue<std::string>("message").empty());
    if (c.field.empty()) {
      EXPECT_TRUE(err->isNull("field"));
    } else {
      EXPECT_EQ(err->getValue<std::string>("field"), c.field);
    }
  }
  EXPECT_EQ(d.call("DELETE", "/api/v1/hello/greetings").header("allow"), "GET, POST");
  EXPECT_EQ(d.call("GET", "/healthz").status, 200) << "the daemon still answers after every error";
}

TEST(Daemon, EchoesAClientRequestIdAndMakesOneOtherwise) {
  Annexd::Options o;
  o.args = {"--log-level", "debug"};
  Annexd d(o);
  HttpResult mine = d.call("GET", "/healthz", "", {{"X-Request-Id", "trace-abc-123"}});
  EXPECT_EQ(mine.header("x-request-id"), "trace-abc-123");
  HttpResult bad = d.call("GET", "/healthz", "", {{"X-Request-Id", "has spaces and {braces}"}});
  EXPECT_NE(bad.header("x-request-id"), "has spaces and {braces}");
  EXPECT_EQ(bad.header("x-request-id").size(), 16u);
  EXPECT_EQ(mine.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(mine.header("cache-control"), "no-store");
  // The request id is in the log line of a request that failed inside a plugin.
  d.call("GET", "/api/v1/nothing", "", {{"X-Request-Id", "find-me-in-the-log"}});
  d.call("POST", "/api/v1/hello/greetings", R"({"name":"Log"})", {{"X-Request-Id", "rid-create-1"}});
  d.terminate();
  EXPECT_NE(d.log().find("req=rid-create-1"), std::string::npos) << d.log();
}

TEST(Daemon, WritesJsonLinesWithTheRequestIdWhenAsked) {
  TempDir dir;
  std::string file = dir.str() + "/annexd.jsonl";
  Annexd::Options o;
  o.args = {"--log-level", "debug", "--set", "log.json_file=" + file};
  Annexd d(o);
  d.call("POST", "/api/v1/hello/greetings", R"({"name":"quote \" and newline \n"})", {{"X-Request-Id", "json-log-1"}});
  d.terminate();
  std::ifstream in(file);
  std::string line;
  int lines = 0, with_id = 0;
  while (std::getline(in, line)) {
    ++lines;
    Poco::JSON::Object::Ptr entry;
    ASSERT_NO_THROW(entry = json(line)) << "not JSON: " << line;
    for (const char* key : {"time", "level", "logger", "request_id", "message"}) EXPECT_TRUE(entry->has(key)) << key;
    with_id += entry->getValue<std::string>("request_id") == "json-log-1";
  }
  EXPECT_GT(lines, 3);
  EXPECT_GE(with_id, 1);
}

TEST(Daemon, HealthReadinessMetricsAndOpenApi) {
  Annexd d({});
  EXPECT_EQ(d.call("GET", "/healthz").status, 200);
  HttpResult ready = d.call("GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(json(ready.body)->getValue<std::string>("status"), "ready");

  d.call("GET", "/api/v1/hello/greetings");
  d.call("GET", "/api/v1/hello/greetings/77");
  HttpResult metrics = d.call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("content-type").rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(metrics.body.find("annex_http_requests_total{route=\"/api/v1/hello/greetings/{id}\",method=\"GET\",status=\"404\"} 1"),
            std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("annex_http_request_duration_seconds_bucket{route=\"/api/v1/hello/greetings\",method=\"GET\",le=\"+Inf\"} 1"),
            std::string::npos);

  auto doc = json(d.call("GET", "/api/v1/openapi.json").body);
  EXPECT_EQ(doc->getValue<std::string>("openapi"), "3.0.3");
  auto paths = doc->getObject("paths");
  ASSERT_TRUE(paths->has("/api/v1/hello/greetings/{id}"));
  auto get = paths->getObject("/api/v1/hello/greetings/{id}")->getObject("get");
  EXPECT_EQ(get->getValue<std::string>("x-annex-permission"), "hello.greeting.read");
  EXPECT_EQ(get->getArray("parameters")->getObject(0)->getValue<std::string>("name"), "id");
  EXPECT_TRUE(paths->getObject("/api/v1/hello/greetings")->has("post"));
  EXPECT_TRUE(paths->has("/api/v1/plugins"));
}

TEST(Daemon, IsNotReadyWhileAPluginFailedToStart) {
  TempDir dir;
  Annexd::Options o;
  o.plugin_dirs = {build_path("lib/annex/plugins"), fixture_dir(dir, {"fails_start"})};
  Annexd d(o);
  HttpResult ready = d.call("GET", "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  auto body = json(ready.body);
  EXPECT_EQ(body->getValue<std::string>("status"), "not_ready");
  EXPECT_EQ(body->getObject("checks")->getValue<std::string>("plugins"), "failed");
  auto down = body->getArray("plugins_not_running");
  ASSERT_TRUE(down);
  ASSERT_EQ(down->size(), 1u);
  EXPECT_EQ(down->getElement<std::string>(0), "org.annex.test.fails-start");
  EXPECT_EQ(d.call("GET", "/healthz").status, 200) << "the process itself is alive";
}

TEST(Daemon, ServesHttpsWhenACertificateIsConfigured) {
  TempDir dir;
  std::string cert = dir.str() + "/cert.pem", key = dir.str() + "/key.pem";
  std::string out;
  ASSERT_EQ(run_program("/usr/bin/openssl",
                        {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert},
                        &out),
            0)
      << out;
  Annexd::Options o;
  o.args = {"--set", "http.tls_cert=" + cert, "--set", "http.tls_key=" + key};
  Annexd d(o);
  d.ca_file = cert;
  ASSERT_EQ(d.base_url().rfind("https://", 0), 0u) << d.base_url();
  HttpResult r = d.call("GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("strict-transport-security"), "max-age=31536000");
  EXPECT_EQ(d.call("POST", "/api/v1/hello/greetings", R"({"name":"TLS"})").status, 201);
  // Plain HTTP to the TLS port gets no answer it could mistake for success.
  std::string plain = "http://" + d.base_url().substr(8);
  bool plain_ok = false;
  try {
    plain_ok = http_call(plain, "GET", "/healthz").status == 200;
  } catch (const std::exception&) {
  }
  EXPECT_FALSE(plain_ok);
}

TEST(Daemon, ShutdownLetsInFlightRequestsFinishAndStopsPlugins) {
  TempDir dir;
  Annexd::Options o;
  o.plugin_dirs = {build_path("lib/annex/plugins"), fixture_dir(dir, {"slow_route", "needs_hello"})};
  Annexd d(o);
  auto slow = std::async(std::launch::async, [&] { return d.call("GET", "/api/v1/test/slow?ms=800"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int code = d.terminate();
  HttpResult r = slow.get();
  EXPECT_EQ(r.status, 200) << "the request in flight at SIGTERM must complete";
  EXPECT_EQ(code, 0);
  std::string log = d.log();
  size_t hello = log.find("plugin org.annex.hello stopped");
  size_t dependant = log.find("plugin org.annex.test.needs-hello stopped");
  ASSERT_NE(hello, std::string::npos) << log;
  ASSERT_NE(dependant, std::string::npos) << log;
  EXPECT_LT(dependant, hello) << "plugins stop in the reverse of start-up order: a dependant before what it requires";
  EXPECT_NE(log.find("annexd stopped"), std::string::npos);
}

// Sends `bytes` on a new connection to `d` and returns all it answers until it closes the connection.
std::string raw_exchange(const Annexd& d, const std::string& bytes) {
  std::string url = d.base_url();  // http://127.0.0.1:PORT
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress(url.substr(url.find("//") + 2)));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  std::string answer;
  char buffer[4096];
  try {
    for (int got; (got = socket.receiveBytes(buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<size_t>(got));
  } catch (const Poco::Exception& e) {
    ADD_FAILURE() << "no end to the answer: " << e.displayText() << "; so far: " << answer;
  }
  return answer;
}

TEST(Daemon, AnswersRequestsItCannotParseInTheErrorShapeWithARequestIdAndCloses) {
  Annexd d({});
  struct Case {
    std::string name, bytes, field;
  };
  const std::vector<Case> cases = {
      {"a bare CR in a header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Odd: a\rb\r\n\r\n", ""},
      {"a garbage request line", std::string(40, 'G') + " / HTTP/1.1\r\n\r\n", ""},
      {"a version that is not HTTP/1.x", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", "version"},
      {"a 100 KB header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100 * 1024, 'b') + "\r\n\r\n", ""},
      {"Content-Length: abc", "POST /api/v1/hello/greetings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}",
       "Content-Length"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string answer = raw_exchange(d, c.bytes);
    ASSERT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer;
    size_t end = answer.find("\r\n\r\n");
    ASSERT_NE(end, std::string::npos) << answer;
    std::string head = answer.substr(0, end);
    EXPECT_NE(head.find("\r\nX-Request-Id: "), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nConnection: Close"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nContent-Type: application/json"), std::string::npos) << head;
    auto err = json(answer.substr(end + 4))->getObject("error");
    ASSERT_TRUE(err) << answer;
    EXPECT_EQ(err->getValue<std::string>("code"), "bad_request");
    if (c.field.empty()) {
      EXPECT_TRUE(err->isNull("field"));
    } else {
      EXPECT_EQ(err->getValue<std::string>("field"), c.field);
    }
  }
  EXPECT_EQ(d.call("GET", "/healthz").status, 200);
}

TEST(Daemon, APostWithoutContentLengthHasNoBodyAndIsAnsweredAtOnce) {
  Annexd d({});
  const std::string auth = "Host: x\r\nAuthorization: Bearer " + d.admin_token() + "\r\n";
  // Neither Content-Length nor chunked coding: the body is empty (RFC 9112 6.3), not "until the client closes".
  // Two such requests on one connection, the second closing it: both answered well within the 10 s timeout.
  auto started = std::chrono::steady_clock::now();
  std::string answer = raw_exchange(d, "POST /api/v1/auth/logout HTTP/1.1\r\n" + auth + "\r\n"
                                       "POST /api/v1/hello/greetings HTTP/1.1\r\n" + auth + "Connection: close\r\n\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  ASSERT_EQ(answer.rfind("HTTP/1.1 204 ", 0), 0u) << answer;
  size_t second = answer.find("\r\n\r\n") + 4;
  EXPECT_EQ(answer.compare(second, 10, "HTTP/1.1 4"), 0) << "an empty body is no greeting: " << answer;
}

TEST(Daemon, NoContentAndNotModifiedCarryNoBodySoAKeptAliveConnectionStaysInStep) {
  TempDir dir;
  Annexd::Options o;
  o.plugin_dirs = {build_path("lib/annex/plugins"), fixture_dir(dir, {"slow_route"})};
  Annexd d(o);
  const std::string auth = "Host: x\r\nAuthorization: Bearer " + d.admin_token() + "\r\n";
  // Three requests at once on one connection; the plugin writes a body even for 204 and 304.
  std::string answer = raw_exchange(d, "GET /api/v1/test/status?code=204 HTTP/1.1\r\n" + auth + "\r\n"
                                       "GET /api/v1/test/status?code=304 HTTP/1.1\r\n" + auth + "\r\n"
                                       "GET /healthz HTTP/1.1\r\n" + auth + "Connection: close\r\n\r\n");
  ASSERT_EQ(answer.rfind("HTTP/1.1 204 ", 0), 0u) << answer;
  size_t second = answer.find("\r\n\r\n") + 4;
  EXPECT_EQ(answer.compare(second, 13, "HTTP/1.1 304 "), 0) << "the 204 carried a body: " << answer;
  size_t third = answer.find("\r\n\r\n", second) + 4;
  EXPECT_EQ(answer.compare(third, 13, "HTTP/1.1 200 "), 0) << "the 304 carried a body: " << answer;
  std::string heads = answer.substr(0, third);
  EXPECT_EQ(heads.find("Content-Length"), std::string::npos) << heads;
  EXPECT_EQ(heads.find("answered"), std::string::npos) << heads;
  EXPECT_NE(heads.find("X-Request-Id: "), std::string::npos) << heads;
  // A core route's 204 likewise.
  HttpResult logout = d.call("POST", "/api/v1/auth/logout");
  EXPECT_EQ(logout.status, 204);
  EXPECT_EQ(logout.header("content-length"), "");
}

TEST(Daemon, APluginStatusOutsideHttpBecomesA500InTheErrorShapeAndIsLogged) {
  TempDir dir;
  Annexd::Options o;
  o.plugin_dirs = {build_path("lib/annex/plugins"), fixture_dir(dir, {"slow_route"})};
  Annexd d(o);
  for (const std::string code : {"999", "600", "99", "101", "-1"}) {
    HttpResult r = d.call("GET", "/api/v1/test/status?code=" + code);
    EXPECT_EQ(r.status, 500) << code << ": " << r.body;
    EXPECT_EQ(json(r.body)->getObject("error")->getValue<std::string>("code"), "internal") << r.body;
  }
  EXPECT_EQ(d.call("GET", "/api/v1/test/status?code=418").status, 418);
  d.terminate();
  EXPECT_NE(d.log().find("answered with status 999"), std::string::npos) << d.log();
}

TEST(Daemon, KeepsDataAcrossARestart) {
  TempDir dir;
  Annexd::Options o;
  o.data_dir = dir.str();
  int64_t id = 0;
  {
    Annexd d(o);
    HttpResult created = d.call("POST", "/api/v1/hello/greetings", R"({"name":"Persistent"})");
    ASSERT_EQ(created.status, 201);
    id = json(created.body)->getValue<int64_t>("id");
  }
  Annexd again(o);
  HttpResult read = again.call("GET", "/api/v1/hello/greetings/" + std::to_string(id));
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(json(read.body)->getValue<std::string>("name"), "Persistent");
  EXPECT_NE(again.log().find("annexd"), std::string::npos);
}

TEST(Daemon, RunsOnPostgreSQL) {
  std::string url = postgres_url();
  if (url.empty()) GTEST_SKIP() << "no PostgreSQL for this run";
  TempDir dir;
  store::DatabaseOptions db;
  ASSERT_TRUE(fresh_database(Backend::kPostgresql, dir, &db));
  Annexd::Options o;
  o.args = {"--database-url", db.target};
  Annexd d(o);
  EXPECT_NE(d.log().find("storage: postgresql"), std::string::npos) << d.log();
  ASSERT_EQ(d.call("POST", "/api/v1/hello/greetings", R"({"name":"Pg"})").status, 201);
  EXPECT_EQ(json(d.call("GET", "/api/v1/hello/greetings").body)->getArray("items")->size(), 1u);
  EXPECT_TRUE(eventually([&] { return json(d.call("GET", "/api/v1/hello/stats").body)->getValue<int>("greetings_seen") == 1; }));
  EXPECT_EQ(json(d.call("GET", "/readyz").body)->getValue<std::string>("status"), "ready");
}

// Under systemd (Type=notify) annexd says when it is ready to serve and when it begins to stop.
TEST(Daemon, TellsTheServiceManagerWhenItIsReadyAndWhenItStops) {
  TempDir dir;
  std::string path = (dir.path() / "notify").string();
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval wait{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  auto receive = [&] {
    char buffer[512];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  };
  Annexd::Options o;
  o.env = {{"NOTIFY_SOCKET", path}};
  Annexd d(o);
  std::string ready = receive();
  EXPECT_EQ(ready.rfind("READY=1\n", 0), 0u) << ready;
  EXPECT_NE(ready.find(d.base_url()), std::string::npos) << ready;
  EXPECT_EQ(d.call("GET", "/readyz").status, 200) << "ready when it says so";
  d.signal(SIGTERM);
  EXPECT_EQ(receive(), "STOPPING=1");
  EXPECT_EQ(d.wait_exit(std::chrono::seconds(20)), 0);
  ::close(fd);
}

TEST(Daemon, RefusesToStartOnABadConfigurationNamingTheKey) {
  Annexd::Options o;
  o.args = {"--set", "http.threads=0"};
  o.expect_start = false;
  Annexd d(o);
  EXPECT_TRUE(d.base_url().empty());
  std::string log = d.log();
  EXPECT_NE(log.find("http.threads"), std::string::npos) << log;
}

}  // namespace
}  // namespace annex::test

namespace annex::test {
namespace {

TEST(Daemon, SigtermFirstTurnsReadinessAwayWhileStillServingThenStops) {
  Annexd::Options o;
  o.args = {"--set", "shutdown_drain_s=3"};
  Annexd d(o);
  ASSERT_EQ(d.call("GET", "/readyz").status, 200);
  auto sent = std::chrono::steady_clock::now();
  d.signal(SIGTERM);
  ASSERT_TRUE(eventually([&] { return d.call("GET", "/readyz").status == 503; }, std::chrono::seconds(1)))
      << "the balancer is told within a second";
  HttpResult ready = d.call("GET", "/readyz");
  EXPECT_NE(ready.body.find("\"draining\""), std::string::npos) << ready.body;
  // Everything else is still served while the balancer notices.
  EXPECT_EQ(d.call("GET", "/api/v1/hello/greetings").status, 200);
  EXPECT_EQ(d.call("POST", "/api/v1/hello/greetings", R"({"name":"during the drain"})").status, 201);
  EXPECT_EQ(d.call("GET", "/healthz").status, 200);
  EXPECT_EQ(d.wait_exit(std::chrono::seconds(20)), 0) << "then it stops by itself";
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(2900)) << "it drained for the time configured";
  EXPECT_NE(d.log().find("draining"), std::string::npos);
}

}  // namespace
}  // namespace annex::test

namespace annex::test {
namespace {

// Every daemon on one database signs the one audit chain with one key: a daemon given another key than the one
// that signed the log's checkpoints refuses to start, naming both keys and the setting.
TEST(Daemon, RefusesToSignTheAuditLogWithAnotherKeyThanTheOneThatSignsIt) {
  TempDir dir, elsewhere;
  Annexd::Options o;
  o.data_dir = dir.str();
  {
    Annexd d(o);
    ASSERT_EQ(d.call("POST", "/api/v1/hello/greetings", R"({"name":"Signed"})").status, 201);
  }  // stopping signs the final checkpoint with the key in the data directory
  Annexd::Options other = o;
  other.args = {"--set", "audit.signing_key=" + (elsewhere.path() / "other.key").string()};
  other.expect_start = false;
  Annexd refused(other);
  EXPECT_TRUE(refused.base_url().empty());
  const std::string log = refused.log();
  EXPECT_NE(log.find("audit.signing_key: this daemon's key"), std::string::npos) << log;
  EXPECT_NE(log.find("that signs this database's audit log"), std::string::npos) << log;
  Annexd again(o);
  EXPECT_EQ(again.call("GET", "/readyz").status, 200) << "with the key that signs it, it starts";
}

}  // namespace
}  // namespace annex::test

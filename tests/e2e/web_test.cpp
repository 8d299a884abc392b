// The web application's ground in annexd: its built files served at "/" with a strict Content-Security-Policy,
// hashed assets cached for good and everything else revalidated, the application's own routes answered with its
// page, API paths never; and the browser's sign-in — a session in an HttpOnly, SameSite=Strict cookie whose
// changes need the session's CSRF token and this origin, signed out for good.
#include "support/test_support.h"

#include <Poco/InflatingStream.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace annex::test {
namespace {

using nlohmann::json;

std::string field_of(const HttpResult& r) {
  json j = json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("error") && j["error"]["field"].is_string() ? j["error"]["field"].get<std::string>() : "";
}

class WebApplication : public testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() / "ui" / "assets");
    std::ofstream(dir_.path() / "ui" / "index.html") << "<!doctype html><html><head><script type=\"module\" src=\"/assets/app-3f2a.js\"></script>"
                                                         "</head><body><div id=\"app\"></div></body></html>";
    for (int i = 0; i < 200; ++i) script_ += "export const line" + std::to_string(i) + " = 'the same words again and again';\n";
    std::ofstream(dir_.path() / "ui" / "assets" / "app-3f2a.js") << script_;
  }
  Annexd::Options with_ui(const std::string& ui_dir) const {
    Annexd::Options o;
    o.args = {"--set", "http.ui_dir=" + ui_dir};
    return o;
  }
  HttpResult get(const Annexd& d, const std::string& path, const std::map<std::string, std::string>& headers = {}) const {
    return http_call(d.base_url(), "GET", path, "", headers);
  }

  TempDir dir_;
  std::string script_;
};

TEST_F(WebApplication, IsServedAtTheRootUnderAStrictPolicyWithHashedAssetsCachedForGood) {
  Annexd d(with_ui((dir_.path() / "ui").string()));
  HttpResult page = get(d, "/");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.header("content-type").rfind("text/html", 0), 0u);
  EXPECT_NE(page.body.find("<div id=\"app\">"), std::string::npos);
  std::string csp = page.header("content-security-policy");
  for (const char* directive : {"default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'",
                                "object-src 'none'"}) {
    EXPECT_NE(csp.find(directive), std::string::npos) << directive << " in " << csp;
  }
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(page.header("cache-control"), "no-cache") << "the page is revalidated, so a new build is seen at once";
  EXPECT_EQ(page.header("x-frame-options"), "DENY");

  HttpResult script = get(d, "/assets/app-3f2a.js");
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.body, script_);
  EXPECT_EQ(script.header("content-type").rfind("text/javascript", 0), 0u);
  EXPECT_EQ(script.header("cache-control"), "public, max-age=31536000, immutable");

  // Compressed for a browser that takes it, and the same bytes once inflated.
  HttpResult zipped = get(d, "/assets/app-3f2a.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_EQ(zipped.header("content-encoding"), "gzip");
  EXPECT_LT(zipped.body.size(), script_.size() / 4);
  std::istringstream compressed(zipped.body);
  Poco::InflatingInputStream inflate(compressed, Poco::InflatingStreamBuf::STREAM_GZIP);
  std::string inflated((std::istreambuf_iterator<char>(inflate)), std::istreambuf_iterator<char>());
  EXPECT_EQ(inflated, script_);

  // Revalidation by ETag.
  ASSERT_FALSE(page.header("etag").empty());
  EXPECT_EQ(get(d, "/", {{"If-None-Match", page.header("etag")}}).status, 304);
  EXPECT_EQ(get(d, "/", {{"If-None-Match", "\"stale\""}}).status, 200);
}

TEST_F(WebApplication, ItsOwnRoutesGetThePageButMissingAssetsAndApiPathsNever) {
  Annexd d(with_ui((dir_.path() / "ui").string()));
  HttpResult route = get(d, "/approvals/ap-123");
  EXPECT_EQ(route.status, 200);
  EXPECT_NE(route.body.find("<div id=\"app\">"), std::string::npos) << "a reload on the application's own route";
  HttpResult asset = get(d, "/assets/app-0000.js");
  EXPECT_EQ(asset.status, 404) << "an old build's asset is missing, not answered with HTML";
  EXPECT_EQ(asset.header("content-type"), "application/json");
  HttpResult api = get(d, "/api/v1/no-such-thing");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.header("content-type"), "application/json");
  EXPECT_EQ(http_call(d.base_url(), "POST", "/approvals", "{}", {{"Content-Type", "application/json"}}).status, 404)
      << "only GET and HEAD reach the application's files";
  // Only the files read from the directory at start are ever answered: no path climbs out of it.
  HttpResult climbing = get(d, "/assets/../../../../etc/passwd");
  EXPECT_EQ(climbing.status, 404);
  EXPECT_EQ(climbing.body.find("root:"), std::string::npos);
  EXPECT_EQ(get(d, "/..%2f..%2f..%2fetc%2fpasswd").body.find("root:"), std::string::npos);
}

TEST_F(WebApplication, ADirectoryWithoutThePageStopsTheDaemonNamingTheSetting) {
  Annexd::Options o = with_ui((dir_.path() / "empty").string());
  o.expect_start = false;
  Annexd d(o);
  EXPECT_NE(d.log().find("http.ui_dir"), std::string::npos) << d.log();
}

class BrowserSession : public testing::Test {
 protected:
  void SetUp() override {
    Annexd::Options o;
    o.args = {"--set", "auth.pbkdf2_iterations=100000"};
    d_ = std::make_unique<Annexd>(o);
    std::string out;
    ASSERT_EQ(d_->annexctl({"user", "create", "lena", "--role", "sales-rep", "--sector", "north", "--password-stdin"}, &out,
                           "a long enough secret\n"),
              0)
        << out;
  }
  HttpResult with_cookie(const std::string& method, const std::string& path, const std::string& body,
                         std::map<std::string, std::string> headers = {}) {
    headers["Cookie"] = "theme=dark; " + cookie_;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return http_call(d_->base_url(), method, path, body, headers);
  }
  json sign_in() {
    HttpResult r = http_call(d_->base_url(), "POST", "/api/v1/auth/session", R"({"login":"lena","password":"a long enough secret"})",
                             {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 200) << r.body;
    set_cookie_ = r.header("set-cookie");
    cookie_ = set_cookie_.substr(0, set_cookie_.find(';'));
    return json::parse(r.body);
  }

  std::unique_ptr<Annexd> d_;
  std::string set_cookie_, cookie_;
};

TEST_F(BrowserSession, SignInSetsAnHttpOnlyStrictCookieWhoseChangesNeedTheCsrfTokenAndThisOrigin) {
  json session = sign_in();
  EXPECT_EQ(cookie_.rfind("annex_session=", 0), 0u) << set_cookie_;
  for (const char* attribute : {"; HttpOnly", "; SameSite=Strict", "; Path=/", "; Max-Age=43200"}) {
    EXPECT_NE(set_cookie_.find(attribute), std::string::npos) << attribute << " in " << set_cookie_;
  }
  EXPECT_EQ(set_cookie_.find("Secure"), std::string::npos) << "plain HTTP: a Secure cookie would never come back";
  EXPECT_EQ(session.dump().find(cookie_.substr(14)), std::string::npos) << "the secret is in the cookie only";
  std::string csrf = session["csrf_token"];
  ASSERT_FALSE(csrf.empty());
  EXPECT_EQ(session["user"]["roles"][0]["role"], "sales-rep") << "the page learns who signed in at once: " << session.dump();
  EXPECT_FALSE(session["user"]["permissions"].empty());

  // Reading needs the cookie only; who am I tells the page its CSRF token again (after a reload).
  HttpResult me = with_cookie("GET", "/api/v1/auth/me", "");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(json::parse(me.body)["login"], "lena");
  EXPECT_EQ(json::parse(me.body)["csrf_token"], csrf);

  // A change without the token, with another session's or a made-up one, or from another origin: refused, and
  // nothing is created.
  std::string greeting = R"({"name":"from a browser"})";
  HttpResult bare = with_cookie("POST", "/api/v1/hello/greetings", greeting);
  EXPECT_EQ(bare.status, 403);
  EXPECT_EQ(field_of(bare), "X-CSRF-Token");
  EXPECT_EQ(with_cookie("POST", "/api/v1/hello/greetings", greeting, {{"X-CSRF-Token", std::string(csrf.size(), 'a')}}).status, 403);
  HttpResult foreign = with_cookie("POST", "/api/v1/hello/greetings", greeting, {{"X-CSRF-Token", csrf}, {"Origin", "http://attacker.example"}});
  EXPECT_EQ(foreign.status, 403);
  EXPECT_EQ(field_of(foreign), "Origin");
  json before = json::parse(d_->call("GET", "/api/v1/hello/greetings").body);
  EXPECT_TRUE(before["items"].empty()) << before.dump();

  // With the token, from this origin: done.
  std::string origin = d_->base_url();
  HttpResult made = with_cookie("POST", "/api/v1/hello/greetings", greeting, {{"X-CSRF-Token", csrf}, {"Origin", origin}});
  EXPECT_EQ(made.status, 201) << made.body;

  // Signing out ends the session for good and clears the cookie.
  HttpResult out = with_cookie("DELETE", "/api/v1/auth/session", "", {{"X-CSRF-Token", csrf}});
  EXPECT_EQ(out.status, 204) << out.body;
  EXPECT_NE(out.header("set-cookie").find("annex_session=;"), std::string::npos) << out.header("set-cookie");
  EXPECT_NE(out.header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(with_cookie("GET", "/api/v1/auth/me", "").status, 401);
}

TEST_F(BrowserSession, BearerTokensKeepWorkingWithoutCsrfAndACookieCarriesNothingButASession) {
  std::string token = d_->user_with_role("rita", "sales-rep", "north");
  EXPECT_EQ(d_->call_as(token, "POST", "/api/v1/hello/greetings", R"({"name":"api"})").status, 201) << "no CSRF token for the API";
  HttpResult not_a_browser = d_->call_as(token, "DELETE", "/api/v1/auth/session");
  EXPECT_EQ(not_a_browser.status, 400) << "an API token is not signed out as a browser";
  EXPECT_EQ(d_->call_as(token, "GET", "/api/v1/auth/me").status, 200) << "and keeps working";
  cookie_ = "annex_session=" + token;
  HttpResult r = with_cookie("GET", "/api/v1/auth/me", "");
  EXPECT_EQ(r.status, 401) << "an API token in a cookie is no session";
  EXPECT_EQ(field_of(r), "Cookie");
}

TEST_F(BrowserSession, AStaleCookieNeverKeepsAnyoneFromSigningInAgain) {
  sign_in();
  std::string old = cookie_;
  json s = sign_in();
  cookie_ = old;
  HttpResult again = with_cookie("POST", "/api/v1/auth/session", R"({"login":"lena","password":"a long enough secret"})");
  EXPECT_EQ(again.status, 200) << "signing in is public: a cookie, stale or not, plays no part";
  HttpResult wrong = http_call(d_->base_url(), "POST", "/api/v1/auth/session", R"({"login":"lena","password":"not it at all"})",
                               {{"Content-Type", "application/json"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_TRUE(wrong.header("set-cookie").empty());
}

}  // namespace
}  // namespace annex::test

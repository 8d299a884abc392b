// Who may call what: tokens, sessions, roles and the refusals, against a running annexd.
#include "support/test_support.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

namespace annex::test {
namespace {

Poco::JSON::Object::Ptr json(const std::string& body) {
  return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}

std::string error_code(const HttpResult& r) { return json(r.body)->getObject("error")->getValue<std::string>("code"); }

Annexd::Options fast_logins() {
  Annexd::Options o;
  o.args = {"--set", "auth.pbkdf2_iterations=100000", "--set", "auth.max_failed_logins=3"};
  return o;
}

TEST(Auth, AProtectedRouteWithoutATokenIs401) {
  Annexd d({});
  HttpResult r = d.anonymous("GET", "/api/v1/hello/greetings");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "unauthenticated");
  EXPECT_EQ(json(r.body)->getObject("error")->getValue<std::string>("field"), "Authorization");
  HttpResult forged = d.call_as("annex_pat_forgedforgedforgedforgedforgedforgedforged", "GET", "/api/v1/hello/greetings");
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(d.anonymous("GET", "/api/v1/plugins").status, 401);
}

TEST(Auth, PublicRoutesNeedNoToken) {
  Annexd d({});
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"}) {
    EXPECT_EQ(d.anonymous("GET", path).status, 200) << path;
  }
}

TEST(Auth, APermissionTheRolesLackIs403NamingIt) {
  Annexd d({});
  std::string auditor = d.user_with_role("audrey", "auditor");
  EXPECT_EQ(d.call_as(auditor, "GET", "/api/v1/hello/greetings").status, 200);
  HttpResult write = d.call_as(auditor, "POST", "/api/v1/hello/greetings", R"({"name":"x"})");
  EXPECT_EQ(write.status, 403);
  EXPECT_EQ(error_code(write), "forbidden");
  EXPECT_NE(json(write.body)->getObject("error")->getValue<std::string>("message").find("hello.greeting.write"),
            std::string::npos);
  std::string rep = d.user_with_role("rita", "sales-rep", "north");
  EXPECT_EQ(d.call_as(rep, "POST", "/api/v1/hello/greetings", R"({"name":"y"})").status, 201);
  auto me = json(d.call_as(rep, "GET", "/api/v1/auth/me").body);
  EXPECT_EQ(me->getValue<std::string>("login"), "rita");
  EXPECT_EQ(me->getArray("roles")->getObject(0)->getValue<std::string>("sector"), "north");
}

TEST(Auth, PasswordLoginIssuesASessionAndLogoutEndsIt) {
  Annexd d(fast_logins());
  std::string out;
  ASSERT_EQ(d.annexctl({"user", "create", "lena", "--role", "sales-rep", "--password-stdin"}, &out,
                       "a long enough secret\n"), 0) << out;
  HttpResult login = d.anonymous("POST", "/api/v1/auth/login", R"({"login":"lena","password":"a long enough secret"})");
  ASSERT_EQ(login.status, 200) << login.body;
  std::string session = json(login.body)->getValue<std::string>("token");
  EXPECT_EQ(session.rfind("annex_ses_", 0), 0u);
  EXPECT_EQ(d.call_as(session, "GET", "/api/v1/auth/me").status, 200);
  EXPECT_EQ(d.call_as(session, "POST", "/api/v1/auth/logout").status, 204);
  EXPECT_EQ(d.call_as(session, "GET", "/api/v1/auth/me").status, 401) << "a logged-out session must stop at once";
  EXPECT_EQ(d.log().find(session), std::string::npos) << "a secret must never be logged";
}

TEST(Auth, ShortPasswordsAreRefusedNamingTheField) {
  Annexd d({});
  std::string out;
  EXPECT_EQ(d.annexctl({"user", "create", "shorty", "--role", "sales-rep", "--password-stdin"}, &out, "tooshort\n"), 1);
  EXPECT_NE(out.find("password"), std::string::npos) << out;
  EXPECT_EQ(d.annexctl({"user", "create", "nobody", "--role", "emperor"}, &out), 2);
  EXPECT_NE(out.find("unknown role"), std::string::npos) << out;
}

TEST(Auth, WrongPasswordsAreRefusedThenThrottled) {
  Annexd d(fast_logins());
  std::string out;
  ASSERT_EQ(d.annexctl({"user", "create", "max", "--role", "sales-rep", "--password-stdin"}, &out,
                       "the right password\n"), 0) << out;
  HttpResult unknown = d.anonymous("POST", "/api/v1/auth/login", R"({"login":"ghost","password":"whatever it is"})");
  HttpResult wrong = d.anonymous("POST", "/api/v1/auth/login", R"({"login":"max","password":"not the password"})");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(json(unknown.body)->getObject("error")->getValue<std::string>("message"),
            json(wrong.body)->getObject("error")->getValue<std::string>("message"))
      << "an unknown login and a wrong password must look the same";
  d.anonymous("POST", "/api/v1/auth/login", R"({"login":"max","password":"still not it"})");
  HttpResult throttled = d.anonymous("POST", "/api/v1/auth/login", R"({"login":"max","password":"the right password"})");
  EXPECT_EQ(throttled.status, 429) << "after 3 failures even the right password waits";
  EXPECT_EQ(error_code(throttled), "too_many_requests");
  int retry = std::atoi(throttled.header("retry-after").c_str());
  EXPECT_GT(retry, 0) << "says when to try again: " << throttled.header("retry-after");
  EXPECT_LE(retry, 901);
  EXPECT_NE(d.log().find("login throttled: max"), std::string::npos);
}

TEST(Auth, ARevokedTokenStopsWorkingAtOnce) {
  Annexd d({});
  std::string rep = d.user_with_role("paul", "sales-rep");
  HttpResult created = d.call_as(rep, "POST", "/api/v1/tokens", R"({"name":"ci job","expires_in_days":30})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto token = json(created.body);
  std::string secret = token->getValue<std::string>("token");
  EXPECT_EQ(d.call_as(secret, "GET", "/api/v1/hello/greetings").status, 200);
  HttpResult list = d.call_as(rep, "GET", "/api/v1/tokens");
  EXPECT_EQ(list.body.find(secret), std::string::npos) << "a listing never shows secrets";
  EXPECT_EQ(d.call_as(rep, "DELETE", "/api/v1/tokens/" + token->getValue<std::string>("id")).status, 204);
  EXPECT_EQ(d.call_as(secret, "GET", "/api/v1/hello/greetings").status, 401);
}

TEST(Auth, AnotherUsersTokenCannotBeRevokedNorSeen) {
  Annexd d({});
  std::string a = d.user_with_role("anna", "sales-rep");
  std::string b = d.user_with_role("bert", "sales-rep");
  auto token = json(d.call_as(a, "POST", "/api/v1/tokens", R"({"name":"mine"})").body);
  std::string id = token->getValue<std::string>("id");
  EXPECT_EQ(d.call_as(b, "DELETE", "/api/v1/tokens/" + id).status, 404);
  EXPECT_EQ(d.call_as(b, "GET", "/api/v1/tokens").body.find(id), std::string::npos);
  EXPECT_EQ(d.call_as(token->getValue<std::string>("token"), "GET", "/api/v1/auth/me").status, 200);
}

TEST(Auth, ADisabledAccountIsRefused) {
  Annexd d({});
  std::string rep = d.user_with_role("leaver", "sales-rep");
  ASSERT_EQ(d.call_as(rep, "GET", "/api/v1/auth/me").status, 200);
  std::string out;
  ASSERT_EQ(d.annexctl({"user", "disable", "leaver"}, &out), 0) << out;
  // annexctl is another process: the daemon trusts a resolved token for at most one second.
  EXPECT_TRUE(eventually([&] { return d.call_as(rep, "GET", "/api/v1/auth/me").status == 401; }, std::chrono::seconds(3)));
  HttpResult r = d.call_as(rep, "GET", "/api/v1/auth/me");
  EXPECT_NE(r.body.find("revoked"), std::string::npos) << "disabling revoked the token: " << r.body;
  // Re-activating the account does not bring the token back, not even from the daemon's cache.
  ASSERT_EQ(d.annexctl({"user", "activate", "leaver"}, &out), 0) << out;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(d.call_as(rep, "GET", "/api/v1/auth/me").status, 401);
}

}  // namespace
}  // namespace annex::test

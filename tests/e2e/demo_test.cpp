// `annexctl demo load`: a demo company loaded through the API of the installation's own store — ten sectors,
// people of every role signing in with the demo password, opportunities in every stage, contracts with
// collections, claims and advances in every state, last month's statements in every state — once only.
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

namespace annex::test {
namespace {

using nlohmann::json;

TEST(Demo, LoadsACompanyWithEveryScreensDataIntoTheStoreOfARunningDaemonOnce) {
  Annexd d({});
  std::string out;
  ASSERT_EQ(d.annexctl({"demo", "load"}, &out), 0) << out;
  EXPECT_NE(out.find("annex demo 2026"), std::string::npos) << "says how to sign in: " << out;

  HttpResult sectors = d.call("GET", "/api/v1/sectors");
  ASSERT_EQ(sectors.status, 200);
  EXPECT_GE(json::parse(sectors.body)["items"].size(), 10u);

  // A demo person signs in as a browser would, and sees what their role reaches.
  HttpResult session = http_call(d.base_url(), "POST", "/api/v1/auth/session", R"({"login":"liu.finance","password":"annex demo 2026"})",
                                 {{"Content-Type", "application/json"}});
  ASSERT_EQ(session.status, 200) << session.body;
  std::string cookie = session.header("set-cookie").substr(0, session.header("set-cookie").find(';'));
  HttpResult inbox = http_call(d.base_url(), "GET", "/api/v1/approvals", "", {{"Cookie", cookie}});
  ASSERT_EQ(inbox.status, 200);
  EXPECT_FALSE(json::parse(inbox.body)["items"].empty()) << "finance has advances and statements to decide";

  // Everyone the demo made signs in with its password; what they see comes through their roles.
  auto cookie_of = [&](const std::string& login) {
    HttpResult r = http_call(d.base_url(), "POST", "/api/v1/auth/session", R"({"login":")" + login + R"(","password":"annex demo 2026"})",
                             {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 200) << login << ": " << r.body;
    return r.header("set-cookie").substr(0, r.header("set-cookie").find(';'));
  };
  auto list = [&](const std::string& as, const std::string& path) {
    HttpResult r = http_call(d.base_url(), "GET", path, "", {{"Cookie", as}});
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::parse(r.body)["items"];
  };
  std::string executive = cookie_of("chen.exec");
  std::set<std::string> stages, claims, advances, statements;
  for (const json& o : list(executive, "/api/v1/pipeline/opportunities?limit=500")) stages.insert(o["stage"].get<std::string>());
  EXPECT_EQ(stages, (std::set<std::string>{"prospecting", "qualification", "proposal", "negotiation", "won", "lost"}));
  bool collected = false;
  for (const json& c : list(executive, "/api/v1/contracts?limit=500")) collected = collected || c["collected"]["amount"].get<int64_t>() > 0;
  EXPECT_TRUE(collected);
  for (const json& c : list(cookie, "/api/v1/expenses/claims?limit=500")) claims.insert(c["status"].get<std::string>());
  for (const json& a : list(cookie, "/api/v1/expenses/advances?limit=500")) advances.insert(a["status"].get<std::string>());
  for (const json& s : list(cookie, "/api/v1/relationship-spending/statements?limit=500")) statements.insert(s["status"].get<std::string>());
  EXPECT_EQ(claims, (std::set<std::string>{"draft", "submitted", "approved", "rejected", "returned"}));
  EXPECT_EQ(advances, (std::set<std::string>{"requested", "approved", "paid"}));
  EXPECT_EQ(statements, (std::set<std::string>{"draft", "submitted", "returned", "signed"}));
  std::set<std::string> own;
  for (const json& c : list(cookie_of("zheng.rep"), "/api/v1/expenses/claims?limit=500")) own.insert(c["status"].get<std::string>());
  EXPECT_TRUE(own.count("draft")) << "a rep has a draft claim of their own";

  // Once only: a second load is refused and changes nothing.
  EXPECT_EQ(d.annexctl({"demo", "load"}, &out), 1);
  EXPECT_NE(out.find("already"), std::string::npos) << out;
  // The tokens the load worked with are revoked.
  HttpResult tokens = http_call(d.base_url(), "GET", "/api/v1/tokens", "", {{"Cookie", cookie}});
  ASSERT_EQ(tokens.status, 200);
  for (const json& t : json::parse(tokens.body)["items"]) {
    if (t["name"] == "demo load") {
      EXPECT_FALSE(t["revoked_at"].is_null()) << t.dump();
    }
  }
}

}  // namespace
}  // namespace annex::test

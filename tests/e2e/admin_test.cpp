// The administration API, the audit log and approvals, against a running annexd: changes take effect at once,
// nobody grants more than they hold, every change is audited, and the audit log proves it was not rewritten.
#include "support/test_support.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

namespace annex::test {
namespace {

Poco::JSON::Object::Ptr json(const std::string& body) {
  return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}

std::string id_of(const Annexd& d, const std::string& token) {
  return json(d.call_as(token, "GET", "/api/v1/auth/me").body)->getValue<std::string>("id");
}

std::vector<std::string> logins(const HttpResult& r) {
  std::vector<std::string> out;
  auto items = json(r.body)->getArray("items");
  for (size_t i = 0; i < items->size(); ++i) out.push_back(items->getObject(i)->getValue<std::string>("login"));
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

TEST(Admin, DisablingAUserStopsTheirTokensAtOnceAndIsAudited) {
  Annexd d({});
  std::string rep = d.user_with_role("rep", "sales-rep", "north");
  std::string rep_id = id_of(d, rep);
  ASSERT_EQ(d.call_as(rep, "GET", "/api/v1/hello/greetings").status, 200);  // cached now
  HttpResult off = d.call("PATCH", "/api/v1/users/" + rep_id, R"({"status":"disabled"})");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(d.call_as(rep, "GET", "/api/v1/hello/greetings").status, 401) << "no grace period";
  ASSERT_EQ(d.call("PATCH", "/api/v1/users/" + rep_id, R"({"status":"active"})").status, 200);
  EXPECT_EQ(d.call_as(rep, "GET", "/api/v1/hello/greetings").status, 401) << "re-activation revives no old token";
  EXPECT_EQ(d.call("PATCH", "/api/v1/users/" + rep_id, R"({"status":"gone"})").status, 422);
  EXPECT_EQ(d.call("PATCH", "/api/v1/users/" + id_of(d, d.admin_token()), R"({"status":"frozen"})").status, 403)
      << "nobody freezes themselves";

  HttpResult log = d.call("GET", "/api/v1/audit?object=annex.user/" + rep_id);
  ASSERT_EQ(log.status, 200);
  auto items = json(log.body)->getArray("items");
  std::vector<std::string> actions;
  for (size_t i = 0; i < items->size(); ++i) actions.push_back(items->getObject(i)->getValue<std::string>("action"));
  EXPECT_EQ(actions, (std::vector<std::string>{"annex.user.create", "annex.user.status", "annex.user.status"}));
  EXPECT_EQ(items->getObject(1)->getObject("after")->getValue<std::string>("status"), "disabled");
  EXPECT_EQ(items->getObject(1)->getObject("before")->getValue<std::string>("status"), "active");
}

TEST(Admin, ASectorAdministratorManagesOnlyTheirSectorAndGrantsNoMoreThanTheyHold) {
  Annexd d({});
  std::string sadmin = d.user_with_role("sadmin", "sector-admin", "north");
  d.user_with_role("southie", "sales-rep", "south");
  HttpResult created = d.call_as(sadmin, "POST", "/api/v1/users", R"({"login":"newbie","sector_id":"north"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string newbie = json(created.body)->getValue<std::string>("id");
  EXPECT_EQ(d.call_as(sadmin, "POST", "/api/v1/users", R"({"login":"x","sector_id":"south"})").status, 403);
  EXPECT_EQ(d.call_as(sadmin, "POST", "/api/v1/users", R"({"login":"y"})").status, 422);
  EXPECT_EQ(d.call_as(sadmin, "POST", "/api/v1/users/" + newbie + "/roles", R"({"role":"sales-rep","sector_id":"north"})").status, 201);
  EXPECT_EQ(d.call_as(sadmin, "POST", "/api/v1/users/" + newbie + "/roles", R"({"role":"sales-rep","sector_id":"south"})").status, 403);
  EXPECT_EQ(d.call_as(sadmin, "POST", "/api/v1/users/" + newbie + "/roles", R"({"role":"system-admin","sector_id":"north"})").status, 403);
  EXPECT_EQ(d.call_as(sadmin, "POST", "/api/v1/users/" + newbie + "/roles", R"({"role":"auditor","sector_id":"north"})").status, 403)
      << "auditor reaches every sector";
  EXPECT_EQ(d.call_as(sadmin, "POST", "/api/v1/users/" + newbie + "/roles", R"({"role":"wizard","sector_id":"north"})").status, 422);
  std::string own = id_of(d, sadmin);
  EXPECT_EQ(d.call_as(sadmin, "POST", "/api/v1/users/" + own + "/roles", R"({"role":"sales-rep","sector_id":"north"})").status, 403)
      << "nobody changes their own roles";
  auto seen = logins(d.call_as(sadmin, "GET", "/api/v1/users"));
  EXPECT_TRUE(contains(seen, "newbie"));
  EXPECT_FALSE(contains(seen, "southie"));
  // A system administrator who is a member of the sector is beyond a sector administrator.
  std::string boss = id_of(d, d.user_with_role("boss", "system-admin", "north"));
  EXPECT_EQ(d.call_as(sadmin, "PATCH", "/api/v1/users/" + boss, R"({"status":"frozen"})").status, 403);
  // Business roles do not manage accounts, whatever their *.write patterns.
  std::string exec = d.user_with_role("exec", "group-executive", "north");
  EXPECT_EQ(d.call_as(exec, "POST", "/api/v1/users", R"({"login":"z","sector_id":"north"})").status, 403);
  EXPECT_EQ(d.call_as(exec, "POST", "/api/v1/sectors", R"({"id":"east","name":"East"})").status, 403);
  EXPECT_EQ(d.call("POST", "/api/v1/sectors", R"({"id":"east","name":"East"})").status, 201);
  EXPECT_EQ(d.call("POST", "/api/v1/sectors", R"({"id":"east","name":"East"})").status, 409);
  EXPECT_EQ(d.call("POST", "/api/v1/sectors", R"({"id":"no spaces","name":"x"})").status, 422);
}

TEST(Admin, IdleAccountsAreReported) {
  Annexd d({});
  std::string idle = id_of(d, d.user_with_role("idle", "sales-rep", "north"));
  std::string busy = id_of(d, d.user_with_role("busy", "sales-rep", "north"));
  d.sql("UPDATE annex_users SET created_at = '2020-01-01T00:00:00Z' WHERE id IN ('" + idle + "', '" + busy + "')");
  d.sql("UPDATE annex_users SET last_login_at = '2020-01-02T00:00:00Z' WHERE id = '" + idle + "'");
  d.sql("UPDATE annex_users SET last_login_at = '2999-01-01T00:00:00Z' WHERE id = '" + busy + "'");
  HttpResult r = d.call("GET", "/api/v1/users/idle?days=14");
  ASSERT_EQ(r.status, 200) << r.body;
  auto found = logins(r);
  EXPECT_TRUE(contains(found, "idle"));
  EXPECT_FALSE(contains(found, "busy"));
  EXPECT_EQ(d.call("GET", "/api/v1/users/idle?days=0").status, 400);
  // A sector head has no reach over accounts outside their sector; a rep sees only themselves.
  std::string rep = d.user_with_role("rep", "sales-rep", "south");
  EXPECT_FALSE(contains(logins(d.call_as(rep, "GET", "/api/v1/users/idle?days=14")), "idle"));
}

TEST(Admin, AuditSearchTakesRfc3339TimesAndRefusesTheRestNamingTheParameter) {
  Annexd d({});
  std::string rep = d.user_with_role("rep", "sales-rep", "north");
  ASSERT_EQ(d.call_as(rep, "POST", "/api/v1/hello/greetings", R"({"name":"Ada"})").status, 201);
  const std::string path = "/api/v1/audit?object_type=hello.greeting";
  for (const char* bad : {"2026-02-30T00:00:00Z", "999-06-01T00:00:00Z", "2027-1-5T00:00:00Z", "2026-11-23"}) {
    HttpResult r = d.call("GET", path + "&from=" + bad);
    EXPECT_EQ(r.status, 422) << bad << ": " << r.body;
    EXPECT_EQ(json(r.body)->getObject("error")->getValue<std::string>("field"), "from") << bad;
  }
  // An offset is turned into UTC before the entries' times are compared: 08:00+08:00 on 1 January 2000 is
  // midnight UTC, well before the greeting.
  EXPECT_EQ(json(d.call("GET", path + "&from=2000-01-01T08:00:00%2B08:00").body)->getArray("items")->size(), 1u);
  EXPECT_EQ(json(d.call("GET", path + "&to=2000-01-01T08:00:00%2B08:00").body)->getArray("items")->size(), 0u);
  EXPECT_EQ(json(d.call("GET", path + "&from=9999-12-31T23:59:59Z").body)->getArray("items")->size(), 0u);
}

TEST(Admin, TheAuditLogIsReadByAuditorsAndItsTamperingIsFound) {
  Annexd d({});
  std::string auditor = d.user_with_role("audrey", "auditor");
  std::string rep = d.user_with_role("rep", "sales-rep", "north");
  ASSERT_EQ(d.call_as(rep, "POST", "/api/v1/hello/greetings", R"({"name":"Ada"})").status, 201);
  EXPECT_EQ(d.call_as(rep, "GET", "/api/v1/audit").status, 403);
  HttpResult verify = d.call_as(auditor, "GET", "/api/v1/audit/verify");
  ASSERT_EQ(verify.status, 200);
  EXPECT_TRUE(json(verify.body)->getValue<bool>("ok")) << verify.body;
  HttpResult plugin_entries = d.call_as(auditor, "GET", "/api/v1/audit?object_type=hello.greeting");
  ASSERT_EQ(json(plugin_entries.body)->getArray("items")->size(), 1u) << "the plugin audits through the SDK";

  // An offline check of the export, with the public key the daemon publishes.
  HttpResult exported = d.call_as(auditor, "GET", "/api/v1/audit/export");
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(exported.header("content-type"), "application/x-ndjson");
  HttpResult key = d.call_as(auditor, "GET", "/api/v1/audit/public-key");
  ASSERT_EQ(key.status, 200);
  d.terminate();  // signs a final checkpoint
  TempDir dir;
  std::ofstream(dir.path() / "audit.jsonl") << exported.body;
  std::ofstream(dir.path() / "key.pem") << key.body;
  std::string out;
  EXPECT_EQ(d.annexctl({"audit", "verify", "--file", (dir.path() / "audit.jsonl").string(), "--public-key",
                        (dir.path() / "key.pem").string()},
                       &out),
            0)
      << out;
  EXPECT_EQ(d.annexctl({"audit", "verify"}, &out), 0) << out;
  EXPECT_NE(out.find("intact"), std::string::npos) << out;

  // Someone with database access rewrites an entry: the check names it.
  d.sql("UPDATE annex_audit SET after_json = '{\"status\":\"active\",\"login\":\"mallory\"}' WHERE seq = 2");
  EXPECT_EQ(d.annexctl({"audit", "verify"}, &out), 1) << out;
  EXPECT_NE(out.find("first bad entry 2"), std::string::npos) << out;
}

// A daemon whose hello plugin files greetings for review through a one-step chain decided by a sector head.
Annexd::Options with_greeting_review(const TempDir& dir) {
  std::ofstream(dir.path() / "annex.json") << R"({
    "approvals": {"chains": {"greeting-review": {"steps": [{"name": "head", "permission": "hello.greeting.approve"}]}}},
    "plugins": {"org.annex.hello": {"review_chain": "greeting-review"}}})";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir.path() / "annex.json").string()}};
  return o;
}

TEST(Admin, ApprovalsOverHttpKeepDutiesApartAndReachThePluginAsEvents) {
  TempDir dir;
  Annexd d(with_greeting_review(dir));
  std::string rep = d.user_with_role("rep", "sales-rep", "north");
  std::string head = d.user_with_role("head", "sector-head", "north");
  std::string south = d.user_with_role("southhead", "sector-head", "south");
  std::string clerk = d.user_with_role("clerk", "sales-clerk", "north");
  HttpResult g = d.call_as(rep, "POST", "/api/v1/hello/greetings", R"({"name":"Ada"})");
  ASSERT_EQ(g.status, 201);
  std::string gid = std::to_string(json(g.body)->getValue<int64_t>("id"));
  HttpResult submitted = d.call_as(rep, "POST", "/api/v1/hello/greetings/" + gid + "/review", "{}");
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  std::string ap = json(submitted.body)->getValue<std::string>("id");
  std::string path = "/api/v1/approvals/" + ap;

  EXPECT_EQ(d.call_as(south, "GET", path).status, 404) << "out of reach looks like missing";
  EXPECT_EQ(d.call_as(south, "POST", path + "/decisions", R"({"decision":"approve"})").status, 404);
  EXPECT_EQ(d.call_as(rep, "POST", path + "/decisions", R"({"decision":"approve"})").status, 403);
  EXPECT_EQ(d.call_as(head, "POST", path + "/decisions", R"({"decision":"reject"})").status, 422) << "needs a comment";
  EXPECT_EQ(json(d.call_as(head, "GET", "/api/v1/approvals").body)->getArray("items")->size(), 1u);

  // The head is away: a delegation to the clerk, for this chain and a week.
  std::string clerk_id = id_of(d, clerk), head_id = id_of(d, head);
  HttpResult dg = d.call_as(head, "POST", "/api/v1/delegations",
                            R"({"delegate_id":")" + clerk_id + R"(","chains":["greeting-review"],"valid_until":"2999-01-01T00:00:00Z"})");
  EXPECT_EQ(dg.status, 422) << "at most 180 days";
  std::time_t week = std::time(nullptr) + 7 * 86400;
  char until[32];
  std::strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&week));
  dg = d.call_as(head, "POST", "/api/v1/delegations",
                 R"({"delegate_id":")" + clerk_id + R"(","chains":["greeting-review"],"valid_until":")" + until + R"("})");
  ASSERT_EQ(dg.status, 201) << dg.body;
  EXPECT_EQ(d.call_as(clerk, "POST", path + "/decisions", R"({"decision":"approve"})").status, 403)
      << "not on the clerk's own authority";
  HttpResult decided = d.call_as(clerk, "POST", path + "/decisions",
                                 R"({"decision":"approve","on_behalf_of":")" + head_id + R"("})");
  ASSERT_EQ(decided.status, 200) << decided.body;
  EXPECT_EQ(json(decided.body)->getValue<std::string>("status"), "approved");
  EXPECT_TRUE(eventually([&] {
    auto stats = json(d.call("GET", "/api/v1/hello/stats").body);
    return stats->getObject("reviews")->getValue<int>("approved") == 1;
  })) << "the plugin hears the outcome";
  HttpResult twice = d.call_as(head, "POST", path + "/decisions", R"({"decision":"approve"})");
  EXPECT_EQ(twice.status, 409);
}

TEST(Admin, TheInboxComesInPagesThatLoseNothingWhenAnItemIsDecidedBetweenThem) {
  TempDir dir;
  Annexd d(with_greeting_review(dir));
  std::string rep = d.user_with_role("rep", "sales-rep", "north");
  std::string head = d.user_with_role("head", "sector-head", "north");
  std::vector<std::string> submitted;
  for (int i = 0; i < 7; ++i) {
    HttpResult g = d.call_as(rep, "POST", "/api/v1/hello/greetings", R"({"name":"G)" + std::to_string(i) + R"("})");
    ASSERT_EQ(g.status, 201);
    HttpResult r = d.call_as(rep, "POST", "/api/v1/hello/greetings/" + std::to_string(json(g.body)->getValue<int64_t>("id")) + "/review", "{}");
    ASSERT_EQ(r.status, 201) << r.body;
    submitted.push_back(json(r.body)->getValue<std::string>("id"));
  }
  auto page = [&](const std::string& query) {
    HttpResult r = d.call_as(head, "GET", "/api/v1/approvals" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r.body);
  };
  auto ids = [](const Poco::JSON::Object::Ptr& p) {
    std::vector<std::string> out;
    auto items = p->getArray("items");
    for (size_t i = 0; i < items->size(); ++i) out.push_back(items->getObject(static_cast<unsigned>(i))->getValue<std::string>("id"));
    return out;
  };
  std::vector<std::string> order = ids(page("?limit=100"));  // oldest first (ties within a second by id)
  ASSERT_EQ(order.size(), 7u);
  EXPECT_EQ(std::set<std::string>(order.begin(), order.end()), std::set<std::string>(submitted.begin(), submitted.end()));
  auto first = page("?limit=3");
  EXPECT_EQ(first->getValue<int>("total"), 7);
  EXPECT_EQ(ids(first), std::vector<std::string>(order.begin(), order.begin() + 3));
  std::string next = first->getValue<std::string>("next");
  EXPECT_EQ(next, order[2]);
  // The last item of the page is decided before the next page is asked for: the next page still starts after it.
  ASSERT_EQ(d.call_as(head, "POST", "/api/v1/approvals/" + order[2] + "/decisions", R"({"decision":"approve"})").status, 200);
  auto second = page("?limit=3&after=" + next);
  EXPECT_EQ(ids(second), std::vector<std::string>(order.begin() + 3, order.begin() + 6));
  EXPECT_EQ(second->getValue<int>("total"), 6);
  auto last = page("?limit=3&after=" + second->getValue<std::string>("next"));
  EXPECT_EQ(ids(last), std::vector<std::string>{order[6]});
  EXPECT_TRUE(last->isNull("next"));
  EXPECT_EQ(ids(page("")).size(), 6u) << "without a limit, the first 100";
  for (const char* bad : {"?limit=0", "?limit=501", "?limit=ten"}) {
    HttpResult r = d.call_as(head, "GET", std::string("/api/v1/approvals") + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(json(r.body)->getObject("error")->getValue<std::string>("field"), "limit");
  }
}

TEST(Admin, AChainWithoutAnIndependentApproverStopsStartUp) {
  TempDir dir;
  std::ofstream(dir.path() / "annex.json")
      << R"({"approvals": {"chains": {"bad": {"steps": [{"name": "self", "role": "sales-rep"}]}}}})";
  Annexd::Options o;
  o.env = {{"ANNEX_CONFIG", (dir.path() / "annex.json").string()}};
  o.expect_start = false;
  o.bootstrap_admin = false;
  Annexd d(o);
  EXPECT_TRUE(d.base_url().empty());
  EXPECT_NE(d.log().find("approvals.chains.bad.steps[0].role"), std::string::npos) << d.log();
}

}  // namespace
}  // namespace annex::test

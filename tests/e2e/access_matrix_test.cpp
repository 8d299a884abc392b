// The access matrix, against a running annexd on SQLite and on PostgreSQL.
//
// For each default role, on the example plugin's greetings and on the core's users, every operation (read, list,
// update, delete) is tried on {the caller's own record, another owner's record in the caller's sector, a record
// of another sector}. The expected answer follows from the role's permissions and reach (DOMAIN C1, C2): within
// reach the operation succeeds; out of reach the record does not exist for the caller (404, the same answer as
// for a record that never existed, and absent from lists); without the permission, 403.
//
// Every route that creates a record in a named sector — the core's and every plugin's — is tried by each role in
// its own sector, another sector and one that does not exist (403 / 422 naming the field, unless within reach).
//
// Every route the core and the example plugin register (read from the OpenAPI document) is also called without
// credentials and by a user without roles: none may answer with data.
#include "support/test_support.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <set>

namespace annex::test {
namespace {

Poco::JSON::Object::Ptr json(const std::string& body) {
  return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}

enum class Reach { kOwn, kSector, kAll };

struct RoleCase {
  std::string role;
  bool read;   // holds hello.greeting.read / annex.users.read
  bool write;  // holds hello.greeting.write
  bool manage_users;
  Reach reach;
};

// The default roles as DOMAIN C1 and the issue describe them.
const std::vector<RoleCase> kRoles = {
    {"system-admin", true, true, true, Reach::kAll},       {"group-executive", true, true, false, Reach::kAll},
    {"sector-head", true, true, false, Reach::kSector},    {"sector-admin", true, false, true, Reach::kSector},
    {"sales-rep", true, true, false, Reach::kOwn},         {"sales-clerk", true, false, false, Reach::kSector},
    {"finance", true, false, false, Reach::kAll},          {"auditor", true, false, false, Reach::kAll},
};

enum class Relation { kOwn, kSameSector, kOtherSector };
const char* relation_name(Relation r) {
  return r == Relation::kOwn ? "own" : r == Relation::kSameSector ? "same-sector" : "other-sector";
}

bool in_reach(Reach reach, Relation relation) {
  switch (relation) {
    case Relation::kOwn: return true;
    case Relation::kSameSector: return reach != Reach::kOwn;
    default: return reach == Reach::kAll;
  }
}

class AccessMatrix : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    Annexd::Options o;
    if (GetParam() == Backend::kPostgresql) {
      store::DatabaseOptions db;
      if (!fresh_database(Backend::kPostgresql, dir_, &db)) GTEST_SKIP() << "no PostgreSQL for this run";
      o.args = {"--database-url", db.target};
    }
    d_ = std::make_unique<Annexd>(o);
    // The other owners: a rep in the callers' sector (north) and one in another (south).
    peer_ = id_of(d_->user_with_role("peer", "sales-rep", "north"));
    stranger_ = id_of(d_->user_with_role("stranger", "sales-rep", "south"));
  }

  std::string id_of(const std::string& token) {
    return json(d_->call_as(token, "GET", "/api/v1/auth/me").body)->getValue<std::string>("id");
  }

  // A greeting owned by `owner` in `sector`, written straight into the plugin's table.
  int64_t greeting(const std::string& owner, const std::string& sector) {
    static int64_t next = 1000;
    int64_t id = ++next;
    d_->sql("INSERT INTO hello_greetings (id, name, message, created_at, sector_id, owner_id) VALUES (" +
            std::to_string(id) + ", 'n', 'Hello, n!', '2026-01-01T00:00:00Z', '" + sector + "', '" + owner + "')");
    return id;
  }

  std::set<int64_t> listed(const std::string& token) {
    std::set<int64_t> out;
    HttpResult r = d_->call_as(token, "GET", "/api/v1/hello/greetings");
    if (r.status != 200) return out;
    auto items = json(r.body)->getArray("items");
    for (size_t i = 0; i < items->size(); ++i) out.insert(items->getObject(i)->getValue<int64_t>("id"));
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Annexd> d_;
  std::string peer_, stranger_;
};

TEST_P(AccessMatrix, GreetingsByRoleRelationAndOperation) {
  const std::string not_found_body = d_->call("GET", "/api/v1/hello/greetings/999999").body;
  int checked = 0;
  for (const RoleCase& rc : kRoles) {
    std::string token = d_->user_with_role("u-" + rc.role, rc.role, "north");
    std::string me = id_of(token);
    for (Relation rel : {Relation::kOwn, Relation::kSameSector, Relation::kOtherSector}) {
      SCOPED_TRACE(rc.role + " on " + relation_name(rel) + " greeting");
      std::string owner = rel == Relation::kOwn ? me : rel == Relation::kSameSector ? peer_ : stranger_;
      int64_t id = greeting(owner, rel == Relation::kOtherSector ? "south" : "north");
      std::string path = "/api/v1/hello/greetings/" + std::to_string(id);
      bool reach = in_reach(rc.reach, rel);

      HttpResult read = d_->call_as(token, "GET", path);
      EXPECT_EQ(read.status, reach ? 200 : 404) << read.body;
      if (!reach) {
        EXPECT_EQ(json(read.body)->getObject("error")->getValue<std::string>("message"),
                  json(not_found_body)->getObject("error")->getValue<std::string>("message"))
            << "an out-of-reach greeting must look like a missing one";
      }

      EXPECT_EQ(listed(token).count(id), reach ? 1u : 0u) << "list";

      HttpResult update = d_->call_as(token, "PUT", path, R"({"name":"changed"})");
      EXPECT_EQ(update.status, !rc.write ? 403 : reach ? 200 : 404) << update.body;

      HttpResult del = d_->call_as(token, "DELETE", path);
      EXPECT_EQ(del.status, !rc.write ? 403 : reach ? 204 : 404) << del.body;
      bool gone = d_->call("GET", path).status == 404;
      EXPECT_EQ(gone, rc.write && reach) << "a refused delete must leave the greeting in place";
      checked += 4;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(kRoles.size()) * 3 * 4);
}

TEST_P(AccessMatrix, UsersByRoleRelationAndOperation) {
  for (const RoleCase& rc : kRoles) {
    std::string token = d_->user_with_role("v-" + rc.role, rc.role, "north");
    std::string me = id_of(token);
    std::set<std::string> listed_ids;
    HttpResult list = d_->call_as(token, "GET", "/api/v1/users");
    ASSERT_EQ(list.status, 200) << rc.role;
    auto items = json(list.body)->getArray("items");
    for (size_t i = 0; i < items->size(); ++i) listed_ids.insert(items->getObject(i)->getValue<std::string>("id"));
    for (Relation rel : {Relation::kOwn, Relation::kSameSector, Relation::kOtherSector}) {
      SCOPED_TRACE(rc.role + " on " + relation_name(rel) + " user");
      std::string target = rel == Relation::kOwn ? me : rel == Relation::kSameSector ? peer_ : stranger_;
      bool reach = in_reach(rc.reach, rel);
      EXPECT_EQ(d_->call_as(token, "GET", "/api/v1/users/" + target).status, reach ? 200 : 404);
      EXPECT_EQ(listed_ids.count(target), reach ? 1u : 0u) << "list";
      HttpResult update = d_->call_as(token, "PATCH", "/api/v1/users/" + target, R"({"display_name":"Renamed"})");
      // Managing users is its own permission; within reach a manager may rename, beyond it the user is not there.
      EXPECT_EQ(update.status, !rc.manage_users ? 403 : reach ? 200 : 404) << update.body;
      HttpResult remove = d_->call_as(token, "DELETE", "/api/v1/users/" + target + "/sectors/north");
      int expected = !rc.manage_users ? 403 : !reach ? 404 : rel == Relation::kOwn ? 403 /* nobody edits their own */
                                                       : rel == Relation::kOtherSector ? 404 /* not a member */ : 204;
      EXPECT_EQ(remove.status, expected) << remove.body;
      if (remove.status == 204) d_->call("POST", "/api/v1/users/" + target + "/sectors", R"({"sector_id":"north"})");
    }
  }
}

// The create column: every route that creates a record in a sector the caller names — the core's parties and
// every plugin's — tried by every role in its own sector, in another and in one that does not exist. A record
// is created only in a sector the caller belongs to or reaches (all-sector roles: any existing one); another
// sector is refused with 403 and a missing one with 422, both naming the field at fault.
TEST_P(AccessMatrix, RecordsAreCreatedOnlyInExistingSectorsWithinTheCallersReach) {
  using nlohmann::json;
  std::string product = nlohmann::json::parse(d_->call("POST", "/api/v1/masterdata/products",
                                                       R"({"code":"P-create","name":"Toner"})").body)["id"];
  std::string plan = nlohmann::json::parse(d_->call("POST", "/api/v1/quotas/plans",
                                                    R"({"name":"Monthly","period_type":"month","measure":"signed","currency":"CNY"})")
                                               .body)["id"];
  ASSERT_FALSE(product.empty());
  ASSERT_FALSE(plan.empty());
  struct CreateRoute {
    std::string name, path;
    bool needs_quota_permission;  // quotas.target.manage rather than a *.write permission
    std::string field;            // the field a refusal for another sector names
    std::function<json(const std::string& sector, const std::string& party, const std::string& tag)> body;
  };
  const std::vector<CreateRoute> routes = {
      {"greeting", "/api/v1/hello/greetings", false, "sector_id",
       [](const std::string& s, const std::string&, const std::string&) { return json{{"name", "Ada"}, {"sector_id", s}}; }},
      {"party", "/api/v1/masterdata/parties", false, "sector_id",
       [](const std::string& s, const std::string&, const std::string& tag) {
         return json{{"code", "C-" + tag}, {"name", "Contoso"}, {"sector_id", s}};
       }},
      {"lead", "/api/v1/pipeline/leads", false, "sector_id",
       [](const std::string& s, const std::string&, const std::string&) {
         return json{{"source", "referral"}, {"company", "Contoso"}, {"sector_id", s}};
       }},
      {"opportunity", "/api/v1/pipeline/opportunities", false, "sector_id",
       [](const std::string& s, const std::string& party, const std::string&) {
         return json{{"name", "Deal"}, {"party_id", party}, {"amount", {{"amount", 100}, {"currency", "CNY"}}},
                     {"expected_close", "2027-03-15"}, {"sector_id", s}};
       }},
      {"contract", "/api/v1/contracts", false, "sector_id",
       [product](const std::string& s, const std::string& party, const std::string& tag) {
         return json{{"number", "K-" + tag}, {"party_id", party}, {"currency", "CNY"}, {"sector_id", s},
                     {"lines", {{{"product_id", product}, {"quantity", 1}, {"unit_price", {{"amount", 100}, {"currency", "CNY"}}}}}}};
       }},
      {"sector quota", "/api/v1/quotas/targets", true, "assignee_id",
       [plan](const std::string& s, const std::string&, const std::string& tag) {
         return json{{"plan_id", plan}, {"period", "2027-04"}, {"assignee_type", "sector"}, {"assignee_id", s},
                     {"product_group", tag}, {"amount", {{"amount", 100}, {"currency", "CNY"}}}};
       }},
  };
  int checked = 0;
  for (const RoleCase& rc : kRoles) {
    std::string token = d_->user_with_role("c-" + rc.role, rc.role, "north");
    std::string me = id_of(token);
    // A customer of the caller's, in their sector, for the routes that start from one.
    HttpResult party = d_->call("POST", "/api/v1/masterdata/parties",
                                json{{"code", "P-" + rc.role}, {"name", "Northwind"}, {"sector_id", "north"}, {"owner_id", me}}.dump());
    ASSERT_EQ(party.status, 201) << party.body;
    std::string party_id = json::parse(party.body)["id"];
    bool quota_manager = rc.role == "system-admin" || rc.role == "group-executive" || rc.role == "sector-head";
    for (const CreateRoute& route : routes) {
      bool permitted = route.needs_quota_permission ? quota_manager : rc.write;
      for (const char* relation : {"own", "other", "missing"}) {
        SCOPED_TRACE(rc.role + " creates a " + route.name + " in " + relation + " sector");
        std::string sector = relation == std::string("own") ? "north" : relation == std::string("other") ? "south" : "nowhere";
        std::string tag = rc.role + "-" + route.name + "-" + relation;
        HttpResult r = d_->call_as(token, "POST", route.path, route.body(sector, party_id, tag).dump());
        int expected = !permitted ? 403 : sector == "nowhere" ? 422 : sector == "north" || rc.reach == Reach::kAll ? 201 : 403;
        EXPECT_EQ(r.status, expected) << r.body;
        if (r.status == 422 || (r.status == 403 && permitted)) {
          std::string field = json::parse(r.body)["error"]["field"].is_string() ? json::parse(r.body)["error"]["field"].get<std::string>() : "";
          EXPECT_EQ(field, r.status == 422 ? "sector_id" : route.field) << r.body;
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, static_cast<int>(kRoles.size() * routes.size() * 3));
}

TEST_P(AccessMatrix, EveryRouteRefusesCallersWithoutCredentialsOrRoles) {
  HttpResult doc = d_->anonymous("GET", "/api/v1/openapi.json");
  ASSERT_EQ(doc.status, 200);
  std::string nobody = d_->user_with_role("nobody-at-all", "sales-rep", "north");
  std::string nobody_id = id_of(nobody);
  // Strip every role: the account is active but holds no permission beyond being authenticated.
  ASSERT_EQ(d_->call("DELETE", "/api/v1/users/" + nobody_id + "/roles/sales-rep/north").status, 204);
  // What any signed-in user may read about themselves: their account, tokens, delegations, approvals awaiting
  // them, and the chains that exist.
  const std::set<std::string> self_service = {"/api/v1/auth/me", "/api/v1/tokens", "/api/v1/approvals",
                                               "/api/v1/delegations", "/api/v1/approval-chains"};
  const std::set<std::string> open = {"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json", "/api/v1/auth/login",
                                       "/api/v1/auth/session"};  // signing a browser in and out: tests/e2e/web_test.cpp
  auto paths = json(doc.body)->getObject("paths");
  int routes = 0;
  for (const auto& [path, methods_var] : *paths) {
    auto methods = methods_var.extract<Poco::JSON::Object::Ptr>();
    std::string concrete = path;
    for (size_t open_at; (open_at = concrete.find('{')) != std::string::npos;) {
      concrete.replace(open_at, concrete.find('}', open_at) - open_at + 1, "x1");
    }
    for (const auto& [method, op] : *methods) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      SCOPED_TRACE(m + " " + path);
      ++routes;
      if (open.count(path)) continue;
      HttpResult anonymous = d_->anonymous(m, concrete, m == "GET" || m == "DELETE" ? "" : "{}");
      EXPECT_EQ(anonymous.status, 401) << anonymous.body;
      if (path == "/api/v1/auth/logout") continue;  // would end the session this check runs on
      HttpResult bare = d_->call_as(nobody, m, concrete, m == "GET" || m == "DELETE" ? "" : "{}");
      if (m == "GET" && self_service.count(path)) {
        EXPECT_EQ(bare.status, 200) << bare.body;  // the caller's own data only
      } else {
        EXPECT_TRUE(bare.status == 400 || bare.status == 403 || bare.status == 404 || bare.status == 422)
            << bare.status << " " << bare.body;
      }
    }
  }
  EXPECT_GT(routes, 30);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccessMatrix, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         backend_param_name);

}  // namespace
}  // namespace annex::test

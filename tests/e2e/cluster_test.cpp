// Several annexd on one PostgreSQL: a sync run asked of two daemons at once runs once and names the daemon that
// ran it; a daemon killed in the middle of a pull leaves the run to the other, which finishes it from the cursor
// the killed one left, losing and doubling nothing.
#include "e2e/peer_clients.h"
#include "support/test_support.h"

#include "store/sql.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

namespace annex::test {
namespace {

using nlohmann::json;

class Cluster : public testing::Test {
 protected:
  void SetUp() override {
    std::string url = postgres_url();
    if (url.empty() || !fresh_database(Backend::kPostgresql, dir_, &db_)) GTEST_SKIP() << "no PostgreSQL for this run";
    PgAddress pg = PgAddress::parse(url);
    // The finance database the daemons pull from: a schema of its own, 30,000 cost centres.
    schema_ = "fin_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}() % 1000);
    soci::session remote(*soci::factory_postgresql(), "host=" + pg.host + " port=" + pg.port + " dbname=" + pg.db + " user=" + pg.user);
    remote << "CREATE SCHEMA " + schema_;
    remote << "CREATE TABLE " + schema_ + ".centres (cc VARCHAR(20) PRIMARY KEY, title VARCHAR(80) NOT NULL, changed VARCHAR(30) NOT NULL)";
    remote << "INSERT INTO " + schema_ + ".centres SELECT 'CC' || lpad(g::text, 6, '0'), 'Centre ' || g, '2026-01-01' FROM generate_series(1, " +
                  std::to_string(kCentres) + ") g";
    std::string odbc = "DRIVER={PostgreSQL Unicode};SERVER=" + pg.host + ";PORT=" + pg.port + ";DATABASE=" + pg.db + ";UID=" + pg.user +
                       ";ConnSettings=SET search_path TO " + schema_ + ";UseDeclareFetch=1;Fetch=1000";
    std::ofstream(dir_.path() / "annex.json") << R"({"sync": {"connections": {"finance": {"connector": "odbc",
      "settings": {"connection_string": ")" + odbc + R"(", "streams": {
        "centres": {"select": "SELECT cc, title, changed FROM centres WHERE changed >= ? ORDER BY changed, cc", "cursor_field": "changed",
                    "key_field": "cc"}}},
      "streams": {"centres": {"entity": "cost_centres", "direction": "pull", "remote_id": "cc", "page_size": 1000,
                              "fields": {"code": "cc", "name": "title"}}}}}}})";
  }

  std::unique_ptr<Annexd> daemon(bool first) {
    Annexd::Options o;
    o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}};
    o.args = {"--database-url", db_.target, "--set", "auth.pbkdf2_iterations=100000", "--set", "auth.max_failed_logins=3"};
    o.bootstrap_admin = first;
    return std::make_unique<Annexd>(o);
  }
  // The name a daemon gave itself in its log ("daemon NAME: …").
  static std::string name_of(const Annexd& d) {
    std::smatch m;
    std::string log = d.log();
    return std::regex_search(log, m, std::regex("daemon (\\S+): its jobs")) ? m[1].str() : "";
  }
  int64_t centres(const Annexd& d) { return count_in(d, "SELECT COUNT(*) FROM annex_md_cost_centres WHERE code LIKE 'CC%'"); }
  json runs(const Annexd& d, const std::string& token) {
    return json::parse(d.call_as(token, "GET", "/api/v1/sync/runs?connection=finance").body, nullptr, false);
  }

  static constexpr int kCentres = 30000;
  TempDir dir_;
  store::DatabaseOptions db_;
  std::string schema_;
};

TEST_F(Cluster, ASyncRunAskedOfTwoDaemonsAtOnceRunsOnceAndNamesItsDaemon) {
  auto a = daemon(true);
  auto b = daemon(false);
  const std::string token = a->admin_token();
  ASSERT_FALSE(name_of(*a).empty()) << a->log();
  ASSERT_NE(name_of(*a), name_of(*b));
  HttpResult at_a, at_b;
  std::thread ask_a([&] { at_a = a->call_as(token, "POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "centres"})"); });
  std::thread ask_b([&] { at_b = b->call_as(token, "POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "centres"})"); });
  ask_a.join();
  ask_b.join();
  ASSERT_EQ(at_a.status, 202) << at_a.body;
  ASSERT_EQ(at_b.status, 202) << at_b.body;
  ASSERT_TRUE(eventually([&] { return centres(*a) == kCentres; }, std::chrono::seconds(120)));
  ASSERT_TRUE(eventually([&] {
    json r = runs(*b, token);
    return r.is_object() && !r["items"].empty() && r["items"][0]["status"] == "succeeded";
  }, std::chrono::seconds(30)));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // time for the other daemon to run it again, were it to
  json r = runs(*b, token);
  ASSERT_EQ(r["items"].size(), 1u) << "one run for both requests: " << r;
  EXPECT_EQ(r["items"][0]["read"], kCentres);
  const std::string ran_by = r["items"][0].value("daemon", std::string{});
  EXPECT_TRUE(ran_by == name_of(*a) || ran_by == name_of(*b)) << ran_by;
  std::string status;
  ASSERT_EQ(a->annexctl({"--plugin-dir", build_path("lib/annex/plugins"), "sync", "status"}, &status), 0)
      << status;
  EXPECT_NE(status.find("[" + ran_by + "]"), std::string::npos) << status;
}

// Both daemons are asked; the one that runs the pull is killed halfway. The other takes the run over once the
// killed one's leases have expired (30 s) and finishes it from the cursor: every cost centre once.
TEST_F(Cluster, ADaemonKilledMidPullLeavesTheRunToAnotherWhichLosesAndDoublesNothing) {
  auto a = daemon(true);
  auto b = daemon(false);
  const std::string token = a->admin_token();
  ASSERT_EQ(a->call_as(token, "POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "centres"})").status, 202);
  ASSERT_TRUE(eventually([&] { return centres(*a) > 0; }, std::chrono::seconds(30)));
  ASSERT_EQ(b->call_as(token, "POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "centres"})").status, 202);
  json r = runs(*b, token);
  ASSERT_FALSE(r["items"].empty()) << r;
  const std::string first = r["items"][0].value("daemon", std::string{});
  Annexd& holder = first == name_of(*a) ? *a : *b;
  Annexd& other = first == name_of(*a) ? *b : *a;
  holder.kill_hard();
  const int64_t left_at_kill = centres(other);
  ASSERT_LT(left_at_kill, kCentres) << "the kill was to interrupt the pull";
  ASSERT_TRUE(eventually([&] { return centres(other) == kCentres; }, std::chrono::seconds(90))) << other.log();
  r = runs(other, token);
  ASSERT_GE(r["items"].size(), 2u) << r;
  EXPECT_EQ(r["items"][0]["status"], "succeeded") << r;
  EXPECT_EQ(r["items"][0]["daemon"], name_of(other)) << r;
  EXPECT_EQ(r["items"][1]["status"], "failed") << "the killed daemon's run is not left running: " << r;
  EXPECT_NE(r["items"][1].value("error", std::string{}).find("stopped during the run"), std::string::npos) << r;
  EXPECT_LE(r["items"][0]["read"].get<int64_t>(), kCentres - left_at_kill + 2000) << "it went on from the cursor: " << r;
  EXPECT_EQ(count_in(other, "SELECT COUNT(DISTINCT code) FROM annex_md_cost_centres WHERE code LIKE 'CC%'"), kCentres);
}

// What one daemon learns, the other knows: failed logins count together, a revoked token is refused by the
// other daemon within a second, and one Idempotency-Key sent to both at once makes one greeting.
TEST_F(Cluster, ThrottlingRevocationAndIdempotencyHoldAcrossDaemons) {
  auto a = daemon(true);
  auto b = daemon(false);
  std::string out;
  ASSERT_EQ(a->annexctl({"user", "create", "max", "--role", "sales-rep", "--sector", "north", "--password-stdin"}, &out,
                        "the right password\n"), 0) << out;
  EXPECT_EQ(a->anonymous("POST", "/api/v1/auth/login", R"({"login":"max","password":"wrong one"})").status, 401);
  EXPECT_EQ(b->anonymous("POST", "/api/v1/auth/login", R"({"login":"max","password":"wrong two"})").status, 401);
  EXPECT_EQ(a->anonymous("POST", "/api/v1/auth/login", R"({"login":"max","password":"wrong three"})").status, 401);
  HttpResult throttled = b->anonymous("POST", "/api/v1/auth/login", R"({"login":"max","password":"the right password"})");
  EXPECT_EQ(throttled.status, 429) << "three failures at two daemons are three failures: " << throttled.body;

  const std::string token = a->user_with_role("rep", "sales-rep", "north");
  ASSERT_EQ(b->call_as(token, "GET", "/api/v1/hello/greetings").status, 200);  // cached at b now
  json mine = json::parse(a->call_as(token, "GET", "/api/v1/tokens").body, nullptr, false);
  ASSERT_TRUE(mine.is_object() && !mine["items"].empty()) << mine;
  for (const auto& t : mine["items"]) ASSERT_EQ(a->call_as(token, "DELETE", "/api/v1/tokens/" + t["id"].get<std::string>()).status, 204);
  auto revoked = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return b->call_as(token, "GET", "/api/v1/hello/greetings").status == 401; }, std::chrono::seconds(3)));
  EXPECT_LE(std::chrono::steady_clock::now() - revoked, std::chrono::milliseconds(1200)) << "refused by the other daemon within a second";

  const std::string admin = a->admin_token();
  HttpResult at_a, at_b;
  std::thread ask_a([&] {
    at_a = a->call("POST", "/api/v1/hello/greetings", R"({"name":"Once"})", {{"Idempotency-Key", "cluster-once"}});
  });
  std::thread ask_b([&] {
    at_b = b->call("POST", "/api/v1/hello/greetings", R"({"name":"Once"})", {{"Idempotency-Key", "cluster-once"}, {"Authorization", "Bearer " + admin}});
  });
  ask_a.join();
  ask_b.join();
  EXPECT_TRUE(at_a.status == 201 || at_b.status == 201) << at_a.status << " " << at_a.body << " / " << at_b.status << " " << at_b.body;
  EXPECT_EQ(count_in(*a, "SELECT COUNT(*) FROM hello_greetings WHERE name = 'Once'"), 1) << "one greeting for one key";
}

// The reference deployment (deploy/): three annexd on one PostgreSQL behind HAProxy, health-checked on /readyz.
// Each daemon in turn is restarted (SIGTERM: /readyz turns 503 while it still serves, then it drains and stops;
// started again) while clients keep reading and writing through HAProxy: not one request fails.
TEST(ClusterBehindHaproxy, ARollingRestartOfThreeDaemonsUnderSteadyLoadFailsNoRequest) {
  TempDir dir, state;
  store::DatabaseOptions db;
  if (!fresh_database(Backend::kPostgresql, dir, &db)) GTEST_SKIP() << "no PostgreSQL for this run";
  if (std::system("command -v haproxy >/dev/null 2>&1") != 0) {
    if (const char* ci = std::getenv("CI"); ci != nullptr && std::string(ci) == "true") FAIL() << "CI runs this test: no haproxy";
    GTEST_SKIP() << "no haproxy on this machine (scripts/deps.sh test installs it)";
  }
  const std::string deploy = std::string(ANNEX_SOURCE_DIR) + "/deploy/";
  std::string out;
  ASSERT_EQ(run_program(deploy + "cluster_up.sh", {state.str(), "3", "--database-url", db.target, "--build", ANNEX_BUILD_DIR}, &out), 0) << out;
  struct Down {
    std::string deploy, state;
    ~Down() {
      std::string ignored;
      run_program(deploy + "cluster_down.sh", {state}, &ignored);
    }
  } down{deploy, state.str()};
  std::string front;
  std::ifstream(state.path() / "url") >> front;
  ASSERT_FALSE(front.empty()) << out;
  const std::vector<std::string> store = {"--database-url", db.target, "--data-dir", (state.path() / "d1" / "data").string()};
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), store.begin(), store.end());
    std::string text;
    EXPECT_EQ(run_program(build_path("bin/annexctl"), args, &text), 0) << text;
    return text;
  };
  ctl({"user", "create", "loader", "--role", "system-admin", "--sector", "north"});
  std::smatch secret;
  const std::string created = ctl({"token", "create", "loader"});
  ASSERT_TRUE(std::regex_search(created, secret, std::regex("annex_pat_\\S+"))) << created;
  const std::string token = secret[0].str();
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token}};
  ASSERT_EQ(http_call(front, "GET", "/api/v1/hello/greetings", "", auth).status, 200);

  std::atomic<bool> stop{false};
  std::atomic<int> requests{0}, failures{0};
  std::mutex failed_mutex;
  std::vector<std::string> failed;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        const bool write = i % 4 == 0;
        int status = 0;
        std::string body;
        try {
          HttpResult r = write ? http_call(front, "POST", "/api/v1/hello/greetings", R"({"name":"load )" + std::to_string(c) + "-" + std::to_string(i) + R"("})", auth)
                               : http_call(front, "GET", "/api/v1/hello/greetings", "", auth);
          status = r.status;
          body = r.body;
        } catch (const std::exception& e) {
          body = e.what();
        }
        ++requests;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // steady, not flat out: the machine is shared
        if (status != (write ? 201 : 200)) {
          ++failures;
          std::lock_guard lock(failed_mutex);
          if (failed.size() < 5) failed.push_back(std::to_string(status) + " " + body.substr(0, 200));
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  for (int d = 1; d <= 3; ++d) {
    ASSERT_EQ(run_program(deploy + "cluster_up.sh", {state.str(), "--restart", std::to_string(d)}, &out), 0) << out;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // HAProxy sees it ready again (rise 2 x 500 ms)
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(requests.load(), 100);
  EXPECT_EQ(failures.load(), 0) << "of " << requests << ", e.g. " << (failed.empty() ? "" : failed[0]);
}

}  // namespace
}  // namespace annex::test

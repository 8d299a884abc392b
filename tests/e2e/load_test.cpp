// annexd on PostgreSQL under more concurrent requests than it has pooled connections.
//
// A request that holds a connection and asks again (a read, then the authoriser's look-up) shares its own
// connection instead of waiting for a second, so no load can make the pool wait on itself; a request that finds
// every connection busy for longer than database.acquire_timeout_ms is answered 503 and counted; and shutdown
// ends, however stuck the work in flight.
#include "support/test_support.h"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

namespace annex::test {
namespace {

using json = nlohmann::json;

constexpr int kPool = 4;
constexpr int kClients = 4 * kPool;

class PostgresLoad : public testing::Test {
 protected:
  // annexd on a fresh PostgreSQL schema with `pool` connections and the example plugin's review chain.
  void start(int pool, int acquire_timeout_ms, int grace_s = 10) {
    if (!fresh_database(Backend::kPostgresql, dir_, &db_)) GTEST_SKIP() << "no PostgreSQL for this run";
    std::ofstream(dir_.path() / "annex.json") << R"({
      "approvals": {"chains": {"greeting-review": {"steps": [{"name": "head", "permission": "hello.greeting.approve"}]}}},
      "plugins": {"org.annex.hello": {"review_chain": "greeting-review"}}})";
    Annexd::Options o;
    o.env = {{"ANNEX_CONFIG", (dir_.path() / "annex.json").string()}};
    o.args = {"--database-url", db_.target, "--set", "database.pool_size=" + std::to_string(pool), "--set",
              "database.acquire_timeout_ms=" + std::to_string(acquire_timeout_ms), "--set",
              "shutdown_grace_s=" + std::to_string(grace_s), "--set", "http.threads=64"};
    d_ = std::make_unique<Annexd>(o);
  }

  std::string create_party(const std::string& token, const std::string& code) {
    HttpResult r = d_->call_as(token, "POST", "/api/v1/masterdata/parties",
                               json{{"code", code}, {"name", "Customer " + code}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body)["id"].get<std::string>() : "";
  }

  TempDir dir_;
  store::DatabaseOptions db_;
  std::unique_ptr<Annexd> d_;
};

TEST_F(PostgresLoad, EveryKindOfRouteAnswersUnderFourTimesMoreRequestsThanConnections) {
  start(kPool, 30000);
  std::string rep = d_->user_with_role("rep", "sales-rep", "north");
  std::string head = d_->user_with_role("head", "sector-head", "north");
  std::string auditor = d_->user_with_role("auditor", "auditor");
  std::string party = create_party(rep, "P-0");
  ASSERT_FALSE(party.empty());

  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::atomic<int> answered{0};
  auto expect = [&](const HttpResult& r, int status, const std::string& what) {
    ++answered;
    if (r.status != status) {
      std::lock_guard lock(failures_mutex);
      failures.push_back(what + " answered " + std::to_string(r.status) + ": " + r.body);
    }
    return r.status == status;
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 6; ++i) {
        std::string tag = std::to_string(c) + "-" + std::to_string(i);
        // reads and lists, core and plugin
        expect(d_->call_as(rep, "GET", "/api/v1/masterdata/parties/" + party), 200, "party read");
        expect(d_->call_as(head, "GET", "/api/v1/masterdata/parties?limit=20"), 200, "party list");
        expect(d_->call_as(head, "GET", "/api/v1/hello/greetings"), 200, "greeting list");
        expect(d_->call_as(rep, "GET", "/api/v1/auth/me"), 200, "me");
        // creates with audit, core and plugin
        expect(d_->call_as(rep, "POST", "/api/v1/masterdata/parties",
                           json{{"code", "P-" + tag}, {"name", "Customer " + tag}}.dump()),
               201, "party create");
        HttpResult g = d_->call_as(rep, "POST", "/api/v1/hello/greetings", json{{"name", "G" + tag}}.dump());
        if (!expect(g, 201, "greeting create")) continue;
        std::string gid = std::to_string(json::parse(g.body)["id"].get<int64_t>());
        expect(d_->call_as(head, "GET", "/api/v1/hello/greetings/" + gid), 200, "greeting read");
        // an approval submitted by the rep and decided by the head
        HttpResult a = d_->call_as(rep, "POST", "/api/v1/hello/greetings/" + gid + "/review", "{}");
        if (!expect(a, 201, "review submit")) continue;
        std::string ap = json::parse(a.body)["id"];
        expect(d_->call_as(head, "POST", "/api/v1/approvals/" + ap + "/decisions", R"({"decision":"approve"})"), 200,
               "approval decision");
        expect(d_->call_as(auditor, "GET", "/api/v1/audit?limit=5"), 200, "audit search");
      }
    });
  }
  for (auto& t : clients) t.join();
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_EQ(answered.load(), kClients * 6 * 10);
  EXPECT_EQ(d_->call("GET", "/readyz").status, 200) << "the daemon still answers afterwards";
  EXPECT_EQ(d_->call_as(rep, "GET", "/api/v1/masterdata/parties/" + party).status, 200);
  EXPECT_EQ(d_->terminate(), 0) << "and drains on SIGTERM";
}

TEST_F(PostgresLoad, ARequestThatHoldsAConnectionNeverWaitsForASecondOne) {
  start(1, 3000);  // one connection: the old second acquire could never be served
  std::string rep = d_->user_with_role("rep", "sales-rep", "north");
  std::string party = create_party(rep, "P-1");
  std::string other = d_->user_with_role("other", "sales-rep", "north");  // nobody has looked this user up yet
  HttpResult r = d_->call_as(other, "GET", "/api/v1/masterdata/parties/" + party);
  EXPECT_EQ(r.status, 404) << r.body;  // another rep's record: out of reach, answered (not hung, not 503)
  EXPECT_EQ(d_->call_as(rep, "GET", "/api/v1/masterdata/parties/" + party).status, 200);
}

// Holds a lock on the parties table from outside annexd, so that a request reading a party waits in PostgreSQL
// while holding its pooled connection.
class TableLock {
 public:
  explicit TableLock(const std::string& target) : session_(std::make_unique<soci::session>("postgresql", target)) {
    *session_ << "BEGIN";
    *session_ << "LOCK TABLE annex_md_parties IN ACCESS EXCLUSIVE MODE";
  }
  void release() {
    if (session_) *session_ << "ROLLBACK";
    session_.reset();
  }
  ~TableLock() { release(); }

 private:
  std::unique_ptr<soci::session> session_;
};

TEST_F(PostgresLoad, ABusyPoolAnswers503QuicklyAndCountsIt) {
  start(1, 200);
  std::string rep = d_->user_with_role("rep", "sales-rep", "north");
  std::string party = create_party(rep, "P-2");
  ASSERT_EQ(d_->call_as(rep, "GET", "/api/v1/auth/me").status, 200);  // the user's access is now cached
  TableLock lock(store::to_keyword_conninfo(db_.target));
  std::thread stuck([&] {
    HttpResult r = d_->call_as(rep, "GET", "/api/v1/masterdata/parties/" + party);
    EXPECT_EQ(r.status, 200) << "the held-up read completes once the lock goes";
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // it now holds the only connection
  auto asked = std::chrono::steady_clock::now();
  HttpResult busy = d_->call_as(rep, "GET", "/api/v1/hello/greetings");
  auto waited = std::chrono::steady_clock::now() - asked;
  EXPECT_EQ(busy.status, 503) << busy.body;
  EXPECT_LT(waited, std::chrono::seconds(3));
  auto error = json::parse(busy.body);
  EXPECT_EQ(error["error"]["code"], "unavailable");
  EXPECT_FALSE(busy.header("x-request-id").empty());
  EXPECT_EQ(busy.header("retry-after"), "1");
  lock.release();
  stuck.join();
  std::string metrics = d_->anonymous("GET", "/metrics").body;
  size_t at = metrics.find("\nannex_db_pool_timeouts_total ");
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_GE(std::stod(metrics.substr(at + 30)), 1.0) << "the refusal is counted";
  EXPECT_EQ(d_->call_as(rep, "GET", "/api/v1/hello/greetings").status, 200) << "and serves again once it is free";
}

TEST_F(PostgresLoad, ShutdownEndsWhileARequestIsStuck) {
  start(2, 200, 1);
  std::string rep = d_->user_with_role("rep", "sales-rep", "north");
  std::string party = create_party(rep, "P-3");
  TableLock lock(store::to_keyword_conninfo(db_.target));
  std::thread stuck([&] {
    try {
      d_->call_as(rep, "GET", "/api/v1/masterdata/parties/" + party);
    } catch (const std::exception&) {
      // the daemon went away under it: that is the point
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto asked = std::chrono::steady_clock::now();
  int code = d_->terminate(std::chrono::seconds(15));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(8))
      << "the grace period (1 s) and a moment more, not for ever";
  EXPECT_EQ(code, 1) << "an exit that left work behind says so";
  EXPECT_NE(d_->log().find("requests still running"), std::string::npos) << d_->log();
  lock.release();
  stuck.join();
}

}  // namespace
}  // namespace annex::test

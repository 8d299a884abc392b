// Three annexd on one PostgreSQL behind HAProxy (the reference deployment, started once for these tests by
// tests/support/cluster_up.sh): everything is asked through the balancer, which spreads it over the three.
// Sync runs asked of all three at once run once; a daemon killed in the middle of a push leaves the run to
// another, and the peer gets every record, none twice; a job ticking every second runs each tick once; 10,000
// events reach each subscriber once; 30,000 audited writes form one chain that verifies with the one key; a
// subscriber that keeps failing is parked, visible at every daemon, and resumed from any.
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

namespace annex::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

class ClusterOfThree : public testing::Test {
 protected:
  void SetUp() override {
    const char* dir = std::getenv("ANNEX_TEST_CLUSTER_DIR");
    if (dir == nullptr || !std::filesystem::exists(std::filesystem::path(dir) / "url")) {
      if (const char* ci = std::getenv("CI"); ci != nullptr && std::string(ci) == "true") FAIL() << "CI runs this test: no cluster";
      GTEST_SKIP() << "no cluster (tests/support/cluster_up.sh starts it)";
    }
    state_ = dir;
    front_ = read_text(state_ / "url");
    auth_ = {{"Authorization", "Bearer " + read_text(state_ / "token")}};
    PgAddress pg = PgAddress::parse(read_text(state_ / "database_url"));
    db_ = std::make_unique<soci::session>(*soci::factory_postgresql(),
                                          "host=" + pg.host + " port=" + pg.port + " dbname=" + pg.db + " user=" + pg.user);
    // A daemon an earlier test stopped is started again first.
    for (int d = 1; d <= 3; ++d) {
      if (::kill(pid(d), 0) != 0) restart(d);
    }
  }

  HttpResult call(const std::string& method, const std::string& path, const std::string& body = "") {
    return http_call(front_, method, path, body, auth_);
  }
  json call_json(const std::string& method, const std::string& path, const std::string& body = "") {
    return json::parse(call(method, path, body).body, nullptr, false);
  }
  int64_t count(const std::string& sql) {
    int64_t n = 0;
    *db_ << sql, soci::into(n);
    return n;
  }
  pid_t pid(int d) { return static_cast<pid_t>(std::stol(read_text(state_ / ("d" + std::to_string(d)) / "pid"))); }
  std::string port(int d) { return read_text(state_ / ("d" + std::to_string(d)) / "port"); }
  // The name daemon d gave itself in its log ("daemon NAME: …"); the last one, as it may have been restarted.
  std::string name(int d) {
    std::ifstream in(state_ / ("d" + std::to_string(d)) / "log");
    std::string line, found;
    std::smatch m;
    while (std::getline(in, line)) {
      if (std::regex_search(line, m, std::regex("daemon (\\S+): its jobs"))) found = m[1].str();
    }
    return found;
  }
  void restart(int d) {
    std::string out;
    ASSERT_EQ(run_program(std::string(ANNEX_SOURCE_DIR) + "/deploy/cluster_up.sh", {state_.string(), "--restart", std::to_string(d)}, &out), 0) << out;
  }
  // How many requests daemon d served on `route` since it started (its own /metrics).
  int64_t served(int d, const std::string& route) {
    HttpResult r = http_call("http://127.0.0.1:" + port(d), "GET", "/metrics");
    std::smatch m;
    int64_t total = 0;
    const std::string escaped = std::regex_replace(route, std::regex(R"([{}])"), R"(\$&)");
    std::regex sample("annex_http_requests_total\\{[^}]*route=\"" + escaped + "\"[^}]*\\} (\\d+)");
    for (auto it = std::sregex_iterator(r.body.begin(), r.body.end(), sample); it != std::sregex_iterator(); ++it) {
      total += std::stoll((*it)[1].str());
    }
    return total;
  }
  static constexpr int kMade = 5000;
  json runs(const std::string& connection) { return call_json("GET", "/api/v1/sync/runs?connection=" + connection); }

  std::filesystem::path state_;
  std::string front_;
  std::map<std::string, std::string> auth_;
  std::unique_ptr<soci::session> db_;
};

// Three requests for one pull, one at each daemon at the same moment: one run, every cost centre once. Then a
// push of 5,000 cost centres to the ledger: the daemon running it is killed halfway; another daemon finishes it
// when asked, and the ledger holds every cost centre, each written once but for at most the page in flight.
TEST_F(ClusterOfThree, SyncRunsOnceForConcurrentTriggersAndAPushSurvivesItsDaemonsDeath) {
  std::vector<std::thread> askers;
  std::vector<int> statuses(3);
  for (int i = 0; i < 3; ++i) {
    askers.emplace_back([&, i] {
      statuses[i] = call("POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "centres", "direction": "pull"})").status;
    });
  }
  for (auto& t : askers) t.join();
  // Each daemon answers 202 (asked) — or 409 when the balancer sent it a second request while its run is on.
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 202) + std::count(statuses.begin(), statuses.end(), 409), 3);
  EXPECT_GE(std::count(statuses.begin(), statuses.end(), 202), 1);
  ASSERT_GE(served(1, "/api/v1/sync/connections/{name}/runs") + served(2, "/api/v1/sync/connections/{name}/runs") +
                served(3, "/api/v1/sync/connections/{name}/runs"), 3);
  ASSERT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM annex_md_cost_centres WHERE code LIKE 'CC%'") == 30000; }, 180s));
  auto centre_runs = [&] {
    json out = json::array();
    const json all = runs("finance");
    for (const auto& run : all["items"]) {
      if (run["stream"] == "centres") out.push_back(run);
    }
    return out;
  };
  ASSERT_TRUE(eventually([&] {
    json r = centre_runs();
    return !r.empty() && r[0]["status"] == "succeeded";
  }, 30s)) << runs("finance");
  std::this_thread::sleep_for(2s);  // time for another daemon to run it again, were it to
  json r = centre_runs();
  ASSERT_EQ(r.size(), 1u) << "one run for three requests: " << r;
  EXPECT_EQ(r[0]["read"], 30000);

  // The push of 5,000 cost centres made in Annex (through the balancer, so at all three daemons) to the ledger,
  // which takes 2 ms a row: asked through the balancer; the daemon that runs it is killed once the ledger has some.
  std::atomic<int> refused{0};
  std::vector<std::thread> makers;
  for (int c = 0; c < 8; ++c) {
    makers.emplace_back([&, c] {
      for (int i = c; i < kMade; i += 8) {
        char code[16];
        std::snprintf(code, sizeof code, "PC%05d", i);
        if (call("POST", "/api/v1/masterdata/cost_centres", json({{"code", code}, {"name", std::string("Made ") + code}}).dump()).status != 201) ++refused;
      }
    });
  }
  for (auto& t : makers) t.join();
  ASSERT_EQ(refused.load(), 0);
  auto copied = [&] { return count("SELECT COUNT(*) FROM fin.centres_copy WHERE cc LIKE 'PC%'"); };
  ASSERT_EQ(call("POST", "/api/v1/sync/connections/ledger/runs", R"({"stream": "copy"})").status, 202);
  ASSERT_TRUE(eventually([&] { return copied() > 0; }, 60s));
  ASSERT_TRUE(eventually([&] {
    json l = runs("ledger");
    return l.is_object() && !l["items"].empty() && !l["items"][0].value("daemon", std::string{}).empty();
  }, 10s));
  const std::string runner = runs("ledger")["items"][0]["daemon"];
  int victim = 0;
  for (int d = 1; d <= 3; ++d) {
    if (name(d) == runner) victim = d;
  }
  ASSERT_NE(victim, 0) << runner;
  ASSERT_EQ(::kill(pid(victim), SIGKILL), 0);
  const int64_t at_kill = copied();
  ASSERT_LT(at_kill, kMade) << "the kill was to interrupt the push";
  // Asked again through the balancer (which takes the dead daemon out): another daemon takes the run over once
  // the dead one's lease has gone, and sends what is still pending.
  ASSERT_TRUE(eventually([&] {
    HttpResult asked = call("POST", "/api/v1/sync/connections/ledger/runs", R"({"stream": "copy"})");
    return asked.status == 202 && eventually([&] { return copied() == kMade; }, 20s);
  }, 150s)) << copied();
  EXPECT_EQ(count("SELECT COUNT(*) FROM fin.centres_copy WHERE cc LIKE 'PC%' AND title = 'Made ' || cc"), kMade);
  const int64_t writes = count("SELECT COUNT(*) FROM fin.copy_writes WHERE cc LIKE 'PC%'");
  EXPECT_LE(writes, kMade + 100) << "resumed where it stopped: at most the page in flight is written again";
  EXPECT_TRUE(eventually([&] {
    const json l = runs("ledger");
    for (const auto& run : l["items"]) {
      if (run["status"] == "succeeded" && run["daemon"] != runner) return true;
    }
    return false;
  }, 30s)) << runs("ledger");
  restart(victim);
}

// A pull of 30,000 cost centres asked through the balancer; the daemon running it is killed halfway. Asked again,
// another daemon takes it over once the dead one's lease has gone and goes on from the cursor the dead one left:
// every cost centre once, and only what was left (and the page in flight) read again.
TEST_F(ClusterOfThree, ADaemonKilledMidPullLeavesTheRunToAnotherWhichLosesAndDoublesNothing) {
  auto pulled = [&] { return count("SELECT COUNT(*) FROM annex_md_cost_centres WHERE code LIKE 'MC%'"); };
  ASSERT_EQ(call("POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "more"})").status, 202);
  ASSERT_TRUE(eventually([&] { return pulled() > 0; }, 60s));
  std::string runner;
  ASSERT_TRUE(eventually([&] {
    const json all = runs("finance");
    for (const auto& run : all["items"]) {
      if (run["stream"] == "more" && run["status"] == "running") runner = run.value("daemon", std::string{});
    }
    return !runner.empty();
  }, 10s)) << runs("finance");
  int victim = 0;
  for (int d = 1; d <= 3; ++d) {
    if (name(d) == runner) victim = d;
  }
  ASSERT_NE(victim, 0) << runner;
  ASSERT_EQ(::kill(pid(victim), SIGKILL), 0);
  const int64_t at_kill = pulled();
  ASSERT_LT(at_kill, 30000) << "the kill was to interrupt the pull";
  ASSERT_TRUE(eventually([&] {
    HttpResult asked = call("POST", "/api/v1/sync/connections/finance/runs", R"({"stream": "more"})");
    return asked.status == 202 && eventually([&] { return pulled() == 30000; }, 30s);
  }, 150s)) << pulled();
  EXPECT_EQ(count("SELECT COUNT(DISTINCT code) FROM annex_md_cost_centres WHERE code LIKE 'MC%'"), 30000);
  EXPECT_EQ(count("SELECT COUNT(*) FROM annex_md_cost_centres WHERE code LIKE 'MC%' AND name = 'More ' || CAST(substr(code, 3) AS INTEGER)"), 30000);
  ASSERT_TRUE(eventually([&] {
    const json all = runs("finance");
    for (const auto& run : all["items"]) {
      if (run["stream"] == "more" && run["status"] == "succeeded") return true;
    }
    return false;
  }, 30s));
  const json finished = runs("finance");
  for (const auto& run : finished["items"]) {
    if (run["stream"] != "more" || run["status"] != "succeeded") continue;
    EXPECT_NE(run["daemon"], runner) << run;
    EXPECT_LE(run["read"].get<int64_t>(), 30000 - at_kill + 1000) << "it went on from the cursor: " << run;
  }
  restart(victim);
}

// The probe plugin's job ticks every second at whichever daemon holds it, from the cluster's start, through the
// kills and restarts of the other tests: over its first 100 ticks, no two runs closer than the interval (a tick
// run twice would be) and none lost for long. When the cluster is young, a daemon is restarted meanwhile.
TEST_F(ClusterOfThree, AJobTickingEverySecondRunsEachTickOnce) {
  auto ticks = [&] { return count("SELECT COUNT(*) FROM probe_ticks"); };
  if (ticks() < 50) {
    ASSERT_TRUE(eventually([&] { return ticks() >= 50; }, 120s));
    restart(1);
  }
  ASSERT_TRUE(eventually([&] { return ticks() >= 100; }, 120s));
  std::vector<int64_t> at;
  soci::rowset<soci::row> rows = (db_->prepare << "SELECT at_ms FROM probe_ticks ORDER BY at_ms");
  for (const auto& row : rows) at.push_back(row.get<long long>(0));
  ASSERT_GE(at.size(), 100u);
  at.resize(100);
  for (size_t i = 1; i < at.size(); ++i) {
    EXPECT_GE(at[i] - at[i - 1], 900) << "ticks " << i - 1 << " and " << i << " ran " << at[i] - at[i - 1] << " ms apart";
  }
  EXPECT_LE(at.back() - at.front(), 99 * 1000 + 60000) << "ticks were not lost for long";
}

// 10,000 events published through the three daemons; each of the plugin's two subscriptions receives each once.
TEST_F(ClusterOfThree, TenThousandEventsAreEachDeliveredOncePerSubscriber) {
  const std::string base = std::to_string(count("SELECT COUNT(*) FROM probe_deliveries") * 10 + 1000000);
  const int64_t first = std::stoll(base);
  for (int batch = 0; batch < 20; ++batch) {
    HttpResult r = call("POST", "/api/v1/probe/events",
                        json({{"topic", "probe.made"}, {"from", first + batch * 500}, {"count", 500}}).dump());
    ASSERT_EQ(r.status, 202) << r.body;
  }
  const std::string mine = "event_key >= 'e" + std::to_string(first) + "' AND event_key < 'e" + std::to_string(first + 10000) + "'";
  ASSERT_TRUE(eventually([&] { return count("SELECT COUNT(DISTINCT subscription || event_key) FROM probe_deliveries WHERE " + mine) == 20000; }, 180s))
      << count("SELECT COUNT(*) FROM probe_deliveries WHERE " + mine);
  std::this_thread::sleep_for(2s);  // time for a second delivery, were there to be one
  EXPECT_EQ(count("SELECT COUNT(*) FROM probe_deliveries WHERE " + mine), 20000) << "each event once per subscriber";
  EXPECT_EQ(count("SELECT COUNT(DISTINCT event_key) FROM probe_deliveries WHERE subscription = 'probe.made' AND " + mine), 10000);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT event_key) FROM probe_deliveries WHERE subscription = 'probe.*' AND " + mine), 10000);
}

// Eight clients make 30,000 audited writes through the balancer; every daemon served some; the log is one chain
// with no gap or fork, each write's entry in it, and it verifies with the one key that signs every checkpoint.
TEST_F(ClusterOfThree, ThirtyThousandAuditedWritesThroughAllThreeVerifyAsOneChain) {
  const std::string tag = "w" + std::to_string(count("SELECT COUNT(*) FROM probe_writes"));
  std::vector<int64_t> before;
  for (int d = 1; d <= 3; ++d) before.push_back(served(d, "/api/v1/probe/writes"));
  std::atomic<int> failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 150; ++i) {
        HttpResult r = call("POST", "/api/v1/probe/writes", json({{"tag", tag + "-" + std::to_string(c) + "-" + std::to_string(i)}, {"count", 25}}).dump());
        if (r.status != 201) ++failed;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM probe_writes WHERE tag LIKE '" + tag + "-%'"), 30000);
  for (int d = 1; d <= 3; ++d) EXPECT_GT(served(d, "/api/v1/probe/writes"), before[d - 1]) << "daemon " << d << " served writes";
  // One chain: sequence numbers without gap, each write's entry where the write says.
  EXPECT_EQ(count("SELECT MAX(seq) - MIN(seq) + 1 - COUNT(*) FROM annex_audit"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM probe_writes w JOIN annex_audit a ON a.seq = w.audit_seq AND a.object_id = w.tag || '/' || w.n "
                  "WHERE w.tag LIKE '" + tag + "-%'"), 30000);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT key_id) FROM annex_audit_checkpoints"), 1);
  std::string out;
  ASSERT_EQ(run_program(build_path("bin/annexctl"), {"--config", (state_ / "annex.json").string(), "--database-url",
                                                     read_text(state_ / "database_url"), "--data-dir", (state_ / "d1" / "data").string(),
                                                     "audit", "verify", "--public-key", (state_ / "audit-signing.key.pub").string()},
                        &out), 0) << out;
  EXPECT_NE(out.find("audit log intact: "), std::string::npos) << out;
  EXPECT_EQ(out.find("NOT checked"), std::string::npos) << out;
}

// A subscriber that keeps failing is parked after three failures: every daemon shows it, with its backlog and
// error, in GET /api/v1/plugins and /metrics, while the plugin's other subscriptions go on. Resumed from whichever
// daemon the balancer picks, it receives its whole backlog.
TEST_F(ClusterOfThree, AFailingSubscriberIsParkedVisiblyAndResumedFromAnyDaemon) {
  const std::string plugin = "/api/v1/plugins/org.annex.test.cluster-probe";
  const int64_t first = 2000000 + count("SELECT COUNT(*) FROM probe_deliveries") * 10;
  ASSERT_EQ(call("POST", "/api/v1/probe/switches", R"({"name": "fragile-broken", "on": true})").status, 204);
  ASSERT_EQ(call("POST", "/api/v1/probe/events", json({{"topic", "probe.fragile"}, {"from", first}, {"count", 20}}).dump()).status, 202);
  auto fragile = [&](const json& p) {
    for (const auto& e : p["events"]) {
      if (e["topic"] == "probe.fragile") return e;
    }
    return json();
  };
  ASSERT_TRUE(eventually([&] { return fragile(call_json("GET", plugin))["state"] == "parked"; }, 60s)) << call("GET", plugin).body;
  for (int d = 1; d <= 3; ++d) {
    json at = json::parse(http_call("http://127.0.0.1:" + port(d), "GET", plugin, "", auth_).body, nullptr, false);
    json e = fragile(at);
    EXPECT_EQ(e["state"], "parked") << "daemon " << d << ": " << at;
    EXPECT_EQ(e["backlog"], 20) << at;
    EXPECT_EQ(e["failures"], 3) << at;
    EXPECT_NE(e.value("last_error", std::string{}).find("broken on purpose"), std::string::npos) << at;
    const std::string metrics = http_call("http://127.0.0.1:" + port(d), "GET", "/metrics").body;
    EXPECT_NE(metrics.find("annex_event_subscription_parked{plugin=\"org.annex.test.cluster-probe\",topic=\"probe.fragile\"} 1"),
              std::string::npos) << "daemon " << d;
    EXPECT_NE(metrics.find("annex_event_backlog{plugin=\"org.annex.test.cluster-probe\",topic=\"probe.fragile\"} 20"),
              std::string::npos) << "daemon " << d;
  }
  // The plugin's other subscriptions go on.
  ASSERT_EQ(call("POST", "/api/v1/probe/events", json({{"topic", "probe.made"}, {"from", first + 100}, {"count", 5}}).dump()).status, 202);
  ASSERT_TRUE(eventually([&] {
    return count("SELECT COUNT(*) FROM probe_deliveries WHERE subscription = 'probe.made' AND event_key >= 'e" + std::to_string(first + 100) +
                 "' AND event_key < 'e" + std::to_string(first + 105) + "'") == 5;
  }, 30s));

  ASSERT_EQ(call("POST", "/api/v1/probe/switches", R"({"name": "fragile-broken", "on": false})").status, 204);
  HttpResult resumed = call("POST", plugin + "/events/resume");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(json::parse(resumed.body)["resumed"], 1) << resumed.body;
  ASSERT_TRUE(eventually([&] {
    return count("SELECT COUNT(*) FROM probe_deliveries WHERE subscription = 'probe.fragile' AND event_key >= 'e" + std::to_string(first) +
                 "' AND event_key < 'e" + std::to_string(first + 20) + "'") == 20;
  }, 30s));
  json after = fragile(call_json("GET", plugin));
  EXPECT_EQ(after["state"], "delivering") << after;
  EXPECT_EQ(after["backlog"], 0) << after;
  EXPECT_EQ(call("POST", "/api/v1/plugins/org.annex.test.nothing/events/resume").status, 404);
}

}  // namespace
}  // namespace annex::test

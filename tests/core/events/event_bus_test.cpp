// The event dispatcher, on SQLite and PostgreSQL: each plugin is served on a lane of its own, so a slow handler
// delays only its own plugin's events; a plugin's handlers never overlap; a subscriber that keeps failing is
// parked with its backlog kept and shown, the others go on, and once resumed it receives its whole backlog in
// order.
#include "events/event_bus.h"
#include "store/database.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace annex::events {
namespace {

using namespace std::chrono_literals;
using test::Backend;

class EventBusTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = test::migrated_database(GetParam(), dir_);
    if (!db_) GTEST_SKIP() << "no PostgreSQL";
  }
  void publish(EventBus& bus, const std::string& topic, int from, int to) {
    for (int i = from; i < to; ++i) bus.publish(nullptr, "org.p", topic, "{\"n\":" + std::to_string(i) + "}", "k" + std::to_string(i));
  }
  static std::optional<SubscriptionStatus> find(const std::vector<SubscriptionStatus>& all, const std::string& owner) {
    for (const auto& s : all) {
      if (s.owner == owner) return s;
    }
    return std::nullopt;
  }
  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
};

// One plugin's handler takes two seconds an event; the other plugin's 200 events arrive meanwhile.
TEST_P(EventBusTest, ASlowHandlerDelaysOnlyItsOwnPlugin) {
  EventBus bus(*db_);
  std::atomic<int> slow{0}, quick{0};
  ASSERT_EQ(bus.subscribe("org.slow", "t.*", [&](const Event&, std::string*) {
    std::this_thread::sleep_for(2s);
    ++slow;
    return true;
  }), "");
  ASSERT_EQ(bus.subscribe("org.quick", "t.*", [&](const Event&, std::string*) {
    ++quick;
    return true;
  }), "");
  bus.start();
  publish(bus, "t.made", 0, 200);
  const auto began = std::chrono::steady_clock::now();
  ASSERT_TRUE(test::eventually([&] { return quick == 200; }, 20s));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 1800ms) << "the quick plugin did not wait for the slow one";
  EXPECT_LE(slow.load(), 1);
  bus.stop();
}

// Two subscriptions of one plugin: their handlers never run at the same time, and each sees its events in order.
TEST_P(EventBusTest, APluginsHandlersNeverOverlapAndEachSubscriptionIsInOrder) {
  EventBus bus(*db_);
  std::atomic<int> inside{0}, overlaps{0};
  std::mutex order_mutex;
  std::vector<int64_t> a_seen, b_seen;
  auto handler = [&](std::vector<int64_t>& seen) {
    return [&](const Event& e, std::string*) {
      if (++inside > 1) ++overlaps;
      std::this_thread::sleep_for(1ms);
      {
        std::lock_guard lock(order_mutex);
        seen.push_back(e.sequence);
      }
      --inside;
      return true;
    };
  };
  ASSERT_EQ(bus.subscribe("org.one", "a.*", handler(a_seen)), "");
  ASSERT_EQ(bus.subscribe("org.one", "b.*", handler(b_seen)), "");
  bus.start();
  publish(bus, "a.x", 0, 100);
  publish(bus, "b.x", 100, 200);
  ASSERT_TRUE(test::eventually([&] {
    std::lock_guard lock(order_mutex);
    return a_seen.size() == 100 && b_seen.size() == 100;
  }, 30s));
  bus.stop();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_TRUE(std::is_sorted(a_seen.begin(), a_seen.end()));
  EXPECT_TRUE(std::is_sorted(b_seen.begin(), b_seen.end()));
}

// A handler that fails every time is parked after three failures: its backlog stays, visible with the error;
// another plugin's events go on meanwhile. Resumed (as an administrator would, from any daemon), it gets the
// whole backlog, in order, and no longer shows as failing.
TEST_P(EventBusTest, ASubscriberThatKeepsFailingIsParkedWithItsBacklogThenResumed) {
  EventBus bus(*db_, EventBusOptions{3, std::chrono::seconds(3600)});
  std::atomic<bool> broken{true};
  std::atomic<int> attempts{0}, others{0};
  std::mutex seen_mutex;
  std::vector<int64_t> seen;
  ASSERT_EQ(bus.subscribe("org.flaky", "t.*", [&](const Event& e, std::string* error) {
    ++attempts;
    if (broken) {
      *error = "the ledger is locked";
      return false;
    }
    std::lock_guard lock(seen_mutex);
    seen.push_back(e.sequence);
    return true;
  }), "");
  ASSERT_EQ(bus.subscribe("org.other", "t.*", [&](const Event&, std::string*) {
    ++others;
    return true;
  }), "");
  bus.start();
  publish(bus, "t.made", 0, 50);
  ASSERT_TRUE(test::eventually([&] {
    auto s = find(bus.status(), "org.flaky");
    return s && s->state == "parked";
  }, 30s));
  ASSERT_TRUE(test::eventually([&] { return others == 50; }, 20s)) << "the parked subscriber blocks no one";
  const int parked_after = attempts;
  EXPECT_EQ(parked_after, 3);
  publish(bus, "t.made", 50, 60);
  ASSERT_TRUE(test::eventually([&] { return others == 60; }, 20s));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(attempts.load(), parked_after) << "a parked subscriber is not tried before its retry time";
  auto all = bus.status();
  auto flaky = find(all, "org.flaky");
  ASSERT_TRUE(flaky);
  EXPECT_EQ(flaky->backlog, 60);
  EXPECT_EQ(flaky->failures, 3);
  EXPECT_EQ(flaky->last_error, "the ledger is locked");
  EXPECT_FALSE(flaky->parked_at.empty());
  auto other = find(all, "org.other");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->state, "delivering");
  EXPECT_EQ(other->backlog, 0);

  broken = false;
  // Resumed through another bus on the same database, as another daemon's administrator route would.
  EventBus elsewhere(*db_);
  EXPECT_EQ(elsewhere.resume("org.flaky"), 1);
  EXPECT_EQ(elsewhere.resume("org.other"), 0);
  ASSERT_TRUE(test::eventually([&] {
    std::lock_guard lock(seen_mutex);
    return seen.size() == 60;
  }, 30s));
  {
    std::lock_guard lock(seen_mutex);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  }
  flaky = find(bus.status(), "org.flaky");
  ASSERT_TRUE(flaky);
  EXPECT_EQ(flaky->state, "delivering");
  EXPECT_EQ(flaky->backlog, 0);
  EXPECT_EQ(flaky->failures, 0);
  bus.stop();
}

// A parked subscription is tried again by itself after parked_retry, and delivers on once the handler works.
TEST_P(EventBusTest, AParkedSubscriberIsTriedAgainAfterItsRetryTime) {
  EventBus bus(*db_, EventBusOptions{2, std::chrono::seconds(2)});
  std::atomic<bool> broken{true};
  std::atomic<int> delivered{0};
  ASSERT_EQ(bus.subscribe("org.flaky", "t.*", [&](const Event&, std::string* error) {
    if (broken) {
      *error = "down";
      return false;
    }
    ++delivered;
    return true;
  }), "");
  bus.start();
  publish(bus, "t.made", 0, 5);
  ASSERT_TRUE(test::eventually([&] {
    auto s = find(bus.status(), "org.flaky");
    return s && s->state == "parked";
  }, 30s));
  broken = false;
  ASSERT_TRUE(test::eventually([&] { return delivered == 5; }, 20s));
  EXPECT_EQ(find(bus.status(), "org.flaky")->state, "delivering");
  bus.stop();
}

INSTANTIATE_TEST_SUITE_P(Backends, EventBusTest, testing::Values(Backend::kSqlite, Backend::kPostgresql), test::backend_param_name);

}  // namespace
}  // namespace annex::events

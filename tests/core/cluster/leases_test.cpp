// Leases in the database, on SQLite and PostgreSQL: one holder at a time, taken over once expired, renewed while
// held, made due by expiring; and two schedulers sharing one database run each tick of a job once between them.
#include "cluster/leases.h"
#include "events/event_bus.h"
#include "jobs/scheduler.h"
#include "store/database.h"
#include "store/sql.h"
#include "support/test_support.h"

#include <Poco/Environment.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace annex::cluster {
namespace {

using namespace std::chrono_literals;
using test::Backend;

class LeasesTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = test::migrated_database(GetParam(), dir_);
    if (!db_) GTEST_SKIP() << "no PostgreSQL";
  }
  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
};

TEST_P(LeasesTest, OneDaemonHoldsALeaseUntilItEndsThenAnotherTakesIt) {
  Leases a(*db_, "a"), b(*db_, "b");
  EXPECT_TRUE(a.take("work", 400ms));
  std::chrono::milliseconds left{0};
  EXPECT_FALSE(b.take("work", 400ms, &left));
  EXPECT_GT(left.count(), 0);
  EXPECT_LE(left.count(), 400);
  EXPECT_FALSE(a.take("work", 400ms)) << "taking is not renewing: a lease held until a time means 'not before then'";
  ASSERT_TRUE(a.holder("work").has_value());
  EXPECT_EQ(a.holder("work")->daemon, "a");
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(b.holder("work").has_value()) << "an expired lease is no one's";
  EXPECT_TRUE(b.take("work", 10s));
  EXPECT_EQ(a.holder("work")->daemon, "b");
  EXPECT_FALSE(a.hold_for("work", 10s)) << "a lease taken over is no longer renewed by its old holder";
  a.release("work");
  EXPECT_EQ(b.holder("work")->daemon, "b") << "nor given back by it";
  b.release("work");
  EXPECT_TRUE(a.take("work", 10s));
}

TEST_P(LeasesTest, AKeptLeaseIsRenewedWhileItsWorkRunsAndGivenBackAfter) {
  Leases a(*db_, "a"), b(*db_, "b");
  {
    HeldLease held(a, "run", 300ms);
    ASSERT_TRUE(held.held());
    std::this_thread::sleep_for(1s);  // three lifetimes: renewed meanwhile
    HeldLease other(b, "run", 300ms);
    EXPECT_FALSE(other.held());
    EXPECT_GT(other.left().count(), 0);
  }
  HeldLease after(b, "run", 300ms);
  EXPECT_TRUE(after.held()) << "given back at the end of the scope";
}

// A daemon killed and started again on the same host need not wait for its own leases: the process that held
// them is gone. A holder that still runs, or runs elsewhere, is waited for.
TEST_P(LeasesTest, ALeaseOfAProcessOfThisHostThatIsGoneIsFreeAtOnce) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  std::string host = Poco::Environment::nodeName();
  Leases dead(*db_, host + ":" + std::to_string(child) + ":0001"), elsewhere(*db_, "other-host:" + std::to_string(child) + ":0002");
  Leases alive(*db_, host + ":" + std::to_string(::getppid()) + ":0003"), me(*db_, Leases::daemon_name());
  ASSERT_TRUE(dead.take("a", 1h));
  ASSERT_TRUE(elsewhere.take("b", 1h));
  ASSERT_TRUE(alive.take("c", 1h));
  EXPECT_TRUE(me.take("a", 1h));
  EXPECT_FALSE(me.take("b", 1h));
  EXPECT_FALSE(me.take("c", 1h));
  EXPECT_EQ(me.holder("a")->daemon, me.daemon());
}

// A time (an interval job's next run, a calendar time already run) is held by no process: the end of the daemon
// that ran the job does not make it due early — a restarted daemon would otherwise run every job at once.
TEST_P(LeasesTest, ATimeSettledByAProcessThatIsGoneIsNotFreedEarly) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  Leases dead(*db_, Poco::Environment::nodeName() + ":" + std::to_string(child) + ":0001"), me(*db_, Leases::daemon_name());
  ASSERT_TRUE(dead.take("job-due:x", 1h));
  ASSERT_TRUE(dead.settle("job-due:x", 1h));
  EXPECT_FALSE(me.settle("job-due:x", 1h)) << "not its lease";
  EXPECT_EQ(me.holder("job-due:x")->daemon, Leases::kSchedule);
  EXPECT_FALSE(me.take("job-due:x", 1h)) << "due in an hour, whoever ran it";
  dead.seed("job-due:y", 1h);
  EXPECT_FALSE(me.take("job-due:y", 1h)) << "a first time is a time too";
  me.expire("job-due:x");
  EXPECT_TRUE(me.take("job-due:x", 1h)) << "a trigger still makes it due";
}

TEST_P(LeasesTest, ExpiringALeaseMakesItsWorkDueForEveryone) {
  Leases a(*db_, "a"), b(*db_, "b");
  ASSERT_TRUE(a.take("due", 1h));
  EXPECT_FALSE(b.take("due", 1h));
  b.expire("due");
  EXPECT_TRUE(b.take("due", 1h));
}

TEST_P(LeasesTest, ManyContendersAtOnceOneWins) {
  std::vector<std::unique_ptr<Leases>> daemons;
  for (int i = 0; i < 6; ++i) daemons.push_back(std::make_unique<Leases>(*db_, "d" + std::to_string(i)));
  for (int round = 0; round < 10; ++round) {
    std::atomic<int> won{0};
    std::vector<std::thread> threads;
    for (auto& d : daemons) {
      threads.emplace_back([&, name = "contended-" + std::to_string(round)] {
        if (d->take(name, 10s)) ++won;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(won.load(), 1) << "round " << round;
  }
}

// Three schedulers on one database, as three daemons would run them: a job every second runs once a second
// between them, not three times; and a trigger at one of them runs the job once.
TEST_P(LeasesTest, SharedSchedulersRunEachTickOfAJobOnceBetweenThem) {
  std::vector<std::unique_ptr<Leases>> leases;
  std::vector<std::unique_ptr<jobs::Scheduler>> schedulers;
  std::atomic<int> runs{0}, inside{0}, overlapped{0};
  for (int i = 0; i < 3; ++i) {
    leases.push_back(std::make_unique<Leases>(*db_, "daemon-" + std::to_string(i)));
    schedulers.push_back(std::make_unique<jobs::Scheduler>(2));
    schedulers.back()->share(leases.back().get());
    ASSERT_EQ(schedulers.back()->schedule("org.t", "tick", 1s, 0s, [&](std::string*) {
      if (++inside > 1) ++overlapped;
      std::this_thread::sleep_for(50ms);
      --inside;
      ++runs;
      return true;
    }), "");
  }
  auto started = std::chrono::steady_clock::now();
  for (auto& s : schedulers) s->start();
  std::this_thread::sleep_for(4500ms);
  for (auto& s : schedulers) s->stop();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // Once at the start, then once a second after each run's end: four or five runs, never three a second.
  EXPECT_GE(runs.load(), 3);
  EXPECT_LE(runs.load(), static_cast<int>(seconds) + 1) << "each tick ran once among the three";
  EXPECT_EQ(overlapped.load(), 0);

  int before = runs.load();
  for (auto& s : schedulers) s->start();
  schedulers[2]->trigger("org.t", "tick");
  EXPECT_TRUE(test::eventually([&] { return runs.load() == before + 1; }, 5s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(runs.load(), before + 1) << "a trigger runs the job once, wherever it is asked";
  for (auto& s : schedulers) s->stop();
}

// A daemon killed while its job runs stops renewing the job's lease; another daemon runs the job once the lease
// has expired (its tick is not lost), and not before.
TEST_P(LeasesTest, ATickHeldByADaemonThatDiedIsRunByAnotherAfterItsLeaseExpires) {
  Leases dead(*db_, "dead");
  ASSERT_TRUE(dead.take("job:org.t/once", 1500ms));  // it took the tick, then stopped renewing
  ASSERT_TRUE(dead.take("job-due:org.t/once", 1h));
  dead.expire("job-due:org.t/once");                  // and the tick was due
  Leases alive(*db_, "alive");
  jobs::Scheduler s(1);
  s.share(&alive);
  std::atomic<int> runs{0};
  auto started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point ran_at{};
  ASSERT_EQ(s.schedule("org.t", "once", 1h, 0s, [&](std::string*) {
    if (runs++ == 0) ran_at = std::chrono::steady_clock::now();
    return true;
  }), "");
  s.start();
  EXPECT_TRUE(test::eventually([&] { return runs.load() >= 1; }, 10s));
  s.stop();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_GE(ran_at - started, 1000ms) << "not while the dead daemon's lease still ran";
}

// Two daemons' event buses on one database, both subscribed as the same plugin: each event is delivered once,
// by the bus holding the subscription's lease; when that bus stops, the other delivers what comes next.
TEST_P(LeasesTest, SharedEventBusesDeliverEachEventOncePerSubscriber) {
  Leases la(*db_, "a"), lb(*db_, "b");
  events::EventBus a(*db_), b(*db_);
  a.share(&la);
  b.share(&lb);
  std::mutex seen_mutex;
  std::map<int64_t, int> seen;
  std::atomic<int> at_a{0}, at_b{0};
  auto handler = [&](std::atomic<int>& count) {
    return [&](const events::Event& e, std::string*) {
      std::lock_guard lock(seen_mutex);
      ++seen[e.sequence];
      ++count;
      return true;
    };
  };
  ASSERT_EQ(a.subscribe("org.t", "t.*", handler(at_a)), "");
  ASSERT_EQ(b.subscribe("org.t", "t.*", handler(at_b)), "");
  a.start();
  b.start();
  for (int i = 0; i < 500; ++i) a.publish(nullptr, "org.p", "t.made", "{}", "k" + std::to_string(i));
  auto delivered = [&] {
    std::lock_guard lock(seen_mutex);
    return seen.size();
  };
  ASSERT_TRUE(test::eventually([&] { return delivered() == 500; }, 20s));
  std::this_thread::sleep_for(1500ms);  // time for the other bus to deliver any again, were it to
  {
    std::lock_guard lock(seen_mutex);
    for (const auto& [seq, n] : seen) ASSERT_EQ(n, 1) << "event " << seq;
  }
  EXPECT_TRUE((at_a == 500 && at_b == 0) || (at_a == 0 && at_b == 500)) << at_a << " / " << at_b;
  events::EventBus& holder = at_a > 0 ? a : b;
  std::atomic<int>& other_count = at_a > 0 ? at_b : at_a;
  holder.stop();
  for (int i = 500; i < 600; ++i) a.publish(nullptr, "org.p", "t.made", "{}", "k" + std::to_string(i));
  EXPECT_TRUE(test::eventually([&] { return delivered() == 600; }, 20s));
  EXPECT_EQ(other_count.load(), 100) << "the other bus took the subscription over";
  a.stop();
  b.stop();
}

INSTANTIATE_TEST_SUITE_P(Backends, LeasesTest, testing::Values(Backend::kSqlite, Backend::kPostgresql), test::backend_param_name);

}  // namespace
}  // namespace annex::cluster

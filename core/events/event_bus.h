// EventBus — durable publish/subscribe between plugins, at-least-once.
//
// publish() appends a row to annex_events, inside the publisher's transaction when it has one, so an event
// exists only if the change it reports committed. Each subscribing plugin has a delivery lane of its own (a
// thread), so a slow or failing handler of one plugin never delays another's events; within a lane the
// plugin's subscriptions are served in turn, each in sequence order, one event at a time — a plugin's handlers
// never overlap one another. A delivery is recorded after the handler succeeds; a failing handler gets the
// event again after a backoff, and after `park_after_failures` failures in a row its subscription is parked:
// tried again only every `parked_retry`, or at once when an administrator resumes it; its backlog and last
// error are visible meanwhile (status()). Because transactions on PostgreSQL may commit out of sequence order,
// delivery is tracked per event rather than by a single cursor: a subscription's floor only passes events older
// than kSettleSeconds.
#pragma once

#include "store/database.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace annex::cluster {
class Leases;
}

namespace annex::events {

struct Event {
  int64_t sequence = 0;
  std::string topic;
  std::string payload;
  std::string idempotency_key;
  std::string publisher;
};

// Returns true when handled; false (with *error) to have the event delivered again later.
using Handler = std::function<bool(const Event&, std::string* error)>;

struct EventBusOptions {
  int park_after_failures = 10;                  // failures in a row that park a subscription
  std::chrono::seconds parked_retry{300};         // how often a parked subscription is tried again
};

// What an operator sees of one subscription (GET /api/v1/plugins, /metrics).
struct SubscriptionStatus {
  std::string owner;
  std::string topic;
  std::string state;        // "delivering", "retrying" (failed, tried again after a backoff) or "parked"
  int64_t backlog = 0;      // events not yet delivered to it
  int failures = 0;         // in a row
  std::string last_error;
  std::string parked_at;    // UTC, when parked
  std::string daemon;       // the daemon delivering it, when shared
};

class EventBus {
 public:
  static constexpr int kSettleSeconds = 300;

  explicit EventBus(store::Database& db, EventBusOptions options = {});
  ~EventBus();

  // Stores an event. With `session` the insert joins the transaction open on it. A repeated
  // (publisher, topic, key) is ignored. Throws StoreError.
  void publish(soci::session* session, const std::string& publisher, const std::string& topic,
               const std::string& payload, const std::string& idempotency_key);

  // Subscribes `owner` to `topic` (exact, or a prefix written "prefix.*"). Returns "" or why it was refused.
  std::string subscribe(const std::string& owner, const std::string& topic, Handler handler);
  // Removes every subscription of `owner`, waiting for a delivery in progress to finish.
  void unsubscribe_owner(const std::string& owner);

  // Shares delivery with every daemon on the same database: each subscription is delivered by the one daemon
  // holding its lease ("events:OWNER|TOPIC"), renewed while it runs and given back at stop(); a daemon killed
  // mid-delivery leaves it to another once the lease has expired (the event it was handling comes again:
  // at least once). Call before start().
  void share(cluster::Leases* leases) { leases_ = leases; }

  void start();
  void stop();
  // Wakes the dispatcher (after a publish).
  void poke();
  // Delivers everything currently deliverable, on the calling thread; for tests and shutdown.
  void drain();

  // Every subscription (of `owner`, or all), with its backlog counted in the database. Throws StoreError.
  std::vector<SubscriptionStatus> status(const std::string& owner = "");
  // Resumes the parked or failing subscriptions of `owner` (at every daemon: the parking is in the database).
  // Returns how many were parked or failing.
  int resume(const std::string& owner);

 private:
  struct Subscription {
    std::string owner;
    std::string topic;
    std::string subscriber;  // owner|topic, the key of its deliveries
    Handler handler;
    std::atomic<bool> removed{false};
    int failures = 0;
    bool parked = false;
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::steady_clock::time_point parking_checked{};
    std::chrono::steady_clock::time_point floor_checked{};
    bool leased = false;                                   // shared: this daemon delivers it
    std::chrono::steady_clock::time_point lease_checked{};  // when its lease was last asked for or confirmed
  };
  // One plugin's subscriptions and the thread that delivers to them.
  struct Lane {
    std::string owner;
    std::vector<std::shared_ptr<Subscription>> subscriptions;  // guarded by EventBus::mutex_
    std::mutex delivering;                                      // held while delivering
    std::thread thread;
    bool stopping = false;  // guarded by EventBus::mutex_
    uint64_t seen = 0;      // the wake-up generation it last saw; guarded by EventBus::mutex_
  };

  void run(Lane& lane);
  void start_lane(const std::shared_ptr<Lane>& lane);
  void serve(Lane& lane, const std::vector<std::shared_ptr<Subscription>>& subs, bool* busy);
  // Shared: whether this daemon delivers `sub` now (taking its lease when free, confirming it now and then).
  bool holds(Subscription& sub);
  void give_back(Subscription& sub);
  bool deliver(Subscription& sub);  // true when it delivered anything
  void failed(Subscription& sub, const Event& event, const std::string& error);
  void recovered(Subscription& sub);
  // A parked subscription: whether an administrator resumed it meanwhile (its row is gone).
  bool resumed(Subscription& sub);
  void load_failures(Subscription& sub);
  void advance_floor(Subscription& sub);

  store::Database& db_;
  EventBusOptions options_;
  cluster::Leases* leases_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::shared_ptr<Lane>> lanes_;  // owner → its lane
  uint64_t generation_ = 0;                             // bumped by every poke
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace annex::events

// EventBus — durable publish/subscribe between plugins, at-least-once.
//
// publish() appends a row to annex_events, inside the publisher's transaction when it has one, so an event
// exists only if the change it reports committed. One dispatcher thread delivers to each subscription, in
// sequence order, and records each delivery after the handler succeeds; a failing handler gets the event again
// after a backoff. Because transactions on PostgreSQL may commit out of sequence order, delivery is tracked per
// event rather than by a single cursor: a subscription's floor only passes events older than kSettleSeconds.
#pragma once

#include "store/database.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
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

class EventBus {
 public:
  static constexpr int kSettleSeconds = 300;

  explicit EventBus(store::Database& db);
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

 private:
  struct Subscription {
    std::string owner;
    std::string topic;
    std::string subscriber;  // owner|topic, the key of its deliveries
    Handler handler;
    int failures = 0;
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::steady_clock::time_point floor_checked{};
    bool leased = false;                                   // shared: this daemon delivers it
    std::chrono::steady_clock::time_point lease_checked{};  // when its lease was last asked for or confirmed
  };

  void run();
  // Shared: whether this daemon delivers `sub` now (taking its lease when free, confirming it now and then).
  bool holds(Subscription& sub);
  void give_back(Subscription& sub);
  bool deliver(Subscription& sub);  // true when it delivered anything
  void advance_floor(Subscription& sub);

  store::Database& db_;
  cluster::Leases* leases_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::mutex delivery_mutex_;  // held while delivering; unsubscribe waits on it
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
  std::atomic<bool> running_{false};
  bool poked_ = false;
  std::thread thread_;
};

}  // namespace annex::events

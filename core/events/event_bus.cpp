#include "events/event_bus.h"

#include "clock/utc.h"
#include "cluster/leases.h"
#include "store/sql.h"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <random>

namespace annex::events {
namespace {

bool valid_topic(const std::string& t) {
  if (t.empty() || t.size() > 200) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
              (c == '*' && i == t.size() - 1 && i > 0 && t[i - 1] == '.');
    if (!ok) return false;
  }
  return true;
}

// The SQL condition selecting a subscription's topics and its parameter: exact, or for "a.b.*" every topic
// starting with "a.b." (substr, not a range, so that collation cannot reorder punctuation).
std::string topic_condition(const std::string& topic, std::string* param) {
  if (topic.size() >= 2 && topic.compare(topic.size() - 2, 2, ".*") == 0) {
    *param = topic.substr(0, topic.size() - 1);
    return "substr(e.topic, 1, " + std::to_string(param->size()) + ") = ?";
  }
  *param = topic;
  return "e.topic = ?";
}

// A subscription's lease, renewed every ten seconds while its daemon runs.
constexpr std::chrono::milliseconds kLease{30000};

}  // namespace

EventBus::EventBus(store::Database& db) : db_(db) {}

EventBus::~EventBus() { stop(); }

void EventBus::publish(soci::session* session, const std::string& publisher, const std::string& topic,
                       const std::string& payload, const std::string& idempotency_key) {
  if (!valid_topic(topic) || topic.find('*') != std::string::npos) {
    throw store::StoreError(store::StoreError::Kind::kBadStatement, "invalid topic \"" + topic + "\"");
  }
  std::string now = clock::utc_now();
  store::Param params[] = {store::Param::text(topic), store::Param::text(payload),
                           store::Param::text(idempotency_key), store::Param::text(publisher), store::Param::text(now)};
  const char* sql =
      "INSERT INTO annex_events (topic, payload, idempotency_key, publisher, created_at) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (publisher, topic, idempotency_key) DO NOTHING";
  if (session != nullptr) {
    store::run(*session, sql, params);
  } else {
    store::Lease lease(db_);
    store::run(lease.session(), sql, params);
    poke();
  }
}

std::string EventBus::subscribe(const std::string& owner, const std::string& topic, Handler handler) {
  if (!valid_topic(topic)) return "topic \"" + topic + "\" must be letters, digits, '.', '_', '-', optionally ending in \".*\"";
  auto sub = std::make_shared<Subscription>();
  sub->owner = owner;
  sub->topic = topic;
  sub->subscriber = owner + "|" + topic;
  sub->handler = std::move(handler);
  std::lock_guard lock(mutex_);
  for (const auto& s : subscriptions_) {
    if (s->subscriber == sub->subscriber) return owner + " already subscribes to " + topic;
  }
  subscriptions_.push_back(std::move(sub));
  poked_ = true;
  wake_.notify_all();
  return {};
}

void EventBus::unsubscribe_owner(const std::string& owner) {
  std::lock_guard delivery(delivery_mutex_);
  std::vector<std::shared_ptr<Subscription>> removed;
  {
    std::lock_guard lock(mutex_);
    for (auto& s : subscriptions_) {
      if (s->owner == owner) removed.push_back(s);
    }
    subscriptions_.erase(std::remove_if(subscriptions_.begin(), subscriptions_.end(),
                                        [&](auto& s) { return s->owner == owner; }),
                         subscriptions_.end());
  }
  for (auto& s : removed) give_back(*s);
}

bool EventBus::holds(Subscription& sub) {
  if (leases_ == nullptr) return true;
  const auto now = std::chrono::steady_clock::now();
  const std::string name = "events:" + sub.subscriber;
  if (sub.leased) {
    // Renewed in the background; confirmed now and then, in case it was lost (the database out of reach longer
    // than the lease) and another daemon took it.
    if (now - sub.lease_checked < std::chrono::seconds(10)) return true;
    sub.lease_checked = now;
    auto holder = leases_->holder(name);
    if (holder && holder->daemon == leases_->daemon()) return true;
    spdlog::warn("events for {}: another daemon delivers them now", sub.subscriber);
    sub.leased = false;
    leases_->forget(name);
    return false;
  }
  if (now - sub.lease_checked < std::chrono::seconds(1)) return false;
  sub.lease_checked = now;
  if (!leases_->take(name, kLease)) return false;
  sub.leased = true;
  leases_->keep(name, kLease);
  return true;
}

void EventBus::give_back(Subscription& sub) {
  if (leases_ == nullptr || !sub.leased) return;
  sub.leased = false;
  leases_->forget("events:" + sub.subscriber);
  try {
    leases_->release("events:" + sub.subscriber);
  } catch (const std::exception& e) {
    spdlog::warn("events for {}: the lease could not be given back (it expires by itself): {}", sub.subscriber, e.what());
  }
}

void EventBus::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { run(); });
}

void EventBus::stop() {
  if (!running_.exchange(false)) return;
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Another daemon takes the deliveries over at once, not after the leases expire.
  std::vector<std::shared_ptr<Subscription>> subs;
  {
    std::lock_guard lock(mutex_);
    subs = subscriptions_;
  }
  for (auto& s : subs) give_back(*s);
}

void EventBus::poke() {
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  wake_.notify_all();
}

void EventBus::drain() {
  bool more = true;
  while (more) {
    more = false;
    std::vector<std::shared_ptr<Subscription>> subs;
    {
      std::lock_guard lock(mutex_);
      subs = subscriptions_;
    }
    std::lock_guard delivery(delivery_mutex_);
    for (auto& s : subs) {
      s->retry_at = {};
      if (deliver(*s) && s->failures == 0) more = true;
    }
  }
}

void EventBus::run() {
  while (running_) {
    std::vector<std::shared_ptr<Subscription>> subs;
    {
      std::lock_guard lock(mutex_);
      subs = subscriptions_;
      poked_ = false;
    }
    bool busy = false;
    {
      std::lock_guard delivery(delivery_mutex_);
      for (auto& s : subs) {
        if (!running_) break;
        try {
          busy |= deliver(*s);
          advance_floor(*s);
        } catch (const std::exception& e) {
          spdlog::warn("event delivery to {} paused: {}", s->subscriber, e.what());
          s->retry_at = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        }
      }
    }
    if (busy) continue;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return poked_ || !running_; });
  }
}

bool EventBus::deliver(Subscription& sub) {
  auto now = std::chrono::steady_clock::now();
  if (now < sub.retry_at) return false;
  {
    // Skip subscriptions removed since the snapshot was taken.
    std::lock_guard lock(mutex_);
    if (std::none_of(subscriptions_.begin(), subscriptions_.end(), [&](auto& s) { return s.get() == &sub; })) return false;
  }
  if (!holds(sub)) return false;
  std::string topic;
  std::string condition = topic_condition(sub.topic, &topic);
  store::ResultSet rs;
  {
    store::Lease lease(db_);
    store::Param params[] = {store::Param::text(sub.subscriber), store::Param::text(topic),
                             store::Param::text(sub.subscriber)};
    rs = store::run(lease.session(),
                    "SELECT e.seq, e.topic, e.payload, e.idempotency_key, e.publisher FROM annex_events e "
                    "WHERE e.seq > COALESCE((SELECT floor FROM annex_event_floors WHERE subscriber = ?), 0) "
                    "AND " + condition + " "
                    "AND NOT EXISTS (SELECT 1 FROM annex_event_deliveries d WHERE d.subscriber = ? AND d.seq = e.seq) "
                    "ORDER BY e.seq LIMIT 200",
                    params);
  }
  bool delivered = false;
  for (auto& row : rs.rows) {
    Event event{row[0].i, row[1].s, row[2].s, row[3].s, row[4].s};
    std::string error;
    bool ok = false;
    try {
      ok = sub.handler(event, &error);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!ok) {
      ++sub.failures;
      // Exponential backoff with full jitter, capped at one minute.
      static thread_local std::mt19937 rng{std::random_device{}()};
      int cap_ms = std::min(60000, 100 << std::min(sub.failures, 10));
      int wait_ms = std::uniform_int_distribution<int>(cap_ms / 10, cap_ms)(rng);
      sub.retry_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
      spdlog::warn("event {} ({}) to {} failed (attempt {}), retry in {} ms: {}", event.sequence, event.topic,
                   sub.subscriber, sub.failures, wait_ms, error);
      return delivered;
    }
    sub.failures = 0;
    store::Lease lease(db_);
    store::Param params[] = {store::Param::text(sub.subscriber), store::Param::integer(event.sequence)};
    store::run(lease.session(),
               "INSERT INTO annex_event_deliveries (subscriber, seq) VALUES (?, ?) ON CONFLICT DO NOTHING", params);
    delivered = true;
  }
  return delivered;
}

void EventBus::advance_floor(Subscription& sub) {
  if (leases_ != nullptr && !sub.leased) return;
  auto now = std::chrono::steady_clock::now();
  if (now - sub.floor_checked < std::chrono::seconds(60)) return;
  sub.floor_checked = now;
  std::string topic;
  std::string condition = topic_condition(sub.topic, &topic);
  std::string settled = clock::utc_now(-kSettleSeconds);
  store::Lease lease(db_);
  soci::session& session = lease.session();
  store::Param p1[] = {store::Param::text(sub.subscriber), store::Param::text(topic), store::Param::text(settled),
                       store::Param::text(sub.subscriber)};
  // The new floor: just below the oldest settled event not yet delivered, or the newest settled event.
  store::ResultSet rs = store::run(
      session,
      "SELECT MIN(e.seq) FROM annex_events e WHERE e.seq > COALESCE((SELECT floor FROM annex_event_floors "
      "WHERE subscriber = ?), 0) AND " + condition + " AND e.created_at < ? AND NOT EXISTS "
      "(SELECT 1 FROM annex_event_deliveries d WHERE d.subscriber = ? AND d.seq = e.seq)",
      p1);
  int64_t floor = 0;
  if (!rs.rows.empty() && rs.rows[0][0].type != store::CellType::kNull) {
    floor = rs.rows[0][0].i - 1;
  } else {
    store::Param p2[] = {store::Param::text(settled)};
    store::ResultSet newest = store::run(session, "SELECT MAX(seq) FROM annex_events WHERE created_at < ?", p2);
    if (newest.rows.empty() || newest.rows[0][0].type == store::CellType::kNull) return;
    floor = newest.rows[0][0].i;
  }
  store::Param p3[] = {store::Param::text(sub.subscriber), store::Param::integer(floor)};
  store::run(session,
             "INSERT INTO annex_event_floors (subscriber, floor) VALUES (?, ?) ON CONFLICT (subscriber) DO UPDATE "
             "SET floor = CASE WHEN excluded.floor > annex_event_floors.floor THEN excluded.floor ELSE annex_event_floors.floor END",
             p3);
  store::Param p4[] = {store::Param::text(sub.subscriber), store::Param::integer(floor)};
  store::run(session, "DELETE FROM annex_event_deliveries WHERE subscriber = ? AND seq <= ?", p4);
}

}  // namespace annex::events

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

EventBus::EventBus(store::Database& db, EventBusOptions options) : db_(db), options_(options) {}

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
  auto& lane = lanes_[owner];
  if (!lane) {
    lane = std::make_shared<Lane>();
    lane->owner = owner;
  }
  for (const auto& s : lane->subscriptions) {
    if (s->subscriber == sub->subscriber) return owner + " already subscribes to " + topic;
  }
  lane->subscriptions.push_back(std::move(sub));
  if (running_ && !lane->thread.joinable()) start_lane(lane);
  ++generation_;
  wake_.notify_all();
  return {};
}

void EventBus::unsubscribe_owner(const std::string& owner) {
  std::shared_ptr<Lane> lane;
  {
    std::lock_guard lock(mutex_);
    auto it = lanes_.find(owner);
    if (it == lanes_.end()) return;
    lane = std::move(it->second);
    lanes_.erase(it);
    lane->stopping = true;
    for (auto& s : lane->subscriptions) s->removed = true;
  }
  wake_.notify_all();
  if (lane->thread.joinable() && lane->thread.get_id() == std::this_thread::get_id()) {
    // A handler of the plugin itself asked: its lane ends after this delivery (the thread keeps the lane alive).
    lane->thread.detach();
  } else {
    if (lane->thread.joinable()) lane->thread.join();
    std::lock_guard delivery(lane->delivering);  // a drain() in progress on another thread
  }
  for (auto& s : lane->subscriptions) give_back(*s);
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
  // The daemon that delivered it before may have been failing: go on from its count (and its parking).
  load_failures(sub);
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

void EventBus::start_lane(const std::shared_ptr<Lane>& lane) {
  lane->thread = std::thread([this, lane] { run(*lane); });
}

void EventBus::start() {
  if (running_.exchange(true)) return;
  stopping_ = false;
  std::lock_guard lock(mutex_);
  for (auto& [owner, lane] : lanes_) {
    if (!lane->thread.joinable()) start_lane(lane);
  }
}

void EventBus::stop() {
  if (!running_.exchange(false)) return;
  stopping_ = true;
  std::vector<Lane*> lanes;
  {
    std::lock_guard lock(mutex_);
    ++generation_;
    for (auto& [owner, lane] : lanes_) lanes.push_back(lane.get());
  }
  wake_.notify_all();
  for (Lane* lane : lanes) {
    if (lane->thread.joinable()) lane->thread.join();
  }
  // Another daemon takes the deliveries over at once, not after the leases expire.
  for (Lane* lane : lanes) {
    for (auto& s : lane->subscriptions) give_back(*s);
  }
}

void EventBus::poke() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  wake_.notify_all();
}

void EventBus::drain() {
  bool more = true;
  while (more) {
    more = false;
    std::vector<std::pair<Lane*, std::vector<std::shared_ptr<Subscription>>>> work;
    {
      std::lock_guard lock(mutex_);
      for (auto& [owner, lane] : lanes_) work.emplace_back(lane.get(), lane->subscriptions);
    }
    for (auto& [lane, subs] : work) {
      std::lock_guard delivery(lane->delivering);
      for (auto& s : subs) {
        if (s->parked) continue;
        s->retry_at = {};
        if (deliver(*s) && s->failures == 0) more = true;
      }
    }
  }
}

void EventBus::serve(Lane& lane, const std::vector<std::shared_ptr<Subscription>>& subs, bool* busy) {
  std::lock_guard delivery(lane.delivering);
  for (auto& s : subs) {
    if (!running_ || s->removed) break;
    try {
      *busy |= deliver(*s);
      advance_floor(*s);
    } catch (const std::exception& e) {
      spdlog::warn("event delivery to {} paused: {}", s->subscriber, e.what());
      s->retry_at = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
  }
}

void EventBus::run(Lane& lane) {
  while (running_) {
    std::vector<std::shared_ptr<Subscription>> subs;
    {
      std::lock_guard lock(mutex_);
      if (lane.stopping) return;
      subs = lane.subscriptions;
      lane.seen = generation_;
    }
    bool busy = false;
    serve(lane, subs, &busy);
    if (busy) continue;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(500),
                   [&] { return lane.seen != generation_ || !running_ || lane.stopping; });
  }
}

std::vector<SubscriptionStatus> EventBus::status(const std::string& owner) {
  std::vector<std::shared_ptr<Subscription>> subs;
  {
    std::lock_guard lock(mutex_);
    for (auto& [o, lane] : lanes_) {
      if (owner.empty() || o == owner) subs.insert(subs.end(), lane->subscriptions.begin(), lane->subscriptions.end());
    }
  }
  std::vector<SubscriptionStatus> out;
  store::Lease lease(db_);
  for (auto& sub : subs) {
    SubscriptionStatus st{sub->owner, sub->topic, "delivering", 0, 0, {}, {}, {}};
    std::string topic;
    std::string condition = topic_condition(sub->topic, &topic);
    store::Param p1[] = {store::Param::text(sub->subscriber), store::Param::text(topic),
                         store::Param::text(sub->subscriber)};
    store::ResultSet backlog = store::run(
        lease.session(),
        "SELECT COUNT(*) FROM annex_events e WHERE e.seq > COALESCE((SELECT floor FROM annex_event_floors "
        "WHERE subscriber = ?), 0) AND " + condition + " AND NOT EXISTS "
        "(SELECT 1 FROM annex_event_deliveries d WHERE d.subscriber = ? AND d.seq = e.seq)",
        p1);
    if (!backlog.rows.empty()) st.backlog = backlog.rows[0][0].i;
    store::Param p2[] = {store::Param::text(sub->subscriber)};
    store::ResultSet failing = store::run(
        lease.session(), "SELECT failures, last_error, parked_at FROM annex_event_subscribers WHERE subscriber = ?", p2);
    if (!failing.rows.empty()) {
      const auto& row = failing.rows[0];
      st.failures = static_cast<int>(row[0].i);
      st.last_error = row[1].type == store::CellType::kNull ? "" : row[1].s;
      st.parked_at = row[2].type == store::CellType::kNull ? "" : row[2].s;
      st.state = st.parked_at.empty() ? "retrying" : "parked";
    }
    if (leases_ != nullptr) {
      if (auto holder = leases_->holder("events:" + sub->subscriber)) st.daemon = holder->daemon;
    }
    out.push_back(std::move(st));
  }
  return out;
}

int EventBus::resume(const std::string& owner) {
  store::Lease lease(db_);
  const std::string prefix = owner + "|";
  store::Param params[] = {store::Param::text(prefix)};
  store::ResultSet rs = store::run(lease.session(),
                                   "SELECT COUNT(*) FROM annex_event_subscribers WHERE substr(subscriber, 1, " +
                                       std::to_string(prefix.size()) + ") = ?",
                                   params);
  store::run(lease.session(),
             "DELETE FROM annex_event_subscribers WHERE substr(subscriber, 1, " + std::to_string(prefix.size()) + ") = ?",
             params);
  {
    // Parked here: looked at again at once rather than at the next check.
    std::lock_guard lock(mutex_);
    if (auto it = lanes_.find(owner); it != lanes_.end()) {
      for (auto& s : it->second->subscriptions) s->parking_checked = {};
    }
    ++generation_;
  }
  wake_.notify_all();
  return rs.rows.empty() ? 0 : static_cast<int>(rs.rows[0][0].i);
}

void EventBus::load_failures(Subscription& sub) {
  store::Lease lease(db_);
  store::Param params[] = {store::Param::text(sub.subscriber)};
  store::ResultSet rs = store::run(
      lease.session(), "SELECT failures, parked_at FROM annex_event_subscribers WHERE subscriber = ?", params);
  sub.failures = rs.rows.empty() ? 0 : static_cast<int>(rs.rows[0][0].i);
  sub.parked = !rs.rows.empty() && rs.rows[0][1].type != store::CellType::kNull;
  if (sub.parked) sub.retry_at = std::chrono::steady_clock::now() + options_.parked_retry;
}

bool EventBus::resumed(Subscription& sub) {
  const auto now = std::chrono::steady_clock::now();
  if (now - sub.parking_checked < std::chrono::seconds(5)) return false;
  sub.parking_checked = now;
  store::Lease lease(db_);
  store::Param params[] = {store::Param::text(sub.subscriber)};
  store::ResultSet rs = store::run(
      lease.session(), "SELECT parked_at FROM annex_event_subscribers WHERE subscriber = ?", params);
  if (!rs.rows.empty() && rs.rows[0][0].type != store::CellType::kNull) return false;
  spdlog::info("events for {}: resumed", sub.subscriber);
  sub.parked = false;
  sub.failures = 0;
  sub.retry_at = {};
  return true;
}

void EventBus::failed(Subscription& sub, const Event& event, const std::string& error) {
  ++sub.failures;
  const auto now = std::chrono::steady_clock::now();
  const bool parks = !sub.parked && sub.failures >= options_.park_after_failures;
  if (sub.parked || parks) {
    sub.parked = true;
    sub.retry_at = now + options_.parked_retry;
  } else {
    // Exponential backoff with full jitter, capped at one minute.
    static thread_local std::mt19937 rng{std::random_device{}()};
    int cap_ms = std::min(60000, 100 << std::min(sub.failures, 10));
    int wait_ms = std::uniform_int_distribution<int>(cap_ms / 10, cap_ms)(rng);
    sub.retry_at = now + std::chrono::milliseconds(wait_ms);
  }
  const std::string at = clock::utc_now();
  const std::string reason = error.size() > 1000 ? error.substr(0, 1000) : error;
  store::Lease lease(db_);
  store::Param params[] = {store::Param::text(sub.subscriber), store::Param::integer(sub.failures),
                           store::Param::text(reason), sub.parked ? store::Param::text(at) : store::Param::null(),
                           store::Param::text(at)};
  store::run(lease.session(),
             "INSERT INTO annex_event_subscribers (subscriber, failures, last_error, parked_at, updated_at) "
             "VALUES (?, ?, ?, ?, ?) ON CONFLICT (subscriber) DO UPDATE SET failures = excluded.failures, "
             "last_error = excluded.last_error, updated_at = excluded.updated_at, "
             "parked_at = COALESCE(annex_event_subscribers.parked_at, excluded.parked_at)",
             params);
  if (parks) {
    spdlog::error("events for {} parked after {} failures in a row (event {}, {}): {}; tried again every {} s, or "
                  "at once with POST /api/v1/plugins/{}/events/resume",
                  sub.subscriber, sub.failures, event.sequence, event.topic, error, options_.parked_retry.count(),
                  sub.owner);
  } else {
    spdlog::warn("event {} ({}) to {} failed (attempt {}){}: {}", event.sequence, event.topic, sub.subscriber,
                 sub.failures, sub.parked ? ", still parked" : "", error);
  }
}

void EventBus::recovered(Subscription& sub) {
  if (sub.failures == 0 && !sub.parked) return;
  if (sub.parked) spdlog::info("events for {}: delivering again after {} failures", sub.subscriber, sub.failures);
  sub.failures = 0;
  sub.parked = false;
  store::Lease lease(db_);
  store::Param params[] = {store::Param::text(sub.subscriber)};
  store::run(lease.session(), "DELETE FROM annex_event_subscribers WHERE subscriber = ?", params);
}

bool EventBus::deliver(Subscription& sub) {
  auto now = std::chrono::steady_clock::now();
  if (now < sub.retry_at && !sub.parked) return false;
  if (sub.removed || !holds(sub)) return false;
  if (sub.parked && !resumed(sub) && now < sub.retry_at) return false;
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
    if (stopping_ || sub.removed) break;  // stop() and unsubscribe wait for one handler, not for a whole page
    Event event{row[0].i, row[1].s, row[2].s, row[3].s, row[4].s};
    std::string error;
    bool ok = false;
    try {
      ok = sub.handler(event, &error);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!ok) {
      failed(sub, event, error);
      return delivered;
    }
    recovered(sub);
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

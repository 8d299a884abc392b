// GreetingBook — the example's domain: greetings stored in the plugin's own table, and counters the event
// subscriber and the job bump, so that a test can see each host service at work.
#pragma once

#include <annex/sdk.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hello {

struct Greeting {
  int64_t id = 0;
  std::string name;
  std::string message;
  std::string created_at;
};

class GreetingBook {
 public:
  explicit GreetingBook(annex::Db db) : db_(db) {}

  // Stores a greeting for `name` and publishes "hello.greeting.created" in the same transaction.
  Greeting add(const std::string& name, const std::string& salutation, annex::Events events);
  std::optional<Greeting> find(int64_t id) const;
  // The newest greetings first, at most `limit`, with ids below `before` when given.
  std::vector<Greeting> list(int64_t limit, std::optional<int64_t> before) const;

  // Records an event once per idempotency key: deliveries are at-least-once, so a repeat must not count.
  void record_seen(std::string_view idempotency_key);
  int64_t seen() const;

  void bump(const std::string& counter, int64_t by = 1);
  int64_t counter(const std::string& counter) const;

 private:
  annex::Db db_;
};

std::string to_json(const Greeting& g);

}  // namespace hello

// GreetingBook — the example's domain: greetings stored in the plugin's own table, and counters the event
// subscriber and the job bump, so that a test can see each host service at work.
#pragma once

#include <annex/sdk.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hello {

inline constexpr const char* kType = "hello.greeting";

struct Greeting {
  int64_t id = 0;
  std::string name;
  std::string message;
  std::string created_at;
  std::string sector_id;
  std::string owner_id;
};

class GreetingBook {
 public:
  explicit GreetingBook(annex::Db db) : db_(db) {}

  // Stores a greeting for `name` owned by `owner` in `sector`, and in the same transaction publishes
  // "hello.greeting.created" and writes the audit entry.
  Greeting add(const std::string& name, const std::string& salutation, const std::string& sector,
               const std::string& owner, annex::Events events, annex::Audit audit);
  std::optional<Greeting> find(int64_t id) const;
  // The newest greetings first, at most `limit`, with ids below `before` when given, among the rows `filter`
  // (a condition from annex::Authz::list_filter) selects.
  std::vector<Greeting> list(int64_t limit, std::optional<int64_t> before, const std::string& filter) const;
  // Renames, moves to another sector, or deletes; each audited by `actor` in the change's transaction.
  Greeting rename(const Greeting& g, const std::string& name, const std::string& salutation, const std::string& actor,
                  annex::Audit audit);
  Greeting move(const Greeting& g, const std::string& sector, const std::string& actor, annex::Audit audit);
  void remove(const Greeting& g, const std::string& actor, annex::Audit audit);

  // Records an event once per idempotency key: deliveries are at-least-once, so a repeat must not count.
  // Returns true the first time a key is seen.
  bool record_seen(std::string_view idempotency_key);
  int64_t seen() const;

  void bump(const std::string& counter, int64_t by = 1);
  int64_t counter(const std::string& counter) const;

 private:
  annex::Db db_;
};

std::string to_json(const Greeting& g);

}  // namespace hello

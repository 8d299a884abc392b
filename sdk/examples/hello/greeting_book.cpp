#include "greeting_book.h"

#include <ctime>

namespace hello {
namespace {

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

Greeting read_greeting(const annex::Row& row) {
  return Greeting{row.integer(0), row.text(1), row.text(2), row.text(3), row.text(4), row.text(5)};
}

constexpr const char* kColumns = "id, name, message, created_at, sector_id, owner_id";

}  // namespace

Greeting GreetingBook::add(const std::string& name, const std::string& salutation, const std::string& sector,
                           const std::string& owner, annex::Events events, annex::Audit audit) {
  Greeting g{0, name, salutation + ", " + name + "!", utc_now(), sector, owner};
  annex::Transaction txn = db_.begin();
  annex::Rows rows = db_.query(
      txn, "INSERT INTO hello_greetings (name, message, created_at, sector_id, owner_id) VALUES (?, ?, ?, ?, ?) RETURNING id",
      {g.name, g.message, g.created_at, g.sector_id, g.owner_id});
  if (!rows.next()) throw annex::Error(ANNEX_ERR_INTERNAL, "insert returned no id");
  g.id = rows.row().integer(0);
  events.publish("hello.greeting.created", to_json(g), "greeting-" + std::to_string(g.id), &txn);
  audit.append(&txn, owner, "hello.greeting.create", kType, std::to_string(g.id), "", to_json(g));
  txn.commit();
  return g;
}

std::optional<Greeting> GreetingBook::find(int64_t id) const {
  annex::Rows rows = db_.query(std::string("SELECT ") + kColumns + " FROM hello_greetings WHERE id = ?", {id});
  if (!rows.next()) return std::nullopt;
  return read_greeting(rows.row());
}

std::vector<Greeting> GreetingBook::list(int64_t limit, std::optional<int64_t> before, const std::string& filter) const {
  annex::Rows rows = db_.query(std::string("SELECT ") + kColumns +
                                   " FROM hello_greetings WHERE (CAST(? AS BIGINT) IS NULL OR id < ?) AND " + filter +
                                   " ORDER BY id DESC LIMIT ?",
                               {before, before, limit});
  std::vector<Greeting> out;
  while (rows.next()) out.push_back(read_greeting(rows.row()));
  return out;
}

Greeting GreetingBook::rename(const Greeting& g, const std::string& name, const std::string& salutation,
                              const std::string& actor, annex::Audit audit) {
  Greeting after = g;
  after.name = name;
  after.message = salutation + ", " + name + "!";
  annex::Transaction txn = db_.begin();
  db_.query(txn, "UPDATE hello_greetings SET name = ?, message = ? WHERE id = ?", {after.name, after.message, g.id});
  audit.append(&txn, actor, "hello.greeting.update", kType, std::to_string(g.id), to_json(g), to_json(after));
  txn.commit();
  return after;
}

Greeting GreetingBook::move(const Greeting& g, const std::string& sector, const std::string& actor, annex::Audit audit) {
  Greeting after = g;
  after.sector_id = sector;
  annex::Transaction txn = db_.begin();
  db_.query(txn, "UPDATE hello_greetings SET sector_id = ? WHERE id = ?", {sector, g.id});
  audit.append(&txn, actor, "hello.greeting.move-sector", kType, std::to_string(g.id), to_json(g), to_json(after));
  txn.commit();
  return after;
}

void GreetingBook::remove(const Greeting& g, const std::string& actor, annex::Audit audit) {
  annex::Transaction txn = db_.begin();
  db_.query(txn, "DELETE FROM hello_greetings WHERE id = ?", {g.id});
  audit.append(&txn, actor, "hello.greeting.delete", kType, std::to_string(g.id), to_json(g), "");
  txn.commit();
}

bool GreetingBook::record_seen(std::string_view idempotency_key) {
  return db_.query("INSERT INTO hello_seen (idempotency_key) VALUES (?) ON CONFLICT (idempotency_key) DO NOTHING",
                   {idempotency_key})
             .affected() > 0;
}

int64_t GreetingBook::seen() const {
  annex::Rows rows = db_.query("SELECT COUNT(*) FROM hello_seen WHERE idempotency_key LIKE 'greeting-%'");
  return rows.next() ? rows.row().integer(0) : 0;
}

void GreetingBook::bump(const std::string& counter, int64_t by) {
  db_.query(
      "INSERT INTO hello_stats (counter, value) VALUES (?, ?) "
      "ON CONFLICT (counter) DO UPDATE SET value = hello_stats.value + excluded.value",
      {counter, by});
}

int64_t GreetingBook::counter(const std::string& counter) const {
  annex::Rows rows = db_.query("SELECT value FROM hello_stats WHERE counter = ?", {counter});
  return rows.next() ? rows.row().integer(0) : 0;
}

std::string to_json(const Greeting& g) {
  return "{\"id\":" + std::to_string(g.id) + ",\"name\":" + annex::json_quote(g.name) +
         ",\"message\":" + annex::json_quote(g.message) + ",\"created_at\":" + annex::json_quote(g.created_at) +
         ",\"sector_id\":" + annex::json_quote(g.sector_id) + ",\"owner_id\":" + annex::json_quote(g.owner_id) + "}";
}

}  // namespace hello

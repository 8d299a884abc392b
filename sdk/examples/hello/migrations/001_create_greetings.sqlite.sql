CREATE TABLE hello_greetings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE hello_stats (
  counter TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
CREATE TABLE hello_seen (
  idempotency_key TEXT PRIMARY KEY
);

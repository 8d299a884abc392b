-- Spot checks (R9): after payout, a sample of a statement's customers drawn with a recorded seed, each confirmed
-- or disputed by the sector's sales manager with a note.
CREATE TABLE relationship_spot_checks (
  statement_id TEXT PRIMARY KEY,
  rep_id TEXT NOT NULL,
  sector_id TEXT NOT NULL,
  period TEXT NOT NULL,
  algorithm TEXT NOT NULL,             -- how the sample follows from the seed and the statement's hash
  seed TEXT NOT NULL,                  -- 64 hex digits, drawn at random
  content_hash TEXT NOT NULL,          -- the signed statement's SHA-256
  sample_size INTEGER NOT NULL,
  drawn_by TEXT NOT NULL,
  drawn_at TEXT NOT NULL
);

CREATE TABLE relationship_spot_check_items (
  statement_id TEXT NOT NULL,
  party_id TEXT NOT NULL,
  rank INTEGER NOT NULL,               -- 1 = the smallest key
  sort_key TEXT NOT NULL,              -- SHA-256(seed ":" content_hash ":" party_id)
  outcome TEXT NOT NULL,               -- pending | confirmed | disputed
  note TEXT,
  decided_by TEXT,
  decided_at TEXT,
  PRIMARY KEY (statement_id, party_id)
);
CREATE INDEX relationship_spot_check_items_outcome ON relationship_spot_check_items (outcome);

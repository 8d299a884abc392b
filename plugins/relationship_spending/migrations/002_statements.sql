-- Fees earned and made payable (R2), and the monthly statements that carry them (R4, R5).

-- One row per signed contract line and rep credited with it (split credit): the fee the rep earned on it, in the
-- plugin's currency, and how much of it statements have made payable so far. A statement adds what became
-- payable since the last one; a collection reversed after that turns the difference into a recovery.
CREATE TABLE relationship_fees (
  contract_id TEXT NOT NULL,
  line_no INTEGER NOT NULL,
  rep_id TEXT NOT NULL,
  contract_number TEXT NOT NULL,
  party_id TEXT NOT NULL,
  sector_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  standard_id TEXT NOT NULL,
  gl_account TEXT NOT NULL,
  signed_on TEXT NOT NULL,
  share_percent INTEGER NOT NULL,
  earned BIGINT NOT NULL,
  payable BIGINT NOT NULL,
  first_period TEXT NOT NULL,          -- YYYY-MM of the statement that first carried it
  PRIMARY KEY (contract_id, line_no, rep_id)
);
CREATE INDEX relationship_fees_rep ON relationship_fees (rep_id, contract_id);
CREATE INDEX relationship_fees_open ON relationship_fees (contract_id) WHERE payable < earned;

-- A rep's statement of a month: drafted on the 1st of the next month, submitted by the rep by the 3rd working
-- day, signed by the sales clerk, the sector's sales manager and finance (in that order, through the host's
-- approval chain) by the 8th. Its content is frozen once signed: content_hash is the SHA-256 of its canonical
-- JSON, also in the audit log.
CREATE TABLE relationship_statements (
  id TEXT PRIMARY KEY,
  rep_id TEXT NOT NULL,
  sector_id TEXT NOT NULL,
  period TEXT NOT NULL,                -- YYYY-MM
  currency TEXT NOT NULL,
  status TEXT NOT NULL,                -- draft | submitted | returned | signed | rejected
  submit_due TEXT NOT NULL,            -- the 3rd working day of the next month
  sign_due TEXT NOT NULL,              -- the 8th
  payout_from TEXT NOT NULL,           -- the 9th
  submitted_at TEXT,
  submitted_late INTEGER NOT NULL DEFAULT 0,
  approval_id TEXT,
  signed_at TEXT,
  signed_late INTEGER NOT NULL DEFAULT 0,
  fee_payable BIGINT NOT NULL,         -- what became payable on it
  recovered BIGINT NOT NULL,           -- over-payments recovered on it (collections reversed after payout)
  net_payable BIGINT NOT NULL,         -- fee_payable - recovered - recovery carried in, never below 0
  recovery_due BIGINT NOT NULL,        -- recovery left over, carried to the rep's next statement
  drawn BIGINT NOT NULL DEFAULT 0,     -- drawn as cash advances so far
  content TEXT NOT NULL,               -- JSON: per customer, contracts, collections, fees, advances, totals
  content_hash TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL,
  UNIQUE (rep_id, period)
);
CREATE INDEX relationship_statements_period ON relationship_statements (period, status);
CREATE INDEX relationship_statements_approval ON relationship_statements (approval_id);

-- Every draw of a statement's payable fees as a cash advance through the expenses plugin's ledger.
CREATE TABLE relationship_payouts (
  id TEXT PRIMARY KEY,
  statement_id TEXT NOT NULL,
  rep_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  advance_id TEXT NOT NULL,
  drawn_by TEXT NOT NULL,
  drawn_at TEXT NOT NULL
);
CREATE INDEX relationship_payouts_statement ON relationship_payouts (statement_id);

-- Approval outcomes applied, so that an event delivered twice changes a statement once.
CREATE TABLE relationship_applied_events (
  idempotency_key TEXT PRIMARY KEY
);

-- Expense claims and their lines, cash advances with the per-person outstanding balance the cap is enforced on,
-- and the settlements of claims against advances. Money is integer minor units; dates are YYYY-MM-DD text.
CREATE TABLE expenses_claims (
  id TEXT PRIMARY KEY,
  claimant_id TEXT NOT NULL,
  sector_id TEXT NOT NULL,
  purpose TEXT NOT NULL,
  period TEXT,
  party_id TEXT,
  opportunity_id TEXT,
  contract_id TEXT,
  status TEXT NOT NULL,                -- draft | submitted | approved | rejected | returned | posted | paid
  currency TEXT NOT NULL,              -- the company currency
  total BIGINT NOT NULL DEFAULT 0,     -- claimed, in the company currency
  sanctioned BIGINT NOT NULL DEFAULT 0,
  approval_id TEXT,
  chain_amount BIGINT,                 -- the cumulative amount that chose the approval chain's steps
  chain_basis TEXT,                    -- JSON: the claims that amount counts
  settled_advances BIGINT NOT NULL DEFAULT 0,
  reimbursable BIGINT NOT NULL DEFAULT 0,
  submitted_at TEXT,
  decided_at TEXT,
  paid_on TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX expenses_claims_claimant ON expenses_claims (claimant_id, status);
CREATE INDEX expenses_claims_approval ON expenses_claims (approval_id);

CREATE TABLE expenses_lines (
  claim_id TEXT NOT NULL,
  line_no INTEGER NOT NULL,
  claimant_id TEXT NOT NULL,
  spent_on TEXT NOT NULL,
  category TEXT NOT NULL,
  merchant TEXT,
  description TEXT,
  amount BIGINT NOT NULL,              -- in the line's currency
  currency TEXT NOT NULL,
  rate TEXT,                           -- exchange rate to the company currency on spent_on; NULL when the same
  company_amount BIGINT NOT NULL,      -- converted, half-even to the company currency's minor units
  sanctioned BIGINT NOT NULL,          -- what finance allows; never above company_amount
  sanction_reason TEXT,
  cost_centre TEXT,
  gl_account TEXT NOT NULL,
  attendees TEXT,                      -- JSON array of {"kind": "contact"|"employee", "name"}
  attendee_count INTEGER,
  receipt_sha256 TEXT,
  justification TEXT,
  policy TEXT NOT NULL,                -- JSON: {"outcome", "results": [...]}
  counted INTEGER NOT NULL DEFAULT 0,  -- 1 once its claim is submitted (and not rejected): counts toward limits
  PRIMARY KEY (claim_id, line_no)
);
CREATE INDEX expenses_lines_window ON expenses_lines (claimant_id, category, spent_on);
CREATE INDEX expenses_lines_receipt ON expenses_lines (receipt_sha256);

CREATE TABLE expenses_advances (
  id TEXT PRIMARY KEY,
  requester_id TEXT NOT NULL,
  sector_id TEXT NOT NULL,
  purpose TEXT NOT NULL,
  party_id TEXT,
  reference TEXT,                      -- what another plugin drew it for (a statement id …)
  currency TEXT NOT NULL,
  amount BIGINT NOT NULL,
  settled BIGINT NOT NULL DEFAULT 0,
  returned BIGINT NOT NULL DEFAULT 0,
  status TEXT NOT NULL,                -- requested | approved | rejected | paid | settled
  approval_id TEXT,
  paid_on TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX expenses_advances_requester ON expenses_advances (requester_id, status);
CREATE INDEX expenses_advances_approval ON expenses_advances (approval_id);

-- What each person owes on advances requested, approved or paid and not yet settled or returned. The cap is
-- enforced by one conditional UPDATE of this row, so concurrent requests can never together pass it.
CREATE TABLE expenses_advance_balances (
  user_id TEXT PRIMARY KEY,
  outstanding BIGINT NOT NULL
);

CREATE TABLE expenses_settlements (
  claim_id TEXT NOT NULL,
  advance_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  settled_at TEXT NOT NULL,
  PRIMARY KEY (claim_id, advance_id)
);

-- Approval outcomes already applied (events arrive at least once).
CREATE TABLE expenses_applied_events (
  idempotency_key TEXT PRIMARY KEY
);

-- One row per claimant, locked at the start of a submission: two claims of one person are submitted one after
-- the other, so the rolling limits see each other and splitting gains nothing even at the same instant.
CREATE TABLE expenses_claimant_locks (
  user_id TEXT PRIMARY KEY,
  submissions INTEGER NOT NULL
);

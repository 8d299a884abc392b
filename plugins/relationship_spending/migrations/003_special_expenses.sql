-- Special expenses to win a new customer (R6): applied for before the customer's first contract is signed, and
-- approved through the host's approval chain. Money is integer minor units of `currency`.
CREATE TABLE relationship_special_expenses (
  id TEXT PRIMARY KEY,
  party_id TEXT NOT NULL,              -- the customer, a party of master data
  opportunity_id TEXT,                 -- an opportunity of the pipeline for that customer
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  purpose TEXT NOT NULL,               -- one of the purposes (R10); new_customer_special unless given
  justification TEXT NOT NULL,
  rep_id TEXT NOT NULL,                -- who applied: the owner the host's reach rules see
  sector_id TEXT NOT NULL,
  status TEXT NOT NULL,                -- filed | approved | rejected | returned
  approval_id TEXT,
  approval_round INTEGER NOT NULL,     -- the approval's round the application waits on
  decided_by TEXT,
  decision_comment TEXT,
  decided_at TEXT,
  filed_on TEXT NOT NULL,              -- YYYY-MM-DD in the company's time zone
  filed_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX relationship_special_expenses_rep ON relationship_special_expenses (rep_id, status);
CREATE INDEX relationship_special_expenses_sector ON relationship_special_expenses (sector_id, status);
CREATE INDEX relationship_special_expenses_party ON relationship_special_expenses (party_id);

-- Exceptions for auditors: attempts the rules refused and breaches they flag (pre-approval after signing, late
-- filing, over-cap attempts …), each with the rep, the sector, the customer when there is one, the record it is
-- about and its figures. Recorded apart from the refused request, so they stay when it is rolled back.
CREATE TABLE relationship_exceptions (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,                  -- pre_approval_after_signing | late_filing | over_cap_attempt | …
  rep_id TEXT NOT NULL,
  sector_id TEXT NOT NULL,
  party_id TEXT,
  subject_type TEXT NOT NULL,          -- "contracts.contract", "relationship.statement" …
  subject_id TEXT NOT NULL,
  detail TEXT NOT NULL,                -- JSON: the figures behind it
  at TEXT NOT NULL                     -- when, UTC (the host clock)
);
CREATE INDEX relationship_exceptions_kind ON relationship_exceptions (kind, at);
CREATE INDEX relationship_exceptions_rep ON relationship_exceptions (rep_id, at);
CREATE INDEX relationship_exceptions_at ON relationship_exceptions (at);

-- Contracts with their lines, amendments, collections (回款) and split credit; quota plans and targets.
-- Amounts are integer minor units in the contract's (or plan's) currency.
CREATE TABLE contracts_contracts (
  id TEXT PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  party_id TEXT NOT NULL,
  opportunity_id TEXT,
  sector_id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  total BIGINT NOT NULL,
  collected BIGINT NOT NULL,
  status TEXT NOT NULL,
  signed_on TEXT,
  start_on TEXT,
  end_on TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version BIGINT NOT NULL
);
CREATE INDEX contracts_contracts_owner ON contracts_contracts (owner_id, status);
CREATE INDEX contracts_contracts_sector ON contracts_contracts (sector_id, status, signed_on);
CREATE INDEX contracts_contracts_signed ON contracts_contracts (signed_on);

CREATE TABLE contracts_lines (
  contract_id TEXT NOT NULL,
  line_no BIGINT NOT NULL,
  product_id TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  unit_price BIGINT NOT NULL,
  amount BIGINT NOT NULL,
  PRIMARY KEY (contract_id, line_no)
);

CREATE TABLE contracts_amendments (
  id TEXT PRIMARY KEY,
  contract_id TEXT NOT NULL,
  number BIGINT NOT NULL,
  reason TEXT NOT NULL,
  before_json TEXT NOT NULL,
  after_json TEXT NOT NULL,
  amended_at TEXT NOT NULL,
  amended_by TEXT NOT NULL,
  UNIQUE (contract_id, number)
);

CREATE TABLE contracts_collections (
  id TEXT PRIMARY KEY,
  contract_id TEXT NOT NULL,
  received_on TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  reference TEXT NOT NULL,
  source TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (contract_id, source, reference)
);
CREATE INDEX contracts_collections_received ON contracts_collections (received_on);

-- Split credit: each rep's share of a contract, in whole percent summing to 100. No rows: the owner has it all.
CREATE TABLE contracts_splits (
  contract_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  percent BIGINT NOT NULL,
  PRIMARY KEY (contract_id, user_id)
);

CREATE TABLE quotas_plans (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  period_type TEXT NOT NULL,
  measure TEXT NOT NULL,
  currency TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);

CREATE TABLE quotas_targets (
  id TEXT PRIMARY KEY,
  plan_id TEXT NOT NULL,
  period TEXT NOT NULL,
  assignee_type TEXT NOT NULL,
  assignee_id TEXT NOT NULL,
  product_group TEXT NOT NULL,
  sector_id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version BIGINT NOT NULL,
  UNIQUE (plan_id, period, assignee_type, assignee_id, product_group)
);
CREATE INDEX quotas_targets_period ON quotas_targets (plan_id, period);

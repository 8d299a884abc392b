-- What relationship spending each customer has received and what the customer has paid, for the ratios and the
-- rolling limit (anti-splitting) shown on statements and to approvers.

-- The contracts behind fees as drafting last saw them: collected to date, in the contract's currency and in the
-- plugin's (NULL when no exchange rate converts it).
CREATE TABLE relationship_contracts (
  contract_id TEXT PRIMARY KEY,
  party_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  total BIGINT NOT NULL,
  collected BIGINT NOT NULL,
  collected_converted BIGINT,
  seen_on TEXT NOT NULL
);
CREATE INDEX relationship_contracts_party ON relationship_contracts (party_id);

-- Every spend on a customer, whoever the rep: fees made payable by a statement (less recoveries), approved
-- special expenses. Summed over a rolling window per customer, so that spreading spend over reps, months or
-- applications meets the same limit.
CREATE TABLE relationship_spend (
  id TEXT PRIMARY KEY,
  party_id TEXT NOT NULL,
  rep_id TEXT NOT NULL,
  sector_id TEXT NOT NULL,
  kind TEXT NOT NULL,                  -- fee | special
  source_id TEXT NOT NULL,             -- the statement, or the special-expense application
  spent_on TEXT NOT NULL,              -- YYYY-MM-DD
  amount BIGINT NOT NULL               -- minor units of the plugin's currency; a recovery is negative
);
CREATE INDEX relationship_spend_party ON relationship_spend (party_id, spent_on);
CREATE INDEX relationship_spend_source ON relationship_spend (source_id);

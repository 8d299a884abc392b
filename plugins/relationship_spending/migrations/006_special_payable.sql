-- Approved special expenses on statements (R6): payable only after collection of the customer's first contract,
-- in step with it as fees are. What statements made payable of each application so far:
CREATE TABLE relationship_special_payable (
  application_id TEXT PRIMARY KEY,
  rep_id TEXT NOT NULL,
  contract_id TEXT,                    -- the customer's first signed contract, once there is one
  amount BIGINT NOT NULL,              -- the approved amount in the plugin's currency
  payable BIGINT NOT NULL              -- made payable by statements so far
);
ALTER TABLE relationship_statements ADD COLUMN special_payable BIGINT NOT NULL DEFAULT 0;

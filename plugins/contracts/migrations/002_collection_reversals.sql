-- A collection taken back (the ERP reversed it, or finance did): when, under which reference, why and by whom.
-- A reversed collection stays listed but no longer counts in the contract's collected amount.
ALTER TABLE contracts_collections ADD COLUMN reversed_on TEXT;
ALTER TABLE contracts_collections ADD COLUMN reversal_reference TEXT;
ALTER TABLE contracts_collections ADD COLUMN reversal_reason TEXT;
ALTER TABLE contracts_collections ADD COLUMN reversed_by TEXT;
ALTER TABLE contracts_collections ADD COLUMN reversed_at TEXT;
-- Documents from the ERP are found by their reference, whatever contract they name.
CREATE INDEX contracts_collections_reference ON contracts_collections (source, reference);

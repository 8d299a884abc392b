-- A submission lists the latest claims of the claimant within the window that count towards the cumulative amount
-- (the chain's basis). Read through an index of claimant and submission time alone, that took a lookup of each
-- claim's row (twenty of them, a tenth of the write transaction); this index holds all the listing reads. (A
-- partial index of the counting claims would be smaller, but SQLite reads the rows behind a partial index.)
DROP INDEX expenses_claims_submitted;
CREATE INDEX expenses_claims_related ON expenses_claims (claimant_id, submitted_at, purpose, party_id, total, id, status);

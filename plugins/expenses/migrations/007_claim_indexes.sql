-- The cumulative amount that chooses a submitted claim's chain sums the claimant's claims within the window: an
-- index holding every column that sum and its listing read answers them without visiting the table (each visit
-- a page read of its own, the largest part of a submission's time with a million claims stored).
DROP INDEX expenses_claims_submitted;
CREATE INDEX expenses_claims_submitted ON expenses_claims (claimant_id, submitted_at, status, purpose, party_id, total, id);
-- Lines by date alone: no query reads it since the spend report reads expenses_lines_spend (status, then date), and
-- every line written updates it.
DROP INDEX expenses_lines_spent;

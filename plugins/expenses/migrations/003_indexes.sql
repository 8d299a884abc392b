-- The rolling limits sum a person's lines of a category over up to 365 days on every save and submission: an
-- index holding what the sum reads answers it without visiting the table. Reports read a period's lines by date.
DROP INDEX expenses_lines_window;
CREATE INDEX expenses_lines_window ON expenses_lines (claimant_id, category, spent_on, counted, claim_id, sanctioned);
CREATE INDEX expenses_lines_spent ON expenses_lines (spent_on);
-- The cumulative amount that chooses a claim's chain reads the claimant's claims submitted within the window.
CREATE INDEX expenses_claims_submitted ON expenses_claims (claimant_id, submitted_at);

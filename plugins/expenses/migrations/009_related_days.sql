-- What each person submitted per day, purpose and customer, on claims that count (submitted or beyond, not
-- rejected or returned): the cumulative amount that chooses a claim's chain sums the window's days of it instead of
-- every claim of the window. The claim repository keeps it in step with the claims, in the transaction that writes
-- them.
CREATE TABLE expenses_related_days (
  claimant_id TEXT NOT NULL,
  submitted_on TEXT NOT NULL,
  purpose TEXT NOT NULL,
  party_id TEXT NOT NULL,  -- '' for claims for no customer
  claims BIGINT NOT NULL,
  total BIGINT NOT NULL,
  PRIMARY KEY (claimant_id, submitted_on, purpose, party_id)
);
INSERT INTO expenses_related_days (claimant_id, submitted_on, purpose, party_id, claims, total)
SELECT claimant_id, substr(submitted_at, 1, 10), purpose, COALESCE(party_id, ''), COUNT(*), CAST(SUM(total) AS BIGINT)
FROM expenses_claims WHERE status IN ('submitted', 'approved', 'posted', 'paid') AND submitted_at IS NOT NULL
GROUP BY claimant_id, substr(submitted_at, 1, 10), purpose, COALESCE(party_id, '');

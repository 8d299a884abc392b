-- Indexes of only the lines their readers ask for, so that a submission writes fewer index pages (about a fifth of
-- the pages a 5-line submission wrote): the spend report reads approved, posted and paid lines by date, so a line
-- enters its index when its claim is approved, not when it is drafted or submitted; the reused-receipt check reads
-- lines by their receipt, so lines without one are in no index of receipts.
DROP INDEX expenses_lines_spend;
CREATE INDEX expenses_lines_spend ON expenses_lines (spent_on, sector_id, claimant_id, cost_centre, category, sanctioned,
  claim_status) WHERE claim_status IN ('approved', 'posted', 'paid');
DROP INDEX expenses_lines_receipt;
CREATE INDEX expenses_lines_receipt ON expenses_lines (receipt_sha256) WHERE receipt_sha256 IS NOT NULL;
-- The cumulative amount is summed from expenses_related_days now; the claims in its window are only listed (the
-- latest few), which the claimant and submission time alone lead to.
DROP INDEX expenses_claims_submitted;
CREATE INDEX expenses_claims_submitted ON expenses_claims (claimant_id, submitted_at);

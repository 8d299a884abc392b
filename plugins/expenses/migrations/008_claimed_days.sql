-- What each person has claimed per category and day, on claims that count toward the limits (submitted or beyond,
-- not rejected or returned): the rolling limits read at most a year of days from it on every save and submission,
-- instead of summing every line the person claimed that year. The claim repository keeps it in step with the
-- lines, in the transaction that changes them.
CREATE TABLE expenses_claimed_days (
  claimant_id TEXT NOT NULL,
  category TEXT NOT NULL,
  spent_on TEXT NOT NULL,
  sanctioned BIGINT NOT NULL,
  PRIMARY KEY (claimant_id, category, spent_on)
);
INSERT INTO expenses_claimed_days (claimant_id, category, spent_on, sanctioned)
SELECT claimant_id, category, spent_on, CAST(SUM(sanctioned) AS BIGINT) FROM expenses_lines WHERE counted = 1
GROUP BY claimant_id, category, spent_on;
-- The index the sums read is left to the duplicate check: the person's lines of a category, day and amount.
DROP INDEX expenses_lines_window;
CREATE INDEX expenses_lines_same ON expenses_lines (claimant_id, category, spent_on, amount);

-- What the finance system answered for a posted claim or advance: the id of its journal entry there.
ALTER TABLE expenses_claims ADD COLUMN posted_ref TEXT;
ALTER TABLE expenses_advances ADD COLUMN posted_ref TEXT;

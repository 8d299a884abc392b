-- An advance drawn by another plugin for a reference (a statement's payout) is drawn once per person and
-- reference: asked again — as after a crash between the draw and the caller's record of it — the ledger
-- answers with the advance already drawn.
CREATE UNIQUE INDEX expenses_advances_reference ON expenses_advances (requester_id, reference) WHERE reference IS NOT NULL;

-- An advance that pays out an expense approved elsewhere (a signed statement's relationship fees) carries what it is
-- charged to — [{"account", "amount", "description"}] as JSON — and the requester's cost centre at the request.
ALTER TABLE expenses_advances ADD COLUMN charges TEXT;
ALTER TABLE expenses_advances ADD COLUMN cost_centre TEXT;

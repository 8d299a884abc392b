-- Every business row carries the sector it belongs to and the user who owns it; access is decided on both.
ALTER TABLE hello_greetings ADD COLUMN sector_id TEXT NOT NULL DEFAULT '';
ALTER TABLE hello_greetings ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
CREATE INDEX hello_greetings_sector ON hello_greetings (sector_id, owner_id);

-- Relationship-fee standards (R1, R3): per product or per product group, an amount per unit or a rate on the
-- sales amount in basis points, over a period of dates, with the GL account its fees post to. Never deleted:
-- a standard that no longer applies is ended (effective_to), so the one in force on any past date stays.
CREATE TABLE relationship_standards (
  id TEXT PRIMARY KEY,
  subject TEXT NOT NULL,               -- "product:<id>" or "group:<name>": periods of one subject never overlap
  product_id TEXT,                     -- a product of master data, or
  product_code TEXT,
  product_group TEXT,                  -- the product_group of master data's products
  basis TEXT NOT NULL,                 -- per_unit | rate
  amount BIGINT,                       -- per_unit: minor units of `currency` per unit sold
  currency TEXT,
  rate_bp INTEGER,                     -- rate: basis points of the sales amount (0..10000)
  gl_account TEXT NOT NULL,            -- "relationship maintenance fee — product X"
  effective_from TEXT NOT NULL,        -- YYYY-MM-DD, inclusive
  effective_to TEXT,                   -- YYYY-MM-DD, inclusive; none: open-ended
  note TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX relationship_standards_subject ON relationship_standards (subject, effective_from);

-- One row per subject, updated by every change to its standards, so that two concurrent changes to one
-- subject take turns and the overlap check of the second sees the first.
CREATE TABLE relationship_standard_subjects (
  subject TEXT PRIMARY KEY,
  changes BIGINT NOT NULL
);

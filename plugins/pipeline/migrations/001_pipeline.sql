-- Leads, opportunities (with their products and stage history) and activities. Every row carries its sector
-- and owner; customers and products are master-data ids, never copies. Amounts are integer minor units.
CREATE TABLE pipeline_leads (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  company TEXT NOT NULL,
  contact_name TEXT,
  contact_email TEXT,
  contact_phone TEXT,
  status TEXT NOT NULL,
  disqualified_reason TEXT,
  party_id TEXT,
  opportunity_id TEXT,
  sector_id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  last_activity_on TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version BIGINT NOT NULL
);
CREATE INDEX pipeline_leads_owner ON pipeline_leads (owner_id, status);
CREATE INDEX pipeline_leads_sector ON pipeline_leads (sector_id, status);

CREATE TABLE pipeline_opportunities (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  party_id TEXT NOT NULL,
  lead_id TEXT,
  sector_id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  expected_close TEXT NOT NULL,
  stage TEXT NOT NULL,
  probability BIGINT NOT NULL,
  probability_set BIGINT NOT NULL,
  forecast_category TEXT NOT NULL,
  status TEXT NOT NULL,
  lost_reason TEXT,
  closed_on TEXT,
  last_activity_on TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version BIGINT NOT NULL
);
-- A rep's open opportunities, in id order: the list most often asked for.
CREATE INDEX pipeline_opportunities_owner ON pipeline_opportunities (owner_id, status, id);
CREATE INDEX pipeline_opportunities_sector ON pipeline_opportunities (sector_id, status, expected_close);
CREATE INDEX pipeline_opportunities_close ON pipeline_opportunities (expected_close);
CREATE INDEX pipeline_opportunities_party ON pipeline_opportunities (party_id);

CREATE TABLE pipeline_opportunity_products (
  opportunity_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  PRIMARY KEY (opportunity_id, product_id)
);

CREATE TABLE pipeline_stage_history (
  id TEXT PRIMARY KEY,
  opportunity_id TEXT NOT NULL,
  from_stage TEXT,
  to_stage TEXT NOT NULL,
  changed_at TEXT NOT NULL,
  changed_by TEXT NOT NULL
);
CREATE INDEX pipeline_stage_history_opportunity ON pipeline_stage_history (opportunity_id, changed_at);

CREATE TABLE pipeline_activities (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  outcome TEXT,
  activity_on TEXT NOT NULL,
  status TEXT NOT NULL,
  purpose TEXT NOT NULL,
  lead_id TEXT,
  opportunity_id TEXT,
  party_id TEXT,
  sector_id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version BIGINT NOT NULL
);
CREATE INDEX pipeline_activities_owner ON pipeline_activities (owner_id, status, activity_on);
CREATE INDEX pipeline_activities_sector ON pipeline_activities (sector_id, status, activity_on);
CREATE INDEX pipeline_activities_lead ON pipeline_activities (lead_id);
CREATE INDEX pipeline_activities_opportunity ON pipeline_activities (opportunity_id);

-- Records already announced as stale (C3), so that each is announced once until an activity revives it.
CREATE TABLE pipeline_stale (
  record_type TEXT NOT NULL,
  record_id TEXT NOT NULL,
  since TEXT NOT NULL,
  PRIMARY KEY (record_type, record_id)
);

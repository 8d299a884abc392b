#include "store/core_schema.h"

#include <string>
#include <string_view>

namespace annex::store {

namespace {

// ISO 4217's active currencies, each as "<code> <minor units> <name>;", for the currencies master data at install.
constexpr const char* kIso4217 =
       "AED 2 UAE Dirham;AFN 2 Afghani;ALL 2 Lek;AMD 2 Armenian Dram;AOA 2 Kwanza;ARS 2 Argentine Peso;"
       "AUD 2 Australian Dollar;AWG 2 Aruban Florin;AZN 2 Azerbaijan Manat;BAM 2 Convertible Mark;"
       "BBD 2 Barbados Dollar;BDT 2 Taka;BGN 2 Bulgarian Lev;BHD 3 Bahraini Dinar;BIF 0 Burundi Franc;"
       "BMD 2 Bermudian Dollar;BND 2 Brunei Dollar;BOB 2 Boliviano;BOV 2 Mvdol;BRL 2 Brazilian Real;"
       "BSD 2 Bahamian Dollar;BTN 2 Ngultrum;BWP 2 Pula;BYN 2 Belarusian Ruble;BZD 2 Belize Dollar;"
       "CAD 2 Canadian Dollar;CDF 2 Congolese Franc;CHE 2 WIR Euro;CHF 2 Swiss Franc;CHW 2 WIR Franc;"
       "CLF 4 Unidad de Fomento;CLP 0 Chilean Peso;CNY 2 Yuan Renminbi;COP 2 Colombian Peso;"
       "COU 2 Unidad de Valor Real;CRC 2 Costa Rican Colon;CUP 2 Cuban Peso;CVE 2 Cabo Verde Escudo;"
       "CZK 2 Czech Koruna;DJF 0 Djibouti Franc;DKK 2 Danish Krone;DOP 2 Dominican Peso;DZD 2 Algerian Dinar;"
       "EGP 2 Egyptian Pound;ERN 2 Nakfa;ETB 2 Ethiopian Birr;EUR 2 Euro;FJD 2 Fiji Dollar;"
       "FKP 2 Falkland Islands Pound;GBP 2 Pound Sterling;GEL 2 Lari;GHS 2 Ghana Cedi;GIP 2 Gibraltar Pound;"
       "GMD 2 Dalasi;GNF 0 Guinean Franc;GTQ 2 Quetzal;GYD 2 Guyana Dollar;HKD 2 Hong Kong Dollar;HNL 2 Lempira;"
       "HTG 2 Gourde;HUF 2 Forint;IDR 2 Rupiah;ILS 2 New Israeli Sheqel;INR 2 Indian Rupee;IQD 3 Iraqi Dinar;"
       "IRR 2 Iranian Rial;ISK 0 Iceland Krona;JMD 2 Jamaican Dollar;JOD 3 Jordanian Dinar;JPY 0 Yen;"
       "KES 2 Kenyan Shilling;KGS 2 Som;KHR 2 Riel;KMF 0 Comorian Franc;KPW 2 North Korean Won;KRW 0 Won;"
       "KWD 3 Kuwaiti Dinar;KYD 2 Cayman Islands Dollar;KZT 2 Tenge;LAK 2 Lao Kip;LBP 2 Lebanese Pound;"
       "LKR 2 Sri Lanka Rupee;LRD 2 Liberian Dollar;LSL 2 Loti;LYD 3 Libyan Dinar;MAD 2 Moroccan Dirham;"
       "MDL 2 Moldovan Leu;MGA 2 Malagasy Ariary;MKD 2 Denar;MMK 2 Kyat;MNT 2 Tugrik;MOP 2 Pataca;MRU 2 Ouguiya;"
       "MUR 2 Mauritius Rupee;MVR 2 Rufiyaa;MWK 2 Malawi Kwacha;MXN 2 Mexican Peso;"
       "MXV 2 Mexican Unidad de Inversion (UDI);MYR 2 Malaysian Ringgit;MZN 2 Mozambique Metical;"
       "NAD 2 Namibia Dollar;NGN 2 Naira;NIO 2 Cordoba Oro;NOK 2 Norwegian Krone;NPR 2 Nepalese Rupee;"
       "NZD 2 New Zealand Dollar;OMR 3 Rial Omani;PAB 2 Balboa;PEN 2 Sol;PGK 2 Kina;PHP 2 Philippine Peso;"
       "PKR 2 Pakistan Rupee;PLN 2 Zloty;PYG 0 Guarani;QAR 2 Qatari Rial;RON 2 Romanian Leu;RSD 2 Serbian Dinar;"
       "RUB 2 Russian Ruble;RWF 0 Rwanda Franc;SAR 2 Saudi Riyal;SBD 2 Solomon Islands Dollar;"
       "SCR 2 Seychelles Rupee;SDG 2 Sudanese Pound;SEK 2 Swedish Krona;SGD 2 Singapore Dollar;"
       "SHP 2 Saint Helena Pound;SLE 2 Leone;SOS 2 Somali Shilling;SRD 2 Surinam Dollar;SSP 2 South Sudanese Pound;"
       "STN 2 Dobra;SVC 2 El Salvador Colon;SYP 2 Syrian Pound;SZL 2 Lilangeni;THB 2 Baht;TJS 2 Somoni;"
       "TMT 2 Turkmenistan New Manat;TND 3 Tunisian Dinar;TOP 2 Pa'anga;TRY 2 Turkish Lira;"
       "TTD 2 Trinidad and Tobago Dollar;TWD 2 New Taiwan Dollar;TZS 2 Tanzanian Shilling;UAH 2 Hryvnia;"
       "UGX 0 Uganda Shilling;USD 2 US Dollar;USN 2 US Dollar (Next day);"
       "UYI 0 Uruguay Peso en Unidades Indexadas (UI);UYU 2 Peso Uruguayo;UYW 4 Unidad Previsional;"
       "UZS 2 Uzbekistan Sum;VED 2 Bolivar Soberano;VES 2 Bolivar Soberano;VND 0 Dong;VUV 0 Vatu;WST 2 Tala;"
       "XAF 0 CFA Franc BEAC;XCD 2 East Caribbean Dollar;XCG 2 Caribbean Guilder;XOF 0 CFA Franc BCEAO;"
       "XPF 0 CFP Franc;YER 2 Yemeni Rial;ZAR 2 Rand;ZMW 2 Zambian Kwacha;ZWG 2 Zimbabwe Gold;";

// One INSERT of every currency of kIso4217 not held yet, with ids of their own ("md_iso_CNY").
std::string iso4217_currencies() {
  std::string sql = "INSERT INTO annex_md_currencies (id, code, name, minor_units, version, created_at, updated_at) VALUES ";
  std::string_view rest = kIso4217;
  for (bool first = true; !rest.empty(); first = false) {
    std::string_view item = rest.substr(0, rest.find(';'));
    rest.remove_prefix(item.size() + 1);
    std::string code(item.substr(0, 3)), minor(item.substr(4, 1)), name;
    for (char c : item.substr(6)) name.append(c == '\'' ? 2 : 1, c);  // Pa'anga: quotes doubled
    sql += std::string(first ? "" : ", ") + "('md_iso_" + code + "', '" + code + "', '" + name + "', " + minor + ", 1," +
           " '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')";
  }
  // A currency an installation already holds (master data was editable before this seed) is left as it is.
  return sql + " ON CONFLICT (code) DO NOTHING;";
}

}  // namespace

std::vector<Migration> core_migrations(Dialect dialect) {
  const bool pg = dialect == Dialect::kPostgresql;
  const std::string kMeta = " version BIGINT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL";
  const std::string id = pg ? "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
  return {
      {1, "events",
       // Durable events: a subscriber may see one twice (at-least-once), never two with one key.
       "CREATE TABLE annex_events ("
       " seq " + id + ","
       " topic TEXT NOT NULL,"
       " payload TEXT NOT NULL,"
       " idempotency_key TEXT NOT NULL,"
       " publisher TEXT NOT NULL,"
       " created_at TEXT NOT NULL,"
       " UNIQUE (publisher, topic, idempotency_key));"
       "CREATE INDEX annex_events_topic ON annex_events (topic, seq);"
       // What each subscriber has handled; rows below its floor are pruned.
       "CREATE TABLE annex_event_deliveries ("
       " subscriber TEXT NOT NULL,"
       " seq BIGINT NOT NULL,"
       " PRIMARY KEY (subscriber, seq));"
       "CREATE TABLE annex_event_floors ("
       " subscriber TEXT PRIMARY KEY,"
       " floor BIGINT NOT NULL);"},
      {2, "identity",
       "CREATE TABLE annex_sectors ("
       " id TEXT PRIMARY KEY,"
       " name TEXT NOT NULL,"
       " created_at TEXT NOT NULL);"
       "CREATE TABLE annex_users ("
       " id TEXT PRIMARY KEY,"
       " login TEXT NOT NULL UNIQUE,"
       " display_name TEXT NOT NULL,"
       " employee_number TEXT,"
       " status TEXT NOT NULL CHECK (status IN ('active', 'frozen', 'disabled')),"
       " password_hash TEXT,"
       " created_at TEXT NOT NULL,"
       " last_login_at TEXT);"
       // A role held in one sector, or in all ('*').
       "CREATE TABLE annex_role_assignments ("
       " user_id TEXT NOT NULL REFERENCES annex_users (id),"
       " role TEXT NOT NULL,"
       " sector_id TEXT NOT NULL,"
       " PRIMARY KEY (user_id, role, sector_id));"
       // Login sessions and personal API tokens; only a digest of each secret is stored.
       "CREATE TABLE annex_tokens ("
       " id TEXT PRIMARY KEY,"
       " user_id TEXT NOT NULL REFERENCES annex_users (id),"
       " kind TEXT NOT NULL CHECK (kind IN ('session', 'api')),"
       " name TEXT NOT NULL,"
       " secret_digest TEXT NOT NULL UNIQUE,"
       " created_at TEXT NOT NULL,"
       " expires_at TEXT,"
       " last_used_at TEXT,"
       " revoked_at TEXT);"
       "CREATE INDEX annex_tokens_user ON annex_tokens (user_id);"},
      {3, "access",
       // The sectors a user works in; a role held in one sector makes its holder a member there.
       "CREATE TABLE annex_memberships ("
       " user_id TEXT NOT NULL REFERENCES annex_users (id),"
       " sector_id TEXT NOT NULL REFERENCES annex_sectors (id),"
       " created_at TEXT NOT NULL,"
       " PRIMARY KEY (user_id, sector_id));"
       "INSERT INTO annex_memberships (user_id, sector_id, created_at)"
       " SELECT DISTINCT a.user_id, a.sector_id, s.created_at FROM annex_role_assignments a"
       " JOIN annex_sectors s ON s.id = a.sector_id;"
       // Records assigned to a user beyond what they own (DOMAIN: reps see their own and assigned records).
       "CREATE TABLE annex_grants ("
       " object_type TEXT NOT NULL,"
       " object_id TEXT NOT NULL,"
       " user_id TEXT NOT NULL REFERENCES annex_users (id),"
       " granted_by TEXT NOT NULL,"
       " created_at TEXT NOT NULL,"
       " PRIMARY KEY (object_type, object_id, user_id));"
       "CREATE INDEX annex_grants_user ON annex_grants (user_id, object_type);"},
      {4, "audit",
       // The hash-chained audit log (audit/audit_log.h). Entries are only ever appended.
       "CREATE TABLE annex_audit ("
       " seq BIGINT PRIMARY KEY,"
       " at TEXT NOT NULL,"
       " principal TEXT NOT NULL,"
       " action TEXT NOT NULL,"
       " object_type TEXT NOT NULL,"
       " object_id TEXT NOT NULL,"
       " before_json TEXT NOT NULL,"
       " after_json TEXT NOT NULL,"
       " hash TEXT NOT NULL);"
       "CREATE INDEX annex_audit_object ON annex_audit (object_type, object_id, seq);"
       "CREATE INDEX annex_audit_at ON annex_audit (at);"
       "CREATE TABLE annex_audit_checkpoints ("
       " seq BIGINT PRIMARY KEY,"
       " hash TEXT NOT NULL,"
       " at TEXT NOT NULL,"
       " key_id TEXT NOT NULL,"
       " signature TEXT NOT NULL);"
       // The last entry: appenders lock this row, and verification compares the chain's end with it.
       "CREATE TABLE annex_audit_head ("
       " id INTEGER PRIMARY KEY CHECK (id = 1),"
       " seq BIGINT NOT NULL,"
       " hash TEXT NOT NULL);"
       "INSERT INTO annex_audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');"},
      {5, "approvals",
       // One row per item in a chain; `steps` holds the names of the steps that apply to it (JSON array).
       "CREATE TABLE annex_approvals ("
       " id TEXT PRIMARY KEY,"
       " chain TEXT NOT NULL,"
       " item_type TEXT NOT NULL,"
       " item_id TEXT NOT NULL,"
       " sector_id TEXT NOT NULL,"
       " submitter_id TEXT NOT NULL REFERENCES annex_users (id),"
       " amount BIGINT NOT NULL,"
       " currency TEXT NOT NULL,"
       " status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'returned')),"
       " round INTEGER NOT NULL,"
       " step_index INTEGER NOT NULL,"
       " steps TEXT NOT NULL,"
       " required TEXT NOT NULL,"
       " created_at TEXT NOT NULL,"
       " updated_at TEXT NOT NULL,"
       " UNIQUE (chain, item_type, item_id));"
       "CREATE INDEX annex_approvals_status ON annex_approvals (status, created_at);"
       "CREATE TABLE annex_approval_decisions ("
       " approval_id TEXT NOT NULL REFERENCES annex_approvals (id),"
       " seq INTEGER NOT NULL,"
       " round INTEGER NOT NULL,"
       " step TEXT NOT NULL,"
       " decider_id TEXT NOT NULL REFERENCES annex_users (id),"
       " on_behalf_of TEXT REFERENCES annex_users (id),"
       " decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject', 'return')),"
       " comment TEXT NOT NULL,"
       " at TEXT NOT NULL,"
       " PRIMARY KEY (approval_id, seq));"
       "CREATE TABLE annex_delegations ("
       " id TEXT PRIMARY KEY,"
       " delegator_id TEXT NOT NULL REFERENCES annex_users (id),"
       " delegate_id TEXT NOT NULL REFERENCES annex_users (id),"
       " chains TEXT NOT NULL,"
       " valid_from TEXT NOT NULL,"
       " valid_until TEXT NOT NULL,"
       " created_at TEXT NOT NULL,"
       " revoked_at TEXT);"
       "CREATE INDEX annex_delegations_delegate ON annex_delegations (delegate_id, valid_until);"},
      {6, "masterdata",
       // One table per entity of masterdata/entities.h; money as integer minor units plus currency.
       "CREATE TABLE annex_md_parties (id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
       " tax_id TEXT, kind TEXT, region TEXT, source TEXT, tier TEXT, addresses TEXT, contacts TEXT, status TEXT,"
       " sector_id TEXT NOT NULL, owner_id TEXT NOT NULL," + kMeta + ");"
       "CREATE INDEX annex_md_parties_reach ON annex_md_parties (sector_id, owner_id);"
       "CREATE TABLE annex_md_products (id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
       " product_group TEXT, unit TEXT, list_price_amount BIGINT, list_price_currency TEXT, repurchase_days BIGINT,"
       " status TEXT," + kMeta + ");"
       "CREATE TABLE annex_md_employees (id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
       " user_id TEXT, cost_centre TEXT, manager TEXT, status TEXT," + kMeta + ");"
       "CREATE TABLE annex_md_cost_centres (id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
       " parent TEXT, status TEXT," + kMeta + ");"
       "CREATE TABLE annex_md_gl_accounts (id TEXT PRIMARY KEY, chart TEXT NOT NULL, code TEXT NOT NULL,"
       " name TEXT NOT NULL, type TEXT, status TEXT," + kMeta + ", UNIQUE (chart, code));"
       "CREATE TABLE annex_md_currencies (id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT,"
       " minor_units BIGINT," + kMeta + ");"
       "CREATE TABLE annex_md_exchange_rates (id TEXT PRIMARY KEY, base TEXT NOT NULL, quote TEXT NOT NULL,"
       " rate_date TEXT NOT NULL, rate TEXT NOT NULL," + kMeta + ", UNIQUE (base, quote, rate_date));"
       // Each record's counterpart in each connected system.
       "CREATE TABLE annex_md_bindings (entity TEXT NOT NULL, record_id TEXT NOT NULL, connection TEXT NOT NULL,"
       " remote_id TEXT NOT NULL, remote_version TEXT, synced_at TEXT NOT NULL,"
       " PRIMARY KEY (entity, record_id, connection), UNIQUE (connection, entity, remote_id));"},
      {7, "sync",
       // Where each incremental pull stands.
       "CREATE TABLE annex_sync_cursors (connection TEXT NOT NULL, stream TEXT NOT NULL, cursor TEXT NOT NULL,"
       " updated_at TEXT NOT NULL, PRIMARY KEY (connection, stream));"
       "CREATE TABLE annex_sync_runs (id TEXT PRIMARY KEY, connection TEXT NOT NULL, stream TEXT NOT NULL,"
       " direction TEXT NOT NULL, dry_run INTEGER NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL,"
       " finished_at TEXT, read_count BIGINT NOT NULL, created_count BIGINT NOT NULL, updated_count BIGINT NOT NULL,"
       " unchanged_count BIGINT NOT NULL, rejected_count BIGINT NOT NULL, duration_ms BIGINT, error TEXT, diff TEXT);"
       "CREATE INDEX annex_sync_runs_conn ON annex_sync_runs (connection, started_at);"
       // Pushes waiting to leave: written in the transaction of the change they carry.
       "CREATE TABLE annex_sync_outbox (seq " + id + ", connection TEXT NOT NULL, stream TEXT NOT NULL,"
       " entity TEXT NOT NULL, record_id TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE,"
       " state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')), attempts INTEGER NOT NULL,"
       " next_attempt_at TEXT NOT NULL, last_error TEXT, created_at TEXT NOT NULL, sent_at TEXT);"
       "CREATE INDEX annex_sync_outbox_due ON annex_sync_outbox (connection, stream, state, next_attempt_at);"
       // Records that could not be applied, with the reason, kept for replay.
       "CREATE TABLE annex_sync_dead_letters (seq " + id + ", connection TEXT NOT NULL, stream TEXT NOT NULL,"
       " direction TEXT NOT NULL, record TEXT NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL,"
       " replayed_at TEXT);"},
      {8, "sync outbox in sequence",
       // A push reads the pending rows after the last one it took, in order: an index in that order reads just
       // the batch, where one ordered by due time made every batch sort all pending rows again.
       "DROP INDEX annex_sync_outbox_due;"
       "CREATE INDEX annex_sync_outbox_pending ON annex_sync_outbox (connection, stream, state, seq);"},
      {9, "idempotency keys",
       // The first answer to a create sent with Idempotency-Key, per caller and key, kept for a day.
       "CREATE TABLE annex_idempotency (principal_id TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL,"
       " state TEXT NOT NULL, status INTEGER, headers TEXT, body TEXT, created_at TEXT NOT NULL,"
       " PRIMARY KEY (principal_id, idem_key));"
       "CREATE INDEX annex_idempotency_age ON annex_idempotency (created_at);"},
      // Money is accepted only in the currencies master data holds: ISO 4217's, with their minor units.
      {10, "iso 4217 currencies", iso4217_currencies()},
      {11, "blobs",
       // Content-addressed bytes (receipts), stored once each: the header names them by their SHA-256, the chunks
       // hold them in order (chunk_bytes each but the last).
       "CREATE TABLE annex_blobs (sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, media_type TEXT NOT NULL,"
       " chunk_bytes BIGINT NOT NULL, created_at TEXT NOT NULL);"
       "CREATE TABLE annex_blob_chunks (sha256 TEXT NOT NULL REFERENCES annex_blobs (sha256), seq BIGINT NOT NULL,"
       " data " + std::string(pg ? "BYTEA" : "BLOB") + " NOT NULL, PRIMARY KEY (sha256, seq));"},
      {12, "sync documents",
       // Business documents a plugin hands a document stream (journal entries to the finance system), written in
       // the plugin's own transaction; each is delivered once by its key and keeps its outcome. `notified` says
       // whether the owning plugin has heard that outcome.
       "CREATE TABLE annex_sync_documents (seq " + id + ", connection TEXT NOT NULL, stream TEXT NOT NULL,"
       " owner TEXT NOT NULL, doc_key TEXT NOT NULL, document TEXT NOT NULL,"
       " state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')), attempts INTEGER NOT NULL,"
       " next_attempt_at TEXT NOT NULL, last_error TEXT, remote_id TEXT, outcome TEXT, reason TEXT,"
       " created_at TEXT NOT NULL, delivered_at TEXT, notified INTEGER NOT NULL DEFAULT 0,"
       " UNIQUE (connection, stream, doc_key));"
       "CREATE INDEX annex_sync_documents_pending ON annex_sync_documents (connection, stream, state, seq);"},
      {13, "employee grades",
       // An employee's job grade (policies may differ by it), and finding the employee record of a user.
       "ALTER TABLE annex_md_employees ADD COLUMN grade TEXT;"
       "CREATE INDEX annex_md_employees_user ON annex_md_employees (user_id);"},
      {kAuditChainV2Migration, "audit chain v2",
       // The first audit entry hashed as chain format v2, which links each entry's digest rather than its text
       // (audit/audit_log.h): 1 for a log created with v2, the next entry for one written before it, whose
       // entries stay v1 as they were hashed.
       "ALTER TABLE annex_audit_head ADD COLUMN v2_from BIGINT NOT NULL DEFAULT 1;"
       "UPDATE annex_audit_head SET v2_from = seq + 1;"},
      {15, "sync content digests and resolved dead letters",
       // For streams read whole (an entity set with neither a change time nor an ETag): each remote record's
       // digest as last applied, so that a run applies only what changed.
       "CREATE TABLE annex_sync_digests (connection TEXT NOT NULL, stream TEXT NOT NULL, remote_id TEXT NOT NULL,"
       " digest TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (connection, stream, remote_id));"
       // A dead letter names its record (the Annex id of a push, the remote id of a pull), and is resolved once
       // that record goes through.
       "ALTER TABLE annex_sync_dead_letters ADD COLUMN subject TEXT;"
       "ALTER TABLE annex_sync_dead_letters ADD COLUMN resolved_at TEXT;"
       "CREATE INDEX annex_sync_dead_letters_subject ON annex_sync_dead_letters (connection, stream, direction, subject);"},
      {16, "leases",
       // Work one daemon at a time may do, among every annexd on this database (cluster/leases.h): held until
       // expires_ms by the database's clock. A sync run names the daemon that ran it.
       "CREATE TABLE annex_leases (name TEXT PRIMARY KEY, daemon TEXT NOT NULL, expires_ms BIGINT NOT NULL, since TEXT NOT NULL);"
       "ALTER TABLE annex_sync_runs ADD COLUMN daemon TEXT;"},
      {17, "failed logins",
       // Failed logins per account ("login:NAME") and per address ("addr:ADDRESS"), counted by every daemon on
       // this database together (milliseconds since the epoch); kept for the throttling window.
       "CREATE TABLE annex_login_failures (key TEXT NOT NULL, at_ms BIGINT NOT NULL);"
       "CREATE INDEX annex_login_failures_key ON annex_login_failures (key, at_ms);"
       "CREATE INDEX annex_login_failures_at ON annex_login_failures (at_ms);"},
      {18, "failing event subscribers",
       // A subscription whose handler fails: how often in a row, the last error, and since when it is parked
       // (after events.park_after_failures failures: tried again only now and then, or when an administrator
       // resumes it). Shared by every daemon on this database; no row while it delivers.
       "CREATE TABLE annex_event_subscribers (subscriber TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
       " last_error TEXT, parked_at TEXT, updated_at TEXT NOT NULL);"},
      {19, "sync requests",
       // Streams a run was asked for over the API, until the connection's job runs them — at whichever daemon
       // runs it ("" for every stream).
       "CREATE TABLE annex_sync_requests (connection TEXT NOT NULL, stream TEXT NOT NULL, asked_at TEXT NOT NULL,"
       " PRIMARY KEY (connection, stream));"},
      {20, "unheard document outcomes",
       // The outcomes the owning plugin has not heard yet, in the order it hears them: without it every page of
       // a push read and sorted all of the stream's delivered documents again.
       "CREATE INDEX annex_sync_documents_unheard ON annex_sync_documents (connection, stream, delivered_at, seq)"
       " WHERE state <> 'pending' AND notified = 0;"},
      {21, "role holders",
       // Who holds a role: the candidates for an approval step, read on every submission.
       "CREATE INDEX annex_role_assignments_role ON annex_role_assignments (role, user_id);"},
  };
}

}  // namespace annex::store

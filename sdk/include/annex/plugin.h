/*
 * annex/plugin.h — the binary boundary between the Annex host (annexd) and its plugins.
 *
 * This C header is the whole contract. A plugin is a shared library that exports one symbol,
 * annex_plugin_query_v1(), returning a descriptor that is pure data. The host reads the descriptor, checks the
 * ABI version, resolves the declared dependencies, then calls the lifecycle functions in order:
 *
 *     create → on_register → start → … → stop → destroy
 *
 * Rules that keep the boundary stable:
 *   - Only C types, (pointer, length) strings and UTF-8 JSON cross it. No C++ object, exception or STL type.
 *   - Every struct begins with `struct_size`. Structs grow only by appending fields; a reader treats trailing
 *     fields beyond `struct_size` as absent. Use ANNEX_HAS_FIELD() to test for one.
 *   - Pointer names say who owns the memory: `*_host_ptr` is owned by the host, `*_plugin_ptr` by the plugin.
 *     Whoever allocates frees. Memory passed into a call is borrowed for the duration of that call only,
 *     unless the function's comment says otherwise.
 *   - Every function that can fail returns an annex_status; ANNEX_OK is 0. A longer message, where one is
 *     useful, is written into an annex_buffer the caller supplies. A host service refusing one input names it
 *     by writing "field=<name>\n" before its message; a plugin names the field at fault of its own errors with
 *     annex_host_api.set_error_field() (since ABI 1.3).
 *   - Host services are looked up by name and major version through annex_host_api.get_service(). A plugin
 *     may obtain only the services its manifest lists under "uses": the declaration is also the permission.
 *     Plugins offer services to each other the same way (annex_host_api.provide_service, since ABI 1.3), and
 *     reach each other's data only through them: the host refuses a plugin's SQL naming another plugin's tables,
 *     as it refuses SQL naming the host's own.
 *
 * Versioning: ANNEX_ABI_MAJOR changes only when an existing field or function changes meaning; the host
 * refuses a plugin built for another major. ANNEX_ABI_MINOR grows when fields or services are appended; the
 * host refuses a plugin built against a newer minor than its own, and serves older ones unchanged.
 */
#ifndef ANNEX_PLUGIN_H
#define ANNEX_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ANNEX_ABI_MAJOR 1
#define ANNEX_ABI_MINOR 5

/* The one symbol a plugin exports. */
#define ANNEX_PLUGIN_QUERY_SYMBOL "annex_plugin_query_v1"

#if defined(_WIN32)
#define ANNEX_EXPORT __declspec(dllexport)
#else
#define ANNEX_EXPORT __attribute__((visibility("default")))
#endif

/* True when the struct pointed to by `p` (whose first field is struct_size) is large enough to hold `field`. */
#define ANNEX_HAS_FIELD(p, type, field) \
  ((p) != NULL && (p)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* ---------------------------------------------------------------------------------------------------------- */
/* Status codes                                                                                               */
/* ---------------------------------------------------------------------------------------------------------- */

/* The result of every call that can fail. Values are stable; new codes are only appended. The HTTP layer maps
 * them to statuses: INVALID_ARGUMENT→400, UNAUTHENTICATED→401, PERMISSION_DENIED→403, NOT_FOUND→404,
 * CONFLICT→409, PRECONDITION_FAILED→412, UNPROCESSABLE→422, UNAVAILABLE→503, everything else→500. */
typedef enum annex_status {
  ANNEX_OK = 0,
  ANNEX_ERR_INVALID_ARGUMENT = 1,  /* the caller passed something malformed */
  ANNEX_ERR_NOT_FOUND = 2,         /* the object or service does not exist, or is out of the caller's reach */
  ANNEX_ERR_PERMISSION_DENIED = 3, /* the caller may not do this */
  ANNEX_ERR_CONFLICT = 4,          /* the object exists already, or changed under the caller */
  ANNEX_ERR_UNAVAILABLE = 5,       /* a dependency (database, peer) cannot be reached now; retrying may help */
  ANNEX_ERR_INTERNAL = 6,          /* a bug or an unexpected failure */
  ANNEX_ERR_UNSUPPORTED = 7,       /* the host or plugin does not implement this */
  ANNEX_ERR_UNAUTHENTICATED = 8,   /* the caller is not known */
  ANNEX_ERR_PRECONDITION_FAILED = 9, /* a stated precondition (If-Match) does not hold */
  ANNEX_ERR_UNPROCESSABLE = 10     /* well-formed, but breaks a business rule */
} annex_status;

/* ---------------------------------------------------------------------------------------------------------- */
/* Strings and buffers                                                                                        */
/* ---------------------------------------------------------------------------------------------------------- */

/* A borrowed UTF-8 string. `data` need not be NUL-terminated; `len` counts bytes. {NULL, 0} is empty. */
typedef struct annex_str {
  const char* data;
  size_t len;
} annex_str;

/* A growable byte sink owned by whoever created it. The other side writes into it with append(); it never
 * frees or keeps the pointer. Used for error messages, response bodies and JSON results, so that no memory
 * allocated on one side is ever freed on the other. */
typedef struct annex_buffer {
  void* owner_ptr; /* opaque; owned by the creator of the buffer */
  void (*append)(void* owner_ptr, const char* data, size_t len);
} annex_buffer;

/* ---------------------------------------------------------------------------------------------------------- */
/* Values and rows (database service)                                                                         */
/* ---------------------------------------------------------------------------------------------------------- */

typedef enum annex_value_type {
  ANNEX_VALUE_NULL = 0,
  ANNEX_VALUE_INT = 1,    /* int64; money is always an INT of minor units */
  ANNEX_VALUE_DOUBLE = 2, /* for measures and ratios only, never money */
  ANNEX_VALUE_TEXT = 3,   /* UTF-8 */
  ANNEX_VALUE_BLOB = 4
} annex_value_type;

/* A typed value bound to a parameter or read from a column. For TEXT and BLOB, `s` is borrowed: a bound
 * parameter must outlive the call; a column value lives until the next annex_db_v1.rows_next() or rows_free(). */
typedef struct annex_value {
  int32_t type; /* annex_value_type */
  int64_t i;
  double d;
  annex_str s;
} annex_value;

/* ---------------------------------------------------------------------------------------------------------- */
/* Migrations                                                                                                 */
/* ---------------------------------------------------------------------------------------------------------- */

/* One numbered schema change a plugin owns. The host applies a plugin's migrations in ascending `version`
 * order, each in its own transaction, and records the version with a SHA-256 of its SQL. A migration that was
 * applied and whose SQL has since changed stops start-up: migrations are never silently re-run.
 * `sql` may hold several statements separated by ';'. `dialect` is NULL or "" for SQL that runs on every
 * backend, or "sqlite" / "postgresql" for a variant that replaces the portable one on that backend. */
typedef struct annex_migration {
  uint32_t struct_size;
  uint32_t version;     /* 1, 2, 3 … */
  const char* name;     /* short description, NUL-terminated, static */
  const char* sql;      /* NUL-terminated, static */
  const char* dialect;  /* NULL, "", "sqlite" or "postgresql" */
} annex_migration;

/* ---------------------------------------------------------------------------------------------------------- */
/* The host, as a plugin sees it                                                                              */
/* ---------------------------------------------------------------------------------------------------------- */

/* The host's per-plugin context. Opaque; owned by the host; valid from create() until destroy() returns.
 * Everything a plugin registers through services (routes, subscriptions, jobs) is tied to it. */
typedef struct annex_host_ctx annex_host_ctx;

/* The plugin instance. Opaque to the host; created by the plugin's create(), freed by its destroy(). */
typedef struct annex_plugin annex_plugin;

typedef struct annex_host_api {
  uint32_t struct_size;
  uint16_t abi_major; /* the host's ANNEX_ABI_MAJOR */
  uint16_t abi_minor; /* the host's ANNEX_ABI_MINOR */
  annex_host_ctx* ctx_host_ptr;
  /* Returns the function table of service `name` at major version `major`, or NULL when the host has no
   * such service or the plugin's manifest does not declare it under "uses". The table is owned by the host
   * and stays valid until destroy(). Each table starts with struct_size and the service's minor version. */
  const void* (*get_service)(annex_host_ctx* ctx, annex_str name, uint32_t major);
  /* Since ABI 1.3. Names the field at fault (a configuration key, a member of a request body …) of the error
   * the plugin is reporting into `err`, a buffer the host passed it (create, on_register, start, stop, a route,
   * event or job handler); call it before returning the failing status. Returns 1 when recorded, 0 when `err` is
   * not such a buffer. The host keeps the field apart from the message: "field" in its HTTP error shape,
   * "error_field" in GET /api/v1/plugins, and in the log. (Plugins built for ABI 1.2 or older wrote
   * "field=<name>\n" before the message instead; the host still reads that.) Safe from any thread. */
  int32_t (*set_error_field)(annex_buffer* err, annex_str field);
  /* Since ABI 1.3. Offers `table` as service `name` at major `major` to other plugins: the manifest must list
   * "name@major" under "provides", and a plugin that wants it lists it under "uses" and its provider under
   * "requires" (so it starts after the provider and stops before it), then obtains it through get_service()
   * like a host service. Call it from on_register(); a plugin that registers no table for a service it
   * declares fails to start. The table belongs to the plugin and must stay valid until destroy(). Like a host
   * service's, it starts with `uint32_t struct_size; uint32_t minor;`; the rest is the provider's contract,
   * published in its own header (by convention a `void* provider_plugin_ptr` next, passed back as the first
   * argument of every function, so that the functions reach the provider's instance). Its functions are called
   * on the consumer's threads and must follow the rules at the end of this header; they act for no one but the
   * user id a function takes explicitly. INVALID_ARGUMENT when the manifest does not declare the service or the
   * table is NULL; CONFLICT when it was offered already. */
  annex_status (*provide_service)(annex_host_ctx* ctx, annex_str name, uint32_t major, const void* table,
                                  annex_buffer* err);
} annex_host_api;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.log" v1                                                                                     */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_LOG "annex.log"

typedef enum annex_log_level {
  ANNEX_LOG_TRACE = 0,
  ANNEX_LOG_DEBUG = 1,
  ANNEX_LOG_INFO = 2,
  ANNEX_LOG_WARN = 3,
  ANNEX_LOG_ERROR = 4
} annex_log_level;

typedef struct annex_log_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Writes one line to the host's log, tagged with the plugin id and the current request id. Never fails. */
  void (*write)(annex_host_ctx* ctx, int32_t level, annex_str message);
  /* Returns non-zero when a message at `level` would be written, so that costly messages can be skipped. */
  int32_t (*enabled)(annex_host_ctx* ctx, int32_t level);
} annex_log_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.config" v1                                                                                  */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_CONFIG "annex.config"

typedef struct annex_config_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Appends the plugin's configuration — the object under "plugins.<id>" in the host's configuration,
   * validated against the manifest's "config_schema" with its defaults filled in — to `out` as JSON. */
  annex_status (*get)(annex_host_ctx* ctx, annex_buffer* out);
  /* Appends to `out` the value of a host setting that plugins may read: "data_dir", "database.dialect"
   * ("sqlite" or "postgresql"), "http.base_url". Returns NOT_FOUND for any other key. */
  annex_status (*host_setting)(annex_host_ctx* ctx, annex_str key, annex_buffer* out);
} annex_config_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.db" v1                                                                                      */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_DB "annex.db"

/* A result set, owned by the host; free it with rows_free(). */
typedef struct annex_rows annex_rows;
/* A transaction pinned to one connection, owned by the host; ended by commit() or rollback(), which free it. */
typedef struct annex_txn annex_txn;

typedef struct annex_db_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Runs one statement with positional parameters written as `?` in `sql` (outside quotes). `txn` is NULL for
   * a statement in its own transaction, or a transaction from begin(). On success stores a result set in
   * *out_rows_host_ptr (never NULL; empty for statements that return no rows) and the number of rows changed
   * in *out_affected (may be NULL). On failure appends the database's message to `err` and returns
   * INVALID_ARGUMENT (bad SQL or parameters), CONFLICT (a uniqueness or foreign-key violation) or UNAVAILABLE. */
  annex_status (*query)(annex_host_ctx* ctx, annex_txn* txn, annex_str sql, const annex_value* params,
                        size_t param_count, annex_rows** out_rows_host_ptr, int64_t* out_affected,
                        annex_buffer* err);
  /* Advances to the next row: returns 1 when a row is current, 0 when the rows are exhausted. */
  int32_t (*rows_next)(annex_rows* rows);
  size_t (*rows_column_count)(const annex_rows* rows);
  /* The column's name; borrowed until rows_free(). */
  annex_str (*rows_column_name)(const annex_rows* rows, size_t column);
  /* The current row's value in `column`; TEXT/BLOB data is borrowed until the next rows_next() or rows_free().
   * An out-of-range column reads as NULL. */
  annex_value (*rows_get)(const annex_rows* rows, size_t column);
  void (*rows_free)(annex_rows* rows);
  /* Starts a transaction on a connection reserved until commit() or rollback(). */
  annex_status (*begin)(annex_host_ctx* ctx, annex_txn** out_txn_host_ptr, annex_buffer* err);
  /* Commits and frees `txn`. On failure the transaction is rolled back, freed, and the reason appended. */
  annex_status (*commit)(annex_txn* txn, annex_buffer* err);
  /* Rolls back and frees `txn`. Never fails from the caller's point of view. */
  void (*rollback)(annex_txn* txn);
} annex_db_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.http" v1                                                                                    */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_HTTP "annex.http"

/* The authenticated caller of a request. All strings borrowed for the duration of the handler call. */
typedef struct annex_principal {
  uint32_t struct_size;
  annex_str id;    /* stable user id; empty for an anonymous caller */
  annex_str login; /* login name; empty for an anonymous caller */
} annex_principal;

typedef struct annex_http_request annex_http_request;

/* One incoming request, owned by the host, valid only during the handler call. */
struct annex_http_request {
  uint32_t struct_size;
  annex_str method;     /* "GET", "POST" … */
  annex_str path;       /* decoded path, without the query string */
  annex_str query;      /* the raw query string after '?', or empty */
  annex_str body;       /* the request body (size already checked against the host's limit) */
  annex_str request_id; /* the id the host logs and returns in X-Request-Id */
  const annex_principal* principal;
  const void* request_host_ptr; /* opaque, for the accessors below */
  /* The path parameter named `name` in the route's template (`/items/{id}`); empty when absent. */
  annex_str (*path_param)(const annex_http_request* req, annex_str name);
  /* The first query parameter named `name`, URL-decoded into `out`; returns 0 when absent, 1 when present. */
  int32_t (*query_param)(const annex_http_request* req, annex_str name, annex_buffer* out);
  /* The first header named `name` (case-insensitive); empty when absent. */
  annex_str (*header)(const annex_http_request* req, annex_str name);
  /* Since ABI 1.3 (test with ANNEX_HAS_FIELD). On an upload route (annex_route.upload_max_bytes), what the host
   * received and stored before calling the handler: appends {"sha256", "size", "media_type" (sniffed from the
   * bytes), "filename" (as the client named it, may be ""), "field" (the form field, or "body" for a raw body),
   * "created": false when the same bytes were stored already, "fields": {the form's other fields, as text}}.
   * NOT_FOUND on any other route. The handler decides what the file belongs to and who may see it. */
  annex_status (*upload)(const annex_http_request* req, annex_buffer* out_json);
};

/* The response a handler fills. Owned by the host. Status defaults to 200, content type to application/json. */
typedef struct annex_http_response {
  uint32_t struct_size;
  void* response_host_ptr;
  void (*set_status)(void* response_host_ptr, int32_t status);
  void (*set_header)(void* response_host_ptr, annex_str name, annex_str value);
  annex_buffer body;
  /* Since ABI 1.3 (test with ANNEX_HAS_FIELD). Answers with the stored blob `sha256` as the body, streamed by the
   * host instead of `body`: Content-Type its sniffed type, Content-Length, ETag its hash, and Content-Disposition
   * "attachment" with `filename` when not empty. Call it once the caller is known to be allowed to see the record
   * the blob belongs to. NOT_FOUND when the store holds no such blob, PERMISSION_DENIED when the plugin's manifest
   * does not list "annex.blobs@1" under "uses". */
  annex_status (*send_blob)(void* response_host_ptr, annex_str sha256, annex_str filename);
} annex_http_response;

/* A route handler. Return ANNEX_OK after filling `resp`. Any other status makes the host answer with its one
 * error shape, the HTTP status mapped from the code and the text appended to `err` as the message; to name the
 * field at fault, pass it to annex_host_api.set_error_field(err, field). */
typedef annex_status (*annex_http_handler)(void* handler_plugin_ptr, const annex_http_request* req,
                                           annex_http_response* resp, annex_buffer* err);

typedef struct annex_route {
  uint32_t struct_size;
  annex_str method;     /* GET, POST, PUT, PATCH or DELETE */
  annex_str path;       /* template under the host root, e.g. "/api/v1/hello/greetings/{id}" */
  annex_str permission; /* permission the caller must hold, e.g. "hello.greeting.read"; empty for public */
  annex_str summary;    /* one line for the OpenAPI document */
  annex_http_handler handler;
  void* handler_plugin_ptr; /* passed back to handler; owned by the plugin */
  /* Since ABI 1.3: an upload route (POST or PUT) when > 0; 0 for an ordinary JSON body. The host takes the body —
   * raw, or the one file of a multipart/form-data form — streams it into the blob store (annex.blobs) after the
   * access check and before calling the handler, which reads the result with annex_http_request.upload(). At most
   * this many bytes (and never more than the host's blobs.max_bytes): past it the host answers 413 and stores
   * nothing. annex_http_request.body is empty on such a route. Needs "annex.blobs@1" under "uses". */
  int64_t upload_max_bytes;
  /* Since ABI 1.3: the types an upload route takes, comma-separated, among "application/pdf", "image/jpeg",
   * "image/png", "image/webp", "image/heic" and "image/heif". The type is sniffed from the bytes, never taken from
   * Content-Type; a file of another type, or declared one type and being another, is answered 415. */
  annex_str upload_types;
} annex_route;

typedef struct annex_http_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Registers a route owned by the plugin until it stops. Returns CONFLICT when another route has the same
   * method and template, INVALID_ARGUMENT for a malformed template or method. */
  annex_status (*add_route)(annex_host_ctx* ctx, const annex_route* route, annex_buffer* err);
} annex_http_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.events" v1                                                                                  */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_EVENTS "annex.events"

typedef struct annex_event {
  uint32_t struct_size;
  int64_t sequence;          /* the host's sequence number, increasing */
  annex_str topic;           /* e.g. "hello.greeting.created" */
  annex_str payload;         /* UTF-8 JSON */
  annex_str idempotency_key; /* the publisher's key: a subscriber may see an event more than once, never
                                two events with one key */
  annex_str publisher;       /* the publishing plugin's id */
} annex_event;

/* An event handler. Return ANNEX_OK once the event is handled; any other status makes the host deliver it
 * again later (at-least-once). Handlers must therefore be idempotent, keyed by idempotency_key. */
typedef annex_status (*annex_event_handler)(void* handler_plugin_ptr, const annex_event* event,
                                            annex_buffer* err);

typedef struct annex_events_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Publishes an event durably. `txn` may be NULL, or a transaction from annex.db, so that the event is stored
   * only if the business change commits. Publishing a second event with an idempotency key already used by
   * this plugin on the same topic is a no-op returning OK. */
  annex_status (*publish)(annex_host_ctx* ctx, annex_txn* txn, annex_str topic, annex_str payload_json,
                          annex_str idempotency_key, annex_buffer* err);
  /* Subscribes to `topic` ("orders.created", or a prefix ending in ".*") until the plugin stops. The plugin's
   * position is kept by the host, so events published while it was stopped are delivered when it starts. */
  annex_status (*subscribe)(annex_host_ctx* ctx, annex_str topic, annex_event_handler handler,
                            void* handler_plugin_ptr, annex_buffer* err);
} annex_events_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.jobs" v1                                                                                    */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_JOBS "annex.jobs"

typedef annex_status (*annex_job_fn)(void* job_plugin_ptr, annex_buffer* err);

/* Since ABI 1.4: when a job runs by the company calendar (annex.calendar) instead of by interval. Times are local
 * times of the company's time zone (calendar.time_zone), compared with the host clock. */
typedef enum annex_job_rule {
  ANNEX_JOB_INTERVAL = 0,            /* every interval_seconds (what every job before ABI 1.4 is) */
  ANNEX_JOB_MONTHLY_DAY = 1,         /* on day `calendar_day` (1–31) of every month; a shorter month: its last day */
  ANNEX_JOB_MONTHLY_WORKING_DAY = 2, /* on the `calendar_day`-th (1–23) working day of every month; none in a month
                                        with fewer working days */
  ANNEX_JOB_DAILY = 3,               /* every day */
  ANNEX_JOB_EVERY_WORKING_DAY = 4    /* every working day */
} annex_job_rule;

typedef struct annex_job {
  uint32_t struct_size;
  annex_str name;            /* unique within the plugin */
  uint32_t interval_seconds; /* run every N seconds, counted from the end of the previous run; >= 1 */
  uint32_t initial_delay_seconds;
  annex_job_fn run;
  void* job_plugin_ptr;
  /* Since ABI 1.4 (read only when struct_size covers them; annex.jobs minor 1): a calendar schedule. With a rule
   * other than ANNEX_JOB_INTERVAL, interval_seconds and initial_delay_seconds are ignored and the job runs at
   * `calendar_minute` minutes after the company's midnight (01:00 is 60) on the days the rule names. */
  int32_t calendar_rule;   /* annex_job_rule */
  int32_t calendar_day;    /* the day of the month, or N for the N-th working day */
  int32_t calendar_minute; /* 0–1439 */
} annex_job;

typedef struct annex_jobs_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Schedules a recurring job until the plugin stops. Runs never overlap for one job. A failing run is logged
   * with its message and the job runs again at its next interval, or its next calendar time. A calendar job runs
   * once when its time comes on the host clock (one run however many of its times a moved test clock skips). A
   * time that passed while annexd was not running (after the job's last run, or after it was first scheduled;
   * kept in <data_dir>/calendar-jobs.tsv) is made up once, as soon as the job is scheduled again. INVALID_ARGUMENT
   * (naming the field) for a calendar rule, day or minute out of range. */
  annex_status (*schedule)(annex_host_ctx* ctx, const annex_job* job, annex_buffer* err);
  /* Runs the job named `name` now, in the background, if it is not already running. */
  annex_status (*trigger)(annex_host_ctx* ctx, annex_str name, annex_buffer* err);
} annex_jobs_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.authz" v1 (since ABI 1.1)                                                                   */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_AUTHZ "annex.authz"

/* A business record as the authorisation service sees it. Every business row carries a sector and an owner. */
typedef struct annex_object_ref {
  uint32_t struct_size;
  annex_str type;      /* the kind of record, namespaced by the plugin: "hello.greeting" */
  annex_str id;        /* its id as text; empty for a record not yet created */
  annex_str sector_id; /* the sector it belongs to */
  annex_str owner_id;  /* the user id of its owner */
} annex_object_ref;

typedef struct annex_authz_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Sets *out_allowed to 1 when user `user_id` may exercise `permission` on `object`, else 0. The user's roles
   * decide how far the permission reaches: every sector, the sectors of the role assignment, or the user's
   * own records and those assigned to them. A refusal is logged with the user, permission and object; answer
   * it with NOT_FOUND for an existing record, so that its existence is not disclosed. To check a record about
   * to be created, pass an empty id and the intended sector and owner: the sector must exist (else
   * UNPROCESSABLE, "field=sector_id\n" first in `err`), and own reach covers it only in a sector the user
   * belongs to. */
  annex_status (*check)(annex_host_ctx* ctx, annex_str user_id, annex_str permission, const annex_object_ref* object,
                        int32_t* out_allowed, annex_buffer* err);
  /* Appends to `out_sql` a boolean SQL expression that holds exactly for the rows of `object_type` the user may
   * exercise `permission` on, written over the plugin's own columns (plain or qualified identifiers): for
   * example "(t.sector_id IN ('north') OR t.owner_id = 'u_1')", or "1 = 1" / "1 = 0". AND it into the WHERE
   * clause of a list query. INVALID_ARGUMENT when a column name is not an identifier. */
  annex_status (*list_filter)(annex_host_ctx* ctx, annex_str user_id, annex_str permission, annex_str object_type,
                              annex_str sector_column, annex_str owner_column, annex_str id_column,
                              annex_buffer* out_sql, annex_buffer* err);
  /* Appends the user's home sector (their first membership) to `out`; NOT_FOUND when they belong to none. */
  annex_status (*home_sector)(annex_host_ctx* ctx, annex_str user_id, annex_buffer* out, annex_buffer* err);
  /* Assigns one record to a user beyond what they own ("assigned records"), or withdraws it. `txn` may be NULL
   * or a transaction from annex.db, so that the assignment commits with the business change. */
  annex_status (*grant)(annex_host_ctx* ctx, annex_txn* txn, annex_str object_type, annex_str object_id,
                        annex_str user_id, annex_str granted_by, annex_buffer* err);
  annex_status (*revoke)(annex_host_ctx* ctx, annex_txn* txn, annex_str object_type, annex_str object_id,
                         annex_str user_id, annex_buffer* err);
} annex_authz_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.audit" v1 (since ABI 1.1)                                                                   */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_AUDIT "annex.audit"

typedef struct annex_audit_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Appends an entry to the host's tamper-evident audit log: who (`principal_id`, a user id), what (`action`,
   * e.g. "expenses.claim.approve"), on which record (`object_type`, `object_id`), and the record before and
   * after the change as JSON (empty for none; stored in canonical form). Pass the transaction that makes the
   * change, so that the change and its entry commit together; NULL appends in a transaction of its own.
   * Stores the entry's sequence number in *out_seq (may be NULL). INVALID_ARGUMENT when before/after are not
   * JSON or the action or object type is empty. */
  annex_status (*append)(annex_host_ctx* ctx, annex_txn* txn, annex_str principal_id, annex_str action,
                         annex_str object_type, annex_str object_id, annex_str before_json, annex_str after_json,
                         int64_t* out_seq, annex_buffer* err);
  /* Since ABI 1.5 (service minor 1; test with ANNEX_HAS_FIELD). Makes an evidence pack for an auditor and appends
   * its bytes, a ZIP archive, to `out_zip`:
   *   manifest.json      {"format": "annex-evidence-pack", "version": 1, "id": "ev_…", "title", "created_at",
   *                       "created_by", "objects": [{"type", "id"}], "documents": [{"name", "sha256", "size"}],
   *                       "audit_entries": [seq of every audit entry about the objects]}
   *   documents/<name>   each of `documents_json`'s documents, as its text (UTF-8)
   *   audit-proof.jsonl  those audit entries, each with the chain segment up to the signed checkpoint that covers
   *                      it (every other entry of a segment shown as its digest alone), and the pack's own entry
   * The host appends that entry in a transaction of its own — principal `principal_id` (empty: the plugin's id),
   * action "audit.evidence.export", object ("annex.evidence_pack", the pack's id), after: the manifest — and
   * signs a checkpoint over it, so `annexctl audit verify --file pack.zip --public-key KEY` proves offline that
   * no document, manifest line or entry was changed or removed. `title` is 1 to 200 bytes of UTF-8;
   * `objects_json` is [{"type": "…", "id": "…"}, …] (1 to 10,000 objects whose audit entries, at most 100,000, the
   * pack proves); `documents_json` is {"name": "text", …} (or empty for none), each name 1 to 128 of
   * A–Z a–z 0–9 . _ - (not starting with '.', no "..", unique ignoring case). Call it outside any transaction.
   * Returns UNPROCESSABLE naming the field ("title", "objects", "objects[i].id", "documents") for bad input,
   * INVALID_ARGUMENT when the calling thread holds a transaction, UNSUPPORTED when the host signs no checkpoints. */
  annex_status (*evidence_pack)(annex_host_ctx* ctx, annex_str principal_id, annex_str title, annex_str objects_json,
                                annex_str documents_json, annex_buffer* out_zip, annex_buffer* err);
} annex_audit_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.approvals" v1 (since ABI 1.1)                                                               */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_APPROVALS "annex.approvals"

/* An item to put through an approval chain configured under "approvals.chains". */
typedef struct annex_approval_item {
  uint32_t struct_size;
  annex_str chain;        /* the chain's id */
  annex_str item_type;    /* the plugin's kind of record, e.g. "expenses.claim" */
  annex_str item_id;
  annex_str sector_id;    /* the item's sector: approvers' reach must cover it */
  annex_str submitter_id; /* the user submitting; they never decide it */
  int64_t amount;         /* minor units; decides which thresholded steps apply */
  annex_str currency;     /* ISO 4217 */
} annex_approval_item;

/* Every function appends the approval as JSON to `out_json`:
 *   {"id","chain","item_type","item_id","sector_id","submitter_id","amount":{"amount","currency"},
 *    "status": "pending"|"approved"|"rejected"|"returned","round","steps":[…],"current_step","required":[…],
 *    "decisions":[{"round","step","decider_id","on_behalf_of","decision","comment","at"}],…}
 * The outcome is also published as the event "annex.approval.<status>" (publisher "annex.core"), so a plugin
 * learns of decisions made over the host's HTTP API by subscribing to "annex.approval.*".
 * Refusals: PERMISSION_DENIED (segregation of duties, eligibility, delegation), NOT_FOUND, CONFLICT (state, or
 * an item already in the chain), UNPROCESSABLE (input; also when no independent approver exists for a step). */
typedef struct annex_approvals_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Puts an item into its chain. `txn` may be NULL or the transaction that changes the item. */
  annex_status (*submit)(annex_host_ctx* ctx, annex_txn* txn, const annex_approval_item* item, annex_buffer* out_json,
                         annex_buffer* err);
  /* Records `actor_id`'s decision ("approve", "reject" or "return"; the last two need a comment) on the current
   * step; `on_behalf_of` names the delegator when the actor decides under delegation (empty otherwise). */
  annex_status (*decide)(annex_host_ctx* ctx, annex_txn* txn, annex_str approval_id, annex_str actor_id,
                         annex_str decision, annex_str comment, annex_str on_behalf_of, annex_buffer* out_json,
                         annex_buffer* err);
  /* Starts a new round after a return for changes; only the submitter may. */
  annex_status (*resubmit)(annex_host_ctx* ctx, annex_txn* txn, annex_str approval_id, annex_str actor_id,
                           annex_buffer* out_json, annex_buffer* err);
  annex_status (*get)(annex_host_ctx* ctx, annex_str approval_id, annex_buffer* out_json, annex_buffer* err);
} annex_approvals_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.connectors" v1 (since ABI 1.1): connector plugins                                           */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_CONNECTORS "annex.connectors"

/* One open connection of a connector to an outside system. Opaque to the host; owned by the plugin. */
typedef struct annex_connection annex_connection;

/* A connector: how the host's sync engine talks to one kind of outside system. Records cross as JSON objects
 * keyed by the remote system's own field names; the engine maps them (one mapping language for every
 * connector). Calls on one connection never overlap; different connections may be used from different threads. */
typedef struct annex_connector {
  uint32_t struct_size;
  annex_str type;             /* what a connection's "connector" setting names, e.g. "odbc" */
  void* connector_plugin_ptr; /* passed back to open() */
  /* Prepares a connection from its settings (a JSON object; secrets already resolved by the host, never to
   * be logged). Should not fail for an unreachable remote: check() and read() report that. */
  annex_status (*open)(void* connector_plugin_ptr, annex_str settings_json, annex_connection** out_conn_plugin_ptr,
                       annex_buffer* err);
  void (*close)(annex_connection* conn);
  /* Reaches the remote system with the credentials; appends {"detail": "…"} on success. UNAUTHENTICATED or
   * PERMISSION_DENIED for refused credentials, UNAVAILABLE when it cannot be reached. */
  annex_status (*check)(annex_connection* conn, annex_buffer* out_json, annex_buffer* err);
  /* Appends {"streams": [{"name", "fields": [...], "key": [...], "cursor_field": "…"}]}. */
  annex_status (*discover)(annex_connection* conn, annex_buffer* out_json, annex_buffer* err);
  /* Reads the page of `stream` after `cursor_json` (empty: from the beginning), at most `page_size` records;
   * appends {"records": [{…}], "cursor": <JSON the next call passes back>, "done": true|false}. Records whose
   * cursor values tie must be neither skipped nor repeated across pages. UNAVAILABLE when the remote went
   * away (the engine retries, then fails the run; the stored cursor is unchanged). */
  annex_status (*read)(annex_connection* conn, annex_str stream, annex_str cursor_json, uint32_t page_size,
                       annex_buffer* out_json, annex_buffer* err);
  /* Writes `records_json`, a JSON array of {"remote_id": "…" or null, "remote_version": the version this connector
   * last reported for the record (its "remote_version" result or the stream's version field on a pull) or null,
   * "idempotency_key": "…", "record": {…}};
   * appends {"results": [{"status": "created"|"updated"|"unchanged"|"rejected", "remote_id", "remote_version",
   * "reason", "field"}]}, one per record, in order. A record the remote refuses is a "rejected" result with the
   * remote's own message; only a failure of the whole call (unreachable, credentials) is a status. Writing the
   * same idempotency key twice must not create a second record. */
  annex_status (*write)(annex_connection* conn, annex_str stream, annex_str records_json, annex_buffer* out_json,
                        annex_buffer* err);
} annex_connector;

typedef struct annex_connectors_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Offers a connector type to the sync engine until the plugin stops. The table and the type string are
   * copied. CONFLICT when another plugin offers the same type. */
  annex_status (*register_connector)(annex_host_ctx* ctx, const annex_connector* connector, annex_buffer* err);
} annex_connectors_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.masterdata" v1 (since ABI 1.1): parties, products, employees, cost centres, GL accounts …   */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_MASTERDATA "annex.masterdata"

/* `entity` is one of "parties", "products", "employees", "cost_centres", "gl_accounts", "currencies",
 * "exchange_rates". Records are JSON objects as GET /api/v1/masterdata/<entity>/<id> shows them. Plugins
 * reference master data by id and never copy it. */
typedef struct annex_masterdata_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Appends the record with this id. With a non-empty `user_id`, a party out of that user's reach answers
   * NOT_FOUND like a missing one. */
  annex_status (*get)(annex_host_ctx* ctx, annex_str entity, annex_str id, annex_str user_id, annex_buffer* out_json,
                      annex_buffer* err);
  /* Appends the record with this natural key, given as a JSON object ({"code": "C001"}); NOT_FOUND when none.
   * An employee is also found by its user ({"user_id": "u_…"}: the first such record). */
  annex_status (*find)(annex_host_ctx* ctx, annex_str entity, annex_str key_json, annex_str user_id,
                       annex_buffer* out_json, annex_buffer* err);
  /* Creates the record with this natural key, or changes the fields given; inside `txn` when not NULL, audited
   * as done by `actor_id`, and queued for the connections that push the entity. A new party needs sector_id
   * and owner_id. Appends {"id", "outcome": "created"|"updated"|"unchanged", "version"}. UNPROCESSABLE with the
   * field at fault ("field=<name>\n" first in `err`) for a record the entity refuses; CONFLICT naming the field
   * for a change to a field another system is the system of record of (as for people's changes). */
  annex_status (*upsert)(annex_host_ctx* ctx, annex_txn* txn, annex_str entity, annex_str record_json,
                         annex_str actor_id, annex_buffer* out_json, annex_buffer* err);
  /* Since ABI 1.3 (service minor 1; test with ANNEX_HAS_FIELD): the currency with this ISO 4217 code in master
   * data, whose currencies are the only ones money may be in. OK with its minor units in *minor_units (JPY 0,
   * CNY 2, KWD 3; -1 when not recorded); NOT_FOUND when master data holds no such currency. */
  annex_status (*currency)(annex_host_ctx* ctx, annex_str code, int32_t* minor_units, annex_buffer* err);
} annex_masterdata_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.directory" v1 (since ABI 1.2): the users and sectors a plugin's records refer to            */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_DIRECTORY "annex.directory"

/* A user as JSON: {"id", "login", "display_name", "status": "active"|"frozen"|"disabled", "sectors": [ids, home
 * first], "roles": [{"role", "sector_id"}]}. Password hashes and tokens never leave the host. */
typedef struct annex_directory_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Appends the user with this id; NOT_FOUND when there is none. */
  annex_status (*user)(annex_host_ctx* ctx, annex_str user_id, annex_buffer* out_json, annex_buffer* err);
  /* Appends {"items": [users]} for a filter given as JSON: {"status": "disabled"} and/or {"sector_id": "north"}
   * (members of that sector); {} for everyone. */
  annex_status (*users)(annex_host_ctx* ctx, annex_str filter_json, annex_buffer* out_json, annex_buffer* err);
} annex_directory_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.blobs" v1 (since ABI 1.3): receipts and other files, by the SHA-256 of their bytes          */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_BLOBS "annex.blobs"

/* Blobs are kept in the host's database (every daemon on one PostgreSQL shares them), each stored once however
 * often it arrives, named by the lower-case hex SHA-256 of its bytes, with the media type sniffed from them.
 * Files arrive over HTTP on upload routes (annex_route.upload_max_bytes) and leave with
 * annex_http_response.send_blob(). The store keeps no owner: a plugin records which of its records a hash belongs
 * to, and checks access to that record before it hands the blob out. */
typedef struct annex_blobs_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Appends {"sha256", "size", "media_type", "created_at"}; NOT_FOUND when the store holds no such blob. */
  annex_status (*stat)(annex_host_ctx* ctx, annex_str sha256, annex_buffer* out_json, annex_buffer* err);
  /* Appends the bytes [offset, offset + length) of the blob (fewer past its end; at most 16 MiB in one call) to
   * `out`; NOT_FOUND when the store holds no such blob. */
  annex_status (*read)(annex_host_ctx* ctx, annex_str sha256, int64_t offset, int64_t length, annex_buffer* out,
                       annex_buffer* err);
  /* Stores bytes the plugin made (a small generated file), inside `txn` when not NULL. The media type is sniffed;
   * `media_type`, when not empty, must agree with it (UNPROCESSABLE otherwise). UNPROCESSABLE past blobs.max_bytes.
   * Appends {"sha256", "size", "media_type", "created_at", "created"}. */
  annex_status (*put)(annex_host_ctx* ctx, annex_txn* txn, annex_str bytes, annex_str media_type,
                      annex_buffer* out_json, annex_buffer* err);
} annex_blobs_v1;
/* Service "annex.documents" v1 (since ABI 1.3): business documents through the sync engine                   */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_DOCUMENTS "annex.documents"

/* A document stream is a stream of a sync connection whose configuration names the plugin that owns it instead
 * of a master-data entity ("sync.connections.<c>.streams.<s>": {"documents": "<plugin id>", "direction": "push"
 * or "pull", …}). The engine moves its documents with the same retries, backoff, circuit breaker, dead letters,
 * replay, dry run and run history as master data; only the owning plugin may use it.
 *
 *   push: the plugin enqueues documents (a journal entry …) inside its own transaction: an outbox. Each is sent to
 *         the connector with its key as the idempotency key, so a document is delivered once by its key even when
 *         a send is repeated after a crash. The plugin learns each document's outcome — delivered (with the
 *         remote's id) or dead-lettered (with the remote's reason) — from status() or an outcome handler.
 *   pull: the engine reads the remote stream's pages after the stored cursor and hands each document to the
 *         plugin's handler, in order; the cursor advances only once the handler has taken the whole page. Delivery
 *         is at least once: the handler must be idempotent (keyed by the document's key).
 */

/* One document as handed to a plugin. All strings borrowed for the duration of the handler call. */
typedef struct annex_document {
  uint32_t struct_size;
  annex_str connection;
  annex_str stream;
  annex_str key;           /* the document's key: the one it was enqueued with, or the pull stream's remote_id */
  annex_str document_json; /* pull: the remote's document; outcome handler: the status object (see status()) */
} annex_document;

/* A document handler. Return ANNEX_OK once the document is taken (committed). For a pull, UNPROCESSABLE or
 * INVALID_ARGUMENT refuses this one document: it becomes a dead letter with the message and the page goes on;
 * any other status stops the run, the cursor stays where it was, and the page is delivered again later. For an
 * outcome, any status other than OK makes the host tell the outcome again later. */
typedef annex_status (*annex_document_handler)(void* handler_plugin_ptr, const annex_document* document,
                                               annex_buffer* err);

typedef struct annex_documents_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* Queues `document_json` (a JSON object) for the push document stream `stream` of `connection`, under `key`
   * (1 to 200 characters, unique within the stream), inside `txn` when not NULL so that it leaves only if the
   * plugin's change commits. Enqueuing a key already queued (or delivered) is a no-op returning OK.
   * PERMISSION_DENIED unless the stream's documents belong to the calling plugin; NOT_FOUND for an unknown
   * connection or stream; UNPROCESSABLE (with the field at fault) for a pull stream, an empty key or a document
   * that is not a JSON object. */
  annex_status (*enqueue)(annex_host_ctx* ctx, annex_txn* txn, annex_str connection, annex_str stream, annex_str key,
                          annex_str document_json, annex_buffer* err);
  /* Appends the state of the document with this key:
   *   {"connection", "stream", "key", "state": "pending"|"delivered"|"dead", "remote_id": the remote's id or null,
   *    "outcome": "created"|"updated"|"unchanged" (what the remote did) or null, "reason": why the remote refused
   *    it or null, "attempts", "last_error": the last failed send or null, "created_at", "delivered_at"}.
   * NOT_FOUND naming no field when no document has this key (naming "connection" or "stream" when that is
   * unknown); PERMISSION_DENIED for another plugin's stream. */
  annex_status (*status)(annex_host_ctx* ctx, annex_str connection, annex_str stream, annex_str key,
                         annex_buffer* out_json, annex_buffer* err);
  /* Takes the documents of the pull document stream `stream` until the plugin stops: `handler` gets each
   * document in the remote's order. PERMISSION_DENIED for another plugin's stream; CONFLICT when already taken. */
  annex_status (*subscribe)(annex_host_ctx* ctx, annex_str connection, annex_str stream, annex_document_handler handler,
                            void* handler_plugin_ptr, annex_buffer* err);
  /* Hears the outcome of each document of the push document stream `stream` once it is final (delivered or
   * dead-lettered), as its status() object in document_json, at least once and in the order the outcomes were
   * recorded; a replayed dead letter is heard of again when it is delivered. Outcomes recorded while the plugin
   * was not running are told when it is. */
  annex_status (*on_outcome)(annex_host_ctx* ctx, annex_str connection, annex_str stream, annex_document_handler handler,
                             void* handler_plugin_ptr, annex_buffer* err);
} annex_documents_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Service "annex.calendar" v1 (since ABI 1.4): working days and the host clock, in the company's time zone     */
/* ---------------------------------------------------------------------------------------------------------- */

#define ANNEX_SERVICE_CALENDAR "annex.calendar"

/* A date crosses as a day number: days since 1970-01-01 (std::chrono::sys_days' count), naming a local date of the
 * company's time zone (calendar.time_zone). An instant crosses as seconds since 1970-01-01T00:00:00Z. A working
 * day is a make-up working day (calendar.years.<y>.working_days), or a day that is neither a holiday nor a weekend
 * day. "Now" is the host clock, which a test may move (calendar.test_clock_file): ask it, never the system clock.
 * INVALID_ARGUMENT for a date outside years 0001–9999. */
typedef struct annex_calendar_v1 {
  uint32_t struct_size;
  uint32_t minor;
  /* *out_working = 1 when `day` is a working day, 0 when not. */
  annex_status (*is_working_day)(annex_host_ctx* ctx, int32_t day, int32_t* out_working, annex_buffer* err);
  /* *out_day = the n-th (1-based) working day of `month` (1–12) of `year`. NOT_FOUND when the month has fewer. */
  annex_status (*nth_working_day)(annex_host_ctx* ctx, int32_t year, int32_t month, int32_t n, int32_t* out_day,
                                  annex_buffer* err);
  /* *out_count = the working days d with from <= d < to (negated when to < from). */
  annex_status (*working_days_between)(annex_host_ctx* ctx, int32_t from, int32_t to, int32_t* out_count,
                                       annex_buffer* err);
  /* *out_day = today's date in the company's time zone. */
  annex_status (*today)(annex_host_ctx* ctx, int32_t* out_day, annex_buffer* err);
  /* *out_instant = now; *out_utc_offset_seconds = the company's offset from UTC at that instant (+28800 for UTC+8).
   * Either pointer may be NULL. */
  annex_status (*now)(annex_host_ctx* ctx, int64_t* out_instant, int32_t* out_utc_offset_seconds, annex_buffer* err);
  /* *out_instant = the instant the local date `day` begins (the company's midnight): a month that ends on day D
   * ends at midnight(D + 1). */
  annex_status (*midnight)(annex_host_ctx* ctx, int32_t day, int64_t* out_instant, annex_buffer* err);
  /* Appends the calendar of `year` as JSON, the body of GET /api/v1/calendar?year=: {"year", "time_zone",
   * "weekend": ["saturday", "sunday"], "holidays": [{"date", "name"}], "working_days": [{"date", "weekday"}],
   * "months": [{"month", "working_days", "first_working_day", "last_working_day"}], "working_days_in_year",
   * "today"}. */
  annex_status (*year_json)(annex_host_ctx* ctx, int32_t year, annex_buffer* out_json, annex_buffer* err);
} annex_calendar_v1;

/* ---------------------------------------------------------------------------------------------------------- */
/* The plugin descriptor                                                                                      */
/* ---------------------------------------------------------------------------------------------------------- */

typedef enum annex_plugin_kind {
  ANNEX_KIND_CAPABILITY = 1, /* adds business capability: routes, tables, jobs */
  ANNEX_KIND_CONNECTOR = 2   /* moves data between Annex and an outside system */
} annex_plugin_kind;

/* Returned by annex_plugin_query_v1(). Pure data, static, readable before any of the plugin's code runs.
 *
 * `manifest_json` is a UTF-8 JSON object:
 *   {
 *     "name": "Hello",                         human name
 *     "description": "…",
 *     "requires": {"org.example.other": ">=1.2.0 <2.0.0"},   other plugins and semver ranges
 *     "uses": ["annex.db@1", "annex.http@1"],  services (the host's, or another plugin's) and their major versions
 *     "provides": ["org.example.widgets@1"],   services this plugin offers (since ABI 1.3; see provide_service);
 *                                              names outside the host's "annex." namespace
 *     "config_schema": { JSON Schema subset: type, properties, required, default, enum, minimum, maximum,
 *                        minLength, maxLength, items }
 *   }
 */
typedef struct annex_plugin_descriptor {
  uint32_t struct_size;
  uint16_t abi_major;        /* ANNEX_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor;        /* ANNEX_ABI_MINOR the plugin was built with */
  const char* id;            /* reverse-DNS id, e.g. "org.annex.hello" */
  const char* version;       /* semantic version, e.g. "1.0.0" */
  int32_t kind;              /* annex_plugin_kind */
  const char* manifest_json; /* see above */
  const annex_migration* migrations; /* static array, may be NULL */
  size_t migration_count;

  /* Creates the instance with its validated configuration (JSON). Must not start threads or register anything.
   * On success stores the instance in *out_plugin_ptr. */
  annex_status (*create)(const annex_host_api* host, annex_str config_json, annex_plugin** out_plugin_ptr,
                         annex_buffer* err);
  /* Registers routes, subscriptions and jobs through the services. Called once, after the plugin's migrations
   * are applied and after every plugin it requires has started. */
  annex_status (*on_register)(annex_plugin* plugin, annex_buffer* err);
  /* Begins work (threads, connections). Routes answer from the moment start() returns OK. */
  annex_status (*start)(annex_plugin* plugin, annex_buffer* err);
  /* Ends work; called in the reverse of start-up order. Before calling it the host withdraws the plugin's
   * routes, subscriptions and jobs and waits for the calls already inside them, so stop() never races a
   * handler. */
  annex_status (*stop)(annex_plugin* plugin, annex_buffer* err);
  /* Frees the instance. The library itself is never unloaded. */
  void (*destroy)(annex_plugin* plugin);
} annex_plugin_descriptor;

typedef const annex_plugin_descriptor* (*annex_plugin_query_fn)(void);

/* ---------------------------------------------------------------------------------------------------------- */
/* Threads, transactions and blocking                                                                         */
/* ---------------------------------------------------------------------------------------------------------- */

/* What runs where, and what a plugin may rely on:
 *
 *   - Lifecycle. create, on_register, start, stop and destroy run one at a time on the host's start-up or
 *     shutdown thread, never concurrently with each other. From the moment start() returns OK until stop() is
 *     called, the callbacks below may run; before stop() the host withdraws them and waits for the calls in
 *     progress, so stop() and destroy() race none of them.
 *   - Route handlers run concurrently, on many HTTP worker threads at once (http.threads), with each other and
 *     with the plugin's jobs and event handlers. Anything a plugin shares between handlers needs its own lock.
 *   - Event handlers of a plugin run on that plugin's own delivery thread, which serves its subscriptions in
 *     turn: one event at a time per subscription, in sequence order, never overlapping another event handler of
 *     the same plugin — but concurrently with other plugins' event handlers, with route handlers and with jobs.
 *     A handler that blocks delays the plugin's own events only. A handler that keeps failing is retried with a
 *     backoff and, after events.park_after_failures failures in a row, parked: tried again only every
 *     events.parked_retry_s, or when an administrator resumes it; its backlog is kept and shown (GET
 *     /api/v1/plugins, /metrics), never skipped.
 *   - Jobs run on a small pool of worker threads (two) shared with the host's own jobs (sync, audit
 *     checkpoints). A job never overlaps itself; two different jobs, even of one plugin, may run at once. A job
 *     that blocks holds one of those workers.
 *   - A transaction (annex_txn) belongs to the thread that began it: use it, commit it or roll it back on that
 *     thread only, and before the callback that began it returns (never keep one across calls). While a thread
 *     holds a transaction, every database use on that thread — autocommit query() calls with txn NULL, and host
 *     services that touch the database (annex.authz, annex.audit, annex.masterdata …) — runs on the same
 *     connection, inside that transaction; pass the txn where a function takes one so that intent is explicit.
 *     A thread holds at most one pooled connection, so nested use never waits for a second one. A transaction
 *     begun while the thread already has one open is a savepoint of it: its commit releases the savepoint (the
 *     outermost commit makes it durable), its rollback undoes only its own work. Transactions on one thread end
 *     in the reverse order they began; committing an outer one while an inner is open fails with
 *     ANNEX_ERR_INVALID_ARGUMENT.
 *   - Waiting for a pooled connection is bounded (database.acquire_timeout_ms); past it the call fails with
 *     ANNEX_ERR_UNAVAILABLE, which a route handler returning it answers as 503.
 *   - What a job or event handler may block on: the database (bounded as above) and its own I/O with a timeout
 *     (a remote system). It must not wait for an event to be delivered to itself (its delivery thread may be the
 *     thread it runs on), for another job to finish (annex.jobs trigger() only queues a run), or for an HTTP request to this
 *     host; and it should not sleep for long: work in slices and let the schedule bring it back.
 *   - Host functions (get_service, the request accessors, every service function, set_error_field) may be
 *     called from any of these threads; none throws or unwinds into plugin code.
 *
 * Who acts: route handlers pass the request's principal (annex_http_request.principal->id) to annex.authz,
 * annex.audit and annex.masterdata. A job or event handler acts for no user: it passes an empty principal_id to
 * annex.audit append(), and the host records the plugin's own id (e.g. "org.annex.hello") as the principal of
 * the entry — never a user's id it happens to know. */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ANNEX_PLUGIN_H */

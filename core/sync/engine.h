// The sync engine: keeps master data in step with outside systems through connectors (annex.connectors@1).
//
// Connections are configuration ("sync.connections"): a connector, its settings, secrets by reference
// ("env:NAME" or "file:PATH", resolved when the connection opens and never logged), retry and circuit-breaker
// limits, and streams. A stream ties a remote stream to a master-data entity, with a direction (pull, push or
// both), the mapping (mapping.h), and per field which side is the system of record.
//
//   pull: pages are read after the stored cursor; each page's records and the cursor advance commit in one
//         transaction, so a run that fails resumes where the last page ended — nothing lost, nothing twice.
//         A record that cannot be mapped or stored is parked as a dead letter with the reason; the rest go on.
//   push: changes to master data queue outbox rows in their own transaction; a push sends the current state of
//         each queued record with an idempotency key, binds the remote id it gets back, and marks the row sent;
//         a failed call is retried with exponential backoff and full jitter (capped), the connection's circuit
//         opens after repeated failures; records the remote refuses become dead letters.
// Every run is recorded with its counts and duration, and its progress is visible while it runs. A dry run
// reports what it would change and changes nothing.
//
// A document stream names the plugin that owns it ("documents": "<plugin id>") instead of an entity, and carries
// that plugin's business documents (annex.documents@1 in annex/plugin.h):
//   push: documents the plugin queued in its own transaction (annex_sync_documents) are sent with their key as the
//         idempotency key, so a document is delivered once by its key however often a send is repeated; each
//         keeps its outcome (delivered with the remote's id, or a dead letter with the remote's reason), which
//         the plugin hears at least once.
//   pull: pages after the stored cursor are handed to the plugin's handler; the cursor advances only once the
//         handler has taken the whole page (at least once; a document the handler refuses is a dead letter).
// For document streams a run's "created", "updated" and "unchanged" count what the remote (push) or the plugin
// (pull, "created") took, and "rejected" the dead letters.
#pragma once

#include "errors/field_error.h"
#include "masterdata/store.h"
#include "sync/mapping.h"

#include <annex/plugin.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace annex::cluster {
class Leases;
class HeldLease;
}

namespace annex::sync {

struct StreamConfig {
  std::string name;
  const masterdata::Entity* entity = nullptr;  // null for a document stream
  std::string documents;       // a document stream: the id of the plugin that owns its documents
  std::string direction;       // pull | push | both
  std::string remote_id;       // the remote field that identifies a record there (a pulled document's key)
  std::string version_field;   // the remote field holding its version or change time ("" for none)
  std::shared_ptr<Mapping> mapping;
  std::string mapping_digest;  // of the mapping and system-of-record rules: a change applies every record again
  std::string default_sor = "remote";  // system of record for fields not listed
  std::map<std::string, std::string> sor;  // Annex field → "remote" | "annex"
  uint32_t page_size = 1000;
  int schedule_s = 0;  // 0: run on demand only
  std::string sector_id;     // parties created by a pull land here…
  std::string owner_login;   // …owned by this user
  bool remote_owns(const std::string& field) const;
};

struct ConnectionConfig {
  std::string name;
  std::string connector;
  nlohmann::json settings;                  // passed to the connector, secrets merged in at open
  std::map<std::string, std::string> secrets;  // setting → "env:NAME" | "file:PATH"
  int retry_attempts = 5;
  int retry_base_ms = 200;
  int retry_max_ms = 10000;
  int breaker_failures = 5;
  int breaker_open_s = 60;
  std::map<std::string, StreamConfig> streams;
};

// Parses "sync" ({"connections": {...}}). Throws std::invalid_argument naming the key at fault.
std::map<std::string, ConnectionConfig> parse_sync_config(const std::string& json_text);

struct RunReport {
  std::string id;
  std::string connection;
  std::string stream;
  std::string direction;
  bool dry_run = false;
  std::string status;  // running | succeeded | failed (| waiting: nothing due, not recorded)
  int64_t read = 0, created = 0, updated = 0, unchanged = 0, rejected = 0;
  int64_t duration_ms = 0;
  std::string error;
  nlohmann::json diff = nlohmann::json::array();  // dry run: what would change (first 1,000)
  std::string started_at, finished_at;
  std::string daemon;       // the annexd (or annexctl) that ran it, among those on the database
  int64_t reported_ms = 0;  // when progress was last reported (steady clock)
};

struct DeadLetter {
  int64_t seq = 0;
  std::string connection, stream, direction, record, reason, created_at, replayed_at;
};

// A refusal of a plugin's use of a document stream, with the status it maps to (FieldError's).
class DocumentError : public FieldError {
 public:
  using FieldError::FieldError;
};

// A document handed to the plugin that owns its stream: a pulled document, or the outcome of a pushed one.
struct DocumentDelivery {
  std::string connection, stream, key, json;
};
// ANNEX_OK once taken; otherwise the status and why in `error`.
using DocumentHandler = std::function<annex_status(const DocumentDelivery&, std::string* error)>;

// Connector types offered by plugins, and the document handlers plugins registered; both withdrawn when their
// plugin stops.
class ConnectorRegistry {
 public:
  // "" or why it was refused.
  std::string add(const std::string& owner, const annex_connector& connector);
  void remove_owner(const std::string& owner);
  std::optional<annex_connector> find(const std::string& type) const;
  std::vector<std::string> types() const;

  // `kind` is "pull" (the documents of a pull stream) or "outcome" (the outcomes of a push stream). "" or why not.
  std::string add_document_handler(const std::string& owner, const std::string& kind, const std::string& connection,
                                   const std::string& stream, DocumentHandler handler);
  std::optional<DocumentHandler> document_handler(const std::string& kind, const std::string& connection,
                                                  const std::string& stream) const;

 private:
  struct Entry {
    std::string owner;
    std::string type;
    annex_connector table;
  };
  struct HandlerEntry {
    std::string owner;
    DocumentHandler handler;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, HandlerEntry> handlers_;  // "kind/connection/stream"
};

class SyncEngine {
 public:
  using Progress = std::function<void(const RunReport&)>;

  SyncEngine(masterdata::MasterData& md, ConnectorRegistry& registry, std::map<std::string, ConnectionConfig> connections);
  ~SyncEngine();

  const std::map<std::string, ConnectionConfig>& connections() const { return connections_; }
  // Shares runs with every process on the same database: one run per connection, stream and direction among
  // them (lease "sync:CONNECTION/STREAM/DIRECTION", renewed while it runs). A run asked for while another
  // process holds that lease waits for it up to kRunWait, then fails naming the holder. Call before any run.
  void share(cluster::Leases* leases) { leases_ = leases; }
  static constexpr int kRunWaitSeconds = 60;

  // Reaches the remote: "" when fine, else why not.
  std::string check(const std::string& connection, std::string* detail);
  // Runs one stream (or every stream of the connection when `stream` is empty) in its direction(s), or only in
  // `only_direction` ("pull" or "push") when given.
  // A scheduled run (`scheduled`) of a push with nothing due records no run: it counts an idle tick. A run asked
  // for while the pending pushes all wait for their retry answers status "waiting", saying until when.
  std::vector<RunReport> run(const std::string& connection, const std::string& stream, bool dry_run,
                             const Progress& progress = {}, const std::string& only_direction = {}, bool scheduled = false);
  // A run of `stream` ("" for every stream) of a connection asked for over the API, kept in the database until
  // the connection's job takes it — at whichever daemon runs that job.
  void ask(const std::string& connection, const std::string& stream);
  // The streams asked for on a connection since the last call (taken: asked for again, they run again).
  std::set<std::string> take_asked(const std::string& connection);
  // Scheduled pushes that found nothing due, per "connection/stream", since this daemon started.
  std::map<std::string, int64_t> idle_ticks() const;

  std::vector<RunReport> history(const std::string& connection, int limit);
  std::optional<RunReport> run_report(const std::string& run_id);
  std::vector<DeadLetter> dead_letters(const std::string& connection, bool include_replayed);
  // Applies a dead letter again (a pull record is stored; a push is queued again). "" or why it failed again.
  std::string replay(int64_t seq);
  // Compares every record of the connection's pull streams (or `stream`) with Annex, field by field:
  // {"streams": [{"stream", "compared", "matching", "only_remote": [...], "only_annex": [...],
  //               "differences": [{"remote_id", "record_id", "fields": [{"field", "annex", "remote"}]}]}]}
  // (lists capped at 1,000 each; the counts are complete). Changes nothing.
  nlohmann::json reconcile(const std::string& connection, const std::string& stream);
  // Pending outbox rows per connection and stream.
  std::map<std::string, int64_t> pending();

  // Refuses (MasterDataError, 409) a change by people or plugins to a field of record `id` that a connection the
  // record is bound to owns (its system of record): the next pull would overwrite it without a word.
  void refuse_remote_owned(soci::session& session, const masterdata::Entity& entity, const std::string& id,
                           const nlohmann::json& before, const nlohmann::json& changes);
  // Queues pushes for a changed record (MasterData's listener), inside the change's transaction.
  void enqueue(soci::session& session, const masterdata::Entity& entity, const masterdata::Change& change);

  // ---- document streams (annex.documents@1) ----
  // Queues a document of plugin `owner` on its push document stream, inside `session`'s transaction; a key already
  // queued is a no-op. Throws DocumentError (403 another plugin's stream, 404 no such stream, 422 bad input).
  void enqueue_document(soci::session& session, const std::string& owner, const std::string& connection,
                        const std::string& stream, const std::string& key, const std::string& document_json);
  // The document's state as annex.documents status() describes it; nullopt when no document has this key.
  std::optional<nlohmann::json> document_status(const std::string& owner, const std::string& connection,
                                                const std::string& stream, const std::string& key);
  // Registers the plugin's handler for its pull stream's documents ("pull") or its push stream's outcomes
  // ("outcome"). Throws DocumentError.
  void add_document_handler(const std::string& owner, const std::string& kind, const std::string& connection,
                            const std::string& stream, DocumentHandler handler);
  // Tells the owning plugin the outcomes of the stream's documents it has not heard yet (at least once).
  void notify_outcomes(const ConnectionConfig& c, const StreamConfig& s);
  // A page of a push stream's pending documents, and the body the connector's write takes.
  struct Page {
    struct Item {
      int64_t seq;
      std::string key;
      int64_t attempts;
    };
    std::vector<Item> items;
    std::string body;
  };
  Page read_documents(const ConnectionConfig& c, const StreamConfig& s, int64_t after_seq);
  std::string send_documents(const ConnectionConfig& c, const StreamConfig& s, const Page& page);
  void record_documents(const ConnectionConfig& c, const StreamConfig& s, const Page& page, const std::string& answer, RunReport& r);

 private:
  struct Open;
  Open& open(const ConnectionConfig& c);
  // A new run, recorded as running.
  RunReport begin_run(const ConnectionConfig& c, const StreamConfig& s, const char* direction, bool dry_run);
  RunReport pull(const ConnectionConfig& c, const StreamConfig& s, bool dry_run, const Progress& progress);
  RunReport push(const ConnectionConfig& c, const StreamConfig& s, bool dry_run, const Progress& progress, bool scheduled = false);
  RunReport push_documents(const ConnectionConfig& c, const StreamConfig& s, bool dry_run, const Progress& progress);
  RunReport pull_documents(const ConnectionConfig& c, const StreamConfig& s, bool dry_run, const Progress& progress);
  std::string replay_document(const ConnectionConfig& c, const StreamConfig& s, const DeadLetter& letter);
  // The document stream `stream` of `connection` owned by `owner` in `direction`; throws DocumentError.
  const StreamConfig& document_stream(const std::string& owner, const std::string& connection,
                                      const std::string& stream, const std::string& direction) const;
  // Calls `fn` with retries for UNAVAILABLE; throws std::runtime_error with the last message.
  std::string call(const ConnectionConfig& c, const char* what, const std::function<annex_status(Open&, std::string*, std::string*)>& fn);
  // Saves the run's counts and tells `progress`, at most every 200 ms (the run's end is saved apart).
  void report_progress(RunReport& r, const Progress& progress);
  void save_run(const RunReport& r, bool insert);
  // Ends a run begun at `started` (ms): succeeded when `failure` is empty, else failed with it; saves it and tells
  // `progress`.
  RunReport finish(RunReport& r, int64_t started, const Progress& progress, const std::string& failure);
  // `subject` names the record (the Annex id of a push, the remote id of a pull) so that the letter is resolved
  // once that record goes through.
  void dead_letter(soci::session& s, const ConnectionConfig& c, const StreamConfig& st, const std::string& direction,
                   const std::string& record, const std::string& reason, const std::string& subject = {});
  // The subjects of the stream's open dead letters in `direction`, and marking one resolved.
  std::set<std::string> open_letters(const ConnectionConfig& c, const StreamConfig& st, const std::string& direction);
  void resolve_letters(soci::session& s, const ConnectionConfig& c, const StreamConfig& st, const std::string& direction,
                       const std::string& subject);
  std::string owner_id_for(const StreamConfig& s);

  masterdata::MasterData& md_;
  ConnectorRegistry& registry_;
  std::map<std::string, ConnectionConfig> connections_;
  mutable std::mutex mutex_;  // guards open_, runs_ and idle_
  std::map<std::string, std::unique_ptr<Open>> open_;
  // One run at a time per connection, stream and direction: a scheduled pull and an on-demand one, or the push
  // job and a full run, queue rather than read or send the same records twice.
  std::map<std::string, std::unique_ptr<std::mutex>> runs_;
  std::mutex& run_lock(const std::string& key);
  // The lease of the stream's run in `direction` among the processes on the database (nothing when not shared);
  // throws when another process held it for kRunWaitSeconds. Taken, it marks failed a run a stopped process left
  // marked running.
  std::unique_ptr<cluster::HeldLease> hold_run(const ConnectionConfig& c, const StreamConfig& s, const char* direction);
  std::map<std::string, int64_t> idle_;
  cluster::Leases* leases_ = nullptr;
};

}  // namespace annex::sync

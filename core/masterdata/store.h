// MasterData — the generic store behind every master-data entity (entities.h): validation, upsert by natural
// key with a version that grows on every real change, reads, lists, and the bindings that tie a record to its
// counterpart in each connected system (remote id and the remote version last seen).
#pragma once

#include "errors/field_error.h"
#include "masterdata/entities.h"
#include "store/database.h"

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace annex::masterdata {

// A refusal naming the field at fault; `status` is the HTTP status it maps to (404, 409 or 422).
class MasterDataError : public FieldError {
 public:
  using FieldError::FieldError;
};

struct Change {
  std::string id;
  std::string outcome;  // created | updated | unchanged
  std::string before_json;  // "" when created
  std::string after_json;
  int64_t version = 0;
};

struct Binding {
  std::string connection;
  std::string remote_id;
  std::string remote_version;
  std::string synced_at;
};

class MasterData {
 public:
  explicit MasterData(store::Database& db, bool describe_changes = true) : db_(db), describe_(describe_changes) {}
  // A store for bulk work (a sync pull) that does not render each change's before and after as JSON.
  MasterData quiet() const { return MasterData(db_, false); }

  // Checks `in` against the entity and returns it normalised: only known fields (anything else is refused,
  // naming it), types and lengths checked, enums and money validated. With `partial`, required fields may be
  // absent (a change to an existing record). Throws MasterDataError.
  nlohmann::json normalize(const Entity& entity, const nlohmann::json& in, bool partial) const;

  // Creates the record with this natural key, or applies `record`'s fields to the existing one. `record` is
  // normalised (normalize(), complete when the record is new). A scoped entity's new record needs sector_id and
  // owner_id in `record`. Runs on `session` inside the caller's transaction.
  Change upsert(soci::session& session, const Entity& entity, const nlohmann::json& record);
  // Creates a record known not to exist yet (no lookup by key first), from a complete normalised record.
  Change insert(soci::session& session, const Entity& entity, const nlohmann::json& record);
  // Applies `changes` (normalised, partial) to the record with this id. Throws MasterDataError 404.
  Change update(soci::session& session, const Entity& entity, const std::string& id, const nlohmann::json& changes);

  // The minor units of the currency with this ISO 4217 code (-1 when not recorded), or nothing when master data
  // holds no such currency. Money is accepted only in the currencies held (seeded with ISO 4217 at install).
  std::optional<int> currency(soci::session& session, const std::string& code);

  std::optional<nlohmann::json> get(soci::session& session, const Entity& entity, const std::string& id);
  // The record and its bindings (in connection order) in one statement: what a read of one record answers.
  std::optional<nlohmann::json> get_with_bindings(soci::session& session, const Entity& entity, const std::string& id,
                                                  std::vector<Binding>* bindings);
  std::optional<nlohmann::json> find_by_key(soci::session& session, const Entity& entity, const nlohmann::json& record);
  // The first record in id order whose `field` (one of the entity's lookups) is `value`.
  std::optional<nlohmann::json> find_by_lookup(soci::session& session, const Entity& entity, const std::string& field,
                                               const std::string& value);
  // Records in id order after `after_id`, at most `limit`, among those `filter_sql` (a boolean SQL condition
  // over the table's columns, e.g. from Authorizer::list_filter) selects.
  std::vector<nlohmann::json> list(const Entity& entity, const std::string& filter_sql, const std::string& after_id,
                                   int limit);

  // Many at once, for a page of a sync: the records bound to these remote ids on `connection` (remote id →
  // record id), and, for an entity with a one-field key, the records with these key values (value → record).
  std::map<std::string, std::string> bound_records(soci::session& session, const Entity& entity,
                                                   const std::string& connection, const std::vector<std::string>& remote_ids);
  // Records by id (id → record), and this connection's bindings of them (record id → remote id and version).
  std::map<std::string, nlohmann::json> get_many(soci::session& session, const Entity& entity,
                                                 const std::vector<std::string>& ids);
  std::map<std::string, Binding> remote_ids(soci::session& session, const Entity& entity,
                                                const std::string& connection, const std::vector<std::string>& record_ids);
  std::map<std::string, nlohmann::json> find_by_keys(soci::session& session, const Entity& entity,
                                                     const std::vector<std::string>& values);

  void bind(soci::session& session, const Entity& entity, const std::string& record_id, const std::string& connection,
            const std::string& remote_id, const std::string& remote_version);
  // For a stream read whole each time (no change field): the digest of each remote record as last applied
  // (remote id → digest), so that a record read again unchanged is passed over without touching master data.
  std::map<std::string, std::string> content_digests(soci::session& session, const std::string& connection,
                                                     const std::string& stream, const std::vector<std::string>& remote_ids);
  void set_content_digest(soci::session& session, const std::string& connection, const std::string& stream,
                          const std::string& remote_id, const std::string& digest);
  // The record bound to `remote_id` on `connection`, if any.
  std::optional<std::string> bound_record(soci::session& session, const Entity& entity, const std::string& connection,
                                          const std::string& remote_id);
  std::vector<Binding> bindings(soci::session& session, const Entity& entity, const std::string& record_id);

  store::Database& database() { return db_; }

  // Called, inside the change's transaction, for every created or updated record changed by people or
  // plugins (not by a pull): the sync engine queues pushes here, so that the change and its outbox row commit
  // together.
  using Listener = std::function<void(soci::session&, const Entity&, const Change&)>;
  void set_listener(Listener listener) { listener_ = std::move(listener); }
  void changed(soci::session& session, const Entity& entity, const Change& change) {
    if (listener_ && change.outcome != "unchanged") listener_(session, entity, change);
  }
  // Called before people or plugins change record `id` with `changes` (normalised): throws MasterDataError (409)
  // for a field another system is the system of record of — the sync engine refuses what its next pull would
  // overwrite.
  using Guard = std::function<void(soci::session&, const Entity&, const std::string& id, const nlohmann::json& before,
                                   const nlohmann::json& changes)>;
  void set_guard(Guard guard) { guard_ = std::move(guard); }
  void guard(soci::session& session, const Entity& entity, const std::string& id, const nlohmann::json& before,
             const nlohmann::json& changes) {
    if (guard_) guard_(session, entity, id, before, changes);
  }

 private:
  // Refuses, naming the field, money (or an exchange rate) in `fields` whose currency master data does not hold.
  void check_currencies(soci::session& session, const Entity& entity, const nlohmann::json& fields);

  store::Database& db_;
  bool describe_ = true;
  Listener listener_;
  Guard guard_;
};

// The columns of an entity's table that hold its fields, in field order (money fields take two).
std::vector<std::string> field_columns(const Entity& entity);

}  // namespace annex::masterdata

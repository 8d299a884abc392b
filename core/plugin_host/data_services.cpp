// The master-data host service, "annex.masterdata".
#include "audit/audit_log.h"
#include "auth/access.h"
#include "masterdata/store.h"
#include "plugin_host/service_support.h"
#include "store/transaction.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace annex::plugin_host {
namespace {

using nlohmann::json;

const masterdata::Entity* entity_of(annex_str name, annex_buffer* err) {
  return shielded<const masterdata::Entity*>(nullptr, [&] {
    const masterdata::Entity* e = masterdata::find_entity(std::string(view(name)));
    if (e == nullptr) put(err, "no master-data entity " + std::string(view(name)));
    return e;
  });
}

// The record, or nothing when it is missing or out of `user_id`'s reach.
std::optional<json> visible(annex_host_ctx* ctx, const masterdata::Entity& e, std::optional<json> record, annex_str user_id) {
  if (!record || !e.scoped || view(user_id).empty()) return record;
  auth::Authorizer* a = ctx->host->parts().authorizer;
  auth::ObjectRef ref{e.object_type, (*record)["id"].get<std::string>(), (*record)["sector_id"].get<std::string>(),
                      (*record)["owner_id"].get<std::string>()};
  if (a == nullptr || !a->may(std::string(view(user_id)), e.read_permission(), ref)) return std::nullopt;
  return record;
}

template <typename Fn>
annex_status with_store(annex_host_ctx* ctx, annex_buffer* err, Fn&& fn) {
  masterdata::MasterData* md = ctx == nullptr ? nullptr : ctx->host->parts().masterdata;
  if (md == nullptr) {
    put(err, "this host keeps no master data");
    return ANNEX_ERR_UNSUPPORTED;
  }
  return guarded(err, [&]() -> annex_status { return fn(*md); });
}

annex_status md_get(annex_host_ctx* ctx, annex_str entity, annex_str id, annex_str user_id, annex_buffer* out,
                    annex_buffer* err) {
  const masterdata::Entity* e = entity_of(entity, err);
  if (e == nullptr) return ANNEX_ERR_NOT_FOUND;
  return with_store(ctx, err, [&](masterdata::MasterData& md) {
    store::Lease lease(md.database());
    auto record = visible(ctx, *e, md.get(lease.session(), *e, std::string(view(id))), user_id);
    if (!record) {
      put(err, "no such " + e->name + " record");
      return ANNEX_ERR_NOT_FOUND;
    }
    put(out, record->dump());
    return ANNEX_OK;
  });
}

annex_status md_find(annex_host_ctx* ctx, annex_str entity, annex_str key_json, annex_str user_id, annex_buffer* out,
                     annex_buffer* err) {
  const masterdata::Entity* e = entity_of(entity, err);
  if (e == nullptr) return ANNEX_ERR_NOT_FOUND;
  json key = json::parse(view(key_json), nullptr, false);
  if (!key.is_object()) {
    put(err, "find: the key is a JSON object such as {\"code\": \"C001\"}");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  return with_store(ctx, err, [&](masterdata::MasterData& md) {
    store::Lease lease(md.database());
    // By the natural key, or by one of the entity's lookups ({"user_id": …} finds a user's employee record).
    std::optional<json> found;
    if (key.size() == 1 && std::find(e->lookups.begin(), e->lookups.end(), key.begin().key()) != e->lookups.end() &&
        key.begin()->is_string()) {
      found = md.find_by_lookup(lease.session(), *e, key.begin().key(), key.begin()->get<std::string>());
    } else {
      found = md.find_by_key(lease.session(), *e, key);
    }
    auto record = visible(ctx, *e, std::move(found), user_id);
    if (!record) {
      put(err, "no such " + e->name + " record");
      return ANNEX_ERR_NOT_FOUND;
    }
    put(out, record->dump());
    return ANNEX_OK;
  });
}

annex_status md_upsert(annex_host_ctx* ctx, annex_txn* txn, annex_str entity, annex_str record_json, annex_str actor_id,
                       annex_buffer* out, annex_buffer* err) {
  const masterdata::Entity* e = entity_of(entity, err);
  if (e == nullptr) return ANNEX_ERR_NOT_FOUND;
  json record = json::parse(view(record_json), nullptr, false);
  if (!record.is_object()) {
    put(err, "upsert: the record is a JSON object");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  return with_store(ctx, err, [&](masterdata::MasterData& md) {
    std::string problem;
    soci::session* pinned = txn_session(txn, ctx, &problem);
    if (!problem.empty()) throw std::invalid_argument("upsert: " + problem);
    std::optional<store::Lease> lease;
    std::optional<store::ScopedTransaction> own;
    if (pinned == nullptr) {
      lease.emplace(md.database());
      own.emplace(lease->session(), md.database().dialect());
    }
    soci::session& s = pinned != nullptr ? *pinned : lease->session();
    std::optional<json> before = md.find_by_key(s, *e, record);
    json normalized = md.normalize(*e, record, before.has_value());
    auth::Authorizer* a = ctx->host->parts().authorizer;
    if (e->scoped && !before && a != nullptr && normalized.contains("sector_id") &&
        !a->store().find_sector(normalized["sector_id"].get<std::string>())) {
      throw auth::IdentityError("sector_id", "no sector " + normalized["sector_id"].get<std::string>() + " exists", 422);
    }
    // A plugin changes what people may change: not a field another system is the system of record of.
    if (before) md.guard(s, *e, (*before)["id"].get<std::string>(), *before, normalized);
    masterdata::Change c = md.upsert(s, *e, normalized);
    if (c.outcome != "unchanged") {
      std::string actor(view(actor_id));
      if (audit::AuditLog* log = ctx->host->parts().audit) {
        log->append(s, {actor.empty() ? ctx->record->module.id : actor, "masterdata." + e->name + "." + (c.outcome == "created" ? "create" : "update"),
                        e->object_type, c.id, c.before_json, c.after_json});
      }
      md.changed(s, *e, c);
    }
    if (own) own->commit();
    put(out, json({{"id", c.id}, {"outcome", c.outcome}, {"version", c.version}}).dump());
    return ANNEX_OK;
  });
}

annex_status md_currency(annex_host_ctx* ctx, annex_str code, int32_t* minor_units, annex_buffer* err) {
  if (minor_units == nullptr) {
    put(err, "currency: null output");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  return with_store(ctx, err, [&](masterdata::MasterData& md) {
    store::Lease lease(md.database());
    std::optional<int> found = md.currency(lease.session(), std::string(view(code)));
    if (!found) {
      put(err, "no currency " + std::string(view(code)) + " in master data");
      return ANNEX_ERR_NOT_FOUND;
    }
    *minor_units = *found;
    return ANNEX_OK;
  });
}

const annex_masterdata_v1 kMasterData = {sizeof(annex_masterdata_v1), 1, &md_get, &md_find, &md_upsert, &md_currency};

}  // namespace

const annex_masterdata_v1& masterdata_v1() { return kMasterData; }

}  // namespace annex::plugin_host

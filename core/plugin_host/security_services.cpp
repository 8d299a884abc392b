// The security host services: "annex.authz" (object-level access) and "annex.audit" (the tamper-evident log).
#include "approvals/approvals.h"
#include "audit/audit_log.h"
#include "audit/evidence_pack.h"
#include "auth/access.h"
#include "plugin_host/service_support.h"
#include "sync/engine.h"

namespace annex::plugin_host {
namespace {

auth::Authorizer* authorizer_of(annex_host_ctx* ctx, annex_buffer* err) {
  auth::Authorizer* a = ctx == nullptr ? nullptr : ctx->host->parts().authorizer;
  if (a == nullptr) put(err, "this host has no authorisation service");
  return a;
}

auth::ObjectRef object_of(const annex_object_ref* o) {
  return auth::ObjectRef{std::string(view(o->type)), std::string(view(o->id)), std::string(view(o->sector_id)),
                         std::string(view(o->owner_id))};
}

// ---- annex.authz -------------------------------------------------------------------------------------------

annex_status authz_check(annex_host_ctx* ctx, annex_str user_id, annex_str permission, const annex_object_ref* object,
                         int32_t* out_allowed, annex_buffer* err) {
  if (out_allowed == nullptr || object == nullptr || !ANNEX_HAS_FIELD(object, annex_object_ref, owner_id)) {
    put(err, "check: null object or output");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  *out_allowed = 0;
  auth::Authorizer* a = authorizer_of(ctx, err);
  if (a == nullptr) return ANNEX_ERR_UNSUPPORTED;
  return guarded(err, [&] {
    *out_allowed = a->may(std::string(view(user_id)), view(permission), object_of(object)) ? 1 : 0;
    return ANNEX_OK;
  });
}

annex_status authz_list_filter(annex_host_ctx* ctx, annex_str user_id, annex_str permission, annex_str object_type,
                               annex_str sector_column, annex_str owner_column, annex_str id_column,
                               annex_buffer* out_sql, annex_buffer* err) {
  auth::Authorizer* a = authorizer_of(ctx, err);
  if (a == nullptr) return ANNEX_ERR_UNSUPPORTED;
  return guarded(err, [&] {
    put(out_sql, a->list_filter(std::string(view(user_id)), view(permission), std::string(view(object_type)),
                                view(sector_column), view(owner_column), view(id_column)));
    return ANNEX_OK;
  });
}

annex_status authz_home_sector(annex_host_ctx* ctx, annex_str user_id, annex_buffer* out, annex_buffer* err) {
  auth::Authorizer* a = authorizer_of(ctx, err);
  if (a == nullptr) return ANNEX_ERR_UNSUPPORTED;
  return guarded(err, [&] {
    auto access = a->access_of(std::string(view(user_id)));
    if (!access || access->sectors.empty()) {
      put(err, "the user belongs to no sector");
      return ANNEX_ERR_NOT_FOUND;
    }
    put(out, access->sectors.front());
    return ANNEX_OK;
  });
}

annex_status authz_grant(annex_host_ctx* ctx, annex_txn* txn, annex_str object_type, annex_str object_id,
                         annex_str user_id, annex_str granted_by, annex_buffer* err) {
  auth::Authorizer* a = authorizer_of(ctx, err);
  if (a == nullptr) return ANNEX_ERR_UNSUPPORTED;
  return guarded(err, [&] {
    std::string problem;
    soci::session* session = txn_session(txn, ctx, &problem);
    if (!problem.empty()) throw std::invalid_argument("grant: " + problem);
    if (view(object_type).empty() || view(object_id).empty()) throw std::invalid_argument("grant: object type and id are required");
    store::Database& db = *ctx->host->parts().db;
    auto run = [&](auth::IdentityStore& ids) {
      ids.grant(std::string(view(object_type)), std::string(view(object_id)), std::string(view(user_id)),
                std::string(view(granted_by)));
    };
    try {
      if (session != nullptr) {
        auth::IdentityStore ids(db, *session);
        run(ids);
      } else {
        run(a->store());
      }
    } catch (const auth::IdentityError& e) {
      put(err, e.what());
      return ANNEX_ERR_NOT_FOUND;
    }
    a->forget();
    return ANNEX_OK;
  });
}

annex_status authz_revoke(annex_host_ctx* ctx, annex_txn* txn, annex_str object_type, annex_str object_id,
                          annex_str user_id, annex_buffer* err) {
  auth::Authorizer* a = authorizer_of(ctx, err);
  if (a == nullptr) return ANNEX_ERR_UNSUPPORTED;
  return guarded(err, [&] {
    std::string problem;
    soci::session* session = txn_session(txn, ctx, &problem);
    if (!problem.empty()) throw std::invalid_argument("revoke: " + problem);
    store::Database& db = *ctx->host->parts().db;
    std::optional<auth::IdentityStore> pinned;
    if (session != nullptr) pinned.emplace(db, *session);
    auth::IdentityStore& ids = pinned ? *pinned : a->store();
    if (!ids.revoke_grant(std::string(view(object_type)), std::string(view(object_id)), std::string(view(user_id)))) {
      put(err, "revoke: no such assignment");
      return ANNEX_ERR_NOT_FOUND;
    }
    a->forget();
    return ANNEX_OK;
  });
}

const annex_authz_v1 kAuthz = {sizeof(annex_authz_v1), 0,          &authz_check, &authz_list_filter,
                               &authz_home_sector,     &authz_grant, &authz_revoke};

// ---- annex.audit -------------------------------------------------------------------------------------------

annex_status audit_append(annex_host_ctx* ctx, annex_txn* txn, annex_str principal_id, annex_str action,
                          annex_str object_type, annex_str object_id, annex_str before_json, annex_str after_json,
                          int64_t* out_seq, annex_buffer* err) {
  audit::AuditLog* log = ctx == nullptr ? nullptr : ctx->host->parts().audit;
  if (log == nullptr) {
    put(err, "append: this host keeps no audit log");
    return ANNEX_ERR_UNSUPPORTED;
  }
  return guarded(err, [&] {
    std::string problem;
    soci::session* session = txn_session(txn, ctx, &problem);
    if (!problem.empty()) throw std::invalid_argument("append: " + problem);
    audit::Change change{std::string(view(principal_id)), std::string(view(action)), std::string(view(object_type)),
                         std::string(view(object_id)),    std::string(view(before_json)), std::string(view(after_json))};
    if (change.principal.empty()) change.principal = ctx->record->module.id;
    audit::Entry e = session != nullptr ? log->append(*session, change) : log->append(change);
    if (out_seq != nullptr) *out_seq = e.seq;
    return ANNEX_OK;
  });
}

annex_status audit_evidence_pack(annex_host_ctx* ctx, annex_str principal_id, annex_str title, annex_str objects_json,
                                 annex_str documents_json, annex_buffer* out_zip, annex_buffer* err) {
  audit::AuditLog* log = ctx == nullptr ? nullptr : ctx->host->parts().audit;
  if (log == nullptr || log->signer() == nullptr) {
    put(err, "evidence_pack: this host signs no audit checkpoints");
    return ANNEX_ERR_UNSUPPORTED;
  }
  return guarded(err, [&] {
    audit::PackRequest request{std::string(view(principal_id)), std::string(view(title)),
                               audit::parse_objects(view(objects_json)), audit::parse_documents(view(documents_json))};
    if (request.principal.empty()) request.principal = ctx->record->module.id;
    audit::Pack pack = audit::build_evidence_pack(*log, request);
    put(out_zip, pack.bytes);
    return ANNEX_OK;
  });
}

const annex_audit_v1 kAudit = {sizeof(annex_audit_v1), 1, &audit_append, &audit_evidence_pack};

// ---- annex.directory ---------------------------------------------------------------------------------------

nlohmann::json user_json(auth::IdentityStore& ids, const auth::User& u) {
  nlohmann::json roles = nlohmann::json::array();
  for (const auto& r : ids.roles_of(u.id)) roles.push_back({{"role", r.role}, {"sector_id", r.sector_id}});
  return {{"id", u.id}, {"login", u.login}, {"display_name", u.display_name}, {"status", u.status},
          {"sectors", ids.sectors_of(u.id)}, {"roles", roles}};
}

annex_status directory_user(annex_host_ctx* ctx, annex_str user_id, annex_buffer* out, annex_buffer* err) {
  auth::Authorizer* a = authorizer_of(ctx, err);
  if (a == nullptr) return ANNEX_ERR_UNSUPPORTED;
  return guarded(err, [&] {
    std::optional<auth::User> u = a->store().find(std::string(view(user_id)));
    if (!u) {
      put(err, "no user " + std::string(view(user_id)));
      return ANNEX_ERR_NOT_FOUND;
    }
    put(out, user_json(a->store(), *u).dump());
    return ANNEX_OK;
  });
}

annex_status directory_users(annex_host_ctx* ctx, annex_str filter_json, annex_buffer* out, annex_buffer* err) {
  auth::Authorizer* a = authorizer_of(ctx, err);
  if (a == nullptr) return ANNEX_ERR_UNSUPPORTED;
  return guarded(err, [&] {
    nlohmann::json filter = view(filter_json).empty() ? nlohmann::json::object() : nlohmann::json::parse(view(filter_json), nullptr, false);
    if (!filter.is_object()) throw std::invalid_argument("users: the filter is a JSON object");
    std::string status = filter.value("status", std::string{}), sector = filter.value("sector_id", std::string{});
    nlohmann::json items = nlohmann::json::array();
    for (const auto& u : a->store().users()) {
      if (!status.empty() && u.status != status) continue;
      nlohmann::json j = user_json(a->store(), u);
      if (!sector.empty() && std::find(j["sectors"].begin(), j["sectors"].end(), sector) == j["sectors"].end()) continue;
      items.push_back(std::move(j));
    }
    put(out, nlohmann::json({{"items", items}}).dump());
    return ANNEX_OK;
  });
}

const annex_directory_v1 kDirectory = {sizeof(annex_directory_v1), 0, &directory_user, &directory_users};

// ---- annex.approvals ---------------------------------------------------------------------------------------

// Runs `fn(service, session)` with the service and the plugin's transaction; refusals become statuses (guarded).
template <typename Fn>
annex_status with_approvals(annex_host_ctx* ctx, annex_txn* txn, annex_buffer* err, Fn&& fn) {
  approvals::ApprovalService* service = ctx == nullptr ? nullptr : ctx->host->parts().approvals;
  if (service == nullptr) {
    put(err, "this host runs no approval service");
    return ANNEX_ERR_UNSUPPORTED;
  }
  return guarded(err, [&] {
    std::string problem;
    soci::session* session = txn_session(txn, ctx, &problem);
    if (!problem.empty()) throw std::invalid_argument(problem);
    fn(*service, session);
    return ANNEX_OK;
  });
}

annex_status approvals_submit(annex_host_ctx* ctx, annex_txn* txn, const annex_approval_item* item,
                              annex_buffer* out_json, annex_buffer* err) {
  if (item == nullptr || !ANNEX_HAS_FIELD(item, annex_approval_item, currency)) {
    put(err, "submit: null or short item");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  return with_approvals(ctx, txn, err, [&](approvals::ApprovalService& service, soci::session* session) {
    approvals::Submission s{std::string(view(item->chain)),     std::string(view(item->item_type)),
                            std::string(view(item->item_id)),   std::string(view(item->sector_id)),
                            std::string(view(item->submitter_id)), item->amount, std::string(view(item->currency))};
    put(out_json, approvals::approval_json(service.submit(session, s)));
  });
}

annex_status approvals_decide(annex_host_ctx* ctx, annex_txn* txn, annex_str approval_id, annex_str actor_id,
                              annex_str decision, annex_str comment, annex_str on_behalf_of, annex_buffer* out_json,
                              annex_buffer* err) {
  return with_approvals(ctx, txn, err, [&](approvals::ApprovalService& service, soci::session* session) {
    put(out_json, approvals::approval_json(service.decide(session, std::string(view(approval_id)),
                                                          std::string(view(actor_id)), std::string(view(decision)),
                                                          std::string(view(comment)), std::string(view(on_behalf_of)))));
  });
}

annex_status approvals_resubmit(annex_host_ctx* ctx, annex_txn* txn, annex_str approval_id, annex_str actor_id,
                                annex_buffer* out_json, annex_buffer* err) {
  return with_approvals(ctx, txn, err, [&](approvals::ApprovalService& service, soci::session* session) {
    put(out_json, approvals::approval_json(
                      service.resubmit(session, std::string(view(approval_id)), std::string(view(actor_id)))));
  });
}

annex_status approvals_get(annex_host_ctx* ctx, annex_str approval_id, annex_buffer* out_json, annex_buffer* err) {
  return with_approvals(ctx, nullptr, err, [&](approvals::ApprovalService& service, soci::session*) {
    std::optional<approvals::Approval> a = service.get(std::string(view(approval_id)));
    if (!a) throw approvals::ApprovalError(404, "no such approval");
    put(out_json, approvals::approval_json(*a));
  });
}

const annex_approvals_v1 kApprovals = {sizeof(annex_approvals_v1), 0, &approvals_submit, &approvals_decide,
                                       &approvals_resubmit, &approvals_get};

// ---- annex.connectors --------------------------------------------------------------------------------------

annex_status connectors_register(annex_host_ctx* ctx, const annex_connector* connector, annex_buffer* err) {
  if (ctx == nullptr || connector == nullptr || !ANNEX_HAS_FIELD(connector, annex_connector, write) ||
      connector->open == nullptr || connector->close == nullptr || connector->check == nullptr ||
      connector->discover == nullptr || connector->read == nullptr || connector->write == nullptr) {
    put(err, "register_connector: null context, or a connector without all six functions");
    return ANNEX_ERR_INVALID_ARGUMENT;
  }
  sync::ConnectorRegistry* registry = ctx->host->parts().connectors;
  if (registry == nullptr) {
    put(err, "register_connector: this host runs no sync engine");
    return ANNEX_ERR_UNSUPPORTED;
  }
  return guarded(err, [&] {
    std::string problem = registry->add(ctx->record->module.id, *connector);
    if (!problem.empty()) {
      put(err, problem);
      return ANNEX_ERR_CONFLICT;
    }
    return ANNEX_OK;
  });
}

const annex_connectors_v1 kConnectors = {sizeof(annex_connectors_v1), 0, &connectors_register};

}  // namespace

const annex_connectors_v1& connectors_v1() { return kConnectors; }
const annex_authz_v1& authz_v1() { return kAuthz; }
const annex_approvals_v1& approvals_v1() { return kApprovals; }
const annex_directory_v1& directory_v1() { return kDirectory; }
const annex_audit_v1& audit_v1() { return kAudit; }

}  // namespace annex::plugin_host

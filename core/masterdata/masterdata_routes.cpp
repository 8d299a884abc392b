#include "masterdata/masterdata_routes.h"

#include "http/api_error.h"
#include "store/transaction.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>

namespace annex::masterdata {
namespace {

using nlohmann::json;

json body_of(const http::HttpRequest& req) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) throw http::ApiError::bad_request("the body is not valid JSON", "body");
  if (!body.is_object()) throw http::ApiError::bad_request("the body must be a JSON object", "body");
  return body;
}

auth::ObjectRef ref(const Entity& e, const json& record) {
  return {e.object_type, record.value("id", std::string{}), record.value("sector_id", std::string{}),
          record.value("owner_id", std::string{})};
}

class Routes {
 public:
  Routes(MasterData& md, auth::Authorizer& authorizer, audit::AuditLog& audit)
      : md_(md), authorizer_(authorizer), audit_(audit) {}

  // The record, if the caller's `permission` reaches it; 404 otherwise.
  json reachable(soci::session& s, const http::HttpRequest& req, const Entity& e, const std::string& permission) {
    return reachable(md_.get(s, e, req.path_params.at("id")), req, e, permission);
  }
  json reachable(std::optional<json> record, const http::HttpRequest& req, const Entity& e,
                 const std::string& permission) {
    if (!record || (e.scoped && !authorizer_.may(req.principal.id, permission, ref(e, *record)))) {
      throw http::ApiError::not_found("no such " + e.name + " record");
    }
    return std::move(*record);
  }

  void list(const Entity& e, http::HttpRequest& req, http::HttpResponse& resp) {
    std::string after, limit_text;
    req.query_param("after", &after);
    int limit = 100;
    if (req.query_param("limit", &limit_text)) {
      auto [end, ec] = std::from_chars(limit_text.data(), limit_text.data() + limit_text.size(), limit);
      if (ec != std::errc() || end != limit_text.data() + limit_text.size() || limit < 1 || limit > 500) {
        throw http::ApiError::bad_request("limit must be a whole number from 1 to 500", "limit");
      }
    }
    std::string filter =
        e.scoped ? authorizer_.list_filter(req.principal.id, e.read_permission(), e.object_type, "sector_id", "owner_id", "id")
                 : std::string{};
    std::vector<json> page = md_.list(e, filter, after, limit);
    json out = {{"items", page}};
    out["next_after"] = static_cast<int>(page.size()) == limit ? json(page.back()["id"]) : json(nullptr);
    resp.body = out.dump();
  }

  void read(const Entity& e, http::HttpRequest& req, http::HttpResponse& resp) {
    std::vector<Binding> found;
    std::optional<json> row;
    {
      store::Lease lease(md_.database());
      row = md_.get_with_bindings(lease.session(), e, req.path_params.at("id"), &found);
    }
    json record = reachable(std::move(row), req, e, e.read_permission());
    json bindings = json::array();
    for (const auto& b : found) {
      bindings.push_back({{"connection", b.connection}, {"remote_id", b.remote_id},
                          {"remote_version", b.remote_version}, {"synced_at", b.synced_at}});
    }
    record["bindings"] = bindings;
    resp.body = record.dump();
  }

  void create(const Entity& e, http::HttpRequest& req, http::HttpResponse& resp) {
    json body = body_of(req);
    json record;
    try {
      record = md_.normalize(e, body, false);
    } catch (const MasterDataError& err) {
      throw http::refusal(err);
    }
    if (e.scoped) {
      if (!record.contains("sector_id")) {
        auto access = authorizer_.access_of(req.principal.id);
        if (!access || access->sectors.empty()) {
          throw http::ApiError::unprocessable("sector_id is required: you belong to no sector", "sector_id");
        }
        record["sector_id"] = access->sectors.front();
      }
      if (!record.contains("owner_id")) record["owner_id"] = req.principal.id;
      bool allowed = false;
      try {
        allowed = authorizer_.may(req.principal.id, change_permission(e), ref(e, record));
      } catch (const auth::IdentityError& no_sector) {
        throw http::refusal(no_sector);
      }
      if (!allowed) {
        throw http::ApiError(403, "forbidden", "a " + e.name + " record there is outside your reach", "sector_id");
      }
    }
    store::Lease lease(md_.database());
    store::ScopedTransaction txn(lease.session(), md_.database().dialect());
    if (md_.find_by_key(lease.session(), e, record)) {
      throw http::ApiError(409, "conflict", "a " + e.name + " record with this key exists", e.key.back());
    }
    Change c;
    try {
      c = md_.upsert(lease.session(), e, record);
    } catch (const MasterDataError& err) {
      throw http::refusal(err);
    }
    audit_.append(lease.session(), {req.principal.id, "masterdata." + e.name + ".create", e.object_type, c.id, "", c.after_json});
    md_.changed(lease.session(), e, c);
    json out = *md_.get(lease.session(), e, c.id);
    txn.commit();
    resp.status = 201;
    resp.set_header("Location", "/api/v1/masterdata/" + e.name + "/" + c.id);
    resp.body = out.dump();
  }

  void change(const Entity& e, http::HttpRequest& req, http::HttpResponse& resp) {
    json body = body_of(req);
    json changes;
    try {
      changes = md_.normalize(e, body, true);
    } catch (const MasterDataError& err) {
      throw http::refusal(err);
    }
    store::Lease lease(md_.database());
    store::ScopedTransaction txn(lease.session(), md_.database().dialect());
    json before = reachable(lease.session(), req, e, e.read_permission());
    if (e.scoped && !authorizer_.may(req.principal.id, change_permission(e), ref(e, before))) {
      throw http::ApiError(403, "forbidden", "you may read this record but not change it");
    }
    if (e.scoped && changes.contains("sector_id") && changes["sector_id"] != before["sector_id"] &&
        !authorizer_.may(req.principal.id, "records.move-sector", ref(e, before))) {
      throw http::ApiError(403, "forbidden", "moving a record to another sector needs records.move-sector", "sector_id");
    }
    if (e.scoped && changes.contains("owner_id") && changes["owner_id"] != before["owner_id"]) {
      // Handing a record to someone else (a leaver's customers, DOMAIN C8) takes reach over its sector.
      auto access = authorizer_.access_of(req.principal.id);
      if (!access ||
          !authorizer_.scope(*access, change_permission(e)).covers_sector(before["sector_id"].get<std::string>())) {
        throw http::ApiError(403, "forbidden", "handing a record to someone else needs reach over its sector", "owner_id");
      }
    }
    Change c;
    try {
      md_.guard(lease.session(), e, before["id"].get<std::string>(), before, changes);
      c = md_.update(lease.session(), e, before["id"].get<std::string>(), changes);
    } catch (const MasterDataError& err) {
      throw http::refusal(err);
    }
    if (c.outcome == "updated") {
      audit_.append(lease.session(), {req.principal.id, "masterdata." + e.name + ".update", e.object_type, c.id,
                                      c.before_json, c.after_json});
      md_.changed(lease.session(), e, c);
    }
    json out = *md_.get(lease.session(), e, c.id);
    txn.commit();
    resp.body = out.dump();
  }

 private:
  MasterData& md_;
  auth::Authorizer& authorizer_;
  audit::AuditLog& audit_;
};

}  // namespace

std::string change_permission(const Entity& entity) {
  return entity.scoped ? entity.write_permission() : "masterdata." + entity.name + ".manage";
}

void register_masterdata_routes(http::Router& router, MasterData& md, auth::Authorizer& authorizer,
                                audit::AuditLog& audit) {
  auto routes = std::make_shared<Routes>(md, authorizer, audit);
  for (const Entity& e : entities()) {
    const Entity* entity = &e;
    std::string base = "/api/v1/masterdata/" + e.name;
    http::add_route(router, "annex.core", "GET", base, e.read_permission(), "List " + e.name + " within reach",
                    [routes, entity](http::HttpRequest& req, http::HttpResponse& resp) { routes->list(*entity, req, resp); });
    http::add_route(router, "annex.core", "GET", base + "/{id}", e.read_permission(), "One " + e.name + " record and its bindings",
                    [routes, entity](http::HttpRequest& req, http::HttpResponse& resp) { routes->read(*entity, req, resp); });
    http::add_route(router, "annex.core", "POST", base, change_permission(e), "Create a " + e.name + " record",
                    [routes, entity](http::HttpRequest& req, http::HttpResponse& resp) { routes->create(*entity, req, resp); });
    http::add_route(router, "annex.core", "PATCH", base + "/{id}", change_permission(e), "Change a " + e.name + " record",
                    [routes, entity](http::HttpRequest& req, http::HttpResponse& resp) { routes->change(*entity, req, resp); });
  }
}

}  // namespace annex::masterdata

// Master data over HTTP: for each entity, list, read (with its bindings), create and change. Parties are reached
// by sector and owner like every business record; reference data needs only the entity's permission to read
// and masterdata.<entity>.manage to change. Every change is audited and queued for the connections that push it.
#pragma once

#include "audit/audit_log.h"
#include "auth/access.h"
#include "http/router.h"
#include "masterdata/store.h"

namespace annex::masterdata {

//   GET   /api/v1/masterdata/{entity}        ?after=ID&limit=N (≤ 500), in id order, within reach
//   GET   /api/v1/masterdata/{entity}/{id}   one record and its bindings (404 out of reach)
//   POST  /api/v1/masterdata/{entity}        create; parties default to the caller's home sector and ownership
//   PATCH /api/v1/masterdata/{entity}/{id}   change some fields; moving a party's sector needs records.move-sector
void register_masterdata_routes(http::Router& router, MasterData& md, auth::Authorizer& authorizer,
                                audit::AuditLog& audit);

// The permission that changes an entity: masterdata.parties.write for parties (business records),
// masterdata.<entity>.manage for reference data.
std::string change_permission(const Entity& entity);

}  // namespace annex::masterdata

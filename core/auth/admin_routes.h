// The administration API: users, sectors, memberships and role assignments (DOMAIN C1, C2, C5, C6). Every change
// is written to the audit log in the transaction that makes it, and takes effect at once (cached access is
// dropped). A caller reaches users through their own reach: a sector administrator manages the members of their
// sectors; a user outside one's reach answers 404.
#pragma once

#include "audit/audit_log.h"
#include "auth/authenticator.h"
#include "http/router.h"

namespace annex::auth {

// Permissions of the administration API. None matches "*.write", so that business roles never manage accounts.
inline constexpr const char* kUsersRead = "annex.users.read";
inline constexpr const char* kUsersManage = "annex.users.manage";
inline constexpr const char* kMembershipsManage = "annex.memberships.manage";
inline constexpr const char* kSectorsRead = "annex.sectors.read";
inline constexpr const char* kSectorsManage = "annex.sectors.manage";

// Registers, owned by "annex.core":
//   GET    /api/v1/users                         users in reach (?status=)
//   POST   /api/v1/users                         {login, display_name?, employee_number?, password?, sector_id?}
//   GET    /api/v1/users/idle?days=14            active users without a login for N days (C5)
//   GET    /api/v1/users/{id}                    one user, with sectors and roles
//   PATCH  /api/v1/users/{id}                    {display_name?, employee_number?, status?}
//   POST   /api/v1/users/{id}/roles              {role, sector_id ('*' for all)}
//   DELETE /api/v1/users/{id}/roles/{role}/{sector}
//   POST   /api/v1/users/{id}/sectors            {sector_id}
//   DELETE /api/v1/users/{id}/sectors/{sector}
//   GET    /api/v1/sectors, POST /api/v1/sectors {id, name}, PATCH /api/v1/sectors/{id} {name}
void register_admin_routes(http::Router& router, store::Database& db, Authenticator& auth, audit::AuditLog& audit);

}  // namespace annex::auth

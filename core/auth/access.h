// Authorizer — object-level access: may this user do this action on this record, and which records may they
// list? Business rows carry a sector and an owner; a user's reach comes from their role assignments:
//
//   for each assignment (role, sector) whose role grants the action's permission:
//     role reach all            → every record
//     role reach sector         → records of that sector (every sector when the assignment is '*')
//     role reach own            → records the user owns
//   and, whenever the user holds the permission at all, the records assigned to them (annex_grants).
//
// Denials are logged with the user, the action and the object. Callers answer 404 for an object out of reach,
// so that its existence is not disclosed.
#pragma once

#include "auth/identity.h"
#include "auth/roles.h"

#include <chrono>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace annex::auth {

// A business record as the authorizer sees it.
struct ObjectRef {
  std::string type;  // "hello.greeting"
  std::string id;
  std::string sector_id;
  std::string owner_id;
};

// What one user may do, resolved from their account, role assignments and memberships.
struct Access {
  struct Assignment {
    std::string role;
    const Role* definition = nullptr;  // owned by the authorizer's catalog
    std::string sector_id;             // '*' for all sectors
  };
  std::string user_id;
  std::string login;
  std::string status;
  std::vector<Assignment> assignments;
  std::vector<std::string> sectors;  // memberships, the first being the user's home sector
  // Every pattern the user's roles grant, plus kAuthenticated.
  std::shared_ptr<const std::vector<std::string>> permissions;

  bool holds(std::string_view permission) const;
};

// Where a permission reaches for one user.
struct Scope {
  bool any = false;  // the permission is held at all
  bool all = false;
  bool own = false;
  std::set<std::string> sectors;
  bool covers_sector(const std::string& sector) const { return all || sectors.count(sector) > 0; }
};

class Authorizer {
 public:
  Authorizer(IdentityStore& store, RoleCatalog roles, int cache_ms = 1000);

  // The user's access, cached for cache_ms; nullptr for an unknown user.
  std::shared_ptr<const Access> access_of(const std::string& user_id);
  Scope scope(const Access& access, std::string_view permission) const;

  // True when the user is active and `permission` reaches `object`. Logs every refusal.
  //
  // An object with an empty id is a record about to be created: its sector must exist (else IdentityError 422
  // naming "sector_id", whoever asks), and own reach covers it only in a sector the user belongs to — so
  // nobody creates records in a sector beyond their reach, for any plugin.
  bool may(const std::string& user_id, std::string_view permission, const ObjectRef& object);
  // A boolean SQL expression over the given columns that holds exactly for the rows of `object_type` the user
  // may act on with `permission`: "1 = 1", "1 = 0" or a disjunction of sector, owner and assigned-id tests.
  // Column names must be identifiers (optionally qualified); values are inlined as quoted literals.
  std::string list_filter(const std::string& user_id, std::string_view permission, const std::string& object_type,
                          std::string_view sector_column, std::string_view owner_column, std::string_view id_column);

  // Drops cached access, so that a change of roles or status takes effect at once.
  void forget();

  const RoleCatalog& roles() const { return roles_; }
  IdentityStore& store() { return store_; }

 private:
  struct Cached {
    std::shared_ptr<const Access> access;
    std::chrono::steady_clock::time_point until;
  };
  IdentityStore& store_;
  RoleCatalog roles_;
  std::chrono::milliseconds cache_ttl_;
  std::shared_mutex mutex_;
  std::unordered_map<std::string, Cached> cache_;
};

// True when `name` is a plain or dot-qualified SQL identifier.
bool is_sql_identifier(std::string_view name);
// A single-quoted SQL literal.
std::string sql_literal(std::string_view text);

}  // namespace annex::auth

// Roles are named sets of permission patterns. Code checks permissions, never role names, so an installation
// can define its own roles in configuration ("roles": {"name": ["pattern", …]}) or replace the defaults.
//
// A permission is a dotted string ("hello.greeting.read"). A pattern may use '*' for any run of characters:
// "*" grants everything, "*.read" every read permission, "expenses.*" everything of the expenses plugin.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace annex::auth {

// Held by every authenticated, active user: routes that only need to know who is asking require it.
inline constexpr const char* kAuthenticated = "annex.authenticated";

// How far a role reaches over business records (rows carrying sector_id and owner_id):
//   all    — every sector (group executives, auditors, finance, system administrators);
//   sector — the sectors of the role assignment ('*' = all), e.g. a sector head;
//   own    — the holder's own records and those assigned to them, e.g. a sales rep.
enum class Reach { kOwn = 0, kSector = 1, kAll = 2 };

const char* reach_name(Reach r);
// Parses "own" / "sector" / "all"; false for anything else.
bool parse_reach(std::string_view text, Reach* out);

struct Role {
  std::vector<std::string> patterns;
  Reach reach = Reach::kOwn;
};

class RoleCatalog {
 public:
  // The roles of DOMAIN C1 plus auditor: system-admin, group-executive, sector-head, sector-admin, sales-rep,
  // sales-clerk, finance, auditor.
  static RoleCatalog defaults();

  // Adds or replaces a role.
  void define(const std::string& role, std::vector<std::string> patterns, Reach reach);
  bool has(const std::string& role) const { return roles_.count(role) > 0; }
  const Role* find(const std::string& role) const;
  const std::vector<std::string>* patterns(const std::string& role) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Role> roles_;
};

// True when `permission` matches one of `patterns`.
bool permitted(const std::vector<std::string>& patterns, std::string_view permission);

}  // namespace annex::auth

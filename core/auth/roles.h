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

class RoleCatalog {
 public:
  // The roles of DOMAIN C1 plus auditor: system-admin, group-executive, sector-head, sector-admin, sales-rep,
  // sales-clerk, finance, auditor.
  static RoleCatalog defaults();

  // Adds or replaces a role.
  void define(const std::string& role, std::vector<std::string> patterns);
  bool has(const std::string& role) const { return roles_.count(role) > 0; }
  const std::vector<std::string>* patterns(const std::string& role) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, std::vector<std::string>> roles_;
};

// True when `permission` matches one of `patterns`.
bool permitted(const std::vector<std::string>& patterns, std::string_view permission);

}  // namespace annex::auth

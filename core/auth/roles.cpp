#include "auth/roles.h"

#include <fnmatch.h>

namespace annex::auth {

RoleCatalog RoleCatalog::defaults() {
  RoleCatalog c;
  c.define("system-admin", {"*"}, Reach::kAll);
  // Group management sees every sector, may assign "general actions" to anyone, and alone moves records
  // between sectors (DOMAIN C1, C2).
  c.define("group-executive",
           {"*.read", "*.write", "records.move-sector", "pipeline.activity.assign-any", "pipeline.records.reassign", "quotas.*"},
           Reach::kAll);
  // Hands a leaver's records to someone else in the sector (C8).
  c.define("sector-head", {"*.read", "*.write", "*.approve", "quotas.*", "pipeline.records.reassign"}, Reach::kSector);
  // Manages the users and role assignments of its sector; reads there, changes no business record.
  c.define("sector-admin", {"*.read", "annex.users.*", "annex.memberships.*"}, Reach::kSector);
  c.define("sales-rep", {"*.read", "*.write", "*.submit"}, Reach::kOwn);
  c.define("sales-clerk", {"*.read", "*.review"}, Reach::kSector);
  c.define("finance", {"*.read", "*.review", "*.approve", "finance.*"}, Reach::kAll);
  // Reads everything, the audit log included; changes nothing.
  c.define("auditor", {"*.read", "annex.audit.view", "annex.audit.verify"}, Reach::kAll);
  return c;
}

const char* reach_name(Reach r) {
  switch (r) {
    case Reach::kAll: return "all";
    case Reach::kSector: return "sector";
    default: return "own";
  }
}

bool parse_reach(std::string_view text, Reach* out) {
  if (text == "all") *out = Reach::kAll;
  else if (text == "sector") *out = Reach::kSector;
  else if (text == "own") *out = Reach::kOwn;
  else return false;
  return true;
}

void RoleCatalog::define(const std::string& role, std::vector<std::string> patterns, Reach reach) {
  roles_[role] = Role{std::move(patterns), reach};
}

const Role* RoleCatalog::find(const std::string& role) const {
  auto it = roles_.find(role);
  return it == roles_.end() ? nullptr : &it->second;
}

const std::vector<std::string>* RoleCatalog::patterns(const std::string& role) const {
  const Role* r = find(role);
  return r == nullptr ? nullptr : &r->patterns;
}

std::vector<std::string> RoleCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& [name, unused] : roles_) out.push_back(name);
  return out;
}

bool permitted(const std::vector<std::string>& patterns, std::string_view permission) {
  std::string p(permission);
  for (const auto& pattern : patterns) {
    if (pattern == p || fnmatch(pattern.c_str(), p.c_str(), 0) == 0) return true;
  }
  return false;
}

}  // namespace annex::auth

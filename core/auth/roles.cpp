#include "auth/roles.h"

#include <fnmatch.h>

namespace annex::auth {

RoleCatalog RoleCatalog::defaults() {
  RoleCatalog c;
  c.define("system-admin", {"*"});
  // Group management sees every sector, may assign "general actions" to anyone, and alone moves records
  // between sectors (DOMAIN C1, C2).
  c.define("group-executive", {"*.read", "*.write", "records.move-sector", "pipeline.activity.assign-any"});
  c.define("sector-head", {"*.read", "*.write", "*.approve", "quotas.*"});
  c.define("sector-admin", {"*.read", "annex.users.*", "annex.memberships.*"});
  c.define("sales-rep", {"*.read", "*.write", "*.submit"});
  c.define("sales-clerk", {"*.read", "*.review"});
  c.define("finance", {"*.read", "*.review", "*.approve", "finance.*"});
  c.define("auditor", {"*.read", "annex.audit.*"});
  return c;
}

void RoleCatalog::define(const std::string& role, std::vector<std::string> patterns) { roles_[role] = std::move(patterns); }

const std::vector<std::string>* RoleCatalog::patterns(const std::string& role) const {
  auto it = roles_.find(role);
  return it == roles_.end() ? nullptr : &it->second;
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

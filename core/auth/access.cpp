#include "auth/access.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>

namespace annex::auth {

bool Access::holds(std::string_view permission) const {
  return status == "active" && permissions && permitted(*permissions, permission);
}

bool is_sql_identifier(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  bool start = true;
  for (char c : name) {
    if (c == '.') {
      if (start) return false;
      start = true;
      continue;
    }
    bool letter = std::isalpha(static_cast<unsigned char>(c)) || c == '_';
    if (!letter && (start || !std::isdigit(static_cast<unsigned char>(c)))) return false;
    start = false;
  }
  return !start;
}

std::string sql_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\0') continue;
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

Authorizer::Authorizer(IdentityStore& store, RoleCatalog roles, int cache_ms)
    : store_(store), roles_(std::move(roles)), cache_ttl_(cache_ms) {}

std::shared_ptr<const Access> Authorizer::access_of(const std::string& user_id) {
  auto now = std::chrono::steady_clock::now();
  {
    std::shared_lock lock(mutex_);
    auto it = cache_.find(user_id);
    if (it != cache_.end() && it->second.until > now) return it->second.access;
  }
  std::optional<User> user = store_.find(user_id);
  if (!user) return nullptr;
  auto access = std::make_shared<Access>();
  access->user_id = user->id;
  access->login = user->login;
  access->status = user->status;
  auto permissions = std::make_shared<std::vector<std::string>>();
  permissions->push_back(kAuthenticated);
  for (const auto& a : store_.roles_of(user_id)) {
    const Role* role = roles_.find(a.role);
    if (role == nullptr) continue;  // a role no longer configured grants nothing
    access->assignments.push_back({a.role, role, a.sector_id});
    permissions->insert(permissions->end(), role->patterns.begin(), role->patterns.end());
  }
  access->permissions = std::move(permissions);
  access->sectors = store_.sectors_of(user_id);
  std::unique_lock lock(mutex_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[user_id] = Cached{access, now + cache_ttl_};
  return access;
}

Scope Authorizer::scope(const Access& access, std::string_view permission) const {
  Scope s;
  if (access.status != "active") return s;
  for (const auto& a : access.assignments) {
    if (!permitted(a.definition->patterns, permission)) continue;
    s.any = true;
    switch (a.definition->reach) {
      case Reach::kAll: s.all = true; break;
      case Reach::kSector:
        if (a.sector_id == "*") s.all = true;
        else s.sectors.insert(a.sector_id);
        break;
      case Reach::kOwn: s.own = true; break;
    }
  }
  return s;
}

bool Authorizer::may(const std::string& user_id, std::string_view permission, const ObjectRef& object) {
  const bool creating = object.id.empty();
  if (creating && (object.sector_id.empty() || object.sector_id == "*" || !store_.find_sector(object.sector_id))) {
    throw IdentityError("sector_id", "no sector " + object.sector_id + " exists", 422);
  }
  std::shared_ptr<const Access> access = access_of(user_id);
  bool allowed = false;
  if (access) {
    Scope s = scope(*access, permission);
    // A record of one's own is created only in a sector one belongs to; an existing one is reached wherever it is.
    bool own = s.own && !object.owner_id.empty() && object.owner_id == user_id &&
               (!creating || std::find(access->sectors.begin(), access->sectors.end(), object.sector_id) !=
                                 access->sectors.end());
    allowed = s.covers_sector(object.sector_id) || own ||
              (s.any && !creating && store_.has_grant(object.type, object.id, user_id));
  }
  if (!allowed) {
    spdlog::info("access denied: user {} ({}) may not {} on {} {} (sector {}, owner {})", user_id,
                 access ? access->login : "unknown", permission, object.type, object.id, object.sector_id,
                 object.owner_id);
  }
  return allowed;
}

std::string Authorizer::list_filter(const std::string& user_id, std::string_view permission,
                                    const std::string& object_type, std::string_view sector_column,
                                    std::string_view owner_column, std::string_view id_column) {
  for (std::string_view column : {sector_column, owner_column, id_column}) {
    if (!is_sql_identifier(column)) throw std::invalid_argument("not a column name: " + std::string(column));
  }
  std::shared_ptr<const Access> access = access_of(user_id);
  if (!access) return "1 = 0";
  Scope s = scope(*access, permission);
  if (s.all) return "1 = 1";
  std::vector<std::string> terms;
  if (!s.sectors.empty()) {
    std::string in;
    for (const auto& sector : s.sectors) in += (in.empty() ? "" : ", ") + sql_literal(sector);
    terms.push_back(std::string(sector_column) + " IN (" + in + ")");
  }
  if (s.own) terms.push_back(std::string(owner_column) + " = " + sql_literal(user_id));
  if (s.any) {
    std::vector<std::string> ids = store_.granted_ids(object_type, user_id);
    if (!ids.empty()) {
      std::string in;
      for (const auto& id : ids) in += (in.empty() ? "" : ", ") + sql_literal(id);
      terms.push_back("CAST(" + std::string(id_column) + " AS TEXT) IN (" + in + ")");
    }
  }
  if (terms.empty()) return "1 = 0";
  std::string out = "(";
  for (size_t i = 0; i < terms.size(); ++i) out += (i ? " OR " : "") + terms[i];
  return out + ")";
}

void Authorizer::forget() {
  std::unique_lock lock(mutex_);
  cache_.clear();
}

}  // namespace annex::auth

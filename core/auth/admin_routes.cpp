#include "auth/admin_routes.h"

#include "http/api_error.h"
#include "http/json_body.h"
#include "store/transaction.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace annex::auth {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using http::ApiError;

Object::Ptr ordered() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

Object::Ptr user_json(const User& u, IdentityStore& ids, bool detail) {
  Object::Ptr o = ordered();
  o->set("id", u.id);
  o->set("login", u.login);
  o->set("display_name", u.display_name);
  o->set("employee_number", http::nullable(u.employee_number));
  o->set("status", u.status);
  o->set("created_at", u.created_at);
  o->set("last_login_at", http::nullable(u.last_login_at));
  if (detail) {
    Array::Ptr sectors = new Array;
    for (const auto& s : ids.sectors_of(u.id)) sectors->add(s);
    o->set("sectors", sectors);
    Array::Ptr roles = new Array;
    for (const auto& a : ids.roles_of(u.id)) {
      Object::Ptr r = ordered();
      r->set("role", a.role);
      r->set("sector_id", a.sector_id);
      roles->add(r);
    }
    o->set("roles", roles);
  }
  return o;
}

Object::Ptr sector_json(const Sector& s) {
  Object::Ptr o = ordered();
  o->set("id", s.id);
  o->set("name", s.name);
  o->set("created_at", s.created_at);
  return o;
}

std::string items(const Array::Ptr& list) {
  Object::Ptr out = new Object;
  out->set("items", list);
  return http::to_json(out);
}

// Permissions that give power over accounts, sectors, the audit log or record placement. The last one stands
// for every permission nobody has named yet: only a wildcard such as "*" grants it.
const char* const kSensitive[] = {kUsersManage, kMembershipsManage, kSectorsManage, "annex.audit.view",
                                  "annex.audit.verify", "records.move-sector", "annex.unnamed.permission"};

// The first sensitive permission `patterns` grant and `held` does not; "" when none.
std::string exceeds(const std::vector<std::string>& patterns, const std::vector<std::string>& held) {
  for (const char* p : kSensitive) {
    if (permitted(patterns, p) && !permitted(held, p)) return p;
  }
  return {};
}

class Admin {
 public:
  Admin(store::Database& db, Authenticator& auth, audit::AuditLog& audit) : db_(db), auth_(auth), audit_(audit) {}

  Scope scope(const http::HttpRequest& req, const char* permission) {
    auto access = auth_.authorizer().access_of(req.principal.id);
    return access ? auth_.authorizer().scope(*access, permission) : Scope{};
  }

  // The user `id` when the caller's `permission` reaches them; 404 otherwise, the refusal logged.
  User user_in_reach(const http::HttpRequest& req, const std::string& id, const char* permission) {
    std::optional<User> user = auth_.store().find(id);
    if (user && reaches(scope(req, permission), req.principal.id, *user)) return *user;
    if (user) spdlog::info("access denied: {} may not {} on user {}", req.principal.login, permission, id);
    throw ApiError::not_found("no such user");
  }

  bool reaches(const Scope& s, const std::string& caller, const User& user) {
    if (s.all || (s.own && user.id == caller)) return true;
    if (s.sectors.empty()) return false;
    for (const auto& sector : auth_.store().sectors_of(user.id)) {
      if (s.sectors.count(sector)) return true;
    }
    return false;
  }

  // Runs `change` in one transaction with the audit entries it returns, then drops cached access.
  template <typename Fn>
  void audited(Fn&& change) {
    store::Lease lease(db_);
    store::ScopedTransaction txn(lease.session(), db_.dialect());
    IdentityStore ids(db_, lease.session());
    try {
      std::vector<audit::Change> entries = change(ids);
      for (const auto& c : entries) audit_.append(lease.session(), c);
    } catch (const IdentityError& e) {
      throw http::refusal(e);
    }
    txn.commit();
    auth_.forget_cached();
  }

  // A sector the caller's `permission` reaches ('*' needs reach over every sector), or 404/403.
  void check_sector(const http::HttpRequest& req, const std::string& sector_id, const char* permission) {
    Scope s = scope(req, permission);
    if (sector_id == "*" ? s.all : s.covers_sector(sector_id)) return;
    spdlog::info("access denied: {} may not {} in sector {}", req.principal.login, permission, sector_id);
    throw ApiError(403, "forbidden", "sector " + sector_id + " is outside your reach", "sector_id");
  }

  // Nobody grants what they do not hold: a role carrying a sensitive permission the caller lacks, or reaching
  // every sector when the caller does not, is refused. (Business permissions such as *.write may be granted by
  // a sector administrator, who manages a sector's staff without doing their work.)
  void check_grantable(const http::HttpRequest& req, const std::string& role_name) {
    const Role* role = auth_.roles().find(role_name);
    if (role == nullptr) {
      std::string known;
      for (const auto& n : auth_.roles().names()) known += (known.empty() ? "" : ", ") + n;
      throw ApiError::unprocessable("unknown role " + role_name + " (known: " + known + ")", "role");
    }
    if (std::string p = exceeds(role->patterns, *req.principal.permissions); !p.empty()) {
      throw ApiError(403, "forbidden", "you cannot grant " + role_name + ": it holds " + p + ", which you do not", "role");
    }
    if (role->reach == Reach::kAll && !scope(req, kMembershipsManage).all) {
      throw ApiError(403, "forbidden", "you cannot grant " + role_name + ": it reaches every sector", "role");
    }
  }

  // Nobody manages an account that holds a sensitive permission they lack (so a sector administrator cannot
  // freeze a system administrator).
  void check_dominates(const http::HttpRequest& req, const User& user) {
    auto target = auth_.authorizer().access_of(user.id);
    if (!target) return;
    if (std::string p = exceeds(*target->permissions, *req.principal.permissions); !p.empty()) {
      throw ApiError(403, "forbidden", user.login + " holds " + p + ", which you do not; ask an administrator who does");
    }
  }

  static void not_self(const http::HttpRequest& req, const User& user, const char* what) {
    if (user.id == req.principal.id) {
      throw ApiError(403, "forbidden", std::string("nobody changes their own ") + what, "id");
    }
  }

  store::Database& db_;
  Authenticator& auth_;
  audit::AuditLog& audit_;
};

std::string user_snapshot(const User& u) {
  Object::Ptr o = ordered();
  o->set("login", u.login);
  o->set("display_name", u.display_name);
  o->set("employee_number", http::nullable(u.employee_number));
  o->set("status", u.status);
  return http::to_json(o);
}

int parse_days(const http::HttpRequest& req) {
  std::string text;
  if (!req.query_param("days", &text)) return 14;
  int days = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
  if (ec != std::errc() || end != text.data() + text.size() || days < 1 || days > 3650) {
    throw ApiError::bad_request("days must be a whole number from 1 to 3650", "days");
  }
  return days;
}

}  // namespace

void register_admin_routes(http::Router& router, store::Database& db, Authenticator& auth, audit::AuditLog& audit) {
  auto admin = std::make_shared<Admin>(db, auth, audit);
  auto add = [&router](const char* method, const char* path, const char* permission, const char* summary,
                       http::Handler handler) {
    http::add_route(router, "annex.core", method, path, permission, summary, std::move(handler));
  };

  add("GET", "/api/v1/users", kUsersRead, "Users within the caller's reach",
      [admin](http::HttpRequest& req, http::HttpResponse& resp) {
        std::string status;
        req.query_param("status", &status);
        Scope s = admin->scope(req, kUsersRead);
        IdentityStore& ids = admin->auth_.store();
        Array::Ptr list = new Array;
        for (const auto& u : ids.users()) {
          if ((status.empty() || u.status == status) && admin->reaches(s, req.principal.id, u)) {
            list->add(user_json(u, ids, false));
          }
        }
        resp.body = items(list);
      });
  add("GET", "/api/v1/users/idle", kUsersRead, "Active users without a login for ?days= days (default 14)",
      [admin](http::HttpRequest& req, http::HttpResponse& resp) {
        int days = parse_days(req);
        Scope s = admin->scope(req, kUsersRead);
        IdentityStore& ids = admin->auth_.store();
        Array::Ptr list = new Array;
        for (const auto& u : ids.idle_users(days)) {
          if (admin->reaches(s, req.principal.id, u)) list->add(user_json(u, ids, false));
        }
        Object::Ptr out = ordered();
        out->set("days", days);
        out->set("items", list);
        resp.body = http::to_json(out);
      });
  add("POST", "/api/v1/users", kUsersManage, "Create a user in a sector within reach",
      [admin](http::HttpRequest& req, http::HttpResponse& resp) {
        Object::Ptr body = http::parse_json_object(req);
        std::string login = http::required_string(body, "login", 100);
        std::string display_name = http::optional_string(body, "display_name", 200, login);
        std::string employee_number = http::optional_string(body, "employee_number", 50);
        std::string password = http::optional_string(body, "password", 1024);
        std::string sector = http::optional_string(body, "sector_id", 64);
        Scope s = admin->scope(req, kUsersManage);
        if (sector.empty() && !s.all) {
          throw ApiError::unprocessable("sector_id is required: you manage the users of your sectors only", "sector_id");
        }
        if (!sector.empty()) admin->check_sector(req, sector, kUsersManage);
        User created;
        admin->audited([&](IdentityStore& ids) {
          created = ids.create_user(login, display_name, employee_number, password,
                                    admin->auth_.settings().pbkdf2_iterations);
          if (!sector.empty()) ids.add_membership(created.id, sector);
          return std::vector<audit::Change>{
              {req.principal.id, "annex.user.create", "annex.user", created.id, "", user_snapshot(created)}};
        });
        resp.status = 201;
        resp.set_header("Location", "/api/v1/users/" + created.id);
        resp.body = http::to_json(user_json(created, admin->auth_.store(), true));
      });
  add("GET", "/api/v1/users/{id}", kUsersRead, "One user, with sectors and roles",
      [admin](http::HttpRequest& req, http::HttpResponse& resp) {
        User u = admin->user_in_reach(req, req.path_params.at("id"), kUsersRead);
        resp.body = http::to_json(user_json(u, admin->auth_.store(), true));
      });
  add("PATCH", "/api/v1/users/{id}", kUsersManage,
      "Change a user's names or status (active, frozen, disabled); takes effect at once",
      [admin](http::HttpRequest& req, http::HttpResponse& resp) {
        User before = admin->user_in_reach(req, req.path_params.at("id"), kUsersManage);
        Object::Ptr body = http::parse_json_object(req);
        User after = before;
        after.display_name = http::optional_string(body, "display_name", 200, before.display_name);
        if (body->has("employee_number")) after.employee_number = http::optional_string(body, "employee_number", 50);
        after.status = http::optional_string(body, "status", 20, before.status);
        if (after.status != before.status) Admin::not_self(req, before, "status");
        admin->check_dominates(req, before);
        admin->audited([&](IdentityStore& ids) {
          std::vector<audit::Change> changes;
          if (after.display_name != before.display_name || after.employee_number != before.employee_number) {
            ids.update_user(before.id, after.display_name, after.employee_number);
          }
          if (after.status != before.status) ids.set_status(before.id, after.status);
          changes.push_back({req.principal.id, after.status != before.status ? "annex.user.status" : "annex.user.update",
                             "annex.user", before.id, user_snapshot(before), user_snapshot(after)});
          return changes;
        });
        if (after.status != before.status) {
          spdlog::info("user {} is now {} (by {})", before.login, after.status, req.principal.login);
        }
        resp.body = http::to_json(user_json(*admin->auth_.store().find(before.id), admin->auth_.store(), true));
      });
  add("POST", "/api/v1/users/{id}/roles", kMembershipsManage, "Grant a role in a sector ('*' for all)",
      [admin](http::HttpRequest& req, http::HttpResponse& resp) {
        User user = admin->user_in_reach(req, req.path_params.at("id"), kMembershipsManage);
        Object::Ptr body = http::parse_json_object(req);
        std::string role = http::required_string(body, "role", 100);
        std::string sector = http::required_string(body, "sector_id", 64);
        Admin::not_self(req, user, "roles");
        admin->check_dominates(req, user);
        admin->check_grantable(req, role);
        admin->check_sector(req, sector, kMembershipsManage);
        admin->audited([&](IdentityStore& ids) {
          if (sector != "*" && !ids.find_sector(sector)) throw IdentityError("sector_id", "no sector " + sector);
          ids.assign_role(user.id, role, sector);
          Object::Ptr after = ordered();
          after->set("role", role);
          after->set("sector_id", sector);
          return std::vector<audit::Change>{
              {req.principal.id, "annex.role.assign", "annex.user", user.id, "", http::to_json(after)}};
        });
        resp.status = 201;
        resp.body = http::to_json(user_json(user, admin->auth_.store(), true));
      });
  add("DELETE", "/api/v1/users/{id}/roles/{role}/{sector}", kMembershipsManage, "Withdraw a role",
      [admin](http::HttpRequest& req, http::HttpResponse& resp) {
        User user = admin->user_in_reach(req, req.path_params.at("id"), kMembershipsManage);
        const std::string& role = req.path_params.at("role");
        const std::string& sector = req.path_params.at("sector");
        Admin::not_self(req, user, "roles");
        admin->check_dominates(req, user);
        admin->check_sector(req, sector, kMembershipsManage);
        admin->audited([&](IdentityStore& ids) {
          if (!ids.unassign_role(user.id, role, sector)) {
            throw IdentityError("role", user.login + " holds no role " + role + " in " + sector, 404);
          }
          Object::Ptr before = ordered();
          before->set("role", role);
          before->set("sector_id", sector);
          return std::vector<audit::Change>{
              {req.principal.id, "annex.role.unassign", "annex.user", user.id, http::to_json(before), ""}};
        });
        resp.status = 204;
      });
  add("POST", "/api/v1/users/{id}/sectors", kMembershipsManage, "Make a user a member of a sector",
      [admin](http::HttpRequest& req, http::HttpResponse& resp) {
        std::string sector = http::required_string(http::parse_json_object(req), "sector_id", 64);
        admin->check_sector(req, sector, kMembershipsManage);
        std::optional<User> user = admin->user_in_reach(req, req.path_params.at("id"), kMembershipsManage);
        admin->check_dominates(req, *user);
        admin->audited([&](IdentityStore& ids) {
          ids.add_membership(user->id, sector);
          return std::vector<audit::Change>{{req.principal.id, "annex.membership.add", "annex.user", user->id, "",
                                             "{\"sector_id\":" + http::to_json(sector) + "}"}};
        });
        resp.status = 201;
        resp.body = http::to_json(user_json(*user, admin->auth_.store(), true));
      });
  add("DELETE", "/api/v1/users/{id}/sectors/{sector}", kMembershipsManage,
      "End a membership and the roles held in that sector",
      [admin](http::HttpRequest& req, http::HttpResponse& resp) {
        User user = admin->user_in_reach(req, req.path_params.at("id"), kMembershipsManage);
        const std::string& sector = req.path_params.at("sector");
        admin->check_sector(req, sector, kMembershipsManage);
        Admin::not_self(req, user, "memberships");
        admin->check_dominates(req, user);
        admin->audited([&](IdentityStore& ids) {
          if (!ids.remove_membership(user.id, sector)) {
            throw IdentityError("sector", user.login + " is not a member of " + sector, 404);
          }
          return std::vector<audit::Change>{{req.principal.id, "annex.membership.remove", "annex.user", user.id,
                                             "{\"sector_id\":" + http::to_json(sector) + "}", ""}};
        });
        resp.status = 204;
      });
  add("GET", "/api/v1/sectors", kSectorsRead, "Sectors", [admin](http::HttpRequest&, http::HttpResponse& resp) {
    Array::Ptr list = new Array;
    for (const auto& s : admin->auth_.store().sectors()) list->add(sector_json(s));
    resp.body = items(list);
  });
  add("POST", "/api/v1/sectors", kSectorsManage, "Create a sector",
      [admin](http::HttpRequest& req, http::HttpResponse& resp) {
        Object::Ptr body = http::parse_json_object(req);
        std::string id = http::required_string(body, "id", 64);
        std::string name = http::required_string(body, "name", 200);
        Sector created;
        admin->audited([&](IdentityStore& ids) {
          if (ids.find_sector(id)) throw IdentityError("id", "sector " + id + " exists", 409);
          created = ids.create_sector(id, name);
          return std::vector<audit::Change>{
              {req.principal.id, "annex.sector.create", "annex.sector", id, "", http::to_json(sector_json(created))}};
        });
        resp.status = 201;
        resp.body = http::to_json(sector_json(created));
      });
  add("PATCH", "/api/v1/sectors/{id}", kSectorsManage, "Rename a sector",
      [admin](http::HttpRequest& req, http::HttpResponse& resp) {
        std::string name = http::required_string(http::parse_json_object(req), "name", 200);
        const std::string& id = req.path_params.at("id");
        std::optional<Sector> before = admin->auth_.store().find_sector(id);
        if (!before) throw ApiError::not_found("no such sector");
        Sector after = *before;
        after.name = name;
        admin->audited([&](IdentityStore& ids) {
          ids.rename_sector(id, name);
          return std::vector<audit::Change>{{req.principal.id, "annex.sector.rename", "annex.sector", id,
                                             http::to_json(sector_json(*before)), http::to_json(sector_json(after))}};
        });
        resp.body = http::to_json(sector_json(after));
      });
}

}  // namespace annex::auth

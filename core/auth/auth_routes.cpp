#include "auth/auth_routes.h"

#include "http/api_error.h"
#include "http/json_body.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

namespace annex::auth {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

using http::nullable;
using http::required_string;

std::string stringify(const Object::Ptr& o) { return http::to_json(o); }

Object::Ptr token_json(const Token& t) {
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("id", t.id);
  o->set("kind", t.kind);
  o->set("name", t.name);
  o->set("created_at", t.created_at);
  o->set("expires_at", nullable(t.expires_at));
  o->set("last_used_at", nullable(t.last_used_at));
  o->set("revoked_at", nullable(t.revoked_at));
  return o;
}

Object::Ptr user_json(const User& u) {
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("id", u.id);
  o->set("login", u.login);
  o->set("display_name", u.display_name);
  o->set("status", u.status);
  return o;
}

// Who a user is, as GET /api/v1/auth/me answers: the account, its roles and the permissions they grant.
Object::Ptr me_json(Authenticator& auth, const std::string& user_id) {
  std::optional<User> user = auth.store().find(user_id);
  if (!user) throw http::ApiError::not_found("no such user");
  Object::Ptr out = user_json(*user);
  Array::Ptr roles = new Array;
  for (const auto& a : auth.store().roles_of(user->id)) {
    Object::Ptr r = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    r->set("role", a.role);
    r->set("sector", a.sector_id);
    roles->add(r);
  }
  out->set("roles", roles);
  Array::Ptr permissions = new Array;
  if (std::shared_ptr<const Access> access = auth.authorizer().access_of(user_id); access && access->permissions) {
    for (const auto& p : *access->permissions) permissions->add(p);
  }
  out->set("permissions", permissions);
  return out;
}

void add(http::Router& router, const char* method, const char* path, const char* permission, const char* summary,
         http::Handler handler) {
  http::add_route(router, "annex.core", method, path, permission, summary, std::move(handler));
}

// A session for the {"login", "password"} of the request's body (throttled, as Authenticator::login says).
IssuedToken password_login(Authenticator& auth, const http::HttpRequest& req, User* user) {
  Object::Ptr body = http::parse_json_object(req);
  std::string login = required_string(body, "login", 100);
  std::string password = required_string(body, "password", 1024);
  return auth.login(login, password, req.remote_address, user);
}

}  // namespace

void register_auth_routes(http::Router& router, Authenticator& auth) {
  add(router, "POST", "/api/v1/auth/login", "", "Log in with a password; returns a session token",
      [&auth](http::HttpRequest& req, http::HttpResponse& resp) {
        User user;
        IssuedToken session = password_login(auth, req, &user);
        Object::Ptr out = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        out->set("token", session.secret);
        out->set("token_id", session.token.id);
        out->set("expires_at", session.token.expires_at);
        out->set("user", user_json(user));
        resp.set_header("Cache-Control", "no-store");  // a secret: kept by no cache, nor by Idempotency-Key
        resp.body = stringify(out);
      });
  // Browsers: the same login, the session in an HttpOnly, SameSite=Strict cookie instead of the body, and the CSRF
  // token every change made with it must send back.
  add(router, "POST", "/api/v1/auth/session", "", "Sign in a browser: sets the session cookie; returns the CSRF token",
      [&auth](http::HttpRequest& req, http::HttpResponse& resp) {
        User user;
        IssuedToken session = password_login(auth, req, &user);
        Object::Ptr out = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        out->set("csrf_token", csrf_token_for(session.secret));
        out->set("expires_at", session.token.expires_at);
        out->set("user", me_json(auth, user.id));
        resp.set_header("Cache-Control", "no-store");
        resp.set_header("Set-Cookie", session_cookie(session.secret, auth.settings().session_lifetime_s, req.tls));
        resp.body = stringify(out);
      });
  add(router, "DELETE", "/api/v1/auth/session", kAuthenticated, "Sign a browser out: ends the session and clears its cookie",
      [&auth](http::HttpRequest& req, http::HttpResponse& resp) {
        if (req.principal.csrf_token.empty()) {
          throw http::ApiError::bad_request("this signs out the browser session of the cookie; end an API session with POST /api/v1/auth/logout",
                                            "Cookie");
        }
        auth.store().revoke(req.principal.token_id, req.principal.id);
        auth.forget_cached();
        resp.set_header("Set-Cookie", session_cookie("", 0, req.tls));
        resp.status = 204;
      });
  add(router, "POST", "/api/v1/auth/logout", kAuthenticated, "End the session this request came with",
      [&auth](http::HttpRequest& req, http::HttpResponse& resp) {
        auth.store().revoke(req.principal.token_id, req.principal.id);
        auth.forget_cached();
        resp.status = 204;
      });
  add(router, "GET", "/api/v1/auth/me", kAuthenticated, "The caller: account, roles and permissions",
      [&auth](http::HttpRequest& req, http::HttpResponse& resp) {
        Object::Ptr out = me_json(auth, req.principal.id);
        if (!req.principal.csrf_token.empty()) out->set("csrf_token", req.principal.csrf_token);
        resp.set_header("Cache-Control", "no-store");
        resp.body = stringify(out);
      });
  add(router, "POST", "/api/v1/tokens", kAuthenticated, "Create a personal API token; its secret is shown once",
      [&auth](http::HttpRequest& req, http::HttpResponse& resp) {
        Object::Ptr body = http::parse_json_object(req);
        std::string name = required_string(body, "name", 100);
        long long days = 0;
        if (body->has("expires_in_days") && !body->isNull("expires_in_days")) {
          Poco::Dynamic::Var v = body->get("expires_in_days");
          if (!v.isInteger() || v.convert<long long>() < 1 || v.convert<long long>() > 3650) {
            throw http::ApiError::unprocessable("expires_in_days must be a whole number from 1 to 3650", "expires_in_days");
          }
          days = v.convert<long long>();
        }
        IssuedToken issued = auth.store().issue_token(req.principal.id, "api", name, days * 86400);
        Object::Ptr out = token_json(issued.token);
        out->set("token", issued.secret);
        resp.set_header("Cache-Control", "no-store");  // shown once: kept by no cache, nor by Idempotency-Key
        resp.status = 201;
        resp.body = stringify(out);
      });
  add(router, "GET", "/api/v1/tokens", kAuthenticated, "The caller's tokens",
      [&auth](http::HttpRequest& req, http::HttpResponse& resp) {
        Array::Ptr items = new Array;
        for (const auto& t : auth.store().tokens_of(req.principal.id)) items->add(token_json(t));
        Object::Ptr out = new Object;
        out->set("items", items);
        resp.body = stringify(out);
      });
  add(router, "DELETE", "/api/v1/tokens/{id}", kAuthenticated, "Revoke one of the caller's tokens",
      [&auth](http::HttpRequest& req, http::HttpResponse& resp) {
        // Another user's token answers 404 like a missing one: its existence is not disclosed.
        if (!auth.store().revoke(req.path_params.at("id"), req.principal.id)) {
          throw http::ApiError::not_found("no such token");
        }
        auth.forget_cached();
        resp.status = 204;
      });
}

}  // namespace annex::auth

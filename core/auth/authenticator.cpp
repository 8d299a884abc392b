#include "auth/authenticator.h"

#include "auth/secrets.h"
#include "clock/utc.h"
#include "http/api_error.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <strings.h>

namespace annex::auth {
namespace {

std::string bearer(const http::HttpRequest& request) {
  const std::string* header = request.header("Authorization");
  if (header == nullptr) return {};
  const std::string prefix = "Bearer ";
  if (header->size() <= prefix.size() || strncasecmp(header->c_str(), prefix.c_str(), prefix.size()) != 0) return {};
  return header->substr(prefix.size());
}

// The value of the session cookie, when the request carries one.
std::string cookie_secret(const http::HttpRequest& request) {
  const std::string* header = request.header("Cookie");
  if (header == nullptr) return {};
  std::string_view rest(*header);
  const std::string name = std::string(kSessionCookie) + "=";
  while (!rest.empty()) {
    size_t end = rest.find(';');
    std::string_view pair = rest.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.substr(0, name.size()) == name) return std::string(pair.substr(name.size()));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return {};
}

bool changes_something(const std::string& method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

bool same_text(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// Whether the request's Origin, when it names one, is this host (as the request addressed it).
bool from_this_origin(const http::HttpRequest& request) {
  const std::string* origin = request.header("Origin");
  if (origin == nullptr) return true;
  const std::string* host = request.header("Host");
  if (host == nullptr) return false;
  return *origin == (request.tls ? "https://" : "http://") + *host;
}

http::ApiError unauthenticated(const std::string& message, const char* field = "Authorization") {
  return http::ApiError(401, "unauthenticated", message, field);
}

}  // namespace

std::string csrf_token_for(const std::string& secret) { return secret_digest("csrf\n" + secret); }

std::string session_cookie(const std::string& secret, int max_age_s, bool tls) {
  return std::string(kSessionCookie) + "=" + secret + "; Path=/; Max-Age=" + std::to_string(secret.empty() ? 0 : max_age_s) +
         "; HttpOnly; SameSite=Strict" + (tls ? "; Secure" : "");
}

Authenticator::Authenticator(IdentityStore& store, Authorizer& authorizer, AuthSettings settings)
    : store_(store), authorizer_(authorizer), settings_(settings) {}

void Authenticator::forget_cached() {
  {
    std::unique_lock lock(cache_mutex_);
    cache_.clear();
  }
  authorizer_.forget();
}

void Authenticator::check(http::HttpRequest& request, const http::Route& route) {
  std::string secret = bearer(request);
  const bool cookie = secret.empty() && !(secret = cookie_secret(request)).empty();
  if (secret.empty() || (cookie && route.permission.empty())) {
    if (route.permission.empty()) return;  // a public route (a stale cookie must not keep anyone from signing in)
    spdlog::info("access denied: no credentials for {} {}", request.method, route.path);
    throw unauthenticated("this route needs a bearer token (log in at POST /api/v1/auth/login)");
  }
  if (cookie && changes_something(request.method)) {
    const std::string* sent = request.header("X-CSRF-Token");
    if (!from_this_origin(request)) {
      spdlog::warn("access denied: {} {} with the session cookie from origin {}", request.method, route.path, *request.header("Origin"));
      throw http::ApiError(403, "forbidden", "a request from another origin cannot use this site's session", "Origin");
    }
    if (sent == nullptr || !same_text(*sent, csrf_token_for(secret))) {
      spdlog::warn("access denied: {} {} with the session cookie but without its CSRF token", request.method, route.path);
      throw http::ApiError(403, "forbidden", "a change made with the session cookie needs the X-CSRF-Token header of the session",
                           "X-CSRF-Token");
    }
  }
  std::string digest = secret_digest(secret);
  auto now = std::chrono::steady_clock::now();
  Cached entry;
  bool found = false;
  {
    std::shared_lock lock(cache_mutex_);
    auto it = cache_.find(digest);
    if (it != cache_.end() && it->second.until > now) {
      entry = it->second;
      found = true;
    }
  }
  if (!found) {
    std::optional<Token> token = store_.resolve(secret);
    if (!token) {
      spdlog::info("access denied: unknown, expired or revoked token for {} {}", request.method, route.path);
      throw unauthenticated("the token is unknown, expired or revoked");
    }
    if (token->kind == "session") {
      // Idle timeout: each use pushes the end out, never past the session's absolute lifetime.
      std::time_t idle_end = std::time(nullptr) + settings_.session_idle_s;
      std::time_t absolute_end = clock::parse_utc_iso(token->created_at) + settings_.session_lifetime_s;
      store_.touch(token->id, clock::utc_iso(std::min(idle_end, absolute_end)));
    }
    entry.user_id = token->user_id;
    entry.token_id = token->id;
    entry.session = token->kind == "session";
    entry.until = now + std::chrono::milliseconds(settings_.cache_ms);
    std::unique_lock lock(cache_mutex_);
    if (cache_.size() > 10000) cache_.clear();
    cache_[digest] = entry;
  }
  if (cookie && !entry.session) throw unauthenticated("the session cookie carries no session", "Cookie");
  std::shared_ptr<const Access> access = authorizer_.access_of(entry.user_id);
  if (!access) throw unauthenticated("the token's user no longer exists");
  if (access->status != "active") {
    spdlog::info("access denied: account {} is {}", access->login, access->status);
    throw unauthenticated("the account is " + access->status);
  }
  request.principal.id = access->user_id;
  request.principal.login = access->login;
  request.principal.token_id = entry.token_id;
  if (cookie) request.principal.csrf_token = csrf_token_for(secret);
  request.principal.permissions = access->permissions;
  if (route.permission.empty() || permitted(*access->permissions, route.permission)) return;
  spdlog::info("access denied: {} lacks {} for {} {}", access->login, route.permission, request.method, route.path);
  throw http::ApiError(403, "forbidden", "this needs the permission " + route.permission);
}

namespace {

int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

bool Authenticator::throttled(const std::string& key, int* retry_after) {
  const int64_t now = epoch_ms(), window = int64_t{settings_.failed_login_window_s} * 1000;
  int64_t oldest = 0;
  if (store_.failed_logins(key, now - window, &oldest) < settings_.max_failed_logins) return false;
  *retry_after = static_cast<int>((oldest + window - now) / 1000) + 1;
  return true;
}

void Authenticator::record_failure(const std::string& key) {
  const int64_t now = epoch_ms();
  store_.record_failed_login(key, now, now - int64_t{settings_.failed_login_window_s} * 1000);
}

IssuedToken Authenticator::login(const std::string& login, const std::string& password, const std::string& address,
                                 User* user_out) {
  const std::string account_key = "login:" + login, address_key = "addr:" + address;
  {
    int retry = 0;
    if (throttled(account_key, &retry) || throttled(address_key, &retry)) {
      spdlog::warn("login throttled: {} from {}", login, address);
      http::ApiError e(429, "too_many_requests",
                       "too many failed logins; try again in " + std::to_string(retry) + " seconds");
      e.retry_after(retry);
      throw e;
    }
  }
  std::optional<User> user = store_.find_by_login(login);
  bool ok = false;
  if (user && !user->password_hash.empty()) {
    ok = verify_password(password, user->password_hash);
  } else {
    // Spend the same time as a real check, so response times do not tell which logins exist.
    static const std::string dummy = hash_password("annex-timing-equaliser", settings_.pbkdf2_iterations);
    verify_password(password, dummy);
  }
  if (!ok) {
    record_failure(account_key);
    record_failure(address_key);
    spdlog::info("login failed: {} from {}", login, address);
    throw unauthenticated("wrong login or password");
  }
  if (user->status != "active") {
    spdlog::info("login refused: {} is {}", login, user->status);
    throw unauthenticated("the account is " + user->status);
  }
  store_.clear_failed_logins(account_key);
  store_.record_login(user->id);
  IssuedToken session = store_.issue_token(user->id, "session", "login", settings_.session_idle_s);
  spdlog::info("login: {} from {}", login, address);
  if (user_out != nullptr) *user_out = *user;
  return session;
}

}  // namespace annex::auth

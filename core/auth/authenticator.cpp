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

http::ApiError unauthenticated(const std::string& message) {
  return http::ApiError(401, "unauthenticated", message, "Authorization");
}

}  // namespace

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
  if (secret.empty()) {
    if (route.permission.empty()) return;  // a public route
    spdlog::info("access denied: no credentials for {} {}", request.method, route.path);
    throw unauthenticated("this route needs a bearer token (log in at POST /api/v1/auth/login)");
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
    entry.until = now + std::chrono::milliseconds(settings_.cache_ms);
    std::unique_lock lock(cache_mutex_);
    if (cache_.size() > 10000) cache_.clear();
    cache_[digest] = entry;
  }
  std::shared_ptr<const Access> access = authorizer_.access_of(entry.user_id);
  if (!access) throw unauthenticated("the token's user no longer exists");
  if (access->status != "active") {
    spdlog::info("access denied: account {} is {}", access->login, access->status);
    throw unauthenticated("the account is " + access->status);
  }
  request.principal.id = access->user_id;
  request.principal.login = access->login;
  request.principal.token_id = entry.token_id;
  request.principal.permissions = access->permissions;
  if (route.permission.empty() || permitted(*access->permissions, route.permission)) return;
  spdlog::info("access denied: {} lacks {} for {} {}", access->login, route.permission, request.method, route.path);
  throw http::ApiError(403, "forbidden", "this needs the permission " + route.permission);
}

bool Authenticator::throttled(const std::string& key, std::chrono::steady_clock::time_point now, int* retry_after) {
  auto& times = failures_[key];
  auto window = std::chrono::seconds(settings_.failed_login_window_s);
  while (!times.empty() && now - times.front() > window) times.pop_front();
  if (static_cast<int>(times.size()) < settings_.max_failed_logins) return false;
  *retry_after = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(times.front() + window - now).count()) + 1;
  return true;
}

void Authenticator::record_failure(const std::string& key, std::chrono::steady_clock::time_point now) {
  failures_[key].push_back(now);
}

IssuedToken Authenticator::login(const std::string& login, const std::string& password, const std::string& address,
                                 User* user_out) {
  auto now = std::chrono::steady_clock::now();
  const std::string account_key = "login:" + login, address_key = "addr:" + address;
  {
    std::lock_guard lock(mutex_);
    int retry = 0;
    if (throttled(account_key, now, &retry) || throttled(address_key, now, &retry)) {
      spdlog::warn("login throttled: {} from {}", login, address);
      http::ApiError e(429, "too_many_requests",
                       "too many failed logins; try again in " + std::to_string(retry) + " seconds");
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
    std::lock_guard lock(mutex_);
    record_failure(account_key, now);
    record_failure(address_key, now);
    spdlog::info("login failed: {} from {}", login, address);
    throw unauthenticated("wrong login or password");
  }
  if (user->status != "active") {
    spdlog::info("login refused: {} is {}", login, user->status);
    throw unauthenticated("the account is " + user->status);
  }
  {
    std::lock_guard lock(mutex_);
    failures_.erase(account_key);
  }
  store_.record_login(user->id);
  IssuedToken session = store_.issue_token(user->id, "session", "login", settings_.session_idle_s);
  spdlog::info("login: {} from {}", login, address);
  if (user_out != nullptr) *user_out = *user;
  return session;
}

}  // namespace annex::auth

// Authenticator — who is asking, and may they use this route. Installed as the dispatcher's access check.
//
// A request names its caller with "Authorization: Bearer <secret>", the secret of a login session or of a
// personal API token — or, from a browser, with the session cookie (kSessionCookie) that POST /api/v1/auth/session
// set. A cookie carries only a session, and a request that changes something (any method but GET, HEAD and
// OPTIONS) with it must also carry "X-CSRF-Token: <csrf_token_for(secret)>" and, when it says where it comes
// from (Origin), come from this very host: a page of another site can make the browser send the cookie, but can
// neither read the token nor pass for this origin. The caller must be an active user; the route's permission must match one of the patterns
// their roles grant. Missing or unknown credentials answer 401, a disabled or frozen account 401, a missing
// permission 403. Every decision that refuses, and every login, is logged — never the secret.
#pragma once

#include "auth/access.h"
#include "auth/identity.h"
#include "auth/roles.h"
#include "http/dispatcher.h"

#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <string>

namespace annex::auth {

inline constexpr const char* kSessionCookie = "annex_session";

// The CSRF token of the browser session with `secret`: derived from it one way, so it reveals nothing of it.
std::string csrf_token_for(const std::string& secret);
// The Set-Cookie value carrying `secret` (empty: clearing it), for `max_age_s` seconds, Secure over TLS.
std::string session_cookie(const std::string& secret, int max_age_s, bool tls);

struct AuthSettings {
  int pbkdf2_iterations = 600000;
  int session_idle_s = 1800;       // a session unused this long ends
  int session_lifetime_s = 43200;  // and none lives longer than this
  int max_failed_logins = 5;       // per account and per address, within the window
  int failed_login_window_s = 900;
  int cache_ms = 1000;             // how long a resolved token is trusted before the store is asked again
};

class Authenticator {
 public:
  Authenticator(IdentityStore& store, Authorizer& authorizer, AuthSettings settings);

  // The access check: fills request.principal, throws ApiError 401/403.
  void check(http::HttpRequest& request, const http::Route& route);

  // Verifies a password login; on success issues a session. Throws ApiError 401 (wrong login or password,
  // account not active) or 429 (too many failures for the account or the address, with Retry-After).
  IssuedToken login(const std::string& login, const std::string& password, const std::string& address, User* user);

  // Forgets cached principals and access, so a revoked token, a changed role or a disabled account takes
  // effect at once.
  void forget_cached();

  const RoleCatalog& roles() const { return authorizer_.roles(); }
  const AuthSettings& settings() const { return settings_; }
  IdentityStore& store() { return store_; }
  Authorizer& authorizer() { return authorizer_; }

 private:
  struct Cached {
    std::string user_id;
    std::string token_id;
    bool session = false;
    std::chrono::steady_clock::time_point until;
  };
  // Failed logins are counted in the database, so that every daemon on it throttles together.
  bool throttled(const std::string& key, int* retry_after);
  void record_failure(const std::string& key);

  IdentityStore& store_;
  Authorizer& authorizer_;
  AuthSettings settings_;
  std::shared_mutex cache_mutex_;         // guards cache_: every request reads it, a miss writes it
  std::unordered_map<std::string, Cached> cache_;  // secret digest → token and user
};

}  // namespace annex::auth

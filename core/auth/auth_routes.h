// The authentication routes: login and logout, who am I, personal API tokens.
#pragma once

#include "auth/authenticator.h"
#include "http/router.h"

namespace annex::auth {

// Registers, owned by "annex.core":
//   POST   /api/v1/auth/login    public         {login, password} → a session token
//   POST   /api/v1/auth/logout   authenticated  ends the session the request came with
//   GET    /api/v1/auth/me       authenticated  the caller, roles and permissions
//   POST   /api/v1/tokens        authenticated  {name, expires_in_days?} → an API token, shown once
//   GET    /api/v1/tokens        authenticated  the caller's tokens (never their secrets)
//   DELETE /api/v1/tokens/{id}   authenticated  revokes one of the caller's tokens; effective at once
void register_auth_routes(http::Router& router, Authenticator& auth);

}  // namespace annex::auth

// IdentityStore — users, sectors, role assignments and tokens, in the core's tables.
#pragma once

#include "store/database.h"

#include <optional>
#include <string>
#include <vector>

namespace annex::auth {

struct User {
  std::string id;
  std::string login;
  std::string display_name;
  std::string employee_number;
  std::string status;  // active | frozen | disabled
  std::string password_hash;
  std::string created_at;
  std::string last_login_at;
};

struct RoleAssignment {
  std::string role;
  std::string sector_id;  // "*" for every sector
};

struct Token {
  std::string id;
  std::string user_id;
  std::string kind;  // session | api
  std::string name;
  std::string created_at;
  std::string expires_at;  // "" for none
  std::string last_used_at;
  std::string revoked_at;
};

// A new token: its record, and the secret, which is shown once and never stored.
struct IssuedToken {
  Token token;
  std::string secret;
};

// Thrown for a request that breaks a rule of the store (duplicate login, unknown user …), naming the field.
class IdentityError : public std::runtime_error {
 public:
  IdentityError(std::string field, const std::string& message) : std::runtime_error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

class IdentityStore {
 public:
  explicit IdentityStore(store::Database& db) : db_(db) {}

  // Creates an active user. `password` may be empty (token-only account); otherwise it must be at least
  // kMinPasswordLength characters. Throws IdentityError (field "login" or "password").
  User create_user(const std::string& login, const std::string& display_name, const std::string& employee_number,
                   const std::string& password, int pbkdf2_iterations);
  std::optional<User> find_by_login(const std::string& login);
  std::optional<User> find(const std::string& id);
  // Sets active / frozen / disabled. Throws IdentityError for an unknown status or user.
  void set_status(const std::string& user_id, const std::string& status);
  void record_login(const std::string& user_id);

  void ensure_sector(const std::string& id, const std::string& name);
  void assign_role(const std::string& user_id, const std::string& role, const std::string& sector_id);
  std::vector<RoleAssignment> roles_of(const std::string& user_id);

  // Issues a token for `user_id`. `ttl_seconds` <= 0 means no expiry.
  IssuedToken issue_token(const std::string& user_id, const std::string& kind, const std::string& name,
                          long long ttl_seconds);
  // The live token with this secret, or nothing (unknown, revoked or expired).
  std::optional<Token> resolve(const std::string& secret);
  // Pushes a session's expiry to `expires_at` (idle timeout), never past its absolute end.
  void touch(const std::string& token_id, const std::string& expires_at);
  // Revokes the token if it belongs to `user_id` (or to anyone, when `user_id` is empty). False when none did.
  bool revoke(const std::string& token_id, const std::string& user_id);
  std::vector<Token> tokens_of(const std::string& user_id);

 private:
  store::Database& db_;
};

}  // namespace annex::auth

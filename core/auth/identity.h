// IdentityStore — users, sectors, role assignments and tokens, in the core's tables.
#pragma once

#include "errors/field_error.h"
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

struct Sector {
  std::string id;
  std::string name;
  std::string created_at;
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
class IdentityError : public FieldError {
 public:
  using FieldError::FieldError;
};

class IdentityStore {
 public:
  explicit IdentityStore(store::Database& db) : db_(db) {}
  // A store whose every statement runs on `pinned`, inside the caller's transaction — so that a change and
  // its audit entry commit together.
  IdentityStore(store::Database& db, soci::session& pinned) : db_(db), pinned_(&pinned) {}

  // Creates an active user. `password` may be empty (token-only account); otherwise it must be at least
  // kMinPasswordLength characters. Throws IdentityError (field "login" or "password").
  User create_user(const std::string& login, const std::string& display_name, const std::string& employee_number,
                   const std::string& password, int pbkdf2_iterations);
  std::optional<User> find_by_login(const std::string& login);
  std::optional<User> find(const std::string& id);
  // Sets active / frozen / disabled; disabling also revokes every token and session of the user, so that a
  // later re-activation starts with none. Throws IdentityError for an unknown status or user.
  void set_status(const std::string& user_id, const std::string& status);
  void record_login(const std::string& user_id);
  // Failed logins, kept in the database so that every daemon on it counts them together. `key` is "login:NAME"
  // or "addr:ADDRESS"; times are milliseconds since the epoch.
  // How many failures of `key` came after `since_ms`, and (when any) the oldest of them in *oldest_ms.
  int64_t failed_logins(const std::string& key, int64_t since_ms, int64_t* oldest_ms);
  // Records one at `at_ms`, forgetting every failure (of any key) before `forget_before_ms`.
  void record_failed_login(const std::string& key, int64_t at_ms, int64_t forget_before_ms);
  void clear_failed_logins(const std::string& key);

  std::vector<User> users();
  // The users holding any of `roles` (in any sector), by id: the few who may approve a step, without reading every
  // user.
  std::vector<std::string> holders_of(const std::vector<std::string>& roles);
  // Changes the display name and employee number. Throws IdentityError for an unknown user.
  void update_user(const std::string& user_id, const std::string& display_name, const std::string& employee_number);
  // Active users whose last login (or, never having logged in, whose creation) is older than `days` days.
  std::vector<User> idle_users(int days);

  void ensure_sector(const std::string& id, const std::string& name);
  // Creates a sector; ids are 1 to 64 of [A-Za-z0-9_.-]. Throws IdentityError ("id" taken or malformed, "name").
  Sector create_sector(const std::string& id, const std::string& name);
  void rename_sector(const std::string& id, const std::string& name);
  std::optional<Sector> find_sector(const std::string& id);
  std::vector<Sector> sectors();

  // Makes the user a member of the sector (an existing one). Idempotent.
  void add_membership(const std::string& user_id, const std::string& sector_id);
  // Ends the membership and the roles the user held in that sector. False when there was none.
  bool remove_membership(const std::string& user_id, const std::string& sector_id);
  std::vector<std::string> sectors_of(const std::string& user_id);

  // Grants `role` in `sector_id` ('*' for every sector); a sector role also makes the user a member there.
  void assign_role(const std::string& user_id, const std::string& role, const std::string& sector_id);
  bool unassign_role(const std::string& user_id, const std::string& role, const std::string& sector_id);
  std::vector<RoleAssignment> roles_of(const std::string& user_id);

  // Assigns one record to a user beyond what they own. Idempotent.
  void grant(const std::string& object_type, const std::string& object_id, const std::string& user_id,
             const std::string& granted_by);
  bool revoke_grant(const std::string& object_type, const std::string& object_id, const std::string& user_id);
  bool has_grant(const std::string& object_type, const std::string& object_id, const std::string& user_id);
  // The ids of the records of `object_type` assigned to the user.
  std::vector<std::string> granted_ids(const std::string& object_type, const std::string& user_id);

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
  soci::session* pinned_ = nullptr;
};

}  // namespace annex::auth

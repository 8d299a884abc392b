#include "auth/identity.h"

#include "auth/secrets.h"
#include "clock/utc.h"
#include "store/sql.h"
#include "store/transaction.h"

#include <cctype>

#include <ctime>

namespace annex::auth {
namespace {

using clock::utc_now;
using store::Param;

User read_user(const std::vector<store::Cell>& row) {
  return User{row[0].s, row[1].s, row[2].s, row[3].s, row[4].s, row[5].s, row[6].s,
              row[7].s};
}

Token read_token(const std::vector<store::Cell>& row) {
  return Token{row[0].s, row[1].s, row[2].s, row[3].s, row[4].s, row[5].s, row[6].s,
               row[7].s};
}

constexpr const char* kUserColumns =
    "id, login, display_name, employee_number, status, password_hash, created_at, last_login_at";
constexpr const char* kTokenColumns = "id, user_id, kind, name, created_at, expires_at, last_used_at, revoked_at";

Param opt(const std::string& s) { return s.empty() ? Param::null() : Param::text(s); }

// The session a statement runs on: the pinned one, or one leased from the pool for the call.
class Conn {
 public:
  Conn(store::Database& db, soci::session* pinned) : pinned_(pinned) {
    if (pinned_ == nullptr) lease_.emplace(db);
  }
  soci::session& session() { return pinned_ != nullptr ? *pinned_ : lease_->session(); }

 private:
  soci::session* pinned_;
  std::optional<store::Lease> lease_;
};

}  // namespace

User IdentityStore::create_user(const std::string& login, const std::string& display_name,
                                const std::string& employee_number, const std::string& password,
                                int pbkdf2_iterations) {
  if (login.empty() || login.size() > 100 || login.find_first_of(" \t\r\n") != std::string::npos) {
    throw IdentityError("login", "login must be 1 to 100 characters without spaces");
  }
  if (!password.empty() && password.size() < kMinPasswordLength) {
    throw IdentityError("password", "password must be at least " + std::to_string(kMinPasswordLength) + " characters");
  }
  User u{new_id("u_"), login, display_name.empty() ? login : display_name, employee_number, "active",
         password.empty() ? std::string{} : hash_password(password, pbkdf2_iterations), utc_now(), {}};
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(u.id), Param::text(u.login), Param::text(u.display_name), opt(u.employee_number),
                    Param::text(u.status), opt(u.password_hash), Param::text(u.created_at)};
  try {
    store::run(lease.session(),
               "INSERT INTO annex_users (id, login, display_name, employee_number, status, password_hash, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               params);
  } catch (const store::StoreError& e) {
    if (e.kind() == store::StoreError::Kind::kConstraint) throw IdentityError("login", "login " + login + " is taken", 409);
    throw;
  }
  return u;
}

std::optional<User> IdentityStore::find_by_login(const std::string& login) {
  Conn lease(db_, pinned_);
  Param p = Param::text(login);
  auto rs = store::run(lease.session(), std::string("SELECT ") + kUserColumns + " FROM annex_users WHERE login = ?",
                       std::span<const Param>(&p, 1));
  if (rs.rows.empty()) return std::nullopt;
  return read_user(rs.rows[0]);
}

std::optional<User> IdentityStore::find(const std::string& id) {
  Conn lease(db_, pinned_);
  Param p = Param::text(id);
  auto rs = store::run(lease.session(), std::string("SELECT ") + kUserColumns + " FROM annex_users WHERE id = ?",
                       std::span<const Param>(&p, 1));
  if (rs.rows.empty()) return std::nullopt;
  return read_user(rs.rows[0]);
}

void IdentityStore::set_status(const std::string& user_id, const std::string& status) {
  if (status != "active" && status != "frozen" && status != "disabled") {
    throw IdentityError("status", "status must be active, frozen or disabled");
  }
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(status), Param::text(user_id)};
  auto rs = store::run(lease.session(), "UPDATE annex_users SET status = ? WHERE id = ?", params);
  if (rs.affected == 0) throw IdentityError("user", "no such user", 404);
  if (status == "disabled") {
    // Disabling ends every session and token for good: re-activating the account starts with none.
    std::string now = utc_now();
    Param revoke[] = {Param::text(now), Param::text(user_id)};
    store::run(lease.session(), "UPDATE annex_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", revoke);
  }
}

void IdentityStore::record_login(const std::string& user_id) {
  Conn lease(db_, pinned_);
  std::string now = utc_now();
  Param params[] = {Param::text(now), Param::text(user_id)};
  store::run(lease.session(), "UPDATE annex_users SET last_login_at = ? WHERE id = ?", params);
}

int64_t IdentityStore::failed_logins(const std::string& key, int64_t since_ms, int64_t* oldest_ms) {
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(key), Param::integer(since_ms)};
  auto rs = store::run(lease.session(), "SELECT COUNT(*), MIN(at_ms) FROM annex_login_failures WHERE key = ? AND at_ms > ?", params);
  if (rs.rows.empty()) return 0;
  *oldest_ms = rs.rows[0][1].i;
  return rs.rows[0][0].i;
}

void IdentityStore::record_failed_login(const std::string& key, int64_t at_ms, int64_t forget_before_ms) {
  Conn lease(db_, pinned_);
  Param old = Param::integer(forget_before_ms);
  store::run(lease.session(), "DELETE FROM annex_login_failures WHERE at_ms < ?", std::span<const Param>(&old, 1));
  Param params[] = {Param::text(key), Param::integer(at_ms)};
  store::run(lease.session(), "INSERT INTO annex_login_failures (key, at_ms) VALUES (?, ?)", params);
}

void IdentityStore::clear_failed_logins(const std::string& key) {
  Conn lease(db_, pinned_);
  Param p = Param::text(key);
  store::run(lease.session(), "DELETE FROM annex_login_failures WHERE key = ?", std::span<const Param>(&p, 1));
}

void IdentityStore::ensure_sector(const std::string& id, const std::string& name) {
  Conn lease(db_, pinned_);
  std::string now = utc_now();
  Param params[] = {Param::text(id), Param::text(name.empty() ? id : name), Param::text(now)};
  store::run(lease.session(), "INSERT INTO annex_sectors (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
             params);
}

std::vector<User> IdentityStore::users() {
  Conn lease(db_, pinned_);
  auto rs = store::run(lease.session(), std::string("SELECT ") + kUserColumns + " FROM annex_users ORDER BY login", {});
  std::vector<User> out;
  for (const auto& row : rs.rows) out.push_back(read_user(row));
  return out;
}

std::vector<std::string> IdentityStore::holders_of(const std::vector<std::string>& roles) {
  std::vector<std::string> out;
  if (roles.empty()) return out;
  std::string sql = "SELECT DISTINCT user_id FROM annex_role_assignments WHERE role IN (";
  std::vector<Param> params;
  for (const std::string& role : roles) {
    sql += params.empty() ? "?" : ", ?";
    params.push_back(Param::text(role));
  }
  Conn lease(db_, pinned_);
  auto rs = store::run(lease.session(), sql + ")", params);
  for (const auto& row : rs.rows) out.push_back(row[0].s);
  return out;
}

void IdentityStore::update_user(const std::string& user_id, const std::string& display_name,
                                const std::string& employee_number) {
  if (display_name.empty() || display_name.size() > 200) {
    throw IdentityError("display_name", "display_name must be 1 to 200 characters");
  }
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(display_name), opt(employee_number), Param::text(user_id)};
  auto rs = store::run(lease.session(), "UPDATE annex_users SET display_name = ?, employee_number = ? WHERE id = ?", params);
  if (rs.affected == 0) throw IdentityError("user", "no such user", 404);
}

std::vector<User> IdentityStore::idle_users(int days) {
  std::string cutoff = utc_now(-static_cast<long long>(days) * 86400);
  Conn lease(db_, pinned_);
  Param p = Param::text(cutoff);
  auto rs = store::run(lease.session(),
                       std::string("SELECT ") + kUserColumns +
                           " FROM annex_users WHERE status = 'active' AND COALESCE(last_login_at, created_at) < ?"
                           " ORDER BY COALESCE(last_login_at, created_at), login",
                       std::span<const Param>(&p, 1));
  std::vector<User> out;
  for (const auto& row : rs.rows) out.push_back(read_user(row));
  return out;
}

Sector IdentityStore::create_sector(const std::string& id, const std::string& name) {
  bool id_ok = !id.empty() && id.size() <= 64 && id != "*";
  for (char c : id) id_ok = id_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  if (!id_ok) throw IdentityError("id", "a sector id is 1 to 64 letters, digits, '_', '.' or '-'");
  if (name.empty() || name.size() > 200) throw IdentityError("name", "name must be 1 to 200 characters");
  Sector sector{id, name, utc_now()};
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(id), Param::text(name), Param::text(sector.created_at)};
  try {
    store::run(lease.session(), "INSERT INTO annex_sectors (id, name, created_at) VALUES (?, ?, ?)", params);
  } catch (const store::StoreError& e) {
    if (e.kind() == store::StoreError::Kind::kConstraint) throw IdentityError("id", "sector " + id + " exists", 409);
    throw;
  }
  return sector;
}

void IdentityStore::rename_sector(const std::string& id, const std::string& name) {
  if (name.empty() || name.size() > 200) throw IdentityError("name", "name must be 1 to 200 characters");
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(name), Param::text(id)};
  if (store::run(lease.session(), "UPDATE annex_sectors SET name = ? WHERE id = ?", params).affected == 0) {
    throw IdentityError("sector", "no such sector", 404);
  }
}

std::optional<Sector> IdentityStore::find_sector(const std::string& id) {
  Conn lease(db_, pinned_);
  Param p = Param::text(id);
  auto rs = store::run(lease.session(), "SELECT id, name, created_at FROM annex_sectors WHERE id = ?",
                       std::span<const Param>(&p, 1));
  if (rs.rows.empty()) return std::nullopt;
  return Sector{rs.rows[0][0].s, rs.rows[0][1].s, rs.rows[0][2].s};
}

std::vector<Sector> IdentityStore::sectors() {
  Conn lease(db_, pinned_);
  auto rs = store::run(lease.session(), "SELECT id, name, created_at FROM annex_sectors ORDER BY id", {});
  std::vector<Sector> out;
  for (const auto& row : rs.rows) out.push_back({row[0].s, row[1].s, row[2].s});
  return out;
}

void IdentityStore::add_membership(const std::string& user_id, const std::string& sector_id) {
  if (!find_sector(sector_id)) throw IdentityError("sector_id", "no sector " + sector_id);
  if (!find(user_id)) throw IdentityError("user", "no such user", 404);
  Conn lease(db_, pinned_);
  std::string now = utc_now();
  Param params[] = {Param::text(user_id), Param::text(sector_id), Param::text(now)};
  store::run(lease.session(),
             "INSERT INTO annex_memberships (user_id, sector_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
             params);
}

bool IdentityStore::remove_membership(const std::string& user_id, const std::string& sector_id) {
  Conn lease(db_, pinned_);
  std::optional<store::ScopedTransaction> txn;
  if (pinned_ == nullptr) txn.emplace(lease.session(), db_.dialect());
  Param params[] = {Param::text(user_id), Param::text(sector_id)};
  store::run(lease.session(), "DELETE FROM annex_role_assignments WHERE user_id = ? AND sector_id = ?", params);
  auto rs = store::run(lease.session(), "DELETE FROM annex_memberships WHERE user_id = ? AND sector_id = ?", params);
  if (txn) txn->commit();
  return rs.affected > 0;
}

std::vector<std::string> IdentityStore::sectors_of(const std::string& user_id) {
  Conn lease(db_, pinned_);
  Param p = Param::text(user_id);
  auto rs = store::run(lease.session(), "SELECT sector_id FROM annex_memberships WHERE user_id = ? ORDER BY created_at, sector_id",
                       std::span<const Param>(&p, 1));
  std::vector<std::string> out;
  for (const auto& row : rs.rows) out.push_back(row[0].s);
  return out;
}

void IdentityStore::assign_role(const std::string& user_id, const std::string& role, const std::string& sector_id) {
  if (sector_id != "*") add_membership(user_id, sector_id);
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(user_id), Param::text(role), Param::text(sector_id)};
  store::run(lease.session(),
             "INSERT INTO annex_role_assignments (user_id, role, sector_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
             params);
}

bool IdentityStore::unassign_role(const std::string& user_id, const std::string& role, const std::string& sector_id) {
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(user_id), Param::text(role), Param::text(sector_id)};
  return store::run(lease.session(), "DELETE FROM annex_role_assignments WHERE user_id = ? AND role = ? AND sector_id = ?",
                    params)
             .affected > 0;
}

void IdentityStore::grant(const std::string& object_type, const std::string& object_id, const std::string& user_id,
                          const std::string& granted_by) {
  if (!find(user_id)) throw IdentityError("user_id", "no such user");
  Conn lease(db_, pinned_);
  std::string now = utc_now();
  Param params[] = {Param::text(object_type), Param::text(object_id), Param::text(user_id), Param::text(granted_by),
                    Param::text(now)};
  store::run(lease.session(),
             "INSERT INTO annex_grants (object_type, object_id, user_id, granted_by, created_at) VALUES (?, ?, ?, ?, ?)"
             " ON CONFLICT DO NOTHING",
             params);
}

bool IdentityStore::revoke_grant(const std::string& object_type, const std::string& object_id,
                                 const std::string& user_id) {
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(object_type), Param::text(object_id), Param::text(user_id)};
  return store::run(lease.session(), "DELETE FROM annex_grants WHERE object_type = ? AND object_id = ? AND user_id = ?",
                    params)
             .affected > 0;
}

bool IdentityStore::has_grant(const std::string& object_type, const std::string& object_id,
                              const std::string& user_id) {
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(object_type), Param::text(object_id), Param::text(user_id)};
  return !store::run(lease.session(),
                     "SELECT 1 FROM annex_grants WHERE object_type = ? AND object_id = ? AND user_id = ?", params)
              .rows.empty();
}

std::vector<std::string> IdentityStore::granted_ids(const std::string& object_type, const std::string& user_id) {
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(object_type), Param::text(user_id)};
  auto rs = store::run(lease.session(), "SELECT object_id FROM annex_grants WHERE object_type = ? AND user_id = ?", params);
  std::vector<std::string> out;
  for (const auto& row : rs.rows) out.push_back(row[0].s);
  return out;
}

std::vector<RoleAssignment> IdentityStore::roles_of(const std::string& user_id) {
  Conn lease(db_, pinned_);
  Param p = Param::text(user_id);
  auto rs = store::run(lease.session(), "SELECT role, sector_id FROM annex_role_assignments WHERE user_id = ? ORDER BY role, sector_id",
                       std::span<const Param>(&p, 1));
  std::vector<RoleAssignment> out;
  for (auto& row : rs.rows) out.push_back({row[0].s, row[1].s});
  return out;
}

IssuedToken IdentityStore::issue_token(const std::string& user_id, const std::string& kind, const std::string& name,
                                       long long ttl_seconds) {
  IssuedToken issued;
  issued.secret = new_secret(kind == "session" ? "annex_ses_" : "annex_pat_");
  issued.token = Token{new_id("t_"), user_id, kind, name, utc_now(), ttl_seconds > 0 ? utc_now(ttl_seconds) : "", {}, {}};
  std::string digest = secret_digest(issued.secret);
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(issued.token.id), Param::text(user_id), Param::text(kind), Param::text(name),
                    Param::text(digest), Param::text(issued.token.created_at), opt(issued.token.expires_at)};
  store::run(lease.session(),
             "INSERT INTO annex_tokens (id, user_id, kind, name, secret_digest, created_at, expires_at) "
             "VALUES (?, ?, ?, ?, ?, ?, ?)",
             params);
  return issued;
}

std::optional<Token> IdentityStore::resolve(const std::string& secret) {
  if (secret.size() < 20 || secret.size() > 200) return std::nullopt;
  std::string digest = secret_digest(secret);
  std::string now = utc_now();
  Conn lease(db_, pinned_);
  Param params[] = {Param::text(digest), Param::text(now)};
  auto rs = store::run(lease.session(),
                       std::string("SELECT ") + kTokenColumns +
                           " FROM annex_tokens WHERE secret_digest = ? AND revoked_at IS NULL"
                           " AND (expires_at IS NULL OR expires_at > ?)",
                       params);
  if (rs.rows.empty()) return std::nullopt;
  return read_token(rs.rows[0]);
}

void IdentityStore::touch(const std::string& token_id, const std::string& expires_at) {
  Conn lease(db_, pinned_);
  std::string now = utc_now();
  Param params[] = {Param::text(now), Param::text(expires_at), Param::text(token_id)};
  store::run(lease.session(), "UPDATE annex_tokens SET last_used_at = ?, expires_at = ? WHERE id = ?", params);
}

bool IdentityStore::revoke(const std::string& token_id, const std::string& user_id) {
  Conn lease(db_, pinned_);
  std::string now = utc_now();
  Param params[] = {Param::text(now), Param::text(token_id), Param::text(user_id), Param::text(user_id)};
  auto rs = store::run(lease.session(),
                       "UPDATE annex_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL AND (? = '' OR user_id = ?)",
                       params);
  return rs.affected > 0;
}

std::vector<Token> IdentityStore::tokens_of(const std::string& user_id) {
  Conn lease(db_, pinned_);
  Param p = Param::text(user_id);
  auto rs = store::run(lease.session(),
                       std::string("SELECT ") + kTokenColumns + " FROM annex_tokens WHERE user_id = ? ORDER BY created_at, id",
                       std::span<const Param>(&p, 1));
  std::vector<Token> out;
  for (auto& row : rs.rows) out.push_back(read_token(row));
  return out;
}

}  // namespace annex::auth

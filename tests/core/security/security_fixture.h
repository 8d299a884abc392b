// A migrated database (SQLite or PostgreSQL) with the security core on it: identities, the authorizer, an audit
// log signing with a fresh key, and helpers to make users with roles.
#pragma once

#include "audit/audit_log.h"
#include "auth/access.h"
#include "auth/identity.h"
#include "store/core_schema.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store/sql.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

namespace annex::test {

class SecurityTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = migrated_database(GetParam(), dir_);
    if (!db_) GTEST_SKIP() << "no PostgreSQL for this run";
    ids_ = std::make_unique<auth::IdentityStore>(*db_);
    // No cache: every check sees the store as it is now.
    authorizer_ = std::make_unique<auth::Authorizer>(*ids_, auth::RoleCatalog::defaults(), 0);
    signer_ = std::make_shared<audit::Signer>(audit::Signer::load_or_create((dir_.path() / "audit.key").string()));
    audit_ = std::make_unique<audit::AuditLog>(*db_, signer_, 10);
    for (const char* s : {"north", "south"}) ids_->ensure_sector(s, s);
  }

  // A user holding `role` in `sector` ('*' for all); returns the user id.
  std::string user(const std::string& login, const std::string& role, const std::string& sector) {
    auth::User u = ids_->create_user(login, login, "", "", 100000);
    ids_->assign_role(u.id, role, sector);
    return u.id;
  }

  // Runs one statement directly on the store, as someone with database access would.
  void sql(const std::string& statement) {
    store::Lease lease(*db_);
    store::run(lease.session(), statement, {});
  }

  TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<auth::IdentityStore> ids_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::shared_ptr<audit::Signer> signer_;
  std::unique_ptr<audit::AuditLog> audit_;
};

}  // namespace annex::test

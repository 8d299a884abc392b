#include "auth/roles.h"
#include "auth/secrets.h"

#include <gtest/gtest.h>

namespace annex::auth {
namespace {

constexpr int kFast = 1000;  // iterations kept low here: the test is of the format, not of the cost

TEST(Passwords, VerifyOnlyTheRightPassword) {
  std::string hash = hash_password("correct horse battery", kFast);
  EXPECT_EQ(hash.rfind("pbkdf2-sha256$1000$", 0), 0u) << hash;
  EXPECT_TRUE(verify_password("correct horse battery", hash));
  EXPECT_FALSE(verify_password("correct horse batterY", hash));
  EXPECT_FALSE(verify_password("", hash));
}

TEST(Passwords, SaltMakesEveryHashDifferent) {
  EXPECT_NE(hash_password("same password here", kFast), hash_password("same password here", kFast));
}

TEST(Passwords, MalformedOrTamperedHashesNeverVerify) {
  std::string hash = hash_password("correct horse battery", kFast);
  std::string tampered = hash;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_password("correct horse battery", tampered));
  EXPECT_FALSE(verify_password("correct horse battery", "plain"));
  EXPECT_FALSE(verify_password("correct horse battery", "pbkdf2-sha256$10$c2FsdA==$a2V5"));
  EXPECT_FALSE(verify_password("correct horse battery", "md5$1000$c2FsdA==$a2V5"));
  EXPECT_FALSE(verify_password("x", ""));
}

TEST(Secrets, AreLongRandomAndStoredOnlyAsDigests) {
  std::string a = new_secret("annex_pat_"), b = new_secret("annex_pat_");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("annex_pat_", 0), 0u);
  EXPECT_GE(a.size(), std::string("annex_pat_").size() + 43);  // 32 bytes in base64url
  EXPECT_EQ(a.find_first_of("+/="), std::string::npos);
  EXPECT_EQ(secret_digest(a).size(), 64u);
  EXPECT_NE(secret_digest(a), secret_digest(b));
  EXPECT_EQ(secret_digest(a), secret_digest(a));
}

TEST(Roles, PatternsMatchPermissions) {
  EXPECT_TRUE(permitted({"*"}, "expenses.claim.approve"));
  EXPECT_TRUE(permitted({"*.read"}, "hello.greeting.read"));
  EXPECT_FALSE(permitted({"*.read"}, "hello.greeting.write"));
  EXPECT_TRUE(permitted({"expenses.*"}, "expenses.claim.approve"));
  EXPECT_FALSE(permitted({"expenses.*"}, "contracts.contract.write"));
  EXPECT_FALSE(permitted({}, "anything"));
}

TEST(Roles, DefaultsFollowTheDomainRules) {
  RoleCatalog c = RoleCatalog::defaults();
  for (const char* role : {"system-admin", "group-executive", "sector-head", "sector-admin", "sales-rep", "sales-clerk",
                           "finance", "auditor"}) {
    EXPECT_TRUE(c.has(role)) << role;
  }
  EXPECT_TRUE(permitted(*c.patterns("group-executive"), "records.move-sector"));
  EXPECT_FALSE(permitted(*c.patterns("sector-head"), "records.move-sector")) << "only group management moves records (C2)";
  EXPECT_FALSE(permitted(*c.patterns("sales-rep"), "records.move-sector"));
  EXPECT_TRUE(permitted(*c.patterns("auditor"), "annex.audit.view"));
  for (const char* role : {"group-executive", "sector-head", "sector-admin", "sales-rep", "sales-clerk", "finance"}) {
    EXPECT_FALSE(permitted(*c.patterns(role), "annex.audit.view")) << role << ": the audit log is for auditors";
    EXPECT_FALSE(permitted(*c.patterns(role), "annex.users.manage") && std::string(role) != "sector-admin") << role;
  }
  EXPECT_FALSE(permitted(*c.patterns("auditor"), "hello.greeting.write")) << "auditors change nothing";
}

}  // namespace
}  // namespace annex::auth

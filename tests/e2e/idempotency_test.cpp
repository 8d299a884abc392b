// Idempotency-Key on creates, through a real daemon and a plugin's route: a retried create answers the first
// response without a second record; the same key with another body is refused; keys belong to their caller.
#include "support/test_support.h"

#include "store/sql.h"

#include <gtest/gtest.h>

namespace annex::test {
namespace {

int64_t greetings(const Annexd& d) {
  auto db = d.open_store();
  store::Lease lease(*db);
  return store::run(lease.session(), "SELECT COUNT(*) FROM hello_greetings", {}).rows.at(0).at(0).i;
}

TEST(Idempotency, ARetriedCreateAnswersTheFirstResponseAndCreatesNothingTwice) {
  Annexd d{Annexd::Options{}};
  HttpResult first = d.call("POST", "/api/v1/hello/greetings", R"({"name":"Ada"})", {{"Idempotency-Key", "create-ada-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  HttpResult again = d.call("POST", "/api/v1/hello/greetings", R"({"name":"Ada"})", {{"Idempotency-Key", "create-ada-1"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers["location"], first.headers["location"]);
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  EXPECT_EQ(greetings(d), 1);

  HttpResult other = d.call("POST", "/api/v1/hello/greetings", R"({"name":"Grace"})", {{"Idempotency-Key", "create-ada-1"}});
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_NE(other.body.find("\"field\":\"Idempotency-Key\""), std::string::npos) << other.body;
  EXPECT_EQ(greetings(d), 1);

  // Without a key every create is new; another caller's same key is theirs alone.
  EXPECT_EQ(d.call("POST", "/api/v1/hello/greetings", R"({"name":"Ada"})").status, 201);
  std::string rep = d.user_with_role("rep", "sales-rep", "hq");
  HttpResult theirs = http_call(d.base_url(), "POST", "/api/v1/hello/greetings", R"({"name":"Ada"})",
                                {{"Authorization", "Bearer " + rep}, {"Content-Type", "application/json"}, {"Idempotency-Key", "create-ada-1"}});
  EXPECT_EQ(theirs.status, 201) << theirs.body;
  EXPECT_NE(theirs.body, first.body);
  EXPECT_EQ(greetings(d), 3);
}

TEST(Idempotency, AnAnswerCarryingASecretIsNeverKept) {
  Annexd d{Annexd::Options{}};
  HttpResult first = d.call("POST", "/api/v1/tokens", R"({"name":"ci"})", {{"Idempotency-Key", "token-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.headers["cache-control"], "no-store");
  HttpResult again = d.call("POST", "/api/v1/tokens", R"({"name":"ci"})", {{"Idempotency-Key", "token-1"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_TRUE(again.headers.find("idempotent-replayed") == again.headers.end());
  EXPECT_NE(again.body, first.body) << "a token's secret is shown once, and stored nowhere";
  auto db = d.open_store();
  store::Lease lease(*db);
  EXPECT_EQ(store::run(lease.session(), "SELECT COUNT(*) FROM annex_idempotency", {}).rows.at(0).at(0).i, 0);
}

TEST(Idempotency, ARefusedCreateIsNotRememberedAndAMalformedKeyIsRefused) {
  Annexd d{Annexd::Options{}};
  HttpResult refused = d.call("POST", "/api/v1/hello/greetings", R"({"name":""})", {{"Idempotency-Key", "k-2"}});
  EXPECT_EQ(refused.status, 422) << refused.body;
  HttpResult fixed = d.call("POST", "/api/v1/hello/greetings", R"({"name":""})", {{"Idempotency-Key", "k-2"}});
  EXPECT_EQ(fixed.status, 422) << "the same refusal again, not a replay: " << fixed.body;
  EXPECT_TRUE(fixed.headers.find("idempotent-replayed") == fixed.headers.end());
  HttpResult bad = d.call("POST", "/api/v1/hello/greetings", R"({"name":"Ada"})", {{"Idempotency-Key", "has space"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(greetings(d), 0);
}

}  // namespace
}  // namespace annex::test

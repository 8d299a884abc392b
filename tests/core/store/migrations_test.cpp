// The migration runner on both backends: order, checksums, failure, and what a changed migration does.
#include "store/core_schema.h"
#include "store/migrations.h"
#include "store/sql.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

namespace annex::store {
namespace {

using test::Backend;

class MigrationsTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    if (!test::fresh_database(GetParam(), dir_, &options)) GTEST_SKIP() << "no PostgreSQL for this run";
    db_ = std::make_unique<Database>(options);
    runner_ = std::make_unique<MigrationRunner>(*db_);
    runner_->prepare();
  }

  int64_t count(const std::string& table) {
    Lease lease(*db_);
    return run(lease.session(), "SELECT COUNT(*) FROM " + table, {}).rows.at(0).at(0).i;
  }

  bool table_exists(const std::string& table) {
    try {
      count(table);
      return true;
    } catch (const StoreError&) {
      return false;
    }
  }

  test::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<MigrationRunner> runner_;
};

const std::vector<Migration> kTwo = {
    {1, "items", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"},
    {2, "seed", "INSERT INTO items (id, name) VALUES (1, 'one'); INSERT INTO items (id, name) VALUES (2, 'two;2')"},
};

TEST_P(MigrationsTest, AppliesInOrderOnceAndRecordsEach) {
  std::vector<Migration> reversed(kTwo.rbegin(), kTwo.rend());
  EXPECT_EQ(runner_->apply("org.t", reversed), 2);
  EXPECT_EQ(count("items"), 2);
  EXPECT_EQ(runner_->apply("org.t", kTwo), 0) << "a second run applies nothing";
  EXPECT_EQ(count("items"), 2);
  auto status = runner_->status("org.t", kTwo);
  ASSERT_EQ(status.size(), 2u);
  for (const auto& s : status) {
    EXPECT_EQ(s.state, MigrationState::State::kApplied);
    EXPECT_EQ(s.checksum.size(), 64u);
    EXPECT_FALSE(s.applied_at.empty());
  }
}

TEST_P(MigrationsTest, OwnersAreIndependent) {
  EXPECT_EQ(runner_->apply("org.a", {{1, "a", "CREATE TABLE a_things (x INTEGER)"}}), 1);
  EXPECT_EQ(runner_->apply("org.b", {{1, "b", "CREATE TABLE b_things (x INTEGER)"}}), 1);
  EXPECT_TRUE(table_exists("a_things"));
  EXPECT_TRUE(table_exists("b_things"));
}

TEST_P(MigrationsTest, AChangedAppliedMigrationIsAnErrorAndNothingAfterItRuns) {
  ASSERT_EQ(runner_->apply("org.t", {kTwo[0]}), 1);
  std::vector<Migration> edited = kTwo;
  edited[0].sql = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)";
  try {
    runner_->apply("org.t", edited);
    FAIL() << "a changed migration was accepted";
  } catch (const MigrationError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("org.t: migration 1 (items)"), std::string::npos) << what;
    EXPECT_NE(what.find("has changed"), std::string::npos) << what;
  }
  EXPECT_EQ(count("items"), 0) << "migration 2 must not run after a changed migration 1";
  auto status = runner_->status("org.t", edited);
  EXPECT_EQ(status[0].state, MigrationState::State::kChanged);
  EXPECT_EQ(status[1].state, MigrationState::State::kPending);
}

TEST_P(MigrationsTest, AFailingMigrationRollsBackWholeAndKeepsEarlierOnes) {
  std::vector<Migration> list = {
      kTwo[0],
      {2, "broken", "INSERT INTO items (id, name) VALUES (10, 'kept only if all succeed'); INSERT INTO nowhere VALUES (1)"},
  };
  try {
    runner_->apply("org.t", list);
    FAIL() << "a failing migration was accepted";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("migration 2 (broken) failed and was rolled back"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count("items"), 0) << "the first statement of the failed migration must be rolled back";
  auto status = runner_->status("org.t", list);
  EXPECT_EQ(status[0].state, MigrationState::State::kApplied);
  EXPECT_EQ(status[1].state, MigrationState::State::kPending);
}

TEST_P(MigrationsTest, RefusesDuplicateAndOutOfOrderVersions) {
  EXPECT_THROW(runner_->apply("org.t", {{1, "a", "SELECT 1"}, {1, "b", "SELECT 2"}}), MigrationError);
  ASSERT_EQ(runner_->apply("org.t", {{2, "two", "CREATE TABLE two_things (x INTEGER)"}}), 1);
  try {
    runner_->apply("org.t", {{1, "late", "CREATE TABLE late_things (x INTEGER)"}, {2, "two", "CREATE TABLE two_things (x INTEGER)"}});
    FAIL() << "an older pending migration was applied after a newer one";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("older than the applied migration 2"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(table_exists("late_things"));
}

TEST_P(MigrationsTest, StatusShowsAppliedVersionsNoLongerShipped) {
  ASSERT_EQ(runner_->apply("org.t", kTwo), 2);
  auto status = runner_->status("org.t", {kTwo[0]});
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[1].state, MigrationState::State::kMissing);
}

TEST_P(MigrationsTest, RunReportsConstraintViolationsAsSuch) {
  ASSERT_EQ(runner_->apply("org.t", kTwo), 2);
  Lease lease(*db_);
  Param params[] = {Param::integer(1), Param::text("dup")};
  try {
    run(lease.session(), "INSERT INTO items (id, name) VALUES (?, ?)", params);
    FAIL() << "duplicate key accepted";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.kind(), StoreError::Kind::kConstraint) << e.what();
  }
  Param one[] = {Param::integer(1)};
  EXPECT_THROW(run(lease.session(), "SELECT * FROM items WHERE id = ? AND name = ?", one), StoreError)
      << "a parameter count mismatch is an error, not a silent NULL";
}

TEST_P(MigrationsTest, RoundTripsTypedValues) {
  ASSERT_EQ(runner_->apply("org.t", {{1, "v", "CREATE TABLE v (i BIGINT, t TEXT, n TEXT)"}}), 1);
  Lease lease(*db_);
  Param params[] = {Param::integer(9007199254740993LL), Param::text("Grüße, 客情费"), Param::null()};
  run(lease.session(), "INSERT INTO v (i, t, n) VALUES (?, ?, ?)", params);
  ResultSet rs = run(lease.session(), "SELECT i, t, n FROM v", {});
  ASSERT_EQ(rs.rows.size(), 1u);
  EXPECT_EQ(rs.rows[0][0].type, CellType::kInt);
  EXPECT_EQ(rs.rows[0][0].i, 9007199254740993LL) << "int64 must survive exactly (money is int64 minor units)";
  EXPECT_EQ(rs.rows[0][1].s, "Grüße, 客情费");
  EXPECT_EQ(rs.rows[0][2].type, CellType::kNull);
  EXPECT_EQ(rs.columns, (std::vector<std::string>{"i", "t", "n"}));
}

TEST_P(MigrationsTest, TheCurrencySeedKeepsACurrencyAnInstallationAlreadyHolds) {
  std::vector<Migration> core = core_migrations(db_->dialect());
  std::vector<Migration> before_seed(core.begin(), core.end());
  std::erase_if(before_seed, [](const Migration& m) { return m.version >= 10; });
  runner_->apply(kCoreOwner, before_seed);
  {
    Lease lease(*db_);
    run(lease.session(),
        "INSERT INTO annex_md_currencies (id, code, name, minor_units, version, created_at, updated_at)"
        " VALUES ('md_mine', 'CNY', 'Our yuan', 2, 3, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        {});
  }
  EXPECT_NO_THROW(runner_->apply(kCoreOwner, core)) << "an upgrade must not stop on a currency already held";
  Lease lease(*db_);
  auto rs = run(lease.session(), "SELECT name FROM annex_md_currencies WHERE code = 'CNY'", {});
  ASSERT_EQ(rs.rows.size(), 1u);
  EXPECT_EQ(rs.rows[0][0].s, "Our yuan");
  EXPECT_EQ(run(lease.session(), "SELECT minor_units FROM annex_md_currencies WHERE code = 'KWD'", {}).rows.at(0).at(0).i, 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, MigrationsTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         test::backend_param_name);

}  // namespace
}  // namespace annex::store

// Object-level access: reach by role, sector and ownership, assignments, and the SQL predicate for lists — each
// predicate run against a real table on both backends.
#include "security_fixture.h"

namespace annex::test {
namespace {

class AccessTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    if (IsSkipped()) return;
    rep_ = user("rep", "sales-rep", "north");
    other_rep_ = user("rep2", "sales-rep", "north");
    head_ = user("head", "sector-head", "north");
    exec_ = user("exec", "group-executive", "*");
    auditor_ = user("auditor", "auditor", "*");
    sql("CREATE TABLE t_records (id INTEGER PRIMARY KEY, sector_id TEXT NOT NULL, owner_id TEXT NOT NULL)");
    sql("INSERT INTO t_records (id, sector_id, owner_id) VALUES (1, 'north', '" + rep_ + "'), (2, 'north', '" +
        other_rep_ + "'), (3, 'south', '" + rep_ + "'), (4, 'south', 'someone')");
  }

  // The ids of t_records the user may act on with `permission`, by the authorizer's predicate.
  std::vector<int64_t> listed(const std::string& user_id, const std::string& permission) {
    std::string filter = authorizer_->list_filter(user_id, permission, "test.record", "sector_id", "owner_id", "id");
    store::Lease lease(*db_);
    auto rs = store::run(lease.session(), "SELECT id FROM t_records WHERE " + filter + " ORDER BY id", {});
    std::vector<int64_t> out;
    for (const auto& row : rs.rows) out.push_back(row[0].i);
    return out;
  }

  bool may(const std::string& user_id, const std::string& permission, int64_t id, const std::string& sector,
           const std::string& owner) {
    return authorizer_->may(user_id, permission, {"test.record", std::to_string(id), sector, owner});
  }

  std::string rep_, other_rep_, head_, exec_, auditor_;
};

TEST_P(AccessTest, SalesRepsReachTheirOwnRecordsOnly) {
  EXPECT_TRUE(may(rep_, "test.record.read", 1, "north", rep_));
  EXPECT_FALSE(may(rep_, "test.record.read", 2, "north", other_rep_));
  EXPECT_FALSE(may(rep_, "test.record.read", 4, "south", "someone"));
  EXPECT_EQ(listed(rep_, "test.record.read"), (std::vector<int64_t>{1, 3}));
}

TEST_P(AccessTest, SectorHeadsReachTheirSector) {
  EXPECT_TRUE(may(head_, "test.record.write", 2, "north", other_rep_));
  EXPECT_FALSE(may(head_, "test.record.write", 4, "south", "someone"));
  EXPECT_EQ(listed(head_, "test.record.read"), (std::vector<int64_t>{1, 2}));
}

TEST_P(AccessTest, ExecutivesAndAuditorsReachEverySectorButAuditorsChangeNothing) {
  EXPECT_EQ(listed(exec_, "test.record.read"), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(listed(auditor_, "test.record.read"), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(listed(auditor_, "test.record.write").empty());
  EXPECT_FALSE(may(auditor_, "test.record.write", 4, "south", "someone"));
}

TEST_P(AccessTest, OnlyGroupExecutivesMoveRecordsAcrossSectors) {
  EXPECT_TRUE(may(exec_, "records.move-sector", 1, "north", rep_));
  EXPECT_FALSE(may(head_, "records.move-sector", 1, "north", rep_));
  EXPECT_FALSE(may(rep_, "records.move-sector", 1, "north", rep_));
}

TEST_P(AccessTest, AnAssignedRecordJoinsTheRepsReach) {
  ids_->grant("test.record", "4", rep_, head_);
  EXPECT_TRUE(may(rep_, "test.record.read", 4, "south", "someone"));
  EXPECT_EQ(listed(rep_, "test.record.read"), (std::vector<int64_t>{1, 3, 4}));
  // An assignment of another type of record does not leak.
  EXPECT_FALSE(authorizer_->may(rep_, "other.thing.read", {"other.thing", "4", "south", "someone"}));
  ASSERT_TRUE(ids_->revoke_grant("test.record", "4", rep_));
  EXPECT_EQ(listed(rep_, "test.record.read"), (std::vector<int64_t>{1, 3}));
}

TEST_P(AccessTest, FrozenAndDisabledUsersReachNothing) {
  ids_->set_status(head_, "frozen");
  EXPECT_FALSE(may(head_, "test.record.read", 1, "north", rep_));
  EXPECT_TRUE(listed(head_, "test.record.read").empty());
  ids_->set_status(head_, "disabled");
  EXPECT_TRUE(listed(head_, "test.record.read").empty());
  EXPECT_TRUE(listed("u_nobody", "test.record.read").empty());
}

TEST_P(AccessTest, ListFiltersQuoteValuesAndRefuseColumnsThatAreNotIdentifiers) {
  // A sector id with a quote cannot break out of its literal.
  ids_->ensure_sector("o'brien", "O'Brien");
  std::string odd = user("odd", "sector-head", "o'brien");
  sql("INSERT INTO t_records (id, sector_id, owner_id) VALUES (5, 'o''brien', 'x')");
  EXPECT_EQ(listed(odd, "test.record.read"), (std::vector<int64_t>{5}));
  EXPECT_THROW(authorizer_->list_filter(rep_, "test.record.read", "test.record", "sector_id; DROP TABLE t", "owner_id", "id"),
               std::invalid_argument);
  EXPECT_THROW(authorizer_->list_filter(rep_, "test.record.read", "test.record", "sector_id", "owner_id", "1=1 OR id"),
               std::invalid_argument);
}

TEST_P(AccessTest, MembershipsFollowSectorRolesAndEndWithThem) {
  EXPECT_EQ(ids_->sectors_of(head_), (std::vector<std::string>{"north"}));
  ASSERT_TRUE(ids_->remove_membership(head_, "north"));
  EXPECT_TRUE(ids_->roles_of(head_).empty());
  EXPECT_TRUE(listed(head_, "test.record.read").empty());
}

// A record about to be created is an object with an empty id.
bool may_create(auth::Authorizer& a, const std::string& user_id, const std::string& sector, const std::string& owner) {
  return a.may(user_id, "test.record.write", {"test.record", "", sector, owner});
}

TEST_P(AccessTest, OwnReachCreatesOnlyInASectorTheUserBelongsTo) {
  EXPECT_TRUE(may_create(*authorizer_, rep_, "north", rep_));
  EXPECT_FALSE(may_create(*authorizer_, rep_, "south", rep_));
  EXPECT_FALSE(may_create(*authorizer_, rep_, "north", other_rep_));
  // An existing record of theirs in another sector stays within reach; only creating there is refused.
  EXPECT_TRUE(may(rep_, "test.record.write", 3, "south", rep_));
}

TEST_P(AccessTest, SectorAndAllSectorReachCreateWhereTheyReach) {
  EXPECT_TRUE(may_create(*authorizer_, head_, "north", other_rep_));
  EXPECT_FALSE(may_create(*authorizer_, head_, "south", head_));
  EXPECT_TRUE(may_create(*authorizer_, exec_, "south", exec_));
  EXPECT_FALSE(may_create(*authorizer_, auditor_, "south", auditor_));
}

TEST_P(AccessTest, CreatingInASectorThatDoesNotExistIsAnInputErrorForEveryone) {
  for (const std::string& user_id : {rep_, head_, exec_, auditor_}) {
    for (const std::string& sector : {std::string("nowhere"), std::string(""), std::string("*")}) {
      try {
        may_create(*authorizer_, user_id, sector, user_id);
        ADD_FAILURE() << "no refusal for sector \"" << sector << "\"";
      } catch (const auth::IdentityError& e) {
        EXPECT_EQ(e.status(), 422);
        EXPECT_EQ(e.field(), "sector_id");
      }
    }
  }
}

TEST_P(AccessTest, DisablingAnAccountEndsItsTokensAndReactivationRevivesNone) {
  auth::IssuedToken session = ids_->issue_token(rep_, "session", "login", 3600);
  auth::IssuedToken api = ids_->issue_token(rep_, "api", "script", 0);
  auth::IssuedToken others = ids_->issue_token(head_, "api", "script", 0);
  ids_->set_status(rep_, "frozen");
  EXPECT_TRUE(ids_->resolve(api.secret)) << "freezing suspends the account, not its tokens";
  ids_->set_status(rep_, "disabled");
  ids_->set_status(rep_, "active");
  EXPECT_FALSE(ids_->resolve(session.secret));
  EXPECT_FALSE(ids_->resolve(api.secret));
  for (const auto& t : ids_->tokens_of(rep_)) EXPECT_FALSE(t.revoked_at.empty()) << t.id;
  EXPECT_TRUE(ids_->resolve(others.secret)) << "only the disabled account's tokens end";
}

INSTANTIATE_TEST_SUITE_P(Backends, AccessTest, testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         backend_param_name);

}  // namespace
}  // namespace annex::test
